"""Triangulation of several people: (P, T, J, 3) with ids; a person in one camera stays in 2D."""
import numpy as np
import pytest

from epicap.cli import main
from epicap.errors import InputError
from epicap.pipeline.triangulate import triangulate_keypoints, triangulate_session
from epicap.session import Keypoints2D, Poses3D
from epicap.synthetic import ring_rig, write_session
from epicap.synthetic.people import PeopleOptions, make_people_scene


@pytest.fixture(scope="module")
def scene():
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720))
    return make_people_scene(cams, 40, PeopleOptions(num_people=3, swap_fraction=0.0, seed=2))


def test_each_person_is_triangulated_near_the_truth(scene):
    poses, summary = triangulate_keypoints(scene.keypoints, scene.cameras)
    assert poses.people == ["p0", "p1", "p2"] and poses.poses.shape == (3, 40, 17, 3)
    assert poses.views.shape == (3, 40, 17)
    for p in range(3):
        err = np.linalg.norm(poses.poses[p] - scene.poses3d[p], axis=-1)
        assert np.nanmedian(err) < 0.02
        assert summary.people[f"p{p}"] > 0.8 * scene.present[p].mean()
    assert summary.untriangulated == []
    assert any("person p1" in str(name) for name, _ in summary.rows())


def test_a_person_seen_by_one_camera_stays_in_2d_and_is_named(scene):
    kp = scene.keypoints.keypoints.copy()
    kp[1:, :, 1] = (np.nan, np.nan, 0.0)  # p1 only in camera 0
    k = Keypoints2D(kp, scene.cameras.names, "coco17", scene.cameras.image_size, 30.0, None,
                    ["p0", "p1", "p2"])
    poses, summary = triangulate_keypoints(k, scene.cameras)
    assert np.isnan(poses.poses[1]).all() and (poses.views[1] == 0).all()
    assert np.isfinite(poses.poses[0]).any()
    assert summary.untriangulated == ["p1"] and summary.people["p1"] == 0.0
    assert any("p1" in w and "2D" in w for w in summary.warnings)
    nobody = kp.copy()
    nobody[1:] = (np.nan, np.nan, 0.0)
    with pytest.raises(InputError, match="no person could be triangulated"):
        triangulate_keypoints(Keypoints2D(nobody, scene.cameras.names, "coco17",
                                          scene.cameras.image_size, 30.0, None,
                                          ["p0", "p1", "p2"]), scene.cameras)


def test_session_file_and_command(tmp_path, scene, capsys):
    write_session(scene, tmp_path / "s")
    poses, _ = triangulate_session(tmp_path / "s", tmp_path / "s" / "truth" / "cameras.toml")
    back = Poses3D.from_npz(tmp_path / "s" / "poses3d.npz")
    assert back.people == poses.people and back.poses.shape == (3, 40, 17, 3)
    assert main(["triangulate", str(tmp_path / "s"), "--cameras",
                 str(tmp_path / "s" / "truth" / "cameras.toml"), "--force"]) == 0
    assert "person p2" in capsys.readouterr().out


def test_an_id_the_re_check_empties_is_said_once_and_stays_empty_after(tmp_path, scene):
    """The file split p0 (slot 3 holds them in frames 10-24): triangulate's re-check gives the
    views back and says so once; triangulating its output again without the re-check names the
    empty id as empty, not as someone seen by one camera."""
    write_session(scene, tmp_path / "s")
    cams = tmp_path / "s" / "truth" / "cameras.toml"
    kp = scene.keypoints.keypoints
    C, T = kp.shape[:2]
    four = np.concatenate([kp, np.full((C, T, 1) + kp.shape[3:], np.nan)], axis=2)
    four[..., 3, :, 2] = 0.0
    split = np.arange(10, 25)
    four[:, split, 3], four[:, split, 0] = four[:, split, 0], (np.nan, np.nan, 0.0)
    Keypoints2D(four, scene.cameras.names, "coco17", scene.cameras.image_size, 30.0, None,
                ["p0", "p1", "p2", "p3"]).save(tmp_path / "s" / "keypoints2d.npz")
    _, summary = triangulate_session(tmp_path / "s", cams, force=True)
    about = [w for w in summary.warnings if "p3" in w]
    assert about == ["person p3: the cameras gave every view of it to p0 (the matching without "
                     "cameras had split one person in two); p3 is left empty"]
    assert summary.untriangulated == [] and summary.empty == ["p3"]
    _, again = triangulate_session(tmp_path / "s", cams, force=True, match_people=False)
    assert [w for w in again.warnings if "p3" in w] == ["person p3 has no views: left empty"]
