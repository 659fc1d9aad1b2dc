"""Turn an :class:`~shallownet.analysis.Analysis` into the report folder.

The folder holds ``index.html`` (readable offline), ``figures/*.png``, ``tables/*.csv`` (every
table in full), ``results.json`` (schema :data:`RESULTS_SCHEMA`, version
:data:`SCHEMA_VERSION`) and ``model.npz`` (the fitted ensemble, :func:`shallownet.load`).
:func:`write_analysis` writes into a hidden sibling folder and moves it in with one atomic rename
at the end (:mod:`shallownet.report.publish`), so an interrupted or killed run leaves no half
report, and it never replaces an existing folder unless asked.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..baselines.coefficients import raw_iqr
from ..data.encoder import OutOfRangeWarning
from ..results import to_jsonable
from .attributions import ATTRIBUTIONS_SCHEMA, attribution_sections, attributions_json
from .html import Report
from .missing import missing_table, missing_words
from .schema import validate

SCHEMA_VERSION = 4
"""2: ``model.epochs`` replaced by ``model.optimizer`` and ``model.convergence`` (one record per
member: converged, reason, n_iter, objective, grad_norm). 3: ``missing`` (policy, per-variable
counts, rows used; :func:`shallownet.analysis.missing_summary`). 4: ``data.majority_class`` and
``data.majority_accuracy`` (always predicting the most common training class, on the held-out
rows); ``logistic`` may be present without maximum-likelihood estimates and holds
``coefficients`` (per [0, 1] range; null without MLE), ``odds_ratios`` (per raw unit, per
interquartile range, per category against its reference; null without MLE) and
``variable_tests`` (one likelihood-ratio chi2 per variable, or the penalised deviance increase);
``importance_agreement`` (Spearman's rho of expected influence against the logistic test, or
null); ``decision_surface`` (the two variables drawn, the quantile span, where the others are
held; null with fewer than two real variables)."""

_NUMBER_OR_NULL = {"type": ["number", "null"]}
RESULTS_SCHEMA: dict = {
    "type": "object",
    "required": ["schema_version", "shallownet_version", "created", "source", "target", "classes",
                 "data", "model", "variables", "comparison", "logistic", "importance_agreement",
                 "decision_surface", "findings", "notes", "timings"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "shallownet_version": {"type": "string"},
        "created": {"type": "string"},
        "source": {"type": "string"},
        "target": {"type": "string"},
        "classes": {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
        "data": {
            "type": "object",
            "required": ["n_rows", "n_train", "n_test", "n_test_complete", "dropped_target_rows",
                         "dropped_training_rows", "dropped_columns", "class_counts", "majority_class",
                         "majority_accuracy"],
            "properties": {
                "n_rows": {"type": "integer", "minimum": 0},
                "n_train": {"type": "integer", "minimum": 0},
                "n_test": {"type": "integer", "minimum": 0},
                "n_test_complete": {"type": "integer", "minimum": 0},
                "dropped_target_rows": {"type": "integer", "minimum": 0},
                "dropped_training_rows": {"type": "integer", "minimum": 0},
                "dropped_columns": {"type": "array", "items": {"type": "string"}},
                "class_counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "majority_class": {"type": ["string", "number", "boolean"]},
                "majority_accuracy": _NUMBER_OR_NULL,
            },
        },
        "model": {
            "type": "object",
            "required": ["hidden_layer_sizes", "activation", "output", "n_members", "optimizer",
                         "convergence", "test_accuracy", "settings"],
            "properties": {
                "hidden_layer_sizes": {"type": "array", "items": {"type": "integer"}},
                "activation": {"type": "string"},
                "output": {"enum": ["softmax", "sigmoid"]},
                "n_members": {"type": "integer", "minimum": 1},
                "optimizer": {"type": "string"},
                "convergence": {"type": "array", "items": {
                    "type": "object",
                    "required": ["member", "converged", "reason", "n_iter", "objective", "grad_norm"],
                    "properties": {"converged": {"type": "boolean"}, "n_iter": {"type": "integer", "minimum": 0},
                                   "reason": {"type": "string"}},
                }},
                "test_accuracy": {"type": "number"},
                "settings": {"type": "object"},
            },
        },
        "variables": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "kind", "garson", "olden_abs", "milne_abs", "pad_rms",
                             "potential", "expected", "expected_marginal", "accuracy_without_lb",
                             "permutation"],
                "properties": {
                    "variable": {"type": "string"},
                    "kind": {"enum": ["real", "enumerated", "binary"]},
                    "minimum": _NUMBER_OR_NULL,
                    "maximum": _NUMBER_OR_NULL,
                    "categories": {"type": "array"},
                    **{k: _NUMBER_OR_NULL for k in ("garson", "olden_abs", "milne_abs", "pad_rms", "potential",
                                                    "expected", "expected_marginal", "accuracy_without_lb",
                                                    "permutation")},
                },
            },
        },
        "comparison": {
            "type": ["object", "null"],
            "required": ["n", "metrics"],
            "properties": {
                "n": {"type": "integer"},
                "metrics": {"type": "array", "items": {"type": "object", "required": ["metric", "network", "logistic",
                                                                                        "difference", "diff_low",
                                                                                        "diff_high"]}},
            },
        },
        "logistic": {
            "type": ["object", "null"],
            "required": ["coefficients", "odds_ratios", "variable_tests"],
            "additionalProperties": False,
            "properties": {
                "coefficients": {"type": ["array", "null"], "items": {"type": "object"}},
                "odds_ratios": {"type": ["array", "null"], "items": {
                    "type": "object", "required": ["contrast", "variable", "comparison", "or_per_unit", "or_low",
                                                   "or_high", "iqr", "or_per_iqr", "iqr_low", "iqr_high", "p_value"]}},
                "variable_tests": {"type": ["array", "null"], "items": {
                    "type": "object", "required": ["variable", "kind", "chi2", "df", "p_value", "method"]}},
            },
        },
        "importance_agreement": {
            "type": "object",
            "required": ["expected_vs_logistic_spearman"],
            "properties": {"expected_vs_logistic_spearman": _NUMBER_OR_NULL},
        },
        "decision_surface": {
            "type": ["object", "null"],
            "required": ["variables", "span", "at"],
            "properties": {"variables": {"type": "array", "items": {"type": "string"}},
                           "span": {"type": "array", "items": {"type": "number"}}, "at": {"type": "string"}},
        },
        "missing": {
            "type": "object",
            "required": ["policy", "fill", "unknown", "columns", "rows"],
            "properties": {"policy": {"enum": ["error", "drop", "indicator"]},
                           "columns": {"type": "array"}, "rows": {"type": "object"}},
        },
        "information_plane": {"type": ["array", "null"]},
        "attributions": ATTRIBUTIONS_SCHEMA,
        "findings": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "timings": {"type": "object", "additionalProperties": {"type": "number"}},
    },
}


# -- findings ------------------------------------------------------------------------------
def _is_regression(a) -> bool:
    return getattr(a, "task", "classification") == "regression"


def findings(a) -> list[str]:
    """Plain-language statements of the strongest findings, each with its uncertainty."""
    if _is_regression(a):
        from .regression import regression_findings

        return regression_findings(a)
    out = []
    comparison = a.results["comparison"]
    if comparison is not None:
        out.append(_accuracy_finding(a, comparison))
    else:
        out.append(f"On {a.n_test_complete} held-out cases the network classifies {a.test_accuracy:.1%} "
                   "correctly; there is no comparison with logistic regression (see the notes).")
    out += _variable_findings(a)
    return out


def _accuracy_finding(a, comparison) -> str:
    comp = comparison.to_frame().set_index("metric")
    acc = comp.loc["accuracy"]
    text = (f"On {a.n_test_complete} held-out cases the network classifies {acc['network']:.1%} correctly "
            f"and logistic regression {acc['logistic']:.1%}")
    if acc["diff_low"] == acc["diff_high"] == 0:
        text += "; the two models are right and wrong on exactly the same cases."
    else:
        text += (f"; the difference is {acc['difference']:+.1%} (95% interval {acc['diff_low']:+.1%} to "
                 f"{acc['diff_high']:+.1%}).")
        if acc["diff_low"] <= 0 <= acc["diff_high"]:
            text += " The interval includes zero: the data do not show either model to be more accurate."
    return text


def _variable_findings(a) -> list[str]:
    out = []
    table = a.variable_table().sort_values("expected", ascending=False)
    top = table.iloc[0]
    ei = a.results["expected"].to_frame().set_index("variable")
    spread = ei.loc[top["variable"], "member_sd"]
    out.append(
        f"The most influential variable is {top['variable']}: changing it alone could change the decision "
        f"for {top['potential']:.0%} of training cases, and given the other variables such a change is "
        f"expected for {top['expected']:.1%} of them (sd over members {spread:.1%}). Even without it, a "
        f"classifier can reach at least {top['accuracy_without_lb']:.1%} training accuracy (the network's "
        "accuracy minus this expected influence)."
    )
    shared = table[(table["expected_marginal"] > 0.05) & (table["expected_marginal"] > 4 * table["expected"])]
    for _, row in shared.iterrows():
        out.append(
            f"{row['variable']} looks influential on its own (marginal expected influence "
            f"{row['expected_marginal']:.1%}) but little of that survives once the other variables are known "
            f"({row['expected']:.1%}): what it says is largely said by the others too."
        )
    idle = table[(table["expected"] < 0.005) & (table["potential"] < 0.05)]
    if len(idle):
        out.append(
            "Variables that hardly ever change the decision: "
            + ", ".join(f"{r['variable']} (potential {r['potential']:.1%}, expected {r['expected']:.2%})"
                        for _, r in idle.iterrows()) + "."
        )
    agree = a.results["side_by_side"].agreement if hasattr(a.results["side_by_side"], "agreement") else None
    if isinstance(agree, pd.DataFrame) and len(agree):
        row = agree[(agree["method_a"] == "olden |CW|") & (agree["method_b"] == "expected influence")]
        if len(row):
            r = row.iloc[0]
            out.append(
                f"Weight-based and probabilistic readings {'agree' if r['spearman'] > 0.6 else 'disagree'} "
                f"on the ranking: Spearman correlation between Olden's connection weights and expected "
                f"influence {r['spearman']:.2f} over {int(r['n'])} variables."
            )
    return out


# -- figures -------------------------------------------------------------------------------
def _figure(draw, *args, figsize=(7, 4), **kwargs):
    """A figure outside pyplot's registry drawn by ``draw(*args, ax=..., **kwargs)``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    draw(*args, ax=fig.subplots(), **kwargs)
    fig.tight_layout()
    return fig


