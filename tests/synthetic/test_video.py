"""Rendered videos: one MP4 per camera, the figure drawn where the clean 2D says."""
import numpy as np
import pytest

from epicap.session.manifest import SessionManifest
from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig, write_session
from epicap.synthetic.video import render_background
from tests.videos import read_video


@pytest.fixture
def small_scene():
    cams = ring_rig(2, radius_m=4.0, focal_px=250.0, image_size=(320, 240))
    return make_scene(load_clip("walk", num_frames=6), cams, SceneOptions(noise_px=0))


def test_videos_show_the_figure_where_the_2d_is(tmp_path, small_scene):
    out = write_session(small_scene, tmp_path / "s", video=True)
    manifest = SessionManifest.load(out)
    cams = small_scene.cameras
    for c, name in enumerate(cams.names):
        path = manifest.video_path(out, name)
        assert path == out / "videos" / f"{name}.mp4"
        frames, fps = read_video(path)
        assert frames.shape == (6, 240, 320, 3) and fps == pytest.approx(30.0)
        bg = render_background(cams.K[c], cams.R[c], cams.t[c], cams.dist[c], (320, 240),
                               seed=c).astype(np.float64)
        diff = np.abs(frames.astype(np.float64) - bg).mean(axis=-1)  # (T, H, W)
        for k in range(6):
            # the middle of each thigh is drawn over (the limb is ~4 px wide here)
            for hip, knee in [(11, 13), (12, 14)]:
                x, y = np.round((small_scene.points2d_clean[c, k, hip]
                                 + small_scene.points2d_clean[c, k, knee]) / 2).astype(int)
                assert diff[k, y - 1:y + 2, x - 1:x + 2].mean() > 40
            assert np.median(diff[k]) < 6  # elsewhere: the background, up to the codec
        assert np.abs(frames[0].astype(float) - frames[-1]).mean() > 0.1  # the figure moves


def test_background_floor_is_the_floor():
    cams = ring_rig(1, radius_m=4.0, height_m=1.6, focal_px=500.0, image_size=(320, 240))
    bg = render_background(cams.K[0], cams.R[0], cams.t[0], cams.dist[0], (320, 240))
    assert bg.shape == (240, 320, 3) and bg.dtype == np.uint8
    horizon = cams.project(np.array([[-1e4, 0.0, 1.6]]))[0, 0, 1]  # far away at eye height
    above, below = bg[: int(horizon) - 5], bg[int(horizon) + 5:]
    # the checkered floor (grey tiles) below the horizon varies far more than the wall above
    assert below.std() > 1.3 * above.std()
