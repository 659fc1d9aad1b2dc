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
    MAX_FINDINGS,
    RESULTS_SCHEMA,
    SCHEMA_VERSION,
    _convergence_words,
    _figure,
    _figure_grid,
    _optimizer_words,
    _out_of_range_words,
    architecture,
    convergence_callout,
    dependence_figure,
    new_report,
    reproducibility_section,
    surface_choice,
    training_figure,
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
    from .conclusions import regression_conclusion

    out = [regression_conclusion(a.results["comparison"], a.target, float(np.mean(a.y_train)))]
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
    """The HTML report of a regression analysis (figures drawn here; nothing is written yet).

    The same shape as the classification report: a first screen that stands alone (the
    question, the network against OLS and against predicting the training mean, the findings,
    one figure), then one section per question, each opening with its conclusion, then its
    figures, then its detail folded away.
    """
    import matplotlib

    from ..plots.palette import rc_params

    rep = new_report(a, "regression network")
    with matplotlib.rc_context(rc_params()):
        first_screen_regression(rep, a)
        _section_quality(rep, a)
        _section_variables(rep, a)
        _section_hidden(rep, a)
        _section_difference(rep, a)
        _section_method(rep, a)
    return rep


def _metrics(a) -> pd.DataFrame:
    return a.results["comparison"].to_frame().set_index("metric")


def mean_rmse(a) -> float:
    """Held-out RMSE of always predicting the training mean of the target (the regression
    counterpart of always predicting the majority class)."""
    from .conclusions import mean_prediction_rmse

    return mean_prediction_rmse(a.results["comparison"], float(np.mean(a.y_train)))


def _importance_frame(a) -> pd.DataFrame:
    table = a.variable_table()
    spread = a.results["expected"].to_frame().set_index("variable")["expected_member_sd"]
    return table.assign(expected_member_sd=table["variable"].map(spread))


def first_screen_regression(rep: Report, a) -> None:
    """The regression report's first screen (the counterpart of :func:`~shallownet.report.build.first_screen`)."""
    from ..plots.baselines import plot_importance_pair

    net = a.model.network_
    target = target_summary(a)
    m = _metrics(a)
    net_name, lin_name = a.results["comparison"].names
    rmse = m.loc["rmse"]
    sec = rep.section("")
    sec.text(
        f"The question: how do the {len(net.variables)} input variables predict the number {a.target}? "
        f"{target['n']} rows have a value of {a.target} (mean {_g(target['mean'])}, sd {_g(target['sd'])}, "
        f"from {_g(target['min'])} to {_g(target['max'])}, {target['n_distinct']} distinct values): "
        f"{len(a.X_train)} for training and {a.n_test_complete} held out for testing. Every influence, "
        f"derivative and error below is in the units of {a.target}."
    )
    sec.headline([
        (_g(rmse[net_name]), f"network RMSE, held-out cases (R² {m.loc['r2', net_name]:.3f})"),
        (_g(rmse[lin_name]), f"OLS RMSE (R² {m.loc['r2', lin_name]:.3f})"),
        (f"{rmse['difference']:+.3g} [{rmse['ci_low']:+.3g}, {rmse['ci_high']:+.3g}]",
         "network minus OLS, 95% interval"),
        (_g(mean_rmse(a)), "RMSE of always predicting the training mean"),
    ])
    convergence_callout(sec, a.model)
    sec.findings(regression_findings(a)[:MAX_FINDINGS])
    frame = _importance_frame(a)
    fig = _figure_grid(1, 2, (9, 0.4 * len(frame) + 1.6), sharey=True)
    plot_importance_pair(frame, "expected", "ols_t", left_error="expected_member_sd", axes=fig.axes,
                         labels=(f"expected influence, {a.target}\n(±1 sd over members)", "OLS |t| (Wald)"))
    fig.suptitle(f"What the network and OLS find important (Spearman rho {_spearman(frame):.2f})",
                 fontsize="medium")
    fig.tight_layout()
    order = frame.sort_values("expected", ascending=False)["variable"].tolist()
    order_ols = frame.sort_values("ols_t", ascending=False)["variable"].tolist()
    sec.figure("importance", fig,
               "Left: expected influence of each variable on the network's prediction; right: the |t| of OLS's "
               "test of the same variable (sqrt(F) for an enumerated one).",
               alt=f"Two bar charts. By expected influence the order is {', '.join(order)}; by OLS |t| it is "
                   f"{', '.join(order_ols)}.")


