"""Shared pytest configuration: a deterministic, bounded Hypothesis profile.

The suite runs on 2 CPU cores; every property test is derandomized (reproducible) and
has no deadline (the first example of a test pays for numpy and table loading).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# tests/helpers.py is imported as ``helpers`` by the test modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

settings.register_profile(
    "facecodec",
    derandomize=True,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("facecodec")
