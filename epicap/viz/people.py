"""Several people in the pictures: one colour per person, their ids drawn beside them.

Person p gets `person_rgb(p)` from a fixed palette chosen away from the frusta's purple, the
overlay's magenta error segments and white reprojections. Within a person the sides stay apart
as in the one-person pictures: left joints and bones a lighter shade of the person's colour,
right ones a darker shade, central ones the colour itself (`person_side_colors`).

A one-person session keeps the one-person pictures exactly (left blue, right orange): everything
here is only used when poses or keypoints carry `people`.
"""
from __future__ import annotations

import numpy as np

from epicap.errors import InputError
from epicap.joint_sets import JointSet
from epicap.session import Keypoints2D, Poses3D

__all__ = ["PERSON_RGB", "person_rgb", "person_side_colors", "person_bone_colors",
           "PeopleSkeleton", "make_skeleton", "label_anchor", "draw_person_ids",
           "draw_people_overlay", "check_same_people", "LIGHTER", "DARKER"]

PERSON_RGB = (
    (0.85, 0.12, 0.12),  # red
    (0.10, 0.60, 0.20),  # green
    (0.10, 0.35, 0.90),  # blue
    (0.90, 0.60, 0.00),  # amber
    (0.00, 0.62, 0.66),  # teal
    (0.55, 0.33, 0.12),  # brown
    (0.45, 0.45, 0.00),  # olive
    (0.35, 0.35, 0.35),  # grey
)
LIGHTER = 0.45  # left side: this far from the person's colour towards white
DARKER = 0.55   # right side: the person's colour times this


def person_rgb(p: int) -> np.ndarray:
    """(3,) RGB in [0, 1] of person slot p (the palette repeats after 8 people)."""
    return np.asarray(PERSON_RGB[int(p) % len(PERSON_RGB)], dtype=np.float64)


def _shades(p: int) -> dict[int, np.ndarray]:
    base = person_rgb(p)
    return {-1: base + LIGHTER * (1.0 - base), 1: DARKER * base, 0: base}


def person_side_colors(skeleton: JointSet, p: int) -> np.ndarray:
    """(J, 3) RGB per joint of person p: left lighter, right darker, central the person's colour."""
    table = _shades(p)
    return np.array([table[int(s)] for s in skeleton.side], dtype=np.float64)


def person_bone_colors(skeleton: JointSet, p: int) -> np.ndarray:
    """(B, 3) RGB per bone of person p, sided as `epicap.viz.scene.bone_colors`."""
    table = _shades(p)
    side = skeleton.side[skeleton.bone_index]
    left = (side == -1).any(axis=1) & ~(side == 1).any(axis=1)
    right = (side == 1).any(axis=1) & ~(side == -1).any(axis=1)
    out = np.tile(table[0], (len(side), 1))
    out[left], out[right] = table[-1], table[1]
    return out


class PeopleSkeleton:
    """Every person's skeleton (one `epicap.viz.scene.Skeleton` each, in the person's colours),
    moved together frame by frame; the same interface as one Skeleton (frame, num_frames,
    set_frame, geometries), so scenes and the viewer take either.

    poses: a several-person Poses3D ((P, T, J, 3) with `people`).
    """

    def __init__(self, poses: Poses3D, line_width: float = 4.0, point_size: float = 9.0):
        from epicap.viz.scene import Skeleton

        if poses.people is None:
            raise InputError("PeopleSkeleton needs several-person poses (with people)")
        self.poses, self.people = poses, list(poses.people)
        skel = poses.skeleton
        self.skeletons = [
            Skeleton(poses.person(p), line_width, point_size,
                     joint_rgb=person_side_colors(skel, p), bone_rgb=person_bone_colors(skel, p),
                     suffix=f"_{p}") for p in range(len(self.people))]
        self.frame = -1
        self.set_frame(best_people_frame(poses))

    @property
    def num_frames(self) -> int:
        return self.poses.poses.shape[1]

    def set_frame(self, t: int) -> None:
        """Show frame t (clamped) of every person."""
        t = int(np.clip(t, 0, self.num_frames - 1))
        for s in self.skeletons:
            s.set_frame(t)
        self.frame = t

    def geometries(self):
        """Two geometries per person (bones, joints), names suffixed with the person's slot."""
        return [g for s in self.skeletons for g in s.geometries()]

    def anchors(self) -> np.ndarray:
        """(P, 3) world point above each person's head in the shown frame (NaN: not there)."""
        return label_anchor(self.poses.poses[:, self.frame])


