"""A minimal C3D writer and reader (3D points only, IEEE float, Intel byte order).

C3D (www.c3d.org, "The C3D File Format User Guide", Motion Lab Systems 2008) is 512-byte blocks:
block 1 the header (16-bit words: parameter block, point count, frame range, scale, data block,
frame rate), then the parameter section (groups POINT and ANALOG with their parameters), then the
frames: per frame and point four float32 values X, Y, Z and a residual word (-1 marks a missing
point). A negative POINT:SCALE says the data are floats in POINT:UNITS.

epicap writes Z up (the world frame, as motion-capture labs use it: POINT:X_SCREEN "+X",
POINT:Y_SCREEN "+Z") in millimetres by default. Files are read back by `read_c3d` (and by the
`c3d` package from PyPI, checked once by hand; it is not a dependency).
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.export.trc import UNIT_SCALE
from epicap.session.io import atomic_write

__all__ = ["C3dData", "write_c3d", "read_c3d"]

_BLOCK = 512
_INTEL = 84


@dataclass
class C3dData:
    """Points (T, M, 3) in `units` (NaN where missing), their labels, the rate, all parameters."""

    points: np.ndarray
    labels: list[str]
    rate_hz: float
    units: str
    parameters: dict
    first_frame: int = 1


def _param(name: str, group_id: int, value, last: bool = False) -> bytes:
    """One parameter record: value is an int (int16), a float (float32), a str, a list of str or
    a list of ints (unsigned 16-bit words)."""
    if isinstance(value, bool) or isinstance(value, int):
        kind, dims, data = 2, b"", struct.pack("<h", value)
    elif isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        kind, dims = 2, struct.pack("<B", len(value))
        data = struct.pack(f"<{len(value)}H", *value)
    elif isinstance(value, float):
        kind, dims, data = 4, b"", struct.pack("<f", value)
    elif isinstance(value, str):
        raw = value.encode("ascii", "replace")
        kind, dims, data = -1, struct.pack("<B", len(raw)), raw
    else:  # list of strings: a 2D char array [width, count]
        width = max([len(s) for s in value] + [1])
        if width > 255 or len(value) > 255:
            raise InputError("C3D: labels longer than 255 characters or more than 255 points")
        kind = -1
        dims = struct.pack("<BB", width, len(value))
        data = b"".join(s.encode("ascii", "replace").ljust(width) for s in value)
    ndims = len(dims)
    body = struct.pack("<bB", kind, ndims) + dims + data + struct.pack("<B", 0)  # no description
    name_b = name.encode("ascii")
    offset = 0 if last else 2 + len(body)
    return struct.pack("<bb", len(name_b), group_id) + name_b + struct.pack("<h", offset) + body


def _group(name: str, group_id: int) -> bytes:
    name_b = name.encode("ascii")
    return struct.pack("<bb", len(name_b), -group_id) + name_b + struct.pack("<hB", 3, 0)


def write_c3d(path: str | os.PathLike, poses_world: np.ndarray, labels: list[str], fps: float,
              units: str = "mm", first_frame: int = 1) -> Path:
    """Write 3D points as a float C3D file, atomically.

    poses_world: (T, M, 3) metres in epicap's world frame (Z up), NaN where missing.
    labels: M point labels (ASCII). fps: frames per second. units: "mm" (default) or "m".
    first_frame: the 1-based frame number of the first frame (the header's first and last
    frame, TRIAL:ACTUAL_START_FIELD). Axes: Z up (POINT:X_SCREEN +X, POINT:Y_SCREEN +Z) and
    POINT:UNITS, also stated in POINT:DESCRIPTIONS. Returns the path.
    """
    if units not in UNIT_SCALE:
        raise InputError(f"C3D units must be one of {', '.join(UNIT_SCALE)}, got {units!r}")
    if not 0 < fps < float("inf"):
        raise InputError(f"C3D: fps must be a positive number, got {fps}")
    check_shape(poses_world, "T, M, 3", "C3D: poses_world")
    X = np.asarray(poses_world, dtype=np.float64) * UNIT_SCALE[units]
    T, M, _ = X.shape
    if len(labels) != M:
        raise InputError(f"C3D: {len(labels)} labels for {M} points")
    first = int(first_frame)
    if not 1 <= T <= 65535 or not 1 <= first <= 65536 - T:
        raise InputError(f"C3D: frames {first}..{first + T - 1}; the format holds 1 to 65535")
    last = first + T - 1
    unit_word = "metres" if units == "m" else "millimetres"
    params = {"POINT": [("USED", M), ("FRAMES", T if T < 32768 else T - 65536),
                        ("DATA_START", 0), ("SCALE", -1.0), ("RATE", float(fps)),
                        ("LABELS", list(labels)),
                        ("DESCRIPTIONS", [f"Z up, {unit_word}"] * M), ("UNITS", units),
                        ("X_SCREEN", "+X"), ("Y_SCREEN", "+Z")],
              "ANALOG": [("USED", 0), ("RATE", 0.0), ("GEN_SCALE", 1.0)],
              "TRIAL": [("ACTUAL_START_FIELD", [first & 0xFFFF, first >> 16]),
                        ("ACTUAL_END_FIELD", [last & 0xFFFF, last >> 16])]}

    def section(data_start: int) -> bytes:
        out = bytearray(struct.pack("<BBBB", 1, 0x50, 0, _INTEL))
        items = [(g, gid, None) for gid, g in enumerate(params, start=1)]
        items += [(name, gid, value) for gid, g in enumerate(params, start=1)
                  for name, value in params[g]]
        for i, (name, gid, value) in enumerate(items):
            if value is None:
                out += _group(name, gid)
            else:
                value = data_start if (gid, name) == (1, "DATA_START") else value
                out += _param(name, gid, value, last=i == len(items) - 1)
        blocks = -(-(len(out) + 1) // _BLOCK)
        out[2] = blocks
        return bytes(out.ljust(blocks * _BLOCK, b"\0"))

    n_param_blocks = len(section(0)) // _BLOCK
    data_start = 2 + n_param_blocks
    param_bytes = section(data_start)
    header = bytearray(_BLOCK)
    struct.pack_into("<BBhhHHh", header, 0, 2, 0x50, M, 0, first, last, 0)
    struct.pack_into("<fhhf", header, 12, -1.0, data_start, 0, float(fps))
    frames = np.zeros((T, M, 4), dtype="<f4")
    ok = np.isfinite(X).all(axis=-1)
    frames[..., :3] = np.where(ok[..., None], X, 0.0)
    frames[..., 3] = np.where(ok, 0.0, -1.0)
    data = frames.tobytes()
    data = data.ljust(-(-len(data) // _BLOCK) * _BLOCK, b"\0")
    path = Path(path)
    with atomic_write(path) as f:
        f.write(bytes(header) + param_bytes + data)
    return path


def read_c3d(path: str | os.PathLike) -> C3dData:
    """Read the 3D points of a float, Intel-order C3D file (as `write_c3d` writes).

    Returns points in the file's units and frame. InputError for another kind of C3D file.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    if len(raw) < 2 * _BLOCK or raw[1] != 0x50:
        raise InputError(f"{path}: not a C3D file")
    param_block = raw[0]
    p0 = (param_block - 1) * _BLOCK
    n_blocks, processor = raw[p0 + 2], raw[p0 + 3]
    if processor != _INTEL:
        raise InputError(f"{path}: processor type {processor}; only Intel (84) files are read")
    params, groups = _read_parameters(raw[p0 + 4:p0 + n_blocks * _BLOCK])
    point = params.get("POINT", {})
    try:
        M, scale, rate = int(point["USED"]), float(point["SCALE"]), float(point["RATE"])
        start = int(point["DATA_START"])
        T = struct.unpack_from("<H", raw, 8)[0] - struct.unpack_from("<H", raw, 6)[0] + 1
    except KeyError as e:
        raise InputError(f"{path}: parameter POINT:{e.args[0]} missing") from None
    if scale >= 0:
        raise InputError(f"{path}: integer C3D data are not supported (POINT:SCALE >= 0)")
    analog = int(params.get("ANALOG", {}).get("USED", 0))
    if analog:
        raise InputError(f"{path}: files with analog channels are not supported")
    need = (start - 1) * _BLOCK + T * M * 16
    if len(raw) < need:
        raise InputError(f"{path}: truncated ({len(raw)} bytes, {need} needed)")
    frames = np.frombuffer(raw, "<f4", T * M * 4, (start - 1) * _BLOCK).reshape(T, M, 4)
    pts = frames[..., :3].astype(np.float64)
    pts[frames[..., 3] < 0] = np.nan
    labels = point.get("LABELS", [f"P{i + 1}" for i in range(M)])
    units = point.get("UNITS", "mm")
    first = struct.unpack_from("<H", raw, 6)[0]
    return C3dData(pts, [str(s) for s in labels][:M], rate, str(units), params, first)