def _spearman(frame: pd.DataFrame) -> float:
    from scipy.stats import spearmanr

    rho = spearmanr(frame["expected"], frame["ols_t"]).statistic if len(frame) > 2 else float("nan")
    return float(rho)


def _section_quality(rep: Report, a) -> None:
    from ..plots.regression import plot_predicted_vs_observed, plot_residuals

    comp = a.results["comparison"]
    m = _metrics(a)
    net_name, lin_name = comp.names
    rmse = m.loc["rmse"]
    sec = rep.section("How good is the network?")
    text = (f"On {a.n_test_complete} held-out cases the network's typical error (RMSE) is {_g(rmse[net_name])}, "
            f"OLS's {_g(rmse[lin_name])} (difference {rmse['difference']:+.3g}, 95% interval {rmse['ci_low']:+.3g} "
            f"to {rmse['ci_high']:+.3g}), and always predicting the training mean {_g(mean_rmse(a))}.")
    res = comp.residuals()[0]
    fitted = comp.predictions[0]
    half = fitted >= np.median(fitted)
    ratio = float(np.std(res[half]) / np.std(res[~half])) if (~half).sum() > 1 and np.std(res[~half]) > 0 else 1.0
    text += (f" Residual sd is {ratio:.2f} times larger above the median prediction than below it"
             + (": the errors fan out, so intervals from a constant error variance would mislead."
                if ratio > 1.5 or ratio < 1 / 1.5 else ", so the error spread is roughly constant."))
    sec.conclusion(text)
    outside = _out_of_range_words(a)
    if outside:
        sec.callout(outside)
    sec.figure("predicted-vs-observed", _figure(plot_predicted_vs_observed, comp, figsize=(6, 5)),
               "Held-out predictions against the observed values; on the dashed line a prediction is exact.",
               alt=f"Scatter of predicted against observed {a.target} for the network and OLS on the held-out "
                   f"cases, with the line of exact prediction; network R² {m.loc['r2', net_name]:.3f}.")
    detail = sec.details("Detail: all metrics, the paired test, residual plots, residuals per case")
    detail.text(
        f"Held-out errors of the network and of ordinary least squares fitted on the same training rows "
        f"and encoded variables, on {a.n_test_complete} complete test rows. Intervals: 95% paired bootstrap "
        f"({comp.n_bootstrap} resamples of the cases, both models on the same resample); test: paired t test "
        f"of the squared errors, mean {comp.test['mean_difference']:.3g}, t = {comp.test['t']:.3g}, "
        f"df = {comp.test['df']}, p = {comp.test['p']:.3g}."
    )
    detail.table("comparison", comp.to_frame(), "RMSE, MAE and R² of each model; difference network minus OLS.")
    detail.figure("residuals-vs-fitted", _figure(plot_residuals, comp, "fitted"),
                  "Residuals (observed - predicted) against the prediction: a trend or a funnel means structure "
                  "left in the errors.", alt="Scatter of residuals against the prediction for both models.")
    detail.figure("residuals-histogram", _figure(plot_residuals, comp, "histogram"), "Distribution of the residuals.",
                  alt="Histograms of the held-out residuals of both models.")
    detail.figure("residuals-qq", _figure(plot_residuals, comp, "qq", figsize=(5.5, 5)),
                  "Standardised residuals against normal quantiles.",
                  alt="Normal quantile plot of the standardised residuals of both models.")
    detail.table("residuals", residual_table(a), "Observed value, predictions and residuals per held-out row.",
                 max_rows=10)


