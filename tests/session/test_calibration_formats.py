"""Every lab calibration format read against its real writer: cv2.FileStorage holding what
cv2.calibrateCamera / cv2.stereoCalibrate computed, pycolmap's text and binary models, epicap's
own TOML, and the real Qualisys file of the Pose2Sim demo."""
import cv2
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.camera import rodrigues_from_rotation
from epicap.session.calibration_formats import (FORMATS, detect_format, fit_to_session,
                                                load_calibration)
from epicap.synthetic import ring_rig

K_TRUE = np.array([[1010.0, 0, 652.5], [0, 1004.0, 349.0], [0, 0, 1]])
D_TRUE = np.array([-0.12, 0.05, 0.001, -0.0005, 0.0])
SIZE = (1280, 720)


def _board_views(seed=0, views=10):
    """A 9x6 board (3 cm squares) seen from `views` random poses: (object points, rvecs, tvecs)."""
    rng = np.random.default_rng(seed)
    grid = np.zeros((54, 3), np.float32)
    grid[:, :2] = 0.03 * np.mgrid[0:9, 0:6].T.reshape(-1, 2)
    rvecs = [rng.normal(0, 0.3, 3) + [np.pi, 0, 0] for _ in range(views)]
    tvecs = [np.array([-0.12, -0.08, 0.0]) + rng.normal(0, [0.05, 0.05, 0.1]) + [0, 0, 0.8]
             for _ in range(views)]
    return grid, rvecs, tvecs


def _calibrate_camera():
    grid, rvecs, tvecs = _board_views()
    image_points = [cv2.projectPoints(grid, r, t, K_TRUE, D_TRUE)[0].astype(np.float32)
                    for r, t in zip(rvecs, tvecs)]
    rms, K, D, _, _ = cv2.calibrateCamera([grid] * len(rvecs), image_points, SIZE, None, None)
    assert rms < 1e-3 and np.allclose(K, K_TRUE, rtol=1e-4)  # exact data: the truth back
    return K, D


@pytest.mark.parametrize("ext", ["yml", "xml"])
def test_opencv_calibrate_camera_file(tmp_path, ext):
    K, D = _calibrate_camera()
    path = tmp_path / f"cam03.{ext}"
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)  # as OpenCV's calibration sample
    fs.write("calibration_time", "today")
    fs.write("image_width", SIZE[0])
    fs.write("image_height", SIZE[1])
    fs.write("camera_matrix", K)
    fs.write("distortion_coefficients", D)
    fs.write("avg_reprojection_error", 0.1)
    fs.write("extrinsic_parameters", np.zeros((10, 6)))  # per board view: not the camera's pose
    fs.release()
    assert detect_format(path) == "opencv"
    cams = load_calibration(path)
    assert cams.names == ["cam03"] and not cams.has_extrinsics
    assert cams.image_size.tolist() == [list(SIZE)]
    np.testing.assert_array_equal(cams.K[0], K)
    np.testing.assert_array_equal(cams.dist[0], D.ravel()[:5])
    with pytest.raises(InputError, match="intrinsics only"):
        load_calibration(path, require_extrinsics=True)


def test_opencv_stereo_calibrate_file(tmp_path):
    grid, rvecs, tvecs = _board_views(seed=1)
    R12, _ = cv2.Rodrigues(np.array([0.02, -0.35, 0.01]))  # cam2_from_cam1
    T12 = np.array([0.4, 0.01, 0.05])
    K2 = K_TRUE * [[0.98], [0.98], [1]]
    pts1, pts2 = [], []
    for r, t in zip(rvecs, tvecs):
        R1, _ = cv2.Rodrigues(r)
        pts1.append(cv2.projectPoints(grid, r, t, K_TRUE, D_TRUE)[0].astype(np.float32))
        r2, _ = cv2.Rodrigues(R12 @ R1)
        pts2.append(cv2.projectPoints(grid, r2, R12 @ t + T12, K2, D_TRUE)[0].astype(np.float32))
    out = cv2.stereoCalibrate([grid] * len(pts1), pts1, pts2, K_TRUE, D_TRUE, K2, D_TRUE, SIZE,
                              flags=cv2.CALIB_FIX_INTRINSIC)
    R, T = out[5], out[6]
    np.testing.assert_allclose(R, R12, atol=1e-5)
    path = tmp_path / "stereo.yml"
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    for key, value in (("M1", K_TRUE), ("D1", D_TRUE), ("M2", K2), ("D2", D_TRUE), ("R", R),
                       ("T", T), ("E", out[7]), ("F", out[8])):
        fs.write(key, value)
    fs.write("size", np.array(SIZE))
    fs.release()
    cams = load_calibration(path, require_extrinsics=True)
    assert cams.names == ["cam1", "cam2"]
    np.testing.assert_allclose(cams.R[0], np.eye(3)) and np.testing.assert_allclose(cams.t[0], 0)
    # a point in camera 1's frame lands where OpenCV projects it with the stereo pose
    X = np.array([[0.1, -0.2, 2.0], [-0.3, 0.1, 1.5]])
    expected = cv2.projectPoints(X, cv2.Rodrigues(R)[0], T, K2, D_TRUE)[0][:, 0]
    np.testing.assert_allclose(cams.project(X)[1], expected, atol=1e-6)
    np.testing.assert_allclose(cams.project(X)[0],
                               cv2.projectPoints(X, np.zeros(3), np.zeros(3), K_TRUE,
                                                 D_TRUE)[0][:, 0], atol=1e-6)


