"""What the command line shows: progress bars (on a terminal only) and plain tables."""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterable, Sequence

__all__ = ["progress", "format_table", "warn", "native_output_silenced"]

_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Silence progress bars and warnings for the rest of the process (`--quiet`)."""
    global _QUIET
    _QUIET = bool(quiet)


def progress(iterable: Iterable | None = None, total: int | None = None, desc: str = "",
             unit: str = "it"):
    """A tqdm progress bar on stderr when it is a terminal and `--quiet` is off; silent otherwise."""
    from tqdm import tqdm

    disable = _QUIET or not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=False,
                dynamic_ncols=True)


def warn(message: str) -> None:
    """One line on stderr, prefixed `warning:` (kept even with --quiet: it is something to act on)."""
    print(f"warning: {message}", file=sys.stderr)


def format_table(rows: Sequence[Sequence], headers: Sequence[str], floatfmt: str = ".3g") -> str:
    """A Markdown table (readable in a terminal, pasteable into a note).

    Floats use `floatfmt`; None prints as '-'.
    """
    def cell(v) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in text]
    return "\n".join(out)


@contextlib.contextmanager
def native_output_silenced(stdout: bool = True, stderr: bool = True):
    """Send the process's stdout/stderr file descriptors to /dev/null for the duration.

    For native libraries (MediaPipe's TFLite, Open3D's Filament) that log to the file descriptors
    directly, where Python cannot filter them. Keep the block short: Python's own output (progress
    bars, warnings) is silenced too.
    """
    fds = [fd for fd, on in ((1, stdout), (2, stderr)) if on]
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            os.dup2(devnull, fd)
        yield
    finally:
        for fd, old in zip(fds, saved):
            os.dup2(old, fd)
        for fd in saved + [devnull]:
            os.close(fd)
