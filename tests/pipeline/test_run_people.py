"""`epicap run` passes several people through every stage after matching (a lab calibration
given, so calibration is not the slow part here)."""
import shutil

import numpy as np
import pytest

from epicap.pipeline.run import RunOptions, run_session
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Keypoints2D, Poses3D
from epicap.synthetic import write_session
from tests.people_sessions import people_scene


@pytest.mark.slow  # label, a one-epoch training and its evaluation: about 30 s here
def test_run_triangulates_labels_and_reports_every_person(tmp_path):
    scene = people_scene(3, 40)
    session = write_session(scene, tmp_path / "s")
    shutil.copy(session / "truth" / CAMERAS_FILE, session / CAMERAS_FILE)  # a lab calibration
    results = {r.stage: r.status for r in run_session(
        session, RunOptions(sync=False, snapshots=False, train=True, epochs=1))}
    assert results["calibrate"].startswith("skipped") or results["calibrate"] == "done"
    assert [results[s] for s in ("triangulate", "label", "train", "evaluate", "report")] == \
        ["ran"] * 5
    poses = Poses3D.from_npz(session / POSES_FILE)
    assert poses.people == Keypoints2D.from_npz(session / KEYPOINTS_FILE).people == \
        ["p0", "p1", "p2"]
    for p in range(3):
        err = np.linalg.norm(poses.poses[p] - scene.poses3d[p], axis=-1)
        assert np.nanmedian(err) < 0.03
    import json

    manifest = json.loads((session / "dataset" / "manifest.json").read_text())
    assert [s["person"] for s in manifest["sources"]] == ["p0", "p1", "p2"]
    assert "<h2>People</h2>" in (session / "report.html").read_text()


def test_run_without_training_reports_every_person(tmp_path):
    session = write_session(people_scene(3, 20), tmp_path / "s")
    shutil.copy(session / "truth" / CAMERAS_FILE, session / CAMERAS_FILE)
    results = {r.stage: r.status for r in run_session(
        session, RunOptions(sync=False, snapshots=False))}
    assert results["triangulate"] == results["report"] == "ran"
    assert Poses3D.from_npz(session / POSES_FILE).poses.shape == (3, 20, 17, 3)
    assert "p0, p1, p2" in (session / "report.html").read_text()
