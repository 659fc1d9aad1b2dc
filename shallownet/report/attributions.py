"""The attribution part of an analysis: Shapley values, the final-feature map, counterfactuals
and accumulated local effects (issue 17), computed by :func:`compute_attributions` and written
into the report by :func:`attribution_sections` (as folded detail of the report's questions) and into ``results.json`` by
:func:`attributions_json`.

Bounds that keep the default analysis affordable:

- Shapley values explain the first :data:`MAX_EXPLAINED` complete test rows (interventional,
  class probabilities, against up to 100 k-means centres of the complete training rows). They
  are exact when the model has at most :data:`MAX_EXACT` variables (``2^V`` coalitions; 1,024 at
  the bound), otherwise the antithetic permutation estimator with :data:`N_PAIRS` pairs a case.
- Counterfactuals are searched for the first :data:`MAX_COUNTERFACTUALS` complete test rows
  (spreads and plausibility from the complete training rows).
- The final-feature map projects the complete test rows (networks with a hidden layer).
- ALE curves are drawn for the :data:`N_ALE` variables of largest expected influence, averaged
  over the complete training rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

METHODS = ("shapley", "hidden-map", "counterfactuals", "ale")
MAX_EXPLAINED = 200
MAX_EXACT = 10
N_PAIRS = 64
MAX_COUNTERFACTUALS = 50
N_ALE = 3

_FRAME = {"type": "array", "items": {"type": "object"}}
ATTRIBUTIONS_SCHEMA: dict = {
    "type": ["object", "null"],
    "required": ["methods"],
    "additionalProperties": False,
    "properties": {
        "methods": {"type": "array", "items": {"enum": list(METHODS)}},
        "shapley": {
            "type": "object",
            "required": ["method", "n_explained", "n_background", "importance", "agreement", "max_efficiency_gap"],
            "properties": {"method": {"enum": ["exact", "permutation"]},
                           "n_explained": {"type": "integer", "minimum": 1},
                           "n_background": {"type": "integer", "minimum": 1},
                           "importance": _FRAME, "agreement": _FRAME,
                           "max_efficiency_gap": {"type": "number"}},
        },
        "hidden_map": {"type": "object", "required": ["layer", "explained_variance_ratio"],
                       "properties": {"layer": {"type": "integer"},
                                      "explained_variance_ratio": {"type": "array", "items": {"type": "number"}}}},
        "counterfactuals": {"type": "object", "required": ["n_cases", "found", "variables"],
                            "properties": {"n_cases": {"type": "integer", "minimum": 1},
                                           "found": {"type": "number"}, "variables": _FRAME}},
        "ale": {"type": "array", "items": {"type": "object", "required": ["variable", "kind", "effects"],
                                           "properties": {"effects": _FRAME}}},
    },
}


def check_methods(attributions: Any) -> tuple[str, ...]:
    """The attribution methods to run: ``"all"``, or a sequence of names from :data:`METHODS`
    (an empty one runs none)."""
    if isinstance(attributions, str):
        if attributions == "all":
            return METHODS
        attributions = [attributions]
    try:
        chosen = list(attributions)
    except TypeError:
        raise TypeError(f"`attributions` must be 'all' or a sequence of names from {list(METHODS)}. "
                        f"Got {attributions!r}.") from None
    bad = [m for m in chosen if m not in METHODS]
    if bad:
        raise ValueError(f"`attributions` must name methods among {list(METHODS)}. Got {bad!r}.")
    return tuple(m for m in METHODS if m in chosen)


def compute_attributions(model, X_train: pd.DataFrame, X_test: pd.DataFrame, y_test: pd.Series,
                         expected, methods: tuple, random_state: int = 0) -> dict:
    """The attribution results of an analysis, keyed by method (see the module docstring).

    ``X_train`` and ``X_test`` / ``y_test`` are the complete (usable) rows; ``expected`` is the
    analysis's :class:`~shallownet.interpret.ExpectedInfluence` (it ranks the ALE variables)."""
    from ..interpret import ale, counterfactuals, hidden_map, shapley

    out: dict[str, Any] = {}
    if "shapley" in methods and len(X_test):
        V = len(model.network_.variables)
        out["shapley"] = shapley(model, X_test.iloc[:MAX_EXPLAINED], X_train,
                                 method="exact" if V <= MAX_EXACT else "permutation",
                                 n_pairs=N_PAIRS, random_state=random_state)
    if "hidden-map" in methods and model.network_.hidden_sizes and len(X_test) >= 2:
        out["hidden_map"] = hidden_map(model, X_test, y_test)
    if "counterfactuals" in methods and len(X_test):
        out["counterfactuals"] = counterfactuals(model, X_test.iloc[:MAX_COUNTERFACTUALS], reference=X_train)
    if "ale" in methods:
        ranked = expected.to_frame().sort_values("expected", ascending=False)["variable"]
        out["ale"] = [ale(model, X_train, v) for v in ranked.iloc[:N_ALE]]
    return out


