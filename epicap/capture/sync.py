"""Time offsets between cameras, and 2D keypoints resampled onto one common timeline.

Convention: camera c's frame i was taken at common time `(i + offset_frames[c]) / fps`; the
reference camera has offset 0. A positive offset means the camera started later.

From recorded timestamps the offsets are read off directly. Without them they are estimated from
the 2D keypoints of the subject: coarse candidates from cross-correlated motion, refined below a
frame per camera pair by a detector-bias-robust epipolar cost, then solved jointly over all pairs
(`epicap.capture.sync_tracks` describes the method, `epicap.capture.sync_epipolar` holds it).

Resampling never interpolates across a gap: a common frame gets a value only from the camera
frame at exactly that time, or from two adjacent frames (timestamps less than 1.5 frames apart)
that both hold the joint; otherwise it stays (NaN, NaN, 0).
"""
from __future__ import annotations

import os

import numpy as np

from epicap.capture.sync_epipolar import estimate_offsets, refine_pair, solve_offsets
from epicap.capture.sync_people import as_joints, synced_keypoints
from epicap.capture.sync_tracks import (CameraOffset, PairOffset, SyncOptions, SyncResult,
                                        coarse_lag, motion_signal, sample_at, smooth_tracks)
from epicap.errors import InputError, check_shape
from epicap.people.coarse_offsets import CoarseOptions

__all__ = ["SyncOptions", "CameraOffset", "SyncResult", "PairOffset", "motion_signal",
           "coarse_lag", "smooth_tracks", "sample_at", "refine_pair", "solve_offsets",
           "estimate_offsets", "offsets_from_timestamps", "resample_to_timeline", "sync_session",
           "SYNC_FILE", "RAW_KEYPOINTS_FILE", "read_sync"]


def offsets_from_timestamps(timestamps: list[np.ndarray], fps: float, names: list[str],
                            reference: int = 0) -> SyncResult:
    """Offsets from recorded per-frame timestamps (seconds on one clock shared by all cameras).

    timestamps: C arrays (T_c,) of seconds. fps: the common timeline's rate.
    The offset is the median of (timestamp x fps - frame index) relative to the reference, which
    is robust to a few late frames; `frame_times` gives the exact per-frame times for resampling.
    """
    starts = [float(np.median(np.asarray(ts) * fps - np.arange(len(ts)))) for ts in timestamps]
    result = SyncResult(names[reference], float(fps))
    for c, name in enumerate(names):
        off = starts[c] - starts[reference]
        method = "reference" if c == reference else "timestamps"
        result.cameras.append(CameraOffset(name, off, off / fps, 1.0, method))
    return result


