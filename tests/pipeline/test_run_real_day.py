"""A lab's day with `epicap run` on real videos (issue 13): the Pose2Sim demo's four cameras
through ingest -> run -> run again (no stage runs, no file changes) -> a mistaken height (refused
before any stage, run.toml as it was) -> the right height (calibrate and what follows rerun,
detect and sync do not). Slow: MediaPipe on 4 x 100 frames and two calibrations."""
from dataclasses import replace

import numpy as np
import pytest

from epicap.cli import main
from epicap.pipeline.record import RECORD_FILE, RunRecord, fingerprint
from epicap.pipeline.run import RunOptions, run_session
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Poses3D

pytestmark = pytest.mark.slow

PLAIN = ("detect", "sync", "calibrate", "triangulate", "report")


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """(session folder, intrinsics.toml): the demo's videos ingested; intrinsics (no poses)
    from the lab's Qualisys calibration, at the videos' own size."""
    from epicap.assets import cache_dir
    from epicap.capture.video import probe_video
    from epicap.pipeline.demo_real import CAMERAS, pose2sim_demo_files
    from epicap.session.qualisys import read_qualisys

    videos, qca = pose2sim_demo_files(cache_dir() / "pose2sim-demo")
    root = tmp_path_factory.mktemp("day")
    session = root / "trial1"
    assert main(["ingest", "--out", str(session), *map(str, videos), "--quiet"]) == 0
    sizes = [(i.width, i.height) for i in (probe_video(v, read_frames=False) for v in videos)]
    lab = read_qualisys(qca).select(list(CAMERAS))
    intrinsics = root / "intrinsics.toml"
    replace(lab, image_size=np.array(sizes), R=None, t=None, error_px=None).to_toml(intrinsics)
    return session, intrinsics


def _run(day, **kw):
    session, intrinsics = day
    options = RunOptions(intrinsics=str(intrinsics), snapshots=False, **kw)
    return {r.stage: r.status for r in run_session(session, options)}


def _files(session):
    names = [KEYPOINTS_FILE, "keypoints2d_raw.npz", "sync.toml", CAMERAS_FILE, POSES_FILE,
             "report.html", RECORD_FILE]
    return {n: fingerprint(session / n) for n in names}


def test_a_labs_day(day, capsys):
    session, intrinsics = day
    first = _run(day)
    assert [first[s] for s in PLAIN] == ["ran"] * 5
    h0 = Poses3D.from_npz(session / POSES_FILE).poses[..., 2]

    # the same command again: nothing runs, nothing is rewritten (run.toml included)
    before = _files(session)
    second = _run(day)
    assert [second[s] for s in PLAIN] == ["done"] * 5
    assert _files(session) == before

    # the height in centimetres: one line, exit 2, before any stage, run.toml as it was
    capsys.readouterr()
    assert main(["run", str(session), "--intrinsics", str(intrinsics), "--no-snapshots",
                 "--subject-height", "178"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--subject-height 178" in err[0], err
    assert _files(session) == before

    # the right height: calibrate and what reads its cameras rerun; detect and sync do not
    detected = RunRecord.load(session).stages["detect"].finished
    third = _run(day, subject_height_m=1.78)
    assert [third[s] for s in PLAIN] == ["done", "done", "ran", "ran", "ran"]
    assert RunRecord.load(session).stages["detect"].finished == detected
    assert fingerprint(session / KEYPOINTS_FILE) == before[KEYPOINTS_FILE]
    h1 = Poses3D.from_npz(session / POSES_FILE).poses[..., 2]
    both = np.isfinite(h0).all(1) & np.isfinite(h1).all(1)
    assert both.sum() > 50
    ratio = np.median(h1[both].max(1) / h0[both].max(1))
    assert ratio == pytest.approx(1.78 / 1.70, rel=0.03)  # the scale follows the height

    # and that is done in turn
    assert [_run(day, subject_height_m=1.78)[s] for s in PLAIN] == ["done"] * 5
