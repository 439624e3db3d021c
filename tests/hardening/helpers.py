"""Shared tools of the hardening tests: byte mutations, a small TOML writer, folder snapshots,
a hang guard, and the checks that a reader's result honours the file contract.

Everything here is test-only: the strategies build hostile inputs, the `assert_valid_*`
functions state what a reader may return (anything else must be an `InputError`).
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import math
import os
import signal
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

# ---- hostile bytes ---------------------------------------------------------------------------


@st.composite
def mutated(draw, data: bytes, max_edits: int = 4) -> bytes:
    """`data` after a few random edits: truncation, byte flips, insertions, deletions."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        op = draw(st.sampled_from(("truncate", "flip", "insert", "delete")))
        i = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "truncate":
            del out[i:]
        elif op == "flip" and out:
            out[i] ^= draw(st.integers(1, 255))
        elif op == "insert":
            out[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del out[i:i + draw(st.integers(1, 64))]
    return bytes(out)


# ---- TOML values and a writer ----------------------------------------------------------------

toml_scalars = st.one_of(
    st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", "..", "/etc/passwd", "a\x00b", "cam 01", "é"]))
toml_values = st.recursive(
    toml_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(min_size=1, max_size=6), children, max_size=3),
    max_leaves=12)


def toml_value(v) -> str:
    """`v` as a TOML value (inline arrays and tables); strings as JSON-escaped basic strings."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_table(header: str, entries: dict) -> str:
    """`[header]` (or `[[header]]` when given with the brackets) followed by `key = value` lines."""
    head = header if header.startswith("[") else f"[{json.dumps(header)}]"
    return "\n".join([head] + [f"{json.dumps(k)} = {toml_value(v)}" for k, v in entries.items()])


# ---- files and folders -----------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """{relative path: (mtime_ns, sha256)} of every file under `root` (empty when absent)."""
    root = Path(root)
    if not root.exists():
        return {}
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(root))] = (p.stat().st_mtime_ns,
                                             hashlib.sha256(p.read_bytes()).hexdigest())
    return out


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise TimeoutError if the block runs longer than `seconds` (a hang, not a slow machine:
    keep the limit generous). Main thread only; a no-op where SIGALRM does not exist."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def fire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s (a hang?)")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class ReadOnlyFolder:
    """Make writes under `root` fail with EACCES, as a read-only folder does.

    As a normal user the folder is really made read-only (chmod 0555). Root ignores permissions,
    so there the calls that create or replace files (os.open for writing, open/io.open for
    writing, os.mkdir, os.replace, os.rename) are patched to refuse paths under `root`. Writes
    made inside C++ libraries (OpenCV's VideoWriter, pycolmap) are not seen by the patch.
    """

    _WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def __init__(self, root: Path, monkeypatch):
        self.root = Path(root).resolve()
        self.mp = monkeypatch

    def __enter__(self):
        if os.geteuid() != 0:
            self.root.chmod(0o555)
            return self
        real_open, real_mkdir = os.open, os.mkdir
        real_replace, real_rename = os.replace, os.rename
        import builtins
        real_builtin_open = builtins.open

        def inside(p) -> bool:
            try:
                return Path(os.fsdecode(p)).resolve().is_relative_to(self.root)
            except (TypeError, ValueError):
                return False

        def deny(p):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(p))

        def fake_open(p, flags, *a, **k):
            if flags & self._WRITE_FLAGS and inside(p):
                deny(p)
            return real_open(p, flags, *a, **k)

        def fake_builtin_open(file, mode="r", *a, **k):
            if isinstance(file, (str, bytes, os.PathLike)) and set(mode) & set("wax+") \
                    and inside(file):
                deny(file)
            return real_builtin_open(file, mode, *a, **k)

        def fake_mkdir(p, *a, **k):
            if inside(p):
                deny(p)
            return real_mkdir(p, *a, **k)

        def fake_move(real):
            def move(src, dst, *a, **k):
                if inside(dst) or inside(src):
                    deny(dst)
                return real(src, dst, *a, **k)
            return move

        self.mp.setattr(os, "open", fake_open)
        self.mp.setattr(builtins, "open", fake_builtin_open)
        self.mp.setattr(io, "open", fake_builtin_open)  # pathlib opens through io.open
        self.mp.setattr(os, "mkdir", fake_mkdir)
        self.mp.setattr(os, "replace", fake_move(real_replace))
        self.mp.setattr(os, "rename", fake_move(real_rename))
        return self

    def __exit__(self, *exc):
        if os.geteuid() != 0:
            self.root.chmod(0o755)
        else:
            self.mp.undo()
        return False


def full_disk(monkeypatch) -> None:
    """Make every fsync and every shutil copy fail with ENOSPC, as a full disk does."""
    import shutil

    def nospace(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", nospace)
    monkeypatch.setattr(shutil, "copyfile", nospace)
    monkeypatch.setattr(shutil, "copyfileobj", nospace)


# ---- what a reader may return ----------------------------------------------------------------


def assert_valid_keypoints(kp) -> None:
    """The keypoints2d.npz contract, on a loaded Keypoints2D."""
    from epicap.joint_sets import get_joint_set

    k = kp.keypoints
    assert k.dtype == np.float32 and k.ndim == 4 and k.shape[3] == 3
    C, T, J, _ = k.shape
    assert C >= 1 and T >= 1
    assert J == len(get_joint_set(kp.joint_set)) and tuple(kp.joints) == \
        get_joint_set(kp.joint_set).joints
    assert len(kp.cameras) == C and len(set(kp.cameras)) == C
    assert all(isinstance(c, str) and c for c in kp.cameras)
    assert kp.image_size.shape == (C, 2) and (kp.image_size > 0).all()
    assert math.isfinite(kp.fps) and kp.fps > 0
    conf = k[..., 2]
    assert not np.isinf(k).any() and np.isfinite(conf).all()
    assert ((conf >= 0) & (conf <= 1)).all()
    missing = np.isnan(k[..., :2]).any(-1)
    assert (conf[missing] == 0).all() and np.isnan(k[missing][:, :2]).all()


def assert_valid_poses(p) -> None:
    """The poses3d.npz contract, on a loaded Poses3D."""
    T, J, _ = p.poses.shape
    assert p.poses.dtype == np.float32 and not np.isinf(p.poses).any()
    assert p.reprojection_error.shape == (T, J) and p.views.shape == (T, J)
    assert p.views.dtype == np.uint8 and np.isfinite(p.fps) and p.fps > 0
    assert tuple(p.joints) == p.skeleton.joints and J == len(p.skeleton)


def assert_valid_cameras(cams) -> None:
    """What every later stage assumes of a loaded Cameras."""
    C = len(cams.names)
    assert C >= 1 and len(set(cams.names)) == C and all(isinstance(n, str) for n in cams.names)
    assert cams.image_size.shape == (C, 2) and (cams.image_size > 0).all()
    assert np.isfinite(cams.K).all() and (cams.K[:, 0, 0] > 0).all() and (cams.K[:, 1, 1] > 0).all()
    assert cams.dist.shape == (C, 5) and np.isfinite(cams.dist).all()
    if cams.R is not None:
        assert np.isfinite(cams.R).all() and np.isfinite(cams.t).all()
        np.testing.assert_allclose(cams.R @ np.swapaxes(cams.R, 1, 2), np.broadcast_to(
            np.eye(3), (C, 3, 3)), atol=1e-6)
    assert cams.error_px is None or isinstance(cams.error_px, float)
    assert isinstance(cams.adjusted, bool)


def assert_valid_manifest(man, session: Path) -> None:
    """Names unique strings, numbers sane, and no path that leaves the session unless it is an
    absolute path marked external (one the user passed)."""
    names = man.names
    assert names and len(set(names)) == len(names) and all(isinstance(n, str) for n in names)
    root = Path(session).resolve()
    for c in man.cameras:
        assert math.isfinite(c.fps) and c.fps > 0
        assert isinstance(c.frame_count, int) and c.frame_count >= 0
        assert c.width > 0 and c.height > 0
        for rel in (c.video, c.timestamps):
            if rel is None:
                continue
            assert isinstance(rel, str) and rel and "\x00" not in rel
            if c.external and Path(rel).is_absolute():
                continue
            resolved = (root / rel).resolve()
            assert resolved.is_relative_to(root), f"{rel!r} leaves the session"
