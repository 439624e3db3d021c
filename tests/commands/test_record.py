"""`epicap record` with synthetic cameras and a video file; Ctrl-C in a real process."""
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from epicap.cli import main
from epicap.session.manifest import SessionManifest
from tests.capture.test_recorder import check_session
from tests.capture.test_video import make_video
from tests.viz import xvfb


def test_record_synthetic_and_file(tmp_path, capsys):
    v = make_video(tmp_path / "clip.mp4", 15, (64, 48), 30)
    out = tmp_path / "s"
    assert main(["record", "--out", str(out), "--camera", "synthetic:fps=30,frames=15",
                 "--camera", str(v), "--names", "synth", "file"]) == 0
    text = capsys.readouterr().out
    assert "synth" in text and "every source ended" in text
    man = SessionManifest.load(out)
    assert [man.camera(n).frame_count for n in ("synth", "file")] == [15, 15]
    ts = man.timestamps(out, "file")
    assert (np.diff(ts) > 0).all() and ts[-1] >= 14 / 30 - 0.01  # played at its own rate
    assert main(["record", "--out", str(out), "--camera", "synthetic:30"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_bad_camera_is_one_line(tmp_path, capsys):
    assert main(["record", "--out", str(tmp_path / "s"), "--camera",
                 str(tmp_path / "missing.mp4")]) == 2
    err = capsys.readouterr().err
    assert "missing.mp4" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_ctrl_c_in_a_real_process_leaves_playable_files(tmp_path):
    out = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-m", "epicap.cli", "record", "--out", str(out),
                             "--camera", "synthetic:30", "--camera", "synthetic:30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "recording ... (Ctrl-C stops)" once the cameras run
    assert "Ctrl-C" in line
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "stopped by Ctrl-C" in stdout
    man = check_session(out)
    assert all(man.camera(n).frame_count >= 10 for n in man.names)


@pytest.mark.slow
@pytest.mark.skipif(xvfb.tools_missing(), reason=xvfb.MISSING_REASON)
def test_preview_window_shows_the_cameras_live_and_q_stops(tmp_path):
    out = tmp_path / "s"
    with xvfb.VirtualDisplay() as xd:
        proc = subprocess.Popen(
            [sys.executable, "-m", "epicap.cli", "record", "--out", str(out), "--preview",
             "--camera", "synthetic:fps=30,size=320x240", "--camera",
             "synthetic:fps=30,size=160x240"], env=xd.env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        try:
            wid = xd.find_window("epicap record", timeout_s=60)
            # the mosaic: both cameras scaled to 240 px high, side by side (Qt adds its bars)
            first = xd.wait_for(wid, lambda rgb: rgb.shape[1] == 320 + 160
                                and rgb.shape[0] >= 240 and rgb.std() > 1)
            time.sleep(0.5)  # the synthetic cameras draw their frame index: the mosaic moves
            xd.wait_for(wid, lambda rgb: np.abs(rgb.astype(int) - first).max() > 50)
            xd.key(wid, "q", check=False)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, stderr
    assert "stopped from the preview window" in stdout
    assert "QFontDatabase" not in stderr  # Qt pointed at the system's fonts
    man = check_session(out)
    assert all(man.camera(n).frame_count >= 10 for n in man.names)
