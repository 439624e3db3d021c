"""Several people out to one-person formats: one file per person, named after the person.

TRC and C3D hold one skeleton's markers, so a session of P people gives P files beside each
other: `--out walk.trc` writes `walk_p0.trc`, `walk_p1.trc`, ... (the suffix is the person id,
with any character other than letters, digits, `-` and `.` replaced by `_`). JSON holds everyone in
one file (`epicap.export.jsonfmt`). A one-person session writes `--out` itself, as before.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

from epicap.session import Poses3D
from epicap.session.io import refuse_overwrite

__all__ = ["person_path", "write_per_person"]


def person_path(out: str | os.PathLike, person: str) -> Path:
    """The file of person `person` for an output named `out`: FILE.ext -> FILE_<person>.ext."""
    out = Path(out)
    safe = re.sub(r"[^A-Za-z0-9.\-]", "_", person)
    return out.with_name(f"{out.stem}_{safe}{out.suffix}")


def write_per_person(out: str | os.PathLike, poses: Poses3D,
                     write: Callable[[Path, Poses3D], Path], force: bool = False) -> list[Path]:
    """Write each person of `poses` with `write(path, single_person_poses)`; returns the paths.

    out: the file name the user gave (FILE.ext); person p goes to `person_path(out, id_p)`.
    Every target is checked before any is written, so an existing file (without `force`) leaves
    nothing half exported. A one-person `poses` writes `out` itself.
    """
    if poses.people is None:
        refuse_overwrite(out, force, "output")
        return [write(Path(out), poses)]
    paths = [person_path(out, pid) for pid in poses.people]
    if len(set(paths)) != len(paths):
        paths = [person_path(out, f"{p}") for p in range(len(poses.people))]
    for path in paths:
        refuse_overwrite(path, force, "output")
    return [write(path, poses.person(p)) for p, path in enumerate(paths)]