def resample_to_timeline(keypoints: np.ndarray, frame_times: list[np.ndarray],
                         flip_index: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """(C, K, J, 3) keypoints on the common integer timeline, and its first frame.

    keypoints: (C, T, J, 3), missing (NaN, NaN, 0).
    frame_times: C arrays (T_c,) with T_c <= T: the common-timeline time, in frames, of each of
        camera c's frames (increasing), e.g. i + offset_frames[c], or timestamps x fps.
    The timeline runs over every integer time covered by some camera (their union); a camera
    is interpolated only between two of its frames less than 1.5 frames apart (no gaps bridged),
    and a joint that jumps between them (a left/right swap) is taken from the nearer frame
    (`sample_at` with `jumps`). flip_index: (J0,) the joint set's left/right exchange, J a
    whole number of people of J0 joints (`sync_people.as_joints`): a person left/right swapped
    in one of the two frames takes the nearer frame's labels whole (`sample_at`).
    Returns (resampled keypoints float32, the common time of its first row).
    """
    check_shape(keypoints, "C, T, J, 3", "keypoints")
    C, T, J = keypoints.shape[:3]
    tol = 1e-3  # frames: timestamps rounded to microseconds still land on their frame
    lo = int(np.floor(min(float(np.min(t)) for t in frame_times) + tol))
    hi = int(np.ceil(max(float(np.max(t)) for t in frame_times) - tol))
    grid = np.arange(lo, hi + 1, dtype=np.float64)
    out = np.full((C, len(grid), J, 3), np.nan, dtype=np.float32)
    out[..., 2] = 0.0
    for c, times in enumerate(frame_times):
        times = np.asarray(times, dtype=np.float64)
        if len(times) > T or np.any(np.diff(times) <= 0):
            raise InputError(f"camera {c}: frame times must be increasing, at most {T} of them")
        # fractional index of each grid time among this camera's frames; gaps > 1.5 frames: none
        pos = np.interp(grid, times, np.arange(len(times)), left=np.nan, right=np.nan)
        ends = np.isnan(pos) & ((np.abs(grid - times[0]) < tol) | (np.abs(grid - times[-1]) < tol))
        pos[ends] = np.where(np.abs(grid[ends] - times[0]) < tol, 0, len(times) - 1)
        i0 = np.floor(pos + 1e-9)
        exact = np.isfinite(pos) & (np.abs(pos - np.round(pos)) < tol)
        gap_ok = np.zeros(len(grid), dtype=bool)
        inside = np.isfinite(pos) & ~exact
        idx = i0[inside].astype(np.int64)
        gap_ok[inside] = (times[np.minimum(idx + 1, len(times) - 1)] - times[idx]) < 1.5
        pos = np.where(exact, np.round(pos), np.where(gap_ok, pos, np.nan))
        pos = np.where(np.isfinite(pos), pos, -10.0)  # -10: outside, stays missing
        out[c] = sample_at(keypoints[c, :len(times)], pos, jumps=True, flip_index=flip_index)
    return out, lo


SYNC_FILE = "sync.toml"
RAW_KEYPOINTS_FILE = "keypoints2d_raw.npz"


def sync_session(session, method: str = "auto", reference: str | None = None,
                 options: SyncOptions | None = None, rematch: bool = True,
                 min_cameras: int = 2, max_people: int | None = None) -> SyncResult | None:
    """Estimate the offsets of a session's cameras, write `sync.toml`, resample the keypoints.

    session: a session folder with `keypoints2d.npz` (and `session.toml` for timestamps).
    method: "auto" (timestamps when every camera has them, else keypoints), "timestamps" or
        "keypoints". reference: the camera with offset 0 (default: the first).
    The keypoints as detected are kept as `keypoints2d_raw.npz` and are the input of every rerun
    (as long as `keypoints2d.npz` is the one sync wrote, or triangulate's re-check of it:
    `session.recheck`; a newer one, e.g. from a new detect, becomes the raw input). Returns
    None, writing nothing, when the session has one camera.
    rematch, min_cameras, max_people: with several people and offsets of a frame or more, match
    the people again from `detections2d.npz` on the common timeline (`sync_people.rematch_people`;
    min_cameras and max_people as `--people` chose them at detection), unless an offset is
    uncertain (confidence under 0.5, which `SyncResult.warnings` names). With
    `options.max_offset_s` beyond what detect searched before matching them (2 s), the people
    are first matched again at offsets searched that far (`sync_people.match_apart`;
    `SyncResult.searched_apart` gives them), and each offset is refined from there; as it is
    from the offsets detect matched them at (`Detections2D.matched_offsets`), if any.
    """
    import json
    from pathlib import Path

    from epicap.assets import sha256_of
    from epicap.session import KEYPOINTS_FILE, Keypoints2D
    from epicap.session.io import atomic_write
    from epicap.session.manifest import MANIFEST_FILE, SessionManifest
    from epicap.session.recheck import keypoints_before_recheck

    if method not in ("auto", "timestamps", "keypoints"):
        raise InputError(f"unknown sync method {method!r}; valid: auto, timestamps, keypoints")
    session = Path(session)
    current, raw_path = session / KEYPOINTS_FILE, session / RAW_KEYPOINTS_FILE
    pending = session / f".{KEYPOINTS_FILE}.sync.tmp"  # the synced file before its rename
    pending.unlink(missing_ok=True)  # left by a sync that was killed: redone below
    # after triangulate re-checked the people, keypoints2d.npz holds corrected views: what sync
    # wrote is the file they were re-checked from
    source = keypoints_before_recheck(session)
    previous = read_sync(session / SYNC_FILE)
    if raw_path.is_file() and source.is_file() and sha256_of(source) in (
            previous.get("synced_sha256"), sha256_of(raw_path)):
        source = raw_path  # keypoints2d.npz is sync's output (or the raw one): start from raw
    kp = Keypoints2D.from_npz(source)
    if len(kp.cameras) < 2:
        return None
    ref = kp.camera_index(reference) if reference else 0
    stamps = None
    if method != "keypoints" and (session / MANIFEST_FILE).is_file():
        manifest = SessionManifest.load(session)
        if all(n in manifest.names for n in kp.cameras):
            stamps = [manifest.timestamps(session, n) for n in kp.cameras]
            stamps = None if any(s is None for s in stamps) else stamps
    if method == "timestamps" and stamps is None:
        raise InputError(f"{session}: not every camera has recorded timestamps; "
                         "use --method keypoints")
    T = kp.num_frames
    work, apart, prior = kp, None, None  # the people the offsets are measured on
    several = rematch and kp.people is not None and stamps is None
    detections = _detections(session)
    max_offset = (options or SyncOptions()).max_offset_s
    if several and max_offset > CoarseOptions().max_offset_s:
        # further than detect searched: the people matched again at offsets searched that far
        from epicap.capture.sync_people import match_apart

        again, coarse = match_apart(kp, detections, max_offset, min_cameras, max_people)
        if again is not None:
            work, apart, prior = again, coarse.describe(kp.cameras, kp.fps), coarse.offsets_frames
    elif (detections is not None and detections.matched_offsets is not None
          and list(detections.cameras) == list(kp.cameras)
          and detections.num_frames == kp.num_frames):
        prior = detections.matched_offsets  # detect matched the people there: refined from it
    if stamps is not None:
        result = offsets_from_timestamps(stamps, kp.fps, kp.cameras, ref)
        t0 = float(np.median(np.asarray(stamps[ref]) * kp.fps - np.arange(len(stamps[ref]))))
        times = [np.asarray(s[:T], dtype=np.float64) * kp.fps - t0 for s in stamps]
    else:
        result = estimate_offsets(as_joints(work.keypoints), kp.fps, kp.cameras, ref, options,
                                  prior)
        times = [np.arange(T) + c.offset_frames for c in result.cameras]
    result.several_people = kp.people is not None and stamps is None
    result.searched_apart = apart
    people = work
    if rematch and work.people is not None and min(c.confidence for c in result.cameras) >= 0.5:
        from epicap.capture.sync_people import rematch_people

        again = rematch_people(work, detections, result.offset_frames, min_cameras,
                               max_people)
        if again is not None:
            people = again
        if again is not None or apart is not None:
            result.people_rematched = 1 if people.people is None else len(people.people)
    resampled, first = resample_to_timeline(as_joints(people.keypoints), times,
                                           people.skeleton.flip_index)
    synced = synced_keypoints(people, resampled)  # several people: every person's joints count
    # Order matters for a kill at any point: the raw keypoints first, then the synced ones under
    # a temporary name, then sync.toml naming both by hash, then the rename into place. A rerun
    # finds keypoints2d.npz equal to the raw file or to the recorded synced one and starts over
    # from the raw file either way.
    if source != raw_path:
        kp.save(raw_path)
    synced.save(pending)
    lines = ["version = 1", f"reference = {json.dumps(result.reference)}",
             f"fps = {result.fps!r}", f"first_frame = {first}",
             f"frames = {synced.num_frames}",
             f"raw_sha256 = {json.dumps(sha256_of(raw_path))}",
             f"synced_sha256 = {json.dumps(sha256_of(pending))}"]
    if result.people_rematched is not None:  # matched again on the common timeline
        lines.append(f"people_rematched = {result.people_rematched}")
    lines.append("")
    for c in result.cameras:
        lines += [f"[cameras.{json.dumps(c.name)}]", f"offset_frames = {c.offset_frames:.4f}",
                  f"offset_s = {c.offset_s:.6f}", f"confidence = {c.confidence:.3f}",
                  f"method = {json.dumps(c.method)}"]
        if c.coarse_frames is not None:
            lines.append(f"coarse_frames = {c.coarse_frames:.2f}")
        if c.method == "keypoints":
            lines.append(f"std_frames = {c.std_frames:.4f}")
        if c.estimated_frames is not None:
            lines.append(f"estimated_frames = {c.estimated_frames:.4f}")
        if c.rivals_frames:  # offsets that fit as well: the one above is a guess among them
            lines.append("rivals_frames = [" + ", ".join(f"{r:.2f}" for r in c.rivals_frames)
                         + "]")
        lines.append("")
    with atomic_write(session / SYNC_FILE, "w") as f:
        f.write("# time offsets: camera frame i was taken at common time (i + offset_frames) / fps"
                "\n# row 0 of keypoints2d.npz is common frame `first_frame`\n" + "\n".join(lines))
    os.replace(pending, current)
    return result


def _detections(session):
    """The session's Detections2D (`detections2d.npz`), or None when it has none."""
    from epicap.session.detections2d import DETECTIONS_FILE, Detections2D

    found = session / DETECTIONS_FILE
    return Detections2D.from_npz(found) if found.is_file() else None


def estimated_offsets(session) -> tuple[str, ...]:
    """The cameras of `session` whose offsets its `sync.toml` estimated from the keypoints and
    applied (`SyncResult.estimated`); () without one, or when it is not the sync of the
    keypoints now in place (keypoints2d.npz neither what sync wrote nor what triangulate's
    re-check made of it)."""
    from pathlib import Path

    from epicap.assets import sha256_of
    from epicap.capture.sync_tracks import estimated_cameras
    from epicap.session.recheck import keypoints_before_recheck

    session = Path(session)
    previous = read_sync(session / SYNC_FILE)
    synced = keypoints_before_recheck(session)
    if not previous or not synced.is_file() or \
            sha256_of(synced) != previous.get("synced_sha256"):
        return ()
    cams = previous.get("cameras")
    if not isinstance(cams, dict):  # a sync.toml edited by hand: nothing to go on
        return ()
    return estimated_cameras([(n, c.get("method"), c.get("estimated_frames"))
                              for n, c in cams.items() if isinstance(c, dict)])


def read_sync(path) -> dict:
    """The previous sync.toml as a dict, {} when absent or unreadable."""
    import tomllib

    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
