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
