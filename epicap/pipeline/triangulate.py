"""The triangulation stage: `keypoints2d.npz` + `cameras.toml` -> `poses3d.npz`, with a summary."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from epicap.capture.sync import estimated_offsets
from epicap.capture.sync_cameras import shift_text, timed_keypoints
from epicap.errors import InputError
from epicap.geometry.filtering import SmoothingOptions, far_joints, smooth_poses
from epicap.geometry.pose_triangulation import ConsistencyOptions, triangulate_poses
from epicap.geometry.triangulation import TriangulationOptions, triangulate
from epicap.joint_sets import JOINT_SETS
from epicap.pipeline.inputs import detected_keypoints, require_session_file
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Cameras, Keypoints2D, Poses3D
from epicap.session.calibration_formats import load_for_session
from epicap.session.io import refuse_overwrite

__all__ = ["TriangulationSummary", "triangulate_session", "triangulate_keypoints", "copy_atomic"]


@dataclass
class TriangulationSummary:
    """What a triangulation run produced, for a table or a report.

    frames, joints: T and J. cameras: names of the cameras used. triangulated_fraction: share of
    the T x J joints that got a 3D point. reprojection_px: {50, 90, 99} percentiles of the
    per-joint mean reprojection error (pixels) over triangulated joints. mean_views: views per
    triangulated joint. camera_used_fraction: per camera, the share of its detections (confidence
    at least `min_confidence`) that were kept as inliers. rejected_off_body: joints dropped as
    implausible (off the body, breaking a bone length or jumping in time; see
    `pose_triangulation`). reselected: joints whose views were re-chosen by those checks.
    threshold_px: the outlier threshold used. output: the file written (None if not).
    people: for several people, each person's share of joints triangulated (None for one).
    untriangulated: people seen by fewer than two cameras at once: kept in 2D, no 3D.
    empty: people with no views at all (an id the re-check with the cameras emptied).
    """

    frames: int
    joints: int
    cameras: list[str]
    triangulated_fraction: float
    reprojection_px: dict[int, float]
    mean_views: float
    camera_used_fraction: dict[str, float]
    rejected_off_body: int = 0
    reselected: int = 0
    threshold_px: float | None = None
    output: Path | None = None
    warnings: list[str] = field(default_factory=list)
    people: dict[str, float] | None = None
    untriangulated: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    matching: object | None = None  # pipeline.rematch.RematchSummary when re-checked first
    timing: tuple | None = None  # (camera names, capture.sync_cameras.TimingFit) when refined

    def rows(self) -> list[tuple[str, object]]:
        """(name, value) rows for `epicap.console.format_table`."""
        rows = [("frames", self.frames), ("joints", self.joints),
                ("cameras", ", ".join(self.cameras)),
                ("joints triangulated", f"{100 * self.triangulated_fraction:.1f} %")]
        rows += [(f"reprojection error p{q} (px)", v) for q, v in self.reprojection_px.items()]
        rows.append(("mean views per joint", self.mean_views))
        if self.threshold_px is not None:
            rows.append(("outlier threshold (px)", round(self.threshold_px, 2)))
        rows.append(("joints dropped as off the body", self.rejected_off_body))
        rows.append(("joints re-solved by skeleton and time", self.reselected))
        rows += [(f"detections of {name} used", f"{100 * v:.1f} %")
                 for name, v in self.camera_used_fraction.items()]
        if self.people is not None:
            rows += [(f"person {name}: joints triangulated", f"{100 * v:.1f} %")
                     for name, v in self.people.items()]
            if self.untriangulated:
                rows.append(("not triangulated (one camera)", ", ".join(self.untriangulated)))
        if self.matching is not None:
            rows += self.matching.rows()
        if self.timing is not None:
            rows.append(("sync offsets refined with the cameras", _timing_text(*self.timing)))
        if self.output is not None:
            rows.append(("written", str(self.output)))
        return rows


def triangulate_keypoints(keypoints: Keypoints2D, cameras: Cameras,
                          options: TriangulationOptions = TriangulationOptions(),
                          smoothing: SmoothingOptions | None = None,
                          max_extent_m: float | None = 2.0,
                          consistency: ConsistencyOptions | None = ConsistencyOptions(),
                          source: str = "cameras",
                          ) -> tuple[Poses3D, TriangulationSummary]:
    """3D poses from 2D keypoints and a calibrated rig (no files).

    keypoints: (C, T, J, 3) x, y pixels of each camera's original image and confidence; NaN
    where unseen. cameras: a calibration with extrinsics (world -> camera), matched
    to the keypoints' cameras by name: extra cameras are ignored, and keypoint cameras it lacks
    (e.g. excluded by `epicap calibrate`) are left out with a warning. smoothing: optional
    zero-phase low-pass of the 3D trajectories (gaps are not bridged). max_extent_m: a joint
    farther than this from the median of its frame's joints is implausible (two outlier views
    that agree by chance); None: no such test. consistency: the skeleton and time checks of
    `pose_triangulation.triangulate_poses` (bones of the keypoints' joint set, their fps; its
    `max_extent_m` is replaced by the argument): implausible joints get their views re-chosen,
    or are dropped. None: each joint on its own (`triangulate`), then only the extent test.
    source: what error messages about the rig call it (e.g. the calibration file's path).
    Returns (Poses3D (T, J, 3) world frame, metres, NaN where not triangulated; a summary).
    Raises InputError when fewer than two of the keypoints' cameras are calibrated, for missing
    extrinsics, or when no joint of any frame is seen by `options.min_views` agreeing views.

    Several people (keypoints (C, T, P, J, 3) with `people`): each person is triangulated on its
    own, giving poses (P, T, J, 3) with the same ids; a person never seen by two cameras at once
    stays NaN (in 2D only), is named in the summary's `untriangulated` and in a warning.
    """
    if keypoints.people is not None:
        return _triangulate_people(keypoints, cameras, options, smoothing, max_extent_m,
                                   consistency, source)
    calibrated = [n for n in keypoints.cameras if n in cameras.names]
    uncalibrated = [n for n in keypoints.cameras if n not in cameras.names]
    if len(calibrated) < 2:
        raise InputError(f"{source}: only {len(calibrated)} of the keypoints' cameras "
                         f"({', '.join(keypoints.cameras)}) are in the calibration "
                         f"({', '.join(cameras.names)}); triangulation needs two")
    if uncalibrated:
        keypoints = keypoints.select_cameras(calibrated)
    rig = cameras.select(calibrated)
    if not rig.has_extrinsics:
        raise InputError(f"{source}: only intrinsics are known (no rotation/translation); "
                         "run `epicap calibrate` first or pass --cameras")
    warnings = [f"camera {name} is not in the calibration (excluded by calibrate?): its "
                "keypoints are not used" for name in uncalibrated]
    warnings += [f"camera {name}: calibrated for {tuple(a)} pixels but keypoints are from "
                f"{tuple(b)} images" for name, a, b in
                zip(rig.names, rig.image_size, keypoints.image_size) if tuple(a) != tuple(b)]
    points, confidence = np.asarray(keypoints.points), np.asarray(keypoints.confidence)
    rejected = reselected = 0
    if consistency is not None:
        joint_set = JOINT_SETS.get(str(keypoints.joint_set))
        bones = None if joint_set is None else joint_set.bone_index
        res = triangulate_poses(points, rig.K, rig.R, rig.t, rig.dist, confidence, options,
                                replace(consistency, max_extent_m=max_extent_m), bones,
                                keypoints.fps)
        rejected, reselected = int(res.rejected.sum()), int(res.reselected.sum())
    else:
        res = triangulate(points, rig.K, rig.R, rig.t, rig.dist, confidence, options)
    if not res.valid.any():
        raise InputError(f"no joint could be triangulated: none is seen by {options.min_views} or "
                         "more cameras that agree (check that the calibration belongs to these "
                         "keypoints and that the cameras are synchronized)")
    if consistency is None and max_extent_m is not None:
        far = far_joints(res.points3d, max_extent_m)
        rejected = int(far.sum())
        res.points3d[far] = np.nan
        res.reprojection_error[far] = np.nan
        res.views[far] = 0
        res.inliers[:, far] = False
    poses = res.points3d
    if smoothing is not None:
        poses = smooth_poses(poses, keypoints.fps, smoothing)
    views = np.where(np.isfinite(poses).all(-1), res.views, 0)
    result = Poses3D(poses.astype(np.float32), res.reprojection_error.astype(np.float32),
                     views.astype(np.uint8), keypoints.joint_set, keypoints.fps,
                     list(keypoints.joints))
    summary = _summarize(res, keypoints, options, warnings)
    summary.rejected_off_body, summary.reselected = rejected, reselected
    summary.threshold_px = res.threshold_px
    return result, summary


def _triangulate_people(keypoints: Keypoints2D, cameras: Cameras, options, smoothing,
                        max_extent_m, consistency, source: str
                        ) -> tuple[Poses3D, TriangulationSummary]:
    """`triangulate_keypoints` for several people: one person at a time, stacked."""
    T, J = keypoints.num_frames, len(keypoints.joints)
    singles, summaries, fractions, untriangulated, empty = [], [], {}, [], []
    for p, name in enumerate(keypoints.people):
        one = keypoints.person(p)
        seen = one.confidence >= max(options.min_confidence, 1e-12)           # (C, T, J)
        if (seen.sum(0) >= max(options.min_views, 2)).any():
            try:
                poses, summary = triangulate_keypoints(one, cameras, options, smoothing,
                                                       max_extent_m, consistency, source)
            except InputError as e:
                if "no joint could be triangulated" not in str(e):
                    raise
            else:
                singles.append(poses)
                summaries.append((summary, int(seen.sum())))
                fractions[name] = summary.triangulated_fraction
                continue
        (untriangulated if seen.any() else empty).append(name)
        fractions[name] = 0.0
        singles.append(Poses3D(np.full((T, J, 3), np.nan, np.float32),
                               np.full((T, J), np.nan, np.float32), np.zeros((T, J), np.uint8),
                               keypoints.joint_set, keypoints.fps, list(keypoints.joints)))
    if not summaries:
        raise InputError(f"no person could be triangulated: none of {', '.join(keypoints.people)} "
                         "is seen by two cameras at once")
    poses = Poses3D.stack(singles, keypoints.people)
    valid = poses.valid
    error = poses.reprojection_error[valid]
    weights = np.array([n for _, n in summaries], dtype=float)
    first = summaries[0][0]
    summary = TriangulationSummary(
        frames=T, joints=J, cameras=first.cameras, triangulated_fraction=float(valid.mean()),
        reprojection_px={q: float(np.percentile(error, q)) for q in (50, 90, 99)},
        mean_views=float(poses.views[valid].mean()),
        camera_used_fraction={c: float(np.average([s.camera_used_fraction.get(c, 0.0)
                                                   for s, _ in summaries], weights=weights))
                              for c in first.camera_used_fraction},
        rejected_off_body=sum(s.rejected_off_body for s, _ in summaries),
        reselected=sum(s.reselected for s, _ in summaries), threshold_px=first.threshold_px,
        warnings=list(dict.fromkeys(w for s, _ in summaries for w in s.warnings)),
        people=fractions, untriangulated=untriangulated, empty=empty)
    summary.warnings += [f"person {name} is never seen by two cameras at once: kept in 2D, not "
                         "triangulated" for name in untriangulated]
    summary.warnings += [_empty_text(name) for name in empty]
    return poses, summary


def triangulate_session(session_dir: str | os.PathLike,
                        cameras_path: str | os.PathLike | None = None,
                        options: TriangulationOptions = TriangulationOptions(),
                        smoothing: SmoothingOptions | None = None, force: bool = False,
                        max_extent_m: float | None = 2.0,
                        consistency: ConsistencyOptions | None = ConsistencyOptions(),
                        match_people: bool = True, keypoints_path: str | os.PathLike | None = None,
                        refine_timing: bool = True) -> tuple[Poses3D, TriangulationSummary]:
    """Triangulate a session folder and write its `poses3d.npz` atomically.

    session_dir: the session (holds `keypoints2d.npz`, usually `cameras.toml`).
    cameras_path: a calibration TOML to use instead of the session's `cameras.toml`.
    force: overwrite an existing `poses3d.npz` (refused otherwise, before any work).
    smoothing, max_extent_m, consistency: as in `triangulate_keypoints`.
    match_people: first re-check the people with the cameras (`epicap.pipeline.rematch`): the
        keypoints as read are kept in `keypoints2d_unmatched.npz` and the corrected ones written
        to `keypoints2d.npz` (both atomically, only when a view changed), then triangulated;
        the summary's `matching` says what changed. The keypoints are read as they were before
        an earlier re-check (`pipeline.inputs.detected_keypoints`), so triangulating again
        with new cameras starts from the detector's views.
    keypoints_path: read the keypoints from this file instead (`epicap run` passes the
        unmatched copy when it triangulates again).
    refine_timing: refine the offsets `sync` estimated from the keypoints with the cameras and
        triangulate keypoints shifted by them where they matter (`capture.sync_cameras.
        timed_keypoints`, as `epicap calibrate` does); False: sync's offsets as they are.
    Returns the poses written and a summary.
    """
    session = Path(session_dir)
    if not session.is_dir():
        raise InputError(f"{session}: no such session folder")
    output = session / POSES_FILE
    refuse_overwrite(output, force, "3D poses file")
    if keypoints_path is not None:
        source = Path(keypoints_path)
    elif match_people:  # the detector's views, not those an earlier re-check moved
        source = detected_keypoints(session)
    else:
        source = require_session_file(session, KEYPOINTS_FILE)
    keypoints = Keypoints2D.from_npz(source)
    calib_path = Path(cameras_path) if cameras_path is not None else \
        require_session_file(session, CAMERAS_FILE, "pass --cameras FILE")
    cameras, fitted = load_for_session(calib_path, keypoints.cameras, keypoints.image_size,
                                       require_extrinsics=True)  # any lab format
    matching = None
    if match_people:
        from epicap.pipeline.rematch import rematch_keypoints
        from epicap.session.recheck import UNMATCHED_FILE, record_recheck

        keypoints, matching = rematch_keypoints(keypoints, cameras)
    # offsets sync estimated from the keypoints alone: their sub-frame timing refined with the
    # cameras, as `calibrate` did (`capture.sync_cameras`); keypoints2d.npz keeps sync's timeline
    timed, timing = keypoints, None
    refinable = estimated_offsets(session) if refine_timing else ()
    if refinable:
        timed, timing = timed_keypoints(keypoints, cameras, refinable)
    poses, summary = triangulate_keypoints(timed, cameras, options, smoothing,
                                           max_extent_m, consistency, source=str(calib_path))
    summary.warnings[:0] = fitted
    summary.timing = None if timing is None else (list(keypoints.cameras), timing)
    if matching is not None:
        unmatched = session / UNMATCHED_FILE
        if matching.changed and source.resolve() != unmatched.resolve():
            copy_atomic(source, unmatched)
        from_unmatched = source.resolve() == unmatched.resolve()
        if matching.changed or source.resolve() != (session / KEYPOINTS_FILE).resolve():
            keypoints.save(session / KEYPOINTS_FILE)
        record_recheck(session, matching.changed or from_unmatched)
        summary.matching = matching
        said = {_empty_text(name) for name in matching.merged}  # the re-check says why
        summary.warnings = [w for w in summary.warnings if w not in said] + matching.warnings()
    poses.save(output)
    summary.output = output
    return poses, summary


def _empty_text(name: str) -> str:
    """The warning for a person with no views at all."""
    return f"person {name} has no views: left empty"


def _timing_text(names: list[str], fit) -> str:
    """The timing row's value: the shifts applied (frames), or why none."""
    if fit.doubt():
        return f"not applied: {fit.doubt()}"
    if not fit.significant().any():
        return "none needed"
    return shift_text(names, fit.shift_frames)


def copy_atomic(source: Path, target: Path) -> None:
    """Copy a file byte for byte, atomically (`session.io.atomic_write`)."""
    import shutil

    from epicap.session.io import atomic_write

    with open(source, "rb") as src, atomic_write(target) as dst:
        shutil.copyfileobj(src, dst)


def _summarize(res, keypoints: Keypoints2D, options: TriangulationOptions,
               warnings: list[str]) -> TriangulationSummary:
    valid = res.valid
    error = res.reprojection_error[valid]
    detected = keypoints.confidence >= max(options.min_confidence, 1e-12)
    used = res.inliers.reshape(len(keypoints.cameras), -1).sum(1)
    seen = detected.reshape(len(keypoints.cameras), -1).sum(1)
    return TriangulationSummary(
        frames=keypoints.num_frames, joints=len(keypoints.joints), cameras=list(keypoints.cameras),
        triangulated_fraction=float(valid.mean()),
        reprojection_px={q: float(np.percentile(error, q)) for q in (50, 90, 99)},
        mean_views=float(res.views[valid].mean()),
        camera_used_fraction={n: float(u / s) if s else 0.0
                              for n, u, s in zip(keypoints.cameras, used, seen)},
        warnings=warnings)
