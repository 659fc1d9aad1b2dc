"""The whole analysis of a table with a numeric target: train, read, measure, compare with OLS.

:func:`analyze_regression` is the regression counterpart of :func:`shallownet.analysis.analyze`
(which dispatches here for a numeric target, see :mod:`shallownet.tasks`); it returns a
:class:`RegressionAnalysis` that :mod:`shallownet.report.regression` turns into the report.
Nothing here draws or prints.

Steps (each timed):

1. data: rows without a target are dropped (reported); a seeded, unstratified train/test split;
2. model: a bagged ensemble of :class:`~shallownet.ShallowNetRegressor` (linear output, the
   target standardised for training, every result in its raw units; rows with missing values
   and constant columns dropped and reported);
3. weights: weight tables, Garson, Olden (raw target units per raw input unit), Milne, hidden
   activity by quarters of the target;
4. influence: potential influence (range of the prediction) and expected influence
   ``E|f(x_i', x_-i) - f(x)|`` with the chosen conditional, in target units, and the MAE / RMSE
   bounds without each variable, on the complete training rows;
5. sensitivity: partial derivatives (training rows), grouped permutation importance as the drop
   in held-out R^2, partial dependence with ICE curves of the most influential variables;
6. baseline: OLS (statsmodels) on the same encoded variables, the held-out comparison (RMSE,
   MAE, R^2 with paired bootstrap intervals, paired t test of squared errors) and the
   per-variable side-by-side ranking with ``|t|`` and standardised coefficients.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from . import __version__
from ._first_screen_view import FirstScreenView
from .analysis import N_DEPENDENCE, drop_identifiers, split_table, usable_rows
from .baselines import compare, fit_linear, side_by_side
from .baselines.linear import check_numeric_target
from .devices import check_devices
from .interpret import (
    expected_influence,
    garson,
    hidden_activations,
    hidden_activity,
    milne,
    olden,
    partial_dependence,
    permutation_importance,
    sensitivity,
    weight_table,
)
from .training import ShallowNetRegressor

STEPS = ("data", "model", "weights", "influence", "sensitivity", "baseline")


@dataclass(frozen=True, eq=False, repr=False)
class RegressionAnalysis(FirstScreenView):
    """Everything :func:`analyze_regression` computed; each field is a result object or data.

    ``test_predictions`` are the network's predictions on the complete held-out rows
    (``X_test[test_rows]``), in raw target units; ``results["comparison"]`` holds them beside
    OLS's and ``y`` (its :meth:`residuals` are ``y - prediction``).
    """

    source: str
    target: str
    settings: dict
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    dropped_target_rows: int
    model: ShallowNetRegressor
    n_test_complete: int
    test_rows: np.ndarray
    results: dict
    notes: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    task = "regression"

    @property
    def test_metrics(self) -> dict:
        """The network's held-out RMSE, MAE and R^2 (from the comparison)."""
        frame = self.results["comparison"].to_frame().set_index("metric")
        return {m: float(frame.loc[m, "network"]) for m in ("rmse", "mae", "r2")}

    def variable_table(self) -> pd.DataFrame:
        """One row per variable: every per-variable figure of the analysis, in target units
        where the method has units (Olden per raw unit of the input as well)."""
        r = self.results
        frame = pd.DataFrame([{"variable": v.name, "kind": v.kind} for v in self.model.network_.variables])

        def join(values: pd.Series, name: str):
            nonlocal frame
            frame = frame.merge(values.rename(name), left_on="variable", right_index=True, how="left")

        join(r["garson"].to_frame().set_index("variable")["mean"], "garson")
        o = r["olden"].to_frame().set_index("variable")
        join(o["mean"].abs(), "olden_abs")
        join(o["mean_per_raw_unit"], "olden_per_raw_unit")
        join(r["milne"].to_frame().set_index("variable")["mean"].abs(), "milne_abs")
        s = r["sensitivity"].to_frame().set_index("variable")
        join(s["rms"], "pad_rms")
        join(s["mean_per_raw_unit"], "pad_mean_per_raw_unit")
        ei = r["expected"].to_frame().set_index("variable")
        for column in ("potential", "expected", "share", "marginal"):
            join(ei[column], {"marginal": "expected_marginal", "share": "expected_share"}.get(column, column))
        bounds = r["expected"].bounds().set_index("variable")
        join(bounds["mae_without_ub"], "mae_without_ub")
        join(bounds["rmse_without_ub"], "rmse_without_ub")
        join(r["permutation"].to_frame().set_index("variable")["importance_mean"], "permutation_r2")
        ols = r["linear"].importance().set_index("variable")
        join(ols["abs_t"], "ols_t")
        join(ols["standardised"], "ols_standardised")
        return frame


