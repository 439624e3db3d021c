"""Write a synthetic scene as a session folder with its truth beside it, and read the truth back.

    SESSION/session.toml        manifest (source = "synth"; videos when rendered)
    SESSION/keypoints2d.npz     the corrupted 2D, as a detector would write it
    SESSION/videos/<cam>.mp4    optional: a stick figure on a textured background per camera
    SESSION/truth/cameras.toml  the true cameras
    SESSION/truth/poses3d.npz   the true 3D (views = C, reprojection error 0)
    SESSION/truth/synthetic.npz what else is known: time offsets, clean 2D, masks, biases

A several-person scene (`epicap.synthetic.people.PeopleScene`) writes instead: `detections2d.npz`
(the raw, unmatched detector slots), `keypoints2d.npz` with the true person axis (what a perfect
matcher gives), `truth/poses3d.npz` (P, T, J, 3) and `truth/people.npz` (slot -> person map,
swaps, occlusions, presence, heights, offsets).

The session is assembled in a hidden folder beside SESSION and moved into place at the end, so an
error leaves nothing half-written.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Cameras, Poses3D
from epicap.session.detections2d import DETECTIONS_FILE, Detections2D
from epicap.session.io import read_npz, write_npz
from epicap.session.manifest import MANIFEST_FILE, CameraEntry, SessionManifest
from epicap.synthetic.scene import SyntheticScene

__all__ = ["TRUTH_DIR", "TRUTH_FILE", "write_session", "SessionTruth", "read_truth"]

TRUTH_DIR = "truth"
TRUTH_FILE = "synthetic.npz"
PEOPLE_TRUTH_FILE = "people.npz"
VIDEO_DIR = "videos"
FORMAT_VERSION = 1


def write_session(scene, session_dir: str | os.PathLike, video: bool = False,
                  force: bool = False) -> Path:
    """Write `scene` as the session folder `session_dir` (layout in the module docstring).

    video: also render one MP4 per camera (slow for big images: about a second per 100 frames of
    1280x720 per camera). force: replace an existing session's files; without it an existing
    session (a folder holding a manifest, keypoints or truth) is an InputError.
    scene: a SyntheticScene, or a PeopleScene (no video for those).
    Returns the session folder.
    """
    from epicap.synthetic.people import PeopleScene

    several = isinstance(scene, PeopleScene)
    if several and video:
        raise InputError("videos of several-person scenes are not rendered yet; drop --video")
    session_dir = Path(session_dir)
    ours = ([MANIFEST_FILE, KEYPOINTS_FILE, TRUTH_DIR] + ([VIDEO_DIR] if video else [])
            + ([DETECTIONS_FILE] if several else []))
    if session_dir.exists():
        if not session_dir.is_dir():
            raise InputError(f"{session_dir}: exists and is not a folder")
        existing = [n for n in ours if (session_dir / n).exists()]
        if existing and not force:
            raise InputError(f"{session_dir}: a session exists here ({', '.join(existing)}); "
                             "pass --force to overwrite it")
    try:
        session_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{session_dir.name}.", suffix=".tmp",
                                    dir=session_dir.parent))
    except OSError as e:
        raise InputError(f"{session_dir}: cannot write here ({e.strerror or e})") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # an ordinary folder, not mkdtemp's private one
        (_write_people if several else _write_all)(scene, tmp, video)
        if not session_dir.exists():
            os.rename(tmp, session_dir)
        else:
            for name in ours:
                target = session_dir / name
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(tmp / name, target)
            shutil.rmtree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return session_dir


def _write_all(scene: SyntheticScene, folder: Path, video: bool) -> None:
    kp, cams = scene.keypoints, scene.cameras
    kp.save(folder / KEYPOINTS_FILE)
    truth = folder / TRUTH_DIR
    cams.to_toml(truth / CAMERAS_FILE)
    scene.truth_poses().save(truth / POSES_FILE)
    opts = scene.options
    write_npz(truth / TRUTH_FILE, {
        "version": np.array(FORMAT_VERSION),
        "offsets_frames": scene.offsets_frames.astype(np.float64),
        "points2d_clean": scene.points2d_clean.astype(np.float32),
        "in_view": scene.in_view, "lost": scene.lost, "outlier": scene.outlier,
        "missing": scene.missing, "bias": scene.bias.astype(np.float32),
        "clip": np.array(scene.clip.name), "subject_height_m": np.array(scene.clip.subject_height_m),
        "options": np.array(json.dumps({
            "noise_px": opts.noise_px, "outlier_fraction": opts.outlier_fraction,
            "outlier_px": list(opts.outlier_px), "missing_fraction": opts.missing_fraction,
            "bias_px": opts.bias_px, "lose_subject": {k: list(v) for k, v in
                                                      opts.lose_subject.items()},
            "lose_fraction": opts.lose_fraction, "min_confidence": opts.min_confidence,
            "seed": opts.seed})),
    })
    videos = {}
    if video:
        from epicap.synthetic.video import write_videos

        for path in write_videos(scene, folder / VIDEO_DIR, seed=opts.seed):
            videos[path.stem] = f"{VIDEO_DIR}/{path.name}"
    entries = [CameraEntry(name, kp.fps, kp.num_frames, int(cams.image_size[c, 0]),
                           int(cams.image_size[c, 1]), video=videos.get(name))
               for c, name in enumerate(cams.names)]
    SessionManifest(entries, source="synth").save(folder)


def _write_people(scene, folder: Path, video: bool) -> None:
    """The files of a several-person scene (module docstring)."""
    kp, cams, o = scene.keypoints, scene.cameras, scene.options
    kp.save(folder / KEYPOINTS_FILE)
    Detections2D(scene.detections, cams.names, kp.joint_set, cams.image_size, kp.fps,
                 kp.joints).save(folder / DETECTIONS_FILE)
    truth = folder / TRUTH_DIR
    cams.to_toml(truth / CAMERAS_FILE)
    scene.truth_poses().save(truth / POSES_FILE)
    write_npz(truth / PEOPLE_TRUTH_FILE, {
        "version": np.array(FORMAT_VERSION), "people": np.array(scene.people, dtype=str),
        "slot_person": scene.slot_person, "swapped": scene.swapped, "visible": scene.visible,
        "occluded": scene.occluded, "present": scene.present,
        "heights_m": scene.heights_m.astype(np.float64),
        "offsets_frames": scene.offsets_frames.astype(np.float64),
        "points2d_clean": scene.points2d_clean.astype(np.float32),
        "options": np.array(json.dumps({"noise_px": o.noise_px, "swap_fraction": o.swap_fraction,
                                        "seed": o.seed, "num_people": o.num_people}))})
    entries = [CameraEntry(name, kp.fps, kp.num_frames, int(cams.image_size[c, 0]),
                           int(cams.image_size[c, 1])) for c, name in enumerate(cams.names)]
    SessionManifest(entries, source="synth").save(folder)


@dataclass
class SessionTruth:
    """The truth of a synthetic session (see SyntheticScene for the meaning of each field)."""

    cameras: Cameras
    poses: Poses3D
    offsets_frames: np.ndarray
    points2d_clean: np.ndarray
    in_view: np.ndarray
    lost: np.ndarray
    outlier: np.ndarray
    missing: np.ndarray
    bias: np.ndarray
    clip: str
    subject_height_m: float
    options: dict


def read_truth(session_dir: str | os.PathLike) -> SessionTruth:
    """The truth written beside a synthetic session; InputError if the session has none."""
    truth = Path(session_dir) / TRUTH_DIR
    if not (truth / TRUTH_FILE).is_file():
        raise InputError(f"{session_dir}: not a synthetic session (no {TRUTH_DIR}/{TRUTH_FILE})")
    z = read_npz(truth / TRUTH_FILE, {"version": ("i",), "offsets_frames": ("f",),
                                      "points2d_clean": ("f",), "in_view": ("b",),
                                      "lost": ("b",), "outlier": ("b",), "missing": ("b",),
                                      "bias": ("f",), "clip": ("U",),
                                      "subject_height_m": ("f",), "options": ("U",)})
    if int(z["version"]) != FORMAT_VERSION:
        raise InputError(f"{truth / TRUTH_FILE}: format version {int(z['version'])}, this epicap "
                         f"reads {FORMAT_VERSION}")
    return SessionTruth(Cameras.from_toml(truth / CAMERAS_FILE, require_extrinsics=True),
                        Poses3D.from_npz(truth / POSES_FILE), z["offsets_frames"],
                        z["points2d_clean"].astype(np.float64), z["in_view"], z["lost"],
                        z["outlier"], z["missing"], z["bias"].astype(np.float64), str(z["clip"]),
                        float(z["subject_height_m"]), json.loads(str(z["options"])))
