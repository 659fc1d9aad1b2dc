"""Argument checks shared by the public entry points.

Every check raises before anything is traced, with a message in the scikit-learn style:
the argument, what it must be, and what it got.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable

import numpy as np


def check_one_of(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``."""
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"`{name}` must be one of {choices}. Got {value!r} instead.")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (Python or NumPy); else raise ``TypeError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False. Got {value!r} of type {type(value).__name__}.")
    return bool(value)


def check_int(name: str, value: Any, minimum: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer. Got {value!r} of type {type(value).__name__}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. Got {value!r} instead.")
    return int(value)


def check_float(
    name: str,
    value: Any,
    minimum: float | None = None,
    maximum: float | None = None,
    open_min: bool = False,
    open_max: bool = False,
) -> float:
    """Return ``value`` as ``float`` if it is a finite real number within the bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"`{name}` must be a finite real number. Got {value!r}.")
    value = float(value)
    if minimum is not None and (value < minimum or (open_min and value == minimum)):
        op = ">" if open_min else ">="
        raise ValueError(f"`{name}` must be {op} {minimum}. Got {value!r} instead.")
    if maximum is not None and (value > maximum or (open_max and value == maximum)):
        op = "<" if open_max else "<="
        raise ValueError(f"`{name}` must be {op} {maximum}. Got {value!r} instead.")
    return value


def check_hidden_layer_sizes(value: Any) -> tuple[int, ...]:
    """Return the hidden layer sizes as a tuple of positive ints (possibly empty)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        sizes = tuple(value)
    except TypeError:
        raise TypeError(
            "`hidden_layer_sizes` must be a tuple of positive integers, e.g. (8,) or (8, 4); "
            f"() for no hidden layer. Got {value!r}."
        ) from None
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1:
            raise ValueError(
                "`hidden_layer_sizes` must contain positive integers only. "
                f"Got {value!r} instead."
            )
    return tuple(int(s) for s in sizes)


def check_random_state(value: Any) -> int:
    """Turn ``random_state`` (None or int) into an integer seed for a JAX PRNG key."""
    if value is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(
            f"`random_state` must be None or a non-negative integer. Got {value!r} instead."
        )
    return int(value) % (2**32)


def check_2d_numeric(name: str, X: Any) -> np.ndarray:
    """Return ``X`` as a 2-D float64 NumPy array of finite values."""
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"`{name}` must be 2-D (n_samples, n_features). Got shape {arr.shape} instead. "
            "Reshape a single feature with X.reshape(-1, 1)."
        )
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"`{name}` must be numeric. Got dtype {arr.dtype}; pass a DataFrame to use "
                "enumerated (categorical) columns."
            ) from None
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"`{name}` contains NaN or infinity (first at row {bad[0]}, column {bad[1]})."
        )
    return arr
