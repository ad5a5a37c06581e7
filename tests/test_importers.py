"""Track importers: bundled samples, our npz/csv round trips, the SO(3) log map, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refcodec.importers import FORMATS, detect_format, load_track, save_track
from refcodec.importers.rotation import rotation_log
from refcodec.spec_tables import arkit52_names
from refcodec.track import Track, TrackGroup

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LAM = SAMPLES / "lam_p2-1" / "test_expression_1s.json"
FACEGOOD = SAMPLES / "facegood" / "bs_value_1114_3_16.npy"
ADNERF = SAMPLES / "adnerf" / "transforms_val.json"
TRACKED = SAMPLES / "tracks" / "aniportrait_tracked.npz"


# --- an independent oracle: the Rodrigues exp map -------------------------------------------

def rodrigues(w: np.ndarray) -> np.ndarray:
    """R = I + sin(t) K + (1 - cos(t)) K^2 for the unit axis of w (written here, not imported)."""
    w = np.asarray(w, dtype=np.float64)
    t = float(np.sqrt(w @ w))
    if t == 0.0:
        return np.eye(3)
    x, y, z = w / t
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + np.sin(t) * k + (1.0 - np.cos(t)) * (k @ k)


def random_axes(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, 3))
    return a / np.linalg.norm(a, axis=1, keepdims=True)


ANGLES = [0.0, 1e-14, 1e-10, 1e-7, 1e-5, 1e-3, 0.1, 1.0, np.pi / 2 - 1e-9, np.pi / 2, 2.0, 3.0,
          np.pi - 1e-3, np.pi - 1e-6, np.pi - 1e-9]


@pytest.mark.parametrize("angle", ANGLES)
def test_log_map_inverts_rodrigues(angle):
    rng = np.random.default_rng(int(angle * 1e6) % 2**32)
    axes = random_axes(rng, 64)
    w = axes * angle
    mats = np.stack([rodrigues(v) for v in w])
    got = rotation_log(mats)
    np.testing.assert_allclose(got, w, rtol=0, atol=1e-12)
    # Batched and one-at-a-time agree.
    np.testing.assert_allclose(rotation_log(mats[0]), got[0], rtol=0, atol=1e-15)


def test_log_map_at_pi_gives_one_of_the_two_vectors():
    rng = np.random.default_rng(7)
    for a in random_axes(rng, 64):
        got = rotation_log(rodrigues(a * np.pi))
        assert min(np.abs(got - a * np.pi).max(), np.abs(got + a * np.pi).max()) < 1e-12
        np.testing.assert_allclose(np.linalg.norm(got), np.pi, atol=1e-12)
        np.testing.assert_allclose(rodrigues(got), rodrigues(a * np.pi), atol=1e-12)


@given(st.lists(st.floats(-1, 1), min_size=3, max_size=3), st.floats(0, np.pi))
def test_log_map_random(axis, angle):
    a = np.array(axis)
    if np.linalg.norm(a) < 1e-3:
        return
    w = a / np.linalg.norm(a) * angle
    got = rotation_log(rodrigues(w))
    if angle < np.pi - 1e-7:
        np.testing.assert_allclose(got, w, atol=1e-11)
    np.testing.assert_allclose(rodrigues(got), rodrigues(w), atol=1e-11)


def test_log_map_tolerates_scale_and_float32_noise():
    rng = np.random.default_rng(3)
    w = random_axes(rng, 32) * rng.uniform(0, 3, size=(32, 1))
    mats = np.stack([rodrigues(v) for v in w])
    noisy = (1.7 * mats).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(rotation_log(noisy), w, atol=1e-6)


def test_log_map_rejects_wrong_shape():
    with pytest.raises(ValueError):
        rotation_log(np.eye(4))


# --- the bundled samples -----------------------------------------------------------------------

def test_formats_listed():
    assert set(FORMATS) == {"npz", "csv", "lam-json", "facegood-npy", "adnerf-json", "flame-npz"}
    assert all(isinstance(v, str) and "\n" not in v for v in FORMATS.values())


def test_lam_json():
    t = load_track(LAM)
    assert detect_format(LAM) == "lam-json"
    assert t.values.shape == (973, 55)
    assert [g.semantic for g in t.groups] == ["ARKIT52", "HEAD_ROTATION"]
    assert t.groups[0].names == list(arkit52_names()) and t.groups[0].dim_index is None
    assert t.frame_rate == (30, 1)
    w = t.values[:, :52]
    assert w.min() >= 0.0 and w.max() <= 1.0
    assert np.abs(t.values[:, 52:]).max() < 0.2  # small head rotations, radians
    assert any("assumption" in n for n in t.notes)
    doc = json.loads(LAM.read_text())
    np.testing.assert_array_equal(t.values[5, :52], doc["frames"][5]["weights"])
    np.testing.assert_array_equal(t.values[5, 52:], doc["head_pose"][5])
    assert load_track(LAM, head_pose=False).values.shape == (973, 52)


def test_lam_json_reorders_names(tmp_path):
    doc = json.loads(LAM.read_text())
    doc["frames"] = doc["frames"][:20]
    doc["head_pose"] = doc["head_pose"][:20]
    perm = np.random.default_rng(0).permutation(52)
    orig = np.array([f["weights"] for f in doc["frames"]])
    doc["names"] = [doc["names"][i] for i in perm]
    for f, row in zip(doc["frames"], orig, strict=True):
        f["weights"] = row[perm].tolist()
        del f["time"]
    p = tmp_path / "lam.json"
    p.write_text(json.dumps(doc))
    t = load_track(p)
    np.testing.assert_array_equal(t.values[:, :52], orig)
    assert t.frame_rate == (30, 1)


def test_facegood():
    t = load_track(FACEGOOD)
    assert detect_format(FACEGOOD) == "facegood-npy"
    assert t.values.shape == (1429, 116)
    assert [g.semantic for g in t.groups] == ["UNSPECIFIED"]
    assert t.groups[0].names[0] == "brow_lower_l" and len(set(t.groups[0].names)) == 116
    assert t.frame_rate == (30, 1)
    assert 0.0 <= t.values.min() and t.values.max() <= 1.0
    a = load_track(FACEGOOD, active_only=True)
    idx = a.groups[0].dim_index
    assert 20 <= len(idx) <= 30 and idx == sorted(idx)
    np.testing.assert_array_equal(a.values, t.values[:, idx])
    assert np.all(a.values.max(0) > a.values.min(0))
    dropped = sorted(set(range(116)) - set(idx))
    assert np.all(t.values[:, dropped] == t.values[0, dropped])


def test_facegood_without_names_file(tmp_path):
    arr = np.linspace(0, 1, 30).reshape(10, 3)
    np.save(tmp_path / "bs_value_x.npy", arr)
    t = load_track(tmp_path / "bs_value_x.npy")
    assert t.groups[0].names == ["ch[0]", "ch[1]", "ch[2]"]
    np.testing.assert_array_equal(t.values, arr)


def test_adnerf():
    t = load_track(ADNERF)
    assert detect_format(ADNERF) == "adnerf-json"
    assert t.values.shape == (728, 6)
    assert [g.semantic for g in t.groups] == ["HEAD_ROTATION", "HEAD_TRANSLATION"]
    assert t.frame_rate == (25, 1)
    m = np.array([f["transform_matrix"] for f in json.loads(ADNERF.read_text())["frames"]])
    np.testing.assert_array_equal(t.values[:, 3:], m[:, :3, 3])
    for i in (0, 100, 727):  # the axis-angle reproduces the stored rotation
        np.testing.assert_allclose(rodrigues(t.values[i, :3]), m[i, :3, :3], atol=1e-6)
    assert np.linalg.norm(t.values[:, :3], axis=1).max() < 0.6


def test_tracked_sample():
    t = load_track(TRACKED)
    assert t.values.shape == (125, 57)
    assert [g.semantic for g in t.groups] == ["ARKIT52", "HEAD_ROTATION", "HEAD_TRANSLATION"]
    assert t.groups[0].dim_index == list(range(51))
    assert t.frame_rate == (25, 1)
    assert t.values[:, :51].min() >= 0 and t.values[:, :51].max() <= 1
    assert np.all(np.abs(t.values[:, 54:]) < 1.0)  # metres: the face is some tens of cm away


def write_flame(path: Path, frames: int = 12, extra_axis: bool = False, **overrides) -> dict:
    rng = np.random.default_rng(1)
    arrays = {
        "expr": rng.normal(size=(frames, 100)), "rotation": rng.normal(0, 0.1, (frames, 3)),
        "neck_pose": rng.normal(0, 0.1, (frames, 3)), "jaw_pose": rng.normal(0, 0.1, (frames, 3)),
        "eyes_pose": rng.normal(0, 0.1, (frames, 6)), "translation": rng.normal(0, 0.01, (frames, 3)),
        "shape": rng.normal(size=(300,)), "static_offset": rng.normal(size=(1, 5143, 3)),
    }
    if extra_axis:
        arrays = {k: (v[:, None, :] if k not in ("shape", "static_offset") else v) for k, v in arrays.items()}
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return arrays


@pytest.mark.parametrize("extra_axis", [False, True])
def test_flame_npz(tmp_path, extra_axis):
    p = tmp_path / "flame_param.npz"
    a = write_flame(p, extra_axis=extra_axis)
    assert detect_format(p) == "flame-npz"
    t = load_track(p)
    assert [g.semantic for g in t.groups] == ["EXPRESSION", "HEAD_ROTATION", "HEAD_TRANSLATION", "JAW", "NECK", "EYES"]
    assert [len(g.names) for g in t.groups] == [100, 3, 3, 3, 3, 6]
    assert t.values.shape == (12, 118)
    sl = dict(zip([g.semantic for g in t.groups], t.group_slices(), strict=True))
    np.testing.assert_array_equal(t.values[:, sl["JAW"]], a["jaw_pose"].reshape(12, 3))
    np.testing.assert_array_equal(t.values[:, sl["EYES"]], a["eyes_pose"].reshape(12, 6))
    np.testing.assert_array_equal(t.values[:, sl["EXPRESSION"]], a["expr"].reshape(12, 100))


# --- our formats round trip exactly --------------------------------------------------------------

def sample_track(rng=None) -> Track:
    rng = rng or np.random.default_rng(5)
    sub = [0, 3, 8, 9, 24, 51]
    groups = [
        TrackGroup("ARKIT52", [arkit52_names()[i] for i in sub], sub),
        TrackGroup("HEAD_ROTATION", ["x", "y", "z"]),
        TrackGroup("EYES", ["left_x", "right_z"], [0, 5]),
        TrackGroup("UNSPECIFIED", ["a", "b,c", "d"]),
        TrackGroup("UNSPECIFIED", ["e"]),
        TrackGroup("EXPRESSION", [f"expression[{i}]" for i in range(4)]),
    ]
    dims = sum(len(g.names) for g in groups)
    values = rng.normal(size=(17, dims)) * 10.0 ** rng.integers(-30, 30, size=(17, dims))
    values[0, 0] = -0.0
    values[1, 1] = 5e-324
    return Track(values, groups, (30000, 1001), source="synthetic")


def assert_same_track(a: Track, b: Track):
    assert a.values.shape == b.values.shape
    assert a.values.tobytes() == b.values.tobytes()  # bit-exact, -0.0 and subnormals included
    assert [(g.semantic, g.names, g.dim_index) for g in a.groups] == [(g.semantic, g.names, g.dim_index) for g in b.groups]
    assert a.frame_rate == b.frame_rate


@pytest.mark.parametrize("fmt", ["npz", "csv"])
def test_round_trip(tmp_path, fmt):
    t = sample_track()
    p = tmp_path / f"t.{fmt}"
    save_track(t, p)
    assert detect_format(p) == fmt
    assert_same_track(t, load_track(p))
    # and a second time through the file written from the loaded track
    p2 = tmp_path / f"t2.{fmt}"
    save_track(load_track(p), p2)
    assert_same_track(t, load_track(p2))


@pytest.mark.parametrize("fmt", ["npz", "csv"])
@pytest.mark.parametrize("sample", [LAM, ADNERF, TRACKED])
def test_round_trip_samples(tmp_path, fmt, sample):
    t = load_track(sample)
    p = tmp_path / f"t.{fmt}"
    save_track(t, p, fmt)
    assert_same_track(t, load_track(p, fmt))


def test_save_rejects_foreign_format(tmp_path):
    with pytest.raises(ValueError, match="cannot write"):
        save_track(sample_track(), tmp_path / "t.json")


def test_npz_minimal_and_group_order(tmp_path):
    p = tmp_path / "m.npz"
    rng = np.random.default_rng(0)
    hr, ak = rng.normal(size=(4, 3)), rng.uniform(size=(4, 52))
    np.savez(p, head_rotation=hr, arkit52=ak)
    t = load_track(p)
    assert [g.semantic for g in t.groups] == ["ARKIT52", "HEAD_ROTATION"]  # registry id order
    assert t.groups[0].names == list(arkit52_names()) and t.groups[1].names == ["x", "y", "z"]
    assert t.frame_rate == (30, 1)
    np.testing.assert_array_equal(t.values, np.hstack([ak, hr]))
    np.savez(p, head_rotation=hr, arkit52=ak, group_order=np.array(["head_rotation", "arkit52"]), frame_rate=[25, 1])
    t = load_track(p)
    assert [g.semantic for g in t.groups] == ["HEAD_ROTATION", "ARKIT52"] and t.frame_rate == (25, 1)


def test_npz_subset_by_names(tmp_path):
    p = tmp_path / "s.npz"
    names = ["jawOpen", "browDownLeft", "tongueOut"]
    v = np.arange(6.0).reshape(2, 3)
    np.savez(p, arkit52=v, arkit52__names=np.array(names))
    g = load_track(p).groups[0]
    assert g.dim_index == [0, 24, 51] and g.names == ["browDownLeft", "jawOpen", "tongueOut"]
    np.testing.assert_array_equal(load_track(p).values, v[:, [1, 0, 2]])


def test_csv_by_hand(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("# frame_rate=25/1\narkit52.jawOpen,arkit52.eyeBlinkLeft,head_rotation.x,head_rotation.y,head_rotation.z\n"
                 "0.5,0.25,0.1,0.2,0.3\n0.75,0,0,0,0\n")
    t = load_track(p)
    assert t.frame_rate == (25, 1)
    assert t.groups[0].names == ["eyeBlinkLeft", "jawOpen"] and t.groups[0].dim_index == [8, 24]
    np.testing.assert_array_equal(t.values[:, :2], [[0.25, 0.5], [0.0, 0.75]])
    assert t.groups[1].dim_index is None


# --- bad input -----------------------------------------------------------------------------------

def expect_error(path, *words, fmt=None, **options):
    with pytest.raises(ValueError) as info:
        load_track(path, fmt, **options)
    msg = str(info.value)
    assert str(path) in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_bad_npz(tmp_path):
    p = tmp_path / "b.npz"
    np.savez(p, arkit52=np.zeros((3, 50)))
    expect_error(p, "arkit52", "52")
    np.savez(p, head_rotation=np.array([[0.0, np.nan, 0.0]]))
    expect_error(p, "head_rotation", "NaN")
    np.savez(p, head_rotation=np.zeros((3, 3)), jaw=np.zeros((4, 3)))
    expect_error(p, "jaw", "frames")
    np.savez(p, mouth=np.zeros((3, 3)))
    expect_error(p, "mouth")
    np.savez(p, eyes=np.zeros((3, 2)), eyes__index=np.array([5, 1]))
    expect_error(p, "eyes__index", "increasing")
    np.savez(p, eyes=np.zeros((3, 2)), eyes__index=np.array([1, 6]))
    expect_error(p, "eyes__index")
    np.savez(p, head_rotation=np.zeros((3, 3)), frame_rate=[0, 1])
    expect_error(p, "frame_rate")
    np.savez(p, head_rotation=np.zeros(3))
    expect_error(p, "head_rotation", "axes")
    p.write_bytes(b"not a zip")
    expect_error(p, "npz", fmt="npz")


def test_bad_csv(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("head_rotation.x,jaw.x,head_rotation.y\n0,0,0\n")
    expect_error(p, "not contiguous")
    p.write_text("arkit52.jawOpen,arkit52.notAName\n0,0\n")
    expect_error(p, "arkit52", "canonical")
    p.write_text("head_rotation.x,head_rotation.y,head_rotation.z\n0,nan,0\n")
    expect_error(p, "head_rotation.y", "NaN")
    p.write_text("head_rotation.x,head_rotation.y,head_rotation.z\n0,0\n")
    expect_error(p, "row 1")
    p.write_text("head_rotation.x,head_rotation.y,head_rotation.z\n0,zero,0\n")
    expect_error(p, "row 1", "number")
    p.write_text("rotation\n0\n")
    expect_error(p, "header column 1")
    p.write_text("# frame_rate=abc\nhead_rotation.x,head_rotation.y,head_rotation.z\n0,0,0\n")
    expect_error(p, "frame_rate")


def test_bad_lam(tmp_path):
    p = tmp_path / "b.json"
    doc = {"names": list(arkit52_names()), "frames": [{"weights": [0.0] * 52, "time": 0.0}], "head_pose": [[0, 0, 0]]}
    p.write_text(json.dumps({k: v for k, v in doc.items() if k != "names"}))
    expect_error(p, "names", "missing", fmt="lam-json")
    p.write_text(json.dumps({**doc, "names": doc["names"][:-1] + ["tongue"]}))
    expect_error(p, "names", "tongue")
    p.write_text(json.dumps({**doc, "frames": [{"weights": [0.0] * 51}]}))
    expect_error(p, "weights", "52")
    p.write_text(json.dumps({**doc, "frames": [{"time": 0.0}]}))
    expect_error(p, "frames[0].weights", "missing")
    p.write_text(json.dumps({**doc, "head_pose": [[0, 0, 0], [0, 0, 0]]}))
    expect_error(p, "head_pose")
    p.write_text(json.dumps(doc).replace("[0, 0, 0]", "[0, NaN, 0]"))
    expect_error(p, "head_pose", "NaN")
    p.write_text("{")
    expect_error(p, "JSON", fmt="lam-json")


def test_bad_adnerf(tmp_path):
    p = tmp_path / "transforms.json"
    eye = np.eye(4).tolist()
    p.write_text(json.dumps({"frames": [{"transform_matrix": eye}, {"img_id": 3}]}))
    expect_error(p, "frames[1].transform_matrix", "missing")
    p.write_text(json.dumps({"frames": [{"transform_matrix": np.eye(3).tolist()}]}))
    expect_error(p, "transform_matrix", "4x4", fmt="adnerf-json")
    p.write_text(json.dumps({"frames": [{"transform_matrix": (np.eye(4) * 2).tolist()}]}))
    expect_error(p, "transform_matrix", "rotation", fmt="adnerf-json")
    p.write_text(json.dumps({"nope": []}))
    expect_error(p, "frames", fmt="adnerf-json")


def test_bad_flame(tmp_path):
    p = tmp_path / "flame_param.npz"
    write_flame(p, expr=None)
    expect_error(p, "expr", "missing")
    write_flame(p, jaw_pose=np.zeros((12, 4)))
    expect_error(p, "jaw_pose", "3")
    write_flame(p, neck_pose=np.zeros((11, 3)))
    expect_error(p, "neck_pose", "frames")
    bad = np.zeros((12, 6))
    bad[3, 2] = np.inf
    write_flame(p, eyes_pose=bad)
    expect_error(p, "eyes_pose", "NaN")


def test_bad_facegood(tmp_path):
    p = tmp_path / "bs_value_bad.npy"
    np.save(p, np.zeros(5))
    expect_error(p, "array", "axes")
    np.save(p, np.zeros((4, 3)))
    np.save(tmp_path / "shirley_1119_bs_name.npy", np.array(["a", "b"]))
    with pytest.raises(ValueError, match="shirley_1119_bs_name.npy: names: 2 channel names for 3 columns"):
        load_track(p)
    (tmp_path / "shirley_1119_bs_name.npy").unlink()
    expect_error(p, "active_only", active_only=True)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_track(tmp_path / "nope.npz")
    p = tmp_path / "x.txt"
    p.write_text("hello")
    expect_error(p, "format")
    with pytest.raises(ValueError, match="unknown track format"):
        load_track(p, "txt")


@pytest.mark.skipif(not SHARED.exists(), reason="shared reference data not present")
def test_samples_match_shared_data():
    for rel in ("lam_p2-1/test_expression_1s.json", "facegood/bs_value_1114_3_16.npy",
                "facegood/shirley_1119_bs_name.npy", "adnerf/transforms_val.json", "aniportrait/pose_ref_video.mp4"):
        assert (SAMPLES / rel).read_bytes() == (SHARED / rel).read_bytes(), rel
    assert (SAMPLES / "models" / "face_landmarker_v2_with_blendshapes.task").read_bytes() == \
        (SHARED / "aniportrait" / "face_landmarker_v2_with_blendshapes.task").read_bytes()
    other = load_track(SHARED / "facegood" / "bs_value_1114_2_01.npy", active_only=True)
    assert other.values.shape[0] == 3295 and 20 <= other.values.shape[1] <= 30
