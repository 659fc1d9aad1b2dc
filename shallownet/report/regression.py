"""The report of a :class:`~shallownet.analysis_regression.RegressionAnalysis` (numeric target).

:func:`shallownet.report.build.write_analysis` writes it like the classification report (the
same folder layout, atomic publication, ``model.npz``): :func:`build_regression_report` draws
the page, :func:`regression_results_json` gives ``results.json`` (schema
:data:`REGRESSION_SCHEMA`, the same ``schema_version``, ``"task": "regression"``) and
:func:`regression_findings` the plain-language findings. Every figure is in raw units of the
target; residuals are ``observed - predicted``.
"""

from __future__ import annotations

import copy
import datetime as _dt

import numpy as np
import pandas as pd

from ..results import to_jsonable
from .build import (
    architecture,
    dependence_figure,
    new_report,
    RESULTS_SCHEMA,
    SCHEMA_VERSION,
    _convergence_words,
    _figure,
    _optimizer_words,
    _step_name,
    _training_curve,
    reproducibility_section,
)
from .html import Report
from .schema import validate

_NUMBER_OR_NULL = {"type": ["number", "null"]}
VARIABLE_FIELDS = ("garson", "olden_abs", "olden_per_raw_unit", "milne_abs", "pad_rms", "pad_mean_per_raw_unit",
                   "potential", "expected", "expected_share", "expected_marginal", "mae_without_ub",
                   "rmse_without_ub", "permutation_r2", "ols_t", "ols_standardised")


def _schema() -> dict:
    """The classification schema with the class-specific parts replaced (kept in step with it)."""
    base = copy.deepcopy(RESULTS_SCHEMA)
    props = base["properties"]
    for key in ("classes", "logistic", "information_plane", "comparison", "importance_agreement",
                "decision_surface"):
        props.pop(key)
    data = props["data"]
    classes_only = ("class_counts", "majority_class", "majority_accuracy")
    data["required"] = [k for k in data["required"] if k not in classes_only]
    for key in classes_only:
        data["properties"].pop(key)
    model = props["model"]
    model["required"] = [k for k in model["required"] if k != "test_accuracy"] + [
        "test_rmse", "test_mae", "test_r2", "target_mean", "target_scale"]
    model["properties"].pop("test_accuracy")
    model["properties"]["output"] = {"const": "linear"}
    model["properties"].update({k: {"type": "number"} for k in ("test_rmse", "test_mae", "test_r2",
                                                                 "target_mean", "target_scale")})
    item = props["variables"]["items"]
    item["required"] = ["variable", "kind", *VARIABLE_FIELDS]
    item["properties"] = {**{k: v for k, v in item["properties"].items()
                             if k in ("variable", "kind", "minimum", "maximum", "categories")},
                          **{k: _NUMBER_OR_NULL for k in VARIABLE_FIELDS}}
    props.update({
        "task": {"const": "regression"},
        "target_summary": {
            "type": "object", "required": ["n", "mean", "sd", "min", "max", "n_distinct"],
            "properties": {"n": {"type": "integer", "minimum": 0}, "n_distinct": {"type": "integer", "minimum": 0},
                           **{k: {"type": "number"} for k in ("mean", "sd", "min", "max")}},
        },
        "comparison": {
            "type": "object", "required": ["n", "names", "metrics", "test"],
            "properties": {
                "n": {"type": "integer", "minimum": 0},
                "names": {"type": "array", "items": {"type": "string"}},
                "metrics": {"type": "array", "items": {
                    "type": "object",
                    "required": ["metric", "network", "linear", "difference", "ci_low", "ci_high"],
                    "properties": {"metric": {"enum": ["rmse", "mae", "r2"]},
                                   **{k: {"type": "number"} for k in ("network", "linear", "difference",
                                                                      "ci_low", "ci_high")}}}},
                "test": {"type": "object", "required": ["mean_difference", "t", "df", "p"],
                         "properties": {"df": {"type": "integer"},
                                        **{k: _NUMBER_OR_NULL for k in ("mean_difference", "t", "p")}}},
            },
        },
        "linear": {
            "type": "object",
            "required": ["rsquared", "rsquared_adj", "fvalue", "f_pvalue", "rmse", "n_obs", "cov_type",
                         "coefficients", "importance"],
            "properties": {"n_obs": {"type": "integer", "minimum": 0}, "cov_type": {"type": "string"},
                           "coefficients": {"type": "array"}, "importance": {"type": "array"},
                           **{k: _NUMBER_OR_NULL for k in ("rsquared", "rsquared_adj", "fvalue", "f_pvalue",
                                                           "rmse")}},
        },
    })
    base["required"] = ["schema_version", "task", "shallownet_version", "created", "source", "target",
                        "target_summary", "data", "model", "variables", "comparison", "linear", "findings",
                        "notes", "timings"]
    return base


