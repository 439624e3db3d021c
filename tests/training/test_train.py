import argparse
import csv

import pytest
import torch

from epicap.errors import InputError
from epicap.training.checkpoint import load_checkpoint, load_student, save_checkpoint
from epicap.training.labels import LabelOptions, label_sessions
from epicap.training.train import TrainConfig, train

from tests.training.sessions import make_session

# min_steps=0: these runs take exactly their epochs (the default floor would lengthen them)
TINY_LIFTER = dict(student="lifter", width=64, blocks=1, batch_size=32, warmup_steps=2,
                   min_steps=0, log_every=2, checkpoint_every=4, quiet=True)
TINY_INTEGRAL = dict(student="integral", input_size=64, depth_bins=8, deconv_channels=32,
                     min_steps=0, batch_size=8, warmup_steps=1, log_every=1, checkpoint_every=3,
                     quiet=True)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    s = [make_session(root / f"s{i}", T=40, C=3, label_noise_m=0.01, px_noise=0.5,
                      video=(i == 0), seed=i) for i in range(2)]
    label_sessions(s, root / "lifter_ds", LabelOptions(crops=False))
    label_sessions(s[:1], root / "crop_ds", LabelOptions(crop_size=64))
    return root


def _metrics(run):
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_lifter_learns_and_logs(datasets, tmp_path):
    cfg = TrainConfig(dataset=str(datasets / "lifter_ds"), out=str(tmp_path / "run"), epochs=8,
                      **TINY_LIFTER)
    summary = train(cfg)
    rows = _metrics(tmp_path / "run")
    assert list(rows[0]) == ["step", "epoch", "train_loss", "val_mpjpe_mm", "val_n_mpjpe_mm",
                             "lr", "samples_per_s"]
    losses = [float(r["train_loss"]) for r in rows]
    assert losses[-1] < 0.6 * losses[0]
    vals = [float(r["val_mpjpe_mm"]) for r in rows if r["val_mpjpe_mm"]]
    assert len(vals) >= 8 and vals[-1] < 0.5 * vals[0]  # every epoch end, every checkpoint
    assert summary["train_samples"] + summary["val_samples"] == 240
    state = load_checkpoint(tmp_path / "run", "lifter")
    assert state["step"] == summary["steps"] and 0.3 < state["scale_m"] < 0.8  # RMS, metres
    assert state["config"]["width"] == 64 and state["model_config"]["student"] == "lifter"


def test_resume_after_a_stop_continues_exactly(datasets, tmp_path):
    base = dict(dataset=str(datasets / "lifter_ds"), epochs=3, window=3, **TINY_LIFTER)
    train(TrainConfig(out=str(tmp_path / "a"), **base))
    train(TrainConfig(out=str(tmp_path / "b"), max_steps=4, **base))  # stops at a log step
    assert load_checkpoint(tmp_path / "b")["step"] == 4
    train(TrainConfig(out=str(tmp_path / "b"), **base), resume=True)
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    assert a["step"] == b["step"] == 3 * (216 // 32)
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    strip = lambda rows: [(r["step"], r["train_loss"], r["val_mpjpe_mm"]) for r in rows]
    assert strip(_metrics(tmp_path / "a")) == strip(_metrics(tmp_path / "b"))


def test_resume_refuses_a_changed_model_or_another_student(datasets, tmp_path):
    base = dict(dataset=str(datasets / "lifter_ds"), out=str(tmp_path / "r"), epochs=1,
                **TINY_LIFTER)
    train(TrainConfig(**base))
    with pytest.raises(InputError, match="a run exists"):
        train(TrainConfig(**base))
    with pytest.raises(InputError, match="width was 64"):
        train(TrainConfig(**{**base, "width": 32}), resume=True)
    with pytest.raises(InputError, match="a lifter checkpoint, not a integral"):
        train(TrainConfig(**{**base, **TINY_INTEGRAL}), resume=True)


def test_bad_checkpoints_are_refused(datasets, tmp_path):
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "garbage.pt")
    train(TrainConfig(dataset=str(datasets / "lifter_ds"), out=str(tmp_path / "r"), epochs=1,
                      **TINY_LIFTER))
    state = load_checkpoint(tmp_path / "r")
    save_checkpoint(tmp_path / "old.pt", {**state, "epicap_version": "0.0.1"})
    with pytest.raises(InputError, match="written by epicap 0.0.1"):
        load_checkpoint(tmp_path / "old.pt")
    raw = (tmp_path / "r" / "checkpoint.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "cut.pt")
    # pickled objects (anything beyond tensors and plain data) are refused by weights_only
    torch.save({"format": "epicap-student", "bad": argparse.Namespace(a=1)},
               tmp_path / "obj.pt")
    with pytest.raises(InputError, match="weights_only"):
        load_checkpoint(tmp_path / "obj.pt")
    broken = {**state, "model": {k: v[..., :1] for k, v in state["model"].items()}}
    save_checkpoint(tmp_path / "shapes.pt", broken)
    with pytest.raises(InputError, match="do not fit"):
        load_student(tmp_path / "shapes.pt")


def test_dataset_problems_are_input_errors(datasets, tmp_path):
    with pytest.raises(InputError, match="not a dataset"):
        train(TrainConfig(dataset=str(tmp_path), out=str(tmp_path / "r"), **TINY_LIFTER))
    with pytest.raises(InputError, match="no person crops"):
        train(TrainConfig(dataset=str(datasets / "lifter_ds"), out=str(tmp_path / "r"),
                          **TINY_INTEGRAL))
    with pytest.raises(InputError, match="--loss"):
        train(TrainConfig(dataset=str(datasets / "lifter_ds"), out=str(tmp_path / "r"),
                          loss="l2", **TINY_LIFTER))


def test_integral_student_trains_end_to_end_on_cpu(datasets, tmp_path):
    cfg = TrainConfig(dataset=str(datasets / "crop_ds"), out=str(tmp_path / "run"), epochs=1,
                      max_steps=4, **TINY_INTEGRAL)
    summary = train(cfg)
    assert summary["steps"] == 4
    model, state = load_student(tmp_path / "run")
    out = model(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 17, 3) and torch.isfinite(out).all()
    assert state["model_config"] == {"student": "integral", "num_joints": 17,
                                     "backbone": "resnet18", "depth_bins": 8,
                                     "deconv_channels": 32}
    rows = _metrics(tmp_path / "run")
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert all(float(r["train_loss"]) > 0 for r in rows)


@pytest.mark.parametrize("field, value, message", [
    ("lr", 0.0, "--lr must be positive"), ("val_fraction", 1.0, "val_fraction must be in"),
    ("window", 2, "--window must be odd"), ("max_steps", -1, "--max-steps must be 0")])
def test_config_names_the_bad_option(field, value, message):
    with pytest.raises(InputError, match=message):
        TrainConfig(**{field: value}).validate()
