"""kill -9 during detect, calibrate, label and train, then `epicap run` again: the result equals
an uninterrupted run's, and no file in the session is ever left unreadable.

Every run is a real process (`python -m epicap.cli run`), killed with SIGKILL at a point found by
polling SESSION/run.toml (the stage says `running`) or the training checkpoint, after a short
delay drawn from a fixed seed. All processes use one thread (OMP_NUM_THREADS=1), so the outputs
are compared bitwise: keypoints, calibration, poses, dataset shards by SHA-256, the student's
weights with torch.equal. Temporary files a killed writer leaves (`.NAME.XXXXXXXX.tmp`) are
allowed right after the kill and must be gone after the rerun (the next run removes them).
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from epicap.pipeline.record import RECORD_FILE, fingerprint
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE
from epicap.synthetic import write_session
from tests.conftest import build_scene

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TRAIN = ["--train", "--epochs", "25", "--set", "batch_size=16", "--set", "checkpoint_every=8",
         "--set", "width=256", "--set", "min_steps=0"]


def _scene(**kw):
    return build_scene(num_frames=40, num_cameras=3, image_size=(320, 240), focal_px=300.0,
                       offsets_frames=(0.0, 1.0, -1.0), **kw)


def _command(session: Path, args: list[str]) -> list[str]:
    return [sys.executable, "-m", "epicap.cli", "run", str(session), "--quiet",
            "--no-snapshots", *args]


def _run(session: Path, args: list[str]) -> None:
    done = subprocess.run(_command(session, args), env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _stage_status(session: Path, stage: str) -> str | None:
    try:
        doc = tomllib.loads((session / RECORD_FILE).read_text())
    except FileNotFoundError:
        return None
    return doc.get("stages", {}).get(stage, {}).get("status")


def _kill_when(session: Path, args: list[str], ready, delay_s: float) -> None:
    """Start a run, wait until `ready()`, wait `delay_s`, SIGKILL it. Fails if it ended first."""
    proc = subprocess.Popen(_command(session, args), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while proc.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay_s)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert alive, f"the run ended before it could be killed: {err.decode()[-2000:]}"


def _temporaries(session: Path) -> list[Path]:
    return [p for p in session.rglob("*.tmp")]


def _assert_all_readable(session: Path) -> None:
    """Every finished file in the session opens: no truncated or corrupt file where one belongs."""
    import torch

    for path in session.rglob("*"):
        if not path.is_file() or path in _temporaries(session):
            continue
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                [z[k] for k in z.files]
        elif path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix == ".toml":
            tomllib.loads(path.read_text())
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".pt":
            torch.load(path, weights_only=True)


def _assert_same_outputs(a: Path, b: Path, names: list[str]) -> None:
    for name in names:
        assert fingerprint(a / name) == fingerprint(b / name), name


@pytest.mark.slow
def test_kill_during_detect_then_rerun(tmp_path):
    session = write_session(_scene(), tmp_path / "s", video=True)
    (session / KEYPOINTS_FILE).unlink()  # a session of videos only
    reference = shutil.copytree(session, tmp_path / "reference")
    _run(reference, ["--until", "detect", "--max-people", "1"])
    rng = random.Random(0)
    for attempt in range(2):  # killed twice, at different moments of the detection
        _kill_when(session, ["--until", "detect", "--max-people", "1"],
                   lambda: _stage_status(session, "detect") == "running", rng.uniform(0.2, 1.5))
        _assert_all_readable(session)
        assert _stage_status(session, "detect") == "running"
    _run(session, ["--until", "detect", "--max-people", "1"])
    _assert_same_outputs(session, reference, [KEYPOINTS_FILE])
    assert _stage_status(session, "detect") == "ran" and not _temporaries(session)


def test_kill_during_calibrate_then_rerun(tmp_path):
    """The default suite's fault test: one kill in the slowest stage of a plain run."""
    session = write_session(_scene(), tmp_path / "s")
    reference = shutil.copytree(session, tmp_path / "reference")
    args = ["--until", "triangulate"]
    _run(reference, args)
    _kill_when(session, args, lambda: _stage_status(session, "calibrate") == "running",
               random.Random(1).uniform(0.3, 1.5))
    _assert_all_readable(session)
    assert _stage_status(session, "calibrate") == "running"
    _run(session, args)
    _assert_same_outputs(session, reference, [KEYPOINTS_FILE, "keypoints2d_raw.npz",
                                              CAMERAS_FILE, POSES_FILE])
    assert not _temporaries(session)


@pytest.mark.slow
def test_kill_during_calibrate_label_and_train_then_rerun(tmp_path):
    import torch

    session = write_session(_scene(), tmp_path / "s")
    reference = shutil.copytree(session, tmp_path / "reference")
    _run(reference, TRAIN)
    rng = random.Random(2)
    checkpoint = session / "run" / "checkpoint.pt"
    kills = [("calibrate", lambda: _stage_status(session, "calibrate") == "running",
              rng.uniform(0.3, 1.5)),
             ("label", lambda: _stage_status(session, "label") == "running", 0.0),
             ("train", lambda: checkpoint.is_file() and _stage_status(session, "train")
              == "running", rng.uniform(0.0, 0.3))]
    for stage, ready, delay in kills:
        _kill_when(session, TRAIN, ready, delay)
        _assert_all_readable(session)
        assert _stage_status(session, stage) == "running", stage
    _run(session, TRAIN)
    record = tomllib.loads((session / RECORD_FILE).read_text())["stages"]
    assert "(resumed)" in record["train"]["figure"]  # training went on from its checkpoint
    dataset = sorted(p.relative_to(reference).as_posix()
                     for p in (reference / "dataset").rglob("*") if p.is_file())
    assert dataset == sorted(p.relative_to(session).as_posix()
                             for p in (session / "dataset").rglob("*") if p.is_file())
    manifests = [json.loads((s / "dataset" / "manifest.json").read_text())
                 for s in (session, reference)]
    for m in manifests:  # it names the session folder, which differs
        for source in m["sources"]:
            source["session"] = Path(source["session"]).name
    assert manifests[0]["sources"][0]["session"] == "s"
    manifests[0]["sources"][0]["session"] = "reference"
    assert manifests[0] == manifests[1]
    dataset.remove("dataset/manifest.json")
    _assert_same_outputs(session, reference, [KEYPOINTS_FILE, CAMERAS_FILE, POSES_FILE,
                                              *dataset])
    a = torch.load(reference / "run" / "checkpoint.pt", weights_only=True)
    b = torch.load(checkpoint, weights_only=True)
    assert a["step"] == b["step"]
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    ea = json.loads((reference / "run" / "evaluation.json").read_text())
    eb = json.loads((session / "run" / "evaluation.json").read_text())
    # the file evaluated is named by its path, which differs by the session's folder only
    assert Path(ea.pop("checkpoint")).relative_to(reference) == \
        Path(eb.pop("checkpoint")).relative_to(session)
    assert ea == eb
    assert not _temporaries(session)
