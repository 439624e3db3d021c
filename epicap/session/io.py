"""Atomic writes and safe reads shared by every file epicap writes."""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from epicap.errors import InputError

__all__ = ["atomic_write", "write_npz", "read_npz", "refuse_overwrite", "native_path",
           "toml_string"]


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
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, io.UnsupportedOperation,
            zlib.error, NotImplementedError, RuntimeError, MemoryError) as e:
        # zlib.error: a corrupt compressed member; NotImplementedError: an unknown compression;
        # RuntimeError: an encrypted member; MemoryError: a header claiming a vast array
        raise InputError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    for key, kinds in required.items():
        if out[key].dtype.kind not in kinds:
            raise InputError(f"{path}: key {key!r} has dtype {out[key].dtype}, "
                             f"expected kind {'/'.join(kinds)}")
    return out


def toml_string(text: str) -> str:
    """`text` as a TOML basic string ("..." with escapes) that every TOML reader accepts.

    json.dumps alone is not enough: it writes characters beyond U+FFFF as surrogate pairs
    (\\ud83d\\ude00), which TOML forbids, and leaves DEL raw, which TOML 1.0 forbids too.
    InputError for text that is not valid Unicode (lone surrogates from a non-UTF-8 file name).
    """
    text = str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: a non-UTF-8 file name decoded by Python
        raise InputError(f"{ascii(text)}: not valid UTF-8 text (a non-UTF-8 file name?)") \
            from None
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def native_path(path: str | os.PathLike, what: str = "file") -> str:
    """`path` as a str that C++ libraries (OpenCV, Open3D, pycolmap) can take.

    A file name that is not valid UTF-8 reaches Python with surrogate characters, which such
    libraries cannot encode (OpenCV 5 crashes on them): InputError asking to rename it.
    """
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{text.encode('utf-8', 'backslashreplace').decode()}: the {what}'s "
                         "path is not valid UTF-8; rename it") from None
    return text


def refuse_overwrite(path: str | os.PathLike, force: bool, what: str = "file") -> None:
    """InputError if `path` exists and `force` is not set (a user's data is never overwritten)."""
    if Path(path).exists() and not force:
        raise InputError(f"{path}: {what} exists; pass --force to overwrite it")