def _figure_grid(rows: int, cols: int, figsize, **kwargs):
    """An empty figure of ``rows x cols`` axes outside pyplot's registry."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    fig.subplots(rows, cols, **kwargs)
    return fig


def _step_name(model) -> str:
    return "iteration" if model.optimizer_ == "lbfgs" else "epoch"


def _optimizer_words(model) -> str:
    """How the members were fitted, in words."""
    c = model.convergence_
    if c.optimizer == "lbfgs":
        return (f"full-batch L-BFGS to the optimum of the penalised objective (up to {c.max_iter} "
                f"iterations; {int(c.n_iter.min())}-{int(c.n_iter.max())} taken)")
    return (f"minibatch {c.optimizer} (up to {c.max_iter} epochs; {int(c.n_iter.min())}-"
            f"{int(c.n_iter.max())} run)")


def _convergence_words(c) -> str:
    """One sentence on the convergence of every member; non-converged members are named."""
    bad = np.flatnonzero(~c.converged)
    if bad.size == 0:
        return (f"Convergence: all {len(c.converged)} members converged (largest final gradient "
                f"norm {float(c.grad_norm.max()):.2g}); the figures below read fitted optima.")
    return (f"Convergence: WARNING, members {bad.tolist()} of {len(c.converged)} did not converge "
            f"(stopped by {', '.join(sorted(set(c.reason[bad])))}; largest gradient norm "
            f"{float(c.grad_norm[bad].max()):.2g}). Their figures describe where training stopped, "
            "not an optimum; refit with a larger max_iter.")


def convergence_callout(sec, model) -> None:
    """On the first screen, a warning when any member did not converge (nothing otherwise):
    every figure of the page reads those members as they stopped, not at an optimum."""
    if not model.convergence_.converged.all():
        sec.callout(_convergence_words(model.convergence_))


def training_figure(sec, model) -> None:
    """The training curve of every member, after a warning naming any that did not converge
    (the opening of both reports' "Data and method")."""
    net = model.network_
    if not model.convergence_.converged.all():
        sec.callout(_convergence_words(model.convergence_))
    sec.figure("training-curve", _figure(_training_curve, model),
               f"Training objective per {_step_name(model)}, each member and the mean.",
               alt=f"Line chart of the training loss of each of the {net.n_members} members against the "
                   f"{_step_name(model)}, on a log scale.")


def _training_curve(model, ax=None):
    hist = model.history_
    loss = hist["train_loss"]
    ax.plot(np.arange(1, len(loss) + 1), loss, color="#2c6fb7", alpha=0.5, lw=1)
    all_active = ~np.isnan(loss).any(axis=1)
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs[all_active], loss[all_active].mean(axis=1), color="black", lw=2,
            label="mean over members (while all train)")
    ax.set_xlabel(_step_name(model))
    ax.set_ylabel("training loss (squared error / 2 on the standardised target + penalty)"
                  if model.network_.is_regression else "training loss (cross-entropy + penalty)")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title(f"Training of {model.network_.n_members} members")


