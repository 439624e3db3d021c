"""`calibration.toml`: what `calibrate` printed about the cameras it wrote, kept for `report`.

cameras.toml holds the cameras only, in the layout Pose2Sim and Anipose read (PRODUCT.md), so
how well each camera is fixed (RMS, the turn's spread, which intrinsics were estimated or
assumed and their spreads), the world frame's origin and the summary live beside it:

```toml
version = 1
cameras_sha256 = "..."          # the cameras.toml this describes; report ignores a stale record
summary = "4 of 4 cameras calibrated (epicap), RMS reprojection error 11.50 px; ..."
header = ["camera", "frames", ...]
rows = [["cam01", "198", ...], ...]
warnings = ["the recording is 1.7 s long ...", ...]   # absent in older records: none
```
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from epicap.session.io import atomic_write, toml_string

__all__ = ["CALIBRATION_RECORD_FILE", "write_calibration_record", "read_calibration_record"]

CALIBRATION_RECORD_FILE = "calibration.toml"


def _cell(value) -> str:
    return "" if value is None else str(value)


def write_calibration_record(path: str | os.PathLike, cameras_file: str | os.PathLike,
                             header: list[str], rows: list[list], summary: str,
                             warnings: list[str] = ()) -> None:
    """Write the record of the calibration in `cameras_file` (atomically) to `path`.

    header: the table's column names; rows: one list of cells per camera (None: empty);
    summary: the paragraph the command printed; warnings: the warnings it printed.
    """
    from epicap.assets import sha256_of

    lines = ["# how epicap calibrated the cameras of cameras.toml (shown by `epicap report`)",
             "version = 1", f"cameras_sha256 = {toml_string(sha256_of(cameras_file))}",
             f"summary = {toml_string(summary)}",
             "header = [" + ", ".join(toml_string(h) for h in header) + "]", "rows = ["]
    lines += ["  [" + ", ".join(toml_string(_cell(v)) for v in row) + "]," for row in rows]
    lines.append("]")
    lines.append("warnings = [" + ", ".join(toml_string(w) for w in warnings) + "]")
    with atomic_write(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def read_calibration_record(session: str | os.PathLike, cameras_file: str | os.PathLike
                            ) -> dict | None:
    """The record of `session` ({"summary", "header", "rows", "warnings"}) when it describes
    `cameras_file` as it is now; None when there is none, it is unreadable, or the cameras
    changed since."""
    from epicap.assets import sha256_of

    path = Path(session) / CALIBRATION_RECORD_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        if doc.get("cameras_sha256") != sha256_of(cameras_file):
            return None
        header, rows = [str(h) for h in doc["header"]], [[str(v) for v in r] for r in doc["rows"]]
        warnings = [str(w) for w in doc.get("warnings", [])]
        return {"summary": str(doc["summary"]), "header": header, "rows": rows,
                "warnings": warnings} if all(len(r) == len(header) for r in rows) else None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return None