def _read_parameters(buf: bytes) -> tuple[dict, dict]:
    """Parse the parameter section (after its 4-byte head) into {group: {name: value}}."""
    names: dict[int, str] = {}
    values: dict[int, dict] = {}
    i = 0
    while i + 2 <= len(buf):
        nlen, gid = struct.unpack_from("<bb", buf, i)
        if nlen == 0 or gid == 0:
            break
        name = buf[i + 2:i + 2 + abs(nlen)].decode("ascii", "replace").upper()
        j = i + 2 + abs(nlen)
        offset = struct.unpack_from("<h", buf, j)[0]
        if gid < 0:
            names[-gid] = name
        else:
            kind, ndims = struct.unpack_from("<bB", buf, j + 2)
            dims = list(buf[j + 4:j + 4 + ndims])
            k = j + 4 + ndims
            values.setdefault(gid, {})[name] = _decode(buf, k, kind, dims)
        if offset == 0:
            break
        i = j + offset
    return {names.get(g, str(g)): v for g, v in values.items()}, names


def _decode(buf: bytes, k: int, kind: int, dims: list[int]):
    n = int(np.prod(dims)) if dims else 1
    if kind == -1:
        text = buf[k:k + n].decode("ascii", "replace")
        if len(dims) <= 1:
            return text.strip()
        w = dims[0]
        return [text[s * w:(s + 1) * w].strip() for s in range(n // max(w, 1))]
    code = {1: "b", 2: "h", 4: "f"}[abs(kind)]
    vals = struct.unpack_from(f"<{n}{code}", buf, k)
    return vals[0] if not dims else list(vals)
