import numpy as np
import pytest
from scipy.spatial import procrustes
from scipy.spatial.transform import Rotation

from epicap.errors import GeometryError, InputError
from epicap.geometry.alignment import procrustes_align, umeyama, umeyama_batched


def _similarity(seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0), Rotation.random(random_state=seed).as_matrix(), rng.normal(size=3)


def test_umeyama_recovers_known_similarity_and_rigid():
    src = np.random.default_rng(0).normal(size=(30, 3))
    s, R, t = _similarity(1)
    dst = s * src @ R.T + t
    s2, R2, t2 = umeyama(src, dst)
    assert abs(s2 - s) < 1e-12
    np.testing.assert_allclose(R2, R, atol=1e-12)
    np.testing.assert_allclose(t2, t, atol=1e-12)
    s3, R3, t3 = umeyama(src, src @ R.T + t, with_scale=False)
    assert s3 == 1.0
    np.testing.assert_allclose(R3, R, atol=1e-12)


def test_umeyama_returns_proper_rotation_for_reflected_target():
    src = np.random.default_rng(2).normal(size=(20, 3))
    dst = src * [1, 1, -1]                       # a mirror image: no rotation maps it exactly
    _, R, _ = umeyama(src, dst)
    assert np.linalg.det(R) == pytest.approx(1.0)


def test_umeyama_ignores_nan_rows_and_reports_degenerate():
    src = np.random.default_rng(3).normal(size=(10, 3))
    s, R, t = _similarity(4)
    dst = s * src @ R.T + t
    dst[2] = np.nan
    src[5, 1] = np.nan
    s2, R2, t2 = umeyama(src, dst)
    np.testing.assert_allclose(R2, R, atol=1e-12)
    with pytest.raises(GeometryError, match="2 usable"):
        umeyama(src[:2], dst[:2])
    line = np.outer(np.arange(5.0), [1, 2, 3])
    with pytest.raises(GeometryError):
        umeyama(line, line + 1)
    with pytest.raises(InputError, match="target"):
        umeyama(src, dst[:4])


def test_procrustes_align_matches_scipy_disparity():
    rng = np.random.default_rng(5)
    gt = rng.normal(size=(8, 17, 3))
    pred = np.stack([_similarity(i)[0] * g @ _similarity(i)[1].T for i, g in enumerate(gt)])
    pred += rng.normal(scale=0.05, size=pred.shape)
    aligned = procrustes_align(pred, gt)
    for b in range(8):
        # scipy standardizes both sets (centred, unit Frobenius norm); our residual, expressed in
        # the same normalization of gt, must equal its disparity
        _, _, disparity = procrustes(gt[b], pred[b])
        g = gt[b] - gt[b].mean(0)
        ours = ((aligned[b] - gt[b]) ** 2).sum() / (g ** 2).sum()
        assert ours == pytest.approx(disparity, rel=1e-9)
    s, R, t = umeyama_batched(pred, gt)
    assert s.shape == (8,) and R.shape == (8, 3, 3) and t.shape == (8, 3)


def test_procrustes_align_nan_aware():
    gt = np.random.default_rng(6).normal(size=(3, 17, 3))
    pred = gt.copy()
    pred[0, 4] = np.nan
    pred[1, 3:] = np.nan                          # only 3 joints left: still fits
    pred[2, 2:] = np.nan                          # 2 joints: cannot fit
    out = procrustes_align(pred, gt)
    assert np.isnan(out[0, 4]).all()
    np.testing.assert_allclose(np.delete(out[0], 4, 0), np.delete(gt[0], 4, 0), atol=1e-12)
    np.testing.assert_allclose(out[1, :3], gt[1, :3], atol=1e-12)
    assert np.isnan(out[2]).all()
