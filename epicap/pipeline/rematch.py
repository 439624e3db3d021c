"""People re-checked with the cameras: the step between calibration and triangulation.

Matching without cameras (`epicap.people.uncalibrated`, at detect/import time) decides who is who
from epipolar geometry estimated on the people themselves; a detector's per-frame mistakes slip
through it: a camera's left and right exchanged for a few frames, a view given to the wrong
person. Once the cameras are known, `rematch_keypoints` feeds the session's matched keypoints
(C, T, P, J, 3), each person as one detection slot, to `epicap.people.calibrated.match_calibrated`
(rays across views, 3D tracking over time, left/right swap tests) and writes back:

- views whose left and right were exchanged, exchanged back (counted per camera); a view kept
  in its slot that no found person took (too few joints in common with the other views) is
  tested against its own person's 3D of the neighbouring frames;
- views that the cameras give to another person of the file, moved to that person's slot; a
  view no found person took (its person seen by too few cameras for a moment) follows its
  camera slot's nearest view that one took, at most `CONTINUE_FRAMES` away, unless it lies off
  that person's 3D (one detector track keeps its person: a person handed from some cameras
  to others keeps one id);
- views that fit nobody and lie off their own person's 3D at that frame, or at the nearest
  frame at most `NEAR_FRAMES` away where that frame has none (median joint-to-ray distance over
  twice the matching's ray distance), dropped (NaN, 0).

Identities stay those of the file: each person found with the cameras takes the id of the file's
person whose views it holds most (Hungarian matching on the overlap; fragments of a person's track
join it). Cameras missing from the calibration are left as they are. With one person the file
keeps the single-person shapes.

The keypoints as they were before the re-check stay in `keypoints2d_unmatched.npz`, tied to the
rewritten keypoints2d.npz (`epicap.session.recheck`): later stages read the keypoints as they
were.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from epicap.session import Cameras, Keypoints2D
from epicap.session.recheck import UNMATCHED_FILE

__all__ = ["RematchSummary", "rematch_keypoints", "UNMATCHED_FILE"]

NEAR_FRAMES = 2  # a walker moves under 10 cm in 2 frames at 30 fps, against 30 cm allowed
CONTINUE_FRAMES = 5  # a view no found person took follows its camera slot's nearest one ...
STEP_M = 0.05  # ... unless it lies off that person's 3D by more, allowing this much a frame


@dataclass
class RematchSummary:
    """What the re-check with the cameras changed, per camera (names in `cameras`).

    swaps: views whose left/right were exchanged back. reassigned: views moved to another person.
    dropped: views that fit nobody (their person seen in 3D at that frame elsewhere). views: views
    (camera, frame, person with a joint) checked. people: P of the file. merged: {person id:
    the id that took its views, "" if none did} for the file's people none of whose views with
    enough joints the cameras kept for them (the matching without cameras had split one person
    in two); their views of a few joints were dropped with them, and they are left empty.
    """

    cameras: list[str]
    swaps: dict[str, int]
    reassigned: dict[str, int]
    dropped: dict[str, int]
    views: dict[str, int]
    people: int
    merged: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        """All views changed: swaps + reassigned + dropped."""
        return sum(self.swaps.values()) + sum(self.reassigned.values()) + \
            sum(self.dropped.values())

    def rows(self) -> list[tuple[str, object]]:
        """(name, value) rows for the triangulation table."""
        def per(d):
            return ", ".join(f"{c} {d[c]}" for c in self.cameras if d[c]) or "none"
        return [("left/right swaps fixed (views)", per(self.swaps)),
                ("views moved to another person", per(self.reassigned)),
                ("views dropped (fit nobody)", per(self.dropped))]

    def table(self) -> str:
        """The counts per camera as a text table."""
        from epicap.console import format_table

        rows = [(c, self.views[c], self.swaps[c], self.reassigned[c], self.dropped[c])
                for c in self.cameras]
        return format_table(rows, ["camera", "views", "left/right swaps fixed",
                                   "moved to another person", "dropped (fit nobody)"])

    def warnings(self) -> list[str]:
        """One line per camera with many fixes (over 5% of its views): the detector's fault;
        one per person left empty (`merged`)."""
        out = []
        for c in self.cameras:
            n = self.views[c]
            fixed = self.swaps[c] + self.reassigned[c] + self.dropped[c]
            if n and fixed > 0.05 * n:
                out.append(f"camera {c}: {fixed} of {n} views fixed with the cameras "
                           f"({self.swaps[c]} left/right swaps, {self.reassigned[c]} moved to "
                           f"another person, {self.dropped[c]} dropped)")
        out += [f"person {a}: the cameras gave every view of it to {b} (the matching without "
                f"cameras had split one person in two); {a} is left empty" if b else
                f"person {a}: none of its views fits the cameras' 3D of anyone; {a} is left empty"
                for a, b in self.merged.items()]
        return out


def rematch_keypoints(keypoints: Keypoints2D, cameras: Cameras, options=None
                      ) -> tuple[Keypoints2D, RematchSummary]:
    """(corrected keypoints, what changed): the file's people re-checked with the cameras.

    keypoints: (C, T, J, 3) or (C, T, P, J, 3) pixels and confidence; NaN, NaN, 0 where missing.
    cameras: a calibration with extrinsics (`cam_from_world`), matched to the keypoints' cameras
    by name; cameras it lacks are left as they are. options: `people.calibrated.MatchOptions`.
    Frames, people and their ids are kept; only views change (module doc).
    """
    from epicap.people.assignment import gather
    from epicap.people.attach import nearest_frames, swaps_over_time
    from epicap.people.calibrated import MatchOptions, match_calibrated, unswap

    options = MatchOptions() if options is None else options
    skel = keypoints.skeleton
    single = keypoints.people is None
    slots = keypoints.keypoints[:, :, None] if single else keypoints.keypoints  # (C, T, P, J, 3)
    C, T, P = slots.shape[:3]
    sel = [c for c, n in enumerate(keypoints.cameras) if n in cameras.names]
    names = [keypoints.cameras[c] for c in sel]
    zero = {n: 0 for n in keypoints.cameras}
    occupied = (slots[..., 2] > 0).any(-1)                                       # (C, T, P)
    views = {n: int(occupied[c].sum()) for c, n in enumerate(keypoints.cameras)}
    summary = RematchSummary(list(keypoints.cameras), dict(zero), dict(zero), dict(zero), views, P)
    if len(sel) < 2 or not cameras.has_extrinsics or T == 0:
        return keypoints, summary
    rig = cameras.select(names)
    dets = slots[sel]
    m = match_calibrated(dets, rig, skel.flip_index, skel.bone_index, options)
    # each found person's 3D at a frame, or where it has none (their views there attached one
    # by one, `attach`) at the nearest frame: within NEAR_FRAMES it tells a view that fits
    # nobody from theirs, within CONTINUE_FRAMES whether a view continues them
    source, gap = nearest_frames(np.isfinite(m.points3d).all(-1).any(-1))        # (F, T)
    reach = np.take_along_axis(m.points3d, source[..., None, None], axis=1)
    dist = _view_distances(dets, rig, reach)                                       # (C', T, P, F)
    far = (dist > 2 * options.max_ray_distance_m) & (gap <= NEAR_FRAMES).T[None, :, None]
    on = dist <= 2 * options.max_ray_distance_m + CONTINUE_FRAMES * STEP_M
    enough = (dets[..., 2] > 0).sum(-1) >= options.min_shared_joints              # (C', T, P)
    assignment = _continued(m.assignment, on, gap > CONTINUE_FRAMES, enough, CONTINUE_FRAMES)
    new, main = _to_file_ids(assignment, m.num_people, P, far, occupied[sel])     # (C', T, P)
    new = _without_emptied(new, enough & occupied[sel], keypoints.people, summary)
    swapped = m.swapped
    unjudged = (m.assignment < 0) & (new >= 0)  # continued or kept: not swap-tested yet
    if options.swaps_over_time and unjudged.any():
        person = np.where(assignment >= 0, assignment, main[np.maximum(new, 0)])
        over_time = swaps_over_time(dets, rig, np.where(unjudged, person, -1), m.points3d,
                                    skel.flip_index, min_confidence=options.min_confidence)
        swapped = np.where(unjudged, over_time, swapped)
    fixed = unswap(dets, swapped & (new >= 0), skel.flip_index)
    out = slots.copy()
    out[sel] = gather(fixed, new, P)
    own = np.arange(P)[None, None, :]
    occ = occupied[sel]
    for k, n in enumerate(names):
        summary.swaps[n] = int((swapped[k] & (new[k] >= 0) & occ[k]).sum())
        summary.reassigned[n] = int(((new[k] >= 0) & (new[k] != own[0]) & occ[k]).sum())
        summary.dropped[n] = int(((new[k] < 0) & occ[k]).sum())
    result = Keypoints2D(out[:, :, 0] if single else out, keypoints.cameras, keypoints.joint_set,
                         keypoints.image_size, keypoints.fps, keypoints.joints, keypoints.people)
    return result, summary


def _view_distances(views: np.ndarray, cameras: Cameras, points3d: np.ndarray,
                    min_joints: int = 4) -> np.ndarray:
    """(C, T, P, F) the median over joints seen in both of the distance (metres) from found
    person f's 3D joint at frame t to view (c, t, p)'s ray; NaN with fewer than `min_joints`
    such joints. views: (C, T, P, J, 3) pixels and confidence; points3d: (F, T, J, 3)."""
    from epicap.geometry.camera import undistort_points

    C, T, P, J, _ = views.shape
    F = points3d.shape[0]
    xy = undistort_points(views[..., :2].reshape(C, -1, 2).astype(np.float64), cameras.K,
                          cameras.dist).reshape(C, T, P, J, 2)
    xy = np.where((views[..., 2:] > 0), xy, np.nan)
    d = np.matmul(np.concatenate([xy, np.ones_like(xy[..., :1])], -1).reshape(C, -1, 3),
                  cameras.R).reshape(C, T, P, J, 3)                          # R^T @ d_cam
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    out = np.full((C, T, P, F), np.nan)
    for f in range(F):
        v = points3d[f][None, :, None] - cameras.centers[:, None, None, None]  # (C, T, 1, J, 3)
        dist = np.linalg.norm(np.cross(v, d), axis=-1)                         # (C, T, P, J)
        n = np.isfinite(dist).sum(-1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[..., f] = np.where(n >= min_joints, np.nanmedian(dist, axis=-1), np.nan)
    return out


def _continued(assignment: np.ndarray, on: np.ndarray, unknown: np.ndarray, enough: np.ndarray,
               max_gap: int) -> np.ndarray:
    """(C, T, P) `assignment` with the views no found person took given to the found person of
    the nearest frame (at most max_gap away, earlier wins a tie) where the same camera's same
    slot was taken: one detector track, for instance a person seen by too few cameras for a
    moment to be clustered, keeps its person.

    assignment: (C, T, P) found person per view or -1. on: (C, T, P, F) bool, the view lies on
    found person f's 3D (at the nearest frame with 3D; `_view_distances`). unknown: (F, T) bool,
    f has no 3D within reach of frame t. enough: (C, T, P) bool, the view has enough joints.
    A view is continued where it has enough joints and lies on that person, or that person's 3D
    is unknown then; and not where that person already has a view of that camera and frame
    (the first slot wins among continued views).
    """
    from epicap.people.attach import nearest_frames

    T = assignment.shape[1]
    have = assignment >= 0
    source, gap = nearest_frames(np.moveaxis(have, 1, -1))                         # (C, P, T)
    source, gap = np.moveaxis(source, -1, 1), np.moveaxis(gap, -1, 1)              # (C, T, P)
    person = np.take_along_axis(assignment, source, axis=1)
    c, t, p = np.nonzero(~have & enough & (gap <= max_gap))
    f = person[c, t, p]
    ok = (on[c, t, p, f] | unknown[f, t]) & ~(assignment[c, t] == f[:, None]).any(-1)
    c, t, p, f = c[ok], t[ok], p[ok], f[ok]
    _, first = np.unique((c * T + t) * on.shape[-1] + f, return_index=True)
    out = assignment.copy()
    out[c[first], t[first], p[first]] = f[first]
    return out


def _without_emptied(new: np.ndarray, full: np.ndarray, people: list[str] | None,
                     summary: RematchSummary) -> np.ndarray:
    """`new` (C, T, P) without the file's people none of whose views with enough joints (full:
    (C, T, P) of their slot, before) stayed theirs (each went to someone else or was dropped):
    their views of a few joints (an arm at the image's edge, which the cameras cannot place)
    would keep a shell of a person. Records in `summary.merged` who took each (the id most of
    its full views went to; "" when all were dropped). people None (one person): `new`."""
    if people is None:
        return new
    out = new
    for p in range(new.shape[-1]):
        if not full[..., p].any() or ((new == p) & full).any():
            continue
        out = np.where(out == p, -1, out)
        went = new[..., p][full[..., p] & (new[..., p] >= 0)]
        summary.merged[people[p]] = people[int(np.bincount(went).argmax())] if len(went) else ""
    return out


def _to_file_ids(assignment: np.ndarray, found: int, P: int, far: np.ndarray,
                 occupied: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((C, T, P) the file's person slot each view goes to, -1 to drop it; (P,) the found
    person whose id each file person takes, -1 for none).

    assignment: (C, T, P) person found with the cameras for each view of slot p (-1: none).
    found: people found. far: (C, T, P, found) the view lies off that person's 3D
    (`_view_distances`).
    occupied: (C, T, P) view present.
    A found person takes the file id it shares most views with (Hungarian, then fragments join
    the id they overlap most). A view kept by its found person goes to that id; of two views of
    one camera and frame given the same id, the one already in that slot stays, the other is
    dropped. An unassigned view stays in its slot unless it lies off its person's 3D at that frame.
    """
    C, T, _ = assignment.shape
    own = np.broadcast_to(np.arange(P), (C, T, P))
    if found == 0:
        return np.where(occupied, own, -1).astype(np.int32), np.full(P, -1)
    overlap = np.zeros((found, P), dtype=np.int64)
    a = assignment >= 0
    np.add.at(overlap, (assignment[a], own[a]), 1)
    file_id = overlap.argmax(1)
    rows, cols = linear_sum_assignment(-overlap)
    file_id[rows] = cols
    new = np.where(a, file_id[np.where(a, assignment, 0)], -1)
    # a view that fits nobody: dropped only where it lies off its own person's 3D at that frame
    main = np.full(P, -1)
    main[cols] = rows
    off = np.zeros(occupied.shape, dtype=bool)
    has = np.flatnonzero(main >= 0)
    off[..., has] = far[..., has, main[has]]
    new = np.where(~a & occupied & ~off, own, new)
    # two views of one camera and frame sent to one slot: the slot's own view stays
    for p in range(P):
        to_p = new == p
        clash = to_p.sum(-1) > 1                                                  # (C, T)
        if clash.any():
            keep_own = clash & to_p[..., p]
            drop = to_p & clash[..., None] & (own != p)
            new = np.where(drop & keep_own[..., None], -1, new)
            rest = (new == p).sum(-1) > 1                                         # no own view
            if rest.any():
                first = np.argmax(new == p, axis=-1)
                later = (new == p) & rest[..., None] & (own != first[..., None])
                new = np.where(later, -1, new)
    return np.where(occupied, new, -1).astype(np.int32), main
