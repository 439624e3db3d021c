"""The world frame of a calibration-free solve: metric scale from the subject, the floor, up."""
import numpy as np
import pytest

from epicap.calibration_free.world import (HEAD_HEIGHTS, apply_world_frame,
                                           estimate_world_frame, person_height,
                                           standing_height, subject_height)
from epicap.geometry.camera import rotation_from_rodrigues
from epicap.joint_sets import get_joint_set
from epicap.synthetic import load_clip, ring_rig

# standing heights as fractions of H (Winter 2009, fig. 4.1), an independent statement of them
WINTER = {"shoulder": 0.818, "elbow": 0.630, "wrist": 0.485, "hip": 0.530, "knee": 0.285,
          "ankle": 0.039}


def _winter_figure(joint_set: str, height: float, frames: int = 20) -> np.ndarray:
    """(T, J, 3) a person of Winter's proportions standing still, arms down, floor z = 0."""
    skel = get_joint_set(joint_set)
    X = np.full((frames, len(skel), 3), np.nan)
    for j, name in enumerate(skel.joints):
        side = 1.0 if name.startswith("left_") else -1.0 if name.startswith("right_") else 0.0
        part = name.split("_", 1)[-1] if side else name
        if part in WINTER:
            width = 0.13 if part in ("shoulder", "elbow", "wrist") else 0.05
            X[:, j] = (0.0, side * width * height, WINTER[part] * height)
        elif name in HEAD_HEIGHTS:
            X[:, j] = (0.1 * height if name != "head" else 0.0, side * 0.03 * height,
                       HEAD_HEIGHTS[name] * height)
    return X


@pytest.mark.parametrize("joint_set", ["coco17", "body25b", "mediapipe33"])
def test_winter_proportions_give_the_height_exactly(joint_set):
    skel = get_joint_set(joint_set)
    X = _winter_figure(joint_set, 1.80)
    # Winter's heights put the arm at 0.333 H, his segment lengths at 0.186 + 0.146 = 0.332 H
    assert subject_height(X, skel) == pytest.approx(1.80, rel=2e-3)
    height, upright = standing_height(X, skel, np.array([0, 0, 1.0]), 0.0, 1.80)
    assert upright == len(X)
    assert height == pytest.approx(1.80, rel=1e-9)


def test_a_bowed_head_is_not_standing():
    skel = get_joint_set("coco17")
    X = _winter_figure("coco17", 1.70)
    head = [skel.index(n) for n in skel.joints if n in HEAD_HEIGHTS]
    X[:, head, 2] -= 0.05 * 1.70  # the head hangs: its joints would say a 5% shorter person
    height, upright = standing_height(X, skel, np.array([0, 0, 1.0]), 0.0, 1.70)
    assert upright == 0 and np.isnan(height)


def _world_scale_error(clip_name, joint_set, noise_m=0.01, seed=0):
    """Relative error of the metric scale found from a clip's joints in a random solve frame."""
    clip = load_clip(clip_name, joint_set, fps=30, num_frames=150)
    rng = np.random.default_rng(seed)
    X = clip.positions + rng.normal(0, noise_m, clip.positions.shape)
    cams = ring_rig(4, radius_m=4.5, height_m=1.8, focal_px=1100.0, image_size=(1280, 720),
                    seed=seed, look_at=(0, 0, 0.9))
    # solve frame = (world - shift) turned and shrunk: X_solve = s * Q @ X + p
    s, Q, p = 0.37, rotation_from_rodrigues(rng.normal(0, 1.0, (1, 3)))[0], rng.normal(0, 1, 3)
    Xs = s * X @ Q.T + p
    R_s = cams.R @ Q.T
    t_s = s * cams.t - np.einsum("cij,j->ci", R_s, p)
    frame = estimate_world_frame(Xs, get_joint_set(joint_set), R_s, t_s, clip.subject_height_m)
    Rw, tw, Xw = apply_world_frame(frame, R_s, t_s, Xs)
    return frame, frame.scale * s - 1, Xw, X


