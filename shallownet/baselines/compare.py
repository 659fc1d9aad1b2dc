"""A network and a baseline on the same cases: metrics, intervals, paired tests, curves.

:func:`compare` scores two fitted models on held-out data; :func:`compare_cv` refits both
on the same stratified folds and scores the pooled out-of-fold predictions, with the
per-fold figures beside them. Both return a :class:`ComparisonResult`.

What the numbers say (and do not): the bootstrap interval of a difference and McNemar's and
DeLong's tests measure uncertainty from the finite evaluation sample, with the fitted models
held fixed. They do not say how the comparison would change with another training sample;
the spread of the per-fold differences of :func:`compare_cv` speaks to that (folds share
training cases, so that spread understates the variance too). See
``theory/logistic-baseline.md``.
"""

from __future__ import annotations

import warnings

from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from .._validation import check_float, check_int, check_random_state
from ..models.adapters import as_network
from ..results import Result, to_jsonable
from .bootstrap import paired_bootstrap, percentile_interval, point_metrics, stack_inputs
from .logistic import fit_logistic
from .metrics import (
    HIGHER_IS_BETTER,
    METRICS,
    calibration_table,
    check_labels,
    check_probabilities,
    evaluate,
    metric_inputs,
)
from .paired_tests import PairedTest, delong, mcnemar