# -- the report ----------------------------------------------------------------------------
MAX_FINDINGS = 5
"""Findings on the first screen (``results.json`` keeps all of them)."""

SURFACE_SPAN = (0.01, 0.99)
"""Quantiles of each axis of the report's decision surface: the range where the data lie."""


def _pct(v: float) -> str:
    return f"{v:.1%}"


def held_out(a) -> tuple[pd.DataFrame, pd.Series]:
    """The held-out rows the model can encode (those of every held-out figure) and their classes."""
    from ..analysis import usable_rows

    rows = usable_rows(a.model, a.X_test)
    return a.X_test[rows], a.y_test[rows]


def majority_baseline(a) -> tuple[object, float]:
    """The most common training class and the held-out accuracy of always predicting it."""
    majority = a.y_train.value_counts().idxmax()
    _, y = held_out(a)
    return majority, float((y == majority).mean()) if len(y) else float("nan")


def surface_choice(a):
    """The report's decision surface: over the two real variables of largest expected
    influence, on :data:`SURFACE_SPAN` of their training values, the others held at the typical
    case of the densest region (:func:`~shallownet.interpret.profiles.typical_row`); None when
    the model has fewer than two real variables."""
    from ..interpret import decision_surface

    net = a.model.network_
    real = {v.name for v in net.variables if v.kind == "real"}
    ranked = [n for n in a.results["expected"].to_frame().sort_values("expected", ascending=False)["variable"]
              if n in real]
    if len(ranked) < 2:
        return None
    train_rows = _training_rows(a)
    return decision_surface(a.model, train_rows, ranked[:2], at="densest", span=SURFACE_SPAN)


def _training_rows(a) -> pd.DataFrame:
    from ..analysis import usable_rows

    return a.X_train[usable_rows(a.model, a.X_train)]


def _comparison_numbers(a) -> dict | None:
    comp = a.results["comparison"]
    if comp is None:
        return None
    return comp.to_frame().set_index("metric").loc["accuracy"].to_dict()


def _importance_frame(a) -> pd.DataFrame:
    """Per variable: expected influence, its sd over members, and the logistic LR chi2 (if any)."""
    ei = a.results["expected"].to_frame()[["variable", "expected", "member_sd"]]
    tests = a.results.get("logistic_tests")
    if tests is not None:
        ei = ei.merge(tests[["variable", "chi2", "df", "p_value", "method"]], on="variable", how="left")
    return ei


def _logistic_label(a) -> str:
    tests = a.results.get("logistic_tests")
    if tests is None:
        return ""
    method = tests["method"].iloc[0]
    return "likelihood-ratio chi2 (refit without the variable)" if method == "likelihood ratio" else \
        f"deviance increase without the variable ({method})"


def _is_mle(a) -> bool:
    tests = a.results.get("logistic_tests")
    return tests is not None and tests["method"].iloc[0] == "likelihood ratio"


def _spearman(a) -> float:
    side = a.results["side_by_side"].agreement
    row = side[(side["contrast"] == "all")
               & (side[["method_a", "method_b"]].isin(["expected influence", "logistic LR chi2"]).all(axis=1))]
    return float(row["spearman"].iloc[0]) if len(row) else float("nan")


