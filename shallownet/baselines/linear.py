"""Ordinary least squares on the network's own variables: the regression baseline.

The design is the one of :mod:`shallownet.baselines.design`: a constant, real variables on
their [0, 1] training scale, binary variables as one 0/1 column, enumerated variables as
one-hot columns without a reference category. statsmodels fits

    y = D beta + e,    beta_hat = argmin ||y - D beta||^2,

with model-based (``cov_type="nonrobust"``: ``s^2 (D'D)^-1``) or heteroskedasticity-consistent
(``"HC0"`` .. ``"HC3"``) standard errors, R^2 and the overall F test of every coefficient but
the constant. Coefficients are reported per encoded unit (the change in y from a real
variable's training minimum to its maximum) and per raw unit (divided by the training range).

Importance beside a network (:meth:`LinearFit.importance`), per variable:

* ``abs_t``: ``|t|`` of a real or binary variable; for an enumerated variable with several
  design columns ``sqrt(F)`` of the Wald test that all its contrasts are zero (the same scale:
  for one column ``F = t^2``);
* ``standardised``: the standard deviation over the training cases of the variable's fitted
  contribution ``D_g beta_g``, divided by the standard deviation of y. For a real variable
  this is ``|beta| sd(x) / sd(y)``, the absolute standardised coefficient; for an enumerated
  variable it does not depend on the reference category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._validation import check_float, check_one_of
from ..data.encoder import Encoder
from ..results import Result
from .design import Design, build_design, check_full_rank
from .logistic import _encode

LINEAR_COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


def check_numeric_target(y: Any, n_rows: int) -> np.ndarray:
    """A 1-D finite numeric target as float64 ``(n,)``, with scikit-learn-style messages."""
    if y is None:
        raise ValueError("A regression needs a target: `y` is None.")
    arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"`y` must be 1-D (n_samples,). Got shape {arr.shape} instead.")
    if len(arr) != n_rows:
        raise ValueError(f"`X` has {n_rows} rows but `y` has {len(arr)}; they must match.")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"`y` must be numeric for a regression. Got dtype {arr.dtype}.") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`y` contains NaN or infinity (first at row {int(np.argmin(np.isfinite(arr)))}).")
    return arr


@dataclass(frozen=True, eq=False, repr=False)
class LinearFit(Result):
    """An OLS fit on the network's variables (module docstring).

    Attributes
    ----------
    design : Design
    encoder : Encoder
    params, bse, tvalues, pvalues : ndarray (p,)
        Per design column (constant first), per encoded unit.
    conf_int : ndarray (p, 2)
    cov_type : str
    level : float
    rsquared, rsquared_adj, fvalue, f_pvalue, rmse : float
        ``rmse`` is the root mean squared residual on the training rows (divisor n).
    n_obs : int
    y_sd : float
        Standard deviation of the training target (ddof 0).
    contributions_sd : dict of str -> float
        Standard deviation of each variable's fitted contribution (ddof 0).
    wald : dict of str -> (F, df, p)
        Wald test that all of a variable's coefficients are zero.
    """

    design: Design
    encoder: Encoder
    params: np.ndarray
    bse: np.ndarray
    tvalues: np.ndarray
    pvalues: np.ndarray
    conf_int: np.ndarray
    cov_type: str
    level: float
    rsquared: float
    rsquared_adj: float
    fvalue: float
    f_pvalue: float
    rmse: float
    n_obs: int
    y_sd: float
    contributions_sd: dict
    wald: dict

    @property
    def title(self) -> str:
        return f"Linear regression (OLS, {self.n_obs} cases, {self.cov_type} errors)"

    @property
    def per_raw_unit(self) -> np.ndarray:
        """Coefficients per raw unit of each design column (real variables divided by their
        training range; constant, binary, category and indicator columns unchanged)."""
        return self.params / self.design.raw_units

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``D(X) beta`` for raw inputs ``X`` (encoded with :attr:`encoder`)."""
        return self.design.matrix(self.encoder.transform(X)) @ self.params

    def to_frame(self) -> pd.DataFrame:
        """One row per design column: coefficient (encoded and raw units), standard error,
        t, p and the confidence interval."""
        return pd.DataFrame(
            {
                "term": list(self.design.names), "variable": list(self.design.owners),
                "coef": self.params, "coef_per_raw_unit": self.per_raw_unit, "se": self.bse,
                "t": self.tvalues, "p": self.pvalues,
                "ci_low": self.conf_int[:, 0], "ci_high": self.conf_int[:, 1],
            }
        )

    def importance(self) -> pd.DataFrame:
        """One row per variable: ``abs_t`` and ``standardised`` (module docstring), with the
        Wald test of the variable."""
        rows = []
        for v in self.design.variables:
            cols = self.design.columns_of(v.name)
            F, df, p = self.wald[v.name]
            abs_t = float(abs(self.tvalues[cols[0]])) if len(cols) == 1 else float(np.sqrt(F))
            rows.append({"variable": v.name, "kind": v.kind, "abs_t": abs_t,
                         "standardised": self.contributions_sd[v.name] / self.y_sd,
                         "wald_F": F, "wald_df": df, "wald_p": p})
        return pd.DataFrame(rows)

    def summary(self, digits: int = 3) -> str:
        text = super().summary(digits)
        return (f"{text}\n\nR^2 = {self.rsquared:.{digits}g} (adjusted {self.rsquared_adj:.{digits}g}), "
                f"F = {self.fvalue:.{digits}g} (p = {self.f_pvalue:.{digits}g}), "
                f"RMSE = {self.rmse:.{digits}g}, n = {self.n_obs}")


