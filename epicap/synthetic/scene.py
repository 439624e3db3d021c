"""A synthetic scene: known 3D motion seen by known cameras, as a detector would report it.

The 2D of camera c at frame k is the projection of the motion at time k + offset_c (frames),
plus, in this order: a constant per-(camera, joint) bias of `bias_px` in a random direction (a
detector's view-dependent bias), Gaussian noise of `noise_px` per coordinate, and for a fraction of
the joints an outlier (the clean point moved by `outlier_px`, a random direction). Joints behind a
camera, outside its image (or beyond the radius where its lens model folds back, see
`lens_valid`), randomly dropped (`missing_fraction`) or in frames where the camera
lost the subject are missing (NaN, confidence 0). Confidences mimic a detector: 0.75-1 for good
joints, 0.05-0.5 for outliers (overlapping neither: thresholds do not separate them perfectly).

Each kind of randomness draws from its own seeded stream, so e.g. adding outliers leaves the
noise of the other joints unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from epicap.errors import InputError
from epicap.geometry.camera import project_points, radial_fold
from epicap.session.cameras import Cameras
from epicap.session.keypoints2d import Keypoints2D
from epicap.session.poses3d import Poses3D
from epicap.synthetic.mocap import MocapClip

__all__ = ["SceneOptions", "SyntheticScene", "make_scene", "lens_valid"]

_STREAMS = ("noise", "bias", "outlier", "missing", "lose", "confidence")


@dataclass(frozen=True)
class SceneOptions:
    """How the 2D is corrupted. Pixels are those of each camera's image.

    noise_px: standard deviation of Gaussian noise per coordinate.
    outlier_fraction: fraction of the joints in view replaced by outliers, at a distance drawn
        uniformly from `outlier_px` = (min, max) pixels from the clean point.
    missing_fraction: fraction of the joints in view dropped at random.
    bias_px: every (camera, joint) gets a fixed offset of this length in a random direction.
    lose_subject: camera name -> (start, stop) frames (half-open) in which it loses the subject.
    lose_fraction: each camera also loses the subject for this fraction of the frames, in one
        block at a random place.
    offsets_frames: per camera, a time offset in frames (fractional allowed): its 2D at frame k
        shows the motion at time k + offset. None: all zero.
    min_confidence: joints whose confidence falls below this are reported missing.
    seed: seeds every random draw.
    """

    noise_px: float = 1.0
    outlier_fraction: float = 0.0
    outlier_px: tuple[float, float] = (20.0, 200.0)
    missing_fraction: float = 0.0
    bias_px: float = 0.0
    lose_subject: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    lose_fraction: float = 0.0
    offsets_frames: Sequence[float] | None = None
    min_confidence: float = 0.0
    seed: int = 0

    def check(self, num_cameras: int, camera_names: Sequence[str]) -> None:
        """InputError for options out of range or not matching the rig."""
        for name in ("noise_px", "bias_px"):
            if not getattr(self, name) >= 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("outlier_fraction", "missing_fraction", "lose_fraction", "min_confidence"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        lo, hi = self.outlier_px
        if not 0 <= lo <= hi:
            raise InputError(f"outlier_px must be (min, max) with 0 <= min <= max, got "
                             f"{self.outlier_px}")
        if self.offsets_frames is not None and len(self.offsets_frames) != num_cameras:
            raise InputError(f"{len(self.offsets_frames)} time offsets given for {num_cameras} "
                             "cameras")
        for name, span in self.lose_subject.items():
            if name not in camera_names:
                raise InputError(f"lose_subject names camera {name!r}, not in the rig "
                                 f"({', '.join(camera_names)})")
            if len(span) != 2 or span[0] > span[1]:
                raise InputError(f"lose_subject[{name!r}] must be (start, stop), got {span}")


@dataclass
class SyntheticScene:
    """A synthetic session with its truth.

    keypoints: what a detector would report (the session's `keypoints2d.npz`).
    cameras: the true cameras. poses3d: (T, J, 3) true joints, world metres, on the common
        timeline (offset 0). points2d_clean: (C, T, J, 2) true projections of what each camera
        sees (with its time offset), before bias, noise and outliers; NaN behind a camera.
    in_view: (C, T, J) the clean point is in front of the camera and inside its image.
    lost: (C, T) frames in which the camera lost the subject. outlier: (C, T, J) reported joints
        that are outliers. missing: (C, T, J) joints reported missing (for any reason).
    bias: (C, J, 2) the constant bias added per camera and joint, pixels.
    offsets_frames: (C,) time offsets. clip, options: what the scene was made from.
    """

    keypoints: Keypoints2D
    cameras: Cameras
    poses3d: np.ndarray
    points2d_clean: np.ndarray
    in_view: np.ndarray
    lost: np.ndarray
    outlier: np.ndarray
    missing: np.ndarray
    bias: np.ndarray
    offsets_frames: np.ndarray
    clip: MocapClip
    options: SceneOptions

    @property
    def fps(self) -> float:
        return self.keypoints.fps

    def truth_poses(self) -> Poses3D:
        """The true 3D as a `Poses3D` (seen by every camera, reprojection error 0)."""
        T, J, _ = self.poses3d.shape
        return Poses3D(self.poses3d.astype(np.float32), np.zeros((T, J), np.float32),
                       np.full((T, J), len(self.cameras), np.uint8), self.clip.joint_set,
                       self.fps, None)


def make_scene(clip: MocapClip, cameras: Cameras,
               options: SceneOptions = SceneOptions()) -> SyntheticScene:
    """Project `clip` into `cameras` and corrupt the 2D as `options` asks (see the module doc).

    clip: T frames of J joints (`load_clip`). cameras: C cameras with extrinsics (`ring_rig`).
    Returns the scene: keypoints (C, T, J, 3) plus every piece of truth.
    """
    if not cameras.has_extrinsics:
        raise InputError("make_scene needs cameras with rotation and translation")
    C, T, J = len(cameras), clip.num_frames, clip.positions.shape[1]
    options.check(C, cameras.names)
    rng = dict(zip(_STREAMS, (np.random.default_rng(s) for s in
                              np.random.SeedSequence(options.seed).spawn(len(_STREAMS)))))
    offsets = (np.zeros(C) if options.offsets_frames is None
               else np.asarray(options.offsets_frames, dtype=np.float64))
    if not np.isfinite(offsets).all():
        raise InputError(f"time offsets must be finite, got {offsets.tolist()}")

    frames = np.arange(T)
    seen = np.stack([clip.positions if off == 0 else clip.at(frames + off) for off in offsets])
    clean, _ = project_points(seen.reshape(C, T * J, 3), cameras.K, cameras.R, cameras.t,
                              cameras.dist)
    clean = clean.reshape(C, T, J, 2)
    size = cameras.image_size[:, None, None, :].astype(np.float64)
    with np.errstate(invalid="ignore"):
        in_view = (np.isfinite(clean).all(-1) & (clean >= -0.5).all(-1)
                   & (clean <= size - 0.5).all(-1))
    in_view &= lens_valid(seen.reshape(C, T * J, 3), cameras).reshape(C, T, J)

    lost = _lost_frames(options, cameras.names, T, rng["lose"])
    bias = options.bias_px * _unit_vectors(rng["bias"], (C, J))
    noisy = clean + bias[:, None] + rng["noise"].normal(scale=options.noise_px, size=(C, T, J, 2))
    is_outlier = rng["outlier"].random((C, T, J)) < options.outlier_fraction
    lo, hi = options.outlier_px
    jump = rng["outlier"].uniform(lo, hi, (C, T, J, 1)) * _unit_vectors(rng["outlier"], (C, T, J))
    noisy = np.where(is_outlier[..., None], clean + jump, noisy)
    dropped = rng["missing"].random((C, T, J)) < options.missing_fraction

    confidence = np.where(is_outlier, rng["confidence"].uniform(0.05, 0.5, (C, T, J)),
                          rng["confidence"].uniform(0.75, 1.0, (C, T, J)))
    missing = ~in_view | lost[..., None] | dropped | (confidence < options.min_confidence)
    keypoints = np.concatenate([noisy, confidence[..., None]], axis=-1)
    keypoints[missing] = (np.nan, np.nan, 0.0)
    kp = Keypoints2D(keypoints.astype(np.float32), cameras.names, clip.joint_set,
                     cameras.image_size, clip.fps)
    return SyntheticScene(kp, cameras, clip.positions.copy(), clean, in_view, lost,
                          is_outlier & ~missing, missing, bias, offsets, clip, options)


def lens_valid(points_world: np.ndarray, cameras: Cameras) -> np.ndarray:
    """(C, N) bool: the points lie where each camera's radial distortion still maps them outward.

    points_world: (N, 3) or (C, N, 3) world metres. Points beyond the undistorted radius where
    the radial model stops growing (`geometry.camera.radial_fold`) fold back into the image,
    where no real lens shows them. False for points behind a camera or NaN; True everywhere in
    front for a lens without such a fold.
    """
    X = np.asarray(points_world, dtype=np.float64)
    C = len(cameras)
    if X.ndim == 2:
        X = np.broadcast_to(X, (C,) + X.shape)
    x_cam = np.einsum("cij,cnj->cni", cameras.R, X) + cameras.t[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.hypot(x_cam[..., 0], x_cam[..., 1]) / x_cam[..., 2]
    fold = radial_fold(cameras.dist)[0]                                        # (C,)
    with np.errstate(invalid="ignore"):
        return (x_cam[..., 2] > 0) & (r < fold[:, None])


def _unit_vectors(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random 2D directions, uniform on the circle: shape + (2,)."""
    angle = rng.uniform(0.0, 2 * np.pi, shape)
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def _lost_frames(options: SceneOptions, names: Sequence[str], T: int,
                 rng: np.random.Generator) -> np.ndarray:
    """(C, T) bool: frames in which each camera has lost the subject."""
    lost = np.zeros((len(names), T), dtype=bool)
    span = int(round(options.lose_fraction * T))
    for c, name in enumerate(names):
        if span > 0:
            start = int(rng.integers(0, T - span + 1))
            lost[c, start:start + span] = True
        if name in options.lose_subject:
            start, stop = options.lose_subject[name]
            lost[c, max(0, int(start)):max(0, int(stop))] = True
    return lost
