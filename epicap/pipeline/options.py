"""The options of `epicap run` (`RunOptions`) and the check that every one of them can work,
made before any stage starts (`check_options`), so that a mistake costs no work and leaves the
session's run.toml as it was.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from epicap.errors import InputError

__all__ = ["STAGES", "TRAINING", "DATASET_DIR", "RUN_DIR", "RunOptions", "check_options",
           "train_config"]

STAGES = ("detect", "sync", "calibrate", "triangulate", "label", "train", "evaluate", "report")
TRAINING = ("label", "train", "evaluate")
DATASET_DIR, RUN_DIR = "dataset", "run"


@dataclass(frozen=True)
class RunOptions:
    """What to run and the options that pass through to the stages.

    train: also label, train and evaluate (into SESSION/dataset and SESSION/run).
    until: the last stage to run. start: rerun from this stage on even when done (`--from`).
    force: replace outputs that `run` did not make (an imported keypoints2d.npz is detected anew).
    sync: False keeps the keypoints' timeline as it is (data known to be synchronized).
    max_offset_s: sync's largest offset searched, seconds (`epicap sync --max-offset`).
    model, people, max_people: detect (`--people` as `epicap detect` reads it: None everyone seen
    by two cameras, "1" the main subject only, "N", "all"; max_people None: `detector_slots`).
    subject_height_m, subject, intrinsics, shared_focal: calibrate (subject: the person id whose
    height subject_height_m is, "" = p0).
    student, epochs, device: train (and evaluate). train_settings: other TrainConfig fields as
    (name, text) pairs (`--set checkpoint_every=20`). snapshots: 3D pictures in the report.
    """

    train: bool = False
    until: str | None = None
    start: str | None = None
    force: bool = False
    sync: bool = True
    max_offset_s: float = 2.0
    model: str | None = None
    people: str | None = None
    max_people: int | None = None
    subject_height_m: float = 1.70
    subject: str = ""
    intrinsics: str | None = None
    shared_focal: bool = False
    student: str = "lifter"
    epochs: int = 30
    device: str = "cpu"
    train_settings: tuple[tuple[str, str], ...] = ()
    snapshots: bool = True

    def __post_init__(self):
        if not self.max_offset_s > 0:
            raise InputError(f"--max-offset must be positive, got {self.max_offset_s}")
        for key in ("until", "start"):
            value = getattr(self, key)
            if value is not None and value not in STAGES:
                raise InputError(f"--{'from' if key == 'start' else key}: unknown stage "
                                 f"{value!r}; valid: {', '.join(STAGES)}")
        if self.student not in ("lifter", "integral"):
            raise InputError(f"--student: {self.student!r}; valid: lifter, integral")
        if not self.subject_height_m > 0 or self.epochs < 1 or \
                (self.max_people is not None and self.max_people < 1):
            raise InputError("--subject-height must be positive, --epochs and --max-people >= 1")


def check_options(session: Path, options: RunOptions) -> None:
    """InputError for the first option of `options` that cannot work, before any stage runs.

    Checks what each stage would only find out when it starts: --people (a count or `all`), the
    subject's height (metres),
    the --intrinsics file (there and readable), the --model file, and the training options
    (when training is asked for or `--set` is given). Reads files, writes nothing.
    """
    from epicap.calibration_free.options import CalibrationOptions
    from epicap.keypoints.everyone import parse_people

    parse_people(options.people)
    try:
        CalibrationOptions(subject_height_m=options.subject_height_m,
                           shared_focal=options.shared_focal)
    except InputError as e:
        raise InputError(f"--subject-height {options.subject_height_m:g}: {e}") from None
    if options.intrinsics:
        from epicap.session.calibration_formats import load_calibration

        intrinsics = Path(options.intrinsics)
        if not intrinsics.exists():
            raise InputError(f"--intrinsics {intrinsics}: no such file")
        load_calibration(intrinsics)  # any lab format
    if options.model:
        from epicap.keypoints.models import check_task_file

        check_task_file(options.model)
    wants_training = options.train or any(s in TRAINING for s in (options.until, options.start))
    if wants_training or options.train_settings:
        try:
            train_config(session, options)
        except InputError as e:
            raise InputError(f"training options (--epochs, --device, --set): {e}") from None


def train_config(session: Path, options: RunOptions):
    """The TrainConfig of a run's train stage (SESSION/dataset -> SESSION/run); InputError for a
    `--set` that names no training option or holds a value of the wrong kind or range."""
    from epicap.training.train import TrainConfig

    fields = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    values = {}
    for key, text in options.train_settings:
        if key not in fields or key in ("dataset", "out", "student", "quiet"):
            raise InputError(f"--set {key}: not a training option; valid: "
                             f"{', '.join(k for k in fields if k not in ('dataset', 'out'))}")
        kind = {"int": int, "float": float, "bool": bool, "str": str}[str(fields[key])]
        try:
            values[key] = (text.lower() in ("1", "true", "yes", "on")) if kind is bool \
                else kind(text)
        except ValueError:
            raise InputError(f"--set {key}={text}: not a valid {kind.__name__}") from None
    return TrainConfig(dataset=str(session / DATASET_DIR), out=str(session / RUN_DIR),
                       student=options.student, epochs=options.epochs, device=options.device,
                       quiet=True, **values).validate()
