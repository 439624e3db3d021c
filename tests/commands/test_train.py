import pytest

from epicap.cli import main
from epicap.training.checkpoint import load_checkpoint
from epicap.training.labels import LabelOptions, label_sessions

from tests.training.sessions import make_session

TINY = ["--set", "width=32", "--set", "blocks=1", "--batch-size", "32", "--set", "log_every=1",
        "--min-steps", "0"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmd_train")
    s = make_session(root / "s", T=30, C=2, label_noise_m=0.01)
    label_sessions([s], root / "ds", LabelOptions(crops=False))
    return root / "ds"


def test_train_from_flags_file_and_set(dataset, tmp_path, capsys):
    (tmp_path / "cfg.toml").write_text("[train]\nepochs = 2\ndropout = 0.0\nlr = 1\n")
    run = tmp_path / "run"
    assert main(["train", str(dataset), "--student", "lifter", "--out", str(run), "--config",
                 str(tmp_path / "cfg.toml"), "--lr", "0.002", "--max-steps", "2"] + TINY) == 0
    assert "trained lifter for 2 steps" in capsys.readouterr().out
    cfg = load_checkpoint(run)["config"]
    assert (cfg["epochs"], cfg["dropout"], cfg["lr"], cfg["width"]) == (2, 0.0, 0.002, 32)
    # --resume continues with the saved config; --epochs may grow
    assert main(["train", str(dataset), "--student", "lifter", "--out", str(run), "--resume",
                 "--epochs", "3"]) == 0
    state = load_checkpoint(run)
    assert state["step"] == 3 * (54 // 32) and state["config"]["width"] == 32


def test_train_bad_options_exit_2(dataset, tmp_path, capsys):
    base = ["train", str(dataset), "--student", "lifter", "--out", str(tmp_path / "r")]
    assert main(base + ["--set", "nonsense=1"]) == 2
    assert "unknown training option 'nonsense'" in capsys.readouterr().err
    assert main(base + ["--set", "width=wide"]) == 2
    assert main(base + ["--epochs", "0"]) == 2
    assert main(base + ["--resume"]) == 2  # nothing to resume
    assert main(["train", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert main(base[:-2] + ["--student", "integral", "--out", str(tmp_path / "r")]) == 2
    assert "no person crops" in capsys.readouterr().err
