"""`epicap import`: OpenPose folders, COCO results, npz, where size and fps come from."""
import json

import numpy as np

from epicap.cli import main
from epicap.session import Keypoints2D
from epicap.session.manifest import SessionManifest
from tests.capture.test_video import make_video
from tests.keypoints.test_coco_json import coco_results
from tests.keypoints.test_openpose import make_session


def test_import_openpose_writes_keypoints_and_manifest(tmp_path, capsys):
    folders = [str(f) for f in make_session(tmp_path, T=6)]
    out = tmp_path / "s"
    assert main(["import", "openpose", "--out", str(out), *folders,
                 "--image-size", "640", "720", "--fps", "60", "--quiet"]) == 0
    kp = Keypoints2D.from_npz(out / "keypoints2d.npz")
    assert kp.cameras == ["cam01", "cam02"] and kp.fps == 60 and kp.joint_set == "body25b"
    assert kp.image_size.tolist() == [[640, 720], [640, 720]]
    man = SessionManifest.load(out)
    assert man.source == "import" and man.camera("cam01").frame_count == 6
    assert "cam02" in capsys.readouterr().out
    # never overwritten without --force
    assert main(["import", "openpose", "--out", str(out), *folders, "--fps", "30"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert Keypoints2D.from_npz(out / "keypoints2d.npz").fps == 60
    # --force, size and fps from the session's manifest, and --body25 body25 -> coco17
    assert main(["import", "openpose", "--out", str(out), *folders, "--force",
                 "--body25", "body25"]) == 0
    kp = Keypoints2D.from_npz(out / "keypoints2d.npz")
    assert kp.joint_set == "coco17" and kp.fps == 60


def test_size_and_fps_from_videos_or_a_clear_error(tmp_path, capsys):
    (tmp_path / "c1.json").write_text(json.dumps(coco_results()))
    v = make_video(tmp_path / "v.mp4", 5, (640, 720), 25)
    out = tmp_path / "s"
    assert main(["import", "coco", "--out", str(out), str(tmp_path / "c1.json")]) == 2
    err = capsys.readouterr().err
    assert "--image-size W H and --fps needed" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["import", "coco", "--out", str(out), str(tmp_path / "c1.json"),
                 "--video", str(v), "--names", "front"]) == 0
    kp = Keypoints2D.from_npz(out / "keypoints2d.npz")
    assert kp.cameras == ["front"] and kp.fps == 25 and kp.image_size.tolist() == [[640, 720]]
    assert SessionManifest.load(out).video_path(out, "front") == v.resolve()


def test_import_npz_selects_cameras(tmp_path):
    folders = [str(f) for f in make_session(tmp_path, T=4)]
    assert main(["import", "openpose", "--out", str(tmp_path / "a"), *folders,
                 "--image-size", "640", "720", "--fps", "30"]) == 0
    assert main(["import", "npz", "--out", str(tmp_path / "b"),
                 str(tmp_path / "a" / "keypoints2d.npz"), "--names", "cam02"]) == 0
    a = Keypoints2D.from_npz(tmp_path / "a" / "keypoints2d.npz")
    b = Keypoints2D.from_npz(tmp_path / "b" / "keypoints2d.npz")
    assert b.cameras == ["cam02"]
    np.testing.assert_array_equal(b.keypoints[0], a.keypoints[1])
    assert main(["import", "npz", "--out", str(tmp_path / "c"),
                 str(tmp_path / "a" / "keypoints2d.npz"), "--names", "nope"]) == 2


def test_bad_json_is_one_line_exit_2(tmp_path, capsys):
    folders = make_session(tmp_path, T=3)
    (folders[0] / "cam01_000000000001_keypoints.json").write_text('{"people": [')
    assert main(["import", "openpose", "--out", str(tmp_path / "s"), *map(str, folders),
                 "--image-size", "640", "720", "--fps", "30"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cam01_000000000001_keypoints.json" in err
    assert not (tmp_path / "s" / "keypoints2d.npz").exists()