def regression_importances(table: pd.DataFrame) -> pd.DataFrame:
    """The network's per-variable importances for :func:`side_by_side`, in long form:
    Olden |CW| (target units over the variable's range), Garson, partial-derivative RMS,
    expected influence and the permutation drop in R^2."""
    rows = []
    for method, column in (("olden |CW|", "olden_abs"), ("garson", "garson"),
                           ("partial derivative rms", "pad_rms"), ("expected influence", "expected"),
                           ("permutation R^2 drop", "permutation_r2")):
        rows += [{"variable": v, "method": method, "value": x} for v, x in zip(table["variable"], table[column])]
    return pd.DataFrame(rows)


def fit_baseline_linear(X: pd.DataFrame, y: pd.Series, model: ShallowNetRegressor):
    """OLS on the network's own encoded variables, with a message naming the way out when the
    design is singular (e.g. two columns that are copies of each other)."""
    try:
        return fit_linear(X, y.to_numpy(dtype=float), encoder=model.encoder_)
    except ValueError as exc:
        raise ValueError(f"The OLS baseline cannot be fitted on these variables: {exc} "
                         "Leave redundant columns out (--drop COL).") from None


def numeric_target(y: Any, index: pd.Index) -> pd.Series:
    """The target as a float Series (missing values kept as NaN), or a clear ValueError."""
    series = pd.Series(np.asarray(y, dtype=object), index=index, name=getattr(y, "name", None) or "target")
    present = series.notna().to_numpy()
    check_numeric_target(series[present].to_numpy(), int(present.sum()))  # numbers, finite
    return series.astype(float)


def fit_regression(X: pd.DataFrame, y: pd.Series, *, hidden_layer_sizes, activation, n_members, max_iter,
                   optimizer, categorical, random_state, verbose, devices, real=None, missing="indicator",
                   fill="median", unknown="ignore", na_values=None) -> ShallowNetRegressor:
    """The bagged ensemble both ``analyze`` and ``compare`` fit on a numeric target (the
    encoder options as in :func:`shallownet.analysis.analyze`)."""
    return ShallowNetRegressor(
        hidden_layer_sizes=tuple(hidden_layer_sizes), activation=activation, n_members=n_members,
        max_iter=max_iter, optimizer=optimizer, categorical=list(categorical) if categorical else None,
        real=list(real) if real else None, missing=missing, fill=fill, unknown=unknown, na_values=na_values,
        constant="drop", bootstrap=n_members > 1, random_state=random_state, verbose=verbose, devices=devices,
    ).fit(X, y)


def compare_regression_split(X: pd.DataFrame, y: Any, *, test_size: float, n_bootstrap: int,
                             random_state: int, keep_columns=None, **model_options):
    """Split, fit the network and OLS, compare on the held-out rows the encoder can score
    (``compare``'s command for a numeric target). Returns ``(comparison, notes,
    training_mean)``, the last the mean of the target over the training rows."""
    y = numeric_target(y, X.index)
    keep = y.notna().to_numpy()
    notes = [f"Dropped {int((~keep).sum())} rows without a target value."] if (~keep).any() else []
    declared = [*(model_options.get("categorical") or []), *(model_options.get("real") or [])]
    X, id_notes = drop_identifiers(X, keep_columns, declared, model_options.get("na_values"))
    notes += id_notes
    X_train, X_test, y_train, y_test = split_table(X[keep], y[keep], test_size, random_state, stratify=False)
    model = fit_regression(X_train, y_train, random_state=random_state, **model_options)
    tr, te = usable_rows(model, X_train), usable_rows(model, X_test)
    linear = fit_baseline_linear(X_train[tr], y_train[tr], model)
    result = compare(model, X_test[te], y_test[te].to_numpy(), baseline=linear, n_bootstrap=n_bootstrap,
                     random_state=random_state)
    if (~te).any():
        notes.append(f"{int((~te).sum())} test rows the missing-value policy cannot encode were left out "
                     "of the comparison.")
    return result, notes, float(y_train.mean())


