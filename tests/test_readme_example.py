"""The README's Python example runs as written (issue 8, part 5), and the documented way to
drive an avatar with a stream maps layouts as SPEC 11.4 R-61 says."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from refcodec.errors import E_LAYOUT_MISMATCH
from refcodec.fcs import build_header, decode_file, encode_track
from refcodec.spec_tables import semantic_name

pytest.importorskip("torch")  # refcodec.render needs the render extra
pytest.importorskip("gsplat")
from refcodec.render.inputs import fcs_frames, unused_values  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _readme_python() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Using the library") :]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "README.md has no Python example under 'Using the library'"
    return blocks[0]


def test_readme_python_example_runs(monkeypatch, capsys):
    for sample in ("samples/lam_p2-1/p2-1.zip", "samples/tracks/aniportrait_tracked.npz"):
        if not (ROOT / sample).exists():
            pytest.skip(f"{sample} not present")
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(_readme_python(), "README.md", "exec"), scope)  # noqa: S102 - the documented example, verbatim
    assert scope["frames"].shape[1] == 57  # 51 ARKit coefficients (one not tracked) + head rotation + translation
    driven = scope["driven"]
    assert driven.values.shape == (scope["frames"].shape[0], 55) and driven.values.dtype == np.float32
    assert driven.unused == {"HEAD_TRANSLATION": 3}
    assert capsys.readouterr().out.strip() == "{'HEAD_TRANSLATION': 3}"  # what the comment in the README says
    rgb = scope["rgb"]
    assert isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.shape == (2, 512, 512, 3)
    assert tuple(scope["images"].shape) == (2, 512, 512, 3)


# ----------------------------------------------------------------------------- the mapping
def test_unused_values_counts_what_the_layout_cannot_take():
    layout = [("ARKIT52", 52), ("HEAD_ROTATION", 3)]
    groups = [("ARKIT52", list(range(51))), ("HEAD_ROTATION", [0, 1, 2]), ("HEAD_TRANSLATION", [0, 1, 2]), ("HEAD_ROTATION", [0, 1, 2])]
    assert unused_values(groups, layout) == {"HEAD_TRANSLATION": 3, "HEAD_ROTATION": 3}  # the second HEAD_ROTATION
    assert unused_values([("EXPRESSION", list(range(100)))], [("EXPRESSION", 50)]) == {"EXPRESSION": 50}
    assert unused_values([("JAW", [0, 1, 2])], [("JAW", 3)]) == {}


@pytest.fixture(scope="module")
def tracked_on_lam():
    lam, tracked = ROOT / "samples/lam_p2-1/p2-1.zip", ROOT / "samples/tracks/aniportrait_tracked.npz"
    if not (lam.exists() and tracked.exists()):
        pytest.skip("samples not present")
    from refcodec.avatar.lam import load_lam_zip
    from refcodec.importers import load_track

    track = load_track(tracked)
    return encode_track(track, build_header(track, bit_depths=16, intra_interval=30)), load_lam_zip(lam)


def test_fcs_frames_maps_by_semantic_and_canonical_index(tracked_on_lam):
    data, avatar = tracked_on_lam
    assert avatar.layout == [("ARKIT52", 52), ("HEAD_ROTATION", 3)]
    decoded = decode_file(data)
    arkit, rot, trans = decoded.header.groups
    assert (semantic_name(arkit.semantic), arkit.dims, semantic_name(trans.semantic)) == ("ARKIT52", 51, "HEAD_TRANSLATION")
    m = decoded.matrix()
    want = np.zeros((m.shape[0], 55), np.float32)
    for k, c in enumerate(arkit.dim_index):  # stream column k carries canonical coefficient c
        want[:, c] = m[:, k]
    want[:, 52:55] = m[:, 51:54]
    got = fcs_frames(data, avatar)
    assert got.values.tobytes() == want.tobytes()
    missing = sorted(set(range(52)) - set(arkit.dim_index))
    assert len(missing) == 1 and not got.values[:, missing[0]].any()  # the coefficient the tracker lacks reads 0
    assert got.unused == {"HEAD_TRANSLATION": 3}


def test_unused_groups_can_warn_or_reject(tracked_on_lam):
    data, avatar = tracked_on_lam
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fcs_frames(data, avatar)  # "drop": reported in .unused, no warning
    with pytest.warns(UserWarning, match="HEAD_TRANSLATION"):
        fcs_frames(data, avatar, unused="warn")
    with pytest.raises(E_LAYOUT_MISMATCH, match="HEAD_TRANSLATION") as exc:
        fcs_frames(data, avatar, unused="error")
    assert exc.value.field == "group_semantic"
    with pytest.raises(ValueError, match="unused"):
        fcs_frames(data, avatar, unused="ignore")
