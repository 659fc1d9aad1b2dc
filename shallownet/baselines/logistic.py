"""Logistic regression on the network's own variables: inference and prediction.

:func:`fit_logistic` fits two models on the same encoded variables a network sees:

1. **Inference** (statsmodels ``Logit`` for two classes, ``MNLogit`` for more): the
   maximum-likelihood fit on the design of :mod:`shallownet.baselines.design` (a constant;
   one reference category dropped per enumerated group). It gives coefficients, standard
   errors (model-based, or robust on request), Wald z and p, intervals, odds ratios per
   [0, 1] range and per raw unit, the likelihood-ratio test against the constant-only model,
   McFadden's pseudo-R2 ``1 - llf / llnull`` and average marginal effects.
2. **Prediction**: scikit-learn's ``LogisticRegressionCV`` with an L2 penalty (Newton-Cholesky
   solver), ``C`` chosen by stratified K-fold cross-validation on the log-loss, on ALL encoded columns (no
   reference dropped: under a penalty the one-hot encoding is symmetric in the categories).
   :meth:`LogisticFit.predict_proba` uses it unless asked for the MLE.

Robust errors: ``cov_type="HC0"`` is the sandwich ``H^-1 (sum_i s_i s_i') H^-1`` with no
small-sample factor; ``cov_type="stata"`` is what Stata's ``logit, vce(robust)`` reports, HC0
times ``n / (n - 1)`` on the variance (``sqrt(n / (n - 1))`` on the errors). statsmodels'
``"HC1"`` for discrete models is numerically HC0, so it is not offered under that name.

Failures are explained, not traced: a singular design names the collinear columns;
(quasi-)complete separation is found by a linear programme before fitting
(:mod:`shallownet.baselines.separation`) and raises :class:`SeparationError` naming the
variables and remedies; a Newton fit that does not converge warns with remedies; a nearly
singular information matrix (statsmodels' ``LinAlgError`` included) raises
:class:`LogisticFitError` naming the nearly collinear columns; and a fit that "converges" on
a nearly collinear design (a column's variance inflation factor above :data:`VIF_LIMIT`) or
to slopes beyond :data:`COEF_LIMIT` warns with a :class:`CollinearityWarning` naming them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold

from .._validation import check_float, check_int, check_one_of, check_random_state
from ..data.encoder import DataWarning, Encoder
from ..results import Result
from ..training.estimator import check_target
from .coefficients import CoefficientTable, contrast_labels
from .design import CONSTANT, Design, build_design, check_full_rank
from .separation import find_separation

COV_TYPES = ("nonrobust", "HC0", "stata")


class SeparationError(ValueError):
    """The maximum-likelihood estimates do not exist: some variables separate the classes."""


class LogisticFitError(ValueError):
    """The maximum-likelihood fit gave no usable covariance (near-singular information)."""


class CollinearityWarning(UserWarning):
    """Design columns are nearly collinear, or a coefficient is implausibly large: the
    maximum-likelihood estimates of those columns are unreliable; the message names them."""


VIF_LIMIT = 1e4
"""A design column whose variance inflation factor ``1 / (1 - R_j^2)`` exceeds this is
reported as nearly collinear (R_j^2 of the column regressed on the others above 0.9999)."""

COEF_LIMIT = 30.0
"""A slope beyond this on the [0, 1] scale (an odds ratio of e^30 ~ 1e13 across a variable's
training range) is reported as implausible (near-collinearity or near-separation)."""


def variance_inflation(D: np.ndarray) -> np.ndarray:
    """Variance inflation factors of the non-constant design columns, ``diag(R^-1)`` with
    ``R`` their correlation matrix (1 for a single column; inf for an exact dependence)."""
    X = D[:, 1:]
    if X.shape[1] < 2:
        return np.ones(X.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.corrcoef(X, rowvar=False)
    if not np.all(np.isfinite(R)):
        return np.full(X.shape[1], np.inf)
    try:
        return np.abs(np.diag(np.linalg.inv(R)))
    except np.linalg.LinAlgError:
        return np.full(X.shape[1], np.inf)


def _collinear_columns(D: np.ndarray, names) -> list[str]:
    vif = variance_inflation(D)
    return [f"{names[j + 1]} (VIF {v:.3g})" for j, v in enumerate(vif) if v > VIF_LIMIT]


@dataclass(frozen=True, eq=False)
class LogisticFit(Result):
    """A logistic regression on the network's variables (see the module docstring).

    Attributes
    ----------
    encoder : Encoder
        The fitted encoder (the same variables as the network when passed from it).
    design : Design
        Design columns and the reference category of each enumerated variable.
    classes : ndarray (K,)
        Class labels; contrasts are against ``classes[0]``.
    n_obs : int
        Rows used.
    coefficients : CoefficientTable or None
        Maximum-likelihood estimates (None with ``inference=False``).
    llf, llnull : float or None
        Log-likelihood of the model and of the constant-only model.
    df_model : int or None
        Number of slope coefficients ``(p - 1)(K - 1)``.
    converged : bool or None
        Whether Newton's method converged.
    marginal_effects : DataFrame or None
        Average marginal effects ``mean_i dP(class)/dx`` per design column and class, on the
        [0, 1] scale and per raw unit (a linear approximation for 0/1 columns).
    penalised : LogisticRegressionCV
        The L2-penalised fit used for prediction, on all encoded columns.
    C : float
        The penalty chosen by cross-validation (``sum NLL + ||w||^2 / (2 C)``).
    statsmodels_result : object or None
        The statsmodels results object, for anything not surfaced here.
    """

    encoder: Encoder
    design: Design
    classes: np.ndarray
    n_obs: int
    coefficients: CoefficientTable | None
    llf: float | None
    llnull: float | None
    df_model: int | None
    converged: bool | None
    marginal_effects: pd.DataFrame | None
    penalised: Any
    C: float
    statsmodels_result: Any = None

    # -- sklearn-like prediction ------------------------------------------------------------
    @property
    def classes_(self) -> np.ndarray:
        """Class labels (scikit-learn's name)."""
        return self.classes

    @property
    def references(self) -> dict:
        """Reference (dropped) category of every enumerated variable."""
        return dict(self.design.references)

    def predict_proba(self, X: Any, which: str = "penalised") -> np.ndarray:
        """Class probabilities ``(n, K)`` of raw data ``X``.

        ``which="penalised"`` (default) uses the cross-validated penalised fit;
        ``which="mle"`` the maximum-likelihood coefficients.
        """
        check_one_of("which", which, ("penalised", "mle"))
        Z = self.encoder.transform(X)
        if which == "penalised":
            return self.penalised.predict_proba(Z)
        if self.coefficients is None:
            raise ValueError("This fit has no maximum-likelihood estimates (inference=False).")
        eta = self.design.matrix(Z) @ self.coefficients.params
        eta = np.column_stack([np.zeros(len(eta)), eta])
        return _softmax(eta)

    def predict(self, X: Any, which: str = "penalised") -> np.ndarray:
        """Predicted class labels."""
        return self.classes[self.predict_proba(X, which).argmax(axis=1)]

    # -- inference summaries ----------------------------------------------------------------
    def _require_mle(self) -> CoefficientTable:
        if self.coefficients is None:
            raise ValueError(
                "This fit has no maximum-likelihood estimates; refit with inference=True."
            )
        return self.coefficients

    @property
    def lr_test(self) -> dict:
        """Likelihood-ratio test against the constant-only model: statistic, df, p-value."""
        self._require_mle()
        stat = 2.0 * (self.llf - self.llnull)
        return {"statistic": stat, "df": self.df_model, "p_value": float(stats.chi2.sf(stat, self.df_model))}

    @property
    def pseudo_r2(self) -> float:
        """McFadden's pseudo-R2, ``1 - llf / llnull``."""
        self._require_mle()
        return 1.0 - self.llf / self.llnull

    def penalised_coefficients(self) -> pd.DataFrame:
        """Coefficients of the penalised fit on the encoded columns (one row per column and
        contrast; for K > 2 softmax coefficients are shown as differences from class 0)."""
        coef = np.asarray(self.penalised.coef_)
        intercept = np.asarray(self.penalised.intercept_)
        if coef.shape[0] > 1:
            coef = (coef[1:] - coef[0]).copy()
            intercept = intercept[1:] - intercept[0]
        names = [CONSTANT] + list(self.encoder.column_names_)
        owners = [CONSTANT] + [v.name for v in self.encoder.variables_ for _ in range(v.width)]
        rows = []
        for c, label in enumerate(contrast_labels(self.classes)):
            values = np.concatenate([[intercept[c]], coef[c]])
            rows += [
                {"contrast": label, "variable": o, "column": n, "coef": b}
                for n, o, b in zip(names, owners, values)
            ]
        return pd.DataFrame(rows)

    def variable_tests(self, X: Any, y: Any) -> pd.DataFrame:
        """Likelihood-ratio test of each variable: the model refitted without it.

        ``chi2 = 2 (llf - llf_without)`` on the rows ``(X, y)`` the model was fitted on, with
        ``df`` the number of coefficients dropped (the variable's design columns times the
        K - 1 contrasts). With maximum-likelihood estimates both fits are statsmodels MLEs and
        ``p_value`` is the chi-square tail. Without them (``inference=False``, e.g. under
        separation) both are penalised fits at the chosen ``C`` and ``chi2`` is the increase
        in deviance (log-likelihood without the penalty) when the variable is left out, an
        unsigned measure of its weight with no p-value (NaN). Unsigned and comparable across
        variables of any kind, it is the logistic importance the report holds against
        expected influence.

        Returns
        -------
        DataFrame
            One row per variable: variable, kind, chi2, df, p_value, method.
        """
        from sklearn.linear_model import LogisticRegression

        Z = self.encoder.transform(X, report=False)
        yi = pd.Index(self.classes).get_indexer(np.asarray(y))
        if len(yi) != Z.shape[0] or (yi < 0).any():
            raise ValueError(f"`y` must hold one label among the fit's classes {list(self.classes)} per row of `X`.")
        K = len(self.classes)
        rows = []
        if self.coefficients is not None:
            D = self.design.matrix(Z)
            for v in self.design.variables:
                keep = [j for j in range(D.shape[1]) if j not in self.design.columns_of(v.name)]
                reduced, _ = _statsmodels_fit(D[:, keep], yi, K, "nonrobust", 100)
                chi2 = max(2.0 * (self.llf - float(reduced.llf)), 0.0)
                df = (D.shape[1] - len(keep)) * (K - 1)
                rows.append({"variable": v.name, "kind": v.kind, "chi2": chi2, "df": df,
                             "p_value": float(stats.chi2.sf(chi2, df)), "method": "likelihood ratio"})
            return pd.DataFrame(rows)

        def loglik(model, Zs) -> float:
            p = model.predict_proba(Zs)[np.arange(len(yi)), yi]
            return float(np.log(np.clip(p, 1e-300, None)).sum())

        def fit(Zs):
            return LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=1000).fit(Zs, yi)

        full = loglik(self.penalised, Z)
        for v in self.design.variables:
            keep = [c for c in range(Z.shape[1]) if c not in v.columns]
            Zs = Z[:, keep]
            ll = loglik(fit(Zs), Zs) if keep else float(np.log(np.bincount(yi, minlength=K)[yi] / len(yi)).sum())
            rows.append({"variable": v.name, "kind": v.kind, "chi2": max(2.0 * (full - ll), 0.0),
                         "df": len(self.design.columns_of(v.name)) * (K - 1), "p_value": np.nan,
                         "method": f"penalised deviance (C = {self.C:.3g})"})
        return pd.DataFrame(rows)

    @property
    def title(self) -> str:
        kind = "binary" if len(self.classes) == 2 else "multinomial"
        return f"Logistic regression ({kind}, n = {self.n_obs})"

    def to_frame(self) -> pd.DataFrame:
        """The maximum-likelihood coefficient table (see :class:`CoefficientTable`); the
        penalised coefficients when the fit was made with ``inference=False``."""
        if self.coefficients is None:
            return self.penalised_coefficients()
        return self.coefficients.to_frame()

    def summary(self, digits: int = 3) -> str:
        lines = [self.title, "=" * len(self.title)]
        if self.references:
            refs = ", ".join(f"{k} = {v!r}" for k, v in self.references.items())
            lines.append(f"Reference categories (dropped): {refs}")
        lines.append(f"Penalised fit for prediction: L2, C = {self.C:.4g} (cross-validated log-loss)")
        if self.coefficients is not None:
            lr = self.lr_test
            lines += [
                f"Standard errors: {self.coefficients.cov_type}; intervals at {self.coefficients.level:.0%}",
                f"Log-likelihood {self.llf:.{digits + 2}g} (null {self.llnull:.{digits + 2}g}); "
                f"LR chi2({lr['df']}) = {lr['statistic']:.{digits + 1}g}, p = {lr['p_value']:.{digits}g}; "
                f"McFadden pseudo-R2 = {self.pseudo_r2:.{digits}g}",
            ]
            if not self.converged:
                lines.append("WARNING: the maximum-likelihood fit did not converge.")
            cols = ["contrast", "column", "coef", "se", "z", "p_value", "odds_ratio", "or_low", "or_high", "or_per_unit"]
            frame = self.coefficients.to_frame()[cols]
        else:
            lines.append("No maximum-likelihood inference (inference=False).")
            frame = self.penalised_coefficients()
        with pd.option_context("display.width", 140, "display.max_columns", 30):
            lines.append(frame.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}"))
        return "\n".join(lines)


