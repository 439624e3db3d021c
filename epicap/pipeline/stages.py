"""The stages `epicap run` brings up to date: for each, a plan (the files it reads, the options
that change its result, the files it writes) and an execution that calls the same library
function as the stage's verb. `epicap.pipeline.run` decides which stages to run.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from epicap.capture.sync import RAW_KEYPOINTS_FILE as RAW_KEYPOINTS
from epicap.capture.sync import SYNC_FILE as SYNC_TOML
from epicap.errors import InputError
from epicap.pipeline.options import (DATASET_DIR, RUN_DIR, STAGES, TRAINING, RunOptions,
                                     train_config)
from epicap.pipeline.record import RunRecord, fingerprint
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE

__all__ = ["STAGES", "TRAINING", "RunOptions", "Plan", "Skip", "Context", "STAGE_FUNCTIONS",
           "foreign"]

REPORT = "report.html"
EVALUATION = f"{RUN_DIR}/evaluation.json"


@dataclass
class Plan:
    """What a stage will read and write. outputs: the files checked for ownership (a stage may
    write more, returned by its execution). params: JSON-like options that change the result."""

    inputs: dict[str, Path]
    outputs: dict[str, Path]
    params: dict = field(default_factory=dict)


@dataclass
class Skip:
    """A stage's plan saying it has nothing to do, and why (shown in the run's table)."""

    reason: str


@dataclass
class Context:
    """One `epicap run` on a session: its folder, options, run record and warnings so far."""

    session: Path
    options: RunOptions
    record: RunRecord
    warnings: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # text a stage shows (calibrate's table)
    on_start: Callable[[str], None] | None = None  # called with a stage's name as it starts

    def key(self, path: Path) -> str:
        """A record key: the path relative to the session when inside it, else absolute."""
        path = Path(os.path.abspath(path))
        root = Path(os.path.abspath(self.session))
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

    def path(self, key: str) -> Path:
        """The file of a record key (the inverse of `key`)."""
        return Path(key) if os.path.isabs(key) else self.session / key

    def detected_keypoints(self) -> Path:
        """The keypoints as detected or imported: keypoints2d.npz, or keypoints2d_raw.npz once
        our sync rewrote keypoints2d.npz (also after a kill in the middle of that sync)."""
        kp, raw = self.matched_from(), self.session / RAW_KEYPOINTS
        sync = self.record.stages.get("sync")
        if sync is None or not raw.is_file():
            return kp
        current = fingerprint(kp)
        if sync.status == "ran" and current == sync.outputs.get(KEYPOINTS_FILE):
            return raw
        if sync.status == "running" and current != sync.inputs.get(KEYPOINTS_FILE) and \
                fingerprint(raw) == sync.inputs.get(KEYPOINTS_FILE):
            return raw
        return kp


    def matched_from(self) -> Path:
        """The keypoints as they were before the triangulate stage re-checked the people with the
        cameras: keypoints2d.npz, or keypoints2d_unmatched.npz once that stage rewrote
        keypoints2d.npz (also after a kill in the middle of it, or after the triangulate verb
        rewrote it: `session.recheck.keypoints_before_recheck`)."""
        from epicap.session.recheck import UNMATCHED_FILE, keypoints_before_recheck

        kp, unmatched = self.session / KEYPOINTS_FILE, self.session / UNMATCHED_FILE
        rec = self.record.stages.get("triangulate")
        if rec is None or not unmatched.is_file():
            return keypoints_before_recheck(self.session)
        current, before = fingerprint(kp), fingerprint(unmatched)
        for r in (rec, rec.success):
            if r is not None and r.status in ("ran", "running") and \
                    r.inputs.get(KEYPOINTS_FILE) == before and (
                        current == r.outputs.get(KEYPOINTS_FILE)
                        or (r.status == "running" and current != before)):
                return unmatched
        return keypoints_before_recheck(self.session)


# ---- the stages: each a plan (what it reads, writes, depends on) and an execution --------------

def foreign(ctx: Context, stage: str, key: str, path: Path) -> bool:
    """True when `path` exists and was not written by `run`'s `stage` (a user's file).

    Ours: any file while the record says `running` (a killed attempt's), the fingerprint the
    latest attempt or the last success recorded, or what a later stage that rewrote our file
    recorded (`RunRecord.intact`).
    """
    rec = ctx.record.stages.get(stage)
    if not path.is_file():
        return False
    if rec is None:
        return True
    if rec.status == "running" or rec.outputs.get(key) == fingerprint(path):
        return False
    success = rec.success
    if success is None or key not in success.outputs:
        return True
    later = STAGES[STAGES.index(stage) + 1:]
    return not (success.outputs[key] == fingerprint(path)
                or ctx.record.intact(stage, key, success.outputs[key], later))


def _videos(ctx: Context) -> dict[str, Path] | None:
    from epicap.session.manifest import MANIFEST_FILE, SessionManifest

    if not (ctx.session / MANIFEST_FILE).is_file():
        return None
    manifest = SessionManifest.load(ctx.session)
    videos = {n: manifest.video_path(ctx.session, n) for n in manifest.names}
    return None if any(v is None for v in videos.values()) else videos


def _plan_detect(ctx: Context):
    from epicap.keypoints.everyone import detector_slots, parse_people, redetect_passes
    from epicap.keypoints.models import check_task_file, pose_model_path
    from epicap.session.manifest import MANIFEST_FILE

    videos = _videos(ctx)
    if videos is None:
        return Skip("no videos (keypoints imported or synthetic)")
    model = check_task_file(ctx.options.model) if ctx.options.model else pose_model_path()
    inputs = {ctx.key(p): p for p in [ctx.session / MANIFEST_FILE, *videos.values(), model]}
    choice = parse_people(ctx.options.people)
    return Plan(inputs, {KEYPOINTS_FILE: ctx.detected_keypoints()},
                 {"max_people": detector_slots(choice, ctx.options.max_people),
                  "redetect_passes": redetect_passes(choice),
                  "people": ctx.options.people or "seen by two cameras",
                  "model": ctx.key(model)})


def _run_detect(ctx: Context, plan: Plan, previous):
    from epicap.keypoints.everyone import parse_people, write_detected
    from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_session
    from epicap.session.detections2d import DETECTIONS_FILE

    out = ctx.session / KEYPOINTS_FILE
    result = detect_session(ctx.session, ctx.path(plan.params["model"]),
                            DetectorOptions(num_poses=plan.params["max_people"],
                                            redetect_passes=plan.params["redetect_passes"]))
    people = write_detected(ctx.session, result.detections, result.keypoints,
                            parse_people(ctx.options.people))
    kept = [r for n, r in result.cameras.items() if n not in result.dropped]
    found = sum(r.coverage for r in kept) / max(1, len(kept))
    who = "" if people is None or len(people.people) == 1 else f", {len(people.people)} people"
    return (f"{len(kept)} cameras, subject found in {100 * found:.0f}% of frames{who}",
            {"outputs": {KEYPOINTS_FILE: out, DETECTIONS_FILE: ctx.session / DETECTIONS_FILE}})


def _plan_sync(ctx: Context):
    from epicap.session import Keypoints2D

    detected = ctx.detected_keypoints()
    if not detected.is_file():
        raise InputError(f"{ctx.session}: no {KEYPOINTS_FILE} and no videos to detect on (make "
                         "the session with `epicap ingest`/`record`, or `epicap import` keypoints)")
    outputs = {SYNC_TOML: ctx.session / SYNC_TOML}
    if not ctx.options.sync:
        _undo_sync(ctx, detected)
        return Skip("--no-sync: the timeline is kept as it is")
    if len(Keypoints2D.from_npz(detected).cameras) < 2:
        return Skip("one camera")
    from epicap.keypoints.everyone import parse_people
    from epicap.session.detections2d import DETECTIONS_FILE

    inputs = {KEYPOINTS_FILE: detected}
    if (ctx.session / DETECTIONS_FILE).is_file():  # the people are matched again from them
        inputs[DETECTIONS_FILE] = ctx.session / DETECTIONS_FILE
    choice = parse_people(ctx.options.people)
    return Plan(inputs, outputs, {"method": "auto", "max_offset_s": ctx.options.max_offset_s,
                                  "people": ctx.options.people or "seen by two cameras",
                                  "min_cameras": choice.min_cameras})


def _undo_sync(ctx: Context, detected: Path) -> None:
    """With --no-sync after a run that synced: put the keypoints as detected back in place."""
    if detected.name == RAW_KEYPOINTS:
        _copy_atomic(detected, ctx.session / KEYPOINTS_FILE)


def _copy_atomic(source: Path, target: Path) -> None:
    from epicap.session.io import atomic_write

    with open(source, "rb") as src, atomic_write(target) as dst:
        shutil.copyfileobj(src, dst)


def _run_sync(ctx: Context, plan: Plan, previous):
    from epicap.capture.sync import SyncOptions, sync_session

    detected, current = plan.inputs[KEYPOINTS_FILE], ctx.session / KEYPOINTS_FILE
    raw = ctx.session / RAW_KEYPOINTS
    if detected != current:  # a sync killed half-way: start again from the detected keypoints
        _copy_atomic(detected, current)
    else:  # keep the detected file byte for byte (sync_session starts from an identical raw
        _copy_atomic(current, raw)  # file): its fingerprint stays the one detect recorded
    from epicap.keypoints.everyone import parse_people

    choice = parse_people(ctx.options.people)
    result = sync_session(ctx.session, "auto", None,
                          SyncOptions(max_offset_s=plan.params["max_offset_s"]),
                          rematch=not choice.main_subject_only, min_cameras=choice.min_cameras,
                          max_people=choice.count)
    extra = {KEYPOINTS_FILE: current, RAW_KEYPOINTS: raw}
    offsets = ", ".join(f"{c.offset_frames:+.2f}" for c in result.cameras)
    low = min(c.confidence for c in result.cameras)
    ctx.warnings += result.warnings()
    again = ("" if result.people_rematched is None else
             f"; {result.people_rematched} people matched again on the common timeline")
    if result.searched_apart is not None:
        again += f" at offsets searched up to {plan.params['max_offset_s']:g} s"
    return (f"offsets {offsets} frames (confidence >= {low:.2f}){again}",
            {"outputs": extra, "inputs": {KEYPOINTS_FILE: raw}})


def _plan_calibrate(ctx: Context):
    from epicap.session import Cameras

    cams = ctx.session / CAMERAS_FILE
    if cams.is_file() and foreign(ctx, "calibrate", CAMERAS_FILE, cams) and \
            not Cameras.from_toml(cams).has_extrinsics:
        raise InputError(f"{cams}: holds only intrinsics; move it (e.g. to intrinsics.toml) and "
                         "pass --intrinsics FILE, so that the calibration can be written here")
    inputs = {KEYPOINTS_FILE: ctx.matched_from()}  # as triangulate found them, if it rewrote them
    if ctx.options.intrinsics:
        intrinsics = Path(ctx.options.intrinsics)
        if not intrinsics.is_file():
            raise InputError(f"--intrinsics {intrinsics}: no such file")
        inputs[ctx.key(intrinsics)] = intrinsics
    o = ctx.options
    return Plan(inputs, {CAMERAS_FILE: cams}, {
        "subject_height_m": o.subject_height_m, "shared_focal": o.shared_focal,
        "intrinsics": ctx.key(Path(o.intrinsics)) if o.intrinsics else "", "method": "epicap",
        "max_frames": 400, **({"subject": o.subject} if o.subject else {})})


def _run_calibrate(ctx: Context, plan: Plan, previous):
    from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
    from epicap.capture.sync import estimated_offsets
    from epicap.pipeline.advice import recording_advice
    from epicap.session import Keypoints2D
    from epicap.session.calibration_formats import load_for_session

    p = plan.params
    keypoints = Keypoints2D.from_npz(plan.inputs[KEYPOINTS_FILE])
    intrinsics = None
    if p["intrinsics"]:  # any lab format, fitted to the videos' sizes (codec padding warned)
        intrinsics, fitted = load_for_session(ctx.path(p["intrinsics"]), keypoints.cameras,
                                              keypoints.image_size)
        ctx.warnings += fitted
    result = calibrate(keypoints, intrinsics, CalibrationOptions(
        method=p["method"], shared_focal=p["shared_focal"],
        subject_height_m=p["subject_height_m"], subject=p.get("subject", ""),
        max_frames=p["max_frames"], refine_timing=estimated_offsets(ctx.session)))
    advice = recording_advice(keypoints)
    result.cameras.to_toml(ctx.session / CAMERAS_FILE)
    result.save_record(ctx.session, ctx.session / CAMERAS_FILE, advice)  # for the report
    ctx.details += [result.table(), result.summary()]
    ctx.warnings += [*result.warnings, *advice]
    few = [r.name for r in result.reports if r.few_inliers]
    return (f"{len(result.cameras)} of {len(keypoints.cameras)} cameras, RMS "
            f"{result.rms_px:.2f} px" + (f"; few inliers: {', '.join(few)}" if few else ""), None)


def _plan_triangulate(ctx: Context):
    inputs = {KEYPOINTS_FILE: ctx.matched_from(), CAMERAS_FILE: ctx.session / CAMERAS_FILE}
    return Plan(inputs, {POSES_FILE: ctx.session / POSES_FILE},
                {"options": "defaults", "match_people": True})


def _run_triangulate(ctx: Context, plan: Plan, previous):
    """Re-check the people with the cameras (keypoints2d.npz rewritten, the keypoints as they
    were kept in keypoints2d_unmatched.npz, as sync keeps keypoints2d_raw.npz), triangulate."""
    from epicap.pipeline.rematch import UNMATCHED_FILE
    from epicap.pipeline.triangulate import copy_atomic, triangulate_session

    source, current = plan.inputs[KEYPOINTS_FILE], ctx.session / KEYPOINTS_FILE
    unmatched = ctx.session / UNMATCHED_FILE
    if source == current:  # keep the keypoints as found byte for byte: their fingerprint stays
        copy_atomic(current, unmatched)  # the one the stages before recorded
    _, summary = triangulate_session(ctx.session, force=True, keypoints_path=unmatched)
    ctx.warnings += summary.warnings
    if summary.matching.changed:  # the table only when the cameras changed something
        ctx.details.append(summary.matching.table())
    fixed = sum(summary.matching.swaps.values())
    moved = sum(summary.matching.reassigned.values()) + sum(summary.matching.dropped.values())
    return (f"{100 * summary.triangulated_fraction:.1f}% of joints, reprojection p50 "
            f"{summary.reprojection_px[50]:.2f} px; {fixed} left/right swaps fixed, {moved} "
            "views moved or dropped",
            {"outputs": {KEYPOINTS_FILE: current, UNMATCHED_FILE: unmatched},
             "inputs": {KEYPOINTS_FILE: unmatched}})


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _label_options(ctx: Context):
    from epicap.training.labels import LabelOptions

    return LabelOptions(crops=ctx.options.student == "integral")


def _plan_label(ctx: Context):
    from epicap.synthetic.session import TRUTH_DIR

    s = ctx.session
    files = [s / CAMERAS_FILE, s / POSES_FILE, s / KEYPOINTS_FILE, s / TRUTH_DIR / CAMERAS_FILE,
             s / TRUTH_DIR / POSES_FILE]
    options = _label_options(ctx)
    if options.crops:
        files += list((_videos(ctx) or {}).values())
    inputs = {ctx.key(p): p for p in files if p.is_file()}
    return Plan(inputs, {f"{DATASET_DIR}/manifest.json": s / DATASET_DIR / "manifest.json"},
                 dataclasses.asdict(options))


def _run_label(ctx: Context, plan: Plan, previous):
    from epicap.training.labels import label_sessions

    out = ctx.session / DATASET_DIR
    report = label_sessions([ctx.session], out, _label_options(ctx), force=True)
    ctx.warnings += report.notes
    return (f"{report.samples} samples of {report.candidates}",
            {"outputs": {ctx.key(p): p for p in _files(out)}})


def _train_config(ctx: Context):
    return train_config(ctx.session, ctx.options)


def _plan_train(ctx: Context):
    params = {k: v for k, v in dataclasses.asdict(_train_config(ctx)).items()
              if k not in ("dataset", "out", "quiet")}
    inputs = {ctx.key(p): p for p in _files(ctx.session / DATASET_DIR)}
    run = ctx.session / RUN_DIR
    return Plan(inputs, {f"{RUN_DIR}/checkpoint.pt": run / "checkpoint.pt"}, params)


def _run_train(ctx: Context, plan: Plan, previous):
    from epicap.training.train import train

    run = ctx.session / RUN_DIR
    cfg = _train_config(ctx)
    ckpt = run / "checkpoint.pt"
    resume = (previous is not None and previous.status == "running" and ckpt.is_file()
              and previous.params == plan.params
              and previous.inputs == {k: fingerprint(p) for k, p in plan.inputs.items()})
    if not resume:  # our own earlier run, for other data or options: start afresh
        for name in ("checkpoint.pt", "best.pt", "metrics.csv"):
            (run / name).unlink(missing_ok=True)
    summary = train(cfg, resume=resume)
    ctx.warnings += list(summary.get("warnings", []))
    files = {ctx.key(run / n): run / n for n in ("checkpoint.pt", "best.pt", "metrics.csv")
             if (run / n).is_file()}
    return (f"{summary['steps']} steps{' (resumed)' if resume else ''}, validation MPJPE "
            f"{summary['val_mpjpe_mm']:.1f} mm", {"outputs": files})


def _plan_evaluate(ctx: Context):
    run = ctx.session / RUN_DIR
    weights = [run / n for n in ("checkpoint.pt", "best.pt") if (run / n).is_file()]
    inputs = {ctx.key(p): p for p in [*weights, *_files(ctx.session / DATASET_DIR)]}
    return Plan(inputs, {EVALUATION: ctx.session / EVALUATION},
                 {"split": "val", "device": ctx.options.device})


def _run_evaluate(ctx: Context, plan: Plan, previous):
    from epicap.session.io import atomic_write
    from epicap.training.evaluate import evaluate_run

    result = evaluate_run(ctx.session / RUN_DIR, ctx.session / DATASET_DIR,
                          device=plan.params["device"], split=plan.params["split"])
    with atomic_write(ctx.session / EVALUATION, "w") as f:
        json.dump({**result.to_dict(), "split": plan.params["split"]}, f, indent=1)
    return (f"MPJPE {result.mpjpe_mm:.1f} mm, PA-MPJPE {result.pa_mpjpe_mm:.1f} mm "
            f"({result.samples} held-out samples vs {result.reference})", None)


def _plan_report(ctx: Context):
    s = ctx.session
    files = [s / CAMERAS_FILE, s / POSES_FILE, s / KEYPOINTS_FILE, s / SYNC_TOML,
             s / RUN_DIR / "metrics.csv", s / RUN_DIR / "best.pt", s / EVALUATION]
    inputs = {ctx.key(p): p for p in files if p.is_file()}
    return Plan(inputs, {REPORT: s / REPORT}, {"snapshots": ctx.options.snapshots})


def _run_report(ctx: Context, plan: Plan, previous):
    from epicap.viz.report import write_report

    run = ctx.session / RUN_DIR
    run = run if (run / "metrics.csv").is_file() else None
    path = write_report(ctx.session, ctx.session / REPORT, run, plan.params["snapshots"])
    return f"{ctx.key(path)}" + (" (with training curves)" if run else ""), None


STAGE_FUNCTIONS = {
    "detect": (_plan_detect, _run_detect), "sync": (_plan_sync, _run_sync),
    "calibrate": (_plan_calibrate, _run_calibrate),
    "triangulate": (_plan_triangulate, _run_triangulate), "label": (_plan_label, _run_label),
    "train": (_plan_train, _run_train), "evaluate": (_plan_evaluate, _run_evaluate),
    "report": (_plan_report, _run_report)}
