"""Lab calibration files of any format epicap reads, and fitting one to a session's cameras.

`load_calibration(path)` recognizes the format from the path and the file's first bytes:
- Qualisys `.qca.txt` (XML with `<calibration><cameras><camera>`, `qualisys.read_qualisys`);
- Pose2Sim/Anipose TOML (`Cameras.from_toml`; epicap's own `cameras.toml`);
- OpenCV FileStorage YAML/XML from `calibrateCamera` / `stereoCalibrate` (`opencv_storage`);
- COLMAP models: a folder, its `cameras.txt` or its `images.txt` (`colmap_model`).

`fit_to_session(cameras, names, image_size)` checks a calibration against the session's cameras
(by name) and image sizes: a size that differs from the video's in one dimension by under
PADDING_PX pixels is codec padding (the demo's Qualisys calibration declares 1088x1920, its
videos are 1080x1920): the session's size is used, the principal point is kept as given, and a
warning names the camera. Any other difference is refused.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.session.cameras import Cameras

__all__ = ["load_calibration", "load_for_session", "detect_format", "fit_to_session", "FORMATS",
           "PADDING_PX"]

FORMATS = {
    "qualisys": "Qualisys .qca.txt",
    "toml": "Pose2Sim/Anipose TOML",
    "opencv": "OpenCV FileStorage YAML/XML",
    "colmap": "COLMAP model (folder, cameras.txt, images.txt)",
}
PADDING_PX = 16  # a codec pads a frame to a multiple of 16 pixels: less than this in one dimension


def load_calibration(path: str | os.PathLike, require_extrinsics: bool = False) -> Cameras:
    """Cameras from a calibration file of any format in FORMATS (detected, see `detect_format`).

    path: the file (or a COLMAP model folder). require_extrinsics: refuse a calibration without
    rotation and translation (`cam_from_world`, metres) for every camera.
    Returns Cameras: (C, 2) sizes, (C, 3, 3) K and (C, 5) distortion in OpenCV pixels; R, t
    `cam_from_world` or None. Raises InputError naming the file: no such file, an unknown format
    (listing those read), a malformed file, or missing extrinsics when required.
    """
    path = Path(path)
    kind = detect_format(path)
    if kind == "toml":
        cameras = Cameras.from_toml(path, require_extrinsics)
    elif kind == "qualisys":
        from epicap.session.qualisys import read_qualisys

        cameras = read_qualisys(path)
    elif kind == "opencv":
        from epicap.session.opencv_storage import read_opencv_storage

        cameras = read_opencv_storage(path)
    else:
        from epicap.session.colmap_model import read_colmap_model

        cameras = read_colmap_model(path)
    if require_extrinsics and not cameras.has_extrinsics:
        raise InputError(f"{path}: holds intrinsics only; extrinsics (each camera's rotation "
                         "and translation) are needed here")
    return cameras


def load_for_session(path: str | os.PathLike, names: list[str], image_size: np.ndarray,
                     require_extrinsics: bool = False) -> tuple[Cameras, list[str]]:
    """`load_calibration` then `fit_to_session`: (the calibration fitted to the session's
    cameras `names` and their (C, 2) video sizes in pixels, the warnings to show)."""
    cameras = load_calibration(path, require_extrinsics)
    return fit_to_session(cameras, list(names), image_size, str(path))


def detect_format(path: str | os.PathLike) -> str:
    """The key in FORMATS of the calibration at `path`; InputError when there is no such file
    or it is none of them (the message lists the formats read)."""
    path = Path(path)
    if path.is_dir():
        if any((path / f).is_file() for f in ("cameras.txt", "cameras.bin")):
            return "colmap"
        raise _unknown(path, "a folder without a COLMAP model")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    name = path.name.lower()
    if name in ("cameras.txt", "images.txt"):
        return "colmap"
    if name.endswith(".toml"):
        return "toml"
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        if b"<opencv_storage" in text:
            return "opencv"
        if b"<calibration" in text or name.endswith(".qca.txt"):
            return "qualisys"
        raise _unknown(path, "XML that is neither a Qualisys nor an OpenCV calibration")
    if text.startswith(b"%YAML") or name.endswith((".yml", ".yaml", ".yml.gz", ".yaml.gz",
                                                  ".xml.gz")):
        return "opencv"
    if text.startswith(b"# Camera list") or text.startswith(b"# Image list"):
        return "colmap"
    if _looks_like_toml(path):
        return "toml"
    raise _unknown(path)


def fit_to_session(cameras: Cameras, names: list[str], image_size: np.ndarray,
                   source: str = "calibration") -> tuple[Cameras, list[str]]:
    """The calibration with the session's image sizes where they differ only by codec padding,
    and the warnings to show.

    cameras: the calibration. names: the session's C camera names. image_size: (C, 2) int width,
    height of the session's videos in pixels. source: what messages call the calibration (its
    path). Cameras of the calibration that the session lacks are kept, untouched; session
    cameras the calibration lacks are for the caller to handle. A camera whose size differs in
    one dimension by under PADDING_PX pixels gets the session's size (the principal point and
    focal length stay as given) and a warning. Raises InputError when no camera name matches
    or another size differs.
    """
    image_size = np.asarray(image_size, dtype=np.int64).reshape(len(names), 2)
    common = [n for n in names if n in cameras.names]
    if not common:
        raise InputError(f"{source}: its camera names ({', '.join(cameras.names)}) match none "
                         f"of the session's ({', '.join(names)})")
    sizes = cameras.image_size.copy()
    warnings = []
    for name, video in zip(names, image_size):
        if name not in cameras.names:
            continue
        c = cameras.names.index(name)
        declared = sizes[c].copy()
        diff = np.abs(declared - video)
        if not diff.any():
            continue
        if np.count_nonzero(diff) == 1 and diff.max() < PADDING_PX:
            warnings.append(f"camera {name}: {source} declares {declared[0]}x{declared[1]} "
                            f"pixels, its video is {video[0]}x{video[1]} (codec padding): "
                            f"using {video[0]}x{video[1]}, principal point as given")
            sizes[c] = video
        else:
            raise InputError(f"camera {name}: {source} is for {declared[0]}x{declared[1]} "
                             f"images, its video is {video[0]}x{video[1]} (more than codec "
                             f"padding: under {PADDING_PX} px in one dimension)")
    return replace(cameras, image_size=sizes), warnings


def _looks_like_toml(path: Path) -> bool:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False
    return any(isinstance(v, dict) and ("matrix" in v or "size" in v) for v in doc.values())


def _unknown(path: Path, what: str = "not a calibration format epicap reads") -> InputError:
    return InputError(f"{path}: {what}; formats read: {'; '.join(FORMATS.values())}")
