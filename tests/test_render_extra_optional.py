"""fcconform without the render extra (issue 8, part 5): the render tier is skipped with a note.

The missing extra is simulated in a subprocess: ``sys.modules["torch"] = None`` makes every
``import torch`` fail as it does when torch is not installed (and gsplat likewise).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_WITHOUT_EXTRA = """
import sys
sys.modules["torch"] = None
sys.modules["gsplat"] = None
from tools.fcconform import main
sys.exit(main(sys.argv[1:]))
"""


def _fcconform_without_render_extra(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", _WITHOUT_EXTRA, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_render_vectors_pass_with_a_note_when_torch_is_missing():
    cards = [json.loads(p.read_text()) for p in (ROOT / "conformance/vectors/container").glob("y_*.json")]
    with_renders = sorted(c["name"] for c in cards if "renders" in c["expected"])
    assert len(with_renders) >= 3
    proc = _fcconform_without_render_extra("--kind", "fca", "--json", *[a for n in with_renders for a in ("--filter", n)])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["summary"]["pass"] == len(with_renders) and report["summary"]["crash"] == 0
    for v in report["vectors"]:
        assert any("renders not checked (the render extra is not installed: no module 'torch'" in n for n in v["notes"]), v
    omlp = next(v for v in report["vectors"] if v["name"] == "y_omlp")
    assert any(n.startswith("omlp: worst error") for n in omlp["notes"])  # the neural tier still ran


def test_the_simulation_really_removes_torch():
    code = "import sys; sys.modules['torch'] = None\ntry:\n    import refcodec.render\nexcept ImportError as e:\n    print(e.name)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "torch"
