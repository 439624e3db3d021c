"""The bad-input matrix as data: verb x fault -> the command line and what must happen.

Each `Case` builds its inputs in a fresh folder (a `Workspace`), names the command line, and says
the expected exit status: 2 for a user's mistake (one line on stderr, no traceback, not one file
created, changed or removed anywhere in the workspace) or 0 where the fault is something a verb
must cope with (paths with spaces, one camera, cameras of different lengths).

The cases live by stage: `matrix_capture` (synth, record, ingest), `matrix_import` (import
openpose, coco, npz), `matrix_output` (view, report, export); `workspace` holds `Workspace`,
`Case` and `FAULTS`. To cover a verb that lands later (calibrate, triangulate, detect, sync,
label, train, evaluate, infer), add a module of its cases with the same faults: `missing`,
`empty`, `wrong-shape`, `nan`, `one-camera`, `frame-counts`, `non-utf8`, `spaces`, `read-only`,
`full-disk`, `exists`, and add it to `CASES` below. E.g. Case("triangulate", "one-camera",
lambda w: ["triangulate", str(w.one_camera_session())], message="two cameras").
"""
from __future__ import annotations

from tests.hardening.matrix_capture import CAPTURE_CASES
from tests.hardening.matrix_import import IMPORT_CASES
from tests.hardening.matrix_output import OUTPUT_CASES
from tests.hardening.workspace import FAULTS, Case, Workspace

__all__ = ["CASES", "FAULTS", "Case", "Workspace"]

CASES: list[Case] = CAPTURE_CASES + IMPORT_CASES + OUTPUT_CASES
