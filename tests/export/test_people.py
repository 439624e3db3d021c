"""Export of several people: one TRC/C3D per person, one JSON with everyone."""
import json

import numpy as np
import pytest

from epicap.cli import main
from epicap.errors import InputError
from epicap.export.c3d import read_c3d
from epicap.export.jsonfmt import read_json
from epicap.export.people import person_path
from epicap.export.session import export_session, real_frames
from epicap.export.trc import read_trc, zup_from_yup
from epicap.session import Poses3D
from tests.people_sessions import triangulated_session


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return triangulated_session(tmp_path_factory.mktemp("export") / "s")[0]


def test_person_path():
    assert person_path("out/walk.trc", "p1").as_posix() == "out/walk_p1.trc"
    assert person_path("walk.c3d", "a/b c").name == "walk_a_b_c.c3d"


def test_one_trc_and_c3d_per_person(session, tmp_path):
    poses = Poses3D.from_npz(session / "poses3d.npz")
    assert poses.people == ["p0", "p1", "p2"]
    paths = export_session(session, "trc", tmp_path / "walk.trc", marker_names="epicap")
    assert [p.name for p in paths] == ["walk_p0.trc", "walk_p1.trc", "walk_p2.trc"]
    assert not (tmp_path / "walk.trc").exists()
    for p, path in enumerate(paths):
        trc = read_trc(path)
        rows = real_frames(poses.poses[p])  # each person's own frames, numbered as the videos
        assert trc.first_frame == rows.start + 1
        np.testing.assert_allclose(zup_from_yup(trc.markers), poses.poses[p][rows], atol=1e-5)
    assert read_trc(paths[1]).first_frame > 1  # p1 enters a quarter of the way in
    paths = export_session(session, "c3d", tmp_path / "walk.c3d", marker_names="epicap")
    for p, path in enumerate(paths):
        c3d = read_c3d(path)
        rows = real_frames(poses.poses[p])
        np.testing.assert_allclose(c3d.points / 1000.0, poses.poses[p][rows], atol=1e-5)
    with pytest.raises(InputError, match="walk_p0.c3d: output exists"):
        export_session(session, "c3d", tmp_path / "walk.c3d")


def test_one_json_with_everyone(session, tmp_path):
    poses = Poses3D.from_npz(session / "poses3d.npz")
    path = export_session(session, "json", tmp_path / "all.json")
    doc = json.loads(path.read_text())
    assert doc["people"] == ["p0", "p1", "p2"]
    assert [e["id"] for e in doc["frames"][0]["people"]] == ["p0", "p1", "p2"]
    back, cams = read_json(path)
    assert back.people == poses.people and cams is not None
    np.testing.assert_allclose(back.poses, poses.poses, atol=1e-6)
    np.testing.assert_array_equal(back.views, poses.views)


def test_command_prints_every_file(session, tmp_path, capsys):
    assert main(["export", str(session), "--format", "trc", "--out",
                 str(tmp_path / "x.trc")]) == 0
    out = capsys.readouterr().out.split()
    assert [o.rsplit("/", 1)[-1] for o in out] == ["x_p0.trc", "x_p1.trc", "x_p2.trc"]


def test_colmap_holds_every_persons_joints(session, tmp_path):
    import pycolmap

    poses = Poses3D.from_npz(session / "poses3d.npz")
    export_session(session, "colmap", tmp_path / "model")
    rec = pycolmap.Reconstruction(str(tmp_path / "model"))
    assert len(rec.points3D) == int(poses.valid.sum())
    xyz = np.array([pt.xyz for pt in rec.points3D.values()])
    for p in range(3):  # each person's first triangulated joint is among the points
        X = poses.poses[p][poses.valid[p]][0]
        assert np.linalg.norm(xyz - X, axis=1).min() < 1e-5
