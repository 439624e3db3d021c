import numpy as np
import pytest

from epicap.errors import InputError
from epicap.export.colmap import cameras_from_reconstruction, write_colmap
from epicap.session import Cameras
from tests.viz.session_factory import four_cameras, stick_figure


@pytest.mark.parametrize("text", [False, True])
def test_pycolmap_reads_the_model_back(tmp_path, text):
    import pycolmap

    cams, poses = four_cameras(), stick_figure(T=3)
    cams.dist[2, 4] = 0.002  # k3: FULL_OPENCV
    write_colmap(tmp_path / "m", cams, poses, text=text)
    rec = pycolmap.Reconstruction(str(tmp_path / "m"))
    assert rec.num_cameras() == 4 and rec.num_reg_images() == 4
    assert rec.num_points3D() == poses.valid.sum()
    img = rec.find_image_with_name("cam02.jpg")
    cam = rec.cameras[img.camera_id]
    assert cam.model.name == "OPENCV" and rec.cameras[3].model.name == "FULL_OPENCV"
    # COLMAP's pixel centres are at +0.5: cx 319.5 (OpenCV) is 320.0 there
    assert np.allclose(cam.params[:4], [530, 530, 320.0, 240.0])
    # pycolmap's own projection of a joint agrees with ours (distortion included)
    X = poses.poses[0, 10].astype(np.float64)
    uv_colmap = cam.img_from_cam(img.cam_from_world() * X)
    assert np.allclose(uv_colmap - 0.5, cams.project(X[None])[1, 0], atol=1e-6)
    back = cameras_from_reconstruction(rec)
    assert back.names == cams.names
    for a in ("K", "dist", "R", "t"):
        assert np.allclose(getattr(back, a), getattr(cams, a), atol=1e-9), a


def test_needs_extrinsics(tmp_path):
    c = four_cameras()
    intr = Cameras(c.names, c.image_size, c.K, c.dist)
    with pytest.raises(InputError, match="camera poses"):
        write_colmap(tmp_path / "m", intr)