def first_screen(rep: Report, a) -> None:
    """The question, the headline comparison, the findings and one figure."""
    from ..plots.baselines import plot_importance_pair
    from ..plots.influence import plot_influence

    net = a.model.network_
    names = [v.name for v in net.variables]
    X_te, _ = held_out(a)
    sec = rep.section("")
    sec.text(f"Question: which {a.target} ({', '.join(str(c) for c in a.classes)}) does a case have, "
             f"given {len(names)} variables ({', '.join(names)})? Rows used: {len(_training_rows(a))} for "
             f"training and {len(X_te)} held out for testing, of {len(a.X_train) + len(a.X_test)} with a "
             f"target.")
    majority, base = majority_baseline(a)
    acc = _comparison_numbers(a)
    figures = [(_pct(a.test_accuracy), "network accuracy, held-out cases")]
    if acc is not None:
        figures += [(_pct(acc["logistic"]), "logistic regression accuracy"),
                    (f"{acc['difference']:+.1%} [{acc['diff_low']:+.1%}, {acc['diff_high']:+.1%}]",
                     "network minus logistic, 95% interval")]
    figures.append((_pct(base), f"always predicting {majority}"))
    sec.headline(figures)
    convergence_callout(sec, a.model)
    sec.findings(findings(a)[:MAX_FINDINGS])
    frame = _importance_frame(a)
    if "chi2" in frame:
        fig = _figure_grid(1, 2, (9, 0.4 * len(frame) + 1.6), sharey=True)
        plot_importance_pair(frame, "expected", "chi2", left_error="member_sd", axes=fig.axes,
                             labels=("expected influence\n(±1 sd over members)",
                                     "logistic: LR chi2 without the variable" if _is_mle(a) else
                                     "logistic (penalised): deviance\nincrease without the variable"))
        fig.suptitle(f"What the network and logistic regression find important (Spearman rho {_spearman(a):.2f})",
                     fontsize="medium")
        fig.tight_layout()
        top = frame.sort_values("expected", ascending=False)["variable"].tolist()
        top_lr = frame.sort_values("chi2", ascending=False)["variable"].tolist()
        sec.figure("importance", fig,
                   "Left: expected influence of each variable on the network's decision; right: the logistic "
                   "regression's importance of the same variable.",
                   alt=f"Two bar charts. By expected influence the order is {', '.join(top)}; by the logistic "
                       f"regression's {_logistic_label(a)} it is {', '.join(top_lr)}.")
    else:
        sec.figure("importance", _figure(plot_influence, a.results["expected"], figsize=(8, 4.5)),
                   "Potential and expected influence per variable (no logistic regression to compare).")


def section_quality(rep: Report, a) -> None:
    from ..plots.baselines import plot_calibration, plot_metrics, plot_roc

    sec = rep.section("How good is the network?")
    majority, base = majority_baseline(a)
    acc = _comparison_numbers(a)
    comp = a.results["comparison"]
    text = (f"On {a.n_test_complete} held-out cases the network is right {_pct(a.test_accuracy)} of the time"
            + (f", logistic regression {_pct(acc['logistic'])} (difference {acc['difference']:+.1%}, 95% interval "
               f"{acc['diff_low']:+.1%} to {acc['diff_high']:+.1%})" if acc is not None else "")
            + f", and always predicting the most common class, {majority}, {_pct(base)}.")
    if comp is not None:
        text += " " + _calibration_words(comp)
    sec.conclusion(text)
    counts = pd.concat([a.y_train.value_counts().rename("train"), a.y_test.value_counts().rename("test")], axis=1)
    shares = counts["train"] / counts["train"].sum()
    balance = ", ".join(f"{c} {v:.0%}" for c, v in shares.items())
    sec.text(f"Class balance in training: {balance}.")
    outside = _out_of_range_words(a)
    if outside:
        sec.callout(outside)
    if comp is None:
        missing = [n for n in a.notes if n.startswith(("No logistic-regression baseline", "No held-out comparison"))]
        sec.text(" ".join(missing) or "There is no comparison with logistic regression.")
        return
    sec.figure("metrics", _figure(plot_metrics, comp, kind="difference"),
               "Network minus logistic regression on each held-out metric, with 95% paired bootstrap intervals.",
               alt="Dots with interval bars, one per metric (accuracy, log-loss, Brier score, ROC AUC, "
                   "calibration error), showing the network's value minus logistic regression's; "
                   f"accuracy {acc['difference']:+.1%}.")
    detail = sec.details("Detail: all metrics, ROC, calibration, class counts")
    detail.table("comparison", comp.to_frame(), "Held-out metrics with 95% paired bootstrap intervals of the difference.")
    detail.figure("roc", _figure(plot_roc, comp), "ROC curves on held-out rows.",
                  alt="ROC curves of the network and of logistic regression on the held-out rows.")
    detail.figure("calibration", _figure(plot_calibration, comp), "Calibration on held-out rows.",
                  alt="Reliability diagram: observed frequency against predicted probability for both models.")
    detail.table("class-counts", counts.rename_axis("class").reset_index(), "Rows per class.")


def _calibration_words(comp) -> str:
    """One sentence on calibration: the expected calibration error of both models, held out."""
    ece = comp.to_frame().set_index("metric").loc["calibration_error"]
    worse = "network" if ece["network"] > ece["logistic"] else "logistic regression"
    text = (f"Its predicted probabilities are off from the observed frequencies by {ece['network']:.3f} on average "
            f"(expected calibration error; logistic regression {ece['logistic']:.3f}")
    if ece["diff_low"] <= 0 <= ece["diff_high"]:
        return text + ", a difference the data cannot tell from zero)."
    return text + f"; the {worse} is the less well calibrated, 95% interval of the difference " \
                  f"{ece['diff_low']:+.3f} to {ece['diff_high']:+.3f})."


def _out_of_range_words(a) -> str:
    """A warning when held-out rows hold real values outside the training range ("" if none)."""
    X_te, _ = held_out(a)
    if not len(X_te):
        return ""
    enc = a.model.encoder_
    rows = int(enc.out_of_range_rows(X_te).sum())
    if not rows:
        return ""
    counts = {k: n for k, n in enc.out_of_range(X_te).items() if n}
    return (f"{rows} of {len(X_te)} held-out cases ({rows / len(X_te):.1%}) have a value outside the training range "
            f"({', '.join(f'{k}: {n}' for k, n in counts.items())}); there the network extrapolates beyond the data "
            "it was fitted on, and the held-out figures include those cases.")


def dependence_figure(dependences, class_of=None):
    """ICE curves (thin) with partial dependence (thick) of each result in ``dependences``,
    side by side; ``class_of(dep)`` picks the class drawn (None: the function's own output)."""
    from ..plots.sensitivity import plot_partial_dependence

    fig = _figure_grid(1, len(dependences), (4.2 * len(dependences), 3.8), squeeze=False)
    for ax, dep in zip(fig.axes, dependences):
        plot_partial_dependence(dep, class_=None if class_of is None else class_of(dep), max_ice=50, ax=ax)
        ax.set_title(dep.variable)
    fig.tight_layout()
    return fig