def _section_variables(rep: Report, a) -> None:
    from ..plots.regression import plot_regression_influence
    from ..plots.sensitivity import plot_sensitivity
    from ..plots.weights import plot_importance

    r = a.results
    ei = r["expected"]
    frame = _importance_frame(a).sort_values("expected", ascending=False)
    top = frame.iloc[0]
    ols_top = frame.sort_values("ols_t", ascending=False).iloc[0]["variable"]
    sec = rep.section("Which variables matter, and how do we know?")
    sec.conclusion(
        f"{top['variable']} matters most: a value drawn given the other variables moves the prediction by "
        f"{_g(top['expected'])} on average ({top['expected_share']:.0%} of the typical difference between two "
        f"cases' predictions); OLS "
        + ("agrees on the first variable" if ols_top == top["variable"] else f"puts {ols_top} first")
        + f", and the two rankings correlate with Spearman rho {_spearman(frame):.2f} over {len(frame)} variables.")
    sec.figure("influence", _figure(plot_regression_influence, ei, figsize=(8, 4.5)),
               "Potential and expected influence per variable, in units of the target.",
               alt="Bar chart of potential and expected influence per variable: "
                   + "; ".join(f"{v} {e:.3g}" for v, e in zip(frame["variable"], frame["expected"])) + ".")
    deps = r["dependence"]
    names = [d.variable for d in deps]
    sec.figure("partial-dependence", dependence_figure(deps),
               f"Partial dependence (red) and ICE curves (grey, 50 training cases) of {', '.join(names)}, the most "
               "influential variables. Curves that cross or fan out show interactions that the mean hides.",
               alt="Line charts, one per variable: "
                   + "; ".join(f"{d.variable}, the mean prediction moves over a range of {np.ptp(d.average[:, 0]):.3g}"
                               for d in deps) + ".")
    knn = (f" The kNN conditional uses the k = {ei.n_neighbors} nearest of {ei.n_reference} reference rows."
           if ei.conditional == "knn" else "")
    detail = sec.details("Detail: influence, bounds, sensitivity, permutation, partial dependence, weights")
    detail.text(
        f"Potential influence: how far the prediction moves, in units of {a.target}, as the variable runs over "
        "its values with the others held fixed (the range, averaged over training cases). Expected influence: "
        "the mean absolute change of the prediction when the variable's value is drawn from its distribution "
        f"given the other variables ({ei.conditional} conditional); the marginal version ignores the others "
        "and overstates variables that others predict. Share: expected influence over the mean absolute "
        "difference between two cases' predictions. The bounds say how well a predictor without the variable "
        "can do at least (training MAE and RMSE)." + knn
    )
    detail.table("influence", ei.to_frame(), "Influence per variable (means over training cases).")
    detail.table("influence-bounds", ei.bounds(), "Training MAE and RMSE, and their bounds without each variable.")
    detail.figure("sensitivity", _figure(plot_sensitivity, r["sensitivity"]),
                  "Partial derivatives: mean against sd over cases (per range of the variable).",
                  alt="Scatter of the mean against the sd of each variable's partial derivative over cases.")
    detail.table("sensitivity", r["sensitivity"].to_frame(),
                 "Partial derivatives of the prediction (per range; mean_per_raw_unit per raw unit).")
    detail.table("permutation", r["permutation"].to_frame(),
                 "Permutation importance on held-out rows: the drop in R² (a one-hot group permuted as one).")
    detail.table("partial-dependence", pd.concat([d.to_frame() for d in deps], ignore_index=True),
                 "Partial dependence and the 10% / 90% quantiles of the ICE curves.")
    detail.subheading("What the weights say")
    detail.text(
        "Garson's shares and Milne's signed shares read the weight matrices directly; Olden's connection "
        f"weights are the products of the weights, in units of {a.target} over each variable's training range, "
        "and per raw unit of the variable in the table (mean_per_raw_unit). An enumerated variable is "
        "summarised by the range of its centred category values. Mean and sd are over members."
    )
    detail.figure("olden", _figure(plot_importance, r["olden"]),
                  "Olden's connection weights (bars: mean over members; lines: ±1 sd).",
                  alt="Bar chart of Olden's connection weight per variable with ±1 sd over members.")
    detail.figure("garson", _figure(plot_importance, r["garson"]), "Garson's relative importance (shares sum to 1).",
                  alt="Bar chart of Garson's share per variable.")
    detail.table("olden", r["olden"].to_frame(), f"Olden connection weights, in {a.target} per range and per raw unit.")
    detail.table("garson", r["garson"].to_frame(), "Garson importance.")
    detail.table("milne", r["milne"].to_frame(), "Milne's signed importance.")


