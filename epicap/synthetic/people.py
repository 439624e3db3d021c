"""Synthetic multi-person scenes: several real mocap people in one room, seen by a camera rig.

The people (PeopleOptions): person 0, the main subject, walks a circle round the middle of the room
the whole time; the other walkers circle on rings further out (alternately the other way round, so
they pass each other and hide each other from the cameras); with 3 people or more the last one is
a bystander standing still at the back and the one before enters the room a quarter of the way in
and leaves at three quarters. Each person has their own height and their own gait: every walker
but person 0 takes steps at their own cadence (`cadence_spread`) and starts at their own phase of
the gait cycle. The walk clip is one gait cycle (1.27 s) played in a loop; people who all play it
at one cadence and nearly one phase walk in lockstep, which no group of people does, and a camera
shifted by a whole cycle then sees everyone's limbs in the same poses: the offset search without
identities took such a shift for the right one on 2 of 8 random rigs.

What a camera reports: every joint of every person projected (camera c's frame k shows the motion
at time k + offset_c), hidden where another body is in front of it (each bone of a nearer person
is a capsule of `body_radius_m`; a joint is occluded when its pixel falls inside the projection of
a nearer capsule), outside the image, behind the camera or beyond the radius where its lens
model folds back into the image (`scene.lens_valid`: no real lens shows those); Gaussian noise;
a person whose visible joints number fewer than `min_joints` is not detected at all. A fraction
`swap_fraction` of the detected persons in a camera-frame have left and right exchanged (a
detector's typical failure).
The detections then go into S = P slots in an order shuffled per camera-frame, as a detector
reports them (`detections`, (C, T, S, J, 3)), with the true slot -> person map beside them.

Each kind of randomness draws from its own seeded stream.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from epicap.errors import InputError
from epicap.geometry.camera import project_points
from epicap.joint_sets import get_joint_set
from epicap.session.cameras import Cameras
from epicap.session.keypoints2d import Keypoints2D
from epicap.session.poses3d import Poses3D
from epicap.synthetic.mocap import load_clip
from epicap.synthetic.scene import lens_valid

__all__ = ["PeopleOptions", "PeopleScene", "make_people_scene", "person_ids"]

_STREAMS = ("noise", "swap", "shuffle", "confidence", "height", "gait")
WALK_SPEED_M_S = 1.0  # about the walk clip's speed: a ring of radius r needs a turn of speed / r
WALK_CYCLE_S = 1.266616  # the walk clip: one gait cycle, looped


def person_ids(num_people: int) -> list[str]:
    """The ids p0, p1, ... of `num_people` people."""
    return [f"p{p}" for p in range(num_people)]


@dataclass(frozen=True)
class PeopleOptions:
    """Who is in the room and how the cameras report them.

    num_people: P, 1 to 6. main_height_m: person 0's standing height; the others are drawn in
        1.55-1.90 m. ring_step_m: walker p circles at radius (p + 1) * ring_step_m about the room's
        centre (the world origin, floor z = 0); the bystander stands just beyond the last ring.
    bystander, enter_leave: with P >= 3, the last person stands still at the back and the one
        before is only in the room over the middle half of the frames.
    noise_px: Gaussian noise per coordinate. swap_fraction: fraction of detected persons per
        camera-frame whose left and right joints are exchanged. body_radius_m: capsule radius of a
        bone for occlusion. min_joints: fewer visible joints and the person is not detected.
    offsets_frames: per-camera time offsets (frames, fractions allowed); None: all zero.
    cadence_spread: the walkers other than person 0 step at a cadence drawn in 1 -/+ this share
        of person 0's (their speed along their ring changes with it), from a phase of the gait
        cycle drawn uniformly; 0 with `lockstep` keeps every walker at person 0's cadence.
        Adults' comfortable walking cadences spread by about that much (roughly 100-120 steps a
        minute).
    lockstep: every walker plays the walk at one cadence, each 1.3 s (about one cycle) further
        on: the scenes before the gaits were drawn (kept to reproduce measurements made then).
    """

    num_people: int = 4
    fps: float = 30.0
    joint_set: str = "coco17"
    main_height_m: float = 1.70
    ring_step_m: float = 0.6
    bystander: bool = True
    enter_leave: bool = True
    noise_px: float = 2.0
    swap_fraction: float = 0.02
    body_radius_m: float = 0.1
    min_joints: int = 4
    offsets_frames: Sequence[float] | None = None
    seed: int = 0
    cadence_spread: float = 0.1
    lockstep: bool = False

    def check(self, num_cameras: int) -> None:
        """InputError for options out of range or not matching the rig."""
        if not 1 <= int(self.num_people) <= 6:
            raise InputError(f"a synthetic scene holds 1 to 6 people, got {self.num_people}")
        for name in ("noise_px", "body_radius_m"):
            if not getattr(self, name) >= 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.swap_fraction <= 1:
            raise InputError(f"swap_fraction must lie in [0, 1], got {self.swap_fraction}")
        if not 0 <= self.cadence_spread < 1:
            raise InputError(f"cadence_spread must lie in [0, 1), got {self.cadence_spread}")
        if not self.ring_step_m > 0:
            raise InputError(f"ring_step_m must be positive, got {self.ring_step_m}")
        if self.offsets_frames is not None:
            if len(self.offsets_frames) != num_cameras:
                raise InputError(f"{len(self.offsets_frames)} time offsets given for "
                                 f"{num_cameras} cameras")
            if not np.isfinite(np.asarray(self.offsets_frames, dtype=float)).all():
                raise InputError(f"time offsets must be finite, got {self.offsets_frames}")


@dataclass
class PeopleScene:
    """A synthetic multi-person scene with its truth.

    cameras: the true cameras (C). poses3d: (P, T, J, 3) true joints, world metres, on the common
        timeline; NaN while a person is out of the room. heights_m: (P,) standing heights.
    keypoints: what a perfect matcher would give, `Keypoints2D` (C, T, P, J, 3) in person order
        (swaps and noise included; (C, T, J, 3) for one person).
    points2d_clean: (C, T, P, J, 2) true projections (with time offsets), NaN behind a camera.
    visible: (C, T, P, J) the joint is reported. occluded: (C, T, P, J) hidden by another body.
    swapped: (C, T, P) left/right exchanged in that camera-frame. present: (P, T) in the room.
    detections: (C, T, S, J, 3) the raw detector slots (S = P), empty slots (NaN, NaN, 0).
    slot_person: (C, T, S) int32 the true person of each slot, -1 for an empty slot.
    offsets_frames: (C,). options: what the scene was made from.
    cadences: (P,) each walker's cadence over person 0's (1 for the bystander's frozen pose too).
    """

    cameras: Cameras
    poses3d: np.ndarray
    heights_m: np.ndarray
    keypoints: Keypoints2D
    points2d_clean: np.ndarray
    visible: np.ndarray
    occluded: np.ndarray
    swapped: np.ndarray
    present: np.ndarray
    detections: np.ndarray
    slot_person: np.ndarray
    offsets_frames: np.ndarray
    options: PeopleOptions
    cadences: np.ndarray | None = None

    @property
    def people(self) -> list[str]:
        return person_ids(len(self.heights_m))

    def truth_poses(self) -> Poses3D:
        """The true 3D as a `Poses3D` ((P, T, J, 3) with `people`; single shapes for one)."""
        P, T, J, _ = self.poses3d.shape
        views = np.where(np.isfinite(self.poses3d[..., 0]), len(self.cameras), 0)
        singles = [Poses3D(self.poses3d[p].astype(np.float32), np.zeros((T, J), np.float32),
                           views[p], self.options.joint_set, self.options.fps)
                   for p in range(P)]
        return Poses3D.stack(singles, self.people)


class _Person:
    """One person's motion: joints (..., J, 3) world metres at any (fractional) frame numbers."""

    def __init__(self, p: int, opts: PeopleOptions, height_m: float, T: int,
                 cadence: float = 1.0, start_s: float | None = None):
        P = int(opts.num_people)
        self.static = opts.bystander and P >= 3 and p == P - 1
        self.span = ((T // 4, T - T // 4) if opts.enter_leave and P >= 3 and p == P - 2
                     else (-np.inf, np.inf))
        radius = (p + 1) * opts.ring_step_m
        # the turn is per second of the clip: at any cadence the walker keeps to the ring
        turn = np.rad2deg(WALK_SPEED_M_S / radius) * (1 if p % 2 == 0 else -1)
        clip_fps = opts.fps / cadence  # a frame of the scene advances the clip by cadence / fps
        full_circle = int(np.ceil(clip_fps * 360.0 / abs(turn))) + 1
        # centred over a whole circle, so the circle's centre is the world origin
        self.clip = load_clip("walk", opts.joint_set, clip_fps, height_m, full_circle,
                              start_s=1.3 * p if start_s is None else start_s,
                              turn_deg_per_s=turn)
        angle = 2 * np.pi * p / max(P, 1)
        self.spot = ((P - 1) * opts.ring_step_m + 0.6) * np.array([np.cos(angle), np.sin(angle)])

    def at(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, dtype=np.float64)
        if not self.static:
            return self.clip.at(frames)
        pose = self.clip.at(np.zeros(1))[0]
        pose = pose - np.r_[pose[:, :2].mean(axis=0), 0.0] + np.r_[self.spot, 0.0]
        return np.broadcast_to(pose, frames.shape + pose.shape).copy()

    def present(self, frames: np.ndarray) -> np.ndarray:
        return (frames >= self.span[0]) & (frames < self.span[1])


def make_people_scene(cameras: Cameras, num_frames: int,
                      options: PeopleOptions = PeopleOptions()) -> PeopleScene:
    """Several people walking round each other in view of `cameras` (see the module doc).

    cameras: C cameras with extrinsics (`ring_rig`; a radius of 5-6 m keeps everyone inside).
    num_frames: T. Returns the scene with detections (C, T, P, J, 3) and all the truth.
    """
    if not cameras.has_extrinsics:
        raise InputError("make_people_scene needs cameras with rotation and translation")
    C, T, P = len(cameras), int(num_frames), int(options.num_people)
    if T < 1:
        raise InputError(f"number of frames must be at least 1, got {num_frames}")
    options.check(C)
    skel = get_joint_set(options.joint_set)
    J = len(skel)
    rng = dict(zip(_STREAMS, (np.random.default_rng(s) for s in
                              np.random.SeedSequence(options.seed).spawn(len(_STREAMS)))))
    heights = np.r_[options.main_height_m, rng["height"].uniform(1.55, 1.90, P - 1)]
    if options.lockstep:
        gaits = [(1.0, None)] * P
    else:
        spread = float(options.cadence_spread)
        cadence = np.r_[1.0, rng["gait"].uniform(1 - spread, 1 + spread, P - 1)]
        phase = np.r_[0.0, rng["gait"].uniform(0.0, 1.0, P - 1)]
        gaits = list(zip(cadence, phase * WALK_CYCLE_S))
    persons = [_Person(p, options, heights[p], T, *gaits[p]) for p in range(P)]
    offsets = (np.zeros(C) if options.offsets_frames is None
               else np.asarray(options.offsets_frames, dtype=np.float64))

    frames = np.arange(T, dtype=np.float64)
    truth = np.stack([np.where(m.present(frames)[:, None, None], m.at(frames), np.nan)
                      for m in persons])                                      # (P, T, J, 3)
    seen_at = frames[None, :] + offsets[:, None]                              # (C, T)
    seen = np.stack([m.at(seen_at) for m in persons], axis=2)                 # (C, T, P, J, 3)
    present = np.stack([m.present(seen_at) for m in persons], axis=2)         # (C, T, P)
    clean, depth = project_points(seen.reshape(C, -1, 3), cameras.K, cameras.R, cameras.t,
                                  cameras.dist)
    clean, depth = clean.reshape(C, T, P, J, 2), depth.reshape(C, T, P, J)
    size = cameras.image_size[:, None, None, None, :].astype(np.float64)
    with np.errstate(invalid="ignore"):
        in_view = (np.isfinite(clean).all(-1) & (clean >= -0.5).all(-1)
                   & (clean <= size - 0.5).all(-1) & present[..., None])
    in_view &= lens_valid(seen.reshape(C, -1, 3), cameras).reshape(in_view.shape)
    occluded = _occluded(clean, depth, present, cameras.K[:, 0, 0], skel.bone_index,
                         options.body_radius_m)
    visible = in_view & ~occluded
    detected = visible.sum(-1) >= options.min_joints                          # (C, T, P)
    visible &= detected[..., None]

    noisy = clean + rng["noise"].normal(scale=options.noise_px, size=clean.shape)
    conf = rng["confidence"].uniform(0.6, 1.0, visible.shape)
    kp = np.concatenate([noisy, conf[..., None]], axis=-1)
    kp[~visible] = (np.nan, np.nan, 0.0)
    swapped = detected & (rng["swap"].random(detected.shape) < options.swap_fraction)
    kp = np.where(swapped[..., None, None], kp[..., skel.flip_index, :], kp)

    # shuffle the detected persons into slots, empty slots last
    keys = np.where(detected, rng["shuffle"].random(detected.shape), np.inf)
    order = np.argsort(keys, axis=-1, kind="stable")                          # slot -> person
    slot_person = np.where(np.take_along_axis(detected, order, -1), order, -1).astype(np.int32)
    detections = np.take_along_axis(kp, order[..., None, None], axis=2)
    detections[slot_person < 0] = (np.nan, np.nan, 0.0)

    singles = [Keypoints2D(kp[:, :, p].astype(np.float32), cameras.names, skel.name,
                           cameras.image_size, options.fps) for p in range(P)]
    keypoints = Keypoints2D.stack(singles, person_ids(P))
    return PeopleScene(cameras, truth, heights, keypoints, clean, visible, occluded & in_view,
                       swapped, np.stack([m.present(frames) for m in persons]),
                       detections.astype(np.float32), slot_person, offsets, options,
                       np.array([g[0] for g in gaits], np.float64))


def _occluded(pixels: np.ndarray, depth: np.ndarray, present: np.ndarray, focal_px: np.ndarray,
              bones: np.ndarray, radius_m: float) -> np.ndarray:
    """(C, T, P, J) bool: the joint's pixel lies inside the image of a bone capsule of another
    person that is nearer the camera (by more than one capsule radius).

    pixels: (C, T, P, J, 2); depth: (C, T, P, J) metres; present: (C, T, P); focal_px: (C,);
    bones: (B, 2) joint indices.
    """
    C, T, P, J, _ = pixels.shape
    hidden = np.zeros((C, T, P, J), dtype=bool)
    bone_depth = 0.5 * (depth[..., bones[:, 0]] + depth[..., bones[:, 1]])  # (C, T, P, B)
    radius_px = radius_m * focal_px[:, None, None, None] / bone_depth
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # someone out of view: NaN, as meant
        # candidate (c, t, p, q): q present, nearer than p somewhere, boxes overlapping
        reach = np.nanmax(radius_px, axis=-1, initial=0.0)                     # (C, T, P)
        lo = np.nanmin(pixels, axis=3) - reach[..., None]                      # (C, T, P, 2)
        hi = np.nanmax(pixels, axis=3) + reach[..., None]
        overlap = ((lo[:, :, :, None] <= hi[:, :, None]) & (hi[:, :, :, None] >= lo[:, :, None])
                   ).all(-1)
        nearer = np.nanmin(depth, -1)[:, :, None] < np.nanmax(depth, -1)[:, :, :, None] - radius_m
        candidate = (overlap & nearer & present[:, :, :, None] & present[:, :, None]
                     & ~np.eye(P, dtype=bool))
        c, t, p, q = np.nonzero(candidate)
        pts = pixels[c, t, p][:, :, None]                                      # (N, J, 1, 2)
        a, b = pixels[c, t, q][:, bones[:, 0]], pixels[c, t, q][:, bones[:, 1]]  # (N, B, 2)
        ab = (b - a)[:, None]
        s = ((pts - a[:, None]) * ab).sum(-1) / np.maximum((ab ** 2).sum(-1), 1e-9)
        closest = a[:, None] + np.clip(s, 0.0, 1.0)[..., None] * ab
        dist = np.sqrt(((pts - closest) ** 2).sum(-1))                         # (N, J, B)
        inside = ((dist < radius_px[c, t, q][:, None])
                  & (bone_depth[c, t, q][:, None] < depth[c, t, p][..., None] - radius_m))
        np.logical_or.at(hidden, (c, t, p), inside.any(-1))
    return hidden
