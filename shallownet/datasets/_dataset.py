"""The container every dataset loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """A tabular classification dataset.

    Attributes
    ----------
    X : DataFrame
        The input variables.
    y : Series
        The class labels.
    description : str
        Where the data come from and what each column is.
    ground_truth : dict
        For synthetic data, the facts an analysis should recover (coefficients, closed-form
        influence values, true importance ranking).
    """

    X: pd.DataFrame
    y: pd.Series
    description: str = ""
    ground_truth: dict = field(default_factory=dict)

    @property
    def frame(self) -> pd.DataFrame:
        """Inputs and target in one DataFrame (target last)."""
        return pd.concat([self.X, self.y], axis=1)

    def __iter__(self):
        """Unpack as ``X, y = dataset``."""
        return iter((self.X, self.y))
