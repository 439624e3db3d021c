"""Evaluate a trained student on a dataset: MPJPE, N-MPJPE, PA-MPJPE, PCK3D, AUC, PSS@50/100.

The reference is the dataset's true 3D when it carries it (datasets labelled from synthetic
sessions), else its pseudo-labels (joints with weight 0 are left out); `EvaluationResult.reference`
says which. Poses are compared root-relative in each camera's frame, in metres, reported in mm.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import torch

from epicap.errors import InputError
from epicap.geometry.metrics import auc, mpjpe, n_mpjpe, pa_mpjpe, pck3d
from epicap.training.checkpoint import load_student
from epicap.training.dataset import PoseDataset
from epicap.training.inputs import Batches
from epicap.training.metrics import pss

__all__ = ["EvaluationResult", "evaluate_run", "predict_dataset"]


@dataclass
class EvaluationResult:
    """Metrics of a student on a dataset (errors in mm; PCK3D, AUC and PSS are fractions)."""

    mpjpe_mm: float
    n_mpjpe_mm: float
    pa_mpjpe_mm: float
    pck3d_150: float
    auc: float
    pss50: float
    pss100: float
    samples: int
    reference: str
    student: str
    checkpoint: str = ""  # the file evaluated (a RUN folder's best.pt by default)

    def to_dict(self) -> dict:
        return asdict(self)


@torch.no_grad()
def predict_dataset(model: torch.nn.Module, state: dict, ds: PoseDataset,
                    indices: np.ndarray | None = None, batch_size: int = 256,
                    device: str = "cpu") -> np.ndarray:
    """Root-relative camera-frame poses (N, J, 3) metres predicted for samples `indices` (all).

    model, state: from `load_student`. ds: the dataset, of the student's joint set (InputError
    otherwise). indices: (N,) sample indices, every sample when None.
    """
    cfg = state["config"]
    student = state["model_config"]["student"]
    if ds.skeleton.name != state["joint_set"]:
        raise InputError(f"{ds.path}: joint set {ds.skeleton.name}, the student was trained on "
                         f"{state['joint_set']}")
    if student == "integral" and not ds.crop_size:
        raise InputError(f"{ds.path}: no person crops (labelled without videos); an integral "
                         "student needs them")
    batches = Batches(ds, student, int(cfg.get("window", 1)), int(cfg.get("input_size", 256)))
    indices = np.arange(len(ds)) if indices is None else np.asarray(indices)
    out = []
    for i in range(0, len(indices), batch_size):
        x = batches.inputs(indices[i:i + batch_size]).to(device)
        out.append(model(x).float().cpu().numpy())
    pred = np.concatenate(out) * float(state["scale_m"])
    return pred - pred[:, ds.skeleton.root_index].mean(axis=1, keepdims=True)  # root at 0


def evaluate_run(run: str | os.PathLike, dataset: str | os.PathLike, batch_size: int = 256,
                 device: str = "cpu", split: str = "all", seed: int = 0,
                 checkpoint: str = "best") -> EvaluationResult:
    """Metrics of the student in RUN on DATASET, root-relative in each camera's frame.

    run: a run folder from `train` (or a checkpoint file). dataset: a folder from `label`.
    checkpoint: for a run folder, "best" (best.pt: the lowest validation error; checkpoint.pt
    when the run kept none) or "last" (checkpoint.pt). The result's `checkpoint` names the file.
    batch_size: samples per forward pass. device: "cpu" or "cuda". seed: PSS's k-means start.
    split: "all" samples, or "val" (the validation split the training used, for a dataset the
    run was trained on).
    InputError for an unknown split, an empty validation split, a dataset of another joint set
    or one without a usable reference pose.
    """
    model, state = load_student(run, device, checkpoint)
    ds = PoseDataset.open(dataset)
    if split == "val":
        from epicap.training.train import split_indices

        indices = split_indices(ds, float(state["config"].get("val_fraction", 0.1)))[1]
        if len(indices) == 0:
            raise InputError(f"{dataset}: the validation split is empty")
    elif split == "all":
        indices = np.arange(len(ds))
    else:
        raise InputError(f"unknown split {split!r}; valid: all, val")
    pred = predict_dataset(model, state, ds, indices, batch_size, device)
    root = ds.skeleton.root_index
    if ds.has_truth:
        ref, reference = ds.get("truth", indices).astype(np.float64), "truth"
    else:
        ref = ds.get("label", indices).astype(np.float64)
        ref[ds.get("weight", indices) <= 0] = np.nan
        reference = "pseudo-labels"
    ref = ref - ref[:, root].mean(axis=1, keepdims=True)  # NaN root: the whole pose is NaN
    keep = np.isfinite(ref).all(-1).any(-1)
    if not keep.any():
        raise InputError(f"{dataset}: no sample has a usable reference pose")
    pred, ref = pred[keep], ref[keep]
    return EvaluationResult(
        mpjpe_mm=1000 * mpjpe(pred, ref), n_mpjpe_mm=1000 * n_mpjpe(pred, ref, root=None),
        pa_mpjpe_mm=1000 * pa_mpjpe(pred, ref), pck3d_150=pck3d(pred, ref, 0.150),
        auc=auc(pred, ref), pss50=pss(pred, ref, 50, seed), pss100=pss(pred, ref, 100, seed),
        samples=int(keep.sum()), reference=reference, student=state["model_config"]["student"],
        checkpoint=state["path"])
