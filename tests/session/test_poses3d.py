import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session import Poses3D


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    poses = rng.normal(size=(6, 17, 3)).astype(np.float32)
    poses[2, 3] = np.nan
    p = Poses3D(poses, rng.uniform(0, 3, (6, 17)), np.full((6, 17), 4), "coco17", 50.0)
    p.save(tmp_path / "poses3d.npz")
    with np.load(tmp_path / "poses3d.npz", allow_pickle=False) as z:
        assert sorted(z.files) == ["fps", "joint_set", "joints", "poses", "reprojection_error", "views"]
        assert z["views"].dtype == np.uint8 and z["poses"].dtype == np.float32
    back = Poses3D.from_npz(tmp_path / "poses3d.npz")
    np.testing.assert_array_equal(back.poses, p.poses)
    assert back.valid.sum() == 6 * 17 - 1


def test_bad_poses_are_refused(tmp_path):
    with pytest.raises(InputError, match="reprojection_error"):
        Poses3D(np.zeros((6, 17, 3)), np.zeros((5, 17)), np.zeros((6, 17)), "coco17", 50.0)
    with pytest.raises(InputError, match="expected shape"):
        Poses3D(np.zeros((6, 16, 3)), np.zeros((6, 16)), np.zeros((6, 16)), "coco17", 50.0)
    with pytest.raises(InputError, match="views"):
        Poses3D(np.zeros((6, 17, 3)), np.zeros((6, 17)), np.full((6, 17), 300), "coco17", 50.0)
