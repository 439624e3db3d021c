"""Real mocap clips as joint positions in epicap's world frame, at any frame rate and length.

Source: the 15 DeepMimic clips in the `pybullet==3.2.7` wheel (zlib licence), turned into marker
positions by forward kinematics (`epicap.synthetic.humanoid`). Each clip is resampled once to a
dense uniform grid (about 120 Hz, rotations slerped between the keyframes), its markers computed
and cached as .npz under `epicap.assets.cache_dir() / "mocap"`. A few clips ship inside the package
(`epicap/data/mocap_*.npz`) so they need no download.

A clip is a function of continuous time: a looping clip ("wrap") repeats with its root moved on by
one cycle's displacement each time (as DeepMimic plays it; the last 0.15 s of a cycle are blended
into the next cycle's start so the seam is continuous); a one-shot clip plays forward, then
backward (ping-pong), so any time maps to a pose. `load_clip` samples T frames at a chosen fps,
scales to a subject height, and centres the motion so the root's mean position is above the
origin (the world convention of a calibration-free solve: floor at z = 0, origin under the
subject's mean position).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set
from epicap.session.io import read_npz, write_npz
from epicap.synthetic.humanoid import MARKERS, forward_kinematics, parse_motion, parse_urdf

__all__ = ["CLIP_NAMES", "EMBEDDED_CLIPS", "MocapClip", "load_clip", "clip_markers",
           "joint_marker_names"]

CLIP_NAMES: tuple[str, ...] = (
    "walk", "run", "jump", "kick", "spinkick", "punch", "spin", "cartwheel", "backflip",
    "dance_a", "dance_b", "roll", "crawl", "getup_facedown", "getup_faceup")
EMBEDDED_CLIPS: tuple[str, ...] = ("walk", "dance_a", "crawl")
DENSE_FPS = 120.0
# The DeepMimic humanoid's standing height (sole to head top, m) from its URDF, kept here so the
# embedded clips need no download; tests/synthetic/test_humanoid.py checks it against the URDF.
NATIVE_HEIGHT_M = 1.618961
SEAM_BLEND_S = 0.15
CACHE_VERSION = 1
_MOTION_MEMBER = "pybullet_data/data/motions/humanoid3d_{}.txt"
_URDF_MEMBER = "pybullet_data/humanoid/humanoid.urdf"

# Joint name -> marker name, where they differ (every other joint is the marker of its name).
_JOINT_TO_MARKER = {
    "h36m17": {"thorax": "neck", "neck": "nose", "head": "head_top"},
    "body25b": {"head": "head_top"},
}


def joint_marker_names(joint_set: str) -> list[str]:
    """The humanoid marker used for each joint of `joint_set` (all four built-in sets work)."""
    skel = get_joint_set(joint_set)
    rename = _JOINT_TO_MARKER.get(skel.name, {})
    names = [rename.get(j, j) for j in skel.joints]
    unknown = [n for n in names if n not in MARKERS]
    assert not unknown, f"{skel.name}: no humanoid marker for {unknown}"
    return names


@dataclass(frozen=True)
class _DenseClip:
    """Markers (N, M, 3) world metres on a uniform grid times (N,) over one play of the clip."""

    name: str
    times: np.ndarray
    markers: np.ndarray
    loop: bool

    @property
    def duration(self) -> float:
        return float(self.times[-1])

    @property
    def cycle_offset(self) -> np.ndarray:
        """(3,) horizontal root displacement over one cycle (zero for one-shot clips)."""
        if not self.loop:
            return np.zeros(3)
        d = self.markers[-1, 0] - self.markers[0, 0]
        return np.array([d[0], d[1], 0.0])

    def sample(self, times_s: np.ndarray) -> np.ndarray:
        """Markers (..., M, 3) at any times (...,) in seconds (looped or ping-ponged)."""
        t = np.asarray(times_s, dtype=np.float64)
        dur = self.duration
        if self.loop:
            cycles = np.floor(t / dur)
            u = t - cycles * dur
        else:
            cycles = np.zeros_like(t)
            u = np.mod(t, 2 * dur)
            u = np.where(u > dur, 2 * dur - u, u)
        step = self.times[1] - self.times[0]
        pos = np.clip(u / step, 0, len(self.times) - 1)
        i0 = np.minimum(np.floor(pos).astype(np.int64), len(self.times) - 2)
        w = (pos - i0)[..., None, None]
        out = (1 - w) * self.markers[i0] + w * self.markers[i0 + 1]
        return out + cycles[..., None, None] * self.cycle_offset


def _wheel_texts(name: str) -> tuple[str, str]:
    from epicap.assets import fetch_wheel, read_member

    wheel = fetch_wheel("pybullet", quiet=False)
    motion = read_member(wheel, _MOTION_MEMBER.format(name)).decode("utf-8")
    urdf = read_member(wheel, _URDF_MEMBER).decode("utf-8")
    return motion, urdf


def clip_markers(name: str, motion_text: str, urdf_text: str) -> _DenseClip:
    """Resample a DeepMimic clip to the dense grid and run forward kinematics on it.

    Rotations are slerped and the root position, knee and elbow angles linearly interpolated
    between keyframes, as pybullet's `HumanoidPoseInterpolator.Slerp` does.
    """
    from scipy.spatial.transform import Rotation, Slerp

    motion = parse_motion(motion_text, name)
    humanoid = parse_urdf(urdf_text)
    n = max(2, int(np.ceil(motion.times[-1] * DENSE_FPS)))
    times = np.linspace(0.0, motion.times[-1], n + 1)

    def slerp(q: np.ndarray) -> np.ndarray:
        return Slerp(motion.times, Rotation.from_quat(q))(times).as_quat()

    def lerp(v: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(times, motion.times, v[:, k]) for k in range(v.shape[1])], 1)

    rotations = {k: (slerp(v) if v.ndim == 2 else np.interp(times, motion.times, v))
                 for k, v in motion.rotations.items()}
    markers = forward_kinematics(humanoid, lerp(motion.root_pos), slerp(motion.root_rot), rotations)
    if motion.loop:
        markers = _blend_seam(markers, times)
    return _DenseClip(name, times, markers, motion.loop)


def _blend_seam(markers: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Ease the last SEAM_BLEND_S of a cycle into the next cycle's first pose (its root moved on),
    so a looped clip has no jump where DeepMimic's last keyframe differs from its first."""
    d = markers[-1, 0] - markers[0, 0]
    target = markers[0] + np.array([d[0], d[1], 0.0])  # the next cycle's first pose
    gap = target - markers[-1]
    s = np.clip((times - (times[-1] - SEAM_BLEND_S)) / SEAM_BLEND_S, 0, 1)
    w = s * s * (3 - 2 * s)  # smoothstep
    return markers + w[:, None, None] * gap


