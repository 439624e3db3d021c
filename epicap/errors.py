"""Errors a user can act on, and the shape checks that raise them.

`InputError` (a `ValueError`) means bad input: the command line prints its message as one line on
stderr and exits with status 2. Anything else that escapes is a bug (exit status 1).
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

__all__ = ["InputError", "GeometryError", "check_shape", "check_finite_or_nan"]


class InputError(ValueError):
    """Bad input from the user (a file, an option, data that cannot do the job). Exit status 2."""


class GeometryError(InputError):
    """The data cannot fix the geometry asked for (too few views, points or too little motion)."""


_DIM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_shape(x, spec: str, name: str = "array", dims: dict | None = None) -> dict:
    """Check that `x` has the shape `spec` and return the sizes bound to the letters.

    spec: comma-separated dimensions, each a letter (any size, equal wherever the letter repeats),
        an integer (that size), `*` (any size) or a leading `...` (any number of leading dims).
        Example: "C, T, J, 3".
    dims: sizes already bound (e.g. {"C": 4}) that `x` must agree with.

    Raises InputError naming `name`, the expected and the actual shape.

    Example:
        >>> check_shape(np.zeros((4, 2)), "N, 2")
        {'N': 4}
    """
    shape = tuple(np.shape(x))
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    bound = dict(dims or {})
    leading = parts[:1] == ["..."]
    if leading:
        parts = parts[1:]
        if len(shape) < len(parts):
            _fail(name, spec, shape)
        shape = shape[len(shape) - len(parts):]
    elif len(shape) != len(parts):
        _fail(name, spec, shape)
    for part, size in zip(parts, shape):
        if part == "*":
            continue
        if part.isdigit():
            if int(part) != size:
                _fail(name, spec, tuple(np.shape(x)))
        elif _DIM.match(part):
            if part in bound and bound[part] != size:
                _fail(name, spec, tuple(np.shape(x)), f" ({part}={bound[part]} expected)")
            bound[part] = size
        else:
            raise ValueError(f"bad shape spec {spec!r}")
    return bound


def _fail(name: str, spec: str, shape: Sequence[int], extra: str = "") -> None:
    raise InputError(f"{name}: expected shape ({spec}), got {tuple(shape)}{extra}")


def check_finite_or_nan(x: np.ndarray, name: str = "array") -> None:
    """Raise InputError if `x` holds +-inf (NaN marks missing values and is allowed)."""
    if np.isinf(np.asarray(x, dtype=np.float64)).any():
        raise InputError(f"{name}: contains infinite values (missing values must be NaN)")
