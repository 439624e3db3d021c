import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session import Keypoints2D


def _kp(C=2, T=5, J=17, seed=0):
    rng = np.random.default_rng(seed)
    kp = np.concatenate([rng.uniform(0, 600, (C, T, J, 2)), rng.uniform(0.2, 1, (C, T, J, 1))], -1)
    kp[0, 1, 3] = (np.nan, np.nan, 0)
    return Keypoints2D(kp.astype(np.float32), [f"cam{i}" for i in range(C)], "coco17",
                       [[640, 480]] * C, 30.0)


def test_round_trip_keeps_every_key_exactly(tmp_path):
    k = _kp()
    k.save(tmp_path / "keypoints2d.npz")
    with np.load(tmp_path / "keypoints2d.npz", allow_pickle=False) as z:
        assert sorted(z.files) == ["cameras", "fps", "image_size", "joint_set", "joints", "keypoints"]
        assert z["keypoints"].dtype == np.float32 and z["keypoints"].shape == (2, 5, 17, 3)
        assert z["cameras"].dtype.kind == "U" and z["joint_set"].shape == ()
        assert z["image_size"].dtype.kind == "i" and z["fps"].shape == ()
    back = Keypoints2D.from_npz(tmp_path / "keypoints2d.npz")
    np.testing.assert_array_equal(back.keypoints, k.keypoints)
    assert back.cameras == k.cameras and back.joints == k.joints and back.fps == 30.0


def test_missing_has_one_representation():
    kp = _kp().keypoints.copy()
    kp[1, 2, 4, 2] = 0.0          # confidence 0 with coordinates
    kp[1, 3, 5, 0] = np.nan       # NaN x with confidence
    k = Keypoints2D(kp, ["a", "b"], "coco17", [[640, 480]] * 2, 30.0)
    assert np.isnan(k.points[1, 2, 4]).all() and k.confidence[1, 3, 5] == 0


def _save_raw(path, **overrides):
    k = _kp()
    arrays = dict(keypoints=k.keypoints, cameras=np.array(k.cameras), joints=np.array(k.joints),
                  joint_set=np.array("coco17"), image_size=k.image_size, fps=np.array(30.0))
    arrays.update(overrides)
    arrays = {a: b for a, b in arrays.items() if b is not None}
    np.savez(path, **arrays)


@pytest.mark.parametrize("override,message", [
    (dict(keypoints=None), "missing key"),
    (dict(joint_set=np.array("openpose18")), "unknown joint set"),
    (dict(keypoints=np.zeros((2, 5, 17, 2), np.float32)), "expected shape"),
    (dict(keypoints=np.zeros((2, 5, 17, 3), np.int32)), "dtype"),
    (dict(cameras=np.array(["a"])), "camera names"),
    (dict(joints=np.array(["x"] * 17)), "do not match"),
    (dict(fps=np.array(-1.0)), "fps"),
    (dict(image_size=np.array([[640, 480]])), "image_size"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path, override, message):
    path = tmp_path / "keypoints2d.npz"
    _save_raw(path, **override)
    with pytest.raises(InputError, match=message) as e:
        Keypoints2D.from_npz(path)
    assert str(path) in str(e.value)


def test_truncated_and_pickled_files_are_refused(tmp_path):
    path = tmp_path / "k.npz"
    _kp().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="not a readable"):
        Keypoints2D.from_npz(path)
    np.savez(path, keypoints=np.array([object()], dtype=object), cameras=np.array(["a"]),
             joints=np.array(["a"]), joint_set=np.array("coco17"), image_size=np.zeros((1, 2)),
             fps=np.array(1.0))
    with pytest.raises(InputError):
        Keypoints2D.from_npz(path)
    with pytest.raises(InputError, match="no such file"):
        Keypoints2D.from_npz(tmp_path / "absent.npz")