def _embedded_path(name: str) -> Path:
    return Path(str(resources.files("epicap") / "data" / f"mocap_{name}.npz"))


def _cache_path(name: str) -> Path:
    from epicap.assets import cache_dir

    return cache_dir() / "mocap" / f"{name}-v{CACHE_VERSION}.npz"


def save_dense(clip: _DenseClip, path: str | os.PathLike) -> None:
    """Write a dense clip as .npz (float32 markers in world metres; the cache and embedded format)."""
    write_npz(path, {"times": clip.times, "markers": clip.markers.astype(np.float32),
                     "marker_names": np.array(MARKERS, dtype=str), "loop": np.array(clip.loop),
                     "name": np.array(clip.name, dtype=str),
                     "version": np.array(CACHE_VERSION)})


def _read_dense(path: Path) -> _DenseClip | None:
    try:
        z = read_npz(path, {"times": ("f",), "markers": ("f",), "marker_names": ("U",),
                            "loop": ("b",), "name": ("U",), "version": ("i",)})
    except InputError:
        return None
    if int(z["version"]) != CACHE_VERSION or tuple(z["marker_names"]) != MARKERS:
        return None
    return _DenseClip(str(z["name"]), z["times"].astype(np.float64),
                      z["markers"].astype(np.float64), bool(z["loop"]))


@lru_cache(maxsize=16)
def _dense_clip(name: str) -> _DenseClip:
    if name not in CLIP_NAMES:
        raise InputError(f"unknown clip {name!r}; valid: {', '.join(CLIP_NAMES)}")
    for path in (_embedded_path(name), _cache_path(name)):
        if path.is_file():
            clip = _read_dense(path)
            if clip is not None:
                return clip
    clip = clip_markers(name, *_wheel_texts(name))
    save_dense(clip, _cache_path(name))
    return _read_dense(_cache_path(name)) or clip


@dataclass(frozen=True, eq=False)
class MocapClip:
    """T frames of real motion for one joint set.

    name: the clip. positions: (T, J, 3) float64, world metres, Z up, floor at z = 0, the root's
    mean horizontal position at the origin. fps: frames per second. joint_set: e.g. "coco17".
    subject_height_m: standing height of the subject the motion is scaled to.
    Use `at(frames)` for poses at fractional or out-of-range frame numbers (time offsets).
    """

    name: str
    positions: np.ndarray
    fps: float
    joint_set: str
    subject_height_m: float
    _dense: _DenseClip = field(repr=False, compare=False)
    _marker_index: np.ndarray = field(repr=False, compare=False)
    _scale: float = field(repr=False, compare=False)
    _shift: np.ndarray = field(repr=False, compare=False)
    _start_s: float = field(repr=False, compare=False)
    _turn_rad_per_s: float = field(repr=False, compare=False, default=0.0)

    @property
    def num_frames(self) -> int:
        return len(self.positions)

    def at(self, frames: np.ndarray) -> np.ndarray:
        """Joint positions (..., J, 3) world metres at frame numbers (...,) of this clip's timeline;
        fractional and negative frames, or frames past the end, continue the motion."""
        times = self._start_s + np.asarray(frames, dtype=np.float64) / self.fps
        markers = _turned(self._dense, times, self._turn_rad_per_s)[..., self._marker_index, :]
        return markers * self._scale + self._shift


