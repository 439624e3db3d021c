import numpy as np
import pytest

from epicap.errors import InputError
from epicap.joint_sets import JOINT_SETS, get_joint_set, h36m17_mapping, to_h36m17

COCO = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
        "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]


def test_names_and_order_are_the_contract():
    assert list(get_joint_set("coco17").joints) == COCO
    assert list(get_joint_set("body25b").joints) == COCO + [
        "neck", "head", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe",
        "right_small_toe", "right_heel"]
    assert list(get_joint_set("h36m17").joints) == [
        "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
        "left_ankle", "spine", "thorax", "neck", "head", "left_shoulder", "left_elbow",
        "left_wrist", "right_shoulder", "right_elbow", "right_wrist"]
    mp = get_joint_set("mediapipe33").joints
    assert len(mp) == 33 and mp[0] == "nose" and mp[-1] == "right_foot_index"
    assert mp[11:13] == ("left_shoulder", "right_shoulder") and mp[23:25] == ("left_hip", "right_hip")


def test_mediapipe_names_match_the_mediapipe_enum():
    from mediapipe.tasks.python.vision import PoseLandmark

    assert [m.name.lower() for m in PoseLandmark] == list(get_joint_set("mediapipe33").joints)


@pytest.mark.parametrize("name", sorted(JOINT_SETS))
def test_flip_is_an_involution_that_swaps_sides(name):
    s = get_joint_set(name)
    assert (s.flip_index[s.flip_index] == np.arange(len(s))).all()
    assert (s.side[s.flip_index] == -s.side).all()
    assert s.weights.shape == (len(s),) and np.isclose(s.weights.mean(), 1)


def test_mapping_to_h36m17():
    rng = np.random.default_rng(0)
    coco = rng.normal(size=(5, 17, 3))
    h36 = to_h36m17(coco, "coco17")
    H = get_joint_set("h36m17")
    np.testing.assert_allclose(h36[:, H.index("pelvis")], coco[:, [11, 12]].mean(1))
    np.testing.assert_allclose(h36[:, H.index("left_wrist")], coco[:, 9])
    assert np.isnan(h36[:, H.index("head")]).all()          # not derivable from COCO
    coco[0, 11] = np.nan
    h36 = to_h36m17(coco, "coco17")
    assert np.isnan(h36[0, H.index("pelvis")]).all() and np.isfinite(h36[1, 0]).all()
    body = rng.normal(size=(25, 2))
    np.testing.assert_allclose(to_h36m17(body, "body25b")[H.index("head")], body[18])
    np.testing.assert_array_equal(h36m17_mapping("h36m17"), np.eye(17))


def test_unknown_names_list_the_choices():
    with pytest.raises(InputError, match="coco17"):
        get_joint_set("openpose18")
    with pytest.raises(InputError, match="valid"):
        get_joint_set("coco17").index("tail")