def _section_hidden(rep: Report, a) -> None:
    from ..plots.weights import plot_activation_distributions, plot_hidden_activity, plot_network

    r = a.results
    if r.get("activations") is None:
        return
    act = r["activations"]
    sep = act.separation(0, 0).sort_values("relative", ascending=False)
    best = sep.iloc[0]
    flat = int((act.values[0][0].std(axis=0) < 0.01).sum())
    sec = rep.section("What do the hidden nodes do?")
    sec.conclusion(
        f"In member 0, node {best['node']} tracks {a.target} most closely: its median activation is "
        f"{best['median_high']:.2f} in the {best['high_class']} quarter of {a.target} and {best['median_low']:.2f} "
        f"in the {best['low_class']} quarter; {int((sep['relative'] > 0.5).sum())} of {len(sep)} nodes have two "
        "quarter medians more than half their range apart"
        + (f", and {flat} barely vary (sd below 0.01)." if flat else "."))
    sec.figure("hidden-activations", _figure(plot_activation_distributions, act, figsize=(8, 0.6 * len(sep) + 1.5)),
               f"Each hidden node's activation on the training cases, by quarter of the observed {a.target} (Q1 "
               "lowest; member 0; nodes ordered by how far apart their quarter medians lie).",
               alt="Violin strips, one row per hidden node and one violin per quarter of the target: "
                   + "; ".join(f"{n}: {h} median {mh:.2f}, {l} median {ml:.2f}" for n, h, l, mh, ml in
                               sep[["node", "high_class", "low_class", "median_high", "median_low"]].itertuples(index=False))
                   + ".")
    detail = sec.details("Detail: network diagram, member-level tables (activations, firing frequencies)")
    detail.figure("network-diagram", plot_network(r["weights"], r["activity"]).figure,
                  "Neural interpretation diagram of member 0: edge width is |weight|, red positive, blue negative.",
                  alt="Diagram of the network of member 0: inputs, hidden nodes and the output, edges drawn by weight.")
    detail.table("hidden-separation", sep, "Per node of member 0: the quarters with the highest and lowest median "
                 "activation, and their difference over the node's 5th-95th percentile range.")
    detail.table("hidden-activations", act.to_frame(), "Activation quartiles per member, node and target quarter.")
    detail.figure("hidden-activity", _figure(plot_hidden_activity, r["activity"]),
                  f"How often each hidden node fires, by quarter of the observed {a.target} (Q1 lowest).",
                  alt="Heat map of firing frequencies per hidden node and target quarter.")
    detail.table("hidden-activity", r["activity"].to_frame(), "Firing frequencies near 1 and near 0 by quarter.")


