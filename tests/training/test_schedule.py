"""Run length relative to the data: steps or epochs with a floor, warm-up capped at 5% of the run,
the checkpoint best on validation, and warnings for a run that ends too early."""
import csv
import math

import pytest

from epicap.errors import InputError
from epicap.training.checkpoint import load_checkpoint, load_student, student_checkpoint
from epicap.training.evaluate import evaluate_run
from epicap.training.labels import LabelOptions, label_sessions
from epicap.training.train import (MIN_STEPS, TrainConfig, convergence_warnings, run_length,
                                   train)

from tests.training.sessions import make_session

TINY = dict(student="lifter", width=32, blocks=1, batch_size=32, quiet=True)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("schedule")
    s = make_session(root / "s", T=30, C=2, label_noise_m=0.01)  # 54 training samples
    label_sessions([s], root / "ds", LabelOptions(crops=False))
    return root / "ds"


def _rows(run):
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_run_length_is_steps_or_epochs_with_a_floor_and_a_relative_warmup():
    default = TrainConfig()
    # a Pose2Sim trial: 360 training samples, one batch of 256 per epoch -> the floor
    assert run_length(default, 1) == (MIN_STEPS, min(100, round(0.05 * MIN_STEPS)))
    # a large session: its epochs, the full 100-step warm-up
    assert run_length(default, 500) == (30 * 500, 100)
    assert run_length(TrainConfig(steps=200), 500) == (200, 10)  # exact steps, 5% warm-up
    assert run_length(TrainConfig(epochs=8, min_steps=0), 6) == (48, 2)
    assert run_length(TrainConfig(steps=10, warmup_steps=0), 3) == (10, 0)
    assert run_length(default, 0) == (0, 0)  # smaller than one batch
    with pytest.raises(InputError, match="--min-steps must be 0 or positive"):
        TrainConfig(min_steps=-1).validate()
    with pytest.raises(InputError, match="--steps must be 0 or positive"):
        TrainConfig(steps=-5).validate()


def test_convergence_warnings():
    falling = [(s, 300.0 - s) for s in range(10, 110, 10)]  # 290 -> 200 mm, still going
    [note] = convergence_warnings(falling, 100, 5)
    assert "still falling" in note and "--steps 200" in note
    flat = [(s, 100.0 + (s % 20 == 0)) for s in range(10, 110, 10)]
    assert convergence_warnings(flat, 100, 5) == []
    [note] = convergence_warnings([(5, 250.0)], 5, 50)
    assert "still in its warm-up of 50 steps" in note
    assert convergence_warnings([(s, math.nan) for s in range(10, 60, 10)], 50, 2) == []


def test_the_floor_lengthens_a_short_run_and_the_warmup_follows(dataset, tmp_path):
    run = tmp_path / "run"
    summary = train(TrainConfig(dataset=str(dataset), out=str(run), epochs=2, min_steps=60,
                                log_every=10, **TINY))
    assert summary["steps"] == summary["schedule_steps"] == 60  # not 2 epochs x 1 step
    assert summary["warmup_steps"] == 3
    rows = _rows(run)
    lr = {int(r["step"]): float(r["lr"]) for r in rows}
    assert lr[3] == pytest.approx(1e-3)  # the warm-up's last step
    assert 0.9e-3 < lr[6] < 1e-3  # then the cosine, barely begun
    assert lr[60] == pytest.approx(0.05e-3, rel=0.02)  # the schedule ends with the run
    # a short run logs 20 rows (every 3 steps, not every log_every=10), and with one step per
    # epoch validates at each of them, not only at the end
    assert [int(r["step"]) for r in rows] == list(range(3, 61, 3))
    assert sum(1 for r in rows if r["val_mpjpe_mm"]) == 20


def test_best_checkpoint_is_kept_and_loaded_by_default(dataset, tmp_path):
    run = tmp_path / "run"
    summary = train(TrainConfig(dataset=str(dataset), out=str(run), steps=40, log_every=4,
                                lr=3e-3, **TINY))
    vals = [(float(r["val_mpjpe_mm"]), int(r["step"])) for r in _rows(run) if r["val_mpjpe_mm"]]
    best_mm, best_step = min(vals)
    assert summary["best_step"] == best_step
    assert summary["best_val_mpjpe_mm"] == pytest.approx(best_mm, abs=0.01)
    best, last = load_checkpoint(run / "best.pt"), load_checkpoint(run / "checkpoint.pt")
    assert best["step"] == best_step and last["step"] == 40 and "optimizer" not in best
    assert student_checkpoint(run) == run / "best.pt"
    assert student_checkpoint(run, "last") == run / "checkpoint.pt"
    assert load_student(run)[1]["path"] == str(run / "best.pt")
    with pytest.raises(InputError, match="--checkpoint: 'first'"):
        student_checkpoint(run, "first")
    # evaluate says which file it measured; the best one is no worse on the validation split
    ev_best = evaluate_run(run, dataset, split="val")
    ev_last = evaluate_run(run, dataset, split="val", checkpoint="last")
    assert ev_best.checkpoint.endswith("best.pt") and ev_last.checkpoint.endswith("checkpoint.pt")
    if best_step != 40:
        assert ev_best.mpjpe_mm < ev_last.mpjpe_mm + 1e-6


def test_a_run_stopped_in_its_warmup_warns(dataset, tmp_path, capsys):
    summary = train(TrainConfig(dataset=str(dataset), out=str(tmp_path / "r"), steps=200,
                                max_steps=3, log_every=1, **TINY))
    assert summary["steps"] == 3 and summary["warmup_steps"] == 10
    assert any("still in its warm-up of 10 steps" in n for n in summary["warnings"])
    assert "warning: training stopped at step 3" in capsys.readouterr().err


def test_a_short_run_still_learning_warns(dataset, tmp_path):
    """The old default on a small session: 30 epochs of one step each, far from converged."""
    summary = train(TrainConfig(dataset=str(dataset), out=str(tmp_path / "r"), epochs=30,
                                min_steps=0, **{**TINY, "width": 256}))
    assert summary["steps"] == 30
    assert any("still falling" in n for n in summary["warnings"]), summary["warnings"]
