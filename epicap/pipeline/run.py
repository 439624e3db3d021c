"""`epicap run`: every stage of a session that is not yet done, in order, resumable.

Stages: detect -> sync -> calibrate -> triangulate -> [label -> train -> evaluate] -> report.
Each stage names the files it reads (inputs), the options that change its result (params) and
the files it writes (outputs); `SESSION/run.toml` (`epicap.pipeline.record`) records their
fingerprints. A stage whose record matches is done and is not run again; one whose inputs or
params changed reruns, and since every stage's inputs include the outputs of the stages it
depends on, a changed output reruns exactly the stages that read it.

Files a user made (an imported keypoints2d.npz, a cameras.toml from a lab calibration) are never
replaced: an output that exists and was not written by `run` makes its stage "skipped" and is
used as it is, unless `force`. Every stage writes its files atomically and the record is written
after them, with `running` written before: after a kill at any point the next run cleans up the
temporary files the killed writer left, redoes the interrupted stage (training resumes from its
checkpoint) and gets the result an uninterrupted run gets.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from epicap.errors import InputError
from epicap.pipeline.options import (DATASET_DIR, RUN_DIR, STAGES, TRAINING, RunOptions,
                                     check_options)
from epicap.pipeline.record import (RunRecord, StageRecord, fingerprint,
                                    remove_stale_temporaries, session_lock, utc_now)
from epicap.pipeline.stages import STAGE_FUNCTIONS, Context, Plan, Skip, foreign
from epicap.session import KEYPOINTS_FILE
from epicap.session.manifest import MANIFEST_FILE

__all__ = ["STAGES", "RunOptions", "StageResult", "run_session"]


@dataclass
class StageResult:
    """One row of the final table: stage, status (done / ran / skipped: why), seconds, figure."""

    stage: str
    status: str
    seconds: float = 0.0
    figure: str = ""

    def row(self) -> list:
        return [self.stage, self.status, round(self.seconds, 1), self.figure]


# ---- the orchestrator --------------------------------------------------------------------------

def _is_done(ctx: Context, name: str, rec: StageRecord | None, plan: Plan,
             inputs: dict[str, str | None]) -> bool:
    """True when the stage's last success read these inputs with these params and every file it
    wrote is still as it left it (or as a later stage that rewrote it left it)."""
    success = rec.success if rec is not None else None
    later = STAGES[STAGES.index(name) + 1:]
    return (success is not None and success.params == plan.params and success.inputs == inputs
            and bool(success.outputs)
            and all(_intact(ctx, name, k, v, later, plan) for k, v in success.outputs.items()))


def _intact(ctx: Context, name: str, key: str, recorded: str, later, plan: Plan) -> bool:
    """`RunRecord.intact`, except for an output the plan finds elsewhere now: the keypoints as
    detected, which sync keeps as keypoints2d_raw.npz once it rewrote keypoints2d.npz (by run or
    by `epicap sync` by hand, `Context.detected_keypoints`), are intact when that file is still
    as detect wrote it. Checked along the chain of later stages instead, a sync by hand (a new
    keypoints2d.npz) made run detect again: 40 s on the Pose2Sim videos for the same file."""
    moved = plan.outputs.get(key)
    if moved is not None and Path(moved).name != key:
        return fingerprint(moved) == recorded
    return ctx.record.intact(name, key, recorded, later)


def _not_asked(name: str, options: RunOptions) -> str | None:
    """Why the user's options leave stage `name` out, or None."""
    index = STAGES.index(name)
    if options.until is not None and index > STAGES.index(options.until):
        return f"after --until {options.until}"
    wants_training = options.train or (options.until in TRAINING) or (options.start in TRAINING)
    if name in TRAINING and not wants_training:
        return "not asked (--train)"
    return None


