"""Forward kinematics of DeepMimic's humanoid against the URDF's own numbers and body sense."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.synthetic.humanoid import (MARKERS, URDF_SCALE, forward_kinematics, parse_motion,
                                       parse_urdf, rest_height_m)
from epicap.synthetic.mocap import NATIVE_HEIGHT_M

IDENTITY = np.array([[0.0, 0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def wheel_texts():
    from epicap.assets import fetch_wheel, read_member

    try:
        wheel = fetch_wheel("pybullet")
    except InputError as e:  # no network and no cache: nothing to test against
        pytest.skip(str(e))
    urdf = read_member(wheel, "pybullet_data/humanoid/humanoid.urdf").decode()
    walk = read_member(wheel, "pybullet_data/data/motions/humanoid3d_walk.txt").decode()
    return urdf, walk


@pytest.fixture(scope="module")
def humanoid(wheel_texts):
    return parse_urdf(wheel_texts[0])


@pytest.fixture(scope="module")
def walk_markers(humanoid, wheel_texts):
    m = parse_motion(wheel_texts[1], "walk")
    return forward_kinematics(humanoid, m.root_pos, m.root_rot, m.rotations)


def _yup_to_world(v):
    x, y, z = v
    return np.array([x, -z, y])


def _rest(humanoid, rotations=None):
    return forward_kinematics(humanoid, np.zeros((1, 3)), IDENTITY, rotations or {})[0]


def test_rest_pose_reproduces_urdf_offsets(humanoid):
    X = _rest(humanoid)
    at = lambda name: X[MARKERS.index(name)]
    # the URDF's joint origins summed along each chain by hand (URDF units, Y up)
    expected = {
        "left_ankle": (0, -1.686184 - 1.639480, -0.339548),
        "right_knee": (0, -1.686184, 0.339548),
        "neck": (0, 0.944604 + 0.895576, 0),
        "right_shoulder": (-0.0962, 0.944604 + 0.974, 0.73244),
        "left_wrist": (-0.0962, 0.944604 + 0.974 - 1.099152 - 1.035788, -0.73244),
    }
    for name, xyz in expected.items():
        np.testing.assert_allclose(at(name), URDF_SCALE * _yup_to_world(xyz), atol=1e-12)
    np.testing.assert_allclose(at("pelvis"), 0, atol=1e-12)


def test_rest_height_is_an_adult_and_matches_the_constant(humanoid):
    h = rest_height_m(humanoid)
    assert 1.55 < h < 1.85
    assert h == pytest.approx(NATIVE_HEIGHT_M, abs=1e-6)


def test_knees_bend_backwards_and_elbows_forwards(humanoid):
    """Revolute joints turn about the URDF's z axis: knee angles are negative in the data (limit
    -3.14..0) and must move the ankle behind the knee; elbows (0..3.14) bring the wrist forward.
    The humanoid faces +X in the world frame."""
    X = _rest(humanoid, {"right_knee": np.array([-np.pi / 2]),
                         "left_elbow": np.array([np.pi / 2])})
    at = lambda name: X[MARKERS.index(name)]
    shank = URDF_SCALE * 1.639480
    np.testing.assert_allclose(at("right_ankle") - at("right_knee"), [-shank, 0, 0], atol=1e-12)
    forearm = URDF_SCALE * 1.035788
    np.testing.assert_allclose(at("left_wrist") - at("left_elbow"), [forearm, 0, 0], atol=1e-12)


def test_motion_layout_reads_quaternions_w_first(wheel_texts):
    m = parse_motion(wheel_texts[1], "walk")
    assert len(m.times) == 39 and m.loop
    np.testing.assert_allclose(m.root_pos[0], [0.0, 0.847532, 0.0])
    # stored w, x, y, z = 0.998678, 0.014104, -0.000698, -0.049423: nearly upright
    np.testing.assert_allclose(m.root_rot[0, 3], 0.998678, atol=1e-5)
    assert m.rotations["right_knee"].shape == (39,)
    assert (m.rotations["right_knee"] <= 0).all() and (m.rotations["left_elbow"] >= 0).all()


def test_bone_lengths_are_constant_over_the_walk(walk_markers):
    pairs = [("right_hip", "right_knee", 1.686184), ("left_knee", "left_ankle", 1.639480),
             ("right_shoulder", "right_elbow", 1.099152), ("left_elbow", "left_wrist", 1.035788)]
    for a, b, length in pairs:
        d = np.linalg.norm(walk_markers[:, MARKERS.index(a)] - walk_markers[:, MARKERS.index(b)],
                           axis=-1)
        np.testing.assert_allclose(d, URDF_SCALE * length, atol=1e-12)
    # virtual markers ride rigidly on their link
    d = np.linalg.norm(walk_markers[:, MARKERS.index("nose")]
                       - walk_markers[:, MARKERS.index("left_ear")], axis=-1)
    assert d.std() < 1e-12


def test_walk_faces_plus_x_left_on_plus_y_feet_on_floor(walk_markers):
    at = lambda name: walk_markers[:, MARKERS.index(name)]
    assert (at("left_hip")[:, 1] > at("right_hip")[:, 1]).all()
    assert (at("left_shoulder")[:, 1] > at("right_shoulder")[:, 1]).all()
    assert (at("nose")[:, 0] > (at("left_ear")[:, 0] + at("right_ear")[:, 0]) / 2).all()
    assert at("pelvis")[-1, 0] - at("pelvis")[0, 0] > 1.0  # walks forwards, along +X
    feet = walk_markers[:, [MARKERS.index(n) for n in
                            ("left_heel", "right_heel", "left_big_toe", "right_big_toe")], 2]
    assert feet.min() > -0.01 and feet.min() < 0.03   # touches the floor, never sinks into it
    assert (feet.min(axis=1) < 0.06).all()             # some foot is always on the ground
    height = at("head_top")[:, 2] - feet.min(axis=1)
    assert 1.4 < np.median(height) < 1.7


def test_bad_files_are_input_errors():
    with pytest.raises(InputError, match="not a DeepMimic"):
        parse_motion("{}", "x.txt")
    with pytest.raises(InputError, match="44 numbers"):
        parse_motion('{"Frames": [[1, 2], [3, 4]]}', "x.txt")
    with pytest.raises(InputError, match="XML"):
        parse_urdf("<robot")
