"""`epicap ingest` on short OpenCV-made videos."""
from epicap.cli import main
from epicap.session.manifest import SessionManifest
from tests.capture.test_video import make_video


def test_ingest_copies_and_reports(tmp_path, capsys):
    a = make_video(tmp_path / "cam01.mp4", 30)
    b = make_video(tmp_path / "cam02.mp4", 30)
    out = tmp_path / "s"
    assert main(["ingest", "--out", str(out), str(a), str(b), "--quiet"]) == 0
    assert "cam02" in capsys.readouterr().out
    man = SessionManifest.load(out)
    assert man.names == ["cam01", "cam02"] and man.camera("cam01").frame_count == 30
    assert (out / "videos" / "cam02.mp4").is_file()
    assert main(["ingest", "--out", str(out), str(a)]) == 2
    assert "pass --force" in capsys.readouterr().err


def test_ingest_reference_and_bad_video(tmp_path, capsys):
    a = make_video(tmp_path / "cam01.mp4", 10)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\0" * 100)
    assert main(["ingest", "--out", str(tmp_path / "s"), str(a), str(junk)]) == 2
    err = capsys.readouterr().err
    assert "junk.mp4" in err and "Traceback" not in err and not (tmp_path / "s").exists()
    assert main(["ingest", "--out", str(tmp_path / "s"), "--names", "left", "--reference",
                 str(a)]) == 0
    man = SessionManifest.load(tmp_path / "s")
    assert man.camera("left").external and man.video_path(tmp_path / "s", "left") == a.resolve()