def run_session(session: str | os.PathLike, options: RunOptions = RunOptions(),
                report_row=None, on_start=None, show_text=None) -> list[StageResult]:
    """Bring every stage of `session` up to date; returns one StageResult per stage.

    session: a session folder. report_row: called with each StageResult as it is decided (for
    printing progress). on_start: called with a stage's name when it starts working (not for a
    stage that is done). show_text: called with text a stage shows its user (calibrate's
    per-camera table), as `epicap VERB` prints it. Every option is checked before any stage runs
    (`check_options`): a mistake is an InputError and run.toml is left as it was. InputError
    from a stage is recorded (status `failed`, the stage's last success kept) and raised again.
    """
    from epicap.console import warn

    session = Path(session)
    if session.is_file():
        raise InputError(f"{session}: a file, not a session folder (give the folder that "
                         "holds session.toml, e.g. the one `epicap ingest --out` made)")
    if not session.is_dir():
        raise InputError(f"{session}: no such session folder")
    if not any((session / name).is_file() for name in (MANIFEST_FILE, KEYPOINTS_FILE)):
        raise InputError(f"{session}: not a session (no {MANIFEST_FILE} or {KEYPOINTS_FILE}); "
                         "make one with `epicap ingest`, `epicap record` or `epicap import`")
    check_options(session, options)
    results: list[StageResult] = []
    with session_lock(session):
        remove_stale_temporaries([session, session / DATASET_DIR, session / RUN_DIR])
        ctx = Context(session, options, RunRecord.load(session), on_start=on_start)
        for name in STAGES:
            try:
                result = _run_stage(ctx, name)
            finally:
                if show_text is not None:
                    for text in ctx.details:
                        show_text(text)
                ctx.details.clear()
                for message in ctx.warnings:
                    warn(f"{name}: {message}")
                ctx.warnings.clear()
            results.append(result)
            if report_row is not None:
                report_row(result)
    return results


def _run_stage(ctx: Context, name: str) -> StageResult:
    options, record = ctx.options, ctx.record
    rec = record.stages.get(name)
    reason = _not_asked(name, options)
    if reason is not None:
        return StageResult(name, f"skipped: {reason}")
    forced = options.start is not None and STAGES.index(name) >= STAGES.index(options.start)
    if options.start is not None and not forced:
        success = rec.success if rec is not None else None
        return StageResult(name, f"kept: before --from {options.start}", 0.0,
                           success.figure if success is not None else "")
    plan_fn, run_fn = STAGE_FUNCTIONS[name]
    try:
        plan = plan_fn(ctx)
    except InputError as e:
        record.stages[name] = _attempt(rec, "failed", str(e), finished=utc_now())
        record.save()
        raise
    if isinstance(plan, Skip):
        record.stages[name] = _attempt(rec, "skipped", plan.reason, finished=utc_now())
        record.save()
        return StageResult(name, f"skipped: {plan.reason}")
    inputs = {k: fingerprint(p) for k, p in plan.inputs.items()}
    if not forced and _is_done(ctx, name, rec, plan, inputs):
        return StageResult(name, "done", 0.0, rec.success.figure)
    users = [k for k, p in plan.outputs.items() if foreign(ctx, name, k, p)]
    if users and not options.force:
        reason = f"{', '.join(users)} exists, not made by run: kept (--force to remake)"
        record.stages[name] = _attempt(rec, "skipped", reason, finished=utc_now())
        record.save()
        return StageResult(name, f"skipped: {reason}")
    before = {k: fingerprint(p) or "" for k, p in plan.outputs.items()}
    record.stages[name] = _attempt(rec, "running", "", params=plan.params, inputs=inputs,
                                   outputs=before)
    record.save()
    if ctx.on_start is not None:
        ctx.on_start(name)
    started = time.perf_counter()
    try:
        figure, extra = run_fn(ctx, plan, rec)
    except Exception as e:
        # what the attempt changed is ours (a partial write), what it did not is as it was
        changed = {k: v for k, p in plan.outputs.items()
                   if (v := fingerprint(p) or "") != before[k]}
        record.stages[name] = _attempt(rec, "failed", str(e) or type(e).__name__,
                                       params=plan.params, inputs=inputs, outputs=changed,
                                       finished=utc_now())
        record.save()
        raise
    seconds = time.perf_counter() - started
    extra = extra or {}
    outputs = {**plan.outputs, **extra.get("outputs", {})}
    inputs.update({k: fingerprint(p) for k, p in extra.get("inputs", {}).items()})
    record.stages[name] = StageRecord(
        "ran", "", plan.params, inputs, {k: fingerprint(p) or "" for k, p in outputs.items()},
        utc_now(), seconds, figure)
    record.save()
    return StageResult(name, "ran", seconds, figure)


def _attempt(rec: StageRecord | None, status: str, reason: str, **fields) -> StageRecord:
    """The record of an attempt that did not succeed; the last success, if any, is kept."""
    return rec.attempt(status, reason, **fields) if rec is not None else \
        StageRecord(status, reason, **fields)
