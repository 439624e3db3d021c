import json

from epicap.cli import main

from tests.training.sessions import make_session


def test_label_writes_a_dataset_and_reports_counts(tmp_path, capsys):
    a = make_session(tmp_path / "a", T=12, C=2, video=True)
    assert main(["label", str(a), "--out", str(tmp_path / "ds"), "--crop-size", "32"]) == 0
    out = capsys.readouterr().out
    assert "24 samples of 24" in out and "crops: yes" in out and "true 3D: yes" in out
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["num_samples"] == 24 and manifest["crop_size"] == 32
    assert manifest["sources"][0]["session"] == str(a.resolve())
    # never overwritten without --force
    assert main(["label", str(a), "--out", str(tmp_path / "ds"), "--no-crops"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["label", str(a), "--out", str(tmp_path / "ds"), "--no-crops", "--force"]) == 0
    assert json.loads((tmp_path / "ds" / "manifest.json").read_text())["crop_size"] is None
    assert not list((tmp_path / "ds").glob("*.crop.npy"))


def test_label_bad_input_exits_2(tmp_path, capsys):
    assert main(["label", str(tmp_path / "missing"), "--out", str(tmp_path / "ds")]) == 2
    err = capsys.readouterr().err
    assert "missing" in err and len(err.strip().splitlines()) == 1
    s = make_session(tmp_path / "s", T=5, C=2)
    (s / "cameras.toml").write_text("[cam1]\nname = 'cam1'\n")
    assert main(["label", str(s), "--out", str(tmp_path / "ds")]) == 2
    assert main(["label", str(s), "--out", str(tmp_path / "ds"), "--min-views", "0"]) == 2
    assert not (tmp_path / "ds" / "manifest.json").exists()