def analyze_regression(
    X: pd.DataFrame,
    y: Any,
    *,
    source: str = "data",
    hidden_layer_sizes: Sequence[int] = (8,),
    activation: str = "logistic",
    n_members: int = 8,
    max_iter: int = 500,
    optimizer: str = "auto",
    test_size: float = 0.25,
    categorical: Sequence[str] | None = None,
    conditional: str = "knn",
    n_bootstrap: int = 1000,
    information_plane: bool = False,
    random_state: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
    verbose: bool = False,
    devices: str | int = "auto",
    real: Sequence[str] | None = None,
    missing: str = "indicator",
    fill: str = "median",
    unknown: str = "ignore",
    na_values: Sequence[str] | None = None,
    keep: Sequence[str] | None = None,
) -> RegressionAnalysis:
    """Run the whole analysis of ``(X, y)`` with a numeric ``y``; see the module docstring.

    Parameters are those of :func:`shallownet.analysis.analyze`; ``y`` must be numeric
    (rows without a value are dropped and reported). ``information_plane`` must be False:
    the information plane measures I(T;Y) against class labels.

    Returns
    -------
    RegressionAnalysis
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"`X` must be a pandas DataFrame. Got {type(X).__name__}.")
    if not 0 < test_size < 1:
        raise ValueError(f"`test_size` must be between 0 and 1. Got {test_size!r}.")
    if information_plane:
        raise ValueError("The information plane needs class labels (I(T;Y) of a discrete target); "
                         "it is not available for a numeric target.")
    y = numeric_target(y, X.index)
    check_devices(devices)
    timings: dict[str, float] = {}
    results: dict[str, Any] = {}

    def step(name: str) -> float:
        if progress is not None:
            progress(name, STEPS.index(name), len(STEPS))
        return time.perf_counter()

    t = step("data")
    keep_columns = keep
    keep = y.notna().to_numpy()
    dropped_target = int((~keep).sum())
    notes = [f"Dropped {dropped_target} rows without a target value."] if dropped_target else []
    X, id_notes = drop_identifiers(X[keep], keep_columns, [*(categorical or []), *(real or [])], na_values)
    notes += id_notes
    X_train, X_test, y_train, y_test = split_table(X, y[keep], test_size, random_state, stratify=False)
    timings["data"] = time.perf_counter() - t

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = step("model")
        model = fit_regression(X_train, y_train, hidden_layer_sizes=hidden_layer_sizes, activation=activation,
                               n_members=n_members, max_iter=max_iter, optimizer=optimizer,
                               categorical=categorical, random_state=random_state, verbose=verbose,
                               devices=devices, real=real, missing=missing, fill=fill, unknown=unknown,
                               na_values=na_values)
        train_rows, test_rows = usable_rows(model, X_train), usable_rows(model, X_test)
        Xtr, ytr = X_train[train_rows], y_train[train_rows].to_numpy()
        Xte, yte = X_test[test_rows], y_test[test_rows].to_numpy()
        if (~test_rows).any():
            notes.append(f"{int((~test_rows).sum())} test rows the missing-value policy ({missing!r}, "
                         f"unknown={unknown!r}) cannot encode were left out of every held-out figure.")
        timings["model"] = time.perf_counter() - t

        t = step("weights")
        results["weights"] = weight_table(model)
        results["garson"] = garson(model)
        results["olden"] = olden(model)
        results["milne"] = milne(model)
        results["activity"] = hidden_activity(model, Xtr, ytr) if model.network_.hidden_sizes else None
        results["activations"] = hidden_activations(model, Xtr, ytr) if model.network_.hidden_sizes else None
        timings["weights"] = time.perf_counter() - t

        t = step("influence")
        results["expected"] = expected_influence(model, Xtr, ytr, conditional=conditional)
        timings["influence"] = time.perf_counter() - t

        t = step("sensitivity")
        results["sensitivity"] = sensitivity(model, Xtr)
        results["permutation"] = permutation_importance(model, Xte, yte, scoring="r2", random_state=random_state)
        ranked = results["expected"].to_frame().sort_values("expected", ascending=False)["variable"]
        results["dependence"] = [partial_dependence(model, Xtr, v) for v in ranked.iloc[:N_DEPENDENCE]]
        timings["sensitivity"] = time.perf_counter() - t

        t = step("baseline")
        linear = fit_baseline_linear(Xtr, y_train[train_rows], model)
        results["linear"] = linear
        results["comparison"] = compare(model, Xte, yte, baseline=linear, n_bootstrap=n_bootstrap,
                                        random_state=random_state)
        analysis = RegressionAnalysis(source, str(y.name), {}, X_train, X_test, y_train, y_test, dropped_target,
                                      model, int(test_rows.sum()), test_rows, results)
        results["side_by_side"] = side_by_side(regression_importances(analysis.variable_table()), linear)
        timings["baseline"] = time.perf_counter() - t
    notes.extend(dict.fromkeys(str(w.message) for w in caught))

    settings = {
        "task": "regression", "hidden_layer_sizes": list(hidden_layer_sizes), "activation": activation,
        "n_members": n_members, "max_iter": max_iter, "bootstrap_members": n_members > 1,
        "test_size": test_size, "conditional": conditional, "n_bootstrap": n_bootstrap,
        "random_state": random_state, "shallownet": __version__,
    }
    return RegressionAnalysis(source, str(y.name), settings, X_train, X_test, y_train, y_test, dropped_target,
                              model, int(test_rows.sum()), test_rows, results, notes, timings)

