"""Every landed verb against the faults of the bad-input matrix (`tests.hardening.matrix`).

A refused case must exit with status 2, print exactly one line on stderr (`epicap VERB: error:
...`, no traceback) and leave every file of its workspace as it was (paths, mtimes and contents
compared before and after): nothing half-written, existing outputs untouched. A coped-with case
must exit 0 without a traceback. A few cases also run as real subprocesses, to see the stderr a
user sees.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from epicap.cli import main
from tests.hardening.helpers import ReadOnlyFolder, full_disk, snapshot
from tests.hardening.matrix import CASES, FAULTS, Workspace

REPO = Path(__file__).resolve().parents[2]


def check_refused(verb: str, status: int, err: str, before: dict, after: dict, message: str):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert status == 2, f"exit {status}, stderr:\n{err}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith(f"epicap {verb.split()[0]}: error: "), lines[0]
    assert message in lines[0], f"{message!r} not in {lines[0]!r}"
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert not changed, f"files created, changed or removed: {sorted(changed)}"




@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matrix(case, tmp_path, capsys, monkeypatch):
    w = Workspace(tmp_path)
    argv = case.build(w)
    capsys.readouterr()
    before = snapshot(tmp_path)
    if case.read_only:
        with ReadOnlyFolder(tmp_path / case.read_only, monkeypatch):
            status = main(argv)
    else:
        if case.full_disk:
            full_disk(monkeypatch)
        status = main(argv)
    monkeypatch.undo()
    out, err = capsys.readouterr()
    after = snapshot(tmp_path)
    if case.exit == 2:
        check_refused(case.verb, status, err, before, after, case.message)
    else:
        assert status == case.exit, f"exit {status}, stderr:\n{err}"
        assert "Traceback" not in err
        assert case.message in out, f"{case.message!r} not in stdout:\n{out}"
        assert not [k for k in after if k.endswith((".tmp", ".partial", ".partial.mp4"))]


def test_every_fault_is_named():
    assert {c.fault for c in CASES} <= set(FAULTS)


# ---- as a user runs it: subprocesses ---------------------------------------------------------

SUBPROCESS_CASES = [c for c in CASES if not (c.read_only or c.full_disk) and c.exit == 2
                    and c.fault in ("missing", "non-utf8", "wrong-shape")
                    and c.verb in ("ingest", "import openpose", "view", "export trc")]


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[c.id for c in SUBPROCESS_CASES])
def test_subprocess_one_line(case, tmp_path):
    w = Workspace(tmp_path)
    argv = case.build(w)
    before = snapshot(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "epicap.cli", *argv], capture_output=True,
                          env=env, cwd=tmp_path, timeout=300)
    err = proc.stderr.decode("utf-8", "replace")
    check_refused(case.verb, proc.returncode, err, before, snapshot(tmp_path), case.message)


def test_view_of_a_frame_with_nothing_triangulated(tmp_path):
    """A frame whose joints are all NaN used to crash the interpreter (Filament segfaults on a
    LineSet without lines); in a subprocess, so a regression fails this test, not the run."""
    import numpy as np

    from epicap.session import POSES_FILE, Poses3D

    session = Workspace(tmp_path).session(keypoints=False)
    poses = Poses3D.from_npz(session / POSES_FILE)
    poses.poses[0] = np.nan
    poses.save(session / POSES_FILE)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "epicap.cli", "view", str(session),
                           "--offscreen", str(tmp_path / "a.png"), "--frame", "0", "--size",
                           "160x120", "--quiet"], capture_output=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert (tmp_path / "a.png").stat().st_size > 0
