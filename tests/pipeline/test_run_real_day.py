"""A lab's day with `epicap run` on real videos (issue 13): the Pose2Sim demo's four cameras
through ingest -> run -> run again (no stage runs, no file changes) -> a mistaken height (refused
before any stage, run.toml as it was) -> the right height (calibrate and what follows rerun,
detect and sync do not) -> `run --train` with the default length (converges: best.pt, a held-out
MPJPE far below the old 30-step default's 257 mm) -> a TRC for OpenSim (real frames, Pose2Sim's
marker names) -> `infer` on a video and a picture of its poses. Slow: MediaPipe on 4 x 100
frames, two calibrations and a training run."""
import json

from dataclasses import replace

import numpy as np
import pytest

from epicap.cli import main
from epicap.pipeline.record import RECORD_FILE, RunRecord, fingerprint
from epicap.pipeline.run import RunOptions, run_session
from epicap.pipeline.options import RUN_DIR
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

    # training with the defaults: long enough to converge, the best checkpoint kept and scored
    trained = _run(day, subject_height_m=1.78, train=True)
    assert [trained[s] for s in ("label", "train", "evaluate")] == ["ran"] * 3
    run_dir = session / RUN_DIR
    assert (run_dir / "best.pt").is_file() and (run_dir / "checkpoint.pt").is_file()
    scores = json.loads((run_dir / "evaluation.json").read_text())
    assert scores["mpjpe_mm"] < 150.0, scores  # the old default (30 steps) ended at 257 mm

    # export for OpenSim: only the frames of the videos, markers named as Pose2Sim's models
    from epicap.export.trc import read_trc

    capsys.readouterr()
    trc = session.parent / "trial1.trc"
    assert main(["export", str(session), "--format", "trc", "--out", str(trc), "--quiet"]) == 0
    written = sorted(session.parent.glob("trial1*.trc"))
    assert written, capsys.readouterr()
    data = read_trc(written[0])
    assert 90 <= data.markers.shape[0] <= 100  # 100-frame videos: no padding frame written
    assert {"RHip", "LHip", "RKnee", "LKnee", "RAnkle", "LAnkle"} <= set(data.names)

    # infer on one camera's video, then look at it
    video = sorted((session / "videos").glob("*.mp4"))[0]
    out = session.parent / "infer.npz"
    assert main(["infer", str(run_dir), str(video), "--out", str(out), "--quiet"]) == 0
    z = np.load(out)
    poses = z["poses"] if "people" not in z else z["poses"][0]  # the main subject
    assert np.isfinite(poses).any(axis=(-1, -2)).mean() > 0.9
    picture = session.parent / "infer.png"
    assert main(["view", "--poses", str(out), "--offscreen", str(picture), "--quiet"]) == 0
    assert picture.stat().st_size > 10_000
