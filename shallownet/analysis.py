"""The whole analysis of one table: train, read, measure, compare.

:func:`analyze` runs every method of the library on a table and returns an :class:`Analysis`
holding each result object; :mod:`shallownet.report` turns it into the HTML report and
``results.json``. Nothing here draws or prints: progress goes through a callback.

Steps (each timed):

1. data: rows without a target are dropped (reported); identifier-like columns
   (:func:`shallownet.data.screening.identifier_columns`) are dropped unless kept (reported); a
   stratified, seeded train/test split;
2. model: a bagged ensemble of :class:`ShallowNetClassifier` (each member on its own bootstrap
   resample, so the spread over members reflects sampling variability; constant columns
   dropped and reported). Missing values follow ``missing`` (default ``"indicator"``: every
   row kept, a real variable filled with its training median beside a missingness indicator,
   an enumerated one with a ``missing`` category); test rows with categories not seen in
   training are scored as all-zero one-hot rows (``unknown="ignore"``) and counted. Test rows
   the policy cannot encode are left out of the held-out figures, counted, with the reason
   (:func:`missing_summary`);
3. weights: weight tables, Garson, Olden, Milne, hidden activity (firing frequencies and the
   activation distributions by class), output deltas, OR/AND logic;
4. influence: potential influence, expected influence with the chosen conditional (kNN by
   default) beside the marginal baseline, on the complete training rows;
5. sensitivity: partial derivatives (training rows), grouped permutation importance (test rows),
   a Lek profile of the most influential variable, ICE curves and partial dependence of the
   :data:`N_DEPENDENCE` most influential ones;
6. baseline: logistic regression on the same variables (statsmodels inference when the
   maximum-likelihood estimate exists and can be computed, else a note and the penalised fit
   only), a likelihood-ratio test of each variable (the penalised deviance increase when there
   is no MLE), the held-out comparison with bootstrap intervals, and the per-variable
   side-by-side ranking. What the baseline needs (``cv`` complete training rows per class, a feasible
   split) is checked before training; should the baseline or its comparison still fail, the
   analysis keeps everything else, with ``results["logistic"]`` / ``["comparison"]`` None and
   a note giving the reason;
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
from ._first_screen_view import FirstScreenView
from .baselines import compare, fit_logistic, side_by_side
from .baselines.logistic import SeparationError
from .devices import check_devices
from .interpret import (
    expected_influence,
    garson,
    hidden_activations,
    hidden_activity,
    hidden_logic,
    milne,
    olden,
    output_deltas,
    partial_dependence,
    permutation_importance,
    potential_influence,
    profile,
    sensitivity,
    weight_table,
)
from .training import ShallowNetClassifier

N_DEPENDENCE = 3
"""How many of the most influential variables (by expected influence) get ICE curves and
partial dependence."""
STEPS = ("data", "model", "weights", "influence", "sensitivity", "baseline", "attributions", "information plane")


@dataclass(frozen=True, eq=False, repr=False)
class Analysis(FirstScreenView):
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
    missing: dict = field(default_factory=dict)

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
    influence, and the logistic regression's per-variable likelihood-ratio chi2 (``"logistic LR
    chi2"``, :meth:`~shallownet.baselines.LogisticFit.variable_tests`) when it was computed. All
    of these are unsigned, so their rank correlations compare like with like. For multiclass models, per contrast ``"k vs base"`` (base = the first class,
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
    tests = analysis.results.get("logistic_tests")
    if tests is not None:
        rows += [{"variable": v, "method": "logistic LR chi2", "value": x, "contrast": "all"}
                 for v, x in zip(tests["variable"], tests["chi2"])]
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
    """Rows the fitted model can encode under its encoder's policies, shape ``(N,)`` bool.

    A missing value (NaN or a missing-value token) is encodable where the encoder models it:
    a real variable with an indicator, an enumerated one with a ``missing`` category, any real
    variable under ``missing="indicator"`` (filled, reported); under ``unknown="ignore"`` an
    unseen category (and a missing value of an enumerated variable without a ``missing``
    category) is encodable as an all-zero row. Everything else excludes the row.
    """
    from .data.screening import replace_tokens

    enc = model.encoder_
    frame, _ = replace_tokens(X[[v.name for v in enc.variables_]], enc.state_dict()["na_values"])
    indicator = enc.missing == "indicator"
    ignore = enc.unknown == "ignore"
    ok = np.ones(len(X), dtype=bool)
    for v in enc.variables_:
        column = frame[v.name]
        miss = column.isna().to_numpy()
        if v.kind == "real":
            ok &= ~miss | (indicator and (v.has_indicator or v.name in enc.fill_values_))
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            ok &= miss | np.isfinite(values)
        elif v.kind == "binary":
            ok &= ~miss & column.isin([True, False, 0, 1]).to_numpy()
        else:
            known = column.isin([c for c in v.categories if c != enc.missing_categories_.get(v.name)]).to_numpy()
            modelled = indicator and v.name in enc.missing_categories_
            ok &= np.where(miss, modelled or (indicator and ignore), known | ignore)
    return ok


def unseen_rows(model: ShallowNetClassifier, X: pd.DataFrame) -> np.ndarray:
    """Rows with a present value (not a missing-value token) of an enumerated variable not seen
    in training, ``(N,)`` bool."""
    from .data.screening import replace_tokens

    enc = model.encoder_
    frame, _ = replace_tokens(X[[v.name for v in enc.variables_]], enc.state_dict()["na_values"])
    out = np.zeros(len(X), dtype=bool)
    for v in enc.variables_:
        if v.kind == "enumerated":
            column = frame[v.name]
            out |= column.notna().to_numpy() & ~column.isin(list(v.categories)).to_numpy()
    return out


def drop_identifiers(X: pd.DataFrame, keep: Sequence[str] | None, declared: Sequence[str] = (),
                     na_values=None) -> tuple[pd.DataFrame, list[str]]:
    """Drop the identifier-like columns of ``X`` that are not in ``keep`` (or declared real or
    categorical); return the table and one note per column dropped."""
    from .data.screening import check_na_values, identifier_columns

    keep = list(keep or [])
    unknown = [c for c in keep if c not in X.columns]
    if unknown:
        raise ValueError(f"`keep` names columns {unknown} that are not in X; columns: {list(X.columns)}.")
    found = identifier_columns(X, check_na_values(na_values), skip=[*keep, *declared])
    notes = [f"Dropped the identifier-like column {c!r} ({why}); pass --keep {c} (keep=[{c!r}]) to "
             "use it as a variable." for c, why in found.items()]
    return X.drop(columns=list(found)), notes


def missingness_flips(model: ShallowNetClassifier, X: pd.DataFrame) -> dict:
    """Whether missingness itself moves the decision: per variable whose missingness the model
    encodes (an indicator, or a ``missing`` category), the share of the rows of ``X`` whose
    decision changes when that variable alone is set to "missing" (the last candidate of its
    flip tensor, :func:`shallownet.interpret.flips.flip_tensor`)."""
    from .interpret.flips import flip_tensor

    enc = model.encoder_
    out = {}
    for v in enc.variables_:
        if v.has_indicator or v.name in enc.missing_categories_:
            out[v.name] = float(flip_tensor(model, X, v.name, n_grid=2).flips[:, -1].mean())
    return out


def missing_summary(model: ShallowNetClassifier, X_train: pd.DataFrame, X_test: pd.DataFrame,
                    train_rows: np.ndarray, test_rows: np.ndarray) -> dict:
    """The missing-data part of the report, as JSON-ready data.

    ``policy``, ``fill``, ``unknown``; ``columns``: per variable with missing cells in
    either split, the count and share missing in train and test, the tokens read as missing,
    how the model encodes them (``indicator``, ``category``, ``filled``, ``dropped rows`` or
    ``excluded``), the fill value in raw units and, where the model encodes missingness,
    ``decision_changes_if_missing`` (:func:`missingness_flips`); ``rows``: rows in each split,
    rows used, test rows scored with an unseen category.
    """
    enc = model.encoder_
    names = [v.name for v in enc.variables_]
    audit_train = enc.audit(X_train[names]) if enc.missing == "indicator" else {"missing": {}, "tokens": {}}
    audit_test = enc.audit(X_test[names])
    train_missing = enc.missing_counts_ if enc.missing != "indicator" else audit_train["missing"]
    columns = []
    for v in enc.variables_:
        n_tr, n_te = int(train_missing.get(v.name, 0)), int(audit_test["missing"].get(v.name, 0))
        if not (n_tr or n_te):
            continue
        if v.has_indicator:
            how = "indicator"
        elif v.name in enc.missing_categories_:
            how = "category"
        elif enc.missing == "indicator" and v.name in enc.fill_values_:
            how = "filled (no indicator: none missing in training)"
        elif enc.missing == "drop":
            how = "rows dropped"
        else:
            how = "rows excluded"
        tokens = dict(enc.missing_tokens_.get(v.name, {}))
        for t, k in audit_test["tokens"].get(v.name, {}).items():
            tokens[t] = tokens.get(t, 0) + int(k)
        columns.append({
            "variable": v.name, "train_missing": n_tr, "train_share": n_tr / max(len(X_train), 1),
            "test_missing": n_te, "test_share": n_te / max(len(X_test), 1), "encoded_as": how,
            "fill": v.fill if v.has_indicator else enc.fill_values_.get(v.name) if how.startswith("filled") else None,
            "tokens": ", ".join(f"{t!r}: {k}" for t, k in tokens.items()),
        })
    flips = missingness_flips(model, X_train[train_rows]) if train_rows.any() else {}
    for entry in columns:
        entry["decision_changes_if_missing"] = flips.get(entry["variable"])
    n_unseen = int((unseen_rows(model, X_test) & test_rows).sum())
    return {
        "policy": enc.missing, "fill": enc.fill, "unknown": enc.unknown, "columns": columns,
        "rows": {"train": int(len(X_train)), "train_used": int(train_rows.sum()),
                 "test": int(len(X_test)), "test_used": int(test_rows.sum()),
                 "test_unseen_scored": n_unseen},
    }


def split_table(X: pd.DataFrame, y: pd.Series, test_size: float, seed: int, stratify: bool = True):
    """Seeded train/test split, stratified by ``y`` when ``stratify`` and every class has 2 rows
    (``stratify=False`` for a numeric target).

    Raises a ``ValueError`` naming ``test_size`` when the split would leave fewer held-out
    (or training) rows than classes, before scikit-learn would (its message quotes the
    number of rows, not the fraction the user gave)."""
    import math

    from sklearn.model_selection import train_test_split

    counts = y.value_counts()
    stratify = y if stratify and counts.min() >= 2 else None
    n, K = len(y), len(counts)
    n_test = math.ceil(test_size * n)
    if stratify is not None and (n_test < K or n - n_test < K):
        raise ValueError(
            f"test_size={test_size:g} (--test-size) of {n} rows holds out {n_test} row(s) and "
            f"trains on {n - n_test}; a stratified split needs at least one row of each of the "
            f"{K} classes on both sides. Change test_size or use more rows."
        )
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)


def check_baseline_rows(X_train: pd.DataFrame, y_train: pd.Series, cv: int, classes,
                        missing: str = "drop") -> None:
    """Fail fast, before any training, when the logistic baseline cannot be fitted.

    The baseline is fitted on the training rows the network keeps: every row under
    ``missing="indicator"``, the complete ones otherwise; it picks its penalty by stratified ``cv``-fold cross-validation,
    so every class needs at least ``cv`` complete training rows (and at least 2 for any
    cross-validation at all); ``classes`` are all the classes of the table, so that a class
    whose only rows were held out counts as having none. Raises a ``ValueError`` naming the
    class and the remedy.
    """
    complete = np.ones(len(X_train), bool) if missing == "indicator" else X_train.notna().all(axis=1).to_numpy()
    counts = y_train[complete].value_counts().reindex(list(classes), fill_value=0)
    worst, fewest = counts.idxmin(), int(counts.min())
    worst = worst.item() if isinstance(worst, np.generic) else worst  # 0, not np.int64(0)
    if fewest < 2:
        raise ValueError(
            f"Class {worst!r} has {fewest} complete training row(s) (no missing value): too few "
            "for the logistic baseline (and for the network to learn it). Add rows of that "
            "class, merge it with another, or leave it out."
        )
    if fewest < cv:
        raise ValueError(
            f"Class {worst!r} has {fewest} complete training row(s), but the logistic baseline "
            f"chooses its penalty by cv={cv}-fold cross-validation, which needs {cv} rows of "
            f"every class. Pass cv={fewest} (--cv {fewest}) or fewer, or add rows."
        )


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
    real: Sequence[str] | None = None,
    missing: str = "indicator",
    fill: str = "median",
    unknown: str = "ignore",
    na_values: Sequence[str] | None = None,
    keep: Sequence[str] | None = None,
    conditional: str = "knn",
    n_bootstrap: int = 1000,
    information_plane: bool = False,
    random_state: int = 0,
    cv: int = 5,
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
    categorical, real, missing, fill, unknown, na_values :
        Encoder options (:class:`shallownet.data.Encoder`); here ``missing="indicator"`` and
        ``unknown="ignore"`` by default, since the report states the policy and its counts.
    keep : list of str, optional
        Identifier-like columns to keep as variables (the others are dropped, reported).
    cv : int, default 5
        Stratified folds with which the logistic baseline chooses its penalty. Every class
        needs ``cv`` complete training rows; that (and the split) is checked before any
        training, with a ``ValueError`` saying what to change.
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
            verbose=verbose, devices=devices, real=real, missing=missing, fill=fill, unknown=unknown,
            na_values=na_values, keep=keep)
        result.notes[:0] = [reason] if reason else []
        return result
    y = pd.Series(np.asarray(y), index=X.index, name=getattr(y, "name", None) or "target")
    if not 0 < test_size < 1:
        raise ValueError(f"`test_size` must be between 0 and 1. Got {test_size!r}.")
    check_devices(devices)
    keep_columns = keep
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(f"`cv` must be an integer >= 2. Got {cv!r} instead.")
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
    declared = [*(categorical or []), *(real or [])]
    X, id_notes = drop_identifiers(X, keep_columns, declared, na_values)
    notes += id_notes
    X_train, X_test, y_train, y_test = split_table(X, y, test_size, random_state)
    check_baseline_rows(X_train, y_train, cv, pd.unique(y), missing)
    timings["data"] = time.perf_counter() - t

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = step("model")
        model = ShallowNetClassifier(
            hidden_layer_sizes=tuple(hidden_layer_sizes), activation=activation, n_members=n_members,
            max_iter=max_iter, optimizer=optimizer, categorical=list(categorical) if categorical else None,
            real=list(real) if real else None, missing=missing, fill=fill, unknown=unknown,
            na_values=na_values, constant="drop", bootstrap=n_members > 1, random_state=random_state,
            verbose=verbose, devices=devices,
        ).fit(X_train, y_train)
        paired = [v.name for v in model.network_.variables if v.has_indicator]
        if conditional in ("copula", "model") and paired:
            raise ValueError(
                f"conditional={conditional!r} is not defined for variables with a missingness "
                f"indicator ({paired}); use conditional='knn' (the default) or 'marginal', or "
                "missing='drop'."
            )
        train_rows = usable_rows(model, X_train)
        test_rows = usable_rows(model, X_test)
        Xtr, ytr = X_train[train_rows], y_train[train_rows]
        Xte, yte = X_test[test_rows], y_test[test_rows]
        missing_part = missing_summary(model, X_train, X_test, train_rows, test_rows)
        if (~test_rows).any():
            notes.append(f"{int((~test_rows).sum())} test rows the missing-value policy ({missing!r}, "
                         f"unknown={unknown!r}) cannot encode were left out of every held-out figure.")
        if missing_part["rows"]["test_unseen_scored"]:
            notes.append(f"{missing_part['rows']['test_unseen_scored']} test rows with a category not seen in "
                         "training were scored with that variable as an all-zero one-hot row.")
        accuracy = float(np.mean(model.predict(Xte) == yte.to_numpy()))
        timings["model"] = time.perf_counter() - t

        t = step("weights")
        hidden = bool(model.network_.hidden_sizes)
        results["weights"] = weight_table(model)
        results["garson"] = garson(model)
        results["olden"] = olden(model)
        results["milne"] = milne(model)
        results["activity"] = hidden_activity(model, Xtr, ytr) if hidden else None
        results["activations"] = hidden_activations(model, Xtr, ytr) if hidden else None
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
        results["dependence"] = [partial_dependence(model, Xtr, v) for v in ranked["variable"].iloc[:N_DEPENDENCE]]
        timings["sensitivity"] = time.perf_counter() - t

        t = step("baseline")
        # Whatever fails here, the network's analysis is kept: the report says why the
        # baseline (or its comparison) is missing instead of the run being lost.
        try:
            logistic, logistic_note = fit_baseline(Xtr, ytr, model, random_state, cv)
        except ValueError as exc:
            logistic, logistic_note = None, f"No logistic-regression baseline: it could not be fitted ({exc})."
        if logistic_note:
            notes.append(logistic_note)
        results["logistic"] = logistic
        results["logistic_tests"] = None
        if logistic is not None:
            try:
                results["logistic_tests"] = logistic.variable_tests(Xtr, ytr)
            except (ValueError, np.linalg.LinAlgError) as exc:
                notes.append(f"No likelihood-ratio test per variable: a refit without one variable failed ({exc}).")
        results["comparison"] = None
        if logistic is not None:
            try:
                results["comparison"] = compare(model, Xte, yte, baseline=logistic, n_bootstrap=n_bootstrap,
                                                random_state=random_state)
            except ValueError as exc:
                notes.append(f"No held-out comparison with logistic regression: {exc}")
        analysis = Analysis(source, str(y.name), {}, X_train, X_test, y_train, y_test, dropped_target,
                            model, accuracy, int(test_rows.sum()), results)
        with_lr = logistic if logistic is not None and logistic.coefficients is not None else None
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
        "conditional": conditional, "missing": missing, "fill": fill, "unknown": unknown, "cv": cv,
        "attributions": list(methods),
        "n_bootstrap": n_bootstrap, "random_state": random_state, "shallownet": __version__,
    }
    return Analysis(source, str(y.name), settings, X_train, X_test, y_train, y_test, dropped_target, model,
                    accuracy, int(test_rows.sum()), results, notes, timings, missing_part)


def fit_baseline(X, y, model, random_state, cv: int = 5):
    """Logistic regression on the network's variables; returns ``(fit, note)``.

    Statsmodels inference is attempted first; when the maximum-likelihood estimate does not
    exist (separation) or cannot be computed (a singular or nearly singular design, for instance
    the missingness indicators of columns that are always missing together, or more columns
    than rows), the penalised fit alone is returned with a note giving the reason, so that a
    finished network analysis is never lost at this step. (What the penalised fit needs, ``cv``
    rows per class, is checked before training: :func:`check_baseline_rows`.)
    """
    penalised = dict(encoder=model.encoder_, inference=False, random_state=random_state, cv=cv)
    try:
        return fit_logistic(X, y, encoder=model.encoder_, random_state=random_state, cv=cv), ""
    except SeparationError as exc:
        return fit_logistic(X, y, **penalised), (
            "Maximum-likelihood logistic regression does not exist on these data (perfect "
            f"separation): {exc} The comparison uses the penalised logistic regression; "
            "coefficients are shown without standard errors."
        )
    except ValueError as exc:  # LogisticFitError, a singular design, p > n
        return fit_logistic(X, y, **penalised), (
            f"Logistic-regression inference failed ({exc}); the comparison uses the penalised "
            "logistic regression, and coefficients are shown without standard errors."
        )


def _information_plane(model: ShallowNetClassifier, X: pd.DataFrame, y: pd.Series, max_iter: int,
                       random_state: int, devices: str | int):
    """I(X;T), I(T;Y) per layer over a fresh training run of the same architecture with
    snapshots (up to 4 seeds). Binning for bounded units, KDE (s2 = 0.1) for relu."""
    from .information import information_plane, train_with_snapshots

    net = model.network_
    enc = model.encoder_
    if enc.missing == "indicator" and enc.missing_counts_:
        # The snapshot run refits a plain encoder; give it the model's own encoded columns
        # (already on [0, 1], so its min-max scaling leaves them as they are).
        X = pd.DataFrame(enc.transform(X, report=False), columns=enc.column_names_, index=X.index)
    run = train_with_snapshots(
        X, y, hidden_layer_sizes=net.hidden_sizes, activation=net.activation, output=net.output,
        n_seeds=min(net.n_members, 4), epochs=max_iter, learning_rate=0.01,
        batch_size=min(200, -(-len(X) // 8)), random_state=random_state, devices=devices,
    )
    estimator = "kde" if net.activation == "relu" else "binning"
    return information_plane(run, estimator=estimator, random_state=random_state)