def _moving_class(dep):
    """The class whose partial dependence moves most over the variable's values (for two
    classes, the second)."""
    if len(dep.classes) == 2:
        return dep.classes[1]
    span = dep.average.max(axis=0) - dep.average.min(axis=0)
    return dep.classes[int(np.argmax(span))]


def section_variables(rep: Report, a) -> None:
    from ..plots.baselines import plot_importance_vs_coefficient
    from ..plots.influence import plot_influence, plot_influence_heatmap
    from ..plots.sensitivity import plot_profile, plot_sensitivity
    from ..plots.weights import plot_importance

    r = a.results
    ei = r["expected"]
    frame = _importance_frame(a).sort_values("expected", ascending=False)
    top = frame.iloc[0]
    sec = rep.section("Which variables matter, and how do we know?")
    text = (f"{top['variable']} matters most: changing it alone is expected to change the network's decision for "
            f"{top['expected']:.1%} of training cases")
    if "chi2" in frame:
        lr_top = frame.sort_values("chi2", ascending=False).iloc[0]["variable"]
        rho = _spearman(a)
        text += (f"; logistic regression {'agrees on the first variable' if lr_top == top['variable'] else f'puts {lr_top} first'}"
                 f", and the two rankings correlate with Spearman rho {rho:.2f} over {len(frame)} variables.")
    else:
        text += "."
    sec.conclusion(text)
    side = r["side_by_side"]
    if "chi2" in frame:
        sec.figure("influence-vs-logistic",
                   _figure(plot_importance_vs_coefficient, side, "expected influence", logistic="logistic LR chi2"),
                   f"Each variable: the logistic regression's {_logistic_label(a)} (x) against expected influence (y).",
                   alt="Scatter plot, one labelled point per variable: "
                       + "; ".join(f"{v} at chi2 {c:.3g}, influence {e:.3g}"
                                   for v, c, e in zip(frame["variable"], frame["chi2"], frame["expected"])) + ".")
    else:
        sec.figure("influence", _figure(plot_influence, ei, figsize=(8, 4.5)), "Potential and expected influence per variable.")
    deps = r.get("dependence") or []
    if deps:
        moves = [(d.variable, _moving_class(d), float(np.ptp(d.average[:, list(d.classes).index(_moving_class(d))])))
                 for d in deps]
        sec.figure("partial-dependence", dependence_figure(deps, _moving_class),
                   f"ICE curves (grey: 50 training cases, each with only this variable changed) and partial "
                   f"dependence (red: their mean) of the {len(deps)} most influential variables. Curves that "
                   "cross or fan out show interactions that the mean hides.",
                   alt="Line charts, one per variable: "
                       + "; ".join(f"{v}, the mean probability of {c} moves over a range of {m:.2f}" for v, c, m in moves)
                       + ".")
    knn = (f" The kNN conditional uses the k = {ei.n_neighbors} nearest of {ei.n_reference} reference rows."
           if ei.conditional == "knn" else "")
    detail = sec.details("Detail: influence, sensitivity, weights, attributions and every importance side by side")
    detail.text(
        "Potential influence: the share of cases whose decision changes for some value of the variable "
        "(others held fixed). Expected influence: the probability that the variable's value, drawn from its "
        f"distribution given the other variables ({a.settings.get('conditional')} conditional), changes the "
        "decision; the marginal version (ignoring the other variables) is a baseline that overstates the "
        "influence of variables that others predict. Accuracy without a variable is at least the network's "
        "accuracy minus its expected influence." + knn)
    detail.figure("influence", _figure(plot_influence, ei, figsize=(8, 4.5)), "Potential and expected influence per variable.")
    detail.table("influence", ei.to_frame(), "Influence per variable (means over training cases).")
    detail.table("influence-by-class", ei.aggregate(by="true"), "Expected influence per true class.")
    detail.figure("influence-cases", _figure(plot_influence_heatmap, ei, figsize=(8, 4.5)),
                  "Expected influence per case (rows) and variable (columns).")
    if r.get("logistic_tests") is not None:
        detail.table("logistic-tests", r["logistic_tests"], "Logistic regression: one test per variable, the model "
                     "refitted without it (unsigned, comparable across variables of any kind).")
    detail.table("side-by-side", side.to_frame(), "Per-variable importance from each method, with ranks.")
    detail.table("agreement", side.agreement, "Rank agreement of every pair of methods (absolute values).")
    detail.figure("sensitivity", _figure(plot_sensitivity, r["sensitivity"]),
                  "Partial derivatives: mean against sd over cases (per class).")
    detail.table("sensitivity", r["sensitivity"].to_frame(), "Partial derivatives of the class probabilities.")
    detail.table("permutation", r["permutation"].to_frame(),
                 "Permutation importance on held-out rows (a one-hot group permuted as one).")
    for d in deps:
        detail.table(f"partial-dependence-{d.variable}", d.to_frame(),
                     f"Partial dependence of {d.variable} with the 10% and 90% quantiles of the ICE curves.")
    detail.figure("profile", _figure(plot_profile, r["profile"]),
                  "Lek profile of the most influential variable, the others held at quantile groups.")
    detail.subheading("What the weights say")
    detail.text("Garson's shares, Olden's connection weights and Milne's signed shares read the weight matrices "
                "directly; an enumerated variable is summarised by the range of its centred category values. "
                "Mean and sd are over members.")
    detail.figure("olden", _figure(plot_importance, r["olden"], figsize=(8, 4.5)),
                  "Olden's connection weights per class (bars: mean over members; lines: ±1 sd).")
    detail.figure("garson", _figure(plot_importance, r["garson"]), "Garson's relative importance (shares sum to 1).")
    detail.table("garson", r["garson"].to_frame(), "Garson importance.")
    detail.table("olden", r["olden"].to_frame(), "Olden connection weights per class and class contrast.")
    detail.table("milne", r["milne"].to_frame(), "Milne's signed importance.")
    return detail


