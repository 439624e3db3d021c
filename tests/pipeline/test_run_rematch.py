"""`epicap run`'s triangulate stage re-checks the people with the cameras and rewrites
keypoints2d.npz: the record keeps every earlier stage done, and a second run does nothing.
(The stand-in detector of test_run_record.py copies stored detections, here with a camera's left
and right exchanged over 12 frames.)"""
import numpy as np

from epicap.pipeline.record import RunRecord, fingerprint
from epicap.pipeline.rematch import UNMATCHED_FILE
from epicap.session import KEYPOINTS_FILE, Keypoints2D
from tests.pipeline.test_run_record import DETECTIONS, PLAIN, _run, detect_runs, session  # noqa

SWAPPED = slice(10, 22)


def _plant_swaps(session):
    kp = Keypoints2D.from_npz(session / DETECTIONS)
    kp.keypoints[1, SWAPPED] = kp.keypoints[1, SWAPPED][:, kp.skeleton.flip_index]
    kp.save(session / DETECTIONS)
    return kp


def test_swaps_are_fixed_and_the_record_holds(session, detect_runs):
    planted = _plant_swaps(session)
    first = _run(session)
    assert [first[s] for s in PLAIN] == ["ran"] * 5
    fixed = Keypoints2D.from_npz(session / KEYPOINTS_FILE)
    before = Keypoints2D.from_npz(session / UNMATCHED_FILE)
    sided = planted.skeleton.flip_index != np.arange(len(planted.joints))
    # camera 1's swapped frames, and only those, changed (the synced timeline moves them by at
    # most a frame)
    changed = (fixed.keypoints[1] != before.keypoints[1])[..., :2].any((-1, -2)) & \
        np.isfinite(before.keypoints[1, :, sided, 0]).any(0)
    assert 10 <= changed.sum() <= 14 and changed[9:23].sum() >= 10
    np.testing.assert_array_equal(fixed.keypoints[[0, 2]], before.keypoints[[0, 2]])
    record = RunRecord.load(session)
    tri = record.stages["triangulate"]
    assert "left/right swaps fixed" in tri.figure and not tri.figure.startswith("0 ")
    assert tri.outputs[KEYPOINTS_FILE] == fingerprint(session / KEYPOINTS_FILE)
    assert tri.inputs[KEYPOINTS_FILE] == fingerprint(session / UNMATCHED_FILE)
    # what calibrate read is what triangulate kept, byte for byte
    assert record.stages["calibrate"].inputs[KEYPOINTS_FILE] == tri.inputs[KEYPOINTS_FILE]
    second = _run(session)
    assert [second[s] for s in PLAIN] == ["done"] * 5 and len(detect_runs) == 1
    third = _run(session, start="triangulate")
    assert [third[s] for s in PLAIN] == ["kept: before --from triangulate"] * 3 + ["ran", "ran"]
    assert fingerprint(session / KEYPOINTS_FILE) == tri.outputs[KEYPOINTS_FILE]
    assert RunRecord.load(session).stages["triangulate"].inputs == tri.inputs


def test_run_refuses_a_bad_people_option_before_any_stage(session, capsys):
    from epicap.cli import main

    for bad, says in (("0", "at least 1"), ("two", "expected a number of people")):
        assert main(["run", str(session), "--people", bad]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--people" in err and says in err
        assert not (session / "run.toml").exists() and not (session / KEYPOINTS_FILE).exists()


def test_detector_slots_follow_detect():
    from epicap.keypoints.everyone import detector_slots, parse_people

    assert detector_slots(parse_people("1")) == 2 and detector_slots(parse_people(None)) == 4
    assert detector_slots(parse_people("6")) == 6 and detector_slots(parse_people("all"), 3) == 3


def test_calibrate_and_triangulate_after_run_read_the_keypoints_as_detected(session, detect_runs,
                                                                             capsys):
    """After `run` re-checked the people, the verbs read keypoints2d_unmatched.npz: calibrate
    gives run's rig byte for byte, triangulating again neither re-checks corrected views nor
    overwrites the detector's copy, and sync again starts from (and keeps) its raw keypoints."""
    from epicap.capture.sync import RAW_KEYPOINTS_FILE
    from epicap.cli import main
    from epicap.session.recheck import RECHECK_FILE, keypoints_before_recheck
    from epicap.session import CAMERAS_FILE, POSES_FILE

    _plant_swaps(session)
    _run(session)
    assert keypoints_before_recheck(session) == session / UNMATCHED_FILE
    rig, detected = (session / CAMERAS_FILE).read_bytes(), (session / UNMATCHED_FILE).read_bytes()
    fixed = (session / KEYPOINTS_FILE).read_bytes()
    truth = str(session / "truth" / CAMERAS_FILE)
    assert main(["calibrate", str(session), "--intrinsics", truth, "--force"]) == 0
    assert f"reading {UNMATCHED_FILE}" in capsys.readouterr().out
    assert (session / CAMERAS_FILE).read_bytes() == rig
    for _ in range(2):
        assert main(["triangulate", str(session), "--force"]) == 0
        assert (session / UNMATCHED_FILE).read_bytes() == detected
        assert (session / KEYPOINTS_FILE).read_bytes() == fixed
        assert keypoints_before_recheck(session) == session / UNMATCHED_FILE
    # sync again starts from its raw keypoints, keeps them, and writes what run's sync wrote
    raw = (session / RAW_KEYPOINTS_FILE).read_bytes()
    assert main(["sync", str(session), "--quiet"]) == 0
    assert (session / RAW_KEYPOINTS_FILE).read_bytes() == raw
    assert (session / KEYPOINTS_FILE).read_bytes() == detected
    assert keypoints_before_recheck(session) == session / KEYPOINTS_FILE
    # keypoints written anew (detected or imported again) are read as they are
    Keypoints2D.from_npz(session / UNMATCHED_FILE).save(session / KEYPOINTS_FILE)
    assert keypoints_before_recheck(session) == session / KEYPOINTS_FILE
    assert main(["calibrate", str(session), "--intrinsics", truth, "--force"]) == 0
    assert "reading" not in capsys.readouterr().out.splitlines()[0]
    assert main(["triangulate", str(session), "--force", "--no-match"]) == 0
    assert (session / RECHECK_FILE).is_file() and (session / POSES_FILE).is_file()
