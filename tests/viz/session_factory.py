"""A small session built in the tests: a stick figure (h36m17) walking in front of 4 cameras.

World Z up, floor z = 0; the figure faces -Y (towards the "front" view), so its right side is -X.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from epicap.joint_sets import get_joint_set
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Cameras, Keypoints2D, Poses3D
from epicap.viz.viewpoint import look_at

REST = {  # metres, facing -Y, right side at -X
    "pelvis": (0, 0, 0.95), "right_hip": (-0.12, 0, 0.95), "right_knee": (-0.12, 0, 0.52),
    "right_ankle": (-0.12, 0, 0.08), "left_hip": (0.12, 0, 0.95), "left_knee": (0.12, 0, 0.52),
    "left_ankle": (0.12, 0, 0.08), "spine": (0, 0, 1.20), "thorax": (0, 0, 1.42),
    "neck": (0, 0, 1.52), "head": (0, 0, 1.68), "left_shoulder": (0.19, 0, 1.42),
    "left_elbow": (0.24, 0, 1.15), "left_wrist": (0.27, 0, 0.90),
    "right_shoulder": (-0.19, 0, 1.42),
    "right_elbow": (-0.24, 0, 1.15), "right_wrist": (-0.27, 0, 0.90),
}


def stick_figure(T: int = 6, fps: float = 30.0, seed: int = 0) -> Poses3D:
    """T frames of the figure walking slowly along +X with swinging arms."""
    skel = get_joint_set("h36m17")
    rest = np.array([REST[j] for j in skel.joints], dtype=np.float64)
    rng = np.random.default_rng(seed)
    poses = np.empty((T, len(skel), 3))
    for t in range(T):
        X = rest.copy()
        X[:, 0] += 0.02 * t
        swing = 0.15 * np.sin(2 * np.pi * t / max(T, 2))
        for j in ("left_wrist", "left_elbow"):
            X[skel.index(j), 1] += swing * (1.0 if j.endswith("wrist") else 0.5)
        for j in ("right_wrist", "right_elbow"):
            X[skel.index(j), 1] -= swing * (1.0 if j.endswith("wrist") else 0.5)
        poses[t] = X + rng.normal(0, 0.002, X.shape)
    err = rng.uniform(0.5, 3.0, (T, len(skel)))
    views = np.full((T, len(skel)), 4)
    return Poses3D(poses.astype(np.float32), err.astype(np.float32), views, "h36m17", fps)


def four_cameras(radius_m: float = 3.0, size=(640, 480)) -> Cameras:
    """4 cameras on a circle around the figure, 1.5 m high, looking at (0, 0, 1)."""
    Ks, Rs, ts = [], [], []
    for i, az in enumerate(np.radians([-90.0, 0.0, 90.0, 200.0])):
        eye = np.array([radius_m * np.cos(az), radius_m * np.sin(az), 1.5])
        M = look_at(eye, [0, 0, 1.0], [0, 0, 1])
        f = 520.0 + 10 * i
        Ks.append([[f, 0, size[0] / 2 - 0.5], [0, f, size[1] / 2 - 0.5], [0, 0, 1]])
        Rs.append(M[:3, :3])
        ts.append(M[:3, 3])
    dist = np.zeros((4, 5))
    dist[1, :2] = (-0.05, 0.01)
    return Cameras(["cam01", "cam02", "cam03", "cam04"], np.tile(size, (4, 1)), np.array(Ks),
                   dist, np.array(Rs), np.array(ts), error_px=0.8)


def keypoints_from(cameras: Cameras, poses: Poses3D, noise_px: float = 1.5,
                   seed: int = 1) -> Keypoints2D:
    """Detections: the projections plus Gaussian noise; one joint missing in one view."""
    rng = np.random.default_rng(seed)
    T, J, _ = poses.poses.shape
    X = poses.poses.reshape(-1, 3).astype(np.float64)
    uv = cameras.project(X).reshape(len(cameras), T, J, 2)
    uv = uv + rng.normal(0, noise_px, uv.shape)
    kp = np.concatenate([uv, np.full(uv.shape[:-1] + (1,), 0.9)], axis=-1)
    kp[0, 0, 3] = (np.nan, np.nan, 0.0)
    return Keypoints2D(kp.astype(np.float32), cameras.names, poses.joint_set, cameras.image_size,
                       poses.fps)


def make_session(root: Path, T: int = 6, with_keypoints: bool = True) -> Path:
    """Write cameras.toml, poses3d.npz (and keypoints2d.npz) into `root`; returns root."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cams, poses = four_cameras(), stick_figure(T)
    cams.to_toml(root / CAMERAS_FILE)
    poses.save(root / POSES_FILE)
    if with_keypoints:
        keypoints_from(cams, poses).save(root / KEYPOINTS_FILE)
    return root
