"""Interpretation side by side: what logistic regression and a network say about each variable.

The network's per-variable importances (Olden, Garson, mean partial derivative, expected
influence, ...) come in as plain numbers -- a table of variable x method -- so any method,
ours or another library's, can be held against the logistic regression's

* ``lr_coef``: the coefficient for a one-column variable in one contrast (signed: the change
  in log-odds over the variable's [0, 1] range, or of switching a binary on); for an
  enumerated variable, or over all contrasts of a multiclass model, the **log odds-ratio
  range** -- the largest change, over the variable's values and over pairs of classes
  (k, l), of ``log(p_k / p_l)`` (unsigned; invariant to the reference category and the base
  class);
* ``lr_wald``: the Wald chi-square that all of the variable's coefficients (in the contrast,
  or in all contrasts) are zero, ``b' V^-1 b`` with df the number of coefficients.

Beside a regression network the baseline is an OLS fit (:class:`~shallownet.baselines.LinearFit`),
which adds ``ols_t`` (``|t|``, or ``sqrt(F)`` of the group's Wald test for an enumerated
variable) and ``ols_standardised`` (the sd of the variable's fitted contribution over the sd of
y), both unsigned, in the single contrast ``"all"``.

Variables are ranked by absolute value (1 = largest; ties share the mean rank). Agreement
between two methods is Spearman's rho and Kendall's tau-b of the absolute values.
Disagreements are variables whose ranks differ by at least ``min_rank_gap``, and, where both
methods carry a sign, variables on which the signs differ.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_int
from ..results import Result
from .coefficients import CoefficientTable

OVERALL = "all"
LR_METHODS = ("lr_coef", "lr_wald")
OLS_METHODS = ("ols_t", "ols_standardised")


def logistic_importance(logistic: Any) -> pd.DataFrame:
    """Per-variable logistic-regression measures, overall and per contrast.

    Parameters
    ----------
    logistic : LogisticFit or CoefficientTable
        A maximum-likelihood fit (``fit_logistic(..., inference=True)``) or a network read
        as one (:func:`network_as_logistic`).

    Returns
    -------
    DataFrame
        One row per contrast (``"all"``, plus ``"k vs base"`` rows for K > 2) and variable:
        ``coef`` (see module docstring), ``signed``, ``log_or_range``, ``odds_ratio``
        (``exp(log_or_range)``), ``z`` (one-coefficient cases), ``wald_chi2``, ``wald_df``,
        ``wald_p``.
    """
    table = getattr(logistic, "coefficients", logistic)
    if not isinstance(table, CoefficientTable):
        raise TypeError(
            "`logistic` must be a LogisticFit with maximum-likelihood estimates or a "
            f"CoefficientTable. Got {type(logistic).__name__}."
        )
    design, params = table.design, table.params
    n_contrasts = params.shape[1]
    labels = table.contrasts
    rows = []
    for v in design.variables:
        J = design.columns_of(v.name)
        B = design.vertices_of(v) @ params[J]  # the variable's vertex values x contrasts
        full = np.hstack([np.zeros((B.shape[0], 1)), B])  # base class column
        pairs = itertools.combinations(range(full.shape[1]), 2)
        overall_range = max(np.ptp(full[:, k] - full[:, l]) for k, l in pairs)
        scopes = [(OVERALL, None)] + ([] if n_contrasts == 1 else [(lab, c) for c, lab in enumerate(labels)])
        for label, c in scopes:
            one_coef = len(J) == 1 and (c is not None or n_contrasts == 1)
            cc = 0 if c is None else c
            rng = overall_range if c is None else float(np.ptp(B[:, c]))
            chi2, df, p = table.wald(J, None if c is None else [c])
            rows.append(
                {
                    "contrast": label if c is not None else OVERALL,
                    "variable": v.name,
                    "kind": v.kind,
                    "coef": params[J[0], cc] if one_coef else rng,
                    "signed": one_coef,
                    "log_or_range": rng,
                    "odds_ratio": float(np.exp(rng)),
                    "z": table.zvalues[J[0], cc] if one_coef else np.nan,
                    "wald_chi2": chi2,
                    "wald_df": df,
                    "wald_p": p,
                }
            )
    return pd.DataFrame(rows)


def _long_importances(importances: Any) -> pd.DataFrame:
    """Normalise the accepted input shapes to (contrast, variable, method, value)."""
    if isinstance(importances, pd.DataFrame) and {"variable", "method", "value"} <= set(importances.columns):
        frame = importances.copy()
        if "contrast" not in frame.columns:
            frame["contrast"] = OVERALL
        frame = frame[["contrast", "variable", "method", "value"]]
    elif isinstance(importances, pd.DataFrame):
        frame = importances.rename_axis("variable").reset_index().melt(
            id_vars="variable", var_name="method", value_name="value"
        )
        frame["contrast"] = OVERALL
    elif isinstance(importances, Mapping):
        records = []
        for method, values in importances.items():
            if not isinstance(values, (Mapping, pd.Series)):
                raise TypeError(
                    f"`importances[{method!r}]` must map variable -> value. Got {type(values).__name__}."
                )
            records += [
                {"contrast": OVERALL, "variable": str(k), "method": str(method), "value": v}
                for k, v in dict(values).items()
            ]
        frame = pd.DataFrame(records, columns=["contrast", "variable", "method", "value"])
    else:
        raise TypeError(
            "`importances` must be a dict {method: {variable: value}}, a DataFrame with variables "
            "as index and methods as columns, or a long DataFrame with columns variable, method, "
            f"value (and optionally contrast). Got {type(importances).__name__}."
        )
    if frame.empty:
        raise ValueError("`importances` is empty.")
    frame["variable"] = frame["variable"].astype(str)
    frame["contrast"] = frame["contrast"].astype(str)
    frame["method"] = frame["method"].astype(str)
    values = pd.to_numeric(frame["value"], errors="coerce")
    if values.isna().any() or not np.all(np.isfinite(values)):
        bad = frame.loc[values.isna() | ~np.isfinite(values.fillna(0))].iloc[0]
        raise ValueError(
            f"`importances` must hold finite numbers; {bad['method']!r} gives {bad['value']!r} "
            f"for {bad['variable']!r}."
        )
    frame["value"] = values.astype(float)
    if frame.duplicated(["contrast", "variable", "method"]).any():
        dup = frame.loc[frame.duplicated(["contrast", "variable", "method"], keep=False)].iloc[0]
        raise ValueError(f"`importances` gives {dup['method']!r} twice for {dup['variable']!r}.")
    return frame


@dataclass(frozen=True, eq=False)
class SideBySideResult(Result):
    """Per-variable measures of several methods, their rank agreement and disagreements.

    Attributes
    ----------
    values : DataFrame
        Long table: contrast, variable, method, value, rank (1 = largest |value|), signed.
    agreement : DataFrame
        Per contrast and pair of methods: n, Spearman's rho and p, Kendall's tau-b and p.
    disagreements : DataFrame
        contrast, method_a, method_b, variable, kind ("rank" or "sign"), ranks and values.
    logistic : DataFrame or None
        :func:`logistic_importance` rows (odds ratios, z, Wald tests) when a fit was given.
    min_rank_gap : int
    """

    values: pd.DataFrame
    agreement: pd.DataFrame
    disagreements: pd.DataFrame
    logistic: pd.DataFrame | None
    min_rank_gap: int

    @property
    def methods(self) -> list[str]:
        """Method names, in input order (logistic measures last)."""
        return list(dict.fromkeys(self.values["method"]))

    @property
    def title(self) -> str:
        return "Variable importance side by side"

    def to_frame(self) -> pd.DataFrame:
        """One row per contrast and variable: each method's value and rank (and, with a
        logistic fit, its odds ratio over the range and Wald p-value)."""
        wide = self.values.pivot_table(index=["contrast", "variable"], columns="method", values=["value", "rank"], sort=False)
        wide.columns = [f"{m}" if kind == "value" else f"{m}_rank" for kind, m in wide.columns]
        order = [c for m in self.methods for c in (m, f"{m}_rank")]
        wide = wide[order].reset_index()
        if self.logistic is not None:
            extra = self.logistic[["contrast", "variable", "odds_ratio", "wald_p"]].rename(
                columns={"odds_ratio": "lr_odds_ratio", "wald_p": "lr_wald_p"}
            )
            wide = wide.merge(extra, on=["contrast", "variable"], how="left")
        return wide

    def summary(self, digits: int = 3) -> str:
        fmt = lambda v: f"{v:.{digits}g}"  # noqa: E731
        lines = [self.title, "=" * len(self.title)]
        with pd.option_context("display.width", 160, "display.max_columns", 40):
            lines.append(self.to_frame().to_string(index=False, float_format=fmt))
            lines += ["", "Rank agreement (absolute values)"]
            lines.append(self.agreement.to_string(index=False, float_format=fmt))
            lines += ["", f"Disagreements (rank gap >= {self.min_rank_gap}, or opposite signs)"]
            lines.append(
                self.disagreements.to_string(index=False, float_format=fmt)
                if len(self.disagreements) else "none"
            )
        return "\n".join(lines)


def _rank_correlations(a: np.ndarray, b: np.ndarray) -> dict:
    if len(a) < 3:
        return dict(spearman=np.nan, spearman_p=np.nan, kendall=np.nan, kendall_p=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: the correlation is undefined (NaN)
        rho = stats.spearmanr(a, b)
        tau = stats.kendalltau(a, b)
    return dict(
        spearman=float(rho.statistic), spearman_p=float(rho.pvalue),
        kendall=float(tau.statistic), kendall_p=float(tau.pvalue),
    )


def side_by_side(
    importances: Any,
    logistic: Any = None,
    *,
    signed: Sequence[str] = (),
    min_rank_gap: int = 2,
) -> SideBySideResult:
    """Hold per-variable importances of several methods side by side.

    Parameters
    ----------
    importances : dict or DataFrame
        ``{method: {variable: value}}``; or a DataFrame with variables as index and methods as
        columns; or a long DataFrame with columns ``variable``, ``method``, ``value`` and,
        for per-class-contrast values of a multiclass model, ``contrast`` (labels
        ``"k vs base"`` as in :func:`logistic_importance`). An enumerated variable is ONE
        variable: give one value for the group.
    logistic : LogisticFit, CoefficientTable or LinearFit, optional
        Adds the methods ``lr_coef`` and ``lr_wald`` (module docstring) for the same
        variables and contrasts; a :class:`LinearFit` (OLS, for a regression network) adds
        ``ols_t`` and ``ols_standardised`` instead.
    signed : sequence of str
        Methods whose sign means a direction (e.g. Olden, mean partial derivative); pairs of
        signed methods are checked for opposite signs. ``lr_coef`` is signed where it is a
        single coefficient.
    min_rank_gap : int
        A variable is listed as a rank disagreement when two methods' ranks differ by at
        least this much.

    Returns
    -------
    SideBySideResult
    """
    min_rank_gap = check_int("min_rank_gap", min_rank_gap, 1)
    frame = _long_importances(importances)
    if isinstance(signed, str):
        signed = [signed]
    unknown = sorted(set(signed) - set(frame["method"]))
    if unknown:
        raise ValueError(f"`signed` names methods {unknown} that are not in `importances`.")
    reserved = sorted(set(frame["method"]) & set(LR_METHODS))
    if reserved and logistic is not None:
        raise ValueError(f"Method names {reserved} are reserved for the logistic measures.")
    frame["signed"] = frame["method"].isin(list(signed))
    lr = None
    from .linear import LinearFit

    if isinstance(logistic, LinearFit):
        taken = sorted(set(frame["method"]) & set(OLS_METHODS))
        if taken:
            raise ValueError(f"Method names {taken} are reserved for the OLS measures.")
        ols = logistic.importance()
        added = [pd.DataFrame({"contrast": OVERALL, "variable": ols["variable"], "method": m,
                               "value": ols[col], "signed": False})
                 for m, col in (("ols_t", "abs_t"), ("ols_standardised", "standardised"))]
        frame = pd.concat([frame] + added, ignore_index=True)
        logistic = None
    if logistic is not None:
        lr = logistic_importance(logistic)
        known = sorted(set(lr["contrast"]))
        asked = sorted(set(frame["contrast"]))
        missing = [c for c in asked if c not in known]
        if missing:
            raise ValueError(
                f"`importances` has contrasts {missing} that the logistic fit does not; its "
                f"contrasts are {known}."
            )
        lr = lr[lr["contrast"].isin(asked)].reset_index(drop=True)
        added = [
            lr.assign(method="lr_coef", value=lr["coef"])[["contrast", "variable", "method", "value", "signed"]],
            lr.assign(method="lr_wald", value=lr["wald_chi2"], signed=False)[
                ["contrast", "variable", "method", "value", "signed"]
            ],
        ]
        frame = pd.concat([frame] + added, ignore_index=True)

    for contrast, part in frame.groupby("contrast", sort=False):
        sets = {m: set(g["variable"]) for m, g in part.groupby("method", sort=False)}
        reference_method, reference = next(iter(sets.items()))
        if lr is not None:
            reference_method, reference = "lr_coef", sets["lr_coef"]
        for m, s in sets.items():
            if s != reference:
                raise ValueError(
                    f"In contrast {contrast!r}, method {m!r} covers variables {sorted(s)} but "
                    f"{reference_method!r} covers {sorted(reference)}; every method must give "
                    "one value per variable (an enumerated variable is one variable)."
                )
    frame["rank"] = (
        frame.assign(size=frame["value"].abs())
        .groupby(["contrast", "method"])["size"]
        .rank(ascending=False, method="average")
    )

    agreement, disagreements = [], []
    for contrast, part in frame.groupby("contrast", sort=False):
        wide = part.pivot(index="variable", columns="method", values="value")
        ranks = part.pivot(index="variable", columns="method", values="rank")
        sign = part.pivot(index="variable", columns="method", values="signed")
        methods = list(dict.fromkeys(part["method"]))
        for a, b in itertools.combinations(methods, 2):
            va, vb = wide[a].to_numpy(), wide[b].to_numpy()
            agreement.append(
                {"contrast": contrast, "method_a": a, "method_b": b, "n": len(va),
                 **_rank_correlations(np.abs(va), np.abs(vb))}
            )
            for var in wide.index:
                ra, rb = ranks.at[var, a], ranks.at[var, b]
                base = {"contrast": contrast, "method_a": a, "method_b": b, "variable": var,
                        "rank_a": ra, "rank_b": rb, "value_a": wide.at[var, a], "value_b": wide.at[var, b]}
                if abs(ra - rb) >= min_rank_gap:
                    disagreements.append({**base, "kind": "rank"})
                if sign.at[var, a] and sign.at[var, b] and wide.at[var, a] * wide.at[var, b] < 0:
                    disagreements.append({**base, "kind": "sign"})
    columns = ["contrast", "method_a", "method_b", "variable", "kind", "rank_a", "rank_b", "value_a", "value_b"]
    return SideBySideResult(
        values=frame[["contrast", "variable", "method", "value", "rank", "signed"]].reset_index(drop=True),
        agreement=pd.DataFrame(agreement),
        disagreements=pd.DataFrame(disagreements, columns=columns),
        logistic=lr,
        min_rank_gap=min_rank_gap,
    )

