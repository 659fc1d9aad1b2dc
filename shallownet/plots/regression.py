"""Drawings of a regression comparison and of influence on a numeric output (matplotlib is
imported when a plot is drawn).

All take result objects: a :class:`~shallownet.baselines.RegressionComparison` (held-out
targets and both models' predictions) or a :class:`~shallownet.interpret.RegressionInfluence`.
Residuals are ``y - prediction`` (:meth:`RegressionComparison.residuals`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_one_of

RESIDUAL_KINDS = ("fitted", "histogram", "qq")


def _axes(ax, size=(6, 4.5)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _check(result: Any, kind: type, function: str) -> None:
    if not isinstance(result, kind):
        raise TypeError(f"`result` of {function} must be a {kind.__name__}. Got {type(result).__name__}.")


def plot_predicted_vs_observed(result: Any, ax=None):
    """Held-out predictions of both models against the observed target, with the line y = x.

    Parameters
    ----------
    result : RegressionComparison
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from ..baselines import RegressionComparison

    _check(result, RegressionComparison, "plot_predicted_vs_observed")
    ax = _axes(ax)
    metrics = result.to_frame().set_index("metric")
    for k, (name, marker) in enumerate(zip(result.names, ("o", "^"))):
        ax.scatter(result.y, result.predictions[k], s=14, marker=marker, alpha=0.6, color=f"C{k}",
                   label=f"{name} (RMSE {metrics.loc['rmse', name]:.3g}, R² {metrics.loc['r2', name]:.3f})")
    values = np.concatenate([result.y, result.predictions.ravel()])
    low, high = float(values.min()), float(values.max())
    ax.plot([low, high], [low, high], color="0.3", lw=1, ls="--", label="prediction = observed")
    ax.set_xlabel("observed")
    ax.set_ylabel("predicted")
    ax.legend(frameon=False, fontsize="small")
    ax.set_title(f"Predicted against observed ({len(result.y)} held-out cases)")
    return ax


def plot_residuals(result: Any, kind: str = "fitted", ax=None):
    """Residuals ``y - prediction`` of both models on the held-out cases.

    Parameters
    ----------
    result : RegressionComparison
    kind : {"fitted", "histogram", "qq"}
        "fitted": residuals against the predictions, with the zero line; "histogram": their
        distributions on shared bins; "qq": standardised residuals (divided by their sd)
        against standard normal quantiles at the plotting positions ``(i - 0.5) / n``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from scipy import stats

    from ..baselines import RegressionComparison

    _check(result, RegressionComparison, "plot_residuals")
    check_one_of("kind", kind, RESIDUAL_KINDS)
    ax = _axes(ax)
    residuals = result.residuals()
    if kind == "fitted":
        for k, (name, marker) in enumerate(zip(result.names, ("o", "^"))):
            ax.scatter(result.predictions[k], residuals[k], s=14, marker=marker, alpha=0.6, color=f"C{k}", label=name)
        ax.axhline(0.0, color="0.3", lw=1, ls="--")
        ax.set_xlabel("predicted")
        ax.set_ylabel("residual (observed - predicted)")
        ax.set_title("Residuals against predictions")
    elif kind == "histogram":
        bins = np.histogram_bin_edges(residuals.ravel(), bins="auto")
        for k, name in enumerate(result.names):
            ax.hist(residuals[k], bins=bins, alpha=0.5, color=f"C{k}", label=name)
        ax.axvline(0.0, color="0.3", lw=1, ls="--")
        ax.set_xlabel("residual (observed - predicted)")
        ax.set_ylabel("cases")
        ax.set_title("Distribution of the residuals")
    else:
        n = residuals.shape[1]
        theoretical = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
        for k, (name, marker) in enumerate(zip(result.names, ("o", "^"))):
            sd = residuals[k].std(ddof=1)
            z = np.sort(residuals[k]) / (sd if sd > 0 else 1.0)
            ax.scatter(theoretical, z, s=12, marker=marker, alpha=0.7, color=f"C{k}", label=name)
        ax.plot(theoretical[[0, -1]], theoretical[[0, -1]], color="0.3", lw=1, ls="--", label="normal")
        ax.set_xlabel("standard normal quantile")
        ax.set_ylabel("standardised residual")
        ax.set_title("Normal Q-Q plot of the residuals")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_regression_influence(result: Any, output: Any = None, ax=None):
    """Bars per variable of mean potential influence (the range of the prediction), expected
    influence under the chosen conditional (with the members' range) and under the marginal
    (hatched), in raw units of the target.

    Parameters
    ----------
    result : RegressionInfluence with an expected influence
    output : name of the output, optional (default: the first)
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret import RegressionInfluence

    _check(result, RegressionInfluence, "plot_regression_influence")
    if result.expected is None:
        raise ValueError("`result` holds potential influence only; plot_regression_influence needs "
                         "expected_influence's result.")
    names = [str(o) for o in result.outputs]
    output = names[0] if output is None else str(output)
    check_one_of("output", output, names)
    t = names.index(output)
    ax = _axes(ax, (7, 4))
    pos = np.arange(len(result.variables))
    width = 0.27
    ei = result.expected[:, :, t].mean(axis=0)
    ax.bar(pos - width, result.potential[:, :, t].mean(axis=0), width, label="potential (range)", color="0.75")
    err = None
    if result.member_expected.shape[0] > 1:
        member = result.member_expected[:, :, :, t].mean(axis=1)  # (M, V)
        err = np.vstack([ei - member.min(axis=0), member.max(axis=0) - ei]).clip(min=0)
    ax.bar(pos, ei, width, yerr=err, capsize=3, label=f"expected ({result.conditional})", color="C0")
    ax.bar(pos + width, result.marginal[:, :, t].mean(axis=0), width, label="expected (marginal)", color="C0",
           alpha=0.35, hatch="//")
    ax.set_xticks(pos)
    ax.set_xticklabels(result.variables, rotation=30, ha="right")
    ax.set_ylabel(f"mean change of predicted {output}")
    ax.legend(frameon=False, fontsize="small")
    ax.set_title(result.title)
    return ax
