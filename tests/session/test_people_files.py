"""The person axis of keypoints2d.npz and poses3d.npz (PRODUCT.md "Several people")."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session import Keypoints2D, Poses3D


def _single(C=2, T=5, seed=0):
    rng = np.random.default_rng(seed)
    kp = np.concatenate([rng.uniform(0, 600, (C, T, 17, 2)), rng.uniform(0.2, 1, (C, T, 17, 1))],
                        -1)
    kp[0, 1, 3] = (np.nan, np.nan, 0)
    return Keypoints2D(kp.astype(np.float32), [f"cam{i}" for i in range(C)], "coco17",
                       [[640, 480]] * C, 30.0)


def _poses(T=5, seed=0):
    rng = np.random.default_rng(seed)
    poses = rng.normal(size=(T, 17, 3)).astype(np.float32)
    poses[2, 4] = np.nan
    return Poses3D(poses, rng.uniform(0, 3, (T, 17)), rng.integers(0, 5, (T, 17)), "coco17", 30.0)


def test_keypoints_round_trip_with_people(tmp_path):
    singles = [_single(seed=s) for s in range(3)]
    k = Keypoints2D.stack(singles, ["p0", "p1", "p2"])
    assert k.keypoints.shape == (2, 5, 3, 17, 3) and k.num_people == 3
    k.save(tmp_path / "keypoints2d.npz")
    with np.load(tmp_path / "keypoints2d.npz", allow_pickle=False) as z:
        assert "people" in z.files and z["people"].dtype.kind == "U"
        assert z["people"].tolist() == ["p0", "p1", "p2"]
        assert z["keypoints"].dtype == np.float32 and z["keypoints"].shape == (2, 5, 3, 17, 3)
    back = Keypoints2D.from_npz(tmp_path / "keypoints2d.npz")
    assert back.people == ["p0", "p1", "p2"]
    for p in range(3):
        np.testing.assert_array_equal(back.person(p).keypoints, singles[p].keypoints)
        assert back.person(p).people is None
    np.testing.assert_array_equal(back.select_cameras(["cam1"]).keypoints, k.keypoints[[1]])


def test_single_person_keeps_todays_shapes(tmp_path):
    k = Keypoints2D.stack([_single()], ["p0"])
    assert k.people is None and k.keypoints.shape == (2, 5, 17, 3) and k.num_people == 1
    k.save(tmp_path / "k.npz")
    with np.load(tmp_path / "k.npz", allow_pickle=False) as z:
        assert "people" not in z.files
    assert Keypoints2D.from_npz(tmp_path / "k.npz").person(0).keypoints.shape == (2, 5, 17, 3)
    p = Poses3D.stack([_poses()], ["p0"])
    assert p.people is None and p.poses.shape == (5, 17, 3)


def test_poses_round_trip_with_people(tmp_path):
    singles = [_poses(seed=s) for s in range(2)]
    p = Poses3D.stack(singles, ["a", "b"])
    assert p.poses.shape == (2, 5, 17, 3) and p.views.shape == (2, 5, 17)
    p.save(tmp_path / "poses3d.npz")
    with np.load(tmp_path / "poses3d.npz", allow_pickle=False) as z:
        assert z["people"].tolist() == ["a", "b"] and z["views"].dtype == np.uint8
        assert z["reprojection_error"].shape == (2, 5, 17)
    back = Poses3D.from_npz(tmp_path / "poses3d.npz")
    assert back.people == ["a", "b"] and back.valid.shape == (2, 5, 17)
    np.testing.assert_array_equal(back.person(1).poses, singles[1].poses)
    np.testing.assert_array_equal(back.person(1).views, singles[1].views)


@pytest.mark.parametrize("people, shape, message", [
    (["p0", "p0"], (2, 5, 2, 17, 3), "not unique"),
    (["p0", "p1", "p2"], (2, 5, 2, 17, 3), "expected shape"),
    ([], (2, 5, 0, 17, 3), "people is empty"),
    (["p0", "p1"], (2, 5, 17, 3), "expected shape"),
    (["p0", ""], (2, 5, 2, 17, 3), "bad person id"),
])
def test_bad_people_are_refused(people, shape, message):
    with pytest.raises(InputError, match=message):
        Keypoints2D(np.full(shape, np.nan, np.float32), ["a", "b"], "coco17", [[640, 480]] * 2,
                    30.0, None, people)


def test_bad_people_key_in_a_file_names_the_file(tmp_path):
    k = Keypoints2D.stack([_single(), _single(seed=1)], ["p0", "p1"])
    arrays = dict(keypoints=k.keypoints, cameras=np.array(k.cameras), joints=np.array(k.joints),
                  joint_set=np.array("coco17"), image_size=k.image_size, fps=np.array(30.0))
    np.savez(tmp_path / "k.npz", **arrays, people=np.array([1, 2]))
    with pytest.raises(InputError, match=r"k\.npz: key 'people'"):
        Keypoints2D.from_npz(tmp_path / "k.npz")
    np.savez(tmp_path / "k.npz", **arrays)  # five axes but no ids
    with pytest.raises(InputError, match=r"k\.npz: .*expected shape"):
        Keypoints2D.from_npz(tmp_path / "k.npz")
    np.savez(tmp_path / "k.npz", **arrays, people=np.array(["p0", "p1", "p2"]))
    with pytest.raises(InputError, match=r"k\.npz"):
        Keypoints2D.from_npz(tmp_path / "k.npz")


def test_person_and_stack_refuse_bad_requests():
    k = Keypoints2D.stack([_single(), _single(seed=1)], ["p0", "p1"])
    with pytest.raises(InputError, match="person 2"):
        k.person(2)
    with pytest.raises(InputError, match="person 1"):
        _single().person(1)
    with pytest.raises(InputError, match="differ"):
        Keypoints2D.stack([_single(), _single(C=3)], ["a", "b"])
    with pytest.raises(InputError, match="single-person"):
        Keypoints2D.stack([k, k], ["a", "b"])
    with pytest.raises(InputError, match="poses3d: person 3"):
        Poses3D.stack([_poses(), _poses(seed=1)], ["a", "b"]).person(3)
