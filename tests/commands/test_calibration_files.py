"""Lab calibration files where a calibration is read: `calibrate --intrinsics`, `calibrate
--refine`, `triangulate --cameras`; every bad input is one line, exit 2, nothing written."""
import cv2
import numpy as np
import pytest

from epicap.cli import main
from epicap.export.colmap import write_colmap
from epicap.geometry.camera import project_points
from epicap.session import Cameras, Keypoints2D, Poses3D
from epicap.session.calibration_formats import FORMATS
from tests.calibration_free.scene import camera_ring, observe, person_motion


def _opencv(path, cams: Cameras, sizes=None, extrinsics=True):
    """`cams` as an OpenCV FileStorage file, one map per camera, as cv2 writes it."""
    sizes = cams.image_size if sizes is None else np.asarray(sizes)
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    for c, name in enumerate(cams.names):
        fs.startWriteStruct(name, cv2.FileNode_MAP)
        fs.write("camera_matrix", cams.K[c])
        fs.write("distortion_coefficients", cams.dist[c])
        fs.write("image_width", int(sizes[c, 0]))
        fs.write("image_height", int(sizes[c, 1]))
        if extrinsics:
            fs.write("R", cams.R[c])
            fs.write("T", cams.t[c])
        fs.endWriteStruct()
    fs.release()
    return path


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("epicap "), err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture
def calib_session(tmp_path):
    cams = camera_ring(3, seed=4)                                  # 1920x1080, cam1..cam3
    observe(cams, person_motion(80, 2), noise_px=1.0, seed=5).save(tmp_path / "keypoints2d.npz")
    return tmp_path, cams


