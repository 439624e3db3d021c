"""Pseudo-labels from triangulated sessions, one sample per (camera, frame), as EpipolarPose.

EpipolarPose (Kocabas et al., CVPR 2019, section 3.2) labels each view with the triangulated pose
expressed in that view's camera frame. A camera frame does not depend on how the world frame was
chosen (only on the camera), which is why labels from calibration-free cameras are usable as they
are. Each sample carries:

- the 3D label `R_c X + t_c` (metres, camera c's frame), NaN where the joint was not triangulated;
- the 2D keypoints of camera c (from keypoints2d.npz; the label's projection when a session has
  none); a joint of camera c that lies farther from the label's projection into camera c than
  `stray_fraction` of the person's size there is given as unseen (NaN, confidence 0): a
  detector's gross mistake in that view (another person's joint during an occlusion, left for
  right) that triangulation outvoted, which a student would otherwise learn as its input for a
  pose it does not show. The detector's ordinary error, which the student meets again at
  inference, stays;
- per-joint weights from triangulation quality: 0 below `min_views` views or above
  `max_error_px` reprojection error, else 1 / (1 + (error / error_scale_px)^2);
- the person crop from camera c's video when the session has videos (else the dataset has no
  crops and serves only the lifter);
- the true 3D in camera c's frame when the session carries truth (`truth/poses3d.npz` and
  `truth/cameras.toml`, as synthetic sessions do).

Several people (poses3d.npz and keypoints2d.npz with `people`): every person gives samples, each
person of a session its own source in the manifest (`"person": "p1"` beside the session), so a
sample's source names its person and a sequence never runs from one person into another. A
person's (camera, frame) is a candidate when that person is triangulated in that frame; the crop
is cut round that person's own keypoints.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from epicap.console import progress, warn
from epicap.errors import InputError
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Cameras, Keypoints2D, Poses3D
from epicap.training.crops import crop_boxes, read_crops
from epicap.training.dataset import MANIFEST, ShardWriter

__all__ = ["LabelOptions", "LabelReport", "label_sessions", "DROP_REASONS"]

DROP_REASONS = ("no_root", "behind_camera", "few_labelled_joints", "few_2d_joints", "no_video_frame")


@dataclass(frozen=True)
class LabelOptions:
    """How samples are made and filtered.

    min_views: a joint triangulated from fewer views gets weight 0.
    max_error_px: a joint whose mean reprojection error exceeds this gets weight 0.
    stray_fraction: a camera's 2D joint farther from the label's projection than this fraction
        of the person's size there (the diagonal of the projected joints' bounding box) is given
        as unseen; 0 keeps every 2D joint.
    error_scale_px: weight = 1 / (1 + (error / error_scale_px)^2) for the other joints.
    min_joint_fraction: a sample is kept when at least this fraction of its joints has a
        non-zero weight and at least this fraction is seen in its 2D keypoints.
    crops: read person crops from the videos when every session has them.
    crop_size: side of the stored crops in pixels (students may train on smaller inputs).
    crop_margin: crop side = 2 * crop_margin * the person's largest extent from the root.
    shard_size: samples per shard file.
    """

    min_views: int = 2
    max_error_px: float = 20.0
    stray_fraction: float = 0.1
    error_scale_px: float = 8.0
    min_joint_fraction: float = 0.5
    crops: bool = True
    crop_size: int = 256
    crop_margin: float = 1.2
    shard_size: int = 4096


@dataclass
class LabelReport:
    """What `label_sessions` wrote: totals, drops by reason, per-session counts, notes."""

    samples: int
    candidates: int
    dropped: dict[str, int]
    sessions: list[dict]
    has_crops: bool
    has_truth: bool
    notes: list[str] = field(default_factory=list)
    stray_2d: int = 0  # 2D joints of the samples given as unseen: off their label's projection


@dataclass
class _Session:
    path: Path
    cameras: Cameras
    poses: Poses3D
    keypoints: Keypoints2D | None
    truth_poses: Poses3D | None
    truth_cameras: Cameras | None
    videos: dict[str, Path]
    names: list[str]
    person: str | None = None  # several people: this person's id (one _Session per person)


def label_sessions(sessions: list[str | os.PathLike], out: str | os.PathLike,
                   options: LabelOptions = LabelOptions(), force: bool = False) -> LabelReport:
    """Build a pseudo-label dataset in `out` from triangulated sessions.

    sessions: folders with cameras.toml (with extrinsics) and poses3d.npz, optionally
        keypoints2d.npz, session.toml with videos, and truth/.
    out: the dataset folder (see `epicap.training.dataset`); refused if it already holds a
        dataset unless `force`.
    Raises InputError for a missing or inconsistent session, or when no sample passes the filters.
    """
    out = Path(out)
    if (out / MANIFEST).exists() and not force:
        raise InputError(f"{out}: a dataset exists; pass --force to overwrite it")
    if not sessions:
        raise InputError("no sessions given")
    loaded = [one for s in sessions for one in _per_person(_load(Path(s)))]
    joint_set = loaded[0].poses.joint_set
    for s in loaded:
        if s.poses.joint_set != joint_set:
            raise InputError(f"{s.path}: joint set {s.poses.joint_set}, the first session has "
                             f"{joint_set}; label sessions of one joint set together")
    notes = []
    has_truth = all(s.truth_poses is not None for s in loaded)
    if not has_truth and any(s.truth_poses is not None for s in loaded):
        notes.append("only some sessions carry truth/: the dataset stores no true 3D")
    with_videos = all(len(s.videos) == len(s.names) for s in loaded)
    has_crops = options.crops and with_videos
    if options.crops and not with_videos:
        notes.append("no videos in (some of) the sessions: no crops; the dataset serves only "
                     "the lifter student")
    if force:  # a new dataset replaces the old one: its shards go
        for path in out.glob("shard-*.npy"):
            path.unlink()
    (out / MANIFEST).unlink(missing_ok=True)
    writer = ShardWriter(out, joint_set, options.crop_size if has_crops else None, has_truth,
                         options.shard_size)
    dropped = {r: 0 for r in DROP_REASONS}
    sources, candidates = [], 0
    bar = progress(total=sum(len(s.names) for s in loaded), desc="label", unit="camera")
    for si, s in enumerate(loaded):
        kept_here, drop_here, stray_here = 0, {r: 0 for r in DROP_REASONS}, 0
        for ci, name in enumerate(s.names):
            samples, reasons, stray = _camera_samples(s, name, options, has_truth, has_crops)
            stray_here += stray
            candidates += s.poses.poses.shape[0] if s.person is None else int(
                s.poses.valid.any(axis=1).sum())  # a person's frames: those they are seen in
            for r, n in reasons.items():
                drop_here[r] += n
                dropped[r] += n
            n = len(samples["label"])
            if n:
                samples["source"] = np.column_stack(
                    [np.full(n, si), np.full(n, ci), samples.pop("frame")])
                writer.add(**samples)
            kept_here += n
            bar.update(1)
        sources.append({"session": str(s.path.resolve()),
                        **({} if s.person is None else {"person": s.person}), "cameras": s.names,
                        "frames": int(s.poses.poses.shape[0]), "samples": kept_here,
                        "dropped": drop_here, "stray_2d": stray_here,
                        "keypoints2d": s.keypoints is not None,
                        "videos": bool(s.videos), "truth": s.truth_poses is not None})
    bar.close()
    total = sum(src["samples"] for src in sources)
    if total == 0:
        raise InputError(f"no sample passed the quality filters (dropped: {_fmt(dropped)}); "
                         "relax --min-views / --max-error-px")
    stray = sum(src["stray_2d"] for src in sources)
    writer.close(sources, asdict(options), {"candidates": candidates, "samples": total,
                                            "dropped": dropped, "stray_2d": stray})
    return LabelReport(total, candidates, dropped, sources, has_crops, has_truth, notes, stray)


def _fmt(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items() if v) or "none"


def _load(path: Path) -> _Session:
    if not path.is_dir():
        raise InputError(f"{path}: no such session folder")
    cams = Cameras.from_toml(path / CAMERAS_FILE, require_extrinsics=True)
    poses = Poses3D.from_npz(path / POSES_FILE)
    kp = None
    if (path / KEYPOINTS_FILE).exists():
        kp = Keypoints2D.from_npz(path / KEYPOINTS_FILE)
        if kp.joint_set != poses.joint_set:
            raise InputError(f"{path}: keypoints2d.npz has joint set {kp.joint_set}, "
                             f"poses3d.npz {poses.joint_set}")
        if kp.num_frames != poses.poses.shape[-3]:
            raise InputError(f"{path}: keypoints2d.npz has {kp.num_frames} frames, poses3d.npz "
                             f"{poses.poses.shape[-3]}")
        if kp.people != poses.people:
            raise InputError(f"{path}: keypoints2d.npz and poses3d.npz hold different people "
                             f"({kp.people or 'one'} and {poses.people or 'one'}); triangulate "
                             "again")
        names = [n for n in kp.cameras if n in cams.names]
    else:
        names = list(cams.names)
    if not names:
        raise InputError(f"{path}: no camera of keypoints2d.npz is in cameras.toml")
    truth_p, truth_c = path / "truth" / POSES_FILE, path / "truth" / CAMERAS_FILE
    truth_poses = truth_cams = None
    if truth_p.exists() and truth_c.exists():
        truth_poses = Poses3D.from_npz(truth_p)
        truth_cams = Cameras.from_toml(truth_c, require_extrinsics=True)
        if truth_poses.poses.shape != poses.poses.shape or not set(names) <= set(truth_cams.names):
            warn(f"{path}: truth/ does not match the session (frames, joints or cameras); "
                 "ignoring it")
            truth_poses = truth_cams = None
    return _Session(path, cams, poses, kp, truth_poses, truth_cams, _videos(path, names), names)


def _per_person(s: _Session) -> list[_Session]:
    """A several-person session as one _Session per person (poses, keypoints, truth of that
    person); a one-person session as itself."""
    if s.poses.people is None:
        return [s]
    if s.truth_poses is not None and s.truth_poses.people != s.poses.people:
        warn(f"{s.path}: truth/ holds other people than poses3d.npz; ignoring it")
        s = replace(s, truth_poses=None, truth_cameras=None)
    return [replace(s, poses=s.poses.person(p),
                    keypoints=None if s.keypoints is None else s.keypoints.person(p),
                    truth_poses=None if s.truth_poses is None else s.truth_poses.person(p),
                    person=pid) for p, pid in enumerate(s.poses.people)]


def _videos(path: Path, names: list[str]) -> dict[str, Path]:
    from epicap.session.manifest import MANIFEST_FILE, SessionManifest

    if not (path / MANIFEST_FILE).exists():
        return {}
    manifest = SessionManifest.load(path)
    found = {}
    for name in names:
        if name in manifest.names:
            video = manifest.video_path(path, name)
            if video is not None and Path(video).is_file():
                found[name] = Path(video)
    return found


def _camera_samples(s: _Session, name: str, opt: LabelOptions, has_truth: bool,
                    has_crops: bool) -> tuple[dict[str, np.ndarray], dict[str, int], int]:
    """The kept samples of one camera (arrays with leading dim N, plus `frame`), drop counts and
    how many of the kept samples' 2D joints were given as unseen (off the label's projection)."""
    cam = s.cameras.select([name])
    R, t = cam.R[0], cam.t[0]
    X = s.poses.poses.astype(np.float64)  # (T, J, 3) world
    label = np.einsum("ij,tkj->tki", R, X) + t  # camera frame
    skel = s.poses.skeleton
    T, J = X.shape[:2]
    pix = cam.project(X.reshape(-1, 3))[0].reshape(T, J, 2)  # the label's projection, pixels
    stray = np.zeros((T, J), bool)
    if s.keypoints is not None:
        kp = s.keypoints.keypoints[s.keypoints.camera_index(name)].astype(np.float64)
        if opt.stray_fraction > 0:
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # frames without a label
                size = np.linalg.norm(np.nanmax(pix, 1) - np.nanmin(pix, 1), axis=-1)  # (T,)
                stray = np.linalg.norm(kp[..., :2] - pix, axis=-1) > \
                    opt.stray_fraction * size[:, None]
            kp[stray] = (np.nan, np.nan, 0.0)
    else:
        kp = np.concatenate([pix, np.isfinite(pix).all(-1, keepdims=True).astype(float)], -1)
    err = s.poses.reprojection_error.astype(np.float64)
    valid = np.isfinite(label).all(-1)
    good = valid & (s.poses.views >= opt.min_views) & (np.nan_to_num(err, nan=np.inf)
                                                       <= opt.max_error_px)
    weight = np.where(good, 1.0 / (1.0 + np.square(np.nan_to_num(err) / opt.error_scale_px)), 0.0)
    root = label[:, skel.root_index].mean(axis=1)
    reason = np.full(T, "", dtype=object)
    need = opt.min_joint_fraction * J
    reason[(np.isfinite(kp[..., :2]).all(-1).sum(-1) < need)] = "few_2d_joints"
    reason[(weight > 0).sum(-1) < need] = "few_labelled_joints"
    reason[~(root[:, 2] > 0)] = "behind_camera"
    reason[~np.isfinite(root).all(-1)] = "no_root"
    if s.person is not None:  # a person's frames without them are no candidates (not counted)
        reason[~valid.any(-1)] = "absent"
    keep = reason == ""
    frames = np.nonzero(keep)[0]
    samples = {"label": label[keep], "keypoints": kp[keep], "weight": weight[keep],
               "frame": frames}
    if has_truth:
        tc = s.truth_cameras.select([name])
        Xt = s.truth_poses.poses[frames].astype(np.float64)
        samples["truth"] = np.einsum("ij,tkj->tki", tc.R[0], Xt) + tc.t[0]
    if has_crops:
        boxes = crop_boxes(kp[keep], skel.root_index, opt.crop_margin)
        crops, ok = read_crops(s.videos[name], frames, boxes, opt.crop_size)
        reason[frames[~ok]] = "no_video_frame"
        samples = {k: v[ok] for k, v in samples.items()}
        samples["crop"], samples["crop_box"] = crops[ok], boxes[ok]
    counts = {r: int((reason == r).sum()) for r in DROP_REASONS}
    return samples, counts, int(stray[samples["frame"]].sum())
