"""Sub-frame timing refined with calibrated cameras, against planted offsets (known truth)."""
from __future__ import annotations

import numpy as np
import pytest

from epicap.capture.sync_cameras import refine_timing, shift_keypoints, timed_keypoints
from epicap.session import Cameras, Keypoints2D
from tests.capture.sync_scene import offset_keypoints, ring_cameras

PLANTED = [0.0, 0.12, -0.1, 0.15]  # frames: camera c's row t shows the instant t + PLANTED[c]


def _rig(n: int = 4) -> Cameras:
    K, R, t = (np.stack(x) for x in zip(*ring_cameras(n)))
    return Cameras([f"cam{c + 1:02d}" for c in range(n)], np.tile([1280, 720], (n, 1)), K,
                   np.zeros((n, 5)), R, t)


def test_planted_shifts_are_found_within_their_spread():
    rig = _rig()
    kp = offset_keypoints(PLANTED, frames=180, noise_px=1.0)
    fit = refine_timing(kp, rig.K, rig.dist, rig.R, rig.t, np.array([False, True, True, True]))
    assert fit.converged and fit.points > 1000
    assert fit.shift_frames[0] == 0.0 and fit.std_frames[0] == 0.0  # the reference is held
    err = fit.shift_frames[1:] - PLANTED[1:]
    assert np.abs(err).max() < 0.06 and (np.abs(err) < 4 * fit.std_frames[1:]).all()
    assert fit.significant()[1:].all() and not fit.significant()[0]
    # the spread is the noise's: a tenth of the noise, a far smaller spread and error
    clean = refine_timing(offset_keypoints(PLANTED, frames=180, noise_px=0.1), rig.K, rig.dist,
                          rig.R, rig.t, np.array([False, True, True, True]))
    assert (clean.std_frames[1:] < fit.std_frames[1:] / 5).all()
    assert np.abs(clean.shift_frames - PLANTED).max() < 0.01


def test_in_sync_nothing_is_significant_and_shifting_undoes_the_planted_offsets():
    rig = _rig()
    free = np.array([False, True, True, True])
    in_sync = offset_keypoints([0.0] * 4, frames=180, noise_px=1.0)
    fit = refine_timing(in_sync, rig.K, rig.dist, rig.R, rig.t, free)
    assert fit.converged and not fit.significant().any()
    # keypoints shifted by the planted offsets are in sync again
    kp = offset_keypoints(PLANTED, frames=180, noise_px=1.0)
    again = refine_timing(shift_keypoints(kp, PLANTED), rig.K, rig.dist, rig.R, rig.t, free)
    assert not again.significant().any()


def test_shift_keypoints_interpolates_along_the_track():
    T = 20
    track = np.zeros((2, T, 1, 3), np.float32)
    track[..., 0, 0] = np.arange(T) * 3.0  # x moves 3 px per frame
    track[..., 0, 2] = 1.0
    track[1, 8] = (np.nan, np.nan, 0.0)  # a dropped detection
    out = shift_keypoints(track, [0.0, 0.25])
    np.testing.assert_array_equal(out[0], track[0])
    # row t of the shifted camera is its old row t - 0.25: x = 3 (t - 0.25)
    rows = [t for t in range(1, T) if t not in (8, 9)]
    np.testing.assert_allclose(out[1, rows, 0, 0], 3.0 * (np.array(rows) - 0.25), atol=1e-5)
    # beside the gap and at the start, the nearer row as it was; the gap stays a gap
    assert out[1, 9, 0, 0] == 27.0 and out[1, 0, 0, 0] == 0.0
    assert np.isnan(out[1, 8, 0, 0]) and out[1, 8, 0, 2] == 0.0


def test_timed_keypoints_holds_what_sync_did_not_estimate():
    rig = _rig()
    planted = [0.0, 0.12, 0.0, 0.15]
    kp = Keypoints2D(offset_keypoints(planted, frames=180, noise_px=1.0), rig.names, "coco17",
                     rig.image_size, 60.0)
    # cam03 on timestamps (held): the others' shifts are found against cam01 and cam03
    timed, fit = timed_keypoints(kp, rig, ("cam02", "cam04"))
    assert fit.shift_frames[2] == 0.0 and fit.std_frames[2] == 0.0
    assert np.abs(fit.shift_frames - planted).max() < 0.06
    assert timed is not kp and timed.keypoints.shape == kp.keypoints.shape
    # nothing refinable, or fewer than three calibrated cameras: left as it is, no fit
    assert timed_keypoints(kp, rig, ()) == (kp, None)
    assert timed_keypoints(kp, rig.select(["cam01", "cam02"]), ("cam02",)) == (kp, None)
    # every calibrated camera refinable: no timeline to hold
    assert timed_keypoints(kp, rig, tuple(rig.names))[1] is None


