"""The bad-input matrix as data: verb x fault -> the command line and what must happen.

Each `Case` builds its inputs in a fresh folder (a `Workspace`), names the command line, and says
the expected exit status: 2 for a user's mistake (one line on stderr, no traceback, not one file
created, changed or removed anywhere in the workspace) or 0 where the fault is something a verb
must cope with (paths with spaces, one camera, cameras of different lengths).

The cases live by stage: `matrix_capture` (synth, record, ingest), `matrix_import` (import
openpose, coco, npz), `matrix_stages` (calibrate, triangulate, sync, detect, label, train,
evaluate, infer, run, demo), `matrix_output` (view, report, export); `workspace` holds
`Workspace`, `Case` and `FAULTS`. A new verb gets its cases with the same faults (`missing`,
`empty`, `wrong-shape`, `nan`, `one-camera`, `frame-counts`, `non-utf8`, `spaces`, `read-only`,
`full-disk`, `exists`, `bad-option`) in the module of its stage.
"""
from __future__ import annotations

from tests.hardening.matrix_capture import CAPTURE_CASES
from tests.hardening.matrix_import import IMPORT_CASES
from tests.hardening.matrix_output import OUTPUT_CASES
from tests.hardening.matrix_stages import STAGE_CASES
from tests.hardening.workspace import FAULTS, Case, Workspace

__all__ = ["CASES", "FAULTS", "Case", "Workspace"]

CASES: list[Case] = CAPTURE_CASES + IMPORT_CASES + STAGE_CASES + OUTPUT_CASES
