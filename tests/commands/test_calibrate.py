import numpy as np

from epicap.cli import main
from epicap.session import Cameras
from tests.calibration_free.scene import camera_ring, observe, person_motion


def _session(tmp_path):
    cams = camera_ring(3, seed=4)
    kp = observe(cams, person_motion(80, 2), noise_px=1.0, seed=5)
    kp.save(tmp_path / "keypoints2d.npz")
    Cameras(cams.names, cams.image_size, cams.K, cams.dist).to_toml(tmp_path / "intr.toml")
    return cams


def test_calibrate_writes_cameras_and_refuses_overwrite(tmp_path, capsys):
    cams = _session(tmp_path)
    assert main(["calibrate", str(tmp_path), "--intrinsics", str(tmp_path / "intr.toml"),
                 "--subject-height", "1.8"]) == 0
    out = capsys.readouterr().out
    assert "| cam1" in out and "wrote" in out
    est = Cameras.from_toml(tmp_path / "cameras.toml", require_extrinsics=True)
    assert est.names == cams.names and est.error_px < 3
    np.testing.assert_allclose(est.K, cams.K)
    before = (tmp_path / "cameras.toml").read_bytes()
    assert main(["calibrate", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "cameras.toml").read_bytes() == before
    assert main(["calibrate", str(tmp_path), "--force", "--shared-focal", "--method",
                 "pooled"]) == 0


def test_calibrate_bad_input(tmp_path, capsys):
    assert main(["calibrate", str(tmp_path / "nowhere")]) == 2
    assert main(["calibrate", str(tmp_path)]) == 2  # no keypoints2d.npz
    assert "keypoints2d.npz" in capsys.readouterr().err
    _session(tmp_path)
    assert main(["calibrate", str(tmp_path), "--subject-height", "170"]) == 2
    assert main(["calibrate", str(tmp_path), "--robust-scale", "0"]) == 2
    assert "robust loss scale" in capsys.readouterr().err
    assert main(["calibrate", str(tmp_path), "--subject", "p1"]) == 2
    err = capsys.readouterr().err
    assert "--subject p1: the keypoints hold one person" in err and "Traceback" not in err
    assert not (tmp_path / "cameras.toml").exists()


def test_calibrate_refines_a_nudged_calibration(tmp_path, capsys):
    cams = _session(tmp_path)
    R = cams.R.copy()
    turn = np.array([[1, 0, 0], [0, np.cos(0.03), -np.sin(0.03)], [0, np.sin(0.03), np.cos(0.03)]])
    R[1] = turn @ R[1]  # camera 2 nudged by 1.7 degrees
    old = Cameras(cams.names, cams.image_size, cams.K, cams.dist, R, cams.t)
    old.to_toml(tmp_path / "old.toml")
    assert main(["calibrate", str(tmp_path), "--refine", str(tmp_path / "old.toml"),
                 "--out", str(tmp_path / "new.toml")]) == 0
    assert "refined" in capsys.readouterr().out
    new = Cameras.from_toml(tmp_path / "new.toml", require_extrinsics=True)
    np.testing.assert_allclose(new.K, cams.K)
    angle = np.degrees(np.arccos(np.clip((np.trace(new.R[1] @ cams.R[1].T) - 1) / 2, -1, 1)))
    assert angle < 0.2
    # the old world frame is kept: camera centres match the truth without any alignment
    assert np.abs(new.centers - cams.centers).max() < 0.03
    assert main(["calibrate", str(tmp_path), "--refine", str(tmp_path / "intr.toml"),
                 "--out", str(tmp_path / "x.toml")]) == 2
    assert "intr.toml" in capsys.readouterr().err


def test_calibrate_refine_with_intrinsics_takes_the_intrinsics_file(tmp_path, capsys):
    cams = _session(tmp_path)
    R = cams.R.copy()
    turn = np.array([[np.cos(0.03), -np.sin(0.03), 0], [np.sin(0.03), np.cos(0.03), 0], [0, 0, 1]])
    R[2] = turn @ R[2]  # camera 3 nudged by 1.7 degrees
    K = cams.K.copy()
    K[:, :2, :2] *= 1.1  # a rough guess of the focal lengths beside the rough extrinsics
    guess = Cameras(cams.names[::-1], cams.image_size[::-1], K[::-1], cams.dist[::-1],
                    R[::-1], cams.t[::-1])  # another camera order: matched by name
    guess.to_toml(tmp_path / "guess.toml")
    assert main(["calibrate", str(tmp_path), "--refine", str(tmp_path / "guess.toml"),
                 "--intrinsics", str(tmp_path / "intr.toml"), "--out",
                 str(tmp_path / "new.toml")]) == 0
    new = Cameras.from_toml(tmp_path / "new.toml", require_extrinsics=True)
    assert new.names == cams.names
    np.testing.assert_allclose(new.K, cams.K)  # the intrinsics file wins
    angle = np.degrees(np.arccos(np.clip((np.trace(new.R[2] @ cams.R[2].T) - 1) / 2, -1, 1)))
    assert angle < 0.2
    assert np.abs(new.centers - cams.centers).max() < 0.03
    capsys.readouterr()
    # bad input: a starting calibration without one of the session's cameras, or without poses
    Cameras(cams.names[:2], cams.image_size[:2], cams.K[:2], cams.dist[:2], cams.R[:2],
            cams.t[:2]).to_toml(tmp_path / "two.toml")
    assert main(["calibrate", str(tmp_path), "--refine", str(tmp_path / "two.toml"),
                 "--intrinsics", str(tmp_path / "intr.toml"), "--out",
                 str(tmp_path / "x.toml")]) == 2
    assert "no camera cam3" in capsys.readouterr().err
    assert main(["calibrate", str(tmp_path), "--refine", str(tmp_path / "intr.toml"),
                 "--intrinsics", str(tmp_path / "intr.toml"), "--out",
                 str(tmp_path / "x.toml")]) == 2
    assert "intr.toml" in capsys.readouterr().err
    assert not (tmp_path / "x.toml").exists()


def test_calibrate_centred_keeps_the_principal_point_and_no_distortion(tmp_path, capsys):
    cams = _session(tmp_path)
    assert main(["calibrate", str(tmp_path), "--centred", "--shared-focal"]) == 0
    out = capsys.readouterr().out
    assert "assumed: centred pp, k1 = 0" in out
    est = Cameras.from_toml(tmp_path / "cameras.toml", require_extrinsics=True)
    np.testing.assert_allclose(est.K[:, :2, 2], (cams.image_size - 1) / 2)
    assert not est.dist.any()
    assert main(["calibrate", str(tmp_path), "--radial", "3"]) == 2


def test_calibrate_keeps_its_table_for_the_report(tmp_path, capsys):
    """calibration.toml: the table and summary printed, tied to the cameras.toml written; the
    report shows them, and not once the cameras have changed."""
    from epicap.session.calibration_record import read_calibration_record
    from epicap.viz.report import build_report

    cams = _session(tmp_path)
    assert main(["calibrate", str(tmp_path), "--intrinsics", str(tmp_path / "intr.toml"),
                 "--subject-height", "1.8"]) == 0
    out = capsys.readouterr()
    printed = out.out
    record = read_calibration_record(tmp_path, tmp_path / "cameras.toml")
    # the warnings printed (here: the 2.7 s recording's advice) are kept for the report
    assert any("calibration wants" in w for w in record["warnings"]), record["warnings"]
    assert all(w in out.err for w in record["warnings"])
    assert record["header"][:6] == ["camera", "frames", "joints", "inliers", "rms px",
                                    "turn ± deg"]
    assert [r[0] for r in record["rows"]] == cams.names and record["summary"] in printed
    lines = [line.replace(" ", "") for line in printed.splitlines()]
    for row in record["rows"]:  # the printed table's rows, cell for cell
        assert "|" + "|".join(cell.replace(" ", "") for cell in row) + "|" in lines, row
    assert main(["triangulate", str(tmp_path)]) == 0  # poses3d.npz, for the report
    html = build_report(tmp_path, snapshots=False)
    assert "How the joints fix each camera" in html and record["rows"][0][5] in html
    assert "What calibrate warned about" in html
    assert all(w in html for w in record["warnings"])  # plain text: nothing to escape
    # calibrate's warnings, kept in the record, are shown under its table
    from epicap.session.calibration_record import write_calibration_record
    write_calibration_record(tmp_path / "calibration.toml", tmp_path / "cameras.toml",
                             record["header"], record["rows"], record["summary"],
                             ["cam01 sees the subject in only 5% of frames & <more>"])
    html = build_report(tmp_path, snapshots=False)
    assert "What calibrate warned about" in html
    assert "only 5% of frames &amp; &lt;more&gt;" in html
    assert '<td class="flag">' not in html  # every camera "ok"
    status = record["header"].index("status")
    rows = [list(r) for r in record["rows"]]
    rows[1][status] = "few inliers (40%)"  # a camera whose joints mostly do not fit stands out
    write_calibration_record(tmp_path / "calibration.toml", tmp_path / "cameras.toml",
                             record["header"], rows, record["summary"], record["warnings"])
    html = build_report(tmp_path, snapshots=False)
    assert '<td class="flag">few inliers (40%)</td>' in html and html.count('class="flag"') == 1
    write_calibration_record(tmp_path / "calibration.toml", tmp_path / "cameras.toml",
                             record["header"], record["rows"], record["summary"],
                             record["warnings"])
    # --out elsewhere: the session's record stays as it was, for its own cameras.toml
    assert main(["calibrate", str(tmp_path), "--intrinsics", str(tmp_path / "intr.toml"),
                 "--out", str(tmp_path / "other.toml")]) == 0
    assert read_calibration_record(tmp_path, tmp_path / "cameras.toml") == record
    # cameras.toml replaced by another calibration: the record no longer describes it
    Cameras.from_toml(tmp_path / "other.toml").to_toml(tmp_path / "cameras.toml")
    (tmp_path / "cameras.toml").write_text((tmp_path / "cameras.toml").read_text() + "\n")
    assert read_calibration_record(tmp_path, tmp_path / "cameras.toml") is None
    assert "How the joints fix each camera" not in build_report(tmp_path, snapshots=False)
    (tmp_path / "calibration.toml").write_text("rows = [[")  # unreadable: no record either
    assert read_calibration_record(tmp_path, tmp_path / "cameras.toml") is None


def test_a_calibration_record_keeps_the_warnings_and_reads_older_ones(tmp_path):
    from epicap.session.calibration_record import (read_calibration_record,
                                                   write_calibration_record)

    cams = tmp_path / "cameras.toml"
    cams.write_text("[cam01]\n")
    write_calibration_record(tmp_path / "calibration.toml", cams, ["camera"], [["cam01"]],
                             "1 camera", ["cam01 sees the subject in only 5% of frames"])
    record = read_calibration_record(tmp_path, cams)
    assert record["warnings"] == ["cam01 sees the subject in only 5% of frames"]
    older = "\n".join(line for line in (tmp_path / "calibration.toml").read_text().splitlines()
                      if not line.startswith("warnings"))
    (tmp_path / "calibration.toml").write_text(older)
    assert read_calibration_record(tmp_path, cams) == {**record, "warnings": []}


def test_calibrate_and_triangulate_refine_the_offsets_sync_estimated(tmp_path, capsys):
    """Cameras started apart (offsets of whole frames and fractions): after `epicap sync`, the
    calibration refines the sub-frame offsets with the cameras it finds and says so, and
    triangulate applies the same; --keep-offsets (of both) leaves them as sync found them."""
    from epicap.synthetic import SceneOptions, load_clip, make_scene
    from epicap.synthetic.rigs import RigFamily, random_rig

    clip = load_clip("walk", "coco17", fps=30, num_frames=150, turn_deg_per_s=28)
    rig = random_rig(1, clip.positions, RigFamily(num_cameras=(4, 5))).cameras
    scene = make_scene(clip, rig, SceneOptions(noise_px=2.0, offsets_frames=[0, 3.15, -2.12, 1.1],
                                               seed=1))
    scene.keypoints.save(tmp_path / "keypoints2d.npz")
    Cameras(rig.names, rig.image_size, rig.K, rig.dist).to_toml(tmp_path / "intr.toml")
    assert main(["sync", str(tmp_path)]) == 0
    capsys.readouterr()
    intr = str(tmp_path / "intr.toml")
    assert main(["calibrate", str(tmp_path), "--intrinsics", intr]) == 0
    out = capsys.readouterr().out
    assert "sync offsets refined with the cameras (cam02" in out
    assert main(["triangulate", str(tmp_path)]) == 0
    assert "sync offsets refined with the cameras | cam02" in capsys.readouterr().out
    assert main(["calibrate", str(tmp_path), "--intrinsics", intr, "--keep-offsets",
                 "--force"]) == 0
    assert "sync offsets" not in capsys.readouterr().out
    assert main(["triangulate", str(tmp_path), "--keep-offsets", "--force"]) == 0
    assert "sync offsets" not in capsys.readouterr().out