def test_timed_keypoints_fits_a_long_recording_on_its_busiest_stretch(monkeypatch):
    """A 6 s recording fitted on 1 s: the frames where everyone is in view, the same shifts
    within their spread, and the whole recording shifted."""
    import epicap.capture.sync_cameras as sync_cameras

    rig = _rig()
    raw = offset_keypoints(PLANTED, frames=360, noise_px=1.0)
    raw[:, 200:] = (np.nan, np.nan, 0.0)            # nobody in view after frame 200
    kp = Keypoints2D(raw, rig.names, "coco17", rig.image_size, 60.0)
    seen = []
    real = sync_cameras.refine_timing

    def spy(keypoints, *args, **kwargs):
        seen.append(np.asarray(keypoints).shape[1])
        return real(keypoints, *args, **kwargs)

    monkeypatch.setattr(sync_cameras, "refine_timing", spy)
    refinable = ("cam02", "cam03", "cam04")
    timed, fit = timed_keypoints(kp, rig, refinable, window_s=1.0)
    whole, fit_all = timed_keypoints(kp, rig, refinable, window_s=0.0)
    assert seen == [60, 360]
    assert np.abs(fit.shift_frames - PLANTED).max() < 4 * fit.std_frames.max() + 0.02
    assert (fit.std_frames[1:] > fit_all.std_frames[1:]).all()   # fewer joints
    assert timed.keypoints.shape == kp.keypoints.shape
    # every frame is shifted by the fit: rows after the window move as well
    again = shift_keypoints(kp.keypoints, fit.shift_frames, kp.skeleton.flip_index)
    np.testing.assert_array_equal(timed.keypoints, again)


def test_a_shift_that_keeps_moving_is_not_applied():
    rig = _rig()
    kp = offset_keypoints(PLANTED, frames=180, noise_px=1.0)
    fit = refine_timing(kp, rig.K, rig.dist, rig.R, rig.t, np.array([False, True, True, True]),
                        max_iterations=1, tol_frames=1e-9)
    assert not fit.converged and not fit.significant().any()


def test_bad_input():
    rig = _rig()
    kp = offset_keypoints(PLANTED, frames=60)
    with pytest.raises(ValueError, match="at least one camera must be held"):
        refine_timing(kp, rig.K, rig.dist, rig.R, rig.t, np.ones(4, bool))
    with pytest.raises(Exception, match="free"):
        refine_timing(kp, rig.K, rig.dist, rig.R, rig.t, np.ones(3, bool))
    with pytest.raises(Exception, match="shift_frames"):
        shift_keypoints(kp, [0.1, 0.2])


def test_calibration_refines_the_offsets_sync_estimated():
    """A random realistic rig (4 cameras in a ring, lenses with k1 down to -0.26) filming a walk,
    whose keypoints run up to 0.15 frame apart: calibrated as synchronized, then with those
    cameras' offsets refined (`CalibrationOptions.refine_timing`), intrinsics given."""
    from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
    from epicap.session.calibration_compare import compare_calibrations
    from epicap.synthetic import SceneOptions, load_clip, make_scene
    from epicap.synthetic.rigs import RigFamily, random_rig

    clip = load_clip("walk", "coco17", fps=30, num_frames=150, turn_deg_per_s=28)
    rig = random_rig(1, clip.positions, RigFamily(num_cameras=(4, 5))).cameras
    planted = [0.0, 0.15, -0.12, 0.1]
    scene = make_scene(clip, rig, SceneOptions(noise_px=2.0, offsets_frames=planted, seed=1))
    given = Cameras(rig.names, rig.image_size, rig.K, rig.dist)
    plain = calibrate(scene.keypoints, given, CalibrationOptions())
    timed = calibrate(scene.keypoints, given,
                      CalibrationOptions(refine_timing=("cam02", "cam03", "cam04")))
    assert plain.timing is None and timed.timing.rounds >= 1
    # each calibration takes up part of a timing error in its turns, and the rounds extrapolate
    # what is left (measured: 0.17, -0.20, 0.15 frames): the sign and size of each are found
    assert (np.sign(timed.timing.shift_frames) == np.sign(planted)).all()
    np.testing.assert_allclose(timed.timing.shift_frames, planted, atol=0.1)
    before = compare_calibrations(rig, plain.cameras).relative_rotation_deg.mean()
    after = compare_calibrations(rig, timed.cameras).relative_rotation_deg.mean()
    assert after < 0.6 * before  # measured: 0.149 -> 0.077 deg (0.059 filmed in sync)
    assert "sync offsets refined with the cameras (cam02 +0.1" in timed.summary()
