"""The verbs' messages (issue 13, finding 7): a missing input names the verb that makes it,
FFmpeg's own log stays off stderr, overlays are not overwritten without --force and are ordinary
files, the wording reads right, a short recording is flagged before calibrating."""
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from epicap.cli import main
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE
from epicap.synthetic import write_session
from tests.capture.test_video import make_video
from tests.conftest import build_scene

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def session(tmp_path):
    """2 cameras, 30 frames at the scene's fps (about a second): keypoints only."""
    scene = build_scene(num_frames=30, num_cameras=2, image_size=(320, 240), focal_px=300.0)
    return write_session(scene, tmp_path / "s")


@pytest.mark.parametrize("verb, missing, maker", [
    (["calibrate"], KEYPOINTS_FILE, "epicap detect"),
    (["sync"], KEYPOINTS_FILE, "epicap detect"),
    (["triangulate"], KEYPOINTS_FILE, "epicap detect"),
    (["triangulate"], CAMERAS_FILE, "epicap calibrate"),
    (["label", "--out", "DATASET"], POSES_FILE, "epicap triangulate"),
    (["label", "--out", "DATASET"], CAMERAS_FILE, "epicap calibrate"),
])
def test_a_missing_input_names_the_verb_that_makes_it(session, capsys, verb, missing, maker):
    # the session holds keypoints2d.npz (and truth/); give it every other input the verb reads
    if missing == KEYPOINTS_FILE:
        (session / KEYPOINTS_FILE).unlink()
    elif verb[0] == "label":
        other = POSES_FILE if missing == CAMERAS_FILE else CAMERAS_FILE
        (session / other).write_bytes((session / "truth" / other).read_bytes())
    args = [a.replace("DATASET", str(session.parent / "ds")) for a in verb]
    assert main([args[0], str(session), *args[1:]]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(session / missing) in err, err
    assert f"no such file (make it with `{maker} {session}`" in err, err


def _ingest(video, out, **env_vars):
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    env.update(PYTHONPATH=str(REPO), **env_vars)
    return subprocess.run([sys.executable, "-m", "epicap.cli", "ingest", "--out", str(out),
                           str(video)], env=env, capture_output=True, text=True, timeout=120)


def test_ffmpegs_log_stays_off_stderr(tmp_path):
    video = make_video(tmp_path / "cam01.mp4", 10)
    truncated = tmp_path / "cut.mp4"
    data = video.read_bytes()
    truncated.write_bytes(data[:data.index(b"moov") - 4])  # cut before its index (moov atom)
    proc = _ingest(truncated, tmp_path / "s")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"epicap ingest: error: {truncated}: OpenCV cannot open it as a video (truncated, or not "
        "a video?)"]
    # the file does make FFmpeg complain, and a user who asks for its log gets it (OpenCV's
    # logger prints it on stdout)
    proc = _ingest(truncated, tmp_path / "s", OPENCV_FFMPEG_LOGLEVEL="16")
    assert proc.returncode == 2 and "moov atom not found" in proc.stdout + proc.stderr


def test_overlays_are_not_overwritten_without_force_and_are_ordinary_files(session, capsys):
    out = session.parent / "overlays"
    old = os.umask(0o022)
    try:
        assert main(["view", str(session), "--overlays", str(out)]) == 0
        written = sorted(out.iterdir())
        assert [p.name for p in written] == ["overlay_cam01.mp4", "overlay_cam02.mp4",
                                             "overlay_contact_sheet.png"]
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in written)
        before = {p: p.stat().st_mtime_ns for p in written}
        capsys.readouterr()
        assert main(["view", str(session), "--overlays", str(out)]) == 2
        err = capsys.readouterr().err
        assert "overlay_cam01.mp4: overlay exists; pass --force" in err
        assert before == {p: p.stat().st_mtime_ns for p in written}
        assert main(["view", str(session), "--overlays", str(out), "--force"]) == 0
    finally:
        os.umask(old)


def test_wording(session, tmp_path, capsys):
    a = make_video(tmp_path / "cam01.mp4", 5)
    assert main(["ingest", "--out", str(tmp_path / "one"), str(a)]) == 0
    assert ": session of 1 camera (copied videos)" in capsys.readouterr().out
    assert main(["detect", str(session)]) == 2
    assert "keypoints2d.npz: keypoints file exists; pass --force" in capsys.readouterr().err


def test_a_short_recording_is_flagged_before_calibrating(session, capsys):
    assert main(["calibrate", str(session), "--intrinsics",
                 str(session / "truth" / CAMERAS_FILE)]) == 0
    err = capsys.readouterr().err
    assert "calibration wants 20 s or more of the subject walking" in err
    assert "the recording is 1.0 s long (30 frames at 30 fps)" in err
