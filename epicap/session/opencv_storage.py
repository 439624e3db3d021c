"""OpenCV FileStorage calibrations (YAML or XML, as `cv2.FileStorage` writes them) read into
`Cameras`.

Three layouts, with the key names OpenCV's samples and common scripts use:

- one camera (`calibrateCamera`): a camera matrix `camera_matrix` / `cameraMatrix` / `K` / `M`,
  distortion `distortion_coefficients` / `dist_coeffs` / `distCoeffs` / `D` / `dist`, the image
  size as `image_width` + `image_height` or a pair `size` / `image_size` / `imageSize`
  (width, height), optionally `R` (3x3) or `rvec` and `T` / `tvec`, `cam_from_world`. Its name is
  a `camera_name` / `name` string in the file, else the file's name without extension;
- a stereo pair (`stereoCalibrate`): the same keys suffixed 1 and 2 (`K1`, `D1`, `M2`,
  `cameraMatrix2`, `camera_matrix_2`, ...), a shared size (or suffixed sizes), and `R`, `T`:
  `cam2_from_cam1`, so camera 1 sits at the world origin. Names: a `camera_names` / `names`
  sequence of two strings, else `cam1` and `cam2`;
- several cameras: one map per camera at the top level, named by its key, each with the keys of
  one camera (and its own `R`/`T`, `cam_from_world`).

Translations are taken as metres (OpenCV writes them in the unit of the board's square size: a
board measured in millimetres gives millimetres). At most 5 distortion coefficients
(k1 k2 p1 p2 k3) are used; further ones (rational, thin-prism, tilt) must be zero.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.geometry.camera import rotation_from_rodrigues
from epicap.session.cameras import MAX_IMAGE_SIDE, Cameras
from epicap.session.names import check_camera_name

__all__ = ["read_opencv_storage"]

MATRIX_KEYS = ("camera_matrix", "cameraMatrix", "K", "M", "intrinsic_matrix", "intrinsics")
DIST_KEYS = ("distortion_coefficients", "dist_coeffs", "distCoeffs", "D", "dist",
             "distortion")
SIZE_KEYS = ("size", "image_size", "imageSize")
ROTATION_KEYS = ("R", "rvec", "rotation")
TRANSLATION_KEYS = ("T", "tvec", "translation")


def read_opencv_storage(path: str | os.PathLike) -> Cameras:
    """Cameras (intrinsics, distortion; `cam_from_world` where the file has it) from an OpenCV
    FileStorage YAML or XML file, in the file's camera order. Translations are read as metres.
    Raises InputError naming the file (and the camera and key) on a malformed file."""
    import cv2

    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise InputError(f"{where}: no such file")
    try:
        storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
        opened = storage.isOpened()
    except (cv2.error, SystemError) as e:
        detail = str(e.__cause__ or e).strip().splitlines()[-1]
        detail = re.sub(r"^OpenCV\([^)]*\) \S+: error: \([^)]*\)\s*", "", detail)
        raise InputError(f"{where}: not a readable OpenCV FileStorage file ({detail})") from None
    if not opened:
        raise InputError(f"{where}: not a readable OpenCV FileStorage file")
    try:
        return _read_root(storage.root(), path)
    except UnicodeDecodeError:
        raise InputError(f"{where}: not UTF-8 text") from None
    except (cv2.error, SystemError) as e:
        raise InputError(f"{where}: unreadable entry ({str(e).strip().splitlines()[-1]})") from None
    finally:
        storage.release()


def _read_root(root, path: Path) -> Cameras:
    where = str(path)
    if not root.isMap():
        raise InputError(f"{where}: the file's top level is not a map of named entries")
    keys = list(root.keys())
    if _first(root, MATRIX_KEYS) is not None:
        name = _string(root, ("camera_name", "name")) or _stem(path)
        cams = [_camera(root, "", check_camera_name(name, f"{where}: camera name"), where)]
        return _rig(cams, where)
    if _first(root, _suffixed(MATRIX_KEYS, "1")) is not None:
        return _stereo(root, where)
    nodes = [(k, root.getNode(k)) for k in keys]
    cams = [_camera(node, "", check_camera_name(k, f"{where}: [{k}]"), f"{where}: [{k}]")
            for k, node in nodes if node.isMap() and _first(node, MATRIX_KEYS) is not None]
    if not cams:
        raise InputError(f"{where}: no camera matrix found (keys {', '.join(MATRIX_KEYS)}, "
                         "suffixed 1 and 2 for a stereo pair, or one map per camera)")
    return _rig(cams, where)


def _stereo(root, where: str) -> Cameras:
    names = _strings(root, ("camera_names", "names"), where) or ["cam1", "cam2"]
    if len(names) != 2:
        raise InputError(f"{where}: camera_names must hold 2 names for a stereo pair, got "
                         f"{len(names)}")
    cams = []
    for i, name in enumerate(names):
        cam = _camera(root, str(i + 1), check_camera_name(name, f"{where}: camera_names"),
                      f"{where}: camera {i + 1}", extrinsics=False)
        cams.append(cam)
    rotation, translation = _first(root, ROTATION_KEYS), _first(root, TRANSLATION_KEYS)
    if (rotation is None) != (translation is None):
        raise InputError(f"{where}: R and T (cam2_from_cam1) must be given together")
    if rotation is not None:
        R2, t2 = _rotation(rotation, f"{where}: R"), _numbers(translation, 3, f"{where}: T")
        cams[0] = cams[0][:4] + (np.eye(3), np.zeros(3))
        cams[1] = cams[1][:4] + (R2, t2)
    return _rig(cams, where)


def _camera(node, suffix: str, name: str, where: str, extrinsics: bool = True) -> tuple:
    """(name, size, K, dist, R or None, t or None) of the camera whose keys end in `suffix`."""
    matrix = _first(node, _suffixed(MATRIX_KEYS, suffix))
    if matrix is None:
        raise InputError(f"{where}: no camera matrix ({', '.join(_suffixed(MATRIX_KEYS, suffix))})")
    K = _numbers(matrix, 9, f"{where}: camera matrix")
    K = K.reshape(3, 3)
    if not (K[0, 0] > 0 and K[1, 1] > 0) or not np.allclose(K[2], [0, 0, 1]):
        raise InputError(f"{where}: the camera matrix is not one ([[fx, s, cx], [0, fy, cy], "
                         "[0, 0, 1]] with fx, fy > 0)")
    d = _first(node, _suffixed(DIST_KEYS, suffix))
    dist = np.zeros(5) if d is None else _numbers(d, None, f"{where}: distortion")
    if dist.size > 5 and np.any(dist[5:] != 0):
        raise InputError(f"{where}: distortion has {dist.size} coefficients with non-zero terms "
                         "beyond k1 k2 p1 p2 k3 (rational or thin-prism models are not supported)")
    dist = np.pad(dist[:5], (0, max(0, 5 - dist.size)))
    size = _size(node, suffix, where)
    R = t = None
    if extrinsics:
        rotation, translation = _first(node, ROTATION_KEYS), _first(node, TRANSLATION_KEYS)
        if (rotation is None) != (translation is None):
            raise InputError(f"{where}: rotation (R or rvec) and translation (T or tvec) must be "
                             "given together")
        if rotation is not None:
            R = _rotation(rotation, f"{where}: rotation")
            t = _numbers(translation, 3, f"{where}: translation")
    return name, size, K, dist, R, t


def _size(node, suffix: str, where: str) -> np.ndarray:
    width = _first(node, _suffixed(("image_width", "imageWidth", "width"), suffix))
    height = _first(node, _suffixed(("image_height", "imageHeight", "height"), suffix))
    if width is not None and height is not None:
        size = np.array([_numbers(width, 1, f"{where}: image_width")[0],
                         _numbers(height, 1, f"{where}: image_height")[0]])
    else:
        pair = _first(node, _suffixed(SIZE_KEYS, suffix))
        if pair is None and suffix:
            pair = _first(node, SIZE_KEYS)
            if pair is None:
                return _size(node, "", where)
        if pair is None:
            raise InputError(f"{where}: no image size (image_width and image_height, or "
                             f"{' / '.join(SIZE_KEYS)} as [width, height])")
        size = _numbers(pair, 2, f"{where}: image size")
    size = np.rint(size)
    if (size < 1).any() or (size > MAX_IMAGE_SIDE).any():
        raise InputError(f"{where}: image size must be positive pixels (at most "
                         f"{MAX_IMAGE_SIDE} a side), got {size.tolist()}")
    return size.astype(np.int64)


def _rotation(node, where: str) -> np.ndarray:
    v = _numbers(node, None, where)
    if v.size == 3:
        R = rotation_from_rodrigues(v)
    elif v.size == 9:
        R = v.reshape(3, 3)
    else:
        raise InputError(f"{where}: a rotation is 3 numbers (Rodrigues) or 3x3, got {v.size}")
    if np.abs(R @ R.T - np.eye(3)).max() > 1e-5 or np.linalg.det(R) < 0:
        raise InputError(f"{where}: not a rotation matrix")
    return R


def _rig(cams: list[tuple], where: str) -> Cameras:
    names = [c[0] for c in cams]
    if len(set(names)) != len(names):
        raise InputError(f"{where}: camera names are not unique: {names}")
    has = [c[4] is not None for c in cams]
    if any(has) and not all(has):
        missing = [n for n, h in zip(names, has) if not h]
        raise InputError(f"{where}: cameras {', '.join(missing)} have no rotation/translation")
    R = np.array([c[4] for c in cams]) if all(has) else None
    t = np.array([c[5] for c in cams]) if all(has) else None
    return Cameras(names, np.array([c[1] for c in cams]), np.array([c[2] for c in cams]),
                   np.array([c[3] for c in cams]), R, t)


def _suffixed(keys: tuple, suffix: str) -> tuple:
    if not suffix:
        return keys
    return tuple(k + s for k in keys for s in (suffix, "_" + suffix))


def _first(node, keys: tuple):
    """The first of `keys` that `node` (a map) holds, or None."""
    for key in keys:
        child = node.getNode(key)
        if not child.empty() and not child.isNone():
            return child
    return None


def _numbers(node, n: int | None, where: str) -> np.ndarray:
    """The numbers of a matrix, a sequence or a single number node, flattened."""
    if node.isInt() or node.isReal():
        v = np.array([node.real()])
    elif node.isSeq():
        v = _items(node)
        if v is None:
            raise InputError(f"{where}: must be numbers")
    elif node.isMap():
        v = _matrix_data(node, where)
    else:
        raise InputError(f"{where}: must be numbers")
    if n is not None and v.size != n:
        raise InputError(f"{where}: must have {n} numbers, got {v.size}")
    if not np.isfinite(v).all():
        raise InputError(f"{where}: has non-finite values")
    return v


def _matrix_data(node, where: str) -> np.ndarray:
    """The `data` of an `!!opencv-matrix` (rows, cols) or `!!opencv-nd-matrix` (sizes) map,
    read item by item (cv2's own `FileNode.mat()` corrupts memory on a malformed map)."""
    data = node.getNode("data")
    if data.empty() or not (data.isSeq() or data.isInt() or data.isReal()):
        raise InputError(f"{where}: must be an opencv-matrix (rows, cols, dt, data) or a list of "
                         "numbers")
    v = _items(data)
    if v is None:
        raise InputError(f"{where}: the matrix data must be numbers")
    rows, cols, sizes = node.getNode("rows"), node.getNode("cols"), node.getNode("sizes")
    sizes = None if sizes.empty() else _items(sizes)  # XML writes one size as a number
    if rows.isInt() and cols.isInt():
        expected = int(rows.real()) * int(cols.real())
    elif sizes is not None and sizes.size and (sizes >= 0).all() and (sizes < 1e9).all():
        expected = int(np.prod(sizes))
    else:
        raise InputError(f"{where}: the matrix has no rows and cols (or sizes)")
    if expected != v.size:
        raise InputError(f"{where}: the matrix declares {expected} values and holds {v.size}")
    return v


def _items(node) -> np.ndarray | None:
    """The numbers of a sequence node (or one number), None if any item is not a number."""
    items = [node] if node.isInt() or node.isReal() else [node.at(i) for i in range(node.size())]
    if not all(i.isInt() or i.isReal() for i in items):
        return None
    return np.array([i.real() for i in items], dtype=np.float64)


def _string(node, keys: tuple) -> str | None:
    child = _first(node, keys)
    return child.string() if child is not None and child.isString() else None


def _strings(node, keys: tuple, where: str) -> list[str] | None:
    child = _first(node, keys)
    if child is None:
        return None
    if not child.isSeq() or not all(child.at(i).isString() for i in range(child.size())):
        raise InputError(f"{where}: {keys[0]} must be a sequence of strings")
    return [child.at(i).string() for i in range(child.size())]


def _stem(path: Path) -> str:
    name = path.name
    for ext in (".yml.gz", ".yaml.gz", ".xml.gz", ".yml", ".yaml", ".xml", ".json"):
        if name.lower().endswith(ext):
            return name[:-len(ext)]
    return path.stem
