"""Pooled people weighed by what their joints add: a still person is one pose, not T frames."""
import dataclasses

import numpy as np
import pytest

from epicap.calibration_free import repeats
from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
from epicap.calibration_free.repeats import repeat_correlation, repeat_counts, repeat_weights
from epicap.errors import InputError
from epicap.geometry.rig_metrics import compare_rigs
from epicap.session import Cameras, Keypoints2D
from epicap.synthetic import ring_rig
from epicap.synthetic.people import PeopleOptions, make_people_scene


def _naive_counts(x, seen, scale):
    """Independent reference: the module's definition, one frame pair at a time."""
    C, T, J, _ = x.shape
    size = np.empty(C)
    for c in range(C):
        diags = [np.linalg.norm(x[c, t][seen[c, t]].max(0) - x[c, t][seen[c, t]].min(0))
                 for t in range(T) if seen[c, t].any()]
        size[c] = np.median(diags)
    out = np.zeros((T, J))
    for f in range(T):
        for j in range(J):
            if not seen[:, f, j].any():
                continue
            for g in range(T):
                cams = [c for c in range(C) if seen[c, f, j] and seen[c, g, j]]
                if cams:
                    d = np.mean([np.linalg.norm(x[c, f, j] - x[c, g, j]) / size[c] for c in cams])
                    out[f, j] += np.exp(-0.5 * (d / scale) ** 2)
    return out


def test_counts_match_the_definition():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 500, (3, 40, 5, 2))
    x[:, 20:] = x[:, :1] + rng.normal(0, 3, (3, 20, 5, 2))  # half the frames one pose
    seen = rng.random((3, 40, 5)) > 0.2
    got = repeat_counts(x, seen, 0.05)
    np.testing.assert_allclose(got, np.maximum(_naive_counts(x, seen, 0.05), 1)
                               * seen.any(0), rtol=1e-9)


def test_counts_of_a_still_and_a_moving_joint():
    T = 120
    t = np.arange(T, dtype=np.float64)
    x = np.zeros((2, T, 2, 2))
    x[:, :, 0] = [100.0, 100.0]                       # joint 0 still
    x[:, :, 1, 0] = 100.0 + 2.0 * t                   # joint 1 moves 2 px a frame
    x[:, :, 1, 1] = 300.0
    counts = repeat_counts(x, np.ones((2, T, 2), bool), 0.05)
    size = np.hypot(2.0 * t, 200.0)                   # the box of the two joints
    np.testing.assert_allclose(counts[:, 0], T)       # every frame repeats the still joint
    mid = counts[T // 2 - 10:T // 2 + 10, 1]
    expected = np.sqrt(2 * np.pi) * 0.05 * np.median(size) / 2.0
    np.testing.assert_allclose(mid, expected, rtol=0.02)  # about s / speed frames


def test_reference_subsample_scales_the_counts(monkeypatch):
    x = np.zeros((2, 50, 1, 2))                       # one still joint, 50 frames
    x[1, :, 0] = 1.0
    x = np.concatenate([x, x + 40.0], axis=2)
    monkeypatch.setattr(repeats, "MAX_REFERENCE", 10)
    counts = repeat_counts(x, np.ones((2, 50, 2), bool), 0.05)
    np.testing.assert_allclose(counts, 50, rtol=0.1)  # 1 + 49 others, from 10 (or 9) of them


def test_weights_per_person_and_normalised():
    rng = np.random.default_rng(1)
    T = 60
    still = np.broadcast_to(rng.uniform(0, 400, (2, 1, 4, 2)), (2, T, 4, 2))
    moving = rng.uniform(0, 400, (2, T, 4, 2))
    x = np.concatenate([moving, still], axis=1)
    track = np.r_[np.zeros(T, int), np.ones(T, int)]
    seen = np.ones((2, 2 * T, 4), bool)
    w = repeat_weights(x, seen, track, 0.05)
    assert np.mean(w) == pytest.approx(1.0)
    assert w[track == 1].sum() / w.sum() < 1.5 / (T + 1)   # the still person: one pose's worth
    half = repeat_weights(x, seen, track, 0.05, {0: 0.0, 1: 0.5})
    ratio = half[track == 1].mean() / half[track == 0].mean()
    assert ratio == pytest.approx(1 / (1 + (T - 1) * 0.5), rel=0.05)
    np.testing.assert_allclose(repeat_weights(x, seen, track, 0.05, 0.0), 1.0)
    noisy = repeat_weights(x, seen, track, 0.05, 0.0, {0: 4.0, 1: 1.0})  # px^2
    assert noisy[track == 0].mean() / noisy[track == 1].mean() == pytest.approx(0.25)
    seen[0, :5] = seen[1, :5] = False
    assert (repeat_weights(x, seen, track, 0.05)[:5] == 0).all()


def test_correlation_of_repeated_errors():
    rng = np.random.default_rng(2)
    C, T, J = 3, 80, 6
    x = np.broadcast_to(rng.uniform(0, 400, (C, 1, J, 2)), (C, T, J, 2)) \
        + rng.normal(0, 1.0, (C, T, J, 2))                # a still person, 1 px jitter
    seen = np.ones((C, T, J), bool)
    track = np.zeros(T, int)
    noise = rng.normal(0, 3.0, (C, T, J, 2))
    bias = rng.normal(0, 3.0, (C, 1, J, 2))
    assert repeat_correlation(x, seen, track, noise, 0.05)[0] < 0.05
    assert repeat_correlation(x, seen, track, bias + 0 * noise, 0.05)[0] > 0.95
    mixed = repeat_correlation(x, seen, track, bias + noise, 0.05)[0]
    assert mixed == pytest.approx(0.5, abs=0.15)          # equal bias and noise variances
    moving = rng.uniform(0, 400, (C, T, J, 2))            # no repeats at all
    assert repeat_correlation(moving, seen, track, bias + 0 * noise, 0.05)[0] == 0.0


def test_bad_input():
    with pytest.raises(InputError, match="repeat scale"):
        repeat_counts(np.zeros((2, 3, 4, 2)), np.ones((2, 3, 4), bool), 0.0)
    with pytest.raises(ValueError):
        repeat_counts(np.zeros((2, 3, 4, 2)), np.ones((2, 3, 5), bool), 0.05)
    with pytest.raises(InputError, match="track"):
        repeat_weights(np.zeros((2, 3, 4, 2)), np.ones((2, 3, 4), bool), np.zeros(2), 0.05)
    with pytest.raises(InputError, match="between 0 and 1"):
        repeat_weights(np.zeros((2, 3, 4, 2)), np.ones((2, 3, 4), bool), np.zeros(3), 0.05, 2.0)
    with pytest.raises(InputError, match="repeat scale"):
        CalibrationOptions(repeat_scale=-0.1)


@pytest.fixture(scope="module")
def biased_still_scene():
    """Two people walking and a bystander standing still whose every joint carries a constant
    detector offset of 12 px per camera (a view-dependent bias repeated in every frame)."""
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=3)
    scene = make_people_scene(cams, 60, PeopleOptions(num_people=3, swap_fraction=0.0,
                                                      enter_leave=False, seed=4))
    kp = scene.keypoints.keypoints.copy()
    C, T, P, J, _ = kp.shape
    angle = np.random.default_rng(5).uniform(0, 2 * np.pi, (C, J))
    kp[:, :, 2, :, :2] += 12.0 * np.stack([np.cos(angle), np.sin(angle)], -1)[:, None]
    keypoints = Keypoints2D(kp, cams.names, "coco17", cams.image_size, 30.0, None, scene.people)
    return cams, keypoints