REGRESSION_SCHEMA: dict = _schema()
"""Schema of a regression report's ``results.json`` (version :data:`~shallownet.report.build.SCHEMA_VERSION`)."""


def target_summary(a) -> dict:
    """n, mean, sd (ddof 1), min, max and distinct values of the target (rows with a value)."""
    y = pd.concat([a.y_train, a.y_test]).to_numpy(dtype=float)
    return {"n": int(y.size), "mean": float(y.mean()), "sd": float(y.std(ddof=1)) if y.size > 1 else 0.0,
            "min": float(y.min()), "max": float(y.max()), "n_distinct": int(np.unique(y).size)}


def residual_table(a) -> pd.DataFrame:
    """One row per complete held-out case: observed, each model's prediction and residual."""
    comp = a.results["comparison"]
    res = comp.residuals()
    frame = pd.DataFrame({"row": a.X_test.index[a.test_rows], "observed": comp.y})
    for k, name in enumerate(comp.names):
        frame[f"{name}_predicted"] = comp.predictions[k]
        frame[f"{name}_residual"] = res[k]
    return frame


def _g(value: float) -> str:
    return f"{value:.3g}"


def regression_findings(a) -> list[str]:
    """Plain-language statements drawn from the numbers, each with its uncertainty."""
    out = []
    comp = a.results["comparison"]
    m = comp.to_frame().set_index("metric")
    net, lin = comp.names
    rmse, r2 = m.loc["rmse"], m.loc["r2"]
    text = (f"On {a.n_test_complete} held-out cases the network predicts {a.target} with RMSE {_g(rmse[net])} "
            f"(MAE {_g(m.loc['mae', net])}, R² {r2[net]:.3f}); ordinary least squares on the same variables "
            f"has RMSE {_g(rmse[lin])} (R² {r2[lin]:.3f}). The network's RMSE minus OLS's is "
            f"{rmse['difference']:+.3g} (95% paired bootstrap interval {rmse['ci_low']:+.3g} to "
            f"{rmse['ci_high']:+.3g}; paired t test of squared errors p = {comp.test['p']:.2g}).")
    if rmse["ci_low"] <= 0 <= rmse["ci_high"]:
        text += (" The interval includes zero: the data do not show either model to predict better, so a "
                 "linear model describes these data about as well as the network.")
    elif rmse["ci_high"] < 0:
        text += (" The network's errors are smaller: the data hold structure (curvature or interactions) "
                 "that a linear model misses.")
    else:
        text += (" OLS's errors are smaller: on these data the network does not improve on a linear model "
                 "(see the convergence of its members below, and consider fewer hidden units).")
    out.append(text)
    table = a.variable_table().sort_values("expected", ascending=False)
    top = table.iloc[0]
    out.append(
        f"The most influential variable is {top['variable']}: moved over its values it changes the "
        f"prediction by {_g(top['potential'])} on average (the range, in units of {a.target}), and a value "
        f"drawn given the other variables changes it by {_g(top['expected'])} on average, "
        f"{top['expected_share']:.0%} of the typical difference between two cases' predictions. "
        f"A predictor without it can reach a training RMSE of at most {_g(top['rmse_without_ub'])} "
        "(the network's RMSE plus the root mean square change of the prediction when the variable is "
        "redrawn)."
    )
    perm = table.sort_values("permutation_r2", ascending=False).iloc[0]
    sd = a.results["permutation"].to_frame().set_index("variable").loc[perm["variable"], "importance_sd"]
    out.append(f"Shuffling {perm['variable']} on the held-out cases lowers the network's R² most, by "
               f"{perm['permutation_r2']:.3f} (sd {sd:.3f} over repeats).")
    real = table[table["kind"] == "real"].sort_values("pad_rms", ascending=False)
    if len(real):
        r = real.iloc[0]
        out.append(f"Per raw unit of {r['variable']} the prediction changes by {_g(r['pad_mean_per_raw_unit'])} on "
                   f"average (mean partial derivative); Olden's connection weight gives "
                   f"{_g(r['olden_per_raw_unit'])} per raw unit.")
    idle = table[table["expected_share"] < 0.02]
    if len(idle):
        out.append("Variables that hardly move the prediction: " + ", ".join(
            f"{r['variable']} (expected influence {_g(r['expected'])}, {r['expected_share']:.1%} of the spread)"
            for _, r in idle.iterrows()) + ".")
    agree = a.results["side_by_side"].agreement
    row = agree[(agree["method_a"] == "expected influence") & (agree["method_b"] == "ols_standardised")]
    if len(row) and np.isfinite(row.iloc[0]["spearman"]):
        r = row.iloc[0]
        out.append(f"The network and OLS {'agree' if r['spearman'] > 0.6 else 'disagree'} on which variables "
                   f"matter: Spearman correlation {r['spearman']:.2f} between expected influence and the OLS "
                   f"standardised effects over {int(r['n'])} variables.")
    return out


