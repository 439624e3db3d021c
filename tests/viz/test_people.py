"""Pictures of several people: each person in their colour with their id; one person unchanged."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session import Keypoints2D, Poses3D
from epicap.viz.overlay import OverlaySource, draw_overlay, overlay_frames, reprojection_residuals
from epicap.viz.people import (PeopleSkeleton, best_people_frame, draw_people_overlay,
                               label_anchor, person_bone_colors, person_rgb, person_side_colors)
from epicap.viz.render import render_session_png
from epicap.viz.report import build_report
from epicap.viz.report_people import people_rows, presence
from epicap.viz.viewpoint import picture_size, view_camera
from tests.people_sessions import triangulated_session
from tests.viz.test_render import _near

SIZE = (480, 320)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return triangulated_session(tmp_path_factory.mktemp("viz") / "s")


def test_person_colours_keep_the_sides_apart():
    from epicap.joint_sets import get_joint_set

    skel = get_joint_set("coco17")
    left, right = skel.index("left_wrist"), skel.index("right_wrist")
    for p in range(3):
        c = person_side_colors(skel, p)
        base = person_rgb(p)
        assert np.allclose(c[skel.index("nose")], base)
        assert (c[left] >= base).all() and c[left].sum() > base.sum()  # lighter
        assert (c[right] <= base).all() and c[right].sum() < base.sum()  # darker
        assert person_bone_colors(skel, p).shape == (len(skel.bone_index), 3)
    assert len({tuple(person_rgb(p)) for p in range(8)}) == 8


def test_label_anchor_is_above_the_highest_joint():
    pts = np.array([[[0, 0, 1.0], [2, 0, 1.5], [np.nan] * 3], [[np.nan] * 3] * 3])
    a = label_anchor(pts, lift=0.1)
    np.testing.assert_allclose(a[0], [1.0, 0.0, 1.6])
    assert np.isnan(a[1]).all()


def test_offscreen_picture_shows_each_person_in_their_colour(session, tmp_path):
    from epicap.session import Cameras

    folder, _ = session
    cams = Cameras.from_toml(folder / "cameras.toml")
    poses = Poses3D.from_npz(folder / "poses3d.npz")
    img = render_session_png((cams, poses), tmp_path / "p.png", view="camera:cam01", size=SIZE)
    t = best_people_frame(poses)
    view = view_camera("camera:cam01", cams, poses, picture_size("camera:cam01", cams, SIZE))
    skel = poses.skeleton
    seen = 0
    for p in range(3):
        colours = person_side_colors(skel, p)
        for joint in ("nose", "left_ankle", "right_ankle"):
            j = skel.index(joint)
            if not np.isfinite(poses.poses[p, t, j]).all():
                continue
            uv = view.project(poses.poses[p, t, j][None])[0]
            seen += _near(img, uv, colours[j], radius=3, tol=20)
            others = [person_side_colors(skel, q)[j] for q in range(3) if q != p]
            assert not all(_near(img, uv, rgb, radius=0) for rgb in others)
    assert seen >= 6  # most joints show their person's colour (a few hidden behind others)
    # each id is written in its person's colour above the head
    for p, uv in enumerate(view.project(label_anchor(poses.poses[:, t]))):
        if np.isfinite(uv).all() and 0 <= uv[0] < img.shape[1]:
            assert _near(img, uv + (0, -4), person_rgb(p), radius=12, tol=40), f"no id of p{p}"


def test_skeleton_names_every_person(session):
    folder, _ = session
    poses = Poses3D.from_npz(folder / "poses3d.npz")
    sk = PeopleSkeleton(poses)
    names = [g.name for g in sk.geometries()]
    assert len(names) == len(set(names)) == 6
    sk.set_frame(3)
    assert sk.frame == 3 and sk.anchors().shape == (3, 3)


def test_overlay_draws_each_person_and_the_one_person_overlay_is_unchanged(session):
    folder, scene = session
    src = OverlaySource.from_session(folder)
    res = reprojection_residuals(src.cameras, src.poses, src.keypoints)
    assert res.shape == (4, scene.poses3d.shape[1], 3, 17)
    assert np.nanmedian(res) < 3.0  # each person against their own 3D (noise 1 px)
    img = next(overlay_frames(src, "cam02", [10]))
    kp = src.keypoints
    for p in range(3):
        colours = person_side_colors(kp.skeleton, p)
        for j in (kp.skeleton.index("left_ankle"), kp.skeleton.index("right_knee")):
            uv = kp.points[1, 10, p, j]
            if np.isfinite(uv).all():
                assert _near(img, uv, colours[j], radius=2, tol=30)
        pts = kp.points[1, 10, p]
        if np.isfinite(pts).any():  # the id above the highest detection, in the person's colour
            top = pts[np.nanargmin(pts[:, 1])]
            assert _near(img, top + (0, -19), person_rgb(p), radius=6, tol=40), f"no id p{p}"
    # one person: exactly the one-person drawing
    blank = np.full((720, 1280, 3), 70, np.uint8)
    one = kp.person(0)
    a = draw_people_overlay(blank, one.points[1, 10], None, one.skeleton, None)
    b = draw_overlay(blank, one.points[1, 10], None, one.skeleton)
    assert np.array_equal(a, b)


def test_overlay_refuses_other_people(session):
    folder, _ = session
    src = OverlaySource.from_session(folder)
    one = src.keypoints.person(0)
    with pytest.raises(InputError, match="holds one person but poses3d.npz p0, p1, p2"):
        reprojection_residuals(src.cameras, src.poses, one)


def test_report_has_a_people_table_and_timeline(session):
    folder, scene = session
    poses = Poses3D.from_npz(folder / "poses3d.npz")
    kp = Keypoints2D.from_npz(folder / "keypoints2d.npz")
    rows = people_rows(poses)
    assert [r[0] for r in rows] == ["p0", "p1", "p2"]
    for p, row in enumerate(rows):
        assert row[1] == int(poses.valid[p].any(axis=1).sum())
        assert row[5] == pytest.approx(scene.heights_m[p], abs=0.12)  # limbs: about 5%
    share, strips = presence(poses, kp)
    assert strips == ["cam01", "cam02", "cam03", "cam04", "3D"]
    np.testing.assert_allclose(share[:4], scene.visible.mean(axis=-1).transpose(0, 2, 1))
    np.testing.assert_allclose(share[4], poses.valid.mean(axis=-1))
    html = build_report(folder, snapshots=False)
    assert "<h2>People</h2>" in html and 'alt="who is seen when"' in html
    assert "p0, p1, p2" in html


def test_report_and_overlays_of_stale_3d_leave_the_2d_comparison_out(session, tmp_path, capsys):
    import shutil

    folder, _ = session
    stale = shutil.copytree(folder, tmp_path / "stale")
    Poses3D.from_npz(folder / "poses3d.npz").person(0).save(stale / "poses3d.npz")  # one person
    assert OverlaySource.from_session(stale).poses is None
    html = build_report(stale, snapshots=False)
    assert "<h2>2D overlays</h2>" not in html and "<h2>People</h2>" not in html
    assert "hold different people" in capsys.readouterr().err