def shapley_importance(result) -> pd.DataFrame:
    """Mean |phi| per variable, averaged over the targets (classes), largest first."""
    frame = result.to_frame().groupby("variable", sort=False)["mean_abs"].mean()
    return frame.sort_values(ascending=False).rename_axis("variable").reset_index()


def shapley_agreement(result, variable_table: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of mean |phi| with expected influence and with Olden's |CW|."""
    from scipy.stats import spearmanr

    phi = shapley_importance(result).set_index("variable")["mean_abs"]
    table = variable_table.set_index("variable")
    rows = []
    for label, column in (("expected influence", "expected"), ("olden |CW|", "olden_abs")):
        pair = pd.concat([phi, table[column]], axis=1).dropna()
        rho = spearmanr(pair.iloc[:, 0], pair.iloc[:, 1]).statistic if len(pair) >= 2 else np.nan
        rows.append({"method": label, "spearman": float(rho), "n": int(len(pair))})
    return pd.DataFrame(rows)


def _ale_frame(results: list) -> pd.DataFrame:
    return pd.concat([r.to_frame() for r in results], ignore_index=True) if results else pd.DataFrame()


def attribution_sections(a, variables, hidden) -> None:
    """Add the Shapley, counterfactual and ALE parts that ``a`` holds to the section (or folded
    detail) ``variables``, and the final-feature map to ``hidden``, each under its subheading."""
    from ..plots.ale import plot_ale
    from ..plots.hidden_map import plot_hidden_map
    from ..plots.shapley import plot_shapley_summary, plot_shapley_waterfall

    r = a.results.get("attributions", {})
    if "shapley" in r:
        s = r["shapley"]
        imp = shapley_importance(s)
        agree = shapley_agreement(s, a.variable_table()).set_index("method")["spearman"]
        top = imp.iloc[0]
        ei_top = a.variable_table().sort_values("expected", ascending=False)["variable"].iloc[0]
        sec = variables.subheading("Shapley values")
        sec.text(
            f"{top['variable']} has the largest mean |phi| ({top['mean_abs']:.3f} of probability); "
            + ("it is also the variable of largest expected influence" if top["variable"] == ei_top
               else f"expected influence ranks {ei_top} first instead")
            + f". The Spearman correlation of mean |phi| with "
            f"expected influence is {agree['expected influence']:.2f} and with Olden's |connection weights| "
            f"{agree['olden |CW|']:.2f}.")
        sec.text(
            f"Shapley values ({s.method}, interventional, class probabilities) of the first {s.n_cases} "
            f"complete test rows against {s.n_background} reference rows (k-means centres of the training "
            f"rows); a one-hot group is one player. Exact when there are at most {MAX_EXACT} variables, else "
            f"the antithetic permutation estimator ({N_PAIRS} pairs a case). Largest |f(x) - E f - sum phi|: "
            f"{float(np.abs(s.efficiency_gap).max()):.2g}.")
        target = s.default_target
        sec.figure("shapley-importance", _figure(_bar, imp), "Mean |phi| per variable (averaged over the classes).")
        sec.figure("shapley-summary", _figure(plot_shapley_summary, s, target, figsize=(8, 4.5)),
                   f"Shapley values of each explained case for p({target}), coloured by the variable's value.")
        sec.figure("shapley-waterfall", _figure(plot_shapley_waterfall, s, 0, target),
                   f"From E f to f(x) for the first explained case, p({target}).")
        sec.table("shapley-importance", imp, "Mean |phi| per variable.")
        sec.table("shapley", s.to_frame(), "Mean |phi| and mean phi per variable and class.")
        sec.table("shapley-agreement", shapley_agreement(s, a.variable_table()),
                  "Spearman correlation of mean |phi| with the other importances.")
    if "hidden_map" in r:
        h = r["hidden_map"]
        wrong = h.misclassified
        sec = hidden.subheading("Final-feature map")
        sec.text(
            f"The first two principal components of the last hidden layer (member {h.member}) explain "
            f"{h.explained_variance_ratio[:2].sum():.0%} of its variance"
            + (f"; misclassified: {int(wrong.sum())} of {len(wrong)} test cases." if wrong is not None else "."))
        sec.figure("hidden-map", _figure(plot_hidden_map, h, figsize=(7, 5)),
                   "Test cases on the first two principal components of the last hidden layer, coloured by "
                   "true class (crosses: misclassified); shaded: the decision with the other components at "
                   "their means.")
        sec.table("hidden-map", h.to_frame(), "Explained variance and loadings of each component.")
    if "counterfactuals" in r:
        c = r["counterfactuals"]
        table = c.variable_frame()
        easy = table.sort_values("within_one_spread", ascending=False).iloc[0]
        sec = variables.subheading("Counterfactuals")
        sec.text(
            f"A counterfactual was found for {c.found.mean():.0%} of the {len(c.base)} cases (median distance "
            f"{np.median(c.distance[c.found]) if c.found.any() else float('nan'):.3g}); changing "
            f"{easy['variable']} alone flips the decision within one spread for "
            f"{easy['within_one_spread']:.0%} of them, the largest share of any variable.")
        sec.text(f"Nearest changes of the first {len(c.base)} complete test rows that change the decision "
                 f"({c.norm.upper()} distance, real variables in units of their {c.scale}, 1 per switched "
                 "category).")
        sec.table("counterfactual-variables", table, "Per variable: share of cases it flips alone, median "
                  "distance of that flip, share within one spread, share of nearest counterfactuals using it.")
        sec.table("counterfactuals", c.to_frame(), "The nearest multi-variable counterfactual of each case.")
    if "ale" in r:
        curves = r["ale"]
        span = {e.variable: float(np.nanmax(e.effects) - np.nanmin(e.effects)) for e in curves}
        big = max(span, key=span.get)
        sec = variables.subheading("Accumulated local effects")
        sec.text(f"Of the {len(curves)} variables of largest expected influence, {big} moves a class "
                 f"probability the most over its range (by {span[big]:.2f}).")
        for e in curves:
            shown = e.outputs[1 if len(e.outputs) == 2 else 0]
            sec.figure(f"ale-{_slug(e.variable)}", _figure(plot_ale, e),
                       f"Centred ALE of {e.variable} on p({shown}) (every class in the table).")
        sec.table("ale", _ale_frame(curves), "ALE of each variable at each bin edge or category, per class.")


def _figure(draw, *args, figsize=(7, 4), **kwargs):
    """A figure outside pyplot's registry (the report already holds many open ones; these are
    freed with the report), drawn by ``draw(*args, ax=..., **kwargs)``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    draw(*args, ax=fig.subplots(), **kwargs)
    fig.tight_layout()
    return fig


def _slug(name: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "v"


def _bar(imp: pd.DataFrame, ax=None):
    ax.barh(imp["variable"][::-1], imp["mean_abs"][::-1], color="#2c6fb7")
    ax.set_xlabel("mean |phi| (class probability)")
    ax.set_title("Global Shapley importance")


def attributions_json(a) -> dict | None:
    """The ``attributions`` part of ``results.json`` (None when the analysis has none)."""
    from ..results import to_jsonable

    r = a.results.get("attributions")
    if r is None:
        return None
    doc: dict[str, Any] = {"methods": list(a.settings.get("attributions", []))}
    if "shapley" in r:
        s = r["shapley"]
        doc["shapley"] = {"method": s.method, "n_explained": s.n_cases, "n_background": s.n_background,
                          "importance": to_jsonable(shapley_importance(s)),
                          "agreement": to_jsonable(shapley_agreement(s, a.variable_table())),
                          "max_efficiency_gap": float(np.abs(s.efficiency_gap).max())}
    if "hidden_map" in r:
        h = r["hidden_map"]
        doc["hidden_map"] = {"layer": int(h.layer), "explained_variance_ratio": to_jsonable(h.explained_variance_ratio)}
    if "counterfactuals" in r:
        c = r["counterfactuals"]
        doc["counterfactuals"] = {"n_cases": int(len(c.base)), "found": float(c.found.mean()),
                                  "variables": to_jsonable(c.variable_frame())}
    if "ale" in r:
        doc["ale"] = [{"variable": e.variable, "kind": e.kind, "effects": to_jsonable(e.to_frame())} for e in r["ale"]]
    return doc
