"""The report's section on several people: a table per person and a timeline of who is seen.

- Table, one row per person: frames triangulated (at least one joint; count and share of the
  session), the median number of views per triangulated joint, the median reprojection error
  (the triangulation's mean over the views used) and the height in metres
  (`epicap.calibration_free.world.person_height`: the head above the floor where the person
  stands upright, else arm and leg segments over their shares of height).
- Timeline (a PNG): one strip per camera and one for the 3D, people in rows and frames in
  columns; a cell is the person's colour, as strong as the share of the person's joints detected
  there (triangulated, for the 3D strip), white where the person is not seen at all.

A one-person session has no such section (the report stays as it was).
"""
from __future__ import annotations

import warnings

import numpy as np

from epicap.session import Keypoints2D, Poses3D

__all__ = ["people_rows", "PEOPLE_HEADERS", "presence", "timeline_png"]

PEOPLE_HEADERS = ["person", "frames triangulated", "share of frames", "median views",
                  "median reprojection error (px)", "height (m)"]


def people_rows(poses: Poses3D) -> list[list]:
    """One row per person of PEOPLE_HEADERS: id, frames with a triangulated joint, their share
    of all frames, median views and reprojection error over triangulated joints, height (m)."""
    from epicap.calibration_free.world import person_height

    rows = []
    for p, pid in enumerate(poses.people or ["subject"]):
        one = poses.person(p)
        valid = one.valid  # (T, J)
        frames = int(valid.any(axis=1).sum())
        views = one.views[valid]
        err = one.reprojection_error[valid]
        err = err[np.isfinite(err)]
        height = person_height(one.poses.astype(np.float64), one.skeleton)[0] if frames else None
        rows.append([pid, frames, f"{frames / max(valid.shape[0], 1):.1%}",
                     float(np.median(views)) if views.size else None,
                     float(np.median(err)) if err.size else None,
                     height if height is None or np.isfinite(height) else None])
    return rows


def presence(poses: Poses3D, keypoints: Keypoints2D | None) -> tuple[np.ndarray, list[str]]:
    """(S, P, T) share of each person's joints seen per strip and frame, and the S strip names:
    one per camera of `keypoints` (detected, confidence > 0), then "3D" (triangulated).
    Frames: the first min(T_2d, T_3d)."""
    P, T = poses.num_people, poses.poses.shape[-3]
    valid = poses.valid.reshape(P, T, -1)
    strips, names = [], []
    if keypoints is not None:
        T = min(T, keypoints.num_frames)
        conf = keypoints.confidence.reshape(len(keypoints.cameras), keypoints.num_frames, P, -1)
        strips.append(np.moveaxis((conf[:, :T] > 0).mean(axis=-1), 1, 2))  # (C, P, T)
        names += list(keypoints.cameras)
    strips.append(valid[None, :, :T].mean(axis=-1))
    names.append("3D")
    return np.concatenate(strips, axis=0), names


def timeline_png(share: np.ndarray, strips: list[str], people: list[str], fps: float) -> bytes:
    """Who is seen by which camera over time: `share` (S, P, T) in [0, 1] from `presence`, one
    strip per name in `strips`, people's ids on the rows, time (s) along the bottom."""
    from epicap.viz.people import person_rgb
    from epicap.viz.plots import _figure, _png

    S, P, T = share.shape
    fig, axes = _figure(8.0, 0.9 + S * (0.25 + 0.22 * P), nrows=S, squeeze=False, sharex=True)
    colour = np.stack([person_rgb(p) for p in range(P)])  # (P, 3)
    for s, ax in enumerate(axes[:, 0]):
        a = np.clip(np.nan_to_num(share[s]), 0, 1)[..., None]  # (P, T, 1)
        img = 1.0 - a * (1.0 - colour[:, None, :])  # white -> the person's colour
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ax.imshow(img, aspect="auto", interpolation="nearest",
                      extent=(0, T / fps, P - 0.5, -0.5))
        ax.set_yticks(np.arange(P), people, fontsize=7)
        ax.set_ylabel(strips[s], rotation=0, ha="right", va="center", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    axes[0, 0].set_title("Who is seen: detected joints per camera, triangulated joints (3D)")
    return _png(fig)
