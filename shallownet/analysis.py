"""The whole analysis of one table: train, read, measure, compare.

:func:`analyze` runs every method of the library on a table and returns an :class:`Analysis`
holding each result object; :mod:`shallownet.report` turns it into the HTML report and
``results.json``. Nothing here draws or prints: progress goes through a callback.

Steps (each timed):

1. data: rows without a target are dropped (reported); a stratified, seeded train/test split;
2. model: a bagged ensemble of :class:`ShallowNetClassifier` (each member on its own bootstrap
   resample, so the spread over members reflects sampling variability; rows with missing values
   and constant columns dropped and reported);
3. weights: weight tables, Garson, Olden, Milne, hidden activity, output deltas, OR/AND logic;
4. influence: potential influence, expected influence with the chosen conditional (kNN by
   default) beside the marginal baseline, on the complete training rows;
5. sensitivity: partial derivatives (training rows), grouped permutation importance (test rows),
   a Lek profile of the most influential variable;
6. baseline: logistic regression on the same variables (statsmodels inference when the
   maximum-likelihood estimate exists, else a note and the penalised fit only), the held-out
   comparison with bootstrap intervals, and the per-variable side-by-side ranking;
7. attributions: Shapley values, the final-feature map, counterfactuals and ALE curves, each
   bounded for speed (:mod:`shallownet.report.attributions`; ``attributions=`` chooses them);
8. information plane (optional): I(X;T) and I(T;Y) per layer over a training run.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from . import __version__
from .baselines import compare, fit_logistic, side_by_side
from .baselines.logistic import LogisticFitError, SeparationError
from .devices import check_devices
from .interpret import (
    expected_influence,
    garson,
    hidden_activity,
    hidden_logic,
    milne,
    olden,
    output_deltas,
    permutation_importance,
    potential_influence,
    profile,
    sensitivity,
    weight_table,
)
from .training import ShallowNetClassifier

STEPS = ("data", "model", "weights", "influence", "sensitivity", "baseline", "attributions", "information plane")


@dataclass(frozen=True, eq=False, repr=False)
class Analysis:
    """Everything :func:`analyze` computed; each field is a result object or plain data."""

    source: str
    target: str
    settings: dict
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    dropped_target_rows: int
    model: ShallowNetClassifier
    test_accuracy: float
    n_test_complete: int
    results: dict
    notes: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    @property
    def classes(self) -> list:
        return list(self.model.classes_)

    def variable_table(self) -> pd.DataFrame:
        """One row per variable: every per-variable figure the analysis produced."""
        r = self.results
        rows = {v.name: {"variable": v.name, "kind": v.kind} for v in self.model.network_.variables}
        frame = pd.DataFrame(rows.values())

        def join(values: pd.Series, name: str):
            nonlocal frame
            frame = frame.merge(values.rename(name), left_on="variable", right_index=True, how="left")

        g = r["garson"].to_frame()
        join(g.set_index("variable")["mean"], "garson")
        join(_olden_overall(r["olden"].to_frame()), "olden_abs")
        m = r["milne"].to_frame()
        join(m.groupby("variable")["mean"].apply(lambda s: float(np.mean(np.abs(s)))), "milne_abs")
        s = r["sensitivity"].to_frame()
        join(s.groupby("variable")["rms"].mean(), "pad_rms")
        ei = r["expected"].to_frame().set_index("variable")
        join(ei["potential"], "potential")
        join(ei["expected"], "expected")
        join(ei["marginal"], "expected_marginal")
        join(ei["accuracy_without_lb"], "accuracy_without_lb")
        p = r["permutation"].to_frame().set_index("variable")
        join(p["importance_mean"], "permutation")
        return frame


def _olden_overall(frame: pd.DataFrame) -> pd.Series:
    """One Olden figure per variable: mean |value| over the per-class rows (not contrasts)."""
    per_class = frame[~frame["output"].astype(str).str.contains(" vs ")]
    if per_class.empty:
        per_class = frame
    return per_class.groupby("variable")["mean"].apply(lambda s: float(np.mean(np.abs(s))))


def side_by_side_importances(analysis: "Analysis") -> pd.DataFrame:
    """Per-variable importances of the network for :func:`side_by_side`, in long form.

    Overall (contrast ``"all"``): Olden |CW|, Garson, partial-derivative RMS and expected
    influence. For multiclass models, per contrast ``"k vs base"`` (base = the first class,
    as the logistic regression's reference): Olden's connection weight of the contrast (signed
    for real and binary variables, the range of centred category values for enumerated ones),
    beside the logistic coefficient of the same contrast.
    """
    table = analysis.variable_table()
    rows = []
    for method, column in (("olden |CW|", "olden_abs"), ("garson", "garson"),
                           ("partial derivative rms", "pad_rms"), ("expected influence", "expected")):
        rows += [{"variable": v, "method": method, "value": x, "contrast": "all"}
                 for v, x in zip(table["variable"], table[column])]
    classes = [str(c) for c in analysis.classes]
    if len(classes) > 2:
        base = classes[0]
        olden_frame = analysis.results["olden"].to_frame()
        for k in classes[1:]:
            label = f"{k} vs {base}"
            for _, r in olden_frame[olden_frame["output"] == label].iterrows():
                rows.append({"variable": r["variable"], "method": "olden CW", "value": r["mean"], "contrast": label})
    return pd.DataFrame(rows)


def usable_rows(model: ShallowNetClassifier, X: pd.DataFrame) -> np.ndarray:
    """Rows the fitted model can encode: no missing value, no category unseen in training."""
    ok = np.ones(len(X), dtype=bool)
    for v in model.encoder_.variables_:
        column = X[v.name]
        ok &= column.notna().to_numpy()
        if v.kind == "enumerated":
            ok &= column.isin(list(v.categories)).to_numpy()
    return ok


def split_table(X: pd.DataFrame, y: pd.Series, test_size: float, seed: int, stratify: bool = True):
    """Seeded train/test split, stratified by ``y`` when ``stratify`` and every class has 2 rows
    (``stratify=False`` for a numeric target)."""
    from sklearn.model_selection import train_test_split

    stratify = y if stratify and y.value_counts().min() >= 2 else None
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)


def analyze(
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
    task: str = "auto",
    attributions: Any = "all",
) -> Analysis:
    """Run the whole analysis of ``(X, y)``; see the module docstring for the steps.

    Parameters
    ----------
    X : DataFrame
        Input variables (text, categorical and boolean columns are enumerated).
    y : array-like
        Class labels; rows without one are dropped (reported).
    max_iter, optimizer :
        Passed to :class:`~shallownet.ShallowNetClassifier` (default "auto": full-batch L-BFGS
        to the optimum on small tables, minibatch Adam on large ones).
    progress : callable ``(step_name, step_index, n_steps)``, optional
        Called before each step.
    verbose : bool
        Show the training progress bar (stderr).
    devices : {"auto", "none", 1}, default "auto"
        Spread the ensemble members (and the information-plane seeds) over the visible JAX
        devices when there are several; "none" or 1 keeps one device.
    task : {"auto", "classification", "regression"}, default "auto"
        "auto" follows :func:`shallownet.tasks.detect_task` (a numeric target with more than
        10 distinct values is a number); a regression is analysed by
        :func:`shallownet.analysis_regression.analyze_regression`.
    attributions : "all" or sequence of str, default "all"
        Which of "shapley", "hidden-map", "counterfactuals", "ale" to compute (classification;
        ``()`` for none); bounds in :mod:`shallownet.report.attributions`.

    Returns
    -------
    Analysis or RegressionAnalysis
        Every result object, the fitted model, the split, notes on what was dropped or
        reported along the way, and the time each step took.
    """
    from .report.attributions import check_methods, compute_attributions
    from .tasks import detect_task

    methods = check_methods(attributions)
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"`X` must be a pandas DataFrame. Got {type(X).__name__}.")
    task, reason = detect_task(y, task, name=str(getattr(y, "name", None) or "target"))
    if task == "regression":
        from .analysis_regression import analyze_regression

        result = analyze_regression(
            X, y, source=source, hidden_layer_sizes=hidden_layer_sizes, activation=activation,
            n_members=n_members, max_iter=max_iter, optimizer=optimizer, test_size=test_size,
            categorical=categorical, conditional=conditional, n_bootstrap=n_bootstrap,
            information_plane=information_plane, random_state=random_state, progress=progress,
            verbose=verbose, devices=devices)
        result.notes[:0] = [reason] if reason else []
        return result
    y = pd.Series(np.asarray(y), index=X.index, name=getattr(y, "name", None) or "target")
    if not 0 < test_size < 1:
        raise ValueError(f"`test_size` must be between 0 and 1. Got {test_size!r}.")
    check_devices(devices)
    steps = [s for s in STEPS if information_plane or s != "information plane"]
    timings: dict[str, float] = {}
    results: dict[str, Any] = {}

    def step(name: str) -> float:
        if progress is not None:
            progress(name, steps.index(name), len(steps))
        return time.perf_counter()

    t = step("data")
    keep = y.notna().to_numpy()
    dropped_target = int((~keep).sum())
    notes = [reason] if reason else []
    notes += [f"Dropped {dropped_target} rows without a target value."] if dropped_target else []
    X, y = X[keep], y[keep]
    X_train, X_test, y_train, y_test = split_table(X, y, test_size, random_state)
    timings["data"] = time.perf_counter() - t

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = step("model")
        model = ShallowNetClassifier(
            hidden_layer_sizes=tuple(hidden_layer_sizes), activation=activation, n_members=n_members,
            max_iter=max_iter, optimizer=optimizer, categorical=list(categorical) if categorical else None,
            missing="drop", constant="drop", bootstrap=n_members > 1, random_state=random_state,
            verbose=verbose, devices=devices,
        ).fit(X_train, y_train)
        train_rows = usable_rows(model, X_train)
        test_rows = usable_rows(model, X_test)
        Xtr, ytr = X_train[train_rows], y_train[train_rows]
        Xte, yte = X_test[test_rows], y_test[test_rows]
        if (~test_rows).any():
            notes.append(f"{int((~test_rows).sum())} test rows with missing values or categories not seen "
                         "in training were left out of every held-out figure.")
        accuracy = float(np.mean(model.predict(Xte) == yte.to_numpy()))
        timings["model"] = time.perf_counter() - t

        t = step("weights")
        hidden = bool(model.network_.hidden_sizes)
        results["weights"] = weight_table(model)
        results["garson"] = garson(model)
        results["olden"] = olden(model)
        results["milne"] = milne(model)
        results["activity"] = hidden_activity(model, Xtr, ytr) if hidden else None
        results["deltas"] = output_deltas(model) if hidden else None
        results["logic"] = hidden_logic(model, Xtr) if hidden else None
        timings["weights"] = time.perf_counter() - t

        t = step("influence")
        results["expected"] = expected_influence(model, Xtr, ytr, conditional=conditional)
        results["potential"] = potential_influence(model, Xtr, ytr)
        timings["influence"] = time.perf_counter() - t

        t = step("sensitivity")
        results["sensitivity"] = sensitivity(model, Xtr)
        results["permutation"] = permutation_importance(model, Xte, yte, random_state=random_state)
        ranked = results["expected"].to_frame().sort_values("expected", ascending=False)
        results["profile"] = profile(model, Xtr, ranked["variable"].iloc[0])
        timings["sensitivity"] = time.perf_counter() - t

        t = step("baseline")
        logistic, logistic_note = fit_baseline(Xtr, ytr, model, random_state)
        if logistic_note:
            notes.append(logistic_note)
        results["logistic"] = logistic
        results["comparison"] = compare(model, Xte, yte, baseline=logistic, n_bootstrap=n_bootstrap,
                                        random_state=random_state)
        analysis = Analysis(source, str(y.name), {}, X_train, X_test, y_train, y_test, dropped_target,
                            model, accuracy, int(test_rows.sum()), results)
        with_lr = logistic if logistic.coefficients is not None else None
        long = side_by_side_importances(analysis)
        signed = ("olden CW",) if (long["method"] == "olden CW").any() else ()
        results["side_by_side"] = side_by_side(long, with_lr, signed=signed)
        timings["baseline"] = time.perf_counter() - t

        t = step("attributions")
        results["attributions"] = compute_attributions(model, Xtr, Xte, yte, results["expected"], methods, random_state)
        timings["attributions"] = time.perf_counter() - t

        if information_plane:
            t = step("information plane")
            results["information_plane"] = _information_plane(model, Xtr, ytr, max_iter, random_state, devices)
            timings["information plane"] = time.perf_counter() - t
    notes.extend(dict.fromkeys(str(w.message) for w in caught))

    settings = {
        "hidden_layer_sizes": list(hidden_layer_sizes), "activation": activation, "n_members": n_members,
        "max_iter": max_iter, "bootstrap_members": n_members > 1, "test_size": test_size,
        "conditional": conditional, "attributions": list(methods),
        "n_bootstrap": n_bootstrap, "random_state": random_state, "shallownet": __version__,
    }
    return Analysis(source, str(y.name), settings, X_train, X_test, y_train, y_test, dropped_target, model,
                    accuracy, int(test_rows.sum()), results, notes, timings)


def fit_baseline(X, y, model, random_state):
    """Logistic regression on the network's variables; returns ``(fit, note)``.

    Statsmodels inference is attempted first; when the maximum-likelihood estimate does not
    exist (separation) or fails, the penalised fit alone is returned with a note saying so.
    """
    try:
        return fit_logistic(X, y, encoder=model.encoder_, random_state=random_state), ""
    except SeparationError as exc:
        fit = fit_logistic(X, y, encoder=model.encoder_, inference=False, random_state=random_state)
        return fit, (
            "Maximum-likelihood logistic regression does not exist on these data (perfect "
            f"separation): {exc} The comparison uses the penalised logistic regression; "
            "coefficients are shown without standard errors."
        )
    except LogisticFitError as exc:
        fit = fit_logistic(X, y, encoder=model.encoder_, inference=False, random_state=random_state)
        return fit, f"Logistic-regression inference failed ({exc}); the penalised fit is used."


def _information_plane(model: ShallowNetClassifier, X: pd.DataFrame, y: pd.Series, max_iter: int,
                       random_state: int, devices: str | int):
    """I(X;T), I(T;Y) per layer over a fresh training run of the same architecture with
    snapshots (up to 4 seeds). Binning for bounded units, KDE (s2 = 0.1) for relu."""
    from .information import information_plane, train_with_snapshots

    net = model.network_
    run = train_with_snapshots(
        X, y, hidden_layer_sizes=net.hidden_sizes, activation=net.activation, output=net.output,
        n_seeds=min(net.n_members, 4), epochs=max_iter, learning_rate=0.01,
        batch_size=min(200, -(-len(X) // 8)), random_state=random_state, devices=devices,
    )
    estimator = "kde" if net.activation == "relu" else "binning"
    return information_plane(run, estimator=estimator, random_state=random_state)
