"""Student checkpoints: plain dicts of tensors, numbers and strings, loaded with weights_only=True.

A run folder holds two: `RUN/checkpoint.pt`, the last state (what `--resume` continues from),
and `RUN/best.pt`, the weights at the step of lowest validation MPJPE (no optimizer state). Given a
RUN folder, `load_student` (and so evaluate and infer) loads best.pt when there is one.

A checkpoint holds:

    format "epicap-student", version, epicap_version
    model_config  {"student": ..., kwargs}: what `build_model` needs
    model, optimizer: state dicts
    step, epoch: progress (the next step to run is `step`)
    config: the resolved training config (a dict)
    joint_set, joints, scale_m, loss: what predictions mean (pose_m = output * scale_m)
    best_val_mm, best_step: the lowest validation MPJPE so far and its step

Nothing in it is a pickled Python object, so `torch.load(weights_only=True)` reads it and a
checkpoint from elsewhere cannot run code on load.
"""
from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

from epicap import __version__
from epicap.errors import InputError
from epicap.session.io import atomic_write

__all__ = ["CHECKPOINT_FILE", "BEST_FILE", "CHECKPOINTS", "student_checkpoint", "CHECKPOINT_FORMAT",
           "CHECKPOINT_VERSION", "save_checkpoint", "load_checkpoint", "load_student"]

CHECKPOINT_FILE = "checkpoint.pt"
BEST_FILE = "best.pt"
CHECKPOINTS = ("best", "last")


def student_checkpoint(path: str | os.PathLike, which: str = "best") -> Path:
    """The checkpoint file to load for `path`: a file as it is; for a RUN folder its best.pt
    (which="best", falling back to checkpoint.pt when the run kept none) or checkpoint.pt
    ("last"). InputError for another `which`."""
    if which not in CHECKPOINTS:
        raise InputError(f"--checkpoint: {which!r} is not one of {', '.join(CHECKPOINTS)}")
    path = Path(path)
    if not path.is_dir():
        return path
    best = path / BEST_FILE
    return best if which == "best" and best.is_file() else path / CHECKPOINT_FILE
CHECKPOINT_FORMAT = "epicap-student"
CHECKPOINT_VERSION = 1


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Write `state` (plus format and version fields) atomically to `path`."""
    state = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
             "epicap_version": __version__, **state}
    with atomic_write(path) as f:
        torch.save(state, f)


def load_checkpoint(path: str | os.PathLike, student: str | None = None) -> dict:
    """Read and check a checkpoint; InputError for a missing, corrupt or foreign one.

    path: the checkpoint file, or a RUN folder holding `checkpoint.pt`.
    student: when given, the checkpoint must be of this student ("lifter" / "integral").
    A checkpoint from another epicap minor version is refused (its model may differ).
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint (train one with `epicap train`)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile, OSError,
            ValueError, AttributeError, TypeError) as e:
        text = str(e).strip()
        if isinstance(e, pickle.UnpicklingError) or "Weights only load failed" in text:
            reason = "not a plain-weights PyTorch file; refused (weights_only)"
        else:
            reason = text.splitlines()[0][:200] if text else type(e).__name__
        raise InputError(f"{path}: not a readable checkpoint ({reason})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path}: not an epicap student checkpoint")
    if state.get("version") != CHECKPOINT_VERSION:
        raise InputError(f"{path}: checkpoint format version {state.get('version')!r}, this "
                         f"epicap reads {CHECKPOINT_VERSION}")
    theirs = str(state.get("epicap_version", "?"))
    if theirs.split(".")[:2] != __version__.split(".")[:2]:
        raise InputError(f"{path}: written by epicap {theirs}, this is epicap {__version__}; "
                         "retrain with this version")
    for key in ("model_config", "model", "joint_set", "joints", "scale_m", "step", "config"):
        if key not in state:
            raise InputError(f"{path}: checkpoint lacks {key!r}")
    got = state["model_config"].get("student")
    if student is not None and got != student:
        raise InputError(f"{path}: a {got} checkpoint, not a {student}")
    return state


def load_student(path: str | os.PathLike, device: str = "cpu",
                 which: str = "best") -> tuple[torch.nn.Module, dict]:
    """The trained student in eval mode and its checkpoint dict (without optimizer state).

    path: a checkpoint file or a RUN folder; for a folder `which` picks best.pt (the lowest
    validation error, the default) or checkpoint.pt ("last"); see `student_checkpoint`. The dict's
    "path" says which file was loaded.
    """
    from epicap.training.models import build_model

    path = student_checkpoint(path, which)
    state = load_checkpoint(path)
    state["path"] = str(path)
    model = build_model(state["model_config"])
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError) as e:
        raise InputError(f"{path}: the weights do not fit the model they claim "
                         f"({str(e).splitlines()[0][:200]})") from None
    state.pop("optimizer", None)
    return model.to(device).eval(), state
