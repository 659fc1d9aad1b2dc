"""Is a target a set of classes or a number? The rule ``analyze`` and ``compare`` follow.

A target is analysed as a **regression** (a numeric output, :class:`~shallownet.ShallowNetRegressor`)
when, ignoring missing values,

1. every value is a number (an integer or floating-point column; booleans, text and
   categorical columns are classes), and
2. it takes more than :data:`MAX_NUMERIC_CLASSES` (10) distinct values.

Everything else is a **classification**. So a 0/1 outcome, a five-point score or species
coded 1..3 are classes, while a length, a price or a count with 11 or more different values is
a number. The rule only looks at the values, so it can be wrong for codes with many levels
(twelve months coded 1..12) or for a measurement with few levels; ``task="classification"`` or
``"regression"`` (``--task`` on the command line) overrides it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TASKS = ("auto", "classification", "regression")

MAX_NUMERIC_CLASSES = 10
"""A numeric target with more distinct values than this is treated as a number."""


def _values(y: Any) -> pd.Series:
    series = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y, dtype=object).ravel())
    return series.dropna().infer_objects()


def is_numeric_target(y: Any) -> bool:
    """True when every non-missing value of ``y`` is a number (booleans are not)."""
    values = _values(y)
    return bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
                and not isinstance(values.dtype, pd.CategoricalDtype))


def detect_task(y: Any, task: str = "auto", name: str = "target") -> tuple[str, str]:
    """The task for target ``y``: ``("classification" | "regression", reason)``.

    Parameters
    ----------
    y : array-like or Series
        The target column (missing values are ignored).
    task : {"auto", "classification", "regression"}
        "auto" applies the module's rule; the others are returned as given, after checking
        that a regression target is numeric with at least two distinct values.
    name : str
        The target's name, for the messages.

    Returns
    -------
    (task, reason) : (str, str)
        ``reason`` says in one sentence why (empty when the task was given).

    Raises
    ------
    ValueError
        For an unknown ``task``, or ``task="regression"`` on a non-numeric or constant target.
    """
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {list(TASKS)}. Got {task!r}.")
    values = _values(y)
    numeric = is_numeric_target(values)
    n_distinct = int(values.nunique())
    if task == "regression":
        if not numeric:
            bad = next((v for v in values if isinstance(v, (bool, np.bool_))
                        or not isinstance(v, (int, float, np.number))), None)
            raise ValueError(f"A regression needs a numeric target: {name!r} holds the non-numeric value {bad!r}.")
        if n_distinct < 2:
            raise ValueError(f"A regression needs a target that varies: {name!r} has {n_distinct} distinct value(s).")
        return "regression", ""
    if task == "classification":
        return "classification", ""
    if numeric and n_distinct > MAX_NUMERIC_CLASSES:
        return "regression", (
            f"The target {name!r} is numeric with {n_distinct} distinct values (more than "
            f"{MAX_NUMERIC_CLASSES}), so it is analysed as a number (regression); pass --task "
            "classification (task='classification') to treat its values as classes.")
    if numeric:
        return "classification", (
            f"The target {name!r} is numeric with only {n_distinct} distinct values (at most "
            f"{MAX_NUMERIC_CLASSES}), so its values are analysed as classes; pass --task regression "
            "(task='regression') to treat it as a number.")
    return "classification", ""
