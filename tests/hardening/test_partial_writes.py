"""Failures half-way through a verb: what is left behind, and what the command line says.

The matrix injects a fault from the first write on; these tests let the first writes succeed and
fail a later one, where a verb has several files to write (ingest, import, record, colmap), and
check the command line's handling of errors from the operating system.
"""
from __future__ import annotations

import errno
import os
import shutil

import pytest

from epicap.cli import main
from epicap.errors import InputError
from tests.hardening.helpers import snapshot
from tests.hardening.matrix import Workspace


def _fail_on_call(real, n: int, err: int = errno.ENOSPC):
    """`real`, except that its n-th call (1-based) raises OSError(err)."""
    calls = {"n": 0}

    def wrapped(*a, **k):
        calls["n"] += 1
        if calls["n"] == n:
            raise OSError(err, os.strerror(err))
        return real(*a, **k)

    return wrapped


def test_ingest_removes_what_it_copied_when_a_later_copy_fails(tmp_path, capsys, monkeypatch):
    w = Workspace(tmp_path)
    videos = [w.video("a.mp4"), w.video("b.mp4"), w.video("c.mp4")]
    before = snapshot(tmp_path)
    monkeypatch.setattr(shutil, "copyfile", _fail_on_call(shutil.copyfile, 3))
    assert main(["ingest", "--out", w.path("s"), *videos, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space" in err and "c.mp4" in err
    assert snapshot(tmp_path) == before  # a.mp4 and b.mp4 were copied, then removed again
    assert not (tmp_path / "s").exists()


def test_ingest_force_keeps_the_old_session_when_the_manifest_fails(tmp_path, capsys,
                                                                   monkeypatch):
    w = Workspace(tmp_path)
    assert main(["ingest", "--out", w.path("s"), w.video("a.mp4"), "--quiet"]) == 0
    before = snapshot(tmp_path / "s")
    fresh = w.video("b.mp4")
    monkeypatch.setattr(os, "fsync", _fail_on_call(os.fsync, 1))  # the manifest's write
    assert main(["ingest", "--out", w.path("s"), fresh, "--force", "--quiet"]) == 2
    assert "session.toml" in capsys.readouterr().err
    assert snapshot(tmp_path / "s") == before  # videos/b.mp4 was new: removed again


def test_import_removes_its_keypoints_when_the_manifest_fails(tmp_path, capsys, monkeypatch):
    w = Workspace(tmp_path)
    npz = w.keypoints_npz()
    before = snapshot(tmp_path)
    monkeypatch.setattr(os, "fsync", _fail_on_call(os.fsync, 2))  # keypoints ok, manifest not
    assert main(["import", "npz", "--out", w.path("s"), npz]) == 2
    assert "session.toml" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_colmap_export_is_all_or_nothing(tmp_path, capsys, monkeypatch):
    w = Workspace(tmp_path)
    session = w.session()
    assert main(["export", str(session), "--format", "colmap", "--out", w.path("m"),
                 "--quiet"]) == 0
    before = snapshot(tmp_path / "m")
    assert len(before) >= 4  # cameras, images, points3D (and rigs, frames) .bin
    monkeypatch.setattr(os, "fsync", _fail_on_call(os.fsync, 3))  # the third file's flush
    assert main(["export", str(session), "--format", "colmap", "--out", w.path("m"), "--force",
                 "--text"]) == 2
    assert "No space" in capsys.readouterr().err
    assert snapshot(tmp_path / "m") == before  # no .txt moved in, no temporary folder left


def test_record_keeps_the_videos_and_says_how_to_use_them(tmp_path, capsys, monkeypatch):
    from epicap.capture.video import probe_video

    out = tmp_path / "s"
    monkeypatch.setattr(os, "fsync", _fail_on_call(os.fsync, 1))  # the manifest's write
    assert main(["record", "--out", str(out), "--camera", "synthetic:30", "--duration", "0.4",
                 "--quiet"]) == 2
    monkeypatch.undo()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "No space" in lines[0] and "epicap ingest" in lines[0]
    assert probe_video(out / "videos" / "cam01.mp4").frame_count >= 1
    assert not [p for p in out.rglob("*") if p.name.endswith((".tmp", ".partial.mp4"))]
    # the advice works
    assert main(["ingest", "--out", str(tmp_path / "again"), str(out / "videos" / "cam01.mp4"),
                 "--quiet"]) == 0


@pytest.mark.parametrize("err, status", [(errno.EACCES, 2), (errno.ENOSPC, 2), (errno.EROFS, 2),
                                         (errno.ENOENT, None), (None, None)])
def test_cli_reports_refusals_of_the_file_system_but_not_bugs(monkeypatch, capsys, err, status):
    """An OSError the machine raised (read-only, full disk) is one line and status 2; any other
    OSError is a bug and keeps its traceback (status 1 from the interpreter)."""
    import epicap.commands.report as report

    def run(args):
        if err is None:
            raise OSError("something odd")
        raise OSError(err, os.strerror(err), "/data/x.html")

    monkeypatch.setattr(report, "run", run)
    if status is None:
        with pytest.raises(OSError):
            main(["report", "somewhere"])
        return
    assert main(["report", "somewhere"]) == status
    line = capsys.readouterr().err
    assert line.count("\n") == 1 and line.startswith("epicap report: error: /data/x.html: ")


def test_cli_error_is_one_line_even_for_a_name_with_a_line_break(monkeypatch, capsys):
    import epicap.commands.report as report

    def run(args):
        raise InputError("/data/odd\nname.json: not valid JSON")

    monkeypatch.setattr(report, "run", run)
    assert main(["report", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "odd\\nname.json" in err
