"""COLMAP models (`cameras.txt` + `images.txt`, or the binary `.bin` files) read into `Cameras`.

Each registered image is one camera, named by the image's file name without extension (what
`epicap export --format colmap` writes: `cam01.jpg` for camera cam01), with its COLMAP camera's
intrinsics and its pose `cam_from_world` (COLMAP's convention is epicap's: x_cam = R X + t).
COLMAP puts the centre of the top-left pixel at (0.5, 0.5), OpenCV at (0, 0): cx and cy lose 0.5.
A `cameras.txt` without an `images.txt` beside it gives intrinsics only, named by camera id.
Models: SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, FULL_OPENCV (k4..k6 zero).
Text files are parsed directly (COLMAP's documented layout, old and new versions alike); a
binary model is read with pycolmap.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.session.cameras import MAX_IMAGE_SIDE, Cameras
from epicap.session.names import check_camera_name

__all__ = ["read_colmap_model", "colmap_intrinsics"]

PIXEL_SHIFT = 0.5  # COLMAP pixel coordinate = OpenCV pixel coordinate + 0.5
_PARAMS = {"SIMPLE_PINHOLE": 3, "PINHOLE": 4, "SIMPLE_RADIAL": 4, "RADIAL": 5, "OPENCV": 8,
           "FULL_OPENCV": 12}


def colmap_intrinsics(model: str, params, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(K (3, 3) in OpenCV pixels, dist (5,) k1 k2 p1 p2 k3) of a COLMAP camera model and its
    parameters (COLMAP pixels). InputError for an unsupported model or parameter count."""
    p = np.asarray(params, dtype=np.float64)
    if model not in _PARAMS:
        raise InputError(f"{where}: COLMAP camera model {model} is not supported (supported: "
                         f"{', '.join(_PARAMS)})")
    if p.size != _PARAMS[model] or not np.isfinite(p).all():
        raise InputError(f"{where}: COLMAP model {model} takes {_PARAMS[model]} finite "
                         f"parameters, got {p.size}")
    d = np.zeros(5)
    if model in ("SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL"):
        fx = fy = p[0]
        cx, cy = p[1:3]
        d[:p.size - 3] = p[3:]
    else:
        fx, fy, cx, cy = p[:4]
        if model == "FULL_OPENCV" and np.any(p[9:] != 0):
            raise InputError(f"{where}: rational terms k4..k6 are not supported")
        d[:min(5, p.size - 4)] = p[4:9]
    if not (fx > 0 and fy > 0):
        raise InputError(f"{where}: focal lengths must be positive")
    K = np.array([[fx, 0, cx - PIXEL_SHIFT], [0, fy, cy - PIXEL_SHIFT], [0, 0, 1.0]])
    return K, d


def read_colmap_model(path: str | os.PathLike) -> Cameras:
    """Cameras from a COLMAP model: `path` is its folder, its `cameras.txt` or its `images.txt`.

    With images: one camera per registered image, in image-id order, intrinsics and
    `cam_from_world` (metres if the model is metric). `cameras.txt` alone: intrinsics only, one
    camera per COLMAP camera named by its id. InputError naming the file on a malformed model.
    """
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if path.is_dir() and not (folder / "cameras.txt").is_file():
        if (folder / "cameras.bin").is_file() and (folder / "images.bin").is_file():
            return _read_binary(folder)
        raise InputError(f"{folder}: no COLMAP model here (cameras.txt and images.txt, or "
                         "cameras.bin and images.bin)")
    cameras_txt, images_txt = folder / "cameras.txt", folder / "images.txt"
    if not cameras_txt.is_file():
        raise InputError(f"{cameras_txt}: no such file (a COLMAP images.txt needs the "
                         "cameras.txt beside it)")
    intrinsics = _read_cameras_txt(cameras_txt)
    if not images_txt.is_file():
        ids = sorted(intrinsics)
        return Cameras([str(i) for i in ids], np.array([intrinsics[i][0] for i in ids]),
                       np.array([intrinsics[i][1] for i in ids]),
                       np.array([intrinsics[i][2] for i in ids]))
    rows = []
    for number, fields in _data_lines(images_txt, every_other=True):
        where = f"{images_txt}: line {number}"
        if len(fields) < 10:
            raise InputError(f"{where}: expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME")
        try:
            q = np.array(fields[1:5], dtype=np.float64)
            t = np.array(fields[5:8], dtype=np.float64)
            image_id, camera_id = int(fields[0]), int(fields[8])
        except ValueError:
            raise InputError(f"{where}: malformed numbers") from None
        if not np.isfinite(t).all():
            raise InputError(f"{where}: the translation has non-finite values")
        if camera_id not in intrinsics:
            raise InputError(f"{where}: camera {camera_id} is not in {cameras_txt.name}")
        name = " ".join(fields[9:])
        rows.append((image_id, name, camera_id, _rotation_from_quaternion(q, where), t))
    rows.sort(key=lambda r: r[0])
    return _rig([(name, intrinsics[cid], R, t) for _, name, cid, R, t in rows], str(images_txt))


