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