def test_opencv_multi_camera_file_with_poses(tmp_path):
    rig = ring_rig(3, distortion=[0.02, -0.01, 0, 0, 0.003])
    path = tmp_path / "rig.xml"
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    for c, name in enumerate(rig.names):
        fs.startWriteStruct(name, cv2.FileNode_MAP)
        fs.write("cameraMatrix", rig.K[c])
        fs.write("distCoeffs", np.r_[rig.dist[c], np.zeros(3)])  # 8 terms, rational ones zero
        fs.write("imageSize", rig.image_size[c].astype(np.int32))
        fs.write("rvec", rodrigues_from_rotation(rig.R[c]))
        fs.write("tvec", rig.t[c])
        fs.endWriteStruct()
    fs.release()
    cams = load_calibration(path, require_extrinsics=True)
    assert cams.names == rig.names
    for a, b in ((cams.K, rig.K), (cams.dist, rig.dist), (cams.R, rig.R), (cams.t, rig.t)):
        np.testing.assert_allclose(a, b, atol=1e-12)


def _pycolmap_model(rig):
    """A pycolmap reconstruction built with pycolmap's own classes (not epicap's exporter)."""
    import pycolmap

    rec = pycolmap.Reconstruction()
    for c, name in enumerate(rig.names):
        K, d = rig.K[c], rig.dist[c]
        params = [K[0, 0], K[1, 1], K[0, 2] + 0.5, K[1, 2] + 0.5, *d[:4]]
        w, h = (int(v) for v in rig.image_size[c])
        rec.add_camera_with_trivial_rig(pycolmap.Camera(model="OPENCV", width=w, height=h,
                                                        params=params, camera_id=c + 1))
        image = pycolmap.Image(name=f"{name}.png", camera_id=c + 1, image_id=c + 1)
        rec.add_image_with_trivial_frame(
            image, pycolmap.Rigid3d(np.hstack([rig.R[c], rig.t[c][:, None]])))
    return rec


@pytest.mark.parametrize("text", [True, False])
def test_colmap_model_written_by_pycolmap(tmp_path, text):
    rig = ring_rig(4, distortion=[0.03, -0.01, 0.001, 0.0])
    rec = _pycolmap_model(rig)
    (rec.write_text if text else rec.write)(str(tmp_path))
    paths = [tmp_path] + ([tmp_path / "cameras.txt", tmp_path / "images.txt"] if text else [])
    X = np.array([[0.2, 0.1, 1.0], [-0.4, 0.3, 1.6]])
    for path in paths:
        assert detect_format(path) == "colmap"
        cams = load_calibration(path, require_extrinsics=True)
        assert cams.names == rig.names
        np.testing.assert_allclose(cams.R, rig.R, atol=1e-12)
        np.testing.assert_allclose(cams.t, rig.t, atol=1e-12)
        np.testing.assert_allclose(cams.K, rig.K, atol=1e-9)
        # pixels agree with COLMAP's own projection, less its half-pixel shift
        for c in range(len(rig)):
            cam = rec.cameras[c + 1]
            x_cam = X @ rig.R[c].T + rig.t[c]
            colmap_px = np.asarray(cam.img_from_cam(x_cam))
            np.testing.assert_allclose(cams.project(X)[c] + 0.5, colmap_px[:, :2], atol=1e-6)
    if text:  # cameras.txt without images.txt: intrinsics only, named by camera id
        alone = tmp_path / "alone"
        alone.mkdir()
        (tmp_path / "images.txt").rename(alone / "images.txt")
        cams = load_calibration(tmp_path / "cameras.txt")
        assert cams.names == ["1", "2", "3", "4"] and not cams.has_extrinsics
        with pytest.raises(InputError, match="needs the cameras.txt beside it"):
            load_calibration(alone / "images.txt")


def test_own_toml_round_trip(tmp_path):
    rig = ring_rig(3, distortion=[0.02, -0.01, 0, 0, 0.001])
    rig.to_toml(tmp_path / "cams.toml")
    cams = load_calibration(tmp_path / "cams.toml", require_extrinsics=True)
    np.testing.assert_allclose(cams.R, rig.R, atol=1e-12)
    np.testing.assert_allclose(cams.dist, rig.dist)
    (tmp_path / "noext").write_text((tmp_path / "cams.toml").read_text())  # found by content
    assert detect_format(tmp_path / "noext") == "toml"


@pytest.fixture
def qca(demo_qca):
    """The real Qualisys calibration (tests/conftest.py)."""
    return demo_qca