def _softmax(eta: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a (n, K) array, computed stably."""
    eta = eta - eta.max(axis=1, keepdims=True)
    e = np.exp(eta)
    return e / e.sum(axis=1, keepdims=True)


def fit_logistic(
    X: Any,
    y: Any,
    *,
    encoder: Encoder | None = None,
    reference: Mapping[str, Any] | None = None,
    cov_type: str = "nonrobust",
    level: float = 0.95,
    inference: bool = True,
    Cs: int = 10,
    cv: int = 5,
    categorical=None,
    missing: str = "error",
    constant: str = "error",
    real=None,
    fill: str = "median",
    unknown: str = "error",
    na_values=None,
    max_iter: int = 100,
    random_state: int | None = 0,
) -> LogisticFit:
    """Fit logistic regression on the same variables as a network.

    Parameters
    ----------
    X : DataFrame or array (n, d)
        Raw inputs, as given to :class:`shallownet.ShallowNetClassifier`.
    y : array-like (n,)
        Class labels (two or more classes).
    encoder : Encoder, optional
        A fitted encoder, e.g. ``clf.encoder_`` of a fitted network, so that both models see
        identical variables (same training ranges, same categories). Default: fit a new one
        with ``categorical``, ``missing`` and ``constant``.
    reference : dict, optional
        ``{variable: category}`` reference category per enumerated variable (default: the
        first category). The choice changes the coefficients of that group, not the fit.
    cov_type : {"nonrobust", "HC0", "stata"}
        Model-based errors (inverse information), the sandwich HC0, or HC0 times
        ``n / (n - 1)`` on the variance as Stata's ``vce(robust)``.
    level : float in (0, 1)
        Confidence level of the intervals.
    inference : bool
        False skips the maximum-likelihood fit (and the separation check) and fits only the
        penalised model for prediction.
    Cs : int
        Number of penalties ``C`` on a log grid from 1e-4 to 1e4 tried by cross-validation.
    cv : int
        Stratified folds for choosing ``C``.
    categorical, missing, constant, real, fill, unknown, na_values :
        Passed to a new :class:`Encoder` (``missing="indicator"``: a real variable with
        missing values enters the design as its value column and its indicator column, an
        enumerated one with a ``missing`` category). With a given ``encoder``, rows are encoded
        by its own policy when it was fitted with ``missing="indicator"``; otherwise
        ``missing="drop"`` drops rows with missing values (reported) before encoding.
    max_iter : int
        Newton iterations for the maximum-likelihood fit.
    random_state : int or None
        Seed of the fold shuffle.

    Returns
    -------
    LogisticFit

    Raises
    ------
    SeparationError
        When (quasi-)complete separation makes the maximum-likelihood estimates infinite.
    LogisticFitError
        When the information matrix is (nearly) singular: no standard errors exist.
    ValueError
        On a singular design (collinear columns) or bad arguments.

    Warns
    -----
    CollinearityWarning
        Nearly collinear design columns, or slopes beyond ``COEF_LIMIT``.
    """
    check_one_of("cov_type", cov_type, COV_TYPES)
    level = check_float("level", level, 0.0, 1.0, open_min=True, open_max=True)
    if not isinstance(inference, (bool, np.bool_)):
        raise TypeError(f"`inference` must be True or False. Got {inference!r}.")
    Cs = check_int("Cs", Cs, 1)
    cv = check_int("cv", cv, 2)
    max_iter = check_int("max_iter", max_iter, 1)
    seed = check_random_state(random_state)
    check_one_of("missing", missing, ("error", "drop", "indicator"))

    n_rows = len(X) if isinstance(X, pd.DataFrame) else (np.shape(X)[0] if np.ndim(X) >= 1 else 0)
    classes, y_index = check_target(y, n_rows)
    options = dict(real=real, fill=fill, unknown=unknown, na_values=na_values)
    encoder, Z, keep = _encode(X, encoder, categorical, missing, constant, options)
    y_index = y_index[keep]
    K = len(classes)
    counts = np.bincount(y_index, minlength=K)
    if counts.min() == 0:
        absent = [classes[k] for k in np.flatnonzero(counts == 0)]
        raise ValueError(f"After dropping rows with missing values, classes {absent} have no rows.")
    if counts.min() < cv:
        raise ValueError(
            f"`cv={cv}` folds need at least {cv} rows of every class; class "
            f"{classes[counts.argmin()]!r} has {counts.min()}. Pass a smaller cv."
        )

    design = build_design(encoder.variables_, reference)
    if inference:  # diagnose before any fitting
        D = design.matrix(Z)
        check_full_rank(D, design.names)
        separation = find_separation(D, y_index, K)
        if separation is not None:
            alone = [
                v.name for v in encoder.variables_
                if find_separation(D[:, [0] + design.columns_of(v.name)], y_index, K) is not None
            ]
            raise SeparationError(_separation_message(separation, design, alone, len(y_index)))
    # Newton-Cholesky: exact Newton steps, few iterations even at large C (near separation).
    penalised = LogisticRegressionCV(
        Cs=Cs, l1_ratios=(0.0,), cv=StratifiedKFold(cv, shuffle=True, random_state=seed),
        scoring="neg_log_loss", solver="newton-cholesky", max_iter=1000,
        use_legacy_attributes=False,
    ).fit(Z, y_index)
    common = dict(
        encoder=encoder, design=design, classes=classes, n_obs=int(len(y_index)),
        penalised=penalised, C=float(np.ravel(penalised.C_)[0]),
    )
    if not inference:
        return LogisticFit(
            coefficients=None, llf=None, llnull=None, df_model=None, converged=None,
            marginal_effects=None, **common,
        )

    collinear = _collinear_columns(D, design.names)
    singular = (
        "The information matrix is (nearly) singular, so standard errors cannot be computed"
        + (f"; nearly collinear columns: {collinear}" if collinear else "")
        + ". Look for near-collinear variables or categories with very few rows, and drop or "
        "merge them; or use inference=False for prediction only."
    )
    try:
        result, converged = _statsmodels_fit(D, y_index, K, cov_type, max_iter)
        n = len(y_index)
        factor = n / (n - 1) if cov_type == "stata" else 1.0
        params = np.asarray(result.params, dtype=float).reshape(design.n_columns, K - 1, order="F")
        cov = np.asarray(result.cov_params(), dtype=float) * factor
    except np.linalg.LinAlgError:
        raise LogisticFitError(singular) from None
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        raise LogisticFitError(singular)
    huge = sorted({design.names[j] for j in range(1, design.n_columns)
                   if np.any(np.abs(params[j]) > COEF_LIMIT)})
    if collinear or huge:
        warnings.warn(
            "The maximum-likelihood coefficients are unreliable: "
            + (f"nearly collinear design columns {collinear}" if collinear else "")
            + ("; " if collinear and huge else "")
            + (f"coefficients beyond +-{COEF_LIMIT:g} on the [0, 1] scale (odds ratios beyond "
               f"1e13, possibly infinite) for {huge}" if huge else "")
            + ". Drop one of each group of near-duplicate variables, merge rare categories, or "
            "rely on the penalised fit (inference=False).",
            CollinearityWarning,
            stacklevel=2,
        )
    if not converged:
        warnings.warn(
            f"The maximum-likelihood fit did not converge in max_iter={max_iter} Newton "
            "iterations; estimates, standard errors and tests may be unreliable. Remedies: "
            "raise max_iter; look for near-separation (a variable or category that almost "
            "predicts a class) or near-collinear variables and drop or merge them; or rely on "
            "the penalised fit (predict_proba) for prediction.",
            ConvergenceWarning,
            stacklevel=2,
        )
    table = CoefficientTable(design, classes, params, cov, cov_type, level, n)
    try:
        effects = _marginal_effects(result, design, classes, level, np.sqrt(factor))
    except np.linalg.LinAlgError:
        raise LogisticFitError(singular) from None
    return LogisticFit(
        coefficients=table,
        llf=float(result.llf),
        llnull=float(result.llnull),
        df_model=int(round(result.df_model)),
        converged=converged,
        marginal_effects=effects,
        statsmodels_result=result,
        **common,
    )


def _encode(X, encoder, categorical, missing, constant, options):
    """Encode ``X``; return ``(encoder, Z, kept_rows)``."""
    if encoder is None:
        encoder = Encoder(categorical, options["real"], missing, constant, fill=options["fill"],
                          unknown=options["unknown"], na_values=options["na_values"])
        Z = encoder.fit_transform(X)
        return encoder, Z, encoder.kept_rows_
    if not isinstance(encoder, Encoder) or not hasattr(encoder, "variables_"):
        raise TypeError(
            "`encoder` must be a fitted shallownet Encoder (e.g. a fitted network's "
            f"`encoder_`). Got {type(encoder).__name__}."
        )
    if encoder.missing == "indicator":  # the encoder's own policy encodes every row
        Z = encoder.transform(X)
        return encoder, Z, np.ones(Z.shape[0], dtype=bool)
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    keep = ~frame.isna().any(axis=1).to_numpy()
    if not keep.all():
        if missing == "error":
            raise ValueError(
                f"`X` has {int((~keep).sum())} rows with missing values. Drop them, or pass "
                "missing='drop' (the number dropped is reported)."
            )
        warnings.warn(f"Dropped {int((~keep).sum())} of {len(keep)} rows with missing values.", DataWarning, stacklevel=3)
        X = X.loc[keep] if isinstance(X, pd.DataFrame) else np.asarray(X)[keep]
    return encoder, encoder.transform(X), keep


def _statsmodels_fit(D, y_index, K, cov_type, max_iter):
    """Newton fit with statsmodels; returns ``(result, converged)`` with its warnings muted
    (convergence is reported by the caller, in our words)."""
    import statsmodels.api as sm

    model = sm.Logit(y_index.astype(float), D) if K == 2 else sm.MNLogit(y_index, D)
    sm_cov = "nonrobust" if cov_type == "nonrobust" else "HC0"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(method="newton", maxiter=max_iter, disp=0, cov_type=sm_cov)
    return result, bool(result.mle_retvals.get("converged", False))


def _marginal_effects(result, design: Design, classes, level, se_factor) -> pd.DataFrame:
    """Average marginal effects ``mean_i dP_k/dx_j`` with delta-method errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = result.get_margeff(at="overall", method="dydx")
    eff = np.asarray(m.margeff, dtype=float)
    se = np.asarray(m.margeff_se, dtype=float) * se_factor
    if eff.ndim == 1:  # binary: effect on P(classes[1])
        eff, se = eff[:, None], se[:, None]
        labels = [classes[1]]
    else:
        labels = list(classes)
    q = stats.norm.ppf(0.5 + level / 2)
    scale = {v.name: v.scale for v in design.variables}
    rows = []
    for k, label in enumerate(labels):
        for j, (name, owner) in enumerate(zip(design.names[1:], design.owners[1:])):
            e, s = eff[j, k], se[j, k]
            rows.append(
                {
                    "class": label,
                    "variable": owner,
                    "column": name,
                    "dydx": e,
                    "se": s,
                    "z": e / s,
                    "p_value": 2.0 * stats.norm.sf(abs(e / s)),
                    "ci_low": e - q * s,
                    "ci_high": e + q * s,
                    "dydx_per_unit": e / scale[owner],
                }
            )
    return pd.DataFrame(rows)


def _separation_message(sep, design: Design, alone: list[str], n: int) -> str:
    variables = sorted({design.owners[j] for j in sep.columns if design.owners[j] != CONSTANT})
    kind = "complete" if len(sep.separated_rows) == n else "quasi-complete"
    culprits = (
        f"{alone} separate the classes on their own"
        if alone
        else f"no variable does it alone; the combination found involves {variables}"
    )
    return (
        f"Perfect ({kind}) separation: {culprits}. Along the separating direction "
        f"{len(sep.separated_rows)} of {n} rows are predicted exactly, so the maximum-likelihood "
        "coefficients are infinite and their standard errors, tests and odds ratios are "
        "meaningless. Remedies: drop those variables or merge the categories involved (a "
        "category seen in some classes only is the usual cause); collect more data; or fit for "
        "prediction only with fit_logistic(..., inference=False), which uses the "
        "cross-validated penalised model (a penalty keeps the coefficients finite). Firth's "
        "bias-reduced likelihood would give finite estimates but is not part of shallownet."
    )
