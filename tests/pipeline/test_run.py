"""`epicap run`: stages run once, a changed input reruns exactly what depends on it, a user's files
are kept, a sync killed half-way is redone from the detected keypoints (in-process; the real
kill -9 tests are in tests/faults)."""
import shutil

import numpy as np
import pytest

from epicap.cli import main
from epicap.pipeline.run import RunOptions, run_session
from epicap.pipeline.record import RECORD_FILE, RunRecord, fingerprint, session_lock
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Keypoints2D, Poses3D
from epicap.synthetic import write_session
from tests.conftest import build_scene


@pytest.fixture
def session(tmp_path):
    """3 cameras, 40 frames, offsets 0, +1, -1 frames; intrinsics known (fast calibration)."""
    scene = build_scene(num_frames=40, num_cameras=3, image_size=(320, 240), focal_px=300.0,
                        offsets_frames=(0.0, 1.0, -1.0))
    return write_session(scene, tmp_path / "s")


def _run(session, **kw):
    kw.setdefault("intrinsics", str(session / "truth" / CAMERAS_FILE))
    kw.setdefault("snapshots", False)
    return {r.stage: r.status for r in run_session(session, RunOptions(**kw))}


def test_first_run_runs_every_stage_and_the_second_none(session, tmp_path):
    by_hand = shutil.copytree(session, tmp_path / "by_hand")
    first = _run(session)
    assert first["detect"].startswith("skipped: no videos")
    assert [first[s] for s in ("sync", "calibrate", "triangulate", "report")] == ["ran"] * 4
    assert all(first[s].startswith("skipped: not asked") for s in ("label", "train", "evaluate"))
    assert (session / "report.html").is_file() and (session / POSES_FILE).is_file()
    # the files are those the verbs make, one by one
    intrinsics = str(session / "truth" / CAMERAS_FILE)
    for verb in (["sync"], ["calibrate", "--intrinsics", intrinsics], ["triangulate"]):
        assert main([verb[0], str(by_hand), *verb[1:], "--quiet"]) == 0
    for name in (KEYPOINTS_FILE, "keypoints2d_raw.npz", CAMERAS_FILE, POSES_FILE,
                 "calibration.toml"):
        assert fingerprint(session / name) == fingerprint(by_hand / name), name
    report = (session / "report.html").read_text()
    assert "How the joints fix each camera" in report
    # the recording's advice, printed beside calibrate's table, is in the report too
    assert "What calibrate warned about" in report and "calibration wants" in report
    assert Poses3D.from_npz(session / POSES_FILE).valid.mean() > 0.9
    before = {p: fingerprint(session / p) for p in (KEYPOINTS_FILE, CAMERAS_FILE, POSES_FILE)}
    second = _run(session)
    assert [second[s] for s in ("sync", "calibrate", "triangulate", "report")] == ["done"] * 4
    assert before == {p: fingerprint(session / p) for p in before}


def test_a_changed_option_reruns_what_depends_on_it_and_nothing_else(session):
    _run(session)
    h0 = Poses3D.from_npz(session / POSES_FILE).poses[..., 2]
    record = RunRecord.load(session)
    synced = record.stages["sync"].finished
    changed = _run(session, subject_height_m=2.0)
    assert changed["sync"] == "done" and RunRecord.load(session).stages["sync"].finished == synced
    assert [changed[s] for s in ("calibrate", "triangulate", "report")] == ["ran"] * 3
    h1 = Poses3D.from_npz(session / POSES_FILE).poses[..., 2]
    both = np.isfinite(h0).all(1) & np.isfinite(h1).all(1)  # frames with every joint
    ratio = np.median(h1[both].max(1) / h0[both].max(1))
    assert ratio == pytest.approx(2.0 / 1.7, rel=0.05)  # the scale follows the subject's height
    # another sync search range is sync's option: sync runs again; it finds the same offsets, so
    # the keypoints it writes are the same and what follows is still up to date
    wider = _run(session, subject_height_m=2.0, max_offset_s=1.0)
    assert [wider[s] for s in ("sync", "calibrate", "triangulate")] == ["ran", "done", "done"]
    assert RunRecord.load(session).stages["sync"].params["max_offset_s"] == 1.0
    # a changed input file (the keypoints) reruns everything after it
    kp = Keypoints2D.from_npz(session / "keypoints2d_raw.npz")
    kp.keypoints[0, :5] = np.nan
    kp.keypoints[0, :5, :, 2] = 0
    kp.save(session / KEYPOINTS_FILE)
    again = _run(session, subject_height_m=2.0)
    assert [again[s] for s in ("sync", "calibrate", "triangulate", "report")] == ["ran"] * 4


