import numpy as np
import pytest
from scipy.spatial import procrustes
from scipy.spatial.transform import Rotation

from epicap.errors import InputError
from epicap.geometry.metrics import auc, joint_errors, mpjpe, n_mpjpe, pa_mpjpe, pck3d


def _poses(B=6, J=17, seed=0):
    return np.random.default_rng(seed).normal(scale=0.3, size=(B, J, 3))


def test_mpjpe_against_explicit_loop_and_nan():
    rng = np.random.default_rng(1)
    gt = _poses()
    pred = gt + rng.normal(scale=0.02, size=gt.shape)
    pred[0, 3] = np.nan
    gt[2, 5] = np.nan
    errs = [np.sqrt(((pred[b, j] - gt[b, j]) ** 2).sum()) for b in range(6) for j in range(17)
            if not (np.isnan(pred[b, j]).any() or np.isnan(gt[b, j]).any())]
    assert len(errs) == 6 * 17 - 2
    assert mpjpe(pred, gt) == pytest.approx(np.mean(errs), rel=1e-12)
    assert joint_errors(pred, gt).shape == (6, 17)
    per = mpjpe(pred, gt, per_pose=True)
    assert per.shape == (6,)
    assert per[1] == pytest.approx(np.linalg.norm(pred[1] - gt[1], axis=1).mean())
    # root-relative: a global shift does not count
    assert mpjpe(gt + [1.0, 2, 3], gt, root=0) == pytest.approx(0.0, abs=1e-12)
    assert mpjpe(gt + [1.0, 2, 3], gt) == pytest.approx(np.sqrt(14), rel=1e-12)


def test_n_mpjpe_removes_scale_only():
    gt = _poses(seed=2)
    gt_rel = gt - gt[:, :1]
    assert n_mpjpe(1.3 * gt_rel, gt_rel) == pytest.approx(0.0, abs=1e-12)
    R = Rotation.from_euler("z", 30, degrees=True).as_matrix()
    rotated = gt_rel @ R.T
    assert n_mpjpe(rotated, gt_rel) > 0.05          # a rotation is still an error
    # the scale used is the least-squares optimum: scaling it by 0.97 or 1.03 raises the squared
    # error of every pose; N-MPJPE equals the MPJPE of the prediction at that scale
    pred = gt_rel * 0.9 + np.random.default_rng(3).normal(scale=0.02, size=gt.shape)
    s = (pred * gt_rel).sum((1, 2)) / (pred ** 2).sum((1, 2))
    sse = lambda k: ((k[:, None, None] * pred - gt_rel) ** 2).sum((1, 2))
    assert (sse(0.97 * s) > sse(s)).all() and (sse(1.03 * s) > sse(s)).all()
    assert n_mpjpe(pred, gt_rel, root=None) == pytest.approx(mpjpe(s[:, None, None] * pred, gt_rel))
    assert n_mpjpe(pred, gt_rel) < mpjpe(pred, gt_rel)


def test_pa_mpjpe_against_scipy_procrustes():
    gt = _poses(B=4, seed=4)
    rng = np.random.default_rng(5)
    pred = np.stack([1.2 * p @ Rotation.random(random_state=i).as_matrix().T + i
                     for i, p in enumerate(gt)]) + rng.normal(scale=0.01, size=gt.shape)
    ours = pa_mpjpe(pred, gt, per_pose=True)
    for b in range(4):
        m1, m2, _ = procrustes(gt[b], pred[b])       # both standardized to unit norm
        g = gt[b] - gt[b].mean(0)
        ref = np.linalg.norm(m2 - m1, axis=1).mean() * np.sqrt((g ** 2).sum())
        assert ours[b] == pytest.approx(ref, rel=1e-9)
    assert pa_mpjpe(pred, gt) < 0.02 < mpjpe(pred, gt)


def test_pck_and_auc():
    gt = np.zeros((1, 4, 3))
    pred = gt.copy()
    pred[0, :, 0] = [0.0, 0.1, 0.15, 0.2]             # errors 0, 100, 150, 200 mm
    assert pck3d(pred, gt) == pytest.approx(0.75)
    assert pck3d(pred, gt, threshold_m=0.05) == pytest.approx(0.25)
    # AUC by its definition: mean over 31 thresholds 0..150 mm of the fraction within
    thresholds = np.linspace(0, 0.15, 31)
    ref = np.mean([np.mean(np.array([0, 0.1, 0.15, 0.2]) <= th) for th in thresholds])
    assert auc(pred, gt) == pytest.approx(ref)
    assert auc(gt, gt) == pytest.approx(1.0)
    assert np.isnan(pck3d(np.full((1, 4, 3), np.nan), gt))


def test_bad_shapes():
    with pytest.raises(InputError, match="gt"):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))
