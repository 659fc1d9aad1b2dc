"""Coefficient tables: estimates, standard errors, Wald tests and odds ratios.

One table serves the maximum-likelihood logistic regression (:func:`fit_logistic`) and a
zero-hidden-layer network read as one (:func:`network_as_logistic`), so the two can be laid
side by side column for column.

For design column j and contrast c (class c against the base class, the first class):

* ``z = beta / se``, two-sided ``p = 2 (1 - Phi(|z|))``, interval ``beta +- z_{1-a/2} se``;
* odds ratio ``exp(beta)`` with interval ``exp(interval)``: on the [0, 1] encoding this is the
  factor on the odds of moving a real variable from its training minimum to its maximum, or
  of switching a category on against the reference category;
* per raw unit of a real variable: ``exp(beta / scale)`` with ``scale = max - min`` (and the
  interval divided the same way); for categories, binaries and missingness indicators a raw
  unit is the switch, so it equals the per-range odds ratio;
* per interquartile range of a real variable (:meth:`CoefficientTable.odds_ratios`):
  ``exp(beta * IQR / scale)``, the factor on the odds between a typical low and a typical high
  value (IQR in raw units, from the rows the model was fitted on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..results import Result
from .design import CONSTANT, Design


def raw_iqr(X: pd.DataFrame, variables) -> dict[str, float]:
    """Interquartile range in raw units of each real variable of ``variables`` over the rows of
    ``X`` (missing values and missing-value tokens ignored)."""
    out = {}
    for v in variables:
        if v.kind == "real":
            values = pd.to_numeric(X[v.name], errors="coerce").to_numpy(dtype=float)
            q1, q3 = np.nanpercentile(values, [25, 75]) if np.isfinite(values).any() else (np.nan, np.nan)
            out[v.name] = float(q3 - q1)
    return out


def contrast_labels(classes: np.ndarray) -> list[str]:
    """Labels ``"k vs base"`` of the K - 1 contrasts against the first class."""
    base = classes[0]
    return [f"{c} vs {base}" for c in classes[1:]]


@dataclass(frozen=True, eq=False)
class CoefficientTable(Result):
    """Estimates and their covariance in the logistic-regression parametrisation.

    Attributes
    ----------
    design : Design
        The design columns (constant first, one reference category dropped per group).
    classes : ndarray (K,)
        Class labels; contrasts are ``classes[k] vs classes[0]``, k = 1 .. K-1.
    params : ndarray (p, K - 1)
        Coefficients, one column per contrast.
    cov : ndarray (p (K - 1), p (K - 1))
        Covariance of ``params`` flattened contrast by contrast (``params.ravel(order="F")``).
    cov_type : str
        Where ``cov`` comes from (``"nonrobust"``, ``"HC0"``, ``"stata"``, ``"network hessian"``).
    level : float
        Confidence level of the intervals.
    n_obs : int
        Rows the estimates rest on.
    source : str
        What produced the estimates (for the title).
    """

    design: Design
    classes: np.ndarray
    params: np.ndarray
    cov: np.ndarray
    cov_type: str
    level: float
    n_obs: int
    source: str = "logistic regression"

    @property
    def title(self) -> str:
        return f"Coefficients ({self.source}, {self.cov_type} standard errors)"

    @property
    def contrasts(self) -> list[str]:
        """Contrast labels, one per column of :attr:`params`."""
        return contrast_labels(self.classes)

    @property
    def bse(self) -> np.ndarray:
        """Standard errors, shape (p, K - 1)."""
        return np.sqrt(np.diag(self.cov)).reshape(self.params.shape, order="F")

    @property
    def zvalues(self) -> np.ndarray:
        """Wald z statistics ``beta / se``."""
        return self.params / self.bse

    @property
    def pvalues(self) -> np.ndarray:
        """Two-sided normal p-values of the Wald z statistics."""
        return 2.0 * stats.norm.sf(np.abs(self.zvalues))

    def conf_int(self) -> np.ndarray:
        """Wald intervals, shape (p, K - 1, 2)."""
        q = stats.norm.ppf(0.5 + self.level / 2)
        half = q * self.bse
        return np.stack([self.params - half, self.params + half], axis=-1)

    def wald(self, columns, contrasts=None) -> tuple[float, int, float]:
        """Joint Wald test that the given coefficients are all zero.

        ``chi2 = b' V^-1 b`` over design ``columns`` (positions) in ``contrasts`` (positions,
        default all), with ``df`` the number of coefficients; returns ``(chi2, df, p)``.
        """
        p = self.params.shape[0]
        contrasts = range(self.params.shape[1]) if contrasts is None else contrasts
        idx = np.array([c * p + j for c in contrasts for j in columns], dtype=int)
        b = self.params.ravel(order="F")[idx]
        V = self.cov[np.ix_(idx, idx)]
        chi2 = float(b @ np.linalg.solve(V, b))
        return chi2, len(idx), float(stats.chi2.sf(chi2, len(idx)))

    def odds_ratios(self, iqr: dict[str, float]) -> pd.DataFrame:
        """Odds ratios in the units a statistician reports, one row per slope and contrast.

        A real variable's value column: per raw unit, ``exp(beta / scale)``, and per
        interquartile range, ``exp(beta * iqr / scale)`` (``iqr`` in raw units, e.g. from
        :func:`raw_iqr`); a category against the reference category, a binary variable's 1
        against 0, and a missingness indicator (missing against a known value at the fill
        value): ``exp(beta)``. Intervals are the Wald intervals transformed the same way.

        Parameters
        ----------
        iqr : dict
            ``{variable: interquartile range}`` for the real variables.

        Returns
        -------
        DataFrame
            contrast, variable, comparison (what the odds ratio compares), or_per_unit and its
            interval, iqr, or_per_iqr and its interval (real value columns only), p_value.
        """
        real_value = {v.columns[0]: v for v in self.design.variables if v.kind == "real"}
        ci, pv = self.conf_int(), self.pvalues
        rows = []
        with np.errstate(over="ignore"):
            for c, label in enumerate(self.contrasts):
                for j, (name, owner) in enumerate(zip(self.design.names, self.design.owners)):
                    if owner == CONSTANT:
                        continue
                    b, lo, hi = self.params[j, c], ci[j, c, 0], ci[j, c, 1]
                    v = real_value.get(self.design.encoded[j])
                    row = {"contrast": label, "variable": owner}
                    if v is not None:
                        q = iqr.get(owner, np.nan)
                        row.update(comparison=f"per unit (IQR {q:.4g})", or_per_unit=np.exp(b / v.scale),
                                   or_low=np.exp(lo / v.scale), or_high=np.exp(hi / v.scale), iqr=q,
                                   or_per_iqr=np.exp(b * q / v.scale), iqr_low=np.exp(lo * q / v.scale),
                                   iqr_high=np.exp(hi * q / v.scale))
                    else:
                        what = (f"{name.split('=', 1)[1]} vs {self.design.references[owner]}" if owner in
                                self.design.references else "missing vs known" if name.endswith("=missing")
                                else "1 vs 0")
                        row.update(comparison=what, or_per_unit=np.exp(b), or_low=np.exp(lo), or_high=np.exp(hi),
                                   iqr=np.nan, or_per_iqr=np.nan, iqr_low=np.nan, iqr_high=np.nan)
                    row["p_value"] = pv[j, c]
                    rows.append(row)
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per design column and contrast: estimate, test, interval, odds ratios."""
        units = self.design.raw_units
        ci = self.conf_int()
        se, z, pv = self.bse, self.zvalues, self.pvalues
        rows = []
        # exp of a huge coefficient is inf; fit_logistic warns about such coefficients by name.
        with np.errstate(over="ignore"):
            self._rows(rows, units, ci, se, z, pv)
        return pd.DataFrame(rows)

    def _rows(self, rows, units, ci, se, z, pv) -> None:
        for c, label in enumerate(self.contrasts):
            for j, (name, owner) in enumerate(zip(self.design.names, self.design.owners)):
                s = units[j]
                b, lo, hi = self.params[j, c], ci[j, c, 0], ci[j, c, 1]
                rows.append(
                    {
                        "contrast": label,
                        "variable": owner,
                        "column": name,
                        "coef": b,
                        "se": se[j, c],
                        "z": z[j, c],
                        "p_value": pv[j, c],
                        "ci_low": lo,
                        "ci_high": hi,
                        "odds_ratio": np.exp(b),
                        "or_low": np.exp(lo),
                        "or_high": np.exp(hi),
                        "raw_unit": s,
                        "or_per_unit": np.exp(b / s),
                        "or_per_unit_low": np.exp(lo / s),
                        "or_per_unit_high": np.exp(hi / s),
                    }
                )