def _section_difference(rep: Report, a) -> None:
    from ..plots.sensitivity import plot_surface

    r = a.results
    lin = r["linear"]
    frame = _importance_frame(a)
    sec = rep.section("Where does the network differ from OLS?")
    comp = r["comparison"]
    gap = np.abs(comp.predictions[0] - comp.predictions[1])
    ranks = frame.set_index("variable")[["expected", "ols_t"]].rank(ascending=False)
    diff = (ranks["expected"] - ranks["ols_t"]).abs()
    v = diff.idxmax()
    text = (f"On the held-out cases the two models' predictions differ by {_g(float(np.median(gap)))} in the median "
            f"case and by more than {_g(float(np.quantile(gap, 0.9)))} in one case in ten")
    text += (f"; the variable they rank most differently is {v} (rank {ranks.at[v, 'expected']:g} by expected "
             f"influence, {ranks.at[v, 'ols_t']:g} by OLS |t|)." if diff.max() >= 2 else
             "; they rank every variable within one place of each other.")
    sec.conclusion(text)
    surface = surface_choice(a)
    if surface is not None:
        va, vb = surface.variables
        sec.figure("regression-surface", _figure(plot_surface, surface, figsize=(7, 5.5)),
                   f"Predicted {a.target} over {va} and {vb} (the two real variables of largest expected influence; "
                   f"1st to 99th percentile of the training values), the other variables held at {surface.at}. OLS "
                   "would draw parallel straight contours.",
                   alt=f"Map over {va} (x) and {vb} (y) of the predicted {a.target}, from {surface.proba.min():.3g} "
                       f"to {surface.proba.max():.3g}.")
    sec.table("ols-coefficients", lin.to_frame(),
              f"Ordinary least squares (statsmodels, {lin.cov_type} errors) on the network's encoded variables: "
              f"R² = {lin.rsquared:.3f} (adjusted {lin.rsquared_adj:.3f}) on {lin.n_obs} training rows, F = "
              f"{lin.fvalue:.3g} (p = {lin.f_pvalue:.2g}). Coefficients per [0, 1] range (coef) and per raw unit; an "
              "enumerated variable against its first category; 95% intervals.")
    detail = sec.details("Detail: OLS importance, every importance side by side, rank agreement")
    detail.text("OLS importance: |t| (sqrt(F) of the group's Wald test for an enumerated variable) and the "
                f"standardised effect, sd of the fitted contribution over the sd of {a.target}.")
    detail.table("ols-importance", lin.importance(), "OLS importance per variable with its Wald test.")
    side = r["side_by_side"]
    detail.table("side-by-side", side.to_frame(), "Per-variable importance from each method, with ranks.")
    detail.table("agreement", side.agreement, "Rank agreement between methods (absolute values).")


def _section_method(rep: Report, a) -> None:
    model = a.model
    net = model.network_
    enc = model.encoder_
    c = model.convergence_
    target = target_summary(a)
    bad = int((~c.converged).sum())
    sec = rep.section("Data and method")
    sec.conclusion(
        f"{len(a.X_train) + len(a.X_test)} rows and {len(net.variables)} variables; an ensemble of {net.n_members} "
        f"networks {architecture(a)} ({net.activation}, linear output), "
        + ("all of which converged." if bad == 0 else f"of which {bad} did NOT converge (see below)."))
    training_figure(sec, model)
    detail = sec.details("Detail: data, encoding, training, notes, settings")
    detail.text(
        f"{len(a.X_train) + len(a.X_test)} rows with a target ({a.dropped_target_rows} without one dropped), "
        f"split {len(a.X_train)} for training and {len(a.X_test)} held out (random, seed "
        f"{a.settings.get('random_state')}). Real variables are scaled to [0, 1] with the training minimum "
        "and maximum; enumerated variables become groups of one-hot columns and are treated as one variable "
        f"everywhere. The target is standardised for training (mean {_g(model.target_mean_[0])}, sd "
        f"{_g(model.target_scale_[0])}) and the scale is folded back into the output layer, so the network "
        "predicts in raw units."
    )
    detail.table("variables", enc.describe(), "Variables as encoded (min and max in raw units).")
    detail.table("target", pd.DataFrame([target]), f"The target {a.target} (rows with a value).")
    if enc.n_dropped_rows_ or enc.dropped_columns_:
        detail.callout(
            f"Dropped {enc.n_dropped_rows_} training rows with missing values"
            + (f" and the constant columns {enc.dropped_columns_}" if enc.dropped_columns_ else "") + ".")
    detail.subheading("Model and training")
    detail.text(
        f"An ensemble of {net.n_members} networks {architecture(a)} with {net.activation} hidden units and a linear "
        "output, trained together from different initial weights"
        + (", each on its own bootstrap resample of the training rows (so the spread over members "
           "reflects sampling variability)," if a.settings.get("bootstrap_members") else "")
        + f" with {_optimizer_words(model)}, on the squared error of the standardised target. Predictions "
        "average the members' predictions.")
    detail.text(_convergence_words(c))
    detail.table("convergence", c.to_frame(), "Convergence of every member.")
    if a.notes:
        detail.subheading("What was dropped or reported on the way")
        detail.bullets(a.notes)
    reproducibility_section(detail, a)


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
