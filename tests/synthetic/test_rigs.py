"""Random realistic rigs: reproducible, within the family's ranges, framing the motion, lenses
really in K and dist (checked with cv2.projectPoints), layouts shaped as named."""
import dataclasses

import numpy as np
import pytest

from epicap.errors import GeometryError, InputError
from epicap.synthetic import SceneOptions, load_clip, make_scene
from epicap.synthetic.rigs import LAYOUTS, RigFamily, random_rig

SEEDS = range(24)


@pytest.fixture(scope="module")
def walk():
    """A walk circling a capture volume about 4.5 m wide (as in the benchmark)."""
    return load_clip("walk", "coco17", fps=30, num_frames=120, turn_deg_per_s=28.0)


@pytest.fixture(scope="module")
def rigs(walk):
    return [random_rig(s, walk.positions) for s in SEEDS]


def cv2_in_image(points, cams):
    """(C, N) points inside each image by cv2.projectPoints, excluding those beyond the radius
    where the k1-only lens folds back (r^2 = -1 / (3 k1)), which cv2 maps back inside."""
    import cv2

    out = []
    for c in range(len(cams)):
        rvec, _ = cv2.Rodrigues(cams.R[c])
        px = cv2.projectPoints(points, rvec, cams.t[c], cams.K[c], cams.dist[c])[0][:, 0]
        x_cam = points @ cams.R[c].T + cams.t[c]
        r2 = (x_cam[:, :2] ** 2).sum(1) / x_cam[:, 2] ** 2
        k1 = cams.dist[c, 0]
        fold = np.inf if k1 >= 0 else -1 / (3 * k1)
        w, h = cams.image_size[c]
        out.append((x_cam[:, 2] > 0) & (r2 < fold) & (px[:, 0] >= -0.5) & (px[:, 1] >= -0.5)
                   & (px[:, 0] <= w - 0.5) & (px[:, 1] <= h - 0.5))
    return np.array(out)


def test_seeds_reproduce_and_differ(walk):
    a, b, c = (random_rig(s, walk.positions) for s in (7, 7, 8))
    for name in ("K", "dist", "R", "t", "image_size"):
        np.testing.assert_array_equal(getattr(a.cameras, name), getattr(b.cameras, name))
    assert a.draws == b.draws and a.lose_subject == b.lose_subject
    assert a.describe() == b.describe() != c.describe()


def test_drawn_values_lie_in_the_family_ranges(rigs):
    fam = RigFamily()
    sizes = set(fam.image_sizes) | {(h, w) for w, h in fam.image_sizes}
    for rig in rigs:
        cams = rig.cameras
        assert rig.layout in LAYOUTS and 2 <= len(cams) <= 16
        for c, d in enumerate(rig.draws):
            w, h = d.image_size
            assert (w, h) in sizes and tuple(cams.image_size[c]) == (w, h)
            assert 500 <= d.focal_px <= 3000
            assert 20 <= np.degrees(2 * np.arctan(max(w, h) / 2 / d.focal_px)) <= 110
            assert abs(d.pp_offset_px[0]) <= 0.03 * w and abs(d.pp_offset_px[1]) <= 0.03 * h
            assert -0.35 <= d.k1 <= 0.1
            assert 0.3 <= d.height_m <= 3.5 and -20 <= d.tilt_deg <= 45
            assert 1.0 <= d.distance_m <= 15.0
            np.testing.assert_allclose(cams.centers[c, 2], d.height_m, atol=1e-9)
            # the tilt is the optical axis's angle below the horizon
            np.testing.assert_allclose(np.degrees(np.arcsin(-cams.R[c, 2, 2])), d.tilt_deg)
    every = [d for rig in rigs for d in rig.draws]
    # the family's variety shows up: portrait, wide and narrow lenses, barrel and pincushion
    assert any(d.image_size[1] > d.image_size[0] for d in every)
    assert min(d.focal_px for d in every) < 800 and max(d.focal_px for d in every) > 2400
    assert min(d.k1 for d in every) < -0.2 and max(d.k1 for d in every) > 0.05
    assert {d.kind for d in every} == {"full", "upper", "part"}
    assert {rig.layout for rig in rigs} == set(LAYOUTS)
    assert any(d.lose is not None for d in every)


