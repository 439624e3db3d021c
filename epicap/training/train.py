"""Train a monocular student on a pseudo-label dataset. Reads top to bottom, like nanoGPT's train.py.

    config -> data (train/validation split) -> model, optimizer -> resume? -> loop:
        batch -> augment -> forward (AMP on CUDA) -> scale-normalized smooth-L1 -> step
        every log_every (at most 1/20 of the run): a row of RUN/metrics.csv; every checkpoint_every: RUN/checkpoint.pt
        whenever validation improves: RUN/best.pt (what evaluate and infer load by default)

Length: `steps` when given; else `epochs` passes over the training split but at least `min_steps`
optimisation steps, so a small session (a Pose2Sim trial: 100 frames x 4 cameras, one step per
epoch) trains as long as it needs and a large one by its epochs. Warm-up is `warmup_steps` capped
at 5% of the run, then a cosine decay to 5% of `lr` over the rest: both relative to the run.

Distributed: launched by `torchrun`, the environment (RANK, WORLD_SIZE, LOCAL_RANK) switches on
DistributedDataParallel (gloo on CPU, NCCL on CUDA); each process takes its share of every global
batch; rank 0 alone validates, logs and saves.

Exact resume: the order of samples comes from (seed, epoch) and every step's augmentation and
dropout from (seed, step, rank), so a run killed after a checkpoint and resumed from it takes the
very same steps as one that never stopped.
"""
from __future__ import annotations

import csv
import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from epicap.console import progress, warn
from epicap.errors import InputError
from epicap.training.checkpoint import (BEST_FILE, CHECKPOINT_FILE, load_checkpoint,
                                        save_checkpoint)
from epicap.training.dataset import PoseDataset
from epicap.training.inputs import AugmentOptions, Batches
from epicap.training.models import STUDENTS, build_model
from epicap.training.poses import pose_scale, scale_align, weighted_smooth_l1

__all__ = ["TrainConfig", "train", "split_indices", "run_length", "convergence_warnings",
           "METRICS_FILE", "RESUME_OVERRIDABLE"]

METRICS_FILE = "metrics.csv"
METRIC_COLUMNS = ("step", "epoch", "train_loss", "val_mpjpe_mm", "val_n_mpjpe_mm", "lr",
                  "samples_per_s")
MIN_STEPS = 500  # the shortest default run: converges on a 100-frame, 4-camera session
WARMUP_FRACTION = 0.05  # warm-up is at most this share of the run
LOG_ROWS = 20  # a run logs at least this many rows (log_every shrinks for a short run)
STILL_IMPROVING = 0.05  # validation error falling by more than this over the run's last quarter
# what may change when a run is resumed (the rest defines the model and the data it sees)
RESUME_OVERRIDABLE = {"epochs", "steps", "min_steps", "max_steps", "checkpoint_every", "log_every",
                      "device", "amp", "out", "dataset", "quiet"}


