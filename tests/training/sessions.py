"""Small triangulated sessions with known truth for the training tests (no mocap, no solver).

A procedural coco17 figure walks in a circle, waving its limbs, in front of a ring of cameras.
`poses3d.npz` is the truth plus noise (a stand-in for triangulation), `keypoints2d.npz` the
projections plus noise, `truth/` the exact cameras and poses, and optionally one video per camera
(coloured dots at the joints) with a `session.toml` pointing at it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from epicap.joint_sets import get_joint_set
from epicap.session import Cameras, Keypoints2D, Poses3D
from epicap.session.manifest import CameraEntry, SessionManifest

# standing coco17 figure, metres, Z up, facing +y, pelvis ~0.95 m above the floor
_REST = {
    "nose": (0, 0.08, 1.60), "left_eye": (0.03, 0.07, 1.63), "right_eye": (-0.03, 0.07, 1.63),
    "left_ear": (0.07, 0.0, 1.61), "right_ear": (-0.07, 0.0, 1.61),
    "left_shoulder": (0.18, 0, 1.42), "right_shoulder": (-0.18, 0, 1.42),
    "left_elbow": (0.22, 0, 1.14), "right_elbow": (-0.22, 0, 1.14),
    "left_wrist": (0.24, 0.02, 0.88), "right_wrist": (-0.24, 0.02, 0.88),
    "left_hip": (0.10, 0, 0.95), "right_hip": (-0.10, 0, 0.95),
    "left_knee": (0.11, 0.02, 0.52), "right_knee": (-0.11, 0.02, 0.52),
    "left_ankle": (0.11, 0, 0.08), "right_ankle": (-0.11, 0, 0.08),
}
IMAGE_SIZE = (320, 240)
FOCAL_PX = 260.0


def figure_motion(T: int, seed: int = 0) -> np.ndarray:
    """(T, 17, 3) world metres: the figure turning and walking on a circle, limbs swinging."""
    skel = get_joint_set("coco17")
    rest = np.array([_REST[j] for j in skel.joints], dtype=np.float64)
    rng = np.random.default_rng(seed)
    phase0, speed = rng.uniform(0, 2 * np.pi), rng.uniform(0.15, 0.3)
    out = np.empty((T, 17, 3))
    for t in range(T):
        p = rest.copy()
        swing = 0.5 * np.sin(phase0 + 0.6 * t)
        for side, sign in (("left", 1), ("right", -1)):
            for j, pivot, amp in ((f"{side}_elbow", f"{side}_shoulder", sign * swing),
                                  (f"{side}_wrist", f"{side}_shoulder", sign * swing * 1.4),
                                  (f"{side}_knee", f"{side}_hip", -sign * swing * 0.6),
                                  (f"{side}_ankle", f"{side}_hip", -sign * swing * 0.8)):
                i, k = skel.index(j), skel.index(pivot)
                c, s = np.cos(amp), np.sin(amp)
                d = p[i] - p[k]
                p[i] = p[k] + np.array([d[0], c * d[1] - s * d[2], s * d[1] + c * d[2]])
        yaw = phase0 + speed * t
        c, s = np.cos(yaw), np.sin(yaw)
        Rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        centre = 0.8 * np.array([np.cos(speed * t), np.sin(speed * t), 0])
        out[t] = p @ Rz.T + centre
    return out


def ring_cameras(C: int, radius_m: float = 4.0, height_m: float = 1.4) -> Cameras:
    """C cameras on a circle looking at (0, 0, 1), OpenCV axes, `cam_from_world`."""
    R, t = [], []
    for c in range(C):
        a = 2 * np.pi * c / C
        centre = np.array([radius_m * np.cos(a), radius_m * np.sin(a), height_m])
        z = np.array([0, 0, 1.0]) - centre
        z /= np.linalg.norm(z)
        x = np.cross(z, [0, 0, 1.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        Rc = np.stack([x, y, z])
        R.append(Rc)
        t.append(-Rc @ centre)
    K = np.array([[FOCAL_PX, 0, IMAGE_SIZE[0] / 2 - 0.5], [0, FOCAL_PX, IMAGE_SIZE[1] / 2 - 0.5],
                  [0, 0, 1]])
    return Cameras([f"cam{c + 1}" for c in range(C)], [IMAGE_SIZE] * C, [K] * C,
                   np.zeros((C, 5)), np.array(R), np.array(t))


def make_session(folder: Path, T: int = 40, C: int = 3, label_noise_m: float = 0.0,
                 px_noise: float = 0.0, video: bool = False, truth: bool = True,
                 seed: int = 0) -> Path:
    """Write a triangulated session with known truth into `folder`; returns it."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    X = figure_motion(T, seed)
    cams = ring_cameras(C)
    pix = cams.project(X.reshape(-1, 3)).reshape(C, T, 17, 2)
    pix = pix + px_noise * rng.standard_normal(pix.shape)
    kp = np.concatenate([pix, np.ones((C, T, 17, 1))], -1).astype(np.float32)
    Keypoints2D(kp, cams.names, "coco17", [IMAGE_SIZE] * C, 30.0).save(folder / "keypoints2d.npz")
    noisy = X + label_noise_m * rng.standard_normal(X.shape)
    err = np.full((T, 17), 1.5, np.float32)
    Poses3D(noisy, err, np.full((T, 17), C), "coco17", 30.0).save(folder / "poses3d.npz")
    cams.to_toml(folder / "cameras.toml")
    if truth:
        (folder / "truth").mkdir(exist_ok=True)
        cams.to_toml(folder / "truth" / "cameras.toml")
        Poses3D(X, np.zeros((T, 17)), np.full((T, 17), C), "coco17", 30.0).save(
            folder / "truth" / "poses3d.npz")
    entries = []
    for c, name in enumerate(cams.names):
        rel = None
        if video:
            rel = f"videos/{name}.avi"
            write_dot_video(folder / rel, pix[c])
        entries.append(CameraEntry(name, 30.0, T, *IMAGE_SIZE, video=rel))
    SessionManifest(entries, source="synth").save(folder)
    return folder


def joint_colour(j: int) -> tuple[int, int, int]:
    """A distinct BGR colour for joint j."""
    return (40 + (j * 53) % 200, 40 + (j * 97) % 200, 40 + (j * 31) % 200)


def write_dot_video(path: Path, pixels: np.ndarray) -> None:
    """An MJPG video (T frames) with a filled circle of `joint_colour(j)` at each joint."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, IMAGE_SIZE)
    for frame in pixels:
        img = np.zeros((IMAGE_SIZE[1], IMAGE_SIZE[0], 3), np.uint8)
        for j, (x, y) in enumerate(frame):
            if np.isfinite(x):
                cv2.circle(img, (int(round(x)), int(round(y))), 3, joint_colour(j), -1)
        w.write(img)
    w.release()