def _read_cameras_txt(path: Path) -> dict[int, tuple]:
    out = {}
    for number, fields in _data_lines(path):
        where = f"{path}: line {number}"
        if len(fields) < 4:
            raise InputError(f"{where}: expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]")
        try:
            camera_id, size = int(fields[0]), np.array(fields[2:4], dtype=np.float64)
            params = np.array(fields[4:], dtype=np.float64)
        except ValueError:
            raise InputError(f"{where}: malformed numbers") from None
        out[camera_id] = _intrinsics(fields[1], params, size, where)
    if not out:
        raise InputError(f"{path}: no cameras")
    return out


def _intrinsics(model: str, params, size, where: str) -> tuple:
    size = np.rint(np.asarray(size, dtype=np.float64))
    if not np.isfinite(size).all() or (size < 1).any() or (size > MAX_IMAGE_SIDE).any():
        raise InputError(f"{where}: image size must be positive pixels (at most "
                         f"{MAX_IMAGE_SIDE} a side)")
    K, dist = colmap_intrinsics(model, params, where)
    return size.astype(np.int64), K, dist


def _read_binary(folder: Path) -> Cameras:
    import pycolmap

    try:
        rec = pycolmap.Reconstruction(str(folder))
    except Exception as e:  # pycolmap raises RuntimeError/ValueError subclasses by version
        raise InputError(f"{folder}: not a readable COLMAP model ({e})") from None
    intrinsics = {}
    for camera_id, cam in rec.cameras.items():
        model = cam.model.name if hasattr(cam.model, "name") else str(cam.model)
        intrinsics[camera_id] = _intrinsics(model, cam.params, (cam.width, cam.height),
                                            f"{folder}: camera {camera_id}")
    rows = []
    for image_id in sorted(rec.images):
        image = rec.images[image_id]
        if image.has_pose:
            M = np.asarray(image.cam_from_world().matrix(), dtype=np.float64)
            rows.append((image.name, intrinsics[image.camera_id], M[:, :3], M[:, 3]))
    return _rig(rows, str(folder))


def _rig(rows: list[tuple], where: str) -> Cameras:
    if not rows:
        raise InputError(f"{where}: the COLMAP model has no registered images")
    names = [check_camera_name(Path(name).stem, f"{where}: image {name!r}")
             for name, *_ in rows]
    if len(set(names)) != len(names):
        raise InputError(f"{where}: image names do not name distinct cameras: {names}")
    return Cameras(names, np.array([r[1][0] for r in rows]), np.array([r[1][1] for r in rows]),
                   np.array([r[1][2] for r in rows]), np.array([r[2] for r in rows]),
                   np.array([r[3] for r in rows]))


def _data_lines(path: Path, every_other: bool = False):
    """(line number, fields) of the data lines of a COLMAP text file; with `every_other` (an
    images.txt) the POINTS2D line after each image line is skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a readable COLMAP text file ({e})") from None
    skip = False
    for number, line in enumerate(lines, 1):
        if line.startswith("#"):
            continue
        if skip:
            skip = False
            continue
        if not line.strip():
            continue
        skip = every_other
        yield number, line.split()


def _rotation_from_quaternion(q: np.ndarray, where: str) -> np.ndarray:
    """Rotation matrix of a COLMAP quaternion (qw, qx, qy, qz), normalized."""
    norm = np.linalg.norm(q)
    if not np.isfinite(q).all() or norm < 1e-9:
        raise InputError(f"{where}: not a rotation quaternion")
    w, x, y, z = q / norm
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])