@pytest.mark.parametrize("joint_set", ["coco17", "body25b", "mediapipe33"])
def test_walk_scale_from_standing_height(joint_set):
    frame, error, Xw, X = _world_scale_error("walk", joint_set)
    # before: limb lengths over Winter's shares said 4.5% too small on this humanoid
    assert frame.height_from == "standing" and frame.upright_frames >= 20
    assert abs(error) < 0.015
    # Z up and the floor where it is: the ankles' lowest points agree with the truth within 2 cm
    ankles = [get_joint_set(joint_set).index(n) for n in ("left_ankle", "right_ankle")]
    assert abs(np.nanmin(Xw[:, ankles, 2]) - X[:, ankles, 2].min()) < 0.02


def test_crawl_falls_back_to_whole_limbs():
    frame, error, _, _ = _world_scale_error("crawl", "coco17")
    assert frame.height_from == "limbs" and frame.upright_frames < 5
    # the DeepMimic humanoid's legs are 4.5% longer than Winter's, its arms 0.6% shorter
    assert abs(error) < 0.03


def test_a_persons_height_standing_where_upright_else_from_the_limbs():
    walk = load_clip("walk", "coco17", fps=30, num_frames=150, turn_deg_per_s=28.0)
    skel = get_joint_set("coco17")
    height, how = person_height(walk.positions, skel)
    limbs = subject_height(walk.positions, skel)
    # the humanoid's legs are 4.5% longer than Winter's: its limbs say 2-3% too tall
    assert how == "standing" and abs(height / walk.subject_height_m - 1) < 0.015
    assert abs(limbs / walk.subject_height_m - 1) > abs(height / walk.subject_height_m - 1)
    crawl = load_clip("crawl", "coco17", fps=30, num_frames=150)
    assert person_height(crawl.positions, skel)[1] == "limbs"
    # a frame whose up is not Z (a lab's Y up) has no upright frame: the limbs
    y_up = walk.positions[..., [0, 2, 1]] * [1, 1, -1]
    assert person_height(y_up, skel) == (pytest.approx(limbs), "limbs")
    nothing = np.full((5, len(skel), 3), np.nan)
    assert np.isnan(person_height(nothing, skel)[0]) and person_height(nothing, skel)[1] == ""


def test_feet_tipped_by_a_detectors_bias_give_way_to_someone_standing_upright():
    """Someone standing still, feet apart, whose foot joints the detector places on a plane 11
    deg off the floor, tipped the way the cameras' mean up is (so every contact is as low as
    the others along it): the plane through them passes its tilt test. The trunk and thighs,
    upright in every frame, give the floor's up instead."""
    H, T = 1.70, 120
    skel = get_joint_set("body25b")
    X = _winter_figure("body25b", H, frames=T)
    feet = []
    for side, y in (("left_", 0.12), ("right_", -0.12)):
        for part, x in (("heel", -0.06), ("big_toe", 0.16), ("small_toe", 0.13)):
            X[:, skel.index(side + part)] = (x, y + (0.03 if part == "small_toe" else 0), 0.01 * H)
            feet.append(skel.index(side + part))
        feet.append(skel.index(side + "ankle"))
    cams = ring_rig(4, radius_m=4.0, height_m=1.8, focal_px=1100.0, image_size=(1280, 720),
                    seed=1, look_at=(0, 0, 0.9))
    R = cams.R @ rotation_from_rodrigues(np.array([[0.2, 0.0, 0.0]]))[0]   # up 11 deg off
    cam_up = -R[:, 1, :].mean(axis=0)
    cam_up /= np.linalg.norm(cam_up)
    X += np.random.default_rng(0).normal(0, 0.005, X.shape)
    xy = X[:, feet, :2]
    X[:, feet, 2] -= (xy @ cam_up[:2]) / cam_up[2]       # the feet on the plane across cam_up
    tipped = np.degrees(np.arccos(cam_up[2]))
    assert tipped > 8
    frame = estimate_world_frame(X, skel, R, cams.t, H)
    up_err = np.degrees(np.arccos(np.clip(frame.Q[2, 2], -1, 1)))
    assert frame.floor_from == "people" and up_err < 1.0
