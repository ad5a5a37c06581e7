"""fcbench-loss helpers (tools/bench_loss.py): loss models, run lengths, the reference-structure model."""

from __future__ import annotations

import numpy as np

from refcodec.fcs.decoder import decode_file_partial
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.fuzzing import join_units, random_track, split_units
from tools.bench_loss import gilbert_elliott_loss, longest_run, modelled_structures, random_loss


def test_longest_run_hand_computed():
    assert longest_run(np.array([0, 1, 1, 0, 1, 1, 1, 0], bool)) == 3
    assert longest_run(np.zeros(5, bool)) == 0
    assert longest_run(np.ones(4, bool)) == 4


def test_loss_models_hit_their_rate_and_burst_length():
    rng = np.random.default_rng(1)
    assert abs(random_loss(200_000, 0.05, rng).mean() - 0.05) < 0.003
    lost = gilbert_elliott_loss(200_000, 0.20, 3.0, rng)
    assert abs(lost.mean() - 0.20) < 0.01  # stationary rate q / (p + q) = rate by construction
    starts = np.flatnonzero(lost[1:] & ~lost[:-1]).size
    assert abs(lost.sum() / starts - 3.0) < 0.15  # geometric bursts with mean 1 / p = 3


def test_chain_model_matches_the_reference_decoder():
    """The dependency model of 'chain I/N' predicts exactly which frames the decoder gets wrong (SPEC 7)."""
    import random

    track = random_track(random.Random(7), max_frames=48)
    while track.frames < 40:
        track = random_track(random.Random(track.frames + 11), max_frames=48)
    header = build_header(track, 6, 30)
    data = encode_track(track, header, EncoderConfig(30))
    units = split_units(data)
    lossless = decode_file_partial(data).matrix()
    refs = modelled_structures(track.frames)["chain I/30"]
    rng = np.random.default_rng(3)
    for _ in range(20):
        lost = random_loss(track.frames, 0.15, rng)
        lost[0] = lost[-1] = False  # a loss at the end is not detectable by the counter
        out = decode_file_partial(join_units(units[:1] + [u for u, g in zip(units[1:], lost, strict=True) if not g])).matrix()
        wrong = np.any(out.view(np.uint32) != lossless.view(np.uint32), axis=1)
        ok = np.zeros(track.frames, bool)
        for t, r in enumerate(refs):
            ok[t] = not lost[t] and (r is None or ok[r])
        # a frame the model calls right is right; one it calls wrong may be right by chance (a held value equal to the true one)
        assert not (wrong & ok).any()
        assert wrong[lost].sum() >= 1 or not lost.any() or len(set(map(bytes, lossless))) == 1


def test_fcenc_loss_resilient_writes_the_recommended_set(tmp_path):
    """--loss-resilient: Baseline (unless --profile main), an I-frame every 3 frames, intra prediction (Baseline
    only), extrapolated concealment, the frame CRC and one unit per frame (tools/fcenc.py, SPEC 9.3)."""
    from refcodec.fcs.decoder import decode_file
    from refcodec.importers import save_track
    from refcodec.track import Track, TrackGroup
    from tools import fcenc

    t = np.arange(40)[:, None]
    values = 0.5 + 0.4 * np.sin(0.2 * t + np.array([0.0, 1.0, 2.0]))
    src = tmp_path / "t.npz"
    save_track(Track(values, [TrackGroup("ARKIT52", ["a", "b", "c"], [0, 1, 2])], (30, 1)), src)
    for option, profile in (([], "baseline"), (["--profile", "main"], "main"), (["--profile", "baseline"], "baseline")):
        out = tmp_path / f"{profile}.fcs"
        assert fcenc.main([str(src), "-o", str(out), "--loss-resilient", *option]) == 0
        data = out.read_bytes()
        res = decode_file(data)
        assert res.header.frame_crc_flag and res.header.conceal_extrapolate_flag
        assert res.header.profile_idc == (1 if profile == "main" else 0)
        assert res.header.intra_pred_flag == (profile == "baseline")
        assert [f.frame_type for f in res.frames] == (["I", "P", "P"] * 14)[:40]
        assert len(split_units(data)) == 1 + 40  # the header, then one unit per frame
