"""Camera names are also file names (`videos/<name>.mp4`, `overlay_<name>.mp4`): the rule that
keeps every name usable as one, checked wherever a name enters a session."""
from __future__ import annotations

import unicodedata

from epicap.errors import InputError

__all__ = ["check_camera_name", "MAX_NAME_BYTES"]

MAX_NAME_BYTES = 200  # file systems allow 255 bytes a name; room for a prefix and an extension


def check_camera_name(name, where: str = "camera name") -> str:
    """Return `name` if it can name a camera, else raise InputError saying why.

    A camera name is a non-empty string of at most MAX_NAME_BYTES bytes in UTF-8, with no path
    separator (`/`, `\\`), no control character, and not `.` or `..`; so `SESSION/videos/<name>.mp4`
    stays inside the session, and the name survives a round trip through TOML and npz.
    where: what to name in the message (a file and an entry, an option).
    """
    if not isinstance(name, str):
        raise InputError(f"{where}: a camera name must be text, got {type(name).__name__} "
                         f"{name!r}")
    if not name or name in (".", ".."):
        raise InputError(f"{where}: {name!r} cannot name a camera")
    bad = [c for c in name if c in "/\\" or unicodedata.category(c) in ("Cc", "Cs")]
    if bad:
        what = "a path separator" if bad[0] in "/\\" else \
            "characters that are not valid text (a non-UTF-8 file name?)" \
            if unicodedata.category(bad[0]) == "Cs" else "a control character"
        raise InputError(f"{where}: camera name {name!r} holds {what}; pass plain names "
                         "(--names)")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InputError(f"{where}: camera name is longer than {MAX_NAME_BYTES} bytes")
    return name
