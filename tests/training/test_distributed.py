"""DistributedDataParallel with 2 CPU processes (gloo), launched by torchrun as a user would."""
import os
import subprocess
import sys

import torch

from epicap.training.checkpoint import load_checkpoint
from epicap.training.labels import LabelOptions, label_sessions

from tests.training.sessions import make_session

DETERMINISTIC = ["--set", "width=32", "--set", "blocks=1", "--set", "dropout=0", "--set",
                 "flip=false", "--set", "rotation_deg=0", "--set", "noise=0", "--set",
                 "joint_dropout=0", "--set", "warmup_steps=2", "--batch-size", "16", "--epochs",
                 "2", "--min-steps", "0"]


def _child_errors(stderr: str) -> str:
    """The lines of a failed torchrun's stderr that say why (torchrun's summary hides them)."""
    keep = [line for line in stderr.splitlines()
            if any(k in line for k in ("Error", "error", "terminate", "what()", "Abort", "gloo"))]
    return "\n".join(keep[:40]) + "\n...\n" + stderr[-1500:]


def test_two_processes_train_like_one(tmp_path):
    s = make_session(tmp_path / "s", T=30, C=2, label_noise_m=0.01)
    label_sessions([s], tmp_path / "ds", LabelOptions(crops=False))
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "epicap.cli", "train", str(tmp_path / "ds"), "--student", "lifter", "--out",
           str(tmp_path / "ddp"), "--quiet"] + DETERMINISTIC
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, _child_errors(done.stderr)
    assert done.stdout.count("trained lifter") == 1  # one process reports and saves
    ddp = load_checkpoint(tmp_path / "ddp")
    # the same run in one process: DDP's averaged gradients of two half batches are the
    # gradient of the whole batch, so the weights agree up to float rounding
    from epicap.cli import main

    assert main(["train", str(tmp_path / "ds"), "--student", "lifter", "--out",
                 str(tmp_path / "one"), "--quiet"] + DETERMINISTIC) == 0
    one = load_checkpoint(tmp_path / "one")
    assert ddp["step"] == one["step"] == 2 * (54 // 16)
    for key, value in one["model"].items():
        torch.testing.assert_close(ddp["model"][key], value, atol=2e-5, rtol=1e-4)
