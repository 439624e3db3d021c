"""The `epicap` command: one entry point, with verbs. Thin over the library.

Exit status: 0 on success, 2 for a user's mistake or bad input (one line on stderr saying what
and where), 1 for a bug (the traceback, to report).
"""
from __future__ import annotations

import argparse
import errno
import importlib
import importlib.util
import sys

from epicap import __version__
from epicap.errors import InputError

# Every verb of the product, in the order a session goes through them. A verb whose module does
# not exist yet is not offered.
VERBS = ("demo", "record", "ingest", "detect", "import", "sync", "calibrate", "triangulate",
         "label", "train", "evaluate", "infer", "view", "report", "export", "run", "synth",
         "models", "compare")


def _module_name(verb: str) -> str:
    return "epicap.commands." + ("import_" if verb == "import" else verb)


def build_parser() -> argparse.ArgumentParser:
    """The `epicap` parser with one sub-parser per verb module found in VERBS."""
    parser = argparse.ArgumentParser(
        prog="epicap",
        description="Metric 3D human poses from synchronized cameras, calibrated from the "
                    "people in view. `epicap VERB --help` explains each verb.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"epicap {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS:
        name = _module_name(verb)
        if importlib.util.find_spec(name) is None:
            continue
        mod = importlib.import_module(name)
        doc = (mod.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else ""
        p = sub.add_parser(verb, help=summary, description=doc,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.add_argument("--quiet", action="store_true",
                       help="no progress bars (they are off anyway when stderr is not a terminal)")
        p.set_defaults(_run=mod.run)
    return parser


# OSError numbers that say the file system refused, whatever the code asked for; others are bugs
_ENVIRONMENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EDQUOT,
                       errno.EFBIG, errno.ENAMETOOLONG, errno.EMFILE, errno.ENFILE, errno.EIO,
                       errno.ENOTDIR, errno.EISDIR, errno.EEXIST}


def _one_line(message: str) -> str:
    """The message on one line: line breaks (from a file name, say) written as \\n."""
    return message.strip().replace("\r", "\\r").replace("\n", "\\n")


def main(argv: list[str] | None = None) -> int:
    """Run `epicap` with argv (None: sys.argv[1:]); returns the exit status (0, 2 for bad
    input, 130 when interrupted; bugs raise)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    from epicap.console import set_quiet

    set_quiet(args.quiet)
    try:
        return int(args._run(args) or 0)
    except InputError as e:
        print(f"epicap {args.verb}: error: {_one_line(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:
        if e.errno not in _ENVIRONMENT_ERRNOS:
            raise
        # the machine refused (a read-only folder, a full disk): the user's to fix, not a bug
        where = f"{e.filename}: " if e.filename else ""
        print(f"epicap {args.verb}: error: {_one_line(where + (e.strerror or str(e)))}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"epicap {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
