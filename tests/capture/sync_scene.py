"""A moving 17-joint subject seen by a ring of cameras whose clocks are offset (known truth).

The motion is a smooth function of continuous time, so a fractional offset is exact: camera c's
frame i shows the subject at time (i + offset_frames[c]) / fps.
"""
from __future__ import annotations

import numpy as np

# a standing skeleton (metres, Z up), coco17 order
_REST = np.array([
    [0.0, 0.05, 1.62], [0.03, 0.06, 1.66], [-0.03, 0.06, 1.66], [0.07, 0.0, 1.64],
    [-0.07, 0.0, 1.64], [0.18, 0.0, 1.42], [-0.18, 0.0, 1.42], [0.22, 0.0, 1.15],
    [-0.22, 0.0, 1.15], [0.24, 0.02, 0.90], [-0.24, 0.02, 0.90], [0.10, 0.0, 0.95],
    [-0.10, 0.0, 0.95], [0.11, 0.02, 0.52], [-0.11, 0.02, 0.52], [0.11, 0.0, 0.08],
    [-0.11, 0.0, 0.08]])


def subject(t: np.ndarray, seed: int = 0) -> np.ndarray:
    """(len(t), 17, 3) joint positions at times t (seconds): walking in a circle, limbs swinging."""
    rng = np.random.default_rng(seed)
    t = np.asarray(t, dtype=np.float64)[:, None]
    heading = 0.35 * t + 0.4 * np.sin(0.9 * t)
    root = np.stack([1.2 * np.cos(heading), 1.2 * np.sin(heading), 0.03 * np.sin(7 * t)], -1)
    freq = rng.uniform(0.8, 2.5, size=(17, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(17, 3))
    amp = np.array([0.05, 0.05, 0.05, 0.05, 0.05, 0.08, 0.08, 0.2, 0.2, 0.3, 0.3, 0.05, 0.05,
                    0.18, 0.18, 0.25, 0.25])[:, None]
    wiggle = amp * np.sin(freq * t[..., None] + phase)  # (T, 17, 3)
    wiggle[..., 2] *= 0.4
    return _REST + wiggle + root[:, 0][:, None, :]


def ring_cameras(n: int = 4, radius: float = 5.0, size=(1280, 720)):
    """n cameras on a circle at 1.5 m height looking at the centre: (K, R, t) lists."""
    K = np.array([[1000.0, 0, size[0] / 2], [0, 1000.0, size[1] / 2], [0, 0, 1]])
    cams = []
    for c in range(n):
        a = 2 * np.pi * c / n + 0.3
        centre = np.array([radius * np.cos(a), radius * np.sin(a), 1.5])
        z = np.array([0, 0, 1.0]) - centre
        z /= np.linalg.norm(z)
        x = np.cross(z, [0, 0, 1.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        R = np.stack([x, y, z])
        cams.append((K, R, -R @ centre))
    return cams


def offset_keypoints(offsets_frames, frames: int = 240, fps: float = 60.0, noise_px: float = 1.0,
                     seed: int = 0, size=(1280, 720)) -> np.ndarray:
    """(C, frames, 17, 3) keypoints of `subject` in `ring_cameras`, camera c delayed by offset c."""
    rng = np.random.default_rng(seed + 1)
    cams = ring_cameras(len(offsets_frames), size=size)
    out = []
    for (K, R, t), off in zip(cams, offsets_frames):
        X = subject((np.arange(frames) + off) / fps, seed)
        xc = X @ R.T + t
        uv = xc @ K.T
        uv = uv[..., :2] / uv[..., 2:]
        uv = uv + rng.normal(0, noise_px, uv.shape)
        out.append(np.concatenate([uv, np.full(uv.shape[:-1] + (1,), 0.9)], -1))
    return np.stack(out).astype(np.float32)
