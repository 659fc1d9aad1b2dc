"""Small HTML fragments for notebooks: a compact, escaped table of a DataFrame.

Used by :meth:`shallownet.results.Result._repr_html_` (Jupyter shows a result object as an
HTML table) and by :mod:`shallownet.report.notebook`. No dependency beyond pandas: a
notebook needs no IPython import to call ``_repr_html_``.
"""

from __future__ import annotations

import html
import math
import numbers

import numpy as np
import pandas as pd

MAX_ROWS = 20
"""Rows shown of each table (a note gives the total)."""

DIGITS = 4
"""Significant figures of every float shown."""

def format_value(value, digits: int = DIGITS) -> str:
    """One cell as text: floats to ``digits`` significant figures, integers and booleans as
    they are, a missing value (None, NaN) as an empty string, anything else ``str()``."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return ""
        return f"{value:.{digits}g}"
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # arrays, lists: not a scalar missing value
        pass
    return str(value)


def table_html(frame: pd.DataFrame, max_rows: int = MAX_ROWS, digits: int = DIGITS, caption: str = "") -> str:
    """``frame`` as an HTML table (its index left out, as in ``summary()``): at most
    ``max_rows`` rows with a "first N of M rows" note, every header and cell escaped, numbers
    to ``digits`` significant figures (:func:`format_value`), in a horizontally scrolling box."""
    shown = frame.head(max_rows)
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_value(v, digits))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False, name=None)
    )
    note = f"first {len(shown)} of {len(frame)} rows" if len(frame) > len(shown) else ""
    words = "; ".join(t for t in (caption, note) if t)
    foot = f'<p style="margin:0 0 .6em;color:#5b6475;font-size:11px">{html.escape(words)}</p>' if words else ""
    # class "dataframe": the notebook styles it as it styles pandas' own tables
    return (f'<div style="overflow-x:auto;max-width:100%"><table class="dataframe" border="0">'
            f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>{foot}")


def figures_html(figures: list[tuple[str, str]]) -> str:
    """Key figures ``(label, value)`` as one line of ``label: value`` pairs (escaped)."""
    if not figures:
        return ""
    items = " · ".join(f"{html.escape(label)}: <b>{html.escape(value)}</b>" for label, value in figures)
    return f'<p style="margin:.2em 0 .4em;font-size:12px">{items}</p>'
