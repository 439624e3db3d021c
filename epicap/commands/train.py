"""Train a monocular 3D pose student on a pseudo-label dataset (from `epicap label`).

Students: `lifter` (one view's 2D keypoints, optionally a window of frames, to root-relative 3D:
a residual MLP) and `integral` (EpipolarPose's image model: a ResNet, deconvolutions, volumetric
heatmaps and soft-argmax; needs a dataset with crops). The loss is EpipolarPose's smooth-L1 on
scale-normalized poses (`--loss metric` for metric poses). Augmentation: left/right flip, camera
roll, scale, keypoint jitter and synthetic occluders. The last 10% of every session's frames is
held out for validation.

Length: --steps N trains exactly N optimisation steps; otherwise --epochs passes over the training
split, but at least --min-steps steps (default 500), so a small session trains long enough and a
large one by its epochs. The warm-up is at most 5% of the run, the cosine schedule spans it all.
A warning says when a run ends still warming up or with its validation error still falling.

RUN receives checkpoint.pt (the last state: every --checkpoint-every steps and at the end;
`--resume` continues exactly where it stopped, even after a kill), best.pt (the weights of the
lowest validation MPJPE: what evaluate and infer load by default) and metrics.csv (step, epoch, train_loss,
val_mpjpe_mm, val_n_mpjpe_mm, lr, samples_per_s; TensorBoard logs too when it is installed).
Any option of the training config can also come from a TOML file (--config) or --set KEY=VALUE.
Several processes: `torchrun --nproc_per_node N -m epicap.cli train ...` (DDP; gloo on CPU).

Example:
    epicap train pseudo --student lifter --out run1 --epochs 50
    epicap train pseudo --student integral --out run2 --set input_size=128 --device cuda
    epicap train pseudo --student lifter --out run1 --resume --epochs 80
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import tomllib
from pathlib import Path

from epicap.errors import InputError

_FLAGS = ("epochs", "steps", "min_steps", "batch_size", "lr", "device", "loss", "target", "checkpoint_every",
          "max_steps", "window", "backbone", "input_size", "seed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", metavar="DATASET", help="dataset folder from `epicap label`")
    parser.add_argument("--student", choices=("lifter", "integral"), default="lifter",
                        help="which student to train (default lifter)")
    parser.add_argument("--out", required=True, metavar="RUN", help="run folder")
    parser.add_argument("--epochs", type=int, help="passes over the training split (default 30), "
                        "at least --min-steps steps")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="exactly N optimisation steps (instead of --epochs)")
    parser.add_argument("--min-steps", type=int, metavar="N",
                        help="the fewest steps an --epochs run takes (default 500; 0: none)")
    parser.add_argument("--batch-size", type=int, help="global batch size (default 256)")
    parser.add_argument("--lr", type=float, help="peak learning rate of AdamW (default 1e-3)")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default cpu")
    parser.add_argument("--loss", choices=("normalized", "metric"),
                        help="scale-normalized (EpipolarPose, default) or metric smooth-L1")
    parser.add_argument("--target", choices=("label", "truth"),
                        help="train on the pseudo-labels (default) or the true 3D of synthetic "
                             "sessions (for comparison)")
    parser.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (500)")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps in all "
                        "(the schedule stays that of the whole run)")
    parser.add_argument("--window", type=int, help="lifter: frames per input, odd (default 1)")
    parser.add_argument("--backbone", choices=("resnet18", "resnet34", "resnet50"),
                        help="integral: the ResNet (default resnet18)")
    parser.add_argument("--input-size", type=int, help="integral: input side in pixels (256)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--config", metavar="FILE.toml", help="training options from a file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any training option, e.g. --set width=512 (repeatable)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in RUN from its last checkpoint")


def config_from_args(args: argparse.Namespace):
    """The TrainConfig of the command line: defaults < --config file < --set < flags.

    With --resume the run's own config is the base, and only the options given change.
    """
    from epicap.training.checkpoint import load_checkpoint
    from epicap.training.train import TrainConfig

    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    overrides: dict = {}
    if args.config:
        try:
            doc = tomllib.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise InputError(f"{args.config}: not a readable TOML file ({e})") from None
        overrides.update(doc.get("train", doc))
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--set {item!r}: expected KEY=VALUE")
        overrides[key.strip()] = value.strip()
    for key in _FLAGS:
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    overrides.update(dataset=args.dataset, out=args.out, quiet=bool(args.quiet))
    if args.resume:  # the run's config; an early stop (max_steps) does not carry over
        base = {**load_checkpoint(Path(args.out), args.student)["config"], "max_steps": 0}
    else:
        base = dataclasses.asdict(TrainConfig(student=args.student))
    values = {k: v for k, v in base.items() if k in fields}
    for key, value in overrides.items():
        if key not in fields:
            raise InputError(f"unknown training option {key!r}; valid: {', '.join(fields)}")
        values[key] = _coerce(key, value, type(values[key]))
    values["student"] = args.student
    return TrainConfig(**values)


def _coerce(key: str, value, kind: type):
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        return kind(text)
    except ValueError:
        raise InputError(f"option {key}: {text!r} is not a valid {kind.__name__}") from None


def run(args: argparse.Namespace) -> int:
    from epicap.training.train import train

    cfg = config_from_args(args)
    summary = train(cfg, resume=args.resume)
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, one process reports
        print(f"trained {cfg.student} for {summary['steps']} steps on "
              f"{summary['train_samples']} samples; validation ({summary['val_samples']} "
              f"samples): MPJPE {summary['val_mpjpe_mm']:.1f} mm, N-MPJPE "
              f"{summary['val_n_mpjpe_mm']:.1f} mm; checkpoint {summary['checkpoint']}")
        if summary["best_checkpoint"]:
            print(f"best validation MPJPE {summary['best_val_mpjpe_mm']:.1f} mm at step "
                  f"{summary['best_step']}: {summary['best_checkpoint']} (evaluate and infer "
                  "use it)")
    return 0
