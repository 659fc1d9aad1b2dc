"""The base of every result object: frozen, with ``to_frame()``, ``summary()`` and ``to_dict()``."""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd


def to_jsonable(value: Any) -> Any:
    """Turn NumPy/pandas values into plain JSON types (NaN and infinity become None)."""
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict())
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclasses.dataclass(frozen=True)
class Result(abc.ABC):
    """Base class of result objects.

    Subclasses are frozen dataclasses that hold NumPy arrays and labels, implement
    :meth:`to_frame`, and may override :attr:`title` and :meth:`summary`.

    In a Jupyter notebook a result shows itself as HTML (:meth:`_repr_html_`): the title, its
    key figures (:meth:`_html_figures`) and its tables (:meth:`_html_tables`, by default the
    one of :meth:`to_frame`); subclasses with more than one table override the latter.
    """

    @property
    def title(self) -> str:
        """A one-line heading for summaries and reports."""
        return type(self).__name__

    @abc.abstractmethod
    def to_frame(self) -> pd.DataFrame:
        """The result as a tidy DataFrame (one row per variable, layer, epoch, ... as fits)."""

    def summary(self, digits: int = 3) -> str:
        """Plain-text summary: the title and the table."""
        frame = self.to_frame()
        with pd.option_context("display.width", 120, "display.max_columns", 30):
            table = frame.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
        return f"{self.title}\n{'=' * len(self.title)}\n{table}"

    def to_dict(self) -> dict:
        """JSON-ready content: the title and the table's records."""
        return {"title": self.title, "table": to_jsonable(self.to_frame())}

    def __repr__(self) -> str:
        return self.summary()

    def _html_figures(self) -> list[tuple[str, str]]:
        """The key figures shown above the tables, ``(label, value)``: by default every field
        that holds one number, flag or short label (arrays and tables are left to the tables).
        """
        from ._html import format_value

        out = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (bool, int, float, np.generic)) or (isinstance(value, str) and len(value) <= 60):
                text = format_value(value)
                if text:
                    out.append((f.name, text))
        return out

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The tables shown, ``(caption, frame)``, main one first: by default :meth:`to_frame`."""
        return [("", self.to_frame())]

    def _repr_html_(self, max_rows: int | None = None, digits: int | None = None) -> str:
        """HTML for notebooks (Jupyter calls this to display the object): the title, the key
        figures and each table, at most ``max_rows`` rows each (default 20, with a "first 20
        of N rows" note), numbers to ``digits`` significant figures (default 4), everything
        escaped. Needs no IPython.

        Returns
        -------
        str
            An HTML fragment (no scripts, inline styles only).
        """
        import html

        from ._html import DIGITS, MAX_ROWS, figures_html, table_html

        max_rows = MAX_ROWS if max_rows is None else max_rows
        digits = DIGITS if digits is None else digits
        parts = [f'<div class="shallownet-result"><p style="margin:.3em 0;font-weight:600">'
                 f"{html.escape(self.title)}</p>", figures_html(self._html_figures())]
        for caption, frame in self._html_tables():
            parts.append(table_html(frame, max_rows=max_rows, digits=digits, caption=caption))
        parts.append("</div>")
        return "".join(parts)
