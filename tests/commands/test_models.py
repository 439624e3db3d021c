"""`epicap models`: install builds the checksummed model, info shows it."""
from epicap.cli import main
from epicap.keypoints import models


def test_models_install_and_info(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(models, "_models_dir", lambda: tmp_path)
    assert main(["models", "info"]) == 2  # nothing built yet
    assert "epicap models install" in capsys.readouterr().err
    assert main(["models", "install"]) == 0
    out = capsys.readouterr().out
    assert models.BUILT_TASK_SHA256 in out and "(x - 0) / 255" in out
    assert main(["models", "info"]) == 0


def test_models_unknown_action_is_a_usage_error(capsys):
    import pytest

    with pytest.raises(SystemExit) as e:
        main(["models", "remove"])
    assert e.value.code == 2