def section_hidden(rep: Report, a):
    """The hidden nodes' section (None for a network without a hidden layer)."""
    from ..plots.weights import plot_activation_distributions, plot_network

    r = a.results
    if r.get("activations") is None:
        return None
    act = r["activations"]
    sep = act.separation(0, 0).sort_values("relative", ascending=False)
    best = sep.iloc[0]
    clear = int((sep["relative"] > 0.5).sum())
    flat = int((act.values[0][0].std(axis=0) < 0.01).sum())
    sec = rep.section("What do the hidden nodes do?")
    sec.conclusion(
        f"In member 0, node {best['node']} separates {best['high_class']} (median activation "
        f"{best['median_high']:.2f}) from {best['low_class']} ({best['median_low']:.2f}) most clearly; "
        f"{clear} of {len(sep)} nodes have two class medians more than half their range apart"
        + (f", and {flat} barely vary (sd below 0.01)." if flat else "."))
    sec.figure("hidden-activations", _figure(plot_activation_distributions, act, figsize=(8, 0.6 * len(sep) + 1.5)),
               "Each hidden node's activation on the training cases, by true class (member 0; nodes ordered by how "
               "far apart their class medians lie).",
               alt="Violin strips, one row per hidden node and one violin per class: "
                   + "; ".join(f"{n}: {h} median {mh:.2f}, {l} median {ml:.2f}" for n, h, l, mh, ml in
                               sep[["node", "high_class", "low_class", "median_high", "median_low"]].itertuples(index=False))
                   + ".")
    detail = sec.details("Detail: network diagram, member-level tables (activations, firing frequencies, output "
                         "deltas, OR/AND logic)")
    detail.figure("network-diagram", plot_network(r["weights"], r["activity"]).figure,
                  "Neural interpretation diagram of member 0: edge width is |weight|, red positive, blue "
                  "negative; F is the share of training cases on which a hidden node fires.",
                  alt="Diagram of the network of member 0: inputs on the left, hidden nodes, outputs on the right, "
                      "edges drawn by weight.")
    detail.table("hidden-separation", sep, "Per node of member 0: the classes with the highest and lowest median "
                 "activation, and their difference over the node's 5th-95th percentile range.")
    detail.table("hidden-activations", act.to_frame(), "Activation quartiles per member, node and class.")
    detail.table("hidden-activity", r["activity"].to_frame(), "Firing frequencies near 1 and near 0.")
    detail.table("output-deltas", r["deltas"].to_frame(), "Delta between outputs: which class each hidden node favours.")
    detail.table("hidden-logic", r["logic"].to_frame(), "OR / AND reading of the hidden nodes for each output.")
    return detail


def section_difference(rep: Report, a) -> None:
    from ..plots.sensitivity import plot_surface

    r = a.results
    logistic = r["logistic"]
    sec = rep.section("Where does the network differ from logistic regression?")
    X_te, _ = held_out(a)
    surface = surface_choice(a)
    if logistic is not None and len(X_te):
        with warnings.catch_warnings():  # out-of-range test values are already in the notes
            warnings.simplefilter("ignore", OutOfRangeWarning)
            differ = int((a.model.predict(X_te) != logistic.predict(X_te)).sum())
        text = (f"The network and logistic regression decide differently on {differ} of {len(X_te)} held-out cases "
                f"({differ / len(X_te):.1%})")
    else:
        text = "There is no logistic regression to hold the network against"
    table = r["side_by_side"].values
    ranks = table[table["contrast"] == "all"].pivot(index="variable", columns="method", values="rank")
    if {"expected influence", "logistic LR chi2"} <= set(ranks.columns):
        gap = (ranks["expected influence"] - ranks["logistic LR chi2"]).abs()
        v = gap.idxmax()
        text += (f"; the variable they rank most differently is {v} (rank {ranks.at[v, 'expected influence']:g} by "
                 f"expected influence, {ranks.at[v, 'logistic LR chi2']:g} by the logistic test)." if gap.max() >= 2
                 else "; they rank every variable within one place of each other.")
    else:
        text += "."
    sec.conclusion(text)
    if surface is not None:
        rows = _training_rows(a)
        y = a.y_train.loc[rows.index]
        va, vb = surface.variables
        p = surface.proba
        sec.figure("decision-surface", _figure(plot_surface, surface, points=rows, labels=y.to_numpy(), figsize=(7, 5.5)),
                   f"The network's decision over {va} and {vb} (the two real variables of largest expected influence; "
                   f"1st to 99th percentile of the training values), the other variables held at {surface.at}, the "
                   "training cases on top, coloured by true class. A linear logistic boundary would be straight.",
                   alt=f"Map over {va} (x) and {vb} (y) of the network's decision, class probabilities from "
                       f"{p.min():.2f} to {p.max():.2f}, with the training cases as points coloured by class.")
    if logistic is not None and logistic.coefficients is not None:
        table = logistic.coefficients.odds_ratios(raw_iqr(_training_rows(a), logistic.encoder.variables_))
        sec.table("odds-ratios", table,
                  "Logistic regression (maximum likelihood): odds ratios per raw unit and per interquartile range "
                  "of each real variable, and of each category against its reference, with 95% Wald intervals.")
    elif logistic is not None:
        sec.text("Logistic regression has no maximum-likelihood estimates here (see Data and method), so there are "
                 "no odds ratios with intervals; the comparison uses the penalised fit.")
    detail = sec.details("Detail: coefficients on the [0, 1] scale, penalised coefficients")
    if logistic is not None and logistic.coefficients is not None:
        detail.table("logistic-coefficients", logistic.coefficients.to_frame(),
                     "Logistic regression (statsmodels): coefficients per [0, 1] range (the training minimum to "
                     "maximum), odds ratios, intervals.")
    if logistic is not None:
        detail.table("penalised-coefficients", logistic.penalised_coefficients(),
                     f"Penalised logistic regression used for prediction (L2, C = {logistic.C:.3g}), per [0, 1] range.")
    if surface is not None:
        detail.table("decision-surface", surface.to_frame(), "The decision surface's grid.")


