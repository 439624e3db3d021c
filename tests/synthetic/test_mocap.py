"""Mocap clips: embedded data = forward kinematics of the wheel's files, resampling, looping,
scaling, centring, every joint set."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set, to_h36m17
from epicap.synthetic import CLIP_NAMES, EMBEDDED_CLIPS, load_clip
from epicap.synthetic.humanoid import MARKERS
from epicap.synthetic.mocap import (NATIVE_HEIGHT_M, _DenseClip, _dense_clip, _embedded_path,
                                    clip_markers)


def _bone(positions, skel, a, b):
    return np.linalg.norm(positions[:, skel.index(a)] - positions[:, skel.index(b)], axis=-1)


def test_walk_default_shape_and_frame():
    clip = load_clip("walk")
    skel = get_joint_set("coco17")
    assert clip.positions.shape == (38, 17, 3) and clip.fps == 30.0  # 1.27 s at 30 fps
    assert clip.joint_set == "coco17" and clip.subject_height_m == pytest.approx(1.619, abs=1e-3)
    P = clip.positions
    hips = P[:, [skel.index("left_hip"), skel.index("right_hip")]].mean(axis=1)
    np.testing.assert_allclose(hips[:, :2].mean(axis=0), 0, atol=0.01)  # centred over the origin
    assert (P[:, skel.index("left_hip"), 1] > P[:, skel.index("right_hip"), 1]).all()
    ankles = P[:, [skel.index("left_ankle"), skel.index("right_ankle")], 2]
    assert 0.03 < ankles.min() < 0.09  # ankle joints a few cm above the floor at z = 0
    assert 1.4 < P[:, skel.index("nose"), 2].mean() < 1.55


@pytest.mark.parametrize("name", EMBEDDED_CLIPS)
def test_embedded_clip_equals_fk_of_the_wheel(name):
    from epicap.assets import fetch_wheel, read_member
    from epicap.synthetic.mocap import _read_dense

    try:
        wheel = fetch_wheel("pybullet")
    except InputError as e:
        pytest.skip(str(e))
    fresh = clip_markers(name, read_member(wheel, f"pybullet_data/data/motions/humanoid3d_{name}"
                                                  ".txt").decode(),
                         read_member(wheel, "pybullet_data/humanoid/humanoid.urdf").decode())
    shipped = _read_dense(_embedded_path(name))
    assert shipped.loop == fresh.loop
    np.testing.assert_allclose(shipped.times, fresh.times)
    np.testing.assert_allclose(shipped.markers, fresh.markers, atol=1e-5)  # float32 storage
    assert _embedded_path(name).stat().st_size < 200_000


def test_bone_lengths_constant_and_scaled_to_subject_height():
    skel = get_joint_set("coco17")
    native = load_clip("walk", fps=50, num_frames=200)
    tall = load_clip("walk", fps=50, num_frames=200, subject_height_m=1.80)
    assert tall.subject_height_m == pytest.approx(1.80)
    for a, b in [("left_hip", "left_knee"), ("right_knee", "right_ankle"),
                 ("left_shoulder", "left_elbow")]:
        d = _bone(native.positions, skel, a, b)
        assert d.std() < 2e-3  # interpolation between 120 Hz samples shortens bones slightly
        np.testing.assert_allclose(_bone(tall.positions, skel, a, b), d * 1.80 / NATIVE_HEIGHT_M,
                                   rtol=1e-9)
    assert tall.positions[..., 2].max() == pytest.approx(
        native.positions[..., 2].max() * 1.80 / NATIVE_HEIGHT_M)


def test_at_matches_positions_and_continues_the_motion():
    clip = load_clip("walk", fps=30, num_frames=40)
    np.testing.assert_allclose(clip.at(np.arange(40)), clip.positions, atol=1e-12)
    half = clip.at(np.array([10.5]))[0]
    mid = (clip.positions[10] + clip.positions[11]) / 2
    assert np.abs(half - mid).max() < 0.01  # between its neighbours
    longer = load_clip("walk", fps=30, num_frames=80)  # other centring, same motion
    shift = longer.positions[0] - clip.positions[0]
    np.testing.assert_allclose(clip.at(np.arange(40, 80)) + shift, longer.positions[40:],
                               atol=1e-12)


def test_looping_is_continuous_and_walks_on():
    clip = load_clip("walk", fps=120, num_frames=3 * 152 + 10)  # a cycle: 152 steps of 1/120 s
    steps = np.linalg.norm(np.diff(clip.positions, axis=0), axis=-1).max(axis=1)
    accel = np.linalg.norm(np.diff(clip.positions, 2, axis=0), axis=-1).max(axis=1)
    seams = np.array([150, 151, 152, 302, 303, 304])
    assert steps.max() < 0.03  # 3.6 m/s at most (the hands)
    assert accel[seams].max() < 0.01  # no kink where the cycles meet
    pelvis_x = clip.positions[:, [11, 12], 0].mean(axis=1)
    assert pelvis_x[-1] - pelvis_x[0] > 3.3  # three cycles of 1.24 m


def test_one_shot_clips_ping_pong():
    t = np.linspace(0, 1, 11)
    markers = np.broadcast_to(t[:, None, None], (11, len(MARKERS), 3)).copy()
    dense = _DenseClip("ramp", t, markers, loop=False)
    np.testing.assert_allclose(dense.sample(np.array([0.3, 1.7, 2.3]))[:, 0, 0], [0.3, 0.3, 0.3])
    loop = _DenseClip("ramp", t, markers, loop=True)
    assert loop.sample(np.array([1.25]))[0, 0, 0] == pytest.approx(0.25 + 1.0)  # x moved on


@pytest.mark.parametrize("joint_set", ["coco17", "body25b", "h36m17", "mediapipe33"])
def test_every_joint_set(joint_set):
    clip = load_clip("walk", joint_set=joint_set, num_frames=5)
    skel = get_joint_set(joint_set)
    assert clip.positions.shape == (5, len(skel), 3) and np.isfinite(clip.positions).all()
    # every left joint is on the subject's left (+Y; the walk faces +X)
    for j, name in enumerate(skel.joints):
        if name.startswith("left_"):
            assert (clip.positions[:, j, 1] > clip.positions[:, skel.flip_index[j], 1]).all(), name
    h36m = to_h36m17(clip.positions, joint_set) if joint_set != "h36m17" else clip.positions
    limbs = [get_joint_set("h36m17").index(n) for n in ("left_knee", "right_wrist")]
    np.testing.assert_allclose(h36m[:, limbs], load_clip("walk", "h36m17", num_frames=5)
                               .positions[:, limbs], atol=1e-12)


def test_h36m_body25b_extra_joints_are_where_they_belong():
    h = load_clip("walk", joint_set="h36m17", num_frames=10)
    s = get_joint_set("h36m17")
    z = h.positions[..., 2]
    order = ["pelvis", "spine", "thorax", "neck", "head"]
    for lower, upper in zip(order, order[1:]):
        assert (z[:, s.index(lower)] < z[:, s.index(upper)]).all(), (lower, upper)
    b = load_clip("walk", joint_set="body25b", num_frames=10)
    s = get_joint_set("body25b")
    P = b.positions
    assert (P[:, s.index("left_big_toe"), 0] > P[:, s.index("left_heel"), 0]).all()  # toes ahead


@pytest.mark.parametrize("name", ["crawl", "getup_facedown", "getup_faceup", "backflip", "spin"])
def test_other_clips_load(name):
    clip = load_clip(name, num_frames=90)
    P = clip.positions
    assert P.shape == (90, 17, 3) and np.isfinite(P).all()
    assert P[..., 2].min() > -0.05  # nothing sinks into the floor
    if name == "crawl":
        assert P[..., 2].max() < 1.0  # a low-motion clip: close to the floor


def test_clip_names_and_bad_input():
    assert len(CLIP_NAMES) == 15 and set(EMBEDDED_CLIPS) <= set(CLIP_NAMES)
    with pytest.raises(InputError, match="unknown clip 'moonwalk'.*walk"):
        load_clip("moonwalk")
    with pytest.raises(InputError, match="fps"):
        load_clip("walk", fps=0)
    with pytest.raises(InputError, match="frames"):
        load_clip("walk", num_frames=0)
    with pytest.raises(InputError, match="height"):
        load_clip("walk", subject_height_m=17)
    with pytest.raises(InputError, match="joint set"):
        load_clip("walk", joint_set="coco18")


def test_dense_clips_are_cached_in_memory():
    assert _dense_clip("walk") is _dense_clip("walk")


def test_turning_walk_circles_and_faces_where_it_goes():
    clip = load_clip("walk", fps=30, num_frames=300, turn_deg_per_s=40)  # 10 s, 400 degrees
    skel = get_joint_set("coco17")
    P = clip.positions
    hips = P[:, [skel.index("left_hip"), skel.index("right_hip")]].mean(axis=1)
    radius = np.linalg.norm(hips[:, :2], axis=1)
    expected = 1.239 / 1.2666 / np.deg2rad(40)  # speed / turn rate = 1.40 m
    assert np.median(radius) == pytest.approx(expected, rel=0.1)
    velocity = np.gradient(hips[:, :2], axis=0)
    across = P[:, skel.index("left_hip"), :2] - P[:, skel.index("right_hip"), :2]
    facing = np.stack([across[:, 1], -across[:, 0]], axis=1)  # left-to-right turned by -90 deg
    cos = (velocity * facing).sum(1) / np.linalg.norm(velocity, axis=1) / np.linalg.norm(facing,
                                                                                         axis=1)
    assert np.median(cos) > 0.9  # walks forwards along the circle
    np.testing.assert_allclose(clip.at(np.arange(300)), P, atol=1e-9)
    assert np.linalg.norm(np.diff(clip.at(np.arange(-5, 5) / 4), axis=0), axis=-1).max() < 0.05