def test_real_qualisys_file(qca):
    from epicap.session.qualisys import read_qualisys

    assert detect_format(qca) == "qualisys"
    cams = load_calibration(qca, require_extrinsics=True)
    ref = read_qualisys(qca)
    assert cams.names == ["cam01", "cam02", "cam03", "cam04"]
    np.testing.assert_array_equal(cams.R, ref.R)
    np.testing.assert_array_equal(cams.K, ref.K)


def test_real_qualisys_file_with_a_nan_is_refused(qca, tmp_path):
    text = qca.read_text().replace('r11="0.5536380477336265"', 'r11="nan"', 1)
    (tmp_path / "nan.qca.txt").write_text(text)
    with pytest.raises(InputError, match="camera cam01: non-finite"):
        load_calibration(tmp_path / "nan.qca.txt")


def test_padding_rule_both_ways(qca):
    cams = load_calibration(qca)                                    # 1088x1920 everywhere
    video = np.array([[1080, 1920], [1080, 1920], [1088, 1920], [1088, 1920]])
    fitted, warnings = fit_to_session(cams, cams.names, video, "Calib.qca.txt")
    assert fitted.image_size.tolist() == video.tolist()
    np.testing.assert_array_equal(fitted.K, cams.K)                # principal point as given
    assert len(warnings) == 2 and "cam01" in warnings[0] and "cam02" in warnings[1]
    assert "1088x1920" in warnings[0] and "1080x1920" in warnings[0]
    # the other way: the calibration for the unpadded frame, the video padded
    small = fit_to_session(fitted, cams.names, np.full((4, 2), [1088, 1920]))
    assert (small[0].image_size == [1088, 1920]).all() and len(small[1]) == 2
    for bad in ([1072, 1920], [1088, 1904], [1080, 1912], [1920, 1088]):  # 16 px, two sides
        with pytest.raises(InputError, match="cam01.*more than codec padding"):
            fit_to_session(cams, ["cam01"], [bad])
    with pytest.raises(InputError, match="match none of the session's"):
        fit_to_session(cams, ["left", "right"], [[1080, 1920]] * 2)
    # cameras the session lacks are kept as they are
    part, _ = fit_to_session(cams, ["cam02"], [[1080, 1920]])
    assert part.image_size.tolist() == [[1088, 1920], [1080, 1920], [1088, 1920], [1088, 1920]]


def test_unknown_and_malformed_files(tmp_path):
    formats = "; ".join(FORMATS.values())
    (tmp_path / "notes.txt").write_text("fx = 1000, more or less\n")
    (tmp_path / "other.xml").write_text("<svg><g/></svg>")
    (tmp_path / "empty").mkdir()
    for name in ("notes.txt", "other.xml", "empty"):
        with pytest.raises(InputError) as e:
            load_calibration(tmp_path / name)
        assert formats in str(e.value) and str(tmp_path / name) in str(e.value)
    with pytest.raises(InputError, match="no such file"):
        load_calibration(tmp_path / "missing.toml")
    (tmp_path / "bad.yml").write_text("%YAML:1.0\n---\nimage_width: [[[\n")
    with pytest.raises(InputError, match="bad.yml: not a readable OpenCV"):
        load_calibration(tmp_path / "bad.yml")
    (tmp_path / "nok.yml").write_text("%YAML:1.0\n---\nimage_width: 640\n")
    with pytest.raises(InputError, match="no camera matrix"):
        load_calibration(tmp_path / "nok.yml")
    (tmp_path / "nosize.yml").write_text("%YAML:1.0\n---\n"
                                         "K: [1000, 0, 320, 0, 1000, 240, 0, 0, 1]\n")
    with pytest.raises(InputError, match="no image size"):
        load_calibration(tmp_path / "nosize.yml")
    # an opencv-matrix without its cols: cv2's FileNode.mat() corrupted memory on this one
    (tmp_path / "nocols.yml").write_text("%YAML:1.0\n---\nK: !!opencv-matrix\n   rows: 3\n"
                                         "   dt: d\n   data: [1, 0, 0, 0, 1, 0, 0, 0, 1]\n")
    with pytest.raises(InputError, match="no rows and cols"):
        load_calibration(tmp_path / "nocols.yml")
    (tmp_path / "half.yml").write_text("%YAML:1.0\n---\nK1: [1000, 0, 320, 0, 1000, 240, 0, 0, 1]\n"
                                       "size: [640, 480]\n")
    with pytest.raises(InputError, match="camera 2: no camera matrix"):
        load_calibration(tmp_path / "half.yml")
    (tmp_path / "cameras.txt").write_text("1 FISHEYE 640 480 1 2 3\n")
    with pytest.raises(InputError, match="FISHEYE is not supported"):
        load_calibration(tmp_path / "cameras.txt")
    (tmp_path / "ok.yml").write_text("%YAML:1.0\n---\nname: front\nimage_width: 640\n"
                                     "image_height: 480\n"
                                     "K: [1000, 0, 320, 0, 1000, 240, 0, 0, 1]\n")
    cams = load_calibration(tmp_path / "ok.yml")                  # hand-written lists read too
    assert cams.names == ["front"] and cams.K[0, 0, 2] == 320 and cams.image_size[0, 1] == 480
