"""`epicap run`'s record: a file a later stage rewrote keeps the earlier stage done, a failure
never erases an earlier success, every option is checked before any stage, calibrate's table is
shown. Detection is a stand-in (a copy of stored detections) so that the record logic, not
MediaPipe, is what runs; the real detector's run is in test_run_real_day.py (slow)."""
import shutil

import numpy as np
import pytest

from epicap.cli import main
from epicap.errors import InputError
from epicap.pipeline import stages
from epicap.pipeline.record import RECORD_FILE, RunRecord, StageRecord, fingerprint
from epicap.pipeline.run import RunOptions, run_session
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, Keypoints2D
from epicap.synthetic import write_session
from tests.conftest import build_scene

DETECTIONS = "detections.npz"  # what the stand-in detector "finds"


@pytest.fixture
def detect_runs():
    """One item per run of the stand-in detector."""
    return []


@pytest.fixture
def session(tmp_path, monkeypatch, detect_runs):
    """3 cameras, 40 frames, offsets 0, +1, -1 frames; a detect stage that copies
    SESSION/detections.npz to keypoints2d.npz (counting its runs)."""
    scene = build_scene(num_frames=40, num_cameras=3, image_size=(320, 240), focal_px=300.0,
                        offsets_frames=(0.0, 1.0, -1.0))
    s = write_session(scene, tmp_path / "s")
    (s / KEYPOINTS_FILE).rename(s / DETECTIONS)
    def plan(ctx):
        return stages.Plan({DETECTIONS: ctx.session / DETECTIONS},
                           {KEYPOINTS_FILE: ctx.detected_keypoints()}, {"model": "stand-in"})

    def run(ctx, plan, previous):
        detect_runs.append(1)
        shutil.copyfile(ctx.session / DETECTIONS, ctx.session / KEYPOINTS_FILE)
        return "copied", {"outputs": {KEYPOINTS_FILE: ctx.session / KEYPOINTS_FILE}}

    monkeypatch.setitem(stages.STAGE_FUNCTIONS, "detect", (plan, run))
    return s


def _run(session, **kw):
    kw.setdefault("intrinsics", str(session / "truth" / CAMERAS_FILE))
    kw.setdefault("snapshots", False)
    return {r.stage: r.status for r in run_session(session, RunOptions(**kw))}


def _other_keypoints(source, target):
    """Write the keypoints of `source` with camera 0's first 5 frames missing to `target`."""
    kp = Keypoints2D.from_npz(source)
    kp.keypoints[0, :5] = np.nan
    kp.keypoints[0, :5, :, 2] = 0
    kp.save(target)


PLAIN = ("detect", "sync", "calibrate", "triangulate", "report")


def test_sync_rewriting_the_detections_leaves_detect_done(session, detect_runs):
    first = _run(session)
    assert [first[s] for s in PLAIN] == ["ran"] * 5 and len(detect_runs) == 1
    record = RunRecord.load(session)
    # sync did rewrite the file detect recorded: the case this record must survive
    assert record.stages["detect"].outputs[KEYPOINTS_FILE] != fingerprint(session / KEYPOINTS_FILE)
    second = _run(session)
    assert [second[s] for s in PLAIN] == ["done"] * 5 and len(detect_runs) == 1
    # the same detections in another file: detect and sync run; calibrate and triangulate find
    # their input as it was; the report reads sync.toml, which names the new raw file
    with open(session / DETECTIONS, "ab") as f:
        f.write(b"\0")  # the same arrays for numpy, another file for the fingerprint
    third = _run(session)
    assert [third[s] for s in PLAIN] == ["ran", "ran", "done", "done", "ran"]
    # other detections rerun everything
    _other_keypoints(session / DETECTIONS, session / DETECTIONS)
    fourth = _run(session)
    assert [fourth[s] for s in PLAIN] == ["ran"] * 5 and len(detect_runs) == 3


def test_a_users_keypoints_over_synced_ones_are_still_kept(session, detect_runs):
    _run(session)
    _other_keypoints(session / DETECTIONS, session / KEYPOINTS_FILE)  # e.g. `epicap import`
    status = _run(session)
    assert status["detect"].startswith("skipped: keypoints2d.npz exists, not made by run")
    assert status["sync"] == "ran" and len(detect_runs) == 1


def test_the_chain_only_follows_a_stage_that_read_the_file(monkeypatch, tmp_path):
    import epicap.pipeline.record as record_module

    files = {"k": "B"}  # the fingerprint each file has now
    monkeypatch.setattr(record_module, "fingerprint", lambda path: files.get(path.name))
    rec = RunRecord(tmp_path)
    rec.stages["detect"] = StageRecord("ran", outputs={"k": "A"})
    rec.stages["sync"] = StageRecord("ran", inputs={"k": "X"}, outputs={"k": "B"})
    assert not rec.intact("detect", "k", "A", ("sync",))  # sync read another file
    rec.stages["sync"].inputs = {"k": "A"}
    assert rec.intact("detect", "k", "A", ("sync",))
    assert not rec.intact("detect", "k", "A", ())  # without the later stage: changed
    rec.stages["sync"] = rec.stages["sync"].attempt("failed", "boom")  # its success is kept
    assert rec.intact("detect", "k", "A", ("sync",))
    files["k"] = "C"  # a user replaced it since
    assert not rec.intact("detect", "k", "A", ("sync",))
    rec.save()
    loaded = RunRecord.load(tmp_path).stages["sync"]
    assert loaded.status == "failed" and loaded.reason == "boom"
    assert loaded.success.inputs == {"k": "A"} and loaded.success.outputs == {"k": "B"}


