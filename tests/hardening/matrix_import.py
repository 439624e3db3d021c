"""Bad-input matrix cases of `epicap import` (openpose, coco, npz)."""
from __future__ import annotations

import json
import os

import numpy as np

from tests.hardening.workspace import NON_UTF8, QUICK, Case

IMPORT_CASES: list[Case] = [
    # ---- import openpose ------------------------------------------------------------------------
    Case("import openpose", "missing", lambda w: ["import", "openpose", "--out", w.path("o"),
                                                  w.path("nope_json"), "--image-size", "640",
                                                  "480", "--fps", "30"], message="nope_json"),
    Case("import openpose", "empty", lambda w: ["import", "openpose", "--out", w.path("o"),
                                                w.mkdir("cam01_json"), "--image-size", "640",
                                                "480", "--fps", "30"], message="no .json"),
    Case("import openpose", "empty", lambda w: [
        "import", "openpose", "--out", w.path("o"),
        w.openpose_frames("cam01_json", {"cam01.0001.json": b""}), "--image-size", "640", "480",
        "--fps", "30"], message="not valid JSON"),
    Case("import openpose", "wrong-shape", lambda w: [
        "import", "openpose", "--out", w.path("o"),
        w.openpose_frames("cam01_json", {"cam01.0001.json": json.dumps(
            {"people": [{"pose_keypoints_2d": [1.0] * 7}]})}),
        "--image-size", "640", "480", "--fps", "30"], message="multiple of 3"),
    Case("import openpose", "nan", lambda w: [
        "import", "openpose", "--out", w.path("o"),
        w.openpose_frames("cam01_json", {f"cam01.{t:04d}.json": json.dumps(
            {"people": [{"pose_keypoints_2d": [float("nan")] * 75}]}) for t in range(3)}),
        "--image-size", "640", "480", "--fps", "30"], message="no person"),
    Case("import openpose", "bad-option", lambda w: ["import", "openpose", "--out", w.path("o"),
                                                     *w.openpose()], message="--image-size"),
    Case("import openpose", "one-camera", lambda w: [
        "import", "openpose", "--out", w.path("o"), *w.openpose(cams=("cam01",)),
        "--image-size", "1280", "1000", "--fps", "30", *QUICK], exit=0, message="1 cameras"),
    Case("import openpose", "frame-counts", lambda w: [
        "import", "openpose", "--out", w.path("o"), *w.openpose(cams=("cam01",), T=3),
        *w.openpose(cams=("cam02",), T=7), "--image-size", "1280", "1000", "--fps", "30", *QUICK],
         exit=0, message="2 cameras, 7 frames"),
    Case("import openpose", "non-utf8", lambda w: [
        "import", "openpose", "--out", w.path("o"),
        *w.openpose(cams=("cam01",), folder_names=[NON_UTF8 + b"_json"]),
        "--image-size", "1280", "1000", "--fps", "30"], message="--names"),
    Case("import openpose", "spaces", lambda w: [
        "import", "openpose", "--out", w.path("my data", "s 1"),
        *w.openpose(cams=("cam 01",)), "--image-size", "1280", "1000", "--fps", "30", *QUICK],
         exit=0, message="my data"),
    Case("import openpose", "exists", lambda w: [
        "import", "openpose", "--out", str(w.synth("o")), *w.openpose(), "--image-size", "1280",
        "1000", "--fps", "30"], message="--force"),
    Case("import openpose", "read-only", lambda w: [
        "import", "openpose", "--out", os.path.join(w.mkdir("ro"), "s"), *w.openpose(),
        "--image-size", "1280", "1000", "--fps", "30"], read_only="ro"),
    Case("import openpose", "full-disk", lambda w: [
        "import", "openpose", "--out", w.path("o"), *w.openpose(), "--image-size", "1280",
        "1000", "--fps", "30"], full_disk=True, message="No space"),
    Case("import openpose", "full-disk", lambda w: [
        "import", "openpose", "--out", str(w.synth("o")), *w.openpose(), "--image-size", "1280",
        "1000", "--fps", "30", "--force"], full_disk=True, message="No space"),
    # ---- import coco ----------------------------------------------------------------------------
    Case("import coco", "missing", lambda w: ["import", "coco", "--out", w.path("o"),
                                              w.path("nope.json"), "--image-size", "640", "480",
                                              "--fps", "30"], message="nope.json"),
    Case("import coco", "empty", lambda w: ["import", "coco", "--out", w.path("o"),
                                            w.file("e.json"), "--image-size", "640", "480",
                                            "--fps", "30"], message="e.json"),
    Case("import coco", "wrong-shape", lambda w: [
        "import", "coco", "--out", w.path("o"),
        w.coco(doc=[{"image_id": 1, "keypoints": [1.0, 2.0]}]), "--image-size", "640", "480",
        "--fps", "30"], message="multiple of 3"),
    Case("import coco", "nan", lambda w: [
        "import", "coco", "--out", w.path("o"),
        w.coco(doc=[{"image_id": t, "keypoints": [float("nan")] * 51} for t in range(3)]),
        "--image-size", "640", "480", "--fps", "30"], message="no person"),
    Case("import coco", "wrong-shape", lambda w: [
        "import", "coco", "--out", w.path("o"),
        w.coco(doc=[{"image_id": 0, "keypoints": [1.0] * 51},
                    {"image_id": 10**12, "keypoints": [1.0] * 51}]),
        "--image-size", "640", "480", "--fps", "30"], message="frame numbers"),
    Case("import coco", "bad-option", lambda w: ["import", "coco", "--out", w.path("o"),
                                                 w.coco(), "--image-size", "640", "480",
                                                 "--fps", "0"], message="fps"),
    Case("import coco", "bad-option", lambda w: ["import", "coco", "--out", w.path("o"),
                                                 w.coco(), "--image-size", "-640", "480",
                                                 "--fps", "30"], message="image"),
    Case("import coco", "one-camera", lambda w: ["import", "coco", "--out", w.path("o"),
                                                 w.coco(), "--image-size", "1280", "1000",
                                                 "--fps", "30", *QUICK],
         exit=0, message="1 cameras"),
    Case("import coco", "truncated", lambda w: ["import", "coco", "--out", w.path("o"),
                                                w.coco(), "--video", w.truncated_video()],
         message="cut.mp4"),
    # ---- import npz -----------------------------------------------------------------------------
    Case("import npz", "missing", lambda w: ["import", "npz", "--out", w.path("o"),
                                             w.path("nope.npz")], message="nope.npz"),
    Case("import npz", "empty", lambda w: ["import", "npz", "--out", w.path("o"),
                                           w.file("e.npz")], message="e.npz"),
    Case("import npz", "wrong-shape", lambda w: [
        "import", "npz", "--out", w.path("o"),
        w.keypoints_npz(keypoints=np.zeros((2, 5, 16, 3), np.float32))], message="keypoints"),
    Case("import npz", "nan", lambda w: [
        "import", "npz", "--out", w.path("o"),
        w.keypoints_npz(keypoints=np.full((2, 5, 17, 3), np.nan, np.float32))],
         message="confidence"),
    Case("import npz", "one-camera", lambda w: ["import", "npz", "--out", w.path("o"),
                                                w.keypoints_npz(), "--names", "cam02", *QUICK],
         exit=0, message="1 cameras"),
    Case("import npz", "bad-option", lambda w: ["import", "npz", "--out", w.path("o"),
                                                w.keypoints_npz(), "--names", "cam09"],
         message="cam09"),
    Case("import npz", "bad-option", lambda w: ["import", "npz", "--out", w.path("o"),
                                                w.keypoints_npz(), "--fps", "nan"],
         message="fps"),
    Case("import npz", "read-only", lambda w: [
        "import", "npz", "--out", os.path.join(w.mkdir("ro"), "s"), w.keypoints_npz()],
         read_only="ro"),
    Case("import npz", "full-disk", lambda w: ["import", "npz", "--out", w.path("o"),
                                               w.keypoints_npz()], full_disk=True,
         message="No space"),
]
