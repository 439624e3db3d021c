import numpy as np
import pytest

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set
from epicap.viz.overlay import (CANVAS_GREY, ERROR_RGB, OverlaySource, contact_sheet, draw_overlay,
                                reprojection_residuals, write_overlays)
from epicap.viz.scene import LEFT_RGB, RIGHT_RGB
from tests.viz.session_factory import four_cameras, keypoints_from, make_session, stick_figure


def test_residuals_match_the_added_noise():
    cams, poses = four_cameras(), stick_figure()
    kp = keypoints_from(cams, poses, noise_px=2.0)
    r = reprojection_residuals(cams, poses, kp)
    assert r.shape == (4, 6, 17)
    assert np.isnan(r[0, 0, 3]) and np.isfinite(r).sum() == r.size - 1
    # |N(0, 2^2 I_2)| follows a Rayleigh law: median 2 * sqrt(2 ln 2) = 2.35 px
    assert abs(np.nanmedian(r) - 2.35) < 0.25
    # a camera listed in another order is matched by name
    kp2 = kp.select_cameras(["cam03", "cam01", "cam02", "cam04"])
    assert np.allclose(reprojection_residuals(cams, poses, kp2)[1], r[0], equal_nan=True)


def test_overlay_pixels_show_detections_reprojections_and_their_disagreement():
    skel = get_joint_set("h36m17")
    det = np.full((17, 2), np.nan)
    rep = np.full((17, 2), np.nan)
    lw, rw = skel.index("left_wrist"), skel.index("right_wrist")
    det[lw], rep[lw] = (50, 50), (90, 50)   # 40 px apart: a magenta segment between them
    det[rw], rep[rw] = (150, 100), (150, 100)
    img = draw_overlay(np.full((200, 200, 3), CANVAS_GREY, np.uint8), det, rep, skel)
    assert np.abs(img[50, 50].astype(int) - 255 * np.array(LEFT_RGB)).max() <= 2
    assert np.abs(img[100, 150].astype(int) - 255 * np.array(RIGHT_RGB)).max() <= 2
    assert (img[50, 70] == ERROR_RGB).all()             # midway: the error segment
    ring = img[43:48, 90].astype(int)                   # the reprojection's white ring, r = 5
    assert ring.min(axis=1).max() >= 220
    assert (img[10, 10] == CANVAS_GREY).all()           # elsewhere untouched


def test_contact_sheet_and_videos(tmp_path):
    import cv2

    source = OverlaySource.from_session(make_session(tmp_path / "s", T=6))
    assert source.poses is not None
    sheet = contact_sheet(source, columns=3, tile_width=160)
    assert sheet.shape == (4 * (120 + 4), 3 * (160 + 4), 3)
    paths = write_overlays(source, tmp_path / "ov", step=2)
    assert [p.name for p in paths][-1] == "overlay_contact_sheet.png"
    cap = cv2.VideoCapture(str(paths[0]))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 3 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 640


def test_overlays_need_keypoints(tmp_path):
    session = make_session(tmp_path / "s", with_keypoints=False)
    with pytest.raises(InputError, match="keypoints2d.npz: not found.*epicap detect"):
        OverlaySource.from_session(session)


def test_overlay_shows_the_video_frame_of_the_synced_timeline(tmp_path):
    """After sync, keypoint row t is common frame first_frame + t: the video frame shown is
    first_frame + t - offset (each test frame's grey level encodes its index)."""
    import cv2

    from epicap.assets import sha256_of
    from epicap.session.manifest import CameraEntry, SessionManifest
    from epicap.viz.overlay import overlay_frames

    session = make_session(tmp_path / "s", T=6)
    source = OverlaySource.from_session(session)
    (session / "videos").mkdir()
    entries = []
    for name in source.keypoints.cameras:
        w, h = (int(v) for v in source.keypoints.image_size[source.keypoints.camera_index(name)])
        writer = cv2.VideoWriter(str(session / "videos" / f"{name}.avi"),
                                 cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (w, h))
        for i in range(12):
            writer.write(np.full((h, w, 3), 20 * i, np.uint8))
        writer.release()
        entries.append(CameraEntry(name, 30.0, 12, w, h, f"videos/{name}.avi"))
    SessionManifest(entries).save(session)

    def grey_levels(camera):
        src = OverlaySource.from_session(session)
        return [int(round(np.median(img[-5:, -5:]) / 20)) for img in overlay_frames(src, camera)]

    assert grey_levels("cam02") == [0, 1, 2, 3, 4, 5]  # no sync.toml: frame t is video frame t
    sha = sha256_of(session / "keypoints2d.npz")
    (session / "sync.toml").write_text(
        f'first_frame = 2\nsynced_sha256 = "{sha}"\n[cameras.cam02]\noffset_frames = -3.2\n'
        '[cameras.cam03]\noffset_frames = 4.0\n')
    assert grey_levels("cam02") == [5, 6, 7, 8, 9, 10]  # round(2 + t + 3.2)
    assert grey_levels("cam03")[2:] == [0, 1, 2, 3]      # rows 0, 1 come before its video starts
    # the contact sheet's columns: rows every camera's video has a frame for (its 12 frames)
    from epicap.viz.overlay import _with_every_video

    rows = np.arange(6)
    assert _with_every_video(OverlaySource.from_session(session), rows).tolist() == [
        False, False, True, True, True, True]
    (session / "sync.toml").write_text(
        f'first_frame = 2\nsynced_sha256 = "{sha}"\n[cameras.cam02]\noffset_frames = -7.2\n'
        '[cameras.cam03]\noffset_frames = 4.0\n')  # cam02 rows 3-5: frames 12-14, past its end
    assert _with_every_video(OverlaySource.from_session(session), rows).tolist() == [
        False, False, True, False, False, False]
    (session / "sync.toml").write_text(
        '[cameras.cam02]\noffset_frames = -3.2\nsynced_sha256 = "another file"\n')
    assert grey_levels("cam02") == [0, 1, 2, 3, 4, 5]  # a stale sync.toml is not applied