def test_calibrate_reads_a_padded_opencv_file_with_a_warning(calib_session, capsys):
    path, cams = calib_session
    padded = np.array([[1920, 1088], [1920, 1080], [1928, 1080]])  # cam2 exact
    intr = _opencv(path / "board.yml", cams, padded, extrinsics=False)
    assert main(["calibrate", str(path), "--intrinsics", str(intr), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "camera cam1: " in err and "camera cam3: " in err and "camera cam2: " not in err
    assert "codec padding" in err
    est = Cameras.from_toml(path / "cameras.toml", require_extrinsics=True)
    assert (est.image_size == [1920, 1080]).all()                  # the videos' size
    np.testing.assert_allclose(est.K, cams.K)                      # principal point as given


def test_calibrate_bad_calibration_files(calib_session, capsys):
    path, cams = calib_session
    (path / "notes.txt").write_text("the board was 9x6\n")
    _opencv(path / "other.yml", _renamed(cams, ["a", "b", "c"]), extrinsics=False)
    _opencv(path / "big.yml", cams, np.array([[1920, 1080]] * 2 + [[1280, 720]]), False)
    _opencv(path / "intr.xml", cams, extrinsics=False)
    cases = [(["--intrinsics", "notes.txt"], ["notes.txt", "formats read", FORMATS["opencv"]]),
             (["--intrinsics", "other.yml"], ["match none of the session's", "a, b, c"]),
             (["--intrinsics", "big.yml"], ["camera cam3", "1280x720", "more than codec padding"]),
             (["--refine", "intr.xml"], ["intr.xml", "intrinsics only"]),
             (["--intrinsics", "missing.yml"], ["missing.yml: no such file"])]
    for option, needles in cases:
        assert main(["calibrate", str(path), option[0], str(path / option[1])]) == 2
        _one_line_error(capsys, *needles)
        assert not (path / "cameras.toml").exists()


def _renamed(cams: Cameras, names):
    from dataclasses import replace

    return replace(cams, names=names)


@pytest.fixture
def tri_session(tmp_path):
    """4 cameras, 20 frames of 17 joints, 0.5 px noise; truth returned."""
    rng = np.random.default_rng(3)
    cams = camera_ring(4, seed=2)
    truth = rng.normal([0, 0, 1], [0.2, 0.2, 0.4], (17, 3))[None] + \
        np.linspace(0, 0.4, 20)[:, None, None] * [1.0, 0, 0]
    px, _ = project_points(truth.reshape(-1, 3), cams.K, cams.R, cams.t, cams.dist)
    px = px.reshape(4, 20, 17, 2) + rng.normal(0, 0.5, (4, 20, 17, 2))
    kp = np.concatenate([px, np.ones((4, 20, 17, 1))], -1).astype(np.float32)
    Keypoints2D(kp, cams.names, "coco17", cams.image_size, 30.0).save(tmp_path / "keypoints2d.npz")
    return tmp_path, cams, truth


def test_triangulate_reads_a_padded_colmap_model(tri_session, capsys, tmp_path_factory):
    path, cams, truth = tri_session
    padded = Cameras(cams.names, cams.image_size + [[0, 8], [0, 0], [0, 0], [0, 0]], cams.K,
                     cams.dist, cams.R, cams.t)
    model = write_colmap(tmp_path_factory.mktemp("colmap"), padded, text=True)
    assert main(["triangulate", str(path), "--cameras", str(model), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "camera cam1: " in err and "1920x1088" in err and "camera cam2" not in err
    poses = Poses3D.from_npz(path / "poses3d.npz")
    assert np.nanmedian(np.linalg.norm(poses.poses - truth, axis=-1)) < 0.005


def test_triangulate_bad_calibration_files(tri_session, capsys):
    path, cams, _ = tri_session
    (path / "cal.json").write_text('{"K": [1, 2, 3]}')
    _opencv(path / "lab.yml", _renamed(cams, ["left", "mid", "right", "top"]))
    _opencv(path / "wide.xml", cams, cams.image_size + [[16, 0], [0, 0], [0, 0], [0, 0]])
    _opencv(path / "intr.yml", cams, extrinsics=False)
    cases = [("cal.json", ["cal.json", "formats read"]),
             ("lab.yml", ["match none of the session's", "left, mid, right, top"]),
             ("wide.xml", ["camera cam1", "1936x1080", "more than codec padding"]),
             ("intr.yml", ["intr.yml", "intrinsics only"])]
    for name, needles in cases:
        assert main(["triangulate", str(path), "--cameras", str(path / name)]) == 2
        _one_line_error(capsys, *needles)
        assert not (path / "poses3d.npz").exists()


@pytest.mark.slow
def test_real_demo_with_its_qualisys_file(tmp_path, capsys):
    """The issue's case: the Pose2Sim demo's Qualisys file declares 1088x1920 for every camera,
    cam01's and cam02's videos are 1080x1920; --intrinsics and --cameras take the file as it is."""
    import json
    import zipfile

    from epicap.assets import fetch_wheel, read_member
    from epicap.keypoints.mediapipe_detector import open_video
    from epicap.keypoints.openpose import read_openpose
    from tests.keypoints.pose2sim_demo import CAMERAS, OPENPOSE_DIR, demo_video

    sizes = []
    for cam in CAMERAS:
        cap, _, _, size = open_video(demo_video(cam))
        cap.release()
        sizes.append(size)
    assert sizes == [(1080, 1920), (1080, 1920), (1088, 1920), (1088, 1920)]
    with zipfile.ZipFile(fetch_wheel("pose2sim-0.8.4")) as z:
        for cam in CAMERAS:
            prefix = OPENPOSE_DIR.format(cam=cam)
            for m in z.namelist():
                if m.startswith(prefix) and m.endswith(".json"):
                    (tmp_path / f"{cam}_json").mkdir(exist_ok=True)
                    (tmp_path / f"{cam}_json" / m[len(prefix):]).write_bytes(z.read(m))
    session = tmp_path / "session"
    session.mkdir()
    read_openpose([tmp_path / f"{c}_json" for c in CAMERAS], image_size=sizes,
                  fps=60).save(session / "keypoints2d.npz")
    qca = tmp_path / "Calib.qca.txt"
    qca.write_bytes(read_member(fetch_wheel("pose2sim-0.10.49"),
                                "Pose2Sim/Demo_SinglePerson/calibration/Calib.qca.txt"))
    assert main(["calibrate", str(session), "--intrinsics", str(qca), "--subject-height", "1.72",
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "camera cam01: " in err and "camera cam02: " in err and "cam03: " not in err
    assert main(["compare", str(qca), str(session / "cameras.toml"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    relative = np.mean([p["relative_rotation_deg"] for p in doc["pairs"]])
    centres = np.mean([c["centre_error_m"] for c in doc["cameras"]])
    assert relative < 1.2 and centres < 0.05          # measured 0.81 deg and 2.9 cm
    assert main(["triangulate", str(session), "--cameras", str(qca), "--quiet"]) == 0
    assert Poses3D.from_npz(session / "poses3d.npz").valid.mean() > 0.9