def test_lens_is_in_K_and_dist_and_projects_as_opencv(rigs, walk):
    import cv2

    X = walk.positions[::10].reshape(-1, 3)
    for rig in rigs[:8]:
        cams = rig.cameras
        for c, d in enumerate(rig.draws):
            w, h = d.image_size
            np.testing.assert_allclose(cams.K[c], [[d.focal_px, 0, (w - 1) / 2 + d.pp_offset_px[0]],
                                                   [0, d.focal_px, (h - 1) / 2 + d.pp_offset_px[1]],
                                                   [0, 0, 1]])
            np.testing.assert_array_equal(cams.dist[c], [d.k1, 0, 0, 0, 0])
            rvec, _ = cv2.Rodrigues(cams.R[c])
            ref = cv2.projectPoints(X, rvec, cams.t[c], cams.K[c], cams.dist[c])[0][:, 0]
            front = (X @ cams.R[c].T + cams.t[c])[:, 2] > 0  # ours: NaN behind the camera
            np.testing.assert_allclose(cams.project(X)[c][front], ref[front], atol=1e-6)
            assert front.mean() > 0.5 and np.isnan(cams.project(X)[c][~front]).all()
        # k1 stays where the lens model is monotonic up to beyond the image corners
        corner = np.hypot(*np.maximum(cams.K[:, :2, 2], cams.image_size - 1 - cams.K[:, :2, 2]).T)
        r = corner / cams.K[:, 0, 0]
        assert (1 + 3 * cams.dist[:, 0] * r ** 2 > 0).all()


def test_cameras_see_the_volume(rigs, walk):
    """Full framings see nearly all the motion, upper-body ones lose the feet before the head;
    `seen` agrees with an independent count through cv2.projectPoints."""
    P = walk.positions.reshape(-1, 3)
    T, J = walk.positions.shape[:2]
    upper = []  # (ankles, nose) seen shares of the upper-body framings
    for rig in rigs:
        inside = cv2_in_image(P, rig.cameras).reshape(len(rig.cameras), T, J)
        for c, d in enumerate(rig.draws):
            np.testing.assert_allclose(d.seen, inside[c].mean(), atol=1e-9)
            assert d.seen >= {"full": 0.8, "upper": 0.15, "part": 0.1}[d.kind]
            if d.kind == "upper":
                upper.append((inside[c][:, [15, 16]].mean(), inside[c][:, 0].mean()))
    ankles, nose = np.array(upper).T
    # a steep camera may crop the head of a subject walking close; on the whole, the feet go
    assert len(upper) >= 10 and ankles.mean() < nose.mean() - 0.1
    assert (ankles < 0.5 * nose).sum() >= 3


def test_layout_shapes(walk):
    line = random_rig(3, walk.positions, num_cameras=5, layout="line")
    centres = line.cameras.centers
    assert np.linalg.svd(centres - centres.mean(0), compute_uv=False)[1] < 1e-9  # collinear
    assert len({(d.focal_px, d.image_size, d.height_m) for d in line.draws}) == 1
    ring = random_rig(3, walk.positions, num_cameras=6, layout="ring")
    az = np.sort([d.azimuth_deg for d in ring.draws])
    assert np.diff(np.r_[az, az[0] + 360]).max() < 90  # all around: no gap of a quarter turn
    wall = random_rig(3, walk.positions, num_cameras=6, layout="wall")
    az = np.radians([d.azimuth_deg for d in wall.draws])
    spread = np.degrees(np.abs(np.angle(np.exp(1j * (az - np.angle(np.exp(1j * az).mean()))))))
    assert spread.max() < 75  # one side: within a sector of at most 140 degrees (and jitter)
    corners = random_rig(3, walk.positions, num_cameras=8, layout="corners")
    az = np.array([d.azimuth_deg for d in corners.draws])
    # each centre lies 45 deg (+- jitter and the aim's offset) off the axes of one room frame
    off = (az - az[0] + 45) % 90 - 45
    assert np.abs(off).max() < 25


