import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session.detections2d import Detections2D, stack_detections


def _det(C=2, T=4, S=3, J=17, seed=0):
    rng = np.random.default_rng(seed)
    kp = np.concatenate([rng.uniform(0, 600, (C, T, S, J, 2)),
                         rng.uniform(0.2, 1, (C, T, S, J, 1))], -1)
    kp[0, 1, 2] = (np.nan, np.nan, 0)   # an empty slot
    kp[1, 3, 0, 5] = (np.nan, np.nan, 0)  # one missing joint
    return Detections2D(kp.astype(np.float32), [f"cam{i}" for i in range(C)], "coco17",
                        [[640, 480]] * C, 30.0)


def test_round_trip_keeps_every_key_exactly(tmp_path):
    d = _det()
    d.save(tmp_path / "detections2d.npz")
    with np.load(tmp_path / "detections2d.npz", allow_pickle=False) as z:
        assert sorted(z.files) == ["cameras", "format_version", "fps", "image_size", "joint_set",
                                   "joints", "keypoints"]
        assert z["keypoints"].dtype == np.float32 and z["keypoints"].shape == (2, 4, 3, 17, 3)
        assert z["cameras"].dtype.kind == "U" and z["joint_set"].shape == ()
        assert z["image_size"].dtype.kind == "i" and z["fps"].shape == ()
        assert int(z["format_version"]) == 1 and z["format_version"].shape == ()
    back = Detections2D.from_npz(tmp_path / "detections2d.npz")
    np.testing.assert_array_equal(back.keypoints, d.keypoints)
    assert back.cameras == d.cameras and back.joints == d.joints and back.fps == 30.0
    assert back.num_slots == 3 and back.num_frames == 4
    assert back.people_per_frame()[0].tolist() == [3, 2, 3, 3]


def test_offsets_the_people_were_matched_at_round_trip(tmp_path):
    d = _det()
    d.matched_offsets = np.array([0, 57])
    d.save(tmp_path / "detections2d.npz")
    with np.load(tmp_path / "detections2d.npz", allow_pickle=False) as z:
        assert z["matched_offsets_frames"].tolist() == [0, 57]
    assert Detections2D.from_npz(tmp_path / "detections2d.npz").matched_offsets.tolist() == [0, 57]


def test_missing_has_one_representation():
    kp = _det().keypoints.copy()
    kp[1, 2, 1, 4, 2] = 0.0      # confidence 0 with coordinates
    kp[1, 3, 1, 5, 0] = np.nan   # NaN x with confidence
    d = Detections2D(kp, ["a", "b"], "coco17", [[640, 480]] * 2, 30.0)
    assert np.isnan(d.keypoints[1, 2, 1, 4, :2]).all() and d.keypoints[1, 3, 1, 5, 2] == 0


def _save_raw(path, **overrides):
    d = _det()
    arrays = dict(keypoints=d.keypoints, cameras=np.array(d.cameras), joints=np.array(d.joints),
                  joint_set=np.array("coco17"), image_size=d.image_size, fps=np.array(30.0),
                  format_version=np.array(1))
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("override, message", [
    (dict(format_version=None), "missing key(s) format_version"),
    (dict(format_version=np.array(2)), "format_version 2 is not supported"),
    (dict(keypoints=np.zeros((2, 4, 17, 3), np.float32)), "keypoints"),
    (dict(keypoints=np.zeros((2, 4, 3, 17, 3), np.int32)), "dtype int32"),
    (dict(cameras=np.array(["a"])), "1 camera names for 2 cameras"),
    (dict(joint_set=np.array(["coco17", "x"])), "joint_set must be a single value"),
    (dict(fps=np.array(-1.0)), "fps must be positive"),
    (dict(image_size=np.array([[640, 480]])), "image_size"),
    (dict(keypoints=np.full((2, 4, 3, 17, 3), 2.0, np.float32)), "confidence must lie in"),
    (dict(keypoints=np.zeros((2, 0, 3, 17, 3), np.float32)), "holds no frames"),
    (dict(matched_offsets_frames=np.array([0, 1, 2])), "matched_offsets_frames must be 2 whole"),
    (dict(matched_offsets_frames=np.array([0.0, 1.5])), "matched_offsets_frames must be 2 whole"),
])
def test_bad_files_fail_in_one_line_naming_file(tmp_path, override, message):
    path = _save_raw(tmp_path / "d.npz", **override)
    with pytest.raises(InputError) as e:
        Detections2D.from_npz(path)
    text = str(e.value)
    assert message in text and str(path) in text and "\n" not in text


def test_not_an_npz(tmp_path):
    (tmp_path / "d.npz").write_text("hello")
    with pytest.raises(InputError, match="not a readable .npz"):
        Detections2D.from_npz(tmp_path / "d.npz")


def test_stack_detections_pads_and_caps():
    a = np.ones((2, 17, 3))
    b = np.ones((3, 17, 3))
    b[1, 0, 2] = 0  # a missing joint
    out = stack_detections([[a, None, b], [None]], 17)
    assert out.shape == (2, 3, 3, 17, 3) and out.dtype == np.float32
    assert (out[0, 0, :2, :, 2] == 1).all() and np.isnan(out[0, 0, 2, :, 0]).all()
    assert np.isnan(out[0, 2, 1, 0, 0]) and out[0, 2, 1, 0, 2] == 0
    assert (out[1, ..., 2] == 0).all() and np.isnan(out[1, ..., :2]).all()
    assert stack_detections([[b]], 17, max_slots=2).shape == (1, 1, 2, 17, 3)
    with pytest.raises(InputError, match="expected people as"):
        stack_detections([[np.ones((1, 5, 3))]], 17)