@dataclass
class TrainConfig:
    """Everything a run depends on; overridable from a TOML file and the command line.

    student: lifter | integral. loss: normalized (EpipolarPose's scale-normalized smooth-L1) or
    metric (smooth-L1 on metric poses). target: label (the pseudo-labels) or truth (true 3D, for
    comparison, when the dataset carries it).
    Length (see `run_length`): steps, the exact number of optimisation steps (0: from epochs);
    epochs, passes over the training split, but at least min_steps steps in all. warmup_steps:
    linear warm-up, capped at 5% of the run. max_steps: stop after this many steps in all
    without changing the schedule (0: no early stop). Lifter: window (frames, odd), width, blocks,
    dropout. Integral: backbone, input_size, depth_bins, deconv_channels. Augmentation: see
    `AugmentOptions`.
    """

    dataset: str = ""
    out: str = ""
    student: str = "lifter"
    epochs: int = 30
    steps: int = 0
    min_steps: int = MIN_STEPS
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    loss: str = "normalized"
    target: str = "label"
    val_fraction: float = 0.1
    checkpoint_every: int = 500
    log_every: int = 50
    seed: int = 0
    device: str = "cpu"
    amp: bool = True
    max_steps: int = 0
    quiet: bool = False
    window: int = 1
    width: int = 1024
    blocks: int = 2
    dropout: float = 0.25
    backbone: str = "resnet18"
    input_size: int = 256
    depth_bins: int = 64
    deconv_channels: int = 256
    flip: bool = True
    rotation_deg: float = 15.0
    scale: float = 0.25
    noise: float = 0.01
    joint_dropout: float = 0.05
    occlusion: float = 0.5

    def validate(self) -> "TrainConfig":
        """InputError for a value that cannot work, naming the option and the valid choices."""
        choices = {"student": STUDENTS, "loss": ("normalized", "metric"),
                   "target": ("label", "truth"), "device": ("cpu", "cuda")}
        for key, valid in choices.items():
            if getattr(self, key) not in valid:
                raise InputError(f"--{key}: {getattr(self, key)!r} is not one of "
                                 f"{', '.join(valid)}")
        positive = ("epochs", "batch_size", "checkpoint_every", "log_every", "width", "blocks",
                    "input_size", "depth_bins", "deconv_channels", "window")
        for key in positive:
            if getattr(self, key) <= 0:
                raise InputError(f"--{key.replace('_', '-')} must be positive")
        if not self.lr > 0:
            raise InputError(f"--lr must be positive, got {self.lr}")
        if not 0 <= self.val_fraction < 1:
            raise InputError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.window % 2 == 0:
            raise InputError(f"--window must be odd (the centre frame is predicted), got "
                             f"{self.window}")
        for key in ("max_steps", "steps", "min_steps", "warmup_steps"):
            if getattr(self, key) < 0:
                raise InputError(f"--{key.replace('_', '-')} must be 0 or positive, got "
                                 f"{getattr(self, key)}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise InputError("--device cuda: no CUDA device is available here")
        return self

    def model_config(self, num_joints: int) -> dict:
        if self.student == "lifter":
            return {"student": "lifter", "num_joints": num_joints, "window": self.window,
                    "width": self.width, "blocks": self.blocks, "dropout": self.dropout}
        return {"student": "integral", "num_joints": num_joints, "backbone": self.backbone,
                "depth_bins": self.depth_bins, "deconv_channels": self.deconv_channels}

    def augment_options(self) -> AugmentOptions:
        return AugmentOptions(self.flip, self.rotation_deg, self.scale, self.noise,
                              self.joint_dropout, self.occlusion)


def split_indices(ds: PoseDataset, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) sample indices: the last `val_fraction` of every session's frames
    (all its cameras) is held out, so no validation frame is seen from another view in training."""
    src = ds.all("source")
    frames = np.array([s["frames"] for s in ds.manifest["sources"]])
    val = src[:, 2] >= np.ceil((1 - val_fraction) * frames[src[:, 0]])
    if val_fraction > 0 and (val.all() or not val.any()):
        val = np.arange(len(src)) % max(2, round(1 / val_fraction)) == 0
    return np.nonzero(~val)[0], np.nonzero(val)[0]


def run_length(cfg: TrainConfig, steps_per_epoch: int) -> tuple[int, int]:
    """(schedule steps, warm-up steps) of a run with `steps_per_epoch` batches per epoch.

    schedule steps: `cfg.steps` when set, else max(epochs x steps_per_epoch, min_steps) (0 when
    the dataset is smaller than one batch). warm-up: `cfg.warmup_steps`, at most 5% of the run.
    """
    if steps_per_epoch <= 0:
        return 0, 0
    total = cfg.steps or max(cfg.epochs * steps_per_epoch, cfg.min_steps)
    return total, min(cfg.warmup_steps, max(1, round(WARMUP_FRACTION * total)))


def convergence_warnings(validated: list[tuple[int, float]], steps_done: int, warmup: int,
                         ) -> list[str]:
    """Warnings for a run that ended too early: still warming up, or validation still improving.

    validated: (step, validation MPJPE mm) of every validation. steps_done: the last step run.
    Still improving: the best error of the last quarter of the steps is more than 5% below the
    best before it.
    """
    notes = []
    if steps_done < warmup:
        notes.append(f"training stopped at step {steps_done}, still in its warm-up of {warmup} "
                     "steps: the student has hardly learnt; train longer (--steps)")
    vals = [(s, v) for s, v in validated if math.isfinite(v)]
    early = [v for s, v in vals if s <= 0.75 * steps_done]
    late = [(v, s) for s, v in vals if s > 0.75 * steps_done]
    if len(vals) >= 4 and early and late and min(late)[0] < (1 - STILL_IMPROVING) * min(early):
        notes.append(f"validation MPJPE was still falling when training stopped ({min(early):.1f}"
                     f" mm before step {int(0.75 * steps_done)}, {min(late)[0]:.1f} mm at step "
                     f"{min(late)[1]}): more steps may help (e.g. --steps {2 * steps_done})")
    return notes


def train(cfg: TrainConfig, resume: bool = False) -> dict:
    """Train `cfg.student` on `cfg.dataset` into the folder `cfg.out`; returns a summary dict.

    resume: continue from `cfg.out/checkpoint.pt` (its config wins, except RESUME_OVERRIDABLE).
    """
    # ---- distributed set-up (torchrun's environment) -------------------------------------
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ
    rank, world = (int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])) if ddp else (0, 1)
    device = cfg.device
    if ddp:
        import torch.distributed as dist

        if cfg.device == "cuda":
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if cfg.device == "cuda" else "gloo")
    master = rank == 0
    try:
        result = _train(cfg, resume, rank, world, device, master)
        if ddp:
            # every rank leaves together: the master may still be validating and saving, and a
            # rank that tears its process group down first aborts gloo's threads under it
            torch.distributed.barrier()
        return result
    finally:
        if ddp:
            torch.distributed.destroy_process_group()


def _train(cfg: TrainConfig, resume: bool, rank: int, world: int, device: str,
           master: bool) -> dict:
    out = Path(cfg.out)
    ckpt_path = out / CHECKPOINT_FILE
    state = None
    if resume:
        state = load_checkpoint(ckpt_path, cfg.student)
        saved = state["config"]
        for key, value in dataclasses.asdict(cfg).items():
            if key not in RESUME_OVERRIDABLE and key in saved and saved[key] != value:
                raise InputError(f"--resume: {key} was {saved[key]!r} in {ckpt_path}, now "
                                 f"{value!r}; only {', '.join(sorted(RESUME_OVERRIDABLE))} "
                                 "may change")
    elif ckpt_path.exists():
        raise InputError(f"{ckpt_path}: a run exists; pass --resume to continue it or choose "
                         "another --out")
    cfg.validate()

    # ---- data ----------------------------------------------------------------------------
    ds = PoseDataset.open(cfg.dataset)
    skel = ds.skeleton
    if state is not None and state["joint_set"] != skel.name:
        raise InputError(f"{cfg.dataset}: joint set {skel.name}, the run was trained on "
                         f"{state['joint_set']}")
    if cfg.student == "integral" and not ds.crop_size:
        raise InputError(f"{cfg.dataset}: no person crops (labelled without videos); it can "
                         "train only the lifter")
    if cfg.target == "truth" and not ds.has_truth:
        raise InputError(f"{cfg.dataset}: --target truth, but the dataset carries no true 3D")
    batches = Batches(ds, cfg.student, cfg.window, cfg.input_size, cfg.target)
    train_idx, val_idx = split_indices(ds, cfg.val_fraction)
    if len(train_idx) == 0:
        raise InputError(f"{cfg.dataset}: no training samples after the validation split")
    pose_all, weight_all = batches.targets(train_idx)
    scale_m = float(state["scale_m"]) if state else float(
        pose_scale(pose_all, weight_all)[weight_all.sum(-1) > 0].median())
    batch = min(cfg.batch_size, len(train_idx))
    steps_per_epoch = len(train_idx) // batch
    schedule_steps, warmup = run_length(cfg, steps_per_epoch)  # the schedule ignores max_steps
    # a short run logs (and, with short epochs, validates) at least LOG_ROWS times
    log_every = min(cfg.log_every, max(1, schedule_steps // LOG_ROWS))
    total_steps = min(schedule_steps, cfg.max_steps) if cfg.max_steps else schedule_steps

    # ---- model, optimizer ----------------------------------------------------------------
    torch.manual_seed(cfg.seed)
    model_config = cfg.model_config(len(skel))
    model = build_model(model_config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, loss_sum, loss_count = 0, 0.0, 0
    best_mm, best_step = math.inf, 0
    if state is not None:
        best_mm, best_step = float(state.get("best_val_mm", math.inf)), \
            int(state.get("best_step", 0))
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, loss_sum, loss_count = int(state["step"]), float(state["loss_sum"]), \
            int(state["loss_count"])
    raw_model = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(model, device_ids=[device] if "cuda" in device else None)
    use_amp = cfg.amp and "cuda" in device
    aug = cfg.augment_options()

    def lr_at(s: int) -> float:  # linear warm-up, then cosine to 5% of lr
        if s < warmup:
            return cfg.lr * (s + 1) / warmup
        frac = (s - warmup) / max(1, schedule_steps - warmup)
        return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))

    def targets_in_model_units(pose: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        if cfg.loss == "normalized":  # EpipolarPose: unit-scale poses
            return pose / pose_scale(pose, weight)[:, None, None]
        return pose / scale_m

    resolved = dataclasses.asdict(cfg)

    def save(step_done: int, best: bool = False) -> None:
        """checkpoint.pt (everything to resume), or best.pt (the weights, no optimizer)."""
        common = {"model_config": model_config, "model": raw_model.state_dict(),
                  "step": step_done, "epoch": step_done // max(1, steps_per_epoch),
                  "config": resolved, "joint_set": skel.name, "joints": list(skel.joints),
                  "scale_m": scale_m, "loss": cfg.loss, "best_val_mm": best_mm,
                  "best_step": best_step, "dataset": str(Path(cfg.dataset).resolve())}
        if best:
            save_checkpoint(out / BEST_FILE, common)
        else:
            save_checkpoint(ckpt_path, {**common, "optimizer": optimizer.state_dict(),
                                        "loss_sum": loss_sum, "loss_count": loss_count})

    # ---- metrics file ----------------------------------------------------------------------
    metrics_path = out / METRICS_FILE
    writer = None
    validated: list[tuple[int, float]] = []  # (step, validation MPJPE mm)
    if master:
        out.mkdir(parents=True, exist_ok=True)
        if not resume:  # a best.pt of an earlier run in this folder is not this run's
            (out / BEST_FILE).unlink(missing_ok=True)
        rows = []
        if resume and metrics_path.exists():  # drop rows logged after the checkpoint
            with open(metrics_path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= step]
        validated = [(int(r["step"]), float(r["val_mpjpe_mm"])) for r in rows
                     if r["val_mpjpe_mm"]]
        with open(metrics_path, "w", newline="") as f:
            w = csv.DictWriter(f, METRIC_COLUMNS)
            w.writeheader()
            w.writerows(rows)
        try:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(out / "tensorboard"))
        except ImportError:
            writer = None

    def log(row: dict) -> None:
        with open(metrics_path, "a", newline="") as f:
            csv.DictWriter(f, METRIC_COLUMNS).writerow(row)
        if writer is not None:
            for key, value in row.items():
                if key not in ("step", "epoch") and value != "":
                    writer.add_scalar(key, float(value), row["step"])

    @torch.no_grad()
    def validate() -> tuple[float, float]:
        if len(val_idx) == 0:
            return float("nan"), float("nan")
        raw_model.eval()
        errs, n_errs, n = 0.0, 0.0, 0.0
        for i in range(0, len(val_idx), batch):
            idx = val_idx[i:i + batch]
            x = batches.inputs(idx).to(device)
            pose, weight = (t.to(device) for t in batches.targets(idx))
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                pred = raw_model(x).float() * scale_m
            mask = weight > 0
            e = (pred - torch.nan_to_num(pose)).norm(dim=-1)
            ne = (scale_align(pred, pose, weight) - torch.nan_to_num(pose)).norm(dim=-1)
            errs += float(e[mask].sum())
            n_errs += float(ne[mask].sum())
            n += float(mask.sum())
        raw_model.train()
        return 1000 * errs / max(n, 1), 1000 * n_errs / max(n, 1)

    # ---- the loop ------------------------------------------------------------------------
    model.train()
    perm_epoch, perm = -1, None
    bar = progress(total=total_steps, desc=f"train {cfg.student}", unit="step") \
        if master and not cfg.quiet else None
    if bar is not None:
        bar.update(step)
    t_log, samples_since = time.perf_counter(), 0
    val_mm = n_val_mm = float("nan")
    while step < total_steps:
        epoch = step // steps_per_epoch
        if epoch != perm_epoch:
            perm = np.random.default_rng([cfg.seed, epoch]).permutation(train_idx)
            perm_epoch = epoch
        k = step % steps_per_epoch
        idx = perm[k * batch:(k + 1) * batch][rank::world]
        seeds = np.random.SeedSequence([cfg.seed, step, rank]).generate_state(2, np.uint64)
        torch.manual_seed(int(seeds[0]) >> 1)  # dropout: a function of the step
        gen = torch.Generator().manual_seed(int(seeds[1]) >> 1)  # augmentation, likewise
        x = batches.inputs(idx)
        pose, weight = batches.targets(idx)
        x, pose = batches.augment(x, pose, aug, gen)
        target = targets_in_model_units(pose, weight)
        x, target, weight = x.to(device), target.to(device), weight.to(device)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            pred = model(x)
        loss = weighted_smooth_l1(pred.float(), target, weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        step += 1
        loss_sum += loss.item()
        loss_count += 1
        samples_since += len(idx) * world
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}")
        # short epochs (a small session: one step each) log and validate every log_every steps
        end_of_epoch = (step % steps_per_epoch == 0 and steps_per_epoch >= log_every) \
            or step == total_steps
        if master and (step % log_every == 0 or end_of_epoch):
            elapsed = time.perf_counter() - t_log
            checks = end_of_epoch or step % cfg.checkpoint_every == 0 or \
                steps_per_epoch < log_every
            if checks:
                val_mm, n_val_mm = validate()
                validated.append((step, val_mm))
                if val_mm < best_mm:  # NaN (no validation split) never is
                    best_mm, best_step = val_mm, step
                    save(step, best=True)
            log({"step": step, "epoch": epoch, "train_loss": f"{loss_sum / loss_count:.6f}",
                 "val_mpjpe_mm": f"{val_mm:.2f}" if checks else "",
                 "val_n_mpjpe_mm": f"{n_val_mm:.2f}" if checks else "",
                 "lr": f"{lr_at(step - 1):.3g}", "samples_per_s": f"{samples_since / elapsed:.1f}"})
            loss_sum, loss_count, t_log, samples_since = 0.0, 0, time.perf_counter(), 0
        if master and (step % cfg.checkpoint_every == 0 or step == total_steps):
            save(step)
    if bar is not None:
        bar.close()
    if master and math.isnan(val_mm):  # nothing validated in this call (a resumed, finished run)
        val_mm, n_val_mm = validate()
    if master and writer is not None:
        writer.close()
    notes = []
    if master and total_steps == 0:
        warn("nothing to train: the dataset is smaller than one batch or max_steps is 0")
    elif master:
        notes = convergence_warnings(validated, step, warmup)
        for note in notes:
            warn(note)
    best_path = out / BEST_FILE
    return {"steps": step, "schedule_steps": schedule_steps, "warmup_steps": warmup,
            "epochs": step / max(1, steps_per_epoch), "train_samples": int(len(train_idx)),
            "val_samples": int(len(val_idx)), "val_mpjpe_mm": val_mm, "val_n_mpjpe_mm": n_val_mm,
            "best_val_mpjpe_mm": best_mm if math.isfinite(best_mm) else float("nan"),
            "best_step": best_step, "scale_m": scale_m, "checkpoint": str(ckpt_path),
            "best_checkpoint": str(best_path) if best_path.is_file() else None,
            "warnings": notes}
