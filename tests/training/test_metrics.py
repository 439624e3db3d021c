import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from epicap.geometry.metrics import auc, mpjpe, n_mpjpe, pa_mpjpe, pck3d
from epicap.training.metrics import pss

from tests.training.sessions import figure_motion


def _poses(n=40, seed=0):
    X = figure_motion(n, seed)
    return X - X[:, 11:13].mean(1, keepdims=True)


def test_mpjpe_pck_auc_on_known_errors():
    g = _poses(4)
    p = g.copy()
    p[..., 0] += 0.102  # every joint 102 mm off
    p[0, 0] = np.nan  # a missing joint is left out
    assert np.isclose(mpjpe(p, g), 0.102)
    assert pck3d(p, g, 0.150) == 1.0 and pck3d(p, g, 0.1) == 0.0
    # PCK over 31 thresholds 0, 5, .., 150 mm: those from 105 mm on count (10 of 31)
    assert np.isclose(auc(p, g), 10 / 31)


def test_n_mpjpe_and_pa_mpjpe_remove_scale_and_similarity():
    g = _poses(5)
    R = Rotation.from_rotvec([0.3, -0.5, 0.2]).as_matrix()
    p = 0.7 * g @ R.T + np.array([0.1, 0.2, -0.3])
    assert np.isclose(n_mpjpe(0.7 * g, g, root=None), 0.0, atol=1e-12)
    assert np.isclose(pa_mpjpe(p, g), 0.0, atol=1e-9)
    assert mpjpe(p, g) > 0.1


def test_pa_mpjpe_matches_a_numerical_similarity_fit():
    rng = np.random.default_rng(1)
    g = _poses(3, seed=2)
    p = g + 0.05 * rng.standard_normal(g.shape)
    p[:, :, 0] *= -1  # a mirror image: no rotation may undo it

    def fit(pose, truth):
        def res(v):
            R = Rotation.from_rotvec(v[:3]).as_matrix()
            return (np.exp(v[3]) * pose @ R.T + v[4:] - truth).ravel()  # scale > 0
        best = min((least_squares(res, np.r_[rv, 0.0, 0, 0, 0]) for rv in
                    Rotation.random(8, random_state=0).as_rotvec()), key=lambda r: r.cost)
        return np.linalg.norm(best.fun.reshape(-1, 3), axis=-1).mean()

    # Umeyama minimizes the squared error; the numerical fit does too, so the mean errors agree
    expect = np.mean([fit(p[i], g[i]) for i in range(3)])
    assert np.isclose(pa_mpjpe(p, g), expect, rtol=1e-4)


def test_pss_is_one_for_perfect_structure_and_low_for_shuffled():
    g = _poses(200, seed=4)
    g = np.concatenate([g, _poses(200, seed=5)[:, :, [1, 0, 2]]])
    assert pss(g * 1.3, g, 50) == 1.0  # scale does not change structure
    shuffled = g[np.random.default_rng(0).permutation(len(g))]
    assert pss(shuffled, g, 50) < 0.3
