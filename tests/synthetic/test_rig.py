"""Camera rings: placement, orientation (OpenCV axes), jitter, projection against OpenCV."""
import numpy as np
import pytest

from epicap.errors import GeometryError, InputError
from epicap.synthetic import ring_rig


def test_ring_places_cameras_and_looks_at_the_target():
    cams = ring_rig(6, radius_m=5.0, height_m=2.0, focal_px=800.0, image_size=(640, 480),
                    look_at=(0.0, 0.0, 1.0))
    assert cams.names == [f"cam{c:02d}" for c in range(1, 7)]
    C = cams.centers
    np.testing.assert_allclose(np.hypot(C[:, 0], C[:, 1]), 5.0)
    np.testing.assert_allclose(C[:, 2], 2.0)
    azimuth = np.rad2deg(np.arctan2(C[:, 1], C[:, 0])) % 360
    np.testing.assert_allclose(azimuth, np.arange(6) * 60.0, atol=1e-9)
    np.testing.assert_allclose(cams.R @ cams.R.transpose(0, 2, 1), np.broadcast_to(np.eye(3),
                                                                                  (6, 3, 3)),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(cams.R), 1.0)
    target = cams.project(np.array([[0.0, 0.0, 1.0]]))[:, 0]
    np.testing.assert_allclose(target, np.tile([319.5, 239.5], (6, 1)), atol=1e-9)
    # up in the world is up in the image (smaller v); no roll: a horizontal offset stays level
    above = cams.project(np.array([[0.0, 0.0, 1.5]]))[:, 0]
    assert (above[:, 1] < 239.5).all()
    np.testing.assert_allclose(above[:, 0], 319.5, atol=1e-9)


def test_first_camera_sees_the_subjects_left_on_the_image_right():
    cams = ring_rig(1)  # on +X, looking back at the origin: a subject facing +X faces it
    left = cams.project(np.array([[0.0, 0.2, 1.0]]))[0, 0]
    assert left[0] > 639.5


def test_per_camera_heights_names_distortion():
    cams = ring_rig(3, height_m=[1.0, 2.0, 3.0], names=["a", "b", "c"],
                    distortion=[0.1, -0.05, 0.001, 0.002])
    np.testing.assert_allclose(cams.centers[:, 2], [1, 2, 3])
    assert cams.names == ["a", "b", "c"]
    np.testing.assert_allclose(cams.dist, np.tile([0.1, -0.05, 0.001, 0.002, 0.0], (3, 1)))


def test_projection_matches_opencv_with_distortion():
    import cv2

    cams = ring_rig(4, distortion=[-0.2, 0.05, 0.001, -0.002, 0.01], jitter_deg=2.0,
                    jitter_m=0.1, seed=3)
    X = np.random.default_rng(0).uniform([-1, -1, 0], [1, 1, 2], (50, 3))
    ours = cams.project(X)
    for c in range(4):
        rvec, _ = cv2.Rodrigues(cams.R[c])
        ref, _ = cv2.projectPoints(X, rvec, cams.t[c], cams.K[c], cams.dist[c])
        np.testing.assert_allclose(ours[c], ref.reshape(-1, 2), atol=1e-6)


def test_jitter_statistics_and_seeding():
    base = ring_rig(400, radius_m=4.0)
    jit = ring_rig(400, radius_m=4.0, jitter_deg=2.0, jitter_m=0.05, seed=7)
    R_delta = jit.R @ base.R.transpose(0, 2, 1)
    angle = np.rad2deg(np.arccos(np.clip((np.trace(R_delta, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    assert np.sqrt(np.mean(angle ** 2)) == pytest.approx(2.0, rel=0.1)  # |N(0, 2 deg)|
    moved = jit.centers - base.centers
    assert moved.std() == pytest.approx(0.05, rel=0.1)
    again = ring_rig(400, radius_m=4.0, jitter_deg=2.0, jitter_m=0.05, seed=7)
    np.testing.assert_array_equal(again.R, jit.R)
    assert not np.allclose(ring_rig(400, jitter_deg=2.0, seed=8).R, jit.R)


def test_bad_rigs():
    with pytest.raises(InputError, match="at least one camera"):
        ring_rig(0)
    with pytest.raises(InputError, match="heights"):
        ring_rig(4, height_m=[1.0, 2.0])
    with pytest.raises(InputError, match="radius"):
        ring_rig(4, radius_m=0)
    with pytest.raises(InputError, match="distinct camera names"):
        ring_rig(2, names=["a", "a"])
    with pytest.raises(GeometryError, match="sits on"):
        ring_rig(1, radius_m=1.0, height_m=1.0, look_at=(1.0, 0.0, 1.0))
    with pytest.raises(GeometryError, match="straight up or down"):
        ring_rig(1, radius_m=1.0, height_m=3.0, look_at=(1.0, 0.0, 0.0))
    with pytest.raises(InputError, match="distortion"):
        ring_rig(2, distortion=[[0.1, 0.0, 0.0, 0.0]] * 3)