def build_regression_report(a) -> Report:
    """The HTML report of a regression analysis (figures drawn here; nothing is written yet)."""
    from ..interpret import decision_surface
    from ..plots.regression import plot_predicted_vs_observed, plot_regression_influence, plot_residuals
    from ..plots.sensitivity import plot_sensitivity, plot_surface
    from ..plots.weights import plot_hidden_activity, plot_importance, plot_network

    r = a.results
    model = a.model
    net = model.network_
    enc = model.encoder_
    comp = r["comparison"]
    target = target_summary(a)
    rep = new_report(a, "regression network")

    sec = rep.section("Summary")
    sec.text(
        f"The question: how do the {len(net.variables)} input variables predict the number {a.target}? "
        f"{target['n']} rows have a value of {a.target} (mean {_g(target['mean'])}, sd {_g(target['sd'])}, "
        f"from {_g(target['min'])} to {_g(target['max'])}, {target['n_distinct']} distinct values). "
        f"Every influence, derivative and error below is in the units of {a.target}."
    )
    sec.findings(regression_findings(a))
    if a.notes:
        sec.subheading("What was dropped or reported on the way")
        sec.bullets(a.notes)

    sec = rep.section("Network against OLS")
    sec.text(
        f"Held-out errors of the network and of ordinary least squares fitted on the same training rows "
        f"and encoded variables, on {a.n_test_complete} complete test rows. Intervals: 95% paired bootstrap "
        f"({comp.n_bootstrap} resamples of the cases, both models on the same resample); test: paired t test "
        f"of the squared errors, mean {comp.test['mean_difference']:.3g}, t = {comp.test['t']:.3g}, "
        f"df = {comp.test['df']}, p = {comp.test['p']:.3g}."
    )
    sec.table("comparison", comp.to_frame(), "RMSE, MAE and R² of each model; difference network minus OLS.")
    sec.figure("predicted-vs-observed", _figure(plot_predicted_vs_observed, comp, figsize=(6, 5)),
               "Held-out predictions against the observed values; on the dashed line a prediction is exact.")
    sec.figure("residuals-vs-fitted", _figure(plot_residuals, comp, "fitted"),
               "Residuals (observed - predicted) against the prediction: a trend or a funnel means structure "
               "left in the errors.")
    sec.figure("residuals-histogram", _figure(plot_residuals, comp, "histogram"), "Distribution of the residuals.")
    sec.figure("residuals-qq", _figure(plot_residuals, comp, "qq", figsize=(5.5, 5)),
               "Standardised residuals against normal quantiles.")
    sec.table("residuals", residual_table(a), "Observed value, predictions and residuals per held-out row.",
              max_rows=10)

    sec = rep.section("Data and encoding")
    sec.text(
        f"{len(a.X_train) + len(a.X_test)} rows with a target ({a.dropped_target_rows} without one dropped), "
        f"split {len(a.X_train)} for training and {len(a.X_test)} held out (random, seed "
        f"{a.settings.get('random_state')}). Real variables are scaled to [0, 1] with the training minimum "
        "and maximum; enumerated variables become groups of one-hot columns and are treated as one variable "
        f"everywhere below. The target is standardised for training (mean {_g(model.target_mean_[0])}, sd "
        f"{_g(model.target_scale_[0])}) and the scale is folded back into the output layer, so the network "
        "predicts in raw units."
    )
    sec.table("variables", enc.describe(), "Variables as encoded (min and max in raw units).")
    sec.table("target", pd.DataFrame([target]), f"The target {a.target} (rows with a value).")
    if enc.n_dropped_rows_ or enc.dropped_columns_:
        sec.callout(
            f"Dropped {enc.n_dropped_rows_} training rows with missing values"
            + (f" and the constant columns {enc.dropped_columns_}" if enc.dropped_columns_ else "") + "."
        )

    sec = rep.section("Model and training")
    sec.text(
        f"An ensemble of {net.n_members} networks {architecture(a)} with {net.activation} hidden units and a linear output, "
        "trained together from different initial weights"
        + (", each on its own bootstrap resample of the training rows (so the spread over members "
           "reflects sampling variability)," if a.settings.get("bootstrap_members") else "")
        + f" with {_optimizer_words(model)}, on the squared error of the standardised target. Predictions "
        f"average the members' predictions."
    )
    sec.text(_convergence_words(model.convergence_))
    sec.table("convergence", model.convergence_.to_frame())
    sec.figure("training-curve", _figure(_training_curve, model),
               f"Training objective per {_step_name(model)}, each member and the mean.")

    sec = rep.section("Weights")
    sec.text(
        "What the weights say. Garson's shares and Milne's signed shares read the weight matrices directly; "
        f"Olden's connection weights are the products of the weights, in units of {a.target} over each "
        "variable's training range, and per raw unit of the variable in the table (mean_per_raw_unit). An "
        "enumerated variable is summarised by the range of its centred category values. Mean and sd are "
        "over members."
    )
    sec.figure("network-diagram",
               plot_network(r["weights"], r["activity"]).figure if r["activity"] is not None else
               plot_network(r["weights"]).figure,
               "Neural interpretation diagram of member 0: edge width is |weight|, red positive, blue negative.")
    sec.figure("olden", _figure(plot_importance, r["olden"]),
               "Olden's connection weights (bars: mean over members; lines: ±1 sd).")
    sec.figure("garson", _figure(plot_importance, r["garson"]), "Garson's relative importance (shares sum to 1).")
    sec.table("olden", r["olden"].to_frame(), f"Olden connection weights, in {a.target} per range and per raw unit.")
    sec.table("garson", r["garson"].to_frame(), "Garson importance.")
    sec.table("milne", r["milne"].to_frame(), "Milne's signed importance.")
    if r["activity"] is not None:
        sec.subheading("Hidden nodes")
        sec.figure("hidden-activity", _figure(plot_hidden_activity, r["activity"]),
                   f"How often each hidden node fires, by quarter of the observed {a.target} (Q1 lowest).")
        sec.table("hidden-activity", r["activity"].to_frame(), "Firing frequencies near 1 and near 0 by quarter.")

    sec = rep.section("Influence and sensitivity")
    ei = r["expected"]
    knn = (f" The kNN conditional uses the k = {ei.n_neighbors} nearest of {ei.n_reference} reference rows."
           if ei.conditional == "knn" else "")
    sec.text(
        f"Potential influence: how far the prediction moves, in units of {a.target}, as the variable runs over "
        "its values with the others held fixed (the range, averaged over training cases). Expected influence: "
        "the mean absolute change of the prediction when the variable's value is drawn from its distribution "
        f"given the other variables ({ei.conditional} conditional); the marginal version ignores the others "
        "and overstates variables that others predict. Share: expected influence over the mean absolute "
        "difference between two cases' predictions. The bounds say how well a predictor without the variable "
        "can do at least (training MAE and RMSE)." + knn
    )
    sec.figure("influence", _figure(plot_regression_influence, ei, figsize=(8, 4.5)),
               "Potential and expected influence per variable, in units of the target.")
    sec.table("influence", ei.to_frame(), "Influence per variable (means over training cases).")
    sec.table("influence-bounds", ei.bounds(), "Training MAE and RMSE, and their bounds without each variable.")
    sec.subheading("Gradients, permutation and partial dependence")
    sec.figure("sensitivity", _figure(plot_sensitivity, r["sensitivity"]),
               "Partial derivatives: mean against sd over cases (per range of the variable).")
    sec.table("sensitivity", r["sensitivity"].to_frame(),
              "Partial derivatives of the prediction (per range; mean_per_raw_unit per raw unit).")
    sec.table("permutation", r["permutation"].to_frame(),
              "Permutation importance on held-out rows: the drop in R² (a one-hot group permuted as one).")
    names = [d.variable for d in r["dependence"]]
    sec.figure("partial-dependence", dependence_figure(r["dependence"]),
               f"Partial dependence (thick) and ICE curves (thin) of {', '.join(names)}, the most influential "
               "variables.")
    sec.table("partial-dependence", pd.concat([d.to_frame() for d in r["dependence"]], ignore_index=True),
              "Partial dependence and the 10% / 90% quantiles of the ICE curves.")
    real = [v.name for v in net.variables if v.kind == "real"]
    ranked = [n for n in ei.to_frame().sort_values("expected", ascending=False)["variable"] if n in real]
    if len(ranked) >= 2:
        train_rows = a.X_train[[v.name for v in net.variables]].dropna()
        surface = decision_surface(model, train_rows, ranked[:2])
        sec.figure("regression-surface", _figure(plot_surface, surface),
                   f"Predicted {a.target} over {ranked[0]} and {ranked[1]}, the other variables at their medians.")

    sec = rep.section("OLS side by side")
    lin = r["linear"]
    sec.text(
        f"Ordinary least squares (statsmodels, {lin.cov_type} errors) on the network's encoded variables: "
        f"R² = {lin.rsquared:.3f} (adjusted {lin.rsquared_adj:.3f}) on {lin.n_obs} training rows, "
        f"F = {lin.fvalue:.3g} (p = {lin.f_pvalue:.2g}). Coefficients per [0, 1] range (coef) and per raw unit; "
        "an enumerated variable against its first category. Importance: |t| (sqrt(F) of the group's Wald "
        f"test for an enumerated variable) and the standardised effect, sd of the fitted contribution over the "
        f"sd of {a.target}."
    )
    sec.table("ols-coefficients", lin.to_frame(), "OLS coefficients, standard errors, t, p and 95% intervals.")
    sec.table("ols-importance", lin.importance(), "OLS importance per variable with its Wald test.")
    side = r["side_by_side"]
    sec.table("side-by-side", side.to_frame(), "Per-variable importance from each method, with ranks.")
    sec.table("agreement", side.agreement, "Rank agreement between methods (absolute values).")

    reproducibility_section(rep, a)
    return rep