def _turned(dense: _DenseClip, times: np.ndarray, turn_rad_per_s: float) -> np.ndarray:
    """Markers (..., M, 3) at `times` (...,) s with the motion's heading turned at a constant rate:
    the body turns about the vertical through its root by turn * t, and the root's velocity turns
    with it, so a straight walk becomes a walk around a circle of radius speed / turn. The root's
    path is integrated on a grid anchored at t = 0, so any query gives the same motion."""
    markers = dense.sample(times)
    if turn_rad_per_s == 0:
        return markers
    t = np.asarray(times, dtype=np.float64)
    k0 = int(np.floor(min(t.min(), 0.0) * DENSE_FPS)) - 1
    k1 = int(np.ceil(max(t.max(), 0.0) * DENSE_FPS)) + 1
    grid = np.arange(k0, k1 + 1) / DENSE_FPS
    pelvis = MARKERS.index("pelvis")
    root = dense.sample(grid)[:, pelvis, :2]
    mid = turn_rad_per_s * (grid[1:] + grid[:-1]) / 2
    step = np.diff(root, axis=0)
    c, s = np.cos(mid), np.sin(mid)
    turned = np.stack([c * step[:, 0] - s * step[:, 1], s * step[:, 0] + c * step[:, 1]], -1)
    path = np.concatenate([np.zeros((1, 2)), np.cumsum(turned, axis=0)])
    path += root[-k0] - path[-k0]  # path(0) = root(0)
    query_root = markers[..., pelvis, :2]
    query_path = np.stack([np.interp(t, grid, path[:, i]) for i in range(2)], axis=-1)
    angle = turn_rad_per_s * t
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    rel = markers[..., :2] - query_root[..., None, :]
    xy = np.stack([c * rel[..., 0] - s * rel[..., 1], s * rel[..., 0] + c * rel[..., 1]], -1)
    return np.concatenate([xy + query_path[..., None, :], markers[..., 2:]], axis=-1)


def load_clip(name: str, joint_set: str = "coco17", fps: float | None = None,
              subject_height_m: float | None = None, num_frames: int | None = None,
              start_s: float = 0.0, turn_deg_per_s: float = 0.0) -> MocapClip:
    """A real mocap clip as joint positions in the world frame.

    name: one of CLIP_NAMES. joint_set: a built-in joint set name. fps: frame rate of the result
        (default 30). subject_height_m: rescale the motion to a subject this tall (standing, sole to
        head top); default the DeepMimic humanoid's own 1.62 m.
    num_frames: T; default one play of the clip at `fps`. Longer clips loop (walking on) or
        ping-pong (one-shot clips). start_s: where in the clip frame 0 falls, seconds.
    turn_deg_per_s: turn the motion's heading at this rate (counter-clockwise seen from above),
        so a long walk circles instead of leaving the capture volume (the walk, about 1 m/s, at
        40 deg/s circles with a radius of about 1.4 m). Feet slide slightly as a result.
    The embedded clips (EMBEDDED_CLIPS) need no download; the others come from the pybullet wheel
    once (about 100 MB from PyPI) and are cached.
    """
    fps = 30.0 if fps is None else float(fps)
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"fps must be positive, got {fps}")
    if subject_height_m is not None and not (0.3 <= subject_height_m <= 3.0):
        raise InputError(f"subject height must lie in 0.3..3 m, got {subject_height_m}")
    dense = _dense_clip(str(name))
    if num_frames is None:
        num_frames = int(np.floor(dense.duration * fps)) + 1
    if int(num_frames) < 1:
        raise InputError(f"number of frames must be at least 1, got {num_frames}")
    skel = get_joint_set(joint_set)
    index = np.array([MARKERS.index(m) for m in joint_marker_names(skel.name)])
    native = NATIVE_HEIGHT_M
    scale = 1.0 if subject_height_m is None else float(subject_height_m) / native
    times = float(start_s) + np.arange(int(num_frames)) / fps
    turn = np.deg2rad(float(turn_deg_per_s))
    markers = _turned(dense, times, turn) * scale
    root = markers[:, MARKERS.index("pelvis"), :2].mean(axis=0)
    shift = np.array([-root[0], -root[1], 0.0])
    positions = markers[:, index] + shift
    return MocapClip(dense.name, positions, fps, skel.name, native * scale, dense, index, scale,
                     shift, float(start_s), turn)