def test_a_users_calibration_is_kept_and_used(session):
    shutil.copy(session / "truth" / CAMERAS_FILE, session / CAMERAS_FILE)
    before = fingerprint(session / CAMERAS_FILE)
    status = _run(session)
    assert status["calibrate"].startswith("skipped: cameras.toml exists, not made by run")
    assert status["triangulate"] == "ran" and fingerprint(session / CAMERAS_FILE) == before
    assert _run(session, force=True)["calibrate"] == "ran"  # --force remakes it
    assert fingerprint(session / CAMERAS_FILE) != before


def test_from_reruns_a_stage_and_the_later_ones_until_stops(session):
    _run(session)
    status = _run(session, start="triangulate")
    assert status["calibrate"].startswith("kept: before --from")
    assert status["triangulate"] == status["report"] == "ran"
    status = _run(session, until="sync", start="sync")
    assert status["sync"] == "ran" and status["calibrate"] == "skipped: after --until sync"


def test_one_camera_is_not_synced(tmp_path):
    scene = build_scene(num_frames=20, num_cameras=2, image_size=(320, 240), focal_px=300.0)
    session = write_session(scene, tmp_path / "one")
    kp = Keypoints2D.from_npz(session / KEYPOINTS_FILE)
    kp.select_cameras(["cam01"]).save(session / KEYPOINTS_FILE)
    assert _run(session, until="sync")["sync"] == "skipped: one camera"


def test_a_sync_killed_after_rewriting_the_keypoints_is_redone_from_the_raw_ones(session, tmp_path):
    reference = shutil.copytree(session, tmp_path / "reference")
    _run(reference, until="sync")
    _run(session, until="sync")
    # what a kill -9 between sync_session's keypoints2d.npz and the record leaves: the record
    # says running, keypoints2d.npz is already synced, sync.toml is gone (killed before it)
    record = RunRecord.load(session)
    record.stages["sync"].status = "running"
    record.save()
    (session / "sync.toml").unlink()
    assert _run(session, until="sync")["sync"] == "ran"
    for name in (KEYPOINTS_FILE, "keypoints2d_raw.npz", "sync.toml"):
        assert fingerprint(session / name) == fingerprint(reference / name), name


def test_stale_temporaries_are_removed_and_a_second_run_is_refused(session):
    stale = session / ".poses3d.npz.abcd1234.tmp"
    stale.write_bytes(b"half a file")
    keep = session / ".notes.tmp"
    keep.write_text("not ours")
    _run(session, until="sync")
    assert not stale.exists() and keep.exists()
    with session_lock(session):
        assert main(["run", str(session), "--quiet"]) == 2


def test_the_command_prints_the_table_and_rejects_bad_input(session, capsys):
    assert main(["run", str(session), "--until", "calibrate", "--intrinsics",
                 str(session / "truth" / CAMERAS_FILE), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| calibrate" in out and "RMS" in out
    assert main(["run", str(session / "nope")]) == 2
    assert main(["run", str(session), "--set", "nope=1", "--train"]) == 2
    assert main(["run", str(session), "--max-offset", "0"]) == 2
    assert "--max-offset must be positive" in capsys.readouterr().err
    (session / RECORD_FILE).write_text("version = [")
    assert main(["run", str(session)]) == 2
    assert "run.toml: not a readable TOML file" in capsys.readouterr().err
