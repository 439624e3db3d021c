"""`epicap compare A B`: the table, --json, and bad input as one line with exit 2."""
import json
from dataclasses import replace

import cv2
import numpy as np

from epicap.cli import main
from epicap.export.colmap import write_colmap
from epicap.synthetic import ring_rig


def test_compare_table_and_json(tmp_path, capsys):
    a = ring_rig(4, distortion=[0.02, 0, 0, 0])
    a.to_toml(tmp_path / "a.toml")
    turn = cv2.Rodrigues(np.radians([0.0, 0.0, 2.0]))[0]
    R = a.R.copy()
    R[1] = turn @ R[1]                                  # cam02 turned 2 degrees about its axis
    b = replace(a, R=R, t=-np.einsum("cij,cj->ci", R, a.centers) * 1000)  # and in millimetres
    write_colmap(tmp_path / "b", b, text=True)
    assert main(["compare", str(tmp_path / "a.toml"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "| cam01-cam02 | 2 " in out and "| cam03-cam04 | 0 " in out
    assert "scale (b to a): 0.001" in out
    assert main(["compare", str(tmp_path / "a.toml"), str(tmp_path / "b" / "images.txt"),
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["camera"] for c in doc["cameras"]] == a.names
    pairs = {tuple(p["cameras"]): p["relative_rotation_deg"] for p in doc["pairs"]}
    assert abs(pairs[("cam01", "cam02")] - 2) < 1e-9 and pairs[("cam01", "cam03")] < 1e-9
    assert abs(doc["scale"] - 0.001) < 1e-12
    assert max(c["centre_error_m"] for c in doc["cameras"]) < 1e-9


def test_compare_bad_input(tmp_path, capsys):
    a = ring_rig(3)
    a.to_toml(tmp_path / "a.toml")
    replace(a, names=["x", "y", "z"]).to_toml(tmp_path / "xyz.toml")
    (tmp_path / "junk.dat").write_bytes(b"\x00\x01calibration?")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin1.txt").write_bytes("caméra 1".encode("latin-1"))
    for b, needle in (("junk.dat", "formats read"), ("empty.txt", "formats read"),
                      ("latin1.txt", "formats read"), ("missing.yml", "no such file"),
                      ("xyz.toml", "share no camera name")):
        assert main(["compare", str(tmp_path / "a.toml"), str(tmp_path / b)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and needle in err, err


def test_compare_against_a_recordings_joints(tmp_path, capsys):
    """--keypoints: the rig that fits the images has no offset; a camera turned since (as if
    bumped after its calibration) shows it, in the direction of the turn."""
    from epicap.session import Keypoints2D
    from tests.geometry.test_rig_metrics import _observed

    truth = ring_rig(4, focal_px=1000.0, seed=2)
    px, conf = _observed(truth, N=300)
    kp = np.concatenate([px, conf[..., None]], -1).reshape(4, 300, 1, 3)  # 300 frames, 1 joint
    Keypoints2D(np.repeat(kp, 17, axis=2).astype(np.float32), truth.names, "coco17",
                truth.image_size, 30.0).save(tmp_path / "kp.npz")
    truth.to_toml(tmp_path / "truth.toml")
    R = truth.R.copy()
    R[2] = cv2.Rodrigues(np.radians([0.0, 1.0, 0.0]))[0] @ R[2]   # cam03 panned 1 degree
    replace(truth, R=R, t=-np.einsum("cij,cj->ci", R, truth.centers)).to_toml(tmp_path / "old.toml")
    assert main(["compare", str(tmp_path / "old.toml"), str(tmp_path / "truth.toml"),
                 "--keypoints", str(tmp_path / "kp.npz"), "--json"]) == 0
    doc = {c["camera"]: c for c in json.loads(capsys.readouterr().out)["cameras"]}
    # turned +1 degree about its y axis, the old calibration puts what the camera sees straight
    # ahead at +tan(1 deg) f in x: the joints sit 17.5 px to the left of its reprojection
    dx, dy = doc["cam03"]["held_out_a"]["offset_px"]
    assert abs(dx + 1000 * np.tan(np.radians(1))) < 2 and abs(dy) < 2, (dx, dy)
    assert max(abs(v) for c in doc.values() for v in c["held_out_b"]["offset_px"]) < 0.5
    assert doc["cam03"]["held_out_b"]["median_px"] < 3 < doc["cam03"]["held_out_a"]["median_px"]
    assert main(["compare", str(tmp_path / "old.toml"), str(tmp_path / "truth.toml"),
                 "--keypoints", str(tmp_path / "kp.npz")]) == 0
    assert "A offset x, y (px)" in capsys.readouterr().out
    # keypoints of other cameras: one line, status 2
    Keypoints2D(np.repeat(kp, 17, axis=2).astype(np.float32), ["a", "b", "cam01", "cam02"],
                "coco17", truth.image_size, 30.0).save(tmp_path / "other.npz")
    assert main(["compare", str(tmp_path / "old.toml"), str(tmp_path / "truth.toml"),
                 "--keypoints", str(tmp_path / "other.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs 3" in err, err
    # keypoints of three of the four cameras: those three checked, the fourth named
    Keypoints2D(np.repeat(kp[:3], 17, axis=2).astype(np.float32), truth.names[:3], "coco17",
                truth.image_size[:3], 30.0).save(tmp_path / "three.npz")
    assert main(["compare", str(tmp_path / "old.toml"), str(tmp_path / "truth.toml"),
                 "--keypoints", str(tmp_path / "three.npz"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    last = doc["cameras"][3]["held_out_a"]
    assert last == {"median_px": None, "offset_px": [None, None], "joints": 0}
    assert doc["cameras"][2]["held_out_a"]["median_px"] > 3
    assert any("lack cam04" in note for note in doc["notes"])
    # a calibration without extrinsics, or keypoints of other image sizes: one line, status 2
    replace(truth, R=None, t=None).to_toml(tmp_path / "intrinsics.toml")
    half = Keypoints2D(np.repeat(kp, 17, axis=2).astype(np.float32), truth.names, "coco17",
                       truth.image_size // 2, 30.0)
    half.save(tmp_path / "half.npz")
    for a, keypoints, needle in (("intrinsics.toml", "kp.npz", "intrinsics only"),
                                 ("old.toml", "half.npz", "more than codec padding")):
        assert main(["compare", str(tmp_path / a), str(tmp_path / "truth.toml"),
                     "--keypoints", str(tmp_path / keypoints)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and needle in err, err
