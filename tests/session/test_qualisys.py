import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session.qualisys import read_qualisys

_XML = """<?xml version='1.0' encoding='ASCII'?>
<calibration><cameras>
<camera active="1" serial="cam10"><fov_video bottom="719" left="0" right="1279" top="0"/>
<transform r11="{r11}" r12="{r12}" r13="{r13}" r21="{r21}" r22="{r22}" r23="{r23}" r31="{r31}"
 r32="{r32}" r33="{r33}" x="1000" y="-2000" z="1500"/>
<intrinsic centerPointU="40960" centerPointV="23040" focalLengthU="64000" focalLengthV="64000"
 radialDistortion1="0" radialDistortion2="0" radialDistortion3="0" tangentalDistortion1="0"
 tangentalDistortion2="0"/></camera>
<camera active="1" serial="cam2"><fov_video bottom="719" left="0" right="1279" top="0"/>
<transform r11="1" r12="0" r13="0" r21="0" r22="1" r23="0" r31="0" r32="0" r33="1" x="0" y="0"
 z="0"/><intrinsic centerPointU="40960" centerPointV="23040" focalLengthU="64000"
 focalLengthV="64000" radialDistortion1="0" radialDistortion2="0" radialDistortion3="0"
 tangentalDistortion1="0" tangentalDistortion2="0"/></camera>
</cameras></calibration>"""


def test_synthetic_file_convention():
    # rows of the transform: the camera's axes in the world, Qualisys camera y up and z back
    look = np.array([-1.0, 2.0, -0.5])
    look /= np.linalg.norm(look)
    x = np.cross(look, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    y_down = np.cross(look, x)
    M = np.stack([x, -y_down, -look])  # Qualisys: x right, y up, z backwards
    text = _XML.format(**{f"r{i + 1}{j + 1}": M[i, j] for i in range(3) for j in range(3)})
    cams = read_qualisys(text=text)
    assert cams.names == ["cam2", "cam10"]  # natural order
    c = cams.select(["cam10"])
    np.testing.assert_allclose(c.centers[0], [1.0, -2.0, 1.5], atol=1e-9)
    np.testing.assert_allclose(c.R[0][2], look, atol=1e-9)  # optical axis looks along `look`
    assert c.image_size[0].tolist() == [1280, 720]
    np.testing.assert_allclose(c.K[0], [[1000, 0, 640], [0, 1000, 360], [0, 0, 1]])
    # a point straight ahead projects onto the principal point
    np.testing.assert_allclose(c.project(c.centers + 3 * look)[0, 0], [640, 360], atol=1e-6)


def test_malformed():
    with pytest.raises(InputError):
        read_qualisys(text="<calibration><cameras/></calibration>")
    with pytest.raises(InputError):
        read_qualisys(text="not xml")
    with pytest.raises(InputError):
        read_qualisys(text=_XML.replace('focalLengthU="64000"', ""))


@pytest.fixture(scope="module")
def demo():
    from epicap.assets import WHEELS, cache_dir, fetch_wheel, read_member

    if not (cache_dir() / "wheels" / WHEELS["pose2sim-0.10.49"].filename).is_file():
        pytest.skip("Pose2Sim wheel not in the cache")
    return read_qualisys(text=read_member(
        fetch_wheel("pose2sim-0.10.49"),
        "Pose2Sim/Demo_SinglePerson/calibration/Calib.qca.txt").decode())


def test_pose2sim_demo_calibration(demo):
    assert demo.names == ["cam01", "cam02", "cam03", "cam04"]
    assert (demo.image_size == [1088, 1920]).all()  # portrait
    assert np.allclose(demo.K[:, 0, 0], 1675, atol=10) and np.allclose(demo.K[:, 0, 2], 530,
                                                                        atol=25)
    np.testing.assert_allclose(demo.R @ demo.R.transpose(0, 2, 1), np.tile(np.eye(3), (4, 1, 1)),
                               atol=1e-6)
    np.testing.assert_allclose(demo.centers[0], [1.4602, -1.9092, 1.8965], atol=1e-4)
    # every camera looks at the capture volume: the centroid of the centres at 1 m height is in
    # front of each camera and inside its (portrait) image
    target = demo.centers.mean(0) * [1, 1, 0] + [0, 0, 1.0]
    uv = demo.project(target[None])[:, 0]
    assert ((uv > 0) & (uv < demo.image_size)).all()