def section_method(rep: Report, a) -> None:
    model = a.model
    net = model.network_
    enc = model.encoder_
    arch = architecture(a)
    c = model.convergence_
    sec = rep.section("Data and method")
    policy = a.missing.get("policy", "error") if a.missing else "error"
    n_missing = sum(col["train_missing"] + col["test_missing"] for col in a.missing.get("columns", [])) if a.missing else 0
    bad = int((~c.converged).sum())
    sec.conclusion(
        f"{len(a.X_train) + len(a.X_test)} rows and {len(net.variables)} variables; {n_missing} missing cells, "
        f"handled by the '{policy}' policy; an ensemble of {net.n_members} networks {arch} ({net.activation}), "
        + ("all of which converged." if bad == 0 else f"of which {bad} did NOT converge (see below)."))
    training_figure(sec, model)
    detail = sec.details("Detail: data, encoding, missing values, training, notes, settings")
    detail.text(
        f"{len(a.X_train) + len(a.X_test)} rows with a target ({a.dropped_target_rows} without one dropped), "
        f"split {len(a.X_train)} for training and {len(a.X_test)} held out (stratified, seed "
        f"{a.settings.get('random_state')}). Real variables are scaled to [0, 1] with the training minimum "
        "and maximum; enumerated variables become groups of one-hot columns and are treated as one variable "
        "everywhere.")
    detail.table("variables", enc.describe(), "Variables as encoded (min and max in raw units).")
    if a.missing:
        detail.subheading("Missing data")
        detail.text(missing_words(a.missing))
        if a.missing["columns"]:
            detail.table("missing-data", missing_table(a.missing),
                         "Missing cells per variable (tokens such as 'NA' or '?' included), how they are encoded, "
                         "and whether missingness itself moves the decision: the share of training rows whose "
                         "decision changes when the variable alone is set to missing.")
    if enc.n_dropped_rows_ or enc.dropped_columns_:
        detail.callout(
            f"Dropped {enc.n_dropped_rows_} training rows with missing values"
            + (f" and the constant columns {enc.dropped_columns_}" if enc.dropped_columns_ else "") + ".")
    detail.subheading("Model and training")
    detail.text(
        f"An ensemble of {net.n_members} networks {arch} with {net.activation} hidden units, trained together "
        f"from different initial weights"
        + (", each on its own bootstrap resample of the training rows (so the spread over members "
           "reflects sampling variability)," if a.settings.get("bootstrap_members") else "")
        + f" with {_optimizer_words(model)}. Predictions average the members' probabilities.")
    detail.text(_convergence_words(c))
    detail.table("convergence", c.to_frame(), "Convergence of every member.")
    if a.notes:
        detail.subheading("What was dropped or reported on the way")
        detail.bullets(a.notes)
    if "information_plane" in a.results:
        from ..plots.information import plot_information_plane

        detail.subheading("Information plane")
        detail.text("Mutual information between each layer and the inputs, I(X;T), and the labels, I(T;Y), "
                    "over a training run with parameter snapshots (estimator settings in the table).")
        detail.figure("information-plane", _figure(plot_information_plane, a.results["information_plane"], figsize=(7, 5)),
                      "Information plane, one trajectory per layer coloured by epoch.")
        detail.table("information-plane", a.results["information_plane"].to_frame(), "I(X;T) and I(T;Y) per layer and epoch.")
    reproducibility_section(detail, a)


def architecture(a) -> str:
    """The layer widths of the analysis' network, inputs to outputs, e.g. ``"9-5-3"``."""
    net, enc = a.model.network_, a.model.encoder_
    return "-".join(str(s) for s in (enc.n_features_out_, *net.hidden_sizes, net.n_outputs))


def new_report(a, kind: str) -> Report:
    """An empty report page titled by the analysis ``a``: target, source, date, version and
    the network's architecture (``kind`` names it, e.g. "network" or "regression network")."""
    net = a.model.network_
    created = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    arch = architecture(a)
    return Report(
        f"shallownet analysis: {a.target} from {a.source}",
        subtitle=f"{created} · shallownet {a.settings.get('shallownet', '')} · {kind} {arch} "
                 f"({net.activation}, {net.output} output, {net.n_members} members)",
    )


def build_report(a) -> Report:
    """The HTML report of an analysis (figures drawn here; nothing is written yet).

    A first screen that stands alone (the question, the headline comparison with logistic
    regression, the findings, one figure), then one section per question, each opening with
    its conclusion drawn from the numbers, then its figure, then its detail folded away.
    """
    if _is_regression(a):
        from .regression import build_regression_report

        return build_regression_report(a)
    import matplotlib

    from ..plots.palette import rc_params

    net = a.model.network_
    rep = new_report(a, "network")
    with matplotlib.rc_context(rc_params()):
        first_screen(rep, a)
        section_quality(rep, a)
        variables = section_variables(rep, a)
        hidden = section_hidden(rep, a)
        attribution_sections(a, variables, hidden if hidden is not None else variables)
        section_difference(rep, a)
        section_method(rep, a)
    return rep


def reproducibility_section(rep, a) -> None:
    """The settings and the time per step of an analysis (both kinds of report end with it):
    a section of ``rep`` when it is a :class:`Report`, else added to the given section."""
    sec = rep.section("Reproducibility") if isinstance(rep, Report) else rep.subheading("Reproducibility")
    sec.table("settings", pd.DataFrame({"setting": list(a.settings), "value": [str(v) for v in a.settings.values()]}),
              "Settings of this analysis.")
    sec.table("timings", pd.DataFrame({"step": list(a.timings), "seconds": list(a.timings.values())}),
              "Time per step (seconds; the first run of a session includes compilation).")


