"""A training process killed with SIGKILL resumes from its last checkpoint exactly."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from epicap.training.checkpoint import load_checkpoint
from epicap.training.labels import LabelOptions, label_sessions

from tests.training.sessions import make_session

ARGS = ["--student", "lifter", "--epochs", "30", "--batch-size", "16", "--checkpoint-every",
        "3", "--set", "width=256", "--set", "warmup_steps=2", "--min-steps", "0", "--quiet"]


@pytest.mark.slow
def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    s = make_session(tmp_path / "s", T=30, C=2, label_noise_m=0.01)
    label_sessions([s], tmp_path / "ds", LabelOptions(crops=False))
    ds = str(tmp_path / "ds")
    # every part in its own process with the same thread count: bitwise identical arithmetic
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "epicap.cli", "train", ds, "--out"]
    subprocess.run(cmd + [str(tmp_path / "whole")] + ARGS, env=env, check=True)
    proc = subprocess.Popen(cmd + [str(tmp_path / "killed")] + ARGS, env=env)
    ckpt = tmp_path / "killed" / "checkpoint.pt"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if ckpt.exists() and load_checkpoint(ckpt)["step"] >= 6:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stopped = load_checkpoint(ckpt)["step"]
    assert 6 <= stopped < 30 * 3, "the run should be killed part-way"
    subprocess.run(cmd + [str(tmp_path / "killed"), "--resume"] + ARGS, env=env, check=True)
    a, b = load_checkpoint(tmp_path / "whole"), load_checkpoint(ckpt)
    assert a["step"] == b["step"] == 30 * (54 // 16)
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
