"""A tiny synthetic scene for calibration tests: a stick person walking and crouching in a ring of
cameras, with known truth. Z up, the floor at z = 0, metres."""
from __future__ import annotations

import numpy as np

from epicap.geometry.camera import rotation_from_rodrigues
from epicap.session import Cameras, Keypoints2D

# coco17 joints in the body frame (x forward, y left, z up), standing, metres
_TEMPLATE = np.array([
    [0.10, 0.00, 1.60], [0.08, 0.03, 1.65], [0.08, -0.03, 1.65], [0.00, 0.08, 1.62],
    [0.00, -0.08, 1.62], [0.00, 0.19, 1.42], [0.00, -0.19, 1.42], [0.00, 0.22, 1.12],
    [0.00, -0.22, 1.12], [0.05, 0.22, 0.85], [0.05, -0.22, 0.85], [0.00, 0.10, 0.95],
    [0.00, -0.10, 0.95], [0.03, 0.10, 0.50], [0.03, -0.10, 0.50], [0.00, 0.10, 0.08],
    [0.00, -0.10, 0.08]])


def person_motion(T: int, seed: int = 0) -> np.ndarray:
    """(T, 17, 3) coco17 joints of a person walking a loop, swinging limbs and crouching."""
    rng = np.random.default_rng(seed)
    s = np.linspace(0, 2 * np.pi, T)
    phase = rng.uniform(0, 2 * np.pi)
    root = np.stack([1.2 * np.cos(s + phase), 0.8 * np.sin(2 * (s + phase)), np.zeros(T)], 1)
    heading = np.arctan2(np.gradient(root[:, 1]), np.gradient(root[:, 0]))
    gait = 6 * s
    out = np.repeat(_TEMPLATE[None], T, axis=0).copy()
    swing = 0.25 * np.sin(gait)
    for j, sign in ((13, 1), (15, 1), (14, -1), (16, -1)):  # knees, ankles: legs
        out[:, j, 0] += sign * swing * (0.5 if j < 15 else 1.0)
    for j, sign in ((7, -1), (9, -1), (8, 1), (10, 1)):  # elbows, wrists: arms
        out[:, j, 0] += sign * swing * (0.5 if j < 9 else 1.0)
    crouch = 0.25 * np.clip(np.sin(3 * s + 1.0), 0, None)  # knees bend, upper body lowers
    out[:, :13, 2] -= crouch[:, None]
    out[:, 13:15, 0] += crouch[:, None]
    out[:, :, 2] += 0.02 * np.sin(2 * gait)[:, None]
    c, sn = np.cos(heading), np.sin(heading)
    Rz = np.stack([np.stack([c, -sn, 0 * c], -1), np.stack([sn, c, 0 * c], -1),
                   np.stack([0 * c, 0 * c, 1 + 0 * c], -1)], 1)
    return np.einsum("tij,tkj->tki", Rz, out) + root[:, None]


def camera_ring(C: int, radius: float = 5.0, focal: float = 1400.0, size=(1920, 1080),
                seed: int = 0) -> Cameras:
    """C cameras on a ring around the origin at 1-2.5 m height, looking at (0, 0, 1)."""
    rng = np.random.default_rng(seed)
    Rs, ts = [], []
    for c in range(C):
        a = 2 * np.pi * c / C + rng.uniform(-0.3, 0.3)
        centre = np.array([radius * np.cos(a), radius * np.sin(a), rng.uniform(1.0, 2.5)])
        z = np.array([0, 0, 1.0]) + rng.normal(0, 0.2, 3) - centre
        z /= np.linalg.norm(z)
        x = np.cross(z, [0, 0, 1.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        roll = rng.normal(0, 0.03)
        R = np.stack([x, y, z])
        cr, sr = np.cos(roll), np.sin(roll)
        R = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]]) @ R
        Rs.append(R)
        ts.append(-R @ centre)
    w, h = size
    K = np.array([[focal, 0, (w - 1) / 2], [0, focal, (h - 1) / 2], [0, 0, 1]])
    return Cameras([f"cam{c + 1}" for c in range(C)], np.tile(size, (C, 1)), np.tile(K, (C, 1, 1)),
                   np.zeros((C, 5)), np.array(Rs), np.array(ts))


def observe(cams: Cameras, X: np.ndarray, noise_px: float = 2.0, bias_px: float = 0.0,
            outliers: float = 0.0, missing: float = 0.0, seed: int = 0) -> Keypoints2D:
    """Keypoints2D (coco17) of joints X (T, 17, 3) seen by `cams`, with noise and corruption."""
    rng = np.random.default_rng(seed)
    C, (T, J, _) = len(cams), X.shape
    uv = cams.project(X.reshape(-1, 3)).reshape(C, T, J, 2)
    uv = uv + rng.normal(0, noise_px, uv.shape)
    if bias_px:
        direction = rng.normal(size=(C, 1, J, 2))
        direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
        uv = uv + bias_px * direction
    bad = rng.random((C, T, J)) < outliers
    uv[bad] += rng.uniform(-60, 60, (int(bad.sum()), 2))
    conf = rng.uniform(0.6, 1.0, (C, T, J))
    gone = rng.random((C, T, J)) < missing
    w, h = cams.image_size[0]
    gone |= ~((uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h))
    uv[gone] = np.nan
    conf[gone] = 0
    kp = np.concatenate([uv, conf[..., None]], axis=-1).astype(np.float32)
    return Keypoints2D(kp, cams.names, "coco17", cams.image_size, 30.0)


def perturbed(cams: Cameras, turn_deg: float, move_m: float, seed: int = 0,
              which: list[int] | None = None) -> Cameras:
    """`cams` with each camera (or those in `which`) turned by turn_deg about a random axis
    through its centre and its centre moved move_m in a random direction: a nudged rig."""
    rng = np.random.default_rng(seed)
    R, centers = cams.R.copy(), cams.centers.copy()
    for c in range(len(cams)) if which is None else which:
        axis, step = rng.normal(size=3), rng.normal(size=3)
        R[c] = rotation_from_rodrigues(np.radians(turn_deg) * axis / np.linalg.norm(axis)) @ R[c]
        centers[c] = centers[c] + move_m * step / np.linalg.norm(step)
    return Cameras(cams.names, cams.image_size, cams.K, cams.dist, R,
                   -np.einsum("cij,cj->ci", R, centers))


def sweep_scene(seed: int, clip_name: str, turn_deg_per_s: float = 0.0, frames: int = 200):
    """(rig, clip, scene) of a rig of `benchmarks/calibration_sweep.py`: the rig drawn with
    `seed` from `RigFamily()` around the clip, and the sweep's noise model (2 px, 10% outliers,
    missing and lost). rig.cameras is the truth (metres, `cam_from_world`, pixels)."""
    from epicap.synthetic import SceneOptions, load_clip, make_scene
    from epicap.synthetic.rigs import RigFamily, random_rig

    clip = load_clip(clip_name, "coco17", fps=30, num_frames=frames,
                     turn_deg_per_s=turn_deg_per_s)
    rig = random_rig(seed, clip.positions, RigFamily())
    scene = make_scene(clip, rig.cameras, SceneOptions(
        noise_px=2.0, outlier_fraction=0.1, missing_fraction=0.1, lose_fraction=0.1,
        lose_subject=rig.lose_subject, seed=seed))
    return rig, clip, scene
