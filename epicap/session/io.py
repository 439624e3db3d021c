"""Atomic writes and safe reads shared by every file epicap writes."""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from epicap.errors import InputError

__all__ = ["atomic_write", "write_npz", "read_npz", "refuse_overwrite"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb"):
    """Open a temporary file beside `path`; on success it replaces `path` in one rename.

    On any error the temporary file is removed and `path` is left as it was. An unwritable folder
    or a full disk becomes an InputError naming the path.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise InputError(f"{path}: cannot write here ({e.strerror or e})") from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a session file is an ordinary file
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        _remove(tmp)
        raise InputError(f"{path}: writing failed ({e.strerror or e})") from None
    except BaseException:
        _remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(tmp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], compress: bool = True) -> None:
    """Write arrays to an .npz atomically (no pickled objects)."""
    with atomic_write(path) as f:
        (np.savez_compressed if compress else np.savez)(f, **arrays)


def read_npz(path: str | os.PathLike, required: dict[str, tuple]) -> dict[str, np.ndarray]:
    """Read an .npz without unpickling and check that it has the `required` keys.

    required: key -> accepted dtype kinds (numpy `dtype.kind` letters, e.g. ("f",) or ("U",)).
    Raises InputError naming the file and the key for a missing, corrupt or mistyped entry.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            missing = [k for k in required if k not in keys]
            if missing:
                raise InputError(f"{path}: missing key(s) {', '.join(missing)}")
            out = {k: z[k] for k in keys}
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, io.UnsupportedOperation) as e:
        raise InputError(f"{path}: not a readable .npz file ({e})") from None
    for key, kinds in required.items():
        if out[key].dtype.kind not in kinds:
            raise InputError(f"{path}: key {key!r} has dtype {out[key].dtype}, "
                             f"expected kind {'/'.join(kinds)}")
    return out


def refuse_overwrite(path: str | os.PathLike, force: bool, what: str = "file") -> None:
    """InputError if `path` exists and `force` is not set (a user's data is never overwritten)."""
    if Path(path).exists() and not force:
        raise InputError(f"{path}: {what} exists; pass --force to overwrite it")