def regression_results_json(a) -> dict:
    """The machine-readable results (validated against :data:`REGRESSION_SCHEMA`)."""
    model = a.model
    net = model.network_
    enc = model.encoder_
    variables = []
    for v, (_, row) in zip(net.variables, a.variable_table().iterrows()):
        entry = to_jsonable(row.to_dict())
        entry.update({"minimum": v.minimum, "maximum": v.maximum,
                      "categories": to_jsonable(list(v.categories)) if v.kind == "enumerated" else []})
        variables.append(entry)
    comp = a.results["comparison"]
    lin = a.results["linear"]
    metrics = a.test_metrics
    doc = {
        "schema_version": SCHEMA_VERSION,
        "task": "regression",
        "shallownet_version": a.settings.get("shallownet", ""),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": a.source,
        "target": a.target,
        "target_summary": target_summary(a),
        "data": {
            "n_rows": int(len(a.X_train) + len(a.X_test)),
            "n_train": int(len(a.X_train)),
            "n_test": int(len(a.X_test)),
            "n_test_complete": int(a.n_test_complete),
            "dropped_target_rows": int(a.dropped_target_rows),
            "dropped_training_rows": int(enc.n_dropped_rows_),
            "dropped_columns": list(enc.dropped_columns_),
        },
        "model": {
            "hidden_layer_sizes": list(net.hidden_sizes),
            "activation": net.activation,
            "output": net.output,
            "n_members": net.n_members,
            "optimizer": model.optimizer_,
            "convergence": to_jsonable(model.convergence_.to_frame()),
            "test_rmse": metrics["rmse"], "test_mae": metrics["mae"], "test_r2": metrics["r2"],
            "target_mean": float(model.target_mean_[0]), "target_scale": float(model.target_scale_[0]),
            "settings": to_jsonable(a.settings),
        },
        "variables": variables,
        "comparison": {"n": int(a.n_test_complete), "names": list(comp.names),
                       "metrics": to_jsonable(comp.to_frame()), "test": to_jsonable(comp.test)},
        "linear": {
            "rsquared": lin.rsquared, "rsquared_adj": lin.rsquared_adj, "fvalue": lin.fvalue,
            "f_pvalue": lin.f_pvalue, "rmse": lin.rmse, "n_obs": lin.n_obs, "cov_type": lin.cov_type,
            "coefficients": to_jsonable(lin.to_frame()), "importance": to_jsonable(lin.importance()),
        },
        "findings": regression_findings(a),
        "notes": list(a.notes),
        "timings": {k: float(v) for k, v in a.timings.items()},
    }
    doc = to_jsonable(doc)
    validate(doc, REGRESSION_SCHEMA)
    return doc