def test_label_halo_is_in_register_with_its_text():
    """The white halo surrounds the text evenly: a thicker halo stroke would advance further per
    letter and stick out on the right (the label looked drawn twice)."""
    from epicap.viz.media import label_size, put_label

    for scale in (0.55, 1.65):
        img = np.full((200, 900, 3), 128, np.uint8)
        put_label(img, "cam02  frame 50", (20, 100), (0, 0, 0), scale)
        dark = np.nonzero((img < 40).all(-1))
        white = np.nonzero((img > 240).all(-1))
        left = dark[1].min() - white[1].min()
        right = white[1].max() - dark[1].max()
        assert 0 < left <= 4 and abs(right - left) <= 1, (scale, left, right)
        w, h = label_size("cam02  frame 50", scale)
        assert abs((white[1].max() - white[1].min()) - w) <= 0.1 * w


def test_contact_sheet_skips_padding_rows_and_missing_video_frames_say_so(tmp_path):
    import cv2

    from epicap.session import Keypoints2D, Poses3D
    from epicap.session.manifest import CameraEntry, SessionManifest
    from epicap.viz.overlay import overlay_frames

    session = make_session(tmp_path / "s", T=8)
    kp = Keypoints2D.from_npz(session / "keypoints2d.npz")
    k = kp.keypoints.copy()
    k[:, [0, -1]] = (np.nan, np.nan, 0)  # sync's padding: nothing seen anywhere
    Keypoints2D(k, kp.cameras, kp.joint_set, kp.image_size, kp.fps).save(
        session / "keypoints2d.npz")
    poses = Poses3D.from_npz(session / "poses3d.npz")
    P = poses.poses.copy()
    P[[0, -1]] = np.nan  # and nothing triangulated there
    Poses3D(P, poses.reprojection_error, poses.views, poses.joint_set, poses.fps).save(
        session / "poses3d.npz")
    source = OverlaySource.from_session(session)
    sheet = contact_sheet(source, columns=4, tile_width=160)
    tiles = sheet.reshape(4, 124, 4, 164, 3)[:, 2:-2, :, 2:-2]
    for c in range(4):
        for col in range(4):  # every tile shows a skeleton below its label, none is bare
            tile = tiles[c, 25:, col].astype(int)
            drawn = (np.abs(tile - CANVAS_GREY).max(-1) > 40).sum()
            assert drawn > 30, (c, col, drawn)
    padding = next(overlay_frames(source, "cam01", [0]))[::4, ::4].astype(int)  # a bare tile
    assert (np.abs(padding[25:] - CANVAS_GREY).max(-1) > 40).sum() == 0
    # a camera whose video has no frame for a row: the grey canvas says so
    (session / "videos").mkdir()
    entries = []
    for name in kp.cameras:
        w, h = (int(v) for v in kp.image_size[kp.camera_index(name)])
        writer = cv2.VideoWriter(str(session / "videos" / f"{name}.avi"),
                                 cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (w, h))
        for _ in range(4):
            writer.write(np.full((h, w, 3), 200, np.uint8))
        writer.release()
        entries.append(CameraEntry(name, 30.0, 4, w, h, f"videos/{name}.avi"))
    SessionManifest(entries).save(session)
    frames = list(overlay_frames(OverlaySource.from_session(session), "cam01", [2, 6]))
    assert np.median(frames[0]) > 150  # a video frame
    h = frames[1].shape[0]
    band = frames[1][h // 2 - 20:h // 2 + 5]
    assert np.median(frames[1]) == CANVAS_GREY and (band < 40).all(-1).sum() > 50  # the words


def test_a_camera_the_calibration_left_out_is_drawn_without_reprojections(tmp_path, capsys):
    """`calibrate` may exclude a camera whose keypoints stay in keypoints2d.npz: its residuals
    are NaN, the others' unchanged, and the report and the overlays are still made (they
    stopped with "camera 'cam02' is not in the calibration")."""
    from epicap.cli import main
    from epicap.session import CAMERAS_FILE, Cameras

    root = make_session(tmp_path / "s", T=6)
    cams = Cameras.from_toml(root / CAMERAS_FILE)
    source = OverlaySource.from_session(root)
    before = reprojection_residuals(source.cameras, source.poses, source.keypoints)
    kept = cams.select(["cam01", "cam03", "cam04"])
    kept.to_toml(root / CAMERAS_FILE)
    source = OverlaySource.from_session(root)
    after = reprojection_residuals(source.cameras, source.poses, source.keypoints)
    assert np.isnan(after[1]).all()
    assert np.allclose(after[[0, 2, 3]], before[[0, 2, 3]], equal_nan=True)
    assert np.isfinite(source.reprojected()[[0, 2, 3]]).any()
    assert main(["report", str(root), "--no-snapshots", "--quiet"]) == 0
    assert main(["view", str(root), "--overlays", str(tmp_path / "ov"), "--quiet"]) == 0
    assert (tmp_path / "ov" / "overlay_contact_sheet.png").is_file()
    # no keypoints camera in the calibration at all: one clear line, exit 2
    kp = source.keypoints
    kp.cameras = ["left", "right", "top", "back"]
    kp.save(root / "keypoints2d.npz")
    capsys.readouterr()
    assert main(["report", str(root), "--no-snapshots", "--quiet", "--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of the keypoints' cameras (left, right, top, back)" in err[0]
