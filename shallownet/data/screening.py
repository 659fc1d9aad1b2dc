"""Reading raw columns before they are encoded: missing-value tokens, numbers stored as text,
and identifier-like columns.

* **Missing-value tokens.** Text cells that mean "no value" in common exports (``''``,
  ``'NA'``, ``'N/A'``, ``'n/a'``, ``'NaN'``, ``'?'``, ``'.'``, ``'-'``, ``'null'``, ``'None'``;
  :data:`NA_VALUES`, matched after stripping blanks) are read as missing, like pandas'
  ``na_values``, and counted per column so that the missing-value policy applies to them
  and the report can say how many there were.
* **Numbers stored as text.** A text column whose every present cell parses as a number is a
  real column. One whose cells are MOSTLY numbers (more than half of the present cells) but not
  all is neither safely real nor safely categorical: it is refused with the offending values,
  their counts and the fixes (add them to ``na_values``, or declare the column).
* **Identifiers** (:func:`identifier_reason`): a text or categorical column with a distinct
  value in at least half of its (at least 20) present cells, or an integer column whose values
  are all distinct and dense (their span is less than twice the number of rows, as row
  numbers or sequential ids are). One-hot encoding the first gives about one column per
  row, which a network memorises; the second is a row number. Either is an identifier-like
  column, not a variable; the library warns, the command line drops it unless kept.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

NA_VALUES = ("", "NA", "N/A", "n/a", "NaN", "?", ".", "-", "null", "None")
"""Text cells read as missing by default (compared after stripping surrounding blanks)."""

IDENTIFIER_MIN_ROWS = 20
"""Columns with fewer present cells are never called identifier-like (too little evidence)."""

IDENTIFIER_SHARE = 0.5
"""A text column with distinct values in at least this share of its present cells is flagged."""


def check_na_values(na_values: Any) -> tuple[str, ...]:
    """Validate ``na_values``: None (the defaults :data:`NA_VALUES`) or a sequence of strings."""
    if na_values is None:
        return NA_VALUES
    if isinstance(na_values, str):
        na_values = [na_values]
    try:
        values = tuple(na_values)
    except TypeError:
        raise TypeError(
            f"`na_values` must be None (the default tokens) or a list of strings. Got {na_values!r}."
        ) from None
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise TypeError(f"`na_values` must hold strings. Got {bad[0]!r} ({type(bad[0]).__name__}).")
    return tuple(v.strip() for v in values)


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def replace_tokens(frame: pd.DataFrame, na_values: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    """``frame`` with missing-value tokens in its text columns replaced by NaN.

    Returns the new frame (the input is not modified) and ``{column: {token: count}}`` for the
    columns where tokens were found.
    """
    tokens = set(na_values)
    found: dict[str, dict[str, int]] = {}
    if not tokens:
        return frame, found
    out = frame
    for name in frame.columns:
        series = frame[name]
        if not _is_text(series):
            continue
        stripped = series.map(lambda v: v.strip() if isinstance(v, str) else v)
        hit = stripped.map(lambda v: isinstance(v, str) and v in tokens).to_numpy(dtype=bool)
        if hit.any():
            if out is frame:
                out = frame.copy()
            counts = stripped[hit].value_counts()
            found[str(name)] = {str(k): int(n) for k, n in counts.items()}
            out[name] = series.where(~hit, np.nan)
    return out, found


def numeric_text(series: pd.Series) -> tuple[np.ndarray | None, dict]:
    """Read a text column as numbers when it is one.

    Returns ``(values, offending)``: ``values`` (float, NaN where missing) when every present
    cell parses as a number, else None; ``offending`` is ``{value: count}`` of the cells that
    do not parse when they are a minority of the present cells (a column that is numeric apart
    from a few other values), else empty.
    """
    present = series.dropna()
    if len(present) == 0 or present.map(lambda v: isinstance(v, (bool, np.bool_))).any():
        return None, {}
    converted = pd.to_numeric(present, errors="coerce")
    bad = converted.isna().to_numpy()
    if not bad.any():
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float), {}
    if (~bad).sum() > 0.5 * len(present):
        counts = present[bad].astype(str).value_counts()
        return None, {str(k): int(n) for k, n in counts.items()}
    return None, {}


def offending_message(name: str, offending: dict, declared_real: bool) -> str:
    """The error for a column that is numeric apart from a few other values."""
    shown = dict(list(offending.items())[:8])
    more = f" and {len(offending) - 8} more" if len(offending) > 8 else ""
    head = (f"Column {name!r} is a real variable but contains non-numeric values"
            if declared_real else f"Column {name!r} is numeric apart from the values")
    return (
        f"{head} {shown}{more} (value: count). If they mean 'no value', add them to "
        f"na_values=[...] (command line: --na-values) so that the missing-value policy applies; "
        f"otherwise clean them, or declare the column categorical=[{name!r}] to one-hot encode "
        "every distinct value."
    )


def identifier_reason(series: pd.Series, kind: str) -> str | None:
    """Why ``series`` looks like an identifier (see the module docstring), or None.

    ``kind`` is the kind the encoder inferred for it ("real", "enumerated" or "binary"); a
    real column is checked by the integer rule when it holds integers (an integer dtype, or
    text that reads as integers), never when it holds other numbers.
    """
    present = series.dropna()
    n = len(present)
    if n < IDENTIFIER_MIN_ROWS or kind == "binary":
        return None
    if kind == "enumerated":
        distinct = present.astype(str).nunique()
        if distinct >= IDENTIFIER_SHARE * n:
            return f"{distinct} distinct values in {n} rows"
        return None
    if series.dtype.kind in "iu":
        values = present.to_numpy(dtype=float)
    elif _is_text(series):
        values = pd.to_numeric(present, errors="coerce").to_numpy(dtype=float)
        if np.isnan(values).any() or np.any(values != np.round(values)):
            return None
    else:
        return None
    if len(np.unique(values)) == n and values.max() - values.min() < 2 * n:
        return f"a different integer in every row, spanning {values.min():g}..{values.max():g}"
    return None


def identifier_columns(frame: pd.DataFrame, na_values: Sequence[str] = NA_VALUES,
                       skip: Sequence[str] = ()) -> dict[str, str]:
    """``{column: reason}`` of the identifier-like columns of ``frame`` (module docstring),
    leaving out the columns in ``skip``; missing-value tokens are read as missing first."""
    frame, _ = replace_tokens(frame, na_values)
    out = {}
    for name in frame.columns:
        if name in skip:
            continue
        series = frame[name]
        present = series.dropna()
        if series.dtype.kind == "b" or (len(present) and present.map(type).eq(bool).all()):
            continue
        if series.dtype.kind in "iuf":
            kind = "real"
        elif numeric_text(series)[0] is not None:
            kind = "real"
        else:
            kind = "enumerated"
        reason = identifier_reason(series, kind)
        if reason is not None:
            out[str(name)] = reason
    return out
