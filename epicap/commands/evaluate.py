"""Measure a trained student on a dataset: MPJPE, N-MPJPE, PA-MPJPE, PCK3D, AUC, PSS@50/100.

Errors are root-relative in each camera's frame, in millimetres: MPJPE as predicted (metres from
the training data's typical scale), N-MPJPE after the best scale, PA-MPJPE after the best
similarity transform. PCK3D counts joints within 150 mm, AUC averages PCK3D over 0..150 mm. The
Pose Structure Score PSS@k clusters the scale-normalized true poses with k-means and counts
predictions that fall in their truth's cluster (Ronchi et al. 2018).

The reference is the dataset's true 3D when it carries one (synthetic sessions), else its
pseudo-labels; the output says which. Evaluate on a dataset labelled from sessions the student
did not train on (or pass --split val for the held-out frames of its own dataset).

Example:
    epicap label heldout_session --out heldout
    epicap evaluate run1 heldout --json
"""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="run folder (or checkpoint.pt) from `epicap train`")
    parser.add_argument("dataset", metavar="DATASET", help="dataset folder from `epicap label`")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--split", choices=("all", "val"), default="all",
                        help="every sample (default) or the run's validation split")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best",
                        help="RUN's best.pt (lowest validation error, default) or its last "
                             "checkpoint.pt; the output names the file")


def run(args: argparse.Namespace) -> int:
    from epicap.console import format_table
    from epicap.errors import InputError
    from epicap.training.evaluate import evaluate_run

    if args.batch_size < 1:
        raise InputError("--batch-size must be positive")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InputError("--device cuda: no CUDA device is available here")
    result = evaluate_run(args.run, args.dataset, args.batch_size, args.device, args.split,
                          checkpoint=args.checkpoint)
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    rows = [["MPJPE (mm)", result.mpjpe_mm], ["N-MPJPE (mm)", result.n_mpjpe_mm],
            ["PA-MPJPE (mm)", result.pa_mpjpe_mm], ["PCK3D@150mm", result.pck3d_150],
            ["AUC (0-150 mm)", result.auc], ["PSS@50", result.pss50], ["PSS@100", result.pss100]]
    print(format_table(rows, ["metric", "value"], floatfmt=".3f"))
    print(f"{result.student} on {result.samples} samples, against the {result.reference}")
    print(f"student: {result.checkpoint}")
    return 0
