"""Drawings of the network-versus-logistic comparison (matplotlib imported when drawing).

Each function takes a result object, draws on ``ax`` (a new figure when None) and returns
the Axes.
"""

from __future__ import annotations

import numpy as np

from ..baselines.compare import ComparisonResult
from ..baselines.side_by_side import OVERALL, SideBySideResult

_LABELS = {
    "accuracy": "accuracy",
    "log_loss": "log-loss",
    "brier": "Brier score",
    "roc_auc": "ROC AUC",
    "calibration_error": "calibration error",
}


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def _check(result, kind, name):
    if not isinstance(result, kind):
        raise TypeError(f"`{name}` must be a {kind.__name__}. Got {type(result).__name__}.")


def plot_metrics(result: ComparisonResult, ax=None, *, kind: str = "values"):
    """Metric bars with their bootstrap intervals.

    ``kind="values"``: both models' metrics side by side per metric, with percentile
    intervals. ``kind="difference"``: the difference (first - second model) per metric with
    its paired interval and a zero line; the one to read for "is one better?".
    """
    _check(result, ComparisonResult, "result")
    if kind not in ("values", "difference"):
        raise ValueError(f"`kind` must be 'values' or 'difference'. Got {kind!r} instead.")
    ax = _axes(ax)
    frame = result.metrics
    x = np.arange(len(frame))
    if kind == "values":
        width = 0.38
        for i, name in enumerate(result.names):
            value = frame[name].to_numpy()
            err = np.vstack([value - frame[f"{name}_low"], frame[f"{name}_high"] - value])
            ax.bar(x + (i - 0.5) * width, value, width, yerr=err, capsize=3, label=name)
        ax.set_ylabel("value")
        ax.legend()
    else:
        value = frame["difference"].to_numpy()
        err = np.vstack([value - frame["diff_low"], frame["diff_high"] - value])
        from matplotlib.patches import Patch

        palette = {result.names[0]: "tab:green", result.names[1]: "tab:red", "neither": "tab:gray"}
        ax.bar(x, value, 0.6, yerr=err, capsize=3, color=[palette[b] for b in frame["better"]])
        ax.axhline(0.0, color="black", lw=0.8)
        ax.legend(
            handles=[Patch(color=c, label=f"{k} better" if k != "neither" else "interval covers 0")
                     for k, c in palette.items()],
            fontsize="small",
        )
        ax.set_ylabel(f"{result.names[0]} - {result.names[1]}")
    ax.set_xticks(x)
    ax.set_xticklabels([_LABELS[m] for m in frame["metric"]], rotation=20)
    ax.set_title(f"{result.setting}: {result.level:.0%} bootstrap intervals")
    return ax


def plot_calibration(result: ComparisonResult, ax=None):
    """Reliability diagram: observed frequency against mean predicted probability per bin,
    both models, with the diagonal of perfect calibration (marker area ~ cases in the bin)."""
    _check(result, ComparisonResult, "result")
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="gray", lw=0.8, ls="--", label="perfectly calibrated")
    for name, table in result.calibration.items():
        size = 10 + 200 * table["count"] / table["count"].max()
        line, = ax.plot(table["mean_predicted"], table["observed"], marker=None, label=name)
        ax.scatter(table["mean_predicted"], table["observed"], s=size, color=line.get_color())
    what = "P(positive class)" if len(result.classes) == 2 else "top-class probability"
    ax.set_xlabel(f"mean predicted {what}")
    ax.set_ylabel("observed frequency" if len(result.classes) == 2 else "observed accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Calibration")
    return ax


def plot_roc(result: ComparisonResult, ax=None):
    """ROC curves of both models (one vs rest per class for more than two classes)."""
    _check(result, ComparisonResult, "result")
    ax = _axes(ax)
    styles = ["-", "--"]
    auc = result.metrics.set_index("metric").loc["roc_auc"]
    for style, (name, curves) in zip(styles, result.roc.items()):
        for i, (label, (fpr, tpr, _)) in enumerate(curves.items()):
            text = f"{name} (AUC {auc[name]:.3f})" if len(curves) == 1 else f"{name}: {label} vs rest"
            ax.plot(fpr, tpr, ls=style, color=f"C{i}" if len(curves) > 1 else None, label=text)
    ax.plot([0, 1], [0, 1], color="gray", lw=0.8, ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize="small")
    ax.set_title("ROC")
    return ax


def plot_importance_vs_coefficient(
    result: SideBySideResult, method: str, ax=None, *, logistic: str = "lr_coef", contrast: str = OVERALL
):
    """Each variable as a labelled point: the logistic measure (x) against a network
    importance (y), with Spearman's rho in the title."""
    _check(result, SideBySideResult, "result")
    values = result.values[result.values["contrast"] == contrast]
    if values.empty:
        raise ValueError(f"`contrast` {contrast!r} is not in the result; it has {sorted(set(result.values['contrast']))}.")
    for m, arg in ((method, "method"), (logistic, "logistic")):
        if m not in set(values["method"]):
            raise ValueError(f"`{arg}` {m!r} is not among the methods {sorted(set(values['method']))}.")
    wide = values.pivot(index="variable", columns="method", values="value")
    ax = _axes(ax)
    ax.scatter(wide[logistic], wide[method])
    for var, (xv, yv) in wide[[logistic, method]].iterrows():
        ax.annotate(var, (xv, yv), textcoords="offset points", xytext=(4, 4), fontsize="small")
    ax.axhline(0.0, color="gray", lw=0.5)
    ax.axvline(0.0, color="gray", lw=0.5)
    ax.set_xlabel(logistic)
    ax.set_ylabel(method)
    agree = result.agreement
    row = agree[(agree["contrast"] == contrast)
                & (((agree["method_a"] == method) & (agree["method_b"] == logistic))
                   | ((agree["method_a"] == logistic) & (agree["method_b"] == method)))]
    rho = float(row["spearman"].iloc[0]) if len(row) else np.nan
    ax.set_title(f"{method} vs {logistic} ({contrast}): Spearman rho = {rho:.2f}")
    return ax


def plot_importance_pair(frame, left: str, right: str, *, left_error: str | None = None,
                         labels: tuple[str, str] | None = None, axes=None):
    """Two importances of the same variables side by side as bars, in the order of ``left``.

    Parameters
    ----------
    frame : DataFrame
        One row per variable: a ``variable`` column and the columns ``left`` and ``right``
        (and ``left_error``, drawn as an error bar on the left bars, when given).
    left, right : str
        The columns drawn in the left and the right panel.
    labels : pair of str, optional
        Axis labels of the two panels (default: the column names).
    axes : pair of matplotlib Axes, optional

    Returns
    -------
    pair of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    from .palette import OKABE_ITO

    missing = [c for c in ("variable", left, right, *([left_error] if left_error else [])) if c not in frame]
    if missing:
        raise ValueError(f"`frame` lacks the columns {missing}; it has {list(frame.columns)}.")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 0.4 * len(frame) + 1.5), sharey=True)
    data = frame.sort_values(left, ascending=True)
    y = np.arange(len(data))
    labels = labels or (left, right)
    axes[0].barh(y, data[left], xerr=data[left_error] if left_error else None, color=OKABE_ITO[0], capsize=2)
    axes[1].barh(y, data[right], color=OKABE_ITO[1])
    axes[0].set_yticks(y, data["variable"])
    for ax, label in zip(axes, labels):
        ax.set_xlabel(label)
        ax.grid(axis="x", color="#dddddd", lw=0.5)
    return axes