def fit_linear(
    X: Any,
    y: Any,
    *,
    encoder: Encoder | None = None,
    reference: Mapping[str, Any] | None = None,
    cov_type: str = "nonrobust",
    level: float = 0.95,
    categorical=None,
    missing: str = "error",
    constant: str = "error",
    real=None,
    fill: str = "median",
    unknown: str = "error",
    na_values=None,
) -> LinearFit:
    """Fit ordinary least squares on the same variables as a network.

    Parameters
    ----------
    X : DataFrame or array (n, d)
        Raw inputs, as given to :class:`shallownet.ShallowNetRegressor`.
    y : array-like (n,)
        Numeric target.
    encoder : Encoder, optional
        A fitted encoder (e.g. ``reg.encoder_``) so that both models see identical variables.
        Default: fit a new one with ``categorical``, ``missing`` and ``constant``.
    reference : dict, optional
        Reference category per enumerated variable (default: the first).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}
        Model-based or heteroskedasticity-consistent standard errors (statsmodels' names).
    level : float in (0, 1)
        Confidence level of the intervals.
    categorical, missing, constant, real, fill, unknown, na_values :
        Passed to a new :class:`Encoder`, as in :func:`shallownet.fit_logistic`
        (``missing="indicator"``: a real variable with missing values enters the design as its
        value column and its indicator column). With a given ``encoder``, rows are encoded by
        its own policy when it was fitted with ``missing="indicator"``; otherwise
        ``missing="drop"`` drops rows with missing values (reported) before encoding.

    Returns
    -------
    LinearFit

    Raises
    ------
    ValueError
        On a singular design, a non-numeric or non-finite target, or bad arguments.
    """
    import statsmodels.api as sm

    check_one_of("cov_type", cov_type, LINEAR_COV_TYPES)
    level = check_float("level", level, 0.0, 1.0, open_min=True, open_max=True)
    check_one_of("missing", missing, ("error", "drop", "indicator"))
    n_rows = len(X) if isinstance(X, pd.DataFrame) else (np.shape(X)[0] if np.ndim(X) >= 1 else 0)
    target = check_numeric_target(y, n_rows)
    options = dict(real=real, fill=fill, unknown=unknown, na_values=na_values)
    encoder, Z, keep = _encode(X, encoder, categorical, missing, constant, options)
    target = target[keep]
    design = build_design(encoder.variables_, reference)
    D = design.matrix(Z)
    check_full_rank(D, design.names)
    if D.shape[0] <= D.shape[1]:
        raise ValueError(
            f"OLS needs more cases than coefficients: {D.shape[0]} cases, {D.shape[1]} coefficients."
        )
    result = sm.OLS(target, D).fit(cov_type=cov_type)
    params = np.asarray(result.params, dtype=float)
    contributions, wald = {}, {}
    for v in design.variables:
        cols = design.columns_of(v.name)
        contributions[v.name] = float(np.std(D[:, cols] @ params[cols]))
        R = np.zeros((len(cols), D.shape[1]))
        R[np.arange(len(cols)), cols] = 1.0
        test = result.f_test(R)
        wald[v.name] = (float(np.squeeze(test.fvalue)), len(cols), float(test.pvalue))
    return LinearFit(
        design=design, encoder=encoder, params=params, bse=np.asarray(result.bse, float),
        tvalues=np.asarray(result.tvalues, float), pvalues=np.asarray(result.pvalues, float),
        conf_int=np.asarray(result.conf_int(alpha=1 - level), float), cov_type=cov_type,
        level=level, rsquared=float(result.rsquared), rsquared_adj=float(result.rsquared_adj),
        fvalue=float(np.squeeze(result.fvalue)), f_pvalue=float(result.f_pvalue),
        rmse=float(np.sqrt(np.mean(result.resid**2))), n_obs=int(D.shape[0]),
        y_sd=float(np.std(target)), contributions_sd=contributions, wald=wald,
    )