def _rig_error(cams, keypoints, options):
    intrinsics = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    r = calibrate(keypoints, intrinsics, options)
    cmp = compare_rigs(cams.R, cams.t, r.cameras.R, r.cameras.t)
    return cmp.relative_rotation_deg.mean()


def test_a_biased_still_person_does_not_pull_the_rig(biased_still_scene):
    cams, keypoints = biased_still_scene
    options = CalibrationOptions(occlusion=False)        # synthetic noise: no far-side bias
    pulled = _rig_error(cams, keypoints, dataclasses.replace(options, repeat_scale=0.0))
    weighed = _rig_error(cams, keypoints, options)
    walkers = Keypoints2D(keypoints.keypoints[:, :, :2], cams.names, "coco17", cams.image_size,
                          30.0, None, keypoints.people[:2])
    alone = _rig_error(cams, walkers, dataclasses.replace(options, repeat_scale=0.0))
    assert pulled > 0.3                                   # measured 0.50 deg
    assert weighed < 1.3 * alone                          # measured 0.067 against 0.061 deg


def test_a_still_person_without_bias_keeps_her_weight(biased_still_scene):
    """Independent noise repeats nothing: the rig is the same with or without the weights."""
    cams, keypoints = biased_still_scene
    kp = keypoints.keypoints.copy()
    C, T, _, J, _ = kp.shape
    angle = np.random.default_rng(5).uniform(0, 2 * np.pi, (C, J))
    kp[:, :, 2, :, :2] -= 12.0 * np.stack([np.cos(angle), np.sin(angle)], -1)[:, None]
    clean = Keypoints2D(kp, cams.names, "coco17", cams.image_size, 30.0, None, keypoints.people)
    options = CalibrationOptions(occlusion=False)
    plain = _rig_error(cams, clean, dataclasses.replace(options, repeat_scale=0.0))
    weighed = _rig_error(cams, clean, options)
    assert weighed == pytest.approx(plain, abs=0.02)      # measured 0.029 and 0.031 deg


def test_the_focal_search_counts_a_still_person_by_distinct_poses(biased_still_scene,
                                                                   monkeypatch):
    """Unknown focal lengths: the search sees each pooled joint weighed by the poses it adds,
    the bystander standing still at about one pose's worth; with repeat_scale 0, as given."""
    import epicap.calibration_free.pipeline as pipeline
    from epicap.calibration_free.people import pool_people

    cams, keypoints = biased_still_scene
    _, person, _ = pool_people(keypoints)
    seen = {}

    class Stop(Exception):
        pass

    def capture(px, w, size, options, phase):
        seen["w"] = w
        raise Stop

    monkeypatch.setattr(pipeline, "choose_focals", capture)
    for scale in (0.05, 0.0):
        with pytest.raises(Stop):
            calibrate(keypoints, None, CalibrationOptions(repeat_scale=scale))
        w = seen["w"]
        assert w.shape[1] == len(person)                      # every pooled frame, in order
        still, moving = w[:, person == 2], w[:, person < 2]
        still, moving = still[still > 0], moving[moving > 0]
        if scale:
            assert still.mean() < 0.2 * moving.mean()        # 60 frames of one pose
        else:
            assert still.mean() == pytest.approx(moving.mean(), rel=0.5)
