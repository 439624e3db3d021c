import json

import pytest

from epicap.cli import main
from epicap.training.labels import LabelOptions, label_sessions
from epicap.training.train import TrainConfig, train

from tests.training.sessions import make_session

KEYS = {"mpjpe_mm", "n_mpjpe_mm", "pa_mpjpe_mm", "pck3d_150", "auc", "pss50", "pss100", "samples"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmd_eval")
    s = make_session(root / "s", T=40, C=3, label_noise_m=0.01)
    label_sessions([s], root / "ds", LabelOptions(crops=False))
    heldout = make_session(root / "h", T=20, C=2, seed=7, truth=False)
    label_sessions([heldout], root / "h_ds", LabelOptions(crops=False))
    train(TrainConfig(dataset=str(root / "ds"), out=str(root / "run"), epochs=6, width=64,
                      blocks=1, batch_size=16, warmup_steps=2, min_steps=0, quiet=True))
    return root


def test_evaluate_json_against_truth_and_pseudo_labels(trained, capsys):
    assert main(["evaluate", str(trained / "run"), str(trained / "ds"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert KEYS <= set(res) and res["reference"] == "truth" and res["samples"] == 120
    assert res["pa_mpjpe_mm"] <= res["n_mpjpe_mm"] <= res["mpjpe_mm"] + 1e-6
    assert 0 <= res["pck3d_150"] <= 1 and 0 <= res["pss100"] <= res["pss50"] + 0.2 <= 1.2
    assert main(["evaluate", str(trained / "run"), str(trained / "h_ds"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["reference"] == "pseudo-labels" and res["samples"] == 40
    assert main(["evaluate", str(trained / "run"), str(trained / "ds"), "--split", "val"]) == 0
    out = capsys.readouterr().out
    assert "PSS@100" in out and "against the truth" in out


def test_evaluate_bad_input_exits_2(trained, tmp_path, capsys):
    (tmp_path / "junk.pt").write_bytes(b"\x00" * 100)
    assert main(["evaluate", str(tmp_path / "junk.pt"), str(trained / "ds")]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err
    assert main(["evaluate", str(trained / "run"), str(tmp_path)]) == 2
    assert main(["evaluate", str(tmp_path / "none"), str(trained / "ds")]) == 2