def results_json(a) -> dict:
    """The machine-readable results (validated against :data:`RESULTS_SCHEMA`; for a numeric
    target :data:`shallownet.report.regression.REGRESSION_SCHEMA`)."""
    if _is_regression(a):
        from .regression import regression_results_json

        return regression_results_json(a)
    model = a.model
    net = model.network_
    enc = model.encoder_
    table = a.variable_table()
    variables = []
    for v, (_, row) in zip(net.variables, table.iterrows()):
        entry = to_jsonable(row.to_dict())
        entry.update({"minimum": v.minimum, "maximum": v.maximum,
                      "categories": to_jsonable(list(v.categories)) if v.kind == "enumerated" else []})
        variables.append(entry)
    counts = a.y_train.value_counts().add(a.y_test.value_counts(), fill_value=0)
    logistic = a.results["logistic"]
    mle = None if logistic is None else logistic.coefficients
    tests = a.results.get("logistic_tests")
    rho = _spearman(a)
    surface = surface_choice(a)
    majority, majority_accuracy = majority_baseline(a)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "shallownet_version": a.settings.get("shallownet", ""),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": a.source,
        "target": a.target,
        "classes": to_jsonable(a.classes),
        "data": {
            "n_rows": int(len(a.X_train) + len(a.X_test)),
            "n_train": int(len(a.X_train)),
            "n_test": int(len(a.X_test)),
            "n_test_complete": int(a.n_test_complete),
            "dropped_target_rows": int(a.dropped_target_rows),
            "dropped_training_rows": int(enc.n_dropped_rows_),
            "dropped_columns": list(enc.dropped_columns_),
            "class_counts": {str(k): int(v) for k, v in counts.items()},
            "majority_class": to_jsonable(majority),
            "majority_accuracy": None if np.isnan(majority_accuracy) else majority_accuracy,
        },
        "model": {
            "hidden_layer_sizes": list(net.hidden_sizes),
            "activation": net.activation,
            "output": net.output,
            "n_members": net.n_members,
            "optimizer": model.optimizer_,
            "convergence": to_jsonable(model.convergence_.to_frame()),
            "test_accuracy": float(a.test_accuracy),
            "settings": to_jsonable(a.settings),
        },
        "variables": variables,
        "comparison": None if a.results["comparison"] is None else {
            "n": int(a.n_test_complete), "metrics": to_jsonable(a.results["comparison"].to_frame())},
        "logistic": None if logistic is None else {
            "coefficients": None if mle is None else to_jsonable(mle.to_frame()),
            "odds_ratios": None if mle is None else to_jsonable(mle.odds_ratios(raw_iqr(_training_rows(a), enc.variables_))),
            "variable_tests": None if tests is None else to_jsonable(tests)},
        "importance_agreement": {"expected_vs_logistic_spearman": None if np.isnan(rho) else rho},
        "decision_surface": None if surface is None else {
            "variables": list(surface.variables), "span": list(SURFACE_SPAN), "at": surface.at},
        "information_plane": to_jsonable(a.results["information_plane"].to_frame())
        if "information_plane" in a.results else None,
        **({"missing": to_jsonable(a.missing)} if a.missing else {}),
        "attributions": attributions_json(a),
        "findings": findings(a),
        "notes": list(a.notes),
        "timings": {k: float(v) for k, v in a.timings.items()},
    }
    validate(doc, RESULTS_SCHEMA)
    return doc


class _Interrupts:
    """Ctrl-C while the report is written always stops the run.

    A SIGINT raises KeyboardInterrupt wherever Python happens to be, and where that is a
    finaliser or a callback the exception is printed and dropped (the run then went on and
    exited 0). Here the handler also records the signal, and :meth:`check`, called between
    the files, raises it again. Only the main thread can install handlers; elsewhere this
    does nothing.
    """

    def __init__(self):
        self.seen = False
        self.previous = None

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        self.check()
        return False


def check_destination(folder: str | os.PathLike, force: bool) -> Path:
    """Refuse, before anything runs, a destination that :func:`write_analysis` would refuse."""
    folder = Path(folder)
    if os.path.lexists(folder):
        if folder.is_symlink() or not folder.is_dir():
            raise FileExistsError(f"{folder} exists and is not a folder; give the path of a report folder "
                                  "(an existing file is never replaced, even with --force / force=True).")
        if not force:
            raise FileExistsError(f"{folder} exists; pass --force (force=True) to replace it.")
    for parent in folder.absolute().parents:
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise FileExistsError(f"{parent} is a file, so the report folder {folder} cannot be created in it.")
            break
    return folder


def write_analysis(a, folder: str | os.PathLike, force: bool = False, single_file: bool = False) -> Path:
    """Write the report folder atomically; refuse an existing ``folder`` unless ``force``.

    With ``single_file`` the figures are embedded in ``index.html`` too (base64 PNG), so that
    the page alone can be mailed; the folder keeps the PNGs, CSVs and the rest.

    Everything is written into a hidden sibling folder first and moved in at the end by
    :func:`shallownet.report.publish.publish`: without ``force`` nothing that exists at
    ``folder`` is ever removed (also when it appears while the report is drawn), and with
    ``force`` the old report is swapped out in one step, so that a kill at any moment leaves
    the complete old or the complete new report. Folders left by a killed run are cleaned up
    (or put back) first, with a warning naming them. Ctrl-C stops the run.
    """

    from ..io import save
    from .publish import publish, recover, sibling

    folder = check_destination(folder, force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    for note in recover(folder):
        warnings.warn(note, stacklevel=2)
    folder = check_destination(folder, force)  # a report put back by recover() counts
    with _Interrupts() as interrupts:
        tmp = sibling(folder, "new")
        try:
            report = build_report(a)
            interrupts.check()
            report.write(tmp, tick=interrupts.check, single_file=single_file)
            (tmp / "results.json").write_text(json.dumps(results_json(a), indent=2), encoding="utf-8")
            interrupts.check()
            save(a.model, tmp / "model.npz")
            interrupts.check()
            try:
                publish(tmp, folder, force)
            except FileExistsError:
                kept = _free_name(folder)
                os.rename(tmp, kept)
                raise FileExistsError(
                    f"{folder} appeared while the report was being written (another run?); it was left "
                    f"untouched and this report was written to {kept} instead.") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder


def _free_name(folder: Path) -> Path:
    k = 2
    while os.path.lexists(folder.with_name(f"{folder.name}-{k}")):
        k += 1
    return folder.with_name(f"{folder.name}-{k}")