@dataclass(frozen=True, eq=False)
class ComparisonResult(Result):
    """Two models scored on the same cases.

    Attributes
    ----------
    names : (str, str)
        Model names, first the network (A), then the baseline (B).
    classes : ndarray (K,)
    n_obs : int
        Cases scored.
    level : float
        Confidence level of every interval.
    n_bootstrap : int
        Bootstrap resamples behind the intervals.
    metrics : DataFrame
        One row per metric: each model's value and percentile interval, the difference
        A - B with its paired bootstrap interval, ``higher_is_better`` and ``better`` (the
        model whose interval for the difference excludes 0 in its favour, else "neither").
        Cross-validated results add the mean and SD over folds of the difference.
    tests : dict name -> PairedTest
        ``"mcnemar"`` always; ``"delong"`` for two classes.
    calibration : dict name -> DataFrame
        Reliability table of each model (see :func:`metrics.calibration_table`).
    roc : dict name -> dict class -> (fpr, tpr, thresholds)
        ROC curve per model; the positive class for two classes, one vs rest otherwise.
    setting : str
        How the cases were obtained (held out, or out of fold).
    per_fold : DataFrame or None
        Cross-validation only: one row per fold and metric.
    """

    names: tuple
    classes: np.ndarray
    n_obs: int
    level: float
    n_bootstrap: int
    metrics: pd.DataFrame
    tests: dict
    calibration: dict
    roc: dict
    setting: str
    per_fold: pd.DataFrame | None = None

    @property
    def title(self) -> str:
        a, b = self.names
        return f"{a} vs {b}: {self.setting}, n = {self.n_obs}"

    def to_frame(self) -> pd.DataFrame:
        """The metrics table (one row per metric)."""
        return self.metrics.copy()

    def to_dict(self) -> dict:
        """JSON-ready content: the metrics table, the paired tests, the calibration tables and,
        for cross-validation, the per-fold table."""
        out = super().to_dict()
        out.update(
            names=list(self.names),
            setting=self.setting,
            n_obs=self.n_obs,
            level=self.level,
            n_bootstrap=self.n_bootstrap,
            tests={k: to_jsonable(t.to_frame().iloc[0].to_dict()) for k, t in self.tests.items()},
            calibration={k: to_jsonable(v) for k, v in self.calibration.items()},
        )
        if self.per_fold is not None:
            out["per_fold"] = to_jsonable(self.per_fold)
        return out

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The metrics, then the paired tests (one row each) and, for cross-validation, the
        per-fold table."""
        a, b = self.names
        out = [(f"Differences are {a} - {b}, with {self.level:.0%} paired bootstrap intervals.", self.to_frame())]
        if self.tests:
            out.append(("Paired tests.", pd.concat([t.to_frame() for t in self.tests.values()], ignore_index=True)))
        if self.per_fold is not None:
            out.append(("Per fold.", self.per_fold))
        return out

    def difference(self, metric: str) -> tuple[float, float, float]:
        """``(difference, low, high)`` of one metric."""
        row = self.metrics.set_index("metric").loc[metric]
        return float(row["difference"]), float(row["diff_low"]), float(row["diff_high"])

    def summary(self, digits: int = 3) -> str:
        a, b = self.names
        lines = [self.title, "=" * len(self.title)]
        lines.append(
            f"Differences are {a} - {b}, with {self.level:.0%} paired, class-stratified "
            f"bootstrap intervals ({self.n_bootstrap} resamples; models held fixed)."
        )
        with pd.option_context("display.width", 160, "display.max_columns", 30):
            lines.append(self.metrics.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}"))
        for test in self.tests.values():
            d = test.details
            if test.test == "McNemar":
                lines.append(
                    f"McNemar ({test.method}): {a} right / {b} wrong on {d['b']} cases, the "
                    f"reverse on {d['c']}; p = {test.p_value:.{digits}g}"
                )
            else:
                lines.append(
                    f"DeLong: AUC {d['auc_a']:.{digits}g} vs {d['auc_b']:.{digits}g}, difference "
                    f"{d['difference']:.{digits}g} (se {d['se']:.{digits}g}), z = "
                    f"{test.statistic:.{digits}g}, p = {test.p_value:.{digits}g}"
                )
        return "\n".join(lines)


def _classes_of(model) -> np.ndarray:
    for attr in ("classes_", "classes"):
        value = getattr(model, attr, None)
        if value is not None:
            return np.asarray(value)
    raise TypeError(f"`baseline` ({type(model).__name__}) has no `classes_`; pass a fitted classifier.")


def _aligned_proba(model, X, classes: np.ndarray, name: str) -> np.ndarray:
    """``model.predict_proba(X)`` with columns reordered to ``classes``."""
    if not hasattr(model, "predict_proba"):
        raise TypeError(f"`{name}` must have predict_proba; got {type(model).__name__}.")
    own = _classes_of(model)
    if sorted(map(str, own.tolist())) != sorted(map(str, classes.tolist())) or len(own) != len(classes):
        raise ValueError(
            f"`{name}` predicts classes {list(own)}, but the network predicts {list(classes)}; "
            "both models must be fitted on the same labels."
        )
    position = {str(c): k for k, c in enumerate(own.tolist())}
    proba = np.asarray(model.predict_proba(X), dtype=float)
    return proba[:, [position[str(c)] for c in classes.tolist()]]


def _check_names(names) -> tuple[str, str]:
    if isinstance(names, str) or len(names) != 2 or len(set(map(str, names))) != 2:
        raise ValueError(f"`names` must be two different names. Got {names!r}.")
    return str(names[0]), str(names[1])


def _roc_curves(y_index: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict:
    from sklearn.metrics import roc_curve

    ks = [1] if len(classes) == 2 else range(len(classes))
    return {classes[k]: roc_curve(y_index == k, proba[:, k]) for k in ks}


def compare_probabilities(
    y_index: np.ndarray,
    classes: np.ndarray,
    proba_a: np.ndarray,
    proba_b: np.ndarray,
    *,
    names=("network", "logistic"),
    n_bootstrap: int = 2000,
    level: float = 0.95,
    n_bins: int = 10,
    random_state: int | None = 0,
    setting: str = "held-out data",
    per_fold: pd.DataFrame | None = None,
) -> ComparisonResult:
    """The comparison from two probability matrices on the same cases (the common core of
    :func:`compare` and :func:`compare_cv`; usable directly for any two models)."""
    names = _check_names(names)
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 1)
    level = check_float("level", level, 0.0, 1.0, open_min=True, open_max=True)
    n_bins = check_int("n_bins", n_bins, 1)
    seed = check_random_state(random_state)
    K, n = len(classes), len(y_index)
    proba_a = check_probabilities("proba_a", proba_a, n, K)
    proba_b = check_probabilities("proba_b", proba_b, n, K)
    inputs = stack_inputs(metric_inputs(y_index, proba_a, n_bins), metric_inputs(y_index, proba_b, n_bins))
    point = point_metrics(inputs, n, n_bins)  # (models, metrics)
    boot = paired_bootstrap(inputs, y_index, n_bootstrap, jax.random.PRNGKey(seed), n_bins)
    lo, hi = percentile_interval(boot, level)  # (models, metrics)
    dlo, dhi = percentile_interval(boot[:, 0] - boot[:, 1], level)
    rows = []
    for j, m in enumerate(METRICS):
        diff = point[0, j] - point[1, j]
        up = HIGHER_IS_BETTER[m]
        if dlo[j] > 0:
            better = names[0] if up else names[1]
        elif dhi[j] < 0:
            better = names[1] if up else names[0]
        else:
            better = "neither"
        rows.append(
            {
                "metric": m,
                "higher_is_better": up,
                names[0]: point[0, j], f"{names[0]}_low": lo[0, j], f"{names[0]}_high": hi[0, j],
                names[1]: point[1, j], f"{names[1]}_low": lo[1, j], f"{names[1]}_high": hi[1, j],
                "difference": diff, "diff_low": dlo[j], "diff_high": dhi[j],
                "better": better,
            }
        )
    metrics = pd.DataFrame(rows)
    if per_fold is not None:
        spread = per_fold.groupby("metric", sort=False)["difference"].agg(["mean", "std"])
        metrics["fold_mean_difference"] = metrics["metric"].map(spread["mean"])
        metrics["fold_sd_difference"] = metrics["metric"].map(spread["std"])
    correct_a = proba_a.argmax(axis=1) == y_index
    correct_b = proba_b.argmax(axis=1) == y_index
    tests: dict[str, PairedTest] = {"mcnemar": mcnemar(correct_a, correct_b)}
    if K == 2:
        n_pos = int(np.sum(y_index == 1))
        if min(n_pos, n - n_pos) >= 2:
            tests["delong"] = delong(y_index == 1, proba_a[:, 1], proba_b[:, 1], level=level)
        else:
            warnings.warn(
                f"DeLong's test of the AUC difference is left out: the {n} cases hold {n_pos} of "
                f"class {classes[1]!r} and {n - n_pos} of class {classes[0]!r}; it needs at least "
                "2 of each (hold out more rows).",
                UserWarning,
                stacklevel=2,
            )
    return ComparisonResult(
        names=names,
        classes=np.asarray(classes),
        n_obs=n,
        level=level,
        n_bootstrap=n_bootstrap,
        metrics=metrics,
        tests=tests,
        calibration={nm: calibration_table(y_index, p, n_bins) for nm, p in zip(names, (proba_a, proba_b))},
        roc={nm: _roc_curves(y_index, p, classes) for nm, p in zip(names, (proba_a, proba_b))},
        setting=setting,
        per_fold=per_fold,
    )


def compare(
    model: Any,
    X_test: Any,
    y_test: Any,
    baseline: Any = None,
    *,
    X_train: Any = None,
    y_train: Any = None,
    n_bootstrap: int = 2000,
    level: float = 0.95,
    n_bins: int = 10,
    random_state: int | None = 0,
    names=("network", "logistic"),
) -> ComparisonResult:
    """Compare a fitted network with a baseline on held-out data.

    For a regression network (linear output) this is
    :func:`~shallownet.baselines.regression_compare.compare_regression`: RMSE, MAE and R^2
    with paired bootstrap intervals and a paired t test of squared errors, against OLS by
    default (``n_bins`` unused).

    Parameters
    ----------
    model : ShallowNetClassifier, Network or MLPClassifier
        The fitted network.
    X_test, y_test :
        Held-out raw inputs and labels (every class must occur).
    baseline : fitted classifier, optional
        Anything with ``predict_proba`` and ``classes_`` (e.g. a :class:`LogisticFit`,
        whose penalised model predicts). Default: ``fit_logistic(X_train, y_train,
        encoder=<the network's encoder>, inference=False)``, which needs ``X_train`` and
        ``y_train``.
    n_bootstrap : int
        Resamples of the paired, class-stratified bootstrap.
    level : float
        Confidence level.
    n_bins : int
        Equal-width bins of the calibration error and curves.
    random_state : int or None
        Seed of the bootstrap (and of the default baseline's folds).
    names : (str, str)
        Labels of the network and the baseline.

    Returns
    -------
    ComparisonResult
    """
    net = as_network(model)
    if net.is_regression:  # a numeric target: errors, not class probabilities
        from .regression_compare import compare_regression

        return compare_regression(
            model, X_test, y_test, baseline, X_train=X_train, y_train=y_train,
            n_bootstrap=n_bootstrap, level=level, random_state=random_state,
            names=names if tuple(names) != ("network", "logistic") else ("network", "linear"),
        )
    classes = np.asarray(net.classes)
    if baseline is None:
        if X_train is None or y_train is None:
            raise ValueError(
                "`compare` needs a baseline: pass `baseline=fit_logistic(X_train, y_train, "
                "encoder=model.encoder_)` (or any fitted classifier), or pass `X_train` and "
                "`y_train` to fit the logistic baseline on the network's variables."
            )
        encoder = net.encoder
        baseline = fit_logistic(
            X_train, y_train, encoder=encoder, inference=False, random_state=random_state,
            missing=getattr(encoder, "missing", "error") if encoder is not None else "error",
        )
    y_index = check_labels(np.asarray(y_test), classes)
    proba_a = net.predict_proba(X_test)
    proba_b = _aligned_proba(baseline, X_test, classes, "baseline")
    return compare_probabilities(
        y_index, classes, proba_a, proba_b, names=names, n_bootstrap=n_bootstrap, level=level,
        n_bins=n_bins, random_state=random_state, setting="held-out data",
    )


def _rows(X, idx):
    return X.iloc[idx] if isinstance(X, (pd.DataFrame, pd.Series)) else np.asarray(X)[idx]


def compare_cv(
    model: Any,
    X: Any,
    y: Any,
    baseline: Any = None,
    *,
    cv: int = 5,
    n_bootstrap: int = 2000,
    level: float = 0.95,
    n_bins: int = 10,
    random_state: int | None = 0,
    names=("network", "logistic"),
) -> ComparisonResult:
    """Cross-validated comparison: both models refitted on the SAME stratified folds.

    Parameters
    ----------
    model : estimator
        An (unfitted or fitted) :class:`ShallowNetClassifier` or scikit-learn classifier;
        it is cloned and refitted in every fold.
    X, y :
        All the data (no missing values: every case gets an out-of-fold prediction).
    baseline : estimator, optional
        Cloned and refitted per fold. Default: :func:`fit_logistic` per fold with
        ``inference=False`` (the penalised model), on the fold network's encoder when it
        has one.
    cv : int
        Number of stratified folds (shuffled with ``random_state``).
    n_bootstrap, level, n_bins, random_state, names :
        As in :func:`compare`.

    Returns
    -------
    ComparisonResult
        Metrics, intervals and tests of the pooled out-of-fold predictions, and
        ``per_fold`` with each fold's metrics; the metrics table adds the mean and SD over
        folds of each difference.
    """
    cv = check_int("cv", cv, 2)
    seed = check_random_state(random_state)
    names = _check_names(names)
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    if frame.isna().to_numpy().any():
        raise ValueError(
            "`X` has missing values; every case needs an out-of-fold prediction. Drop those "
            "rows first (e.g. keep = X.notna().all(axis=1))."
        )
    y_arr = np.asarray(y)
    classes = np.unique(y_arr)
    y_index = check_labels(y_arr, classes)
    counts = np.bincount(y_index)
    if counts.min() < cv:
        raise ValueError(
            f"`cv={cv}` stratified folds need at least {cv} cases of every class; class "
            f"{classes[counts.argmin()]!r} has {counts.min()}. Pass a smaller cv."
        )
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed).split(np.zeros(len(y_index)), y_index)
    proba_a = np.zeros((len(y_index), len(classes)))
    proba_b = np.zeros_like(proba_a)
    records = []
    for fold, (train, test) in enumerate(folds):
        net_model = clone(model).fit(_rows(X, train), y_arr[train])
        net = as_network(net_model)
        if baseline is None:
            base = fit_logistic(
                _rows(X, train), y_arr[train], encoder=net.encoder, inference=False, random_state=seed,
            )
        else:
            base = clone(baseline).fit(_rows(X, train), y_arr[train])
        proba_a[test] = _aligned_proba(net_model, _rows(X, test), classes, "model")
        proba_b[test] = _aligned_proba(base, _rows(X, test), classes, "baseline")
        ea = evaluate(y_index[test], proba_a[test], np.arange(len(classes)), n_bins=n_bins)
        eb = evaluate(y_index[test], proba_b[test], np.arange(len(classes)), n_bins=n_bins)
        records += [
            {"fold": fold, "metric": m, names[0]: ea[m], names[1]: eb[m], "difference": ea[m] - eb[m]}
            for m in METRICS
        ]
    return compare_probabilities(
        y_index, classes, proba_a, proba_b, names=names, n_bootstrap=n_bootstrap, level=level,
        n_bins=n_bins, random_state=random_state, setting=f"{cv}-fold cross-validation (out-of-fold)",
        per_fold=pd.DataFrame(records),
    )