def test_a_bad_option_stops_before_any_stage_and_leaves_the_record(session, detect_runs, capsys):
    _run(session)
    before = (session / RECORD_FILE).read_bytes()
    capsys.readouterr()  # the first run's warnings (a short recording)
    for bad in (["--subject-height", "178"], ["--intrinsics", str(session / "nope.toml")],
                ["--model", str(session / DETECTIONS)], ["--train", "--set", "lr=-1"],
                ["--set", "nope=1"]):
        assert main(["run", str(session), *bad, "--quiet"]) == 2, bad
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert (session / RECORD_FILE).read_bytes() == before, bad
    assert len(detect_runs) == 1


def test_a_bad_height_on_a_new_session_writes_no_record(session, detect_runs, capsys):
    assert main(["run", str(session), "--subject-height", "178"]) == 2
    assert "not a person's height" in capsys.readouterr().err
    assert not (session / RECORD_FILE).exists() and not detect_runs


def test_a_failed_calibration_keeps_the_earlier_success(session, monkeypatch):
    _run(session)
    calibrated = fingerprint(session / CAMERAS_FILE)
    plan, run = stages.STAGE_FUNCTIONS["calibrate"]

    def failing(ctx, plan, previous):
        raise InputError("the adjustment diverged")

    monkeypatch.setitem(stages.STAGE_FUNCTIONS, "calibrate", (plan, failing))
    with pytest.raises(InputError, match="diverged"):
        _run(session, subject_height_m=1.78)
    record = RunRecord.load(session).stages["calibrate"]
    assert record.status == "failed" and record.success.outputs[CAMERAS_FILE] == calibrated
    assert fingerprint(session / CAMERAS_FILE) == calibrated
    # back to the options of the success: nothing to do
    assert _run(session)["calibrate"] == "done"
    # the fixed option reruns calibrate: cameras.toml is run's own, not a user's
    monkeypatch.setitem(stages.STAGE_FUNCTIONS, "calibrate", (plan, run))
    status = _run(session, subject_height_m=1.78)
    assert [status[s] for s in ("calibrate", "triangulate", "report")] == ["ran"] * 3
    assert status["detect"] == status["sync"] == "done"
    assert fingerprint(session / CAMERAS_FILE) != calibrated


def test_an_interrupted_stage_keeps_the_earlier_success(session, monkeypatch):
    _run(session)
    plan, run = stages.STAGE_FUNCTIONS["triangulate"]

    def interrupted(ctx, plan, previous):
        raise KeyboardInterrupt

    monkeypatch.setitem(stages.STAGE_FUNCTIONS, "triangulate", (plan, interrupted))
    with pytest.raises(KeyboardInterrupt):
        _run(session, start="triangulate")
    assert RunRecord.load(session).stages["triangulate"].status == "running"
    monkeypatch.setitem(stages.STAGE_FUNCTIONS, "triangulate", (plan, run))
    # the interrupted attempt changed nothing: the last success still stands
    assert [_run(session)[s] for s in PLAIN] == ["done"] * 5


def test_run_shows_calibrates_table_and_each_stage(session, capsys):
    assert main(["run", str(session), "--intrinsics", str(session / "truth" / CAMERAS_FILE),
                 "--until", "calibrate"]) == 0
    out = capsys.readouterr().out
    assert "| camera" in out and "| inliers" in out and "rms px" in out  # calibrate's own table
    assert "RMS reprojection error" in out and "sets the scale" in out
    assert main(["run", str(session), "--until", "calibrate", "--quiet", "--intrinsics",
                 str(session / "truth" / CAMERAS_FILE)]) == 0
    assert "| inliers" not in capsys.readouterr().out  # done: nothing to show


def test_a_file_is_not_a_session(session, capsys):
    assert main(["run", str(session / DETECTIONS)]) == 2
    assert "a file, not a session folder" in capsys.readouterr().err


def test_each_stage_says_when_it_starts_working(session):
    started, texts = [], []
    options = RunOptions(intrinsics=str(session / "truth" / CAMERAS_FILE), snapshots=False)
    run_session(session, options, on_start=started.append, show_text=texts.append)
    assert started == list(PLAIN)  # in order, each before its work
    assert len(texts) == 2 and "| inliers" in texts[0]  # calibrate's table and summary
    started.clear()
    run_session(session, options, on_start=started.append)
    assert started == []  # done stages do not start