def best_people_frame(poses: Poses3D) -> int:
    """The first frame with the most triangulated joints over all people."""
    valid = poses.valid.reshape(-1, *poses.valid.shape[-2:])
    return int(np.argmax(valid.sum(axis=(0, 2))))


def make_skeleton(poses: Poses3D, **kw):
    """One `Skeleton` for one person (today's side colours), a `PeopleSkeleton` for several."""
    from epicap.viz.scene import Skeleton

    return Skeleton(poses, **kw) if poses.people is None else PeopleSkeleton(poses, **kw)


def label_anchor(points: np.ndarray, lift: float = 0.15) -> np.ndarray:
    """(..., 3) the point `lift` above the highest joint (world Z up, metres) of each (..., J, 3)
    skeleton, at the mean x, y of its joints; NaN where no joint is there."""
    ok = np.isfinite(points).all(axis=-1)
    any_ok = ok.any(axis=-1)
    safe = np.where(ok[..., None], points, 0.0)
    n = np.maximum(ok.sum(axis=-1), 1)[..., None]
    xy = safe[..., :2].sum(axis=-2) / n
    z = np.where(ok, points[..., 2], -np.inf).max(axis=-1) + lift
    out = np.concatenate([xy, z[..., None]], axis=-1)
    out[~any_ok] = np.nan
    return out


def draw_person_ids(rgb: np.ndarray, view, skeleton) -> None:
    """Write each person's id above their head in the picture `rgb` (in place), in their colour.

    view: the `ViewCamera` the picture was taken through. skeleton: what the scene shows; a
    one-person `Skeleton` draws nothing.
    """
    from epicap.viz.media import put_label

    if not isinstance(skeleton, PeopleSkeleton):
        return
    scale = 0.5 * max(1.0, rgb.shape[0] / 640)
    for p, (pid, uv) in enumerate(zip(skeleton.people, view.project(skeleton.anchors()))):
        put_label(rgb, pid, uv + (-6 * len(pid) * scale, 0), 255 * person_rgb(p), scale)


def draw_people_overlay(image: np.ndarray, detected: np.ndarray, reprojected, skeleton: JointSet,
                        people: list[str] | None) -> np.ndarray:
    """One frame's overlay of one camera for one or several people.

    detected: (J, 2+) or (P, J, 2+) pixels (NaN where missing). reprojected: the same shapes
    with 2 columns, or None. people: None for one person (drawn as `draw_overlay` always did),
    else P ids: person p's detections in their colours (left lighter, right darker), the
    reprojections white, and the id written above the person's highest detected joint.
    """
    from epicap.viz.media import put_label
    from epicap.viz.overlay import draw_overlay

    if people is None:
        return draw_overlay(image, detected, reprojected, skeleton)
    out = image
    scale = 0.5 * max(1.0, max(image.shape[:2]) / 640)
    for p in range(len(people)):
        rep = None if reprojected is None else reprojected[p]
        out = draw_overlay(out, detected[p], rep, skeleton, person_side_colors(skeleton, p),
                           person_bone_colors(skeleton, p))
    for p, pid in enumerate(people):
        det = np.asarray(detected[p], np.float64)[:, :2]
        pts = det if np.isfinite(det).any() or reprojected is None else reprojected[p]
        ok = np.isfinite(pts).all(axis=-1)
        if ok.any():
            top = pts[ok][np.argmin(pts[ok, 1])]
            put_label(out, pid, top + (-8 * scale * len(pid), -14 * scale), 255 * person_rgb(p),
                      scale)
    return out


def check_same_people(keypoints: Keypoints2D, poses: Poses3D, where: str = "") -> None:
    """InputError unless keypoints2d.npz and poses3d.npz hold the same people in the same order."""
    if keypoints.people != poses.people:
        describe = lambda ids: "one person" if ids is None else ", ".join(ids)  # noqa: E731
        raise InputError(f"{where}keypoints2d.npz holds {describe(keypoints.people)} but "
                         f"poses3d.npz {describe(poses.people)}: triangulate again")
