import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from epicap.errors import InputError
from epicap.geometry.filtering import (SmoothingOptions, contiguous_runs, fill_gaps, far_joints,
                                      smooth_poses)


def _trajectory(T=300, fps=60.0, seed=0):
    rng = np.random.default_rng(seed)
    time = np.arange(T) / fps
    clean = np.stack([np.sin(2 * np.pi * 1.0 * time + p) for p in range(6)], -1).reshape(T, 2, 3)
    return clean, clean + rng.normal(scale=0.01, size=clean.shape)


def test_smoothing_matches_scipy_on_one_run_and_reduces_noise():
    clean, noisy = _trajectory()
    out = smooth_poses(noisy, 60.0, SmoothingOptions(cutoff_hz=6.0))
    sos = butter(4, 6.0, fs=60.0, output="sos")
    np.testing.assert_allclose(out, sosfiltfilt(sos, noisy, axis=0), atol=1e-12)
    inner = slice(20, -20)
    assert np.abs(out - clean)[inner].std() < 0.5 * np.abs(noisy - clean)[inner].std()


def test_gaps_are_not_bridged_and_runs_filtered_separately():
    clean, noisy = _trajectory()
    noisy[100:130, 0] = np.nan
    noisy[5, 1] = np.nan
    out = smooth_poses(noisy, 60.0)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(noisy))
    sos = butter(4, 6.0, fs=60.0, output="sos")
    np.testing.assert_allclose(out[130:, 0], sosfiltfilt(sos, noisy[130:, 0], axis=0), atol=1e-12)
    np.testing.assert_allclose(out[:100, 0], sosfiltfilt(sos, noisy[:100, 0], axis=0), atol=1e-12)
    # a 2-frame run is left alone; a 5-frame run is filtered with shorter padding
    short = noisy.copy()
    short[:] = np.nan
    short[10:12], short[50:55] = noisy[10:12], noisy[50:55]
    out = smooth_poses(short, 60.0)
    np.testing.assert_array_equal(out[10:12], noisy[10:12])
    assert np.isfinite(out[50:55]).all() and not np.allclose(out[50:55], noisy[50:55])


def test_fill_gaps_interpolates_short_interior_gaps_only():
    T = 40
    poses = np.repeat(np.arange(T, dtype=float)[:, None, None], 3, axis=2).repeat(2, axis=1)
    gappy = poses.copy()
    gappy[:3, 0] = np.nan          # leading gap: stays
    gappy[10:13, 0] = np.nan       # 3 frames: filled
    gappy[20:30, 0] = np.nan       # 10 frames: stays
    out = fill_gaps(gappy, max_gap_frames=5)
    np.testing.assert_allclose(out[10:13, 0], poses[10:13, 0])
    assert np.isnan(out[:3, 0]).all() and np.isnan(out[20:30, 0]).all()
    np.testing.assert_array_equal(out[:, 1], poses[:, 1])
    cubic = fill_gaps(gappy, 5, kind="cubic")
    np.testing.assert_allclose(cubic[10:13, 0], poses[10:13, 0], atol=1e-9)
    # through smooth_poses: max_gap_s in seconds
    filled = smooth_poses(gappy, 60.0, SmoothingOptions(max_gap_s=0.05))
    assert np.isfinite(filled[10:13, 0]).all() and np.isnan(filled[20:30, 0]).all()


def test_contiguous_runs_edges():
    assert contiguous_runs(np.array([], bool)) == []
    assert contiguous_runs(np.ones(3, bool)) == [(0, 3)]
    assert contiguous_runs(np.zeros(3, bool)) == []


def test_bad_input():
    _, noisy = _trajectory(T=20)
    with pytest.raises(InputError, match="half the frame rate"):
        smooth_poses(noisy, 10.0, SmoothingOptions(cutoff_hz=6.0))
    with pytest.raises(InputError, match="cutoff"):
        SmoothingOptions(cutoff_hz=0.0)
    with pytest.raises(InputError, match="poses"):
        smooth_poses(noisy[:, 0], 60.0)
    with pytest.raises(InputError, match="linear or cubic"):
        fill_gaps(noisy, 3, kind="spline")


def test_far_joints_flags_only_joints_off_the_body():
    rng = np.random.default_rng(7)
    poses = rng.normal([0, 0, 1], 0.3, (50, 17, 3)) + np.linspace(0, 5, 50)[:, None, None]
    poses[10, 3] += [0, 0, 2.5]                    # 2.5 m off: flagged
    poses[20, 5] += [1.0, 0, 0]                    # stretched but plausible: kept
    poses[30, :] = np.nan                          # empty frame: nothing flagged, no warning
    poses[40, 7] = np.nan
    flags = far_joints(poses, 2.0)
    assert flags.shape == (50, 17) and flags.sum() == 1 and flags[10, 3]
    with pytest.raises(InputError, match="positive"):
        far_joints(poses, 0.0)