def test_lost_windows_reach_the_scene(walk):
    rig = next(r for r in (random_rig(s, walk.positions) for s in range(40)) if r.lose_subject)
    name, (start, stop) = next(iter(rig.lose_subject.items()))
    assert 0.2 * 120 - 1 <= stop - start <= 0.5 * 120 + 1
    scene = make_scene(walk, rig.cameras, SceneOptions(lose_subject=rig.lose_subject))
    c = rig.cameras.names.index(name)
    assert scene.missing[c, start:stop].all() and not scene.missing[c, :start].all()


def test_ideal_lens_family_keeps_the_geometry(walk):
    real = random_rig(11, walk.positions)
    ideal = random_rig(11, walk.positions, RigFamily(pp_offset=0.0, k1=(0.0, 0.0)))
    np.testing.assert_array_equal(real.cameras.R, ideal.cameras.R)
    np.testing.assert_array_equal(real.cameras.t, ideal.cameras.t)
    np.testing.assert_array_equal(real.cameras.K[:, 0, 0], ideal.cameras.K[:, 0, 0])
    np.testing.assert_array_equal(ideal.cameras.dist, 0.0)
    np.testing.assert_allclose(ideal.cameras.K[:, :2, 2], (ideal.cameras.image_size - 1) / 2)
    assert (real.cameras.dist[:, 0] != 0).all()


def test_points_beyond_a_lens_fold_are_not_in_view(walk):
    """Strong barrel distortion folds points far off-axis back into the image: cv2 reports
    them inside, a real lens never shows them, and make_scene drops them."""
    import cv2

    from epicap.synthetic import ring_rig

    cams = ring_rig(1, radius_m=3.0, focal_px=600.0, image_size=(1280, 720),
                    distortion=[-0.35, 0, 0, 0])
    # 62 degrees off the optical axis: r = 1.9 in normalized coordinates, past the fold at 0.98
    side = (cams.centers[0] + cams.R[0, 2] + 1.9 * cams.R[0, 0])[None]
    x_cam = side @ cams.R[0].T + cams.t[0]
    assert (x_cam[0, :2] ** 2).sum() / x_cam[0, 2] ** 2 > 1 / (3 * 0.35)  # beyond the fold
    px = cv2.projectPoints(side, cv2.Rodrigues(cams.R[0])[0], cams.t[0], cams.K[0],
                           cams.dist[0])[0][0, 0]
    assert 0 <= px[0] < 1280 and 0 <= px[1] < 720  # cv2: inside the image
    clip = load_clip("walk", num_frames=2)
    moved = clip.positions - clip.positions[:, :1] + side  # the first joint at `side`
    scene = make_scene(dataclasses.replace(clip, positions=moved), cams, SceneOptions(noise_px=0))
    assert not scene.in_view[0, :, 0].any()


def test_bad_input_and_impossible_family(walk):
    with pytest.raises(InputError, match="layout"):
        random_rig(0, walk.positions, layout="circle")
    with pytest.raises(InputError, match="layout"):
        RigFamily(layouts=("ring", "dome"))
    with pytest.raises(InputError, match="num_cameras"):
        RigFamily(num_cameras=(1, 4))
    with pytest.raises(InputError, match="motion"):
        random_rig(0, walk.positions[0])
    with pytest.raises(GeometryError, match="frames the motion"):  # 5 m too close for any lens
        random_rig(0, walk.positions, RigFamily(distance_m=(0.1, 0.5)), num_cameras=2)


def test_same_camera_family_gives_one_model(walk):
    for seed in range(6):
        rig = random_rig(seed, walk.positions, RigFamily(same_camera=True))
        assert len({d.focal_px for d in rig.draws}) == 1
        assert len({d.image_size for d in rig.draws}) == 1
