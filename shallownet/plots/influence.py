"""Drawings of potential and expected influence (matplotlib is imported when a plot is drawn)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_one_of


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4))
    return ax


def _check_result(result: Any) -> None:
    from ..interpret.influence import ExpectedInfluence, PotentialInfluence

    if not isinstance(result, (ExpectedInfluence, PotentialInfluence)):
        raise TypeError(
            "`result` must be the result of potential_influence or expected_influence. "
            f"Got {type(result).__name__}."
        )


def plot_influence(result: Any, *, by: str | None = None, ax=None):
    """Bars of influence per variable.

    For an :class:`~shallownet.interpret.influence.ExpectedInfluence`: mean potential influence
    beside mean expected influence under the chosen conditional and under the marginal (hatched);
    for an ensemble, the EI bar carries the range of the members' EI. For a
    :class:`~shallownet.interpret.influence.PotentialInfluence`: binary and graded PI.

    Parameters
    ----------
    result : PotentialInfluence or ExpectedInfluence
    by : {None, "true", "predicted"}
        Instead, one bar per class: the main measure averaged within each true or predicted class.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret.influence import ExpectedInfluence

    _check_result(result)
    ax = _axes(ax)
    names = list(result.variables)
    pos = np.arange(len(names))
    if by is not None:
        check_one_of("by", by, ("true", "predicted"))
        measure = "expected" if isinstance(result, ExpectedInfluence) else "potential"
        agg = result.aggregate(measure, by=by)
        K = len(result.classes)
        width = 0.8 / K
        for k, c in enumerate(result.classes):
            vals = [agg[(agg.variable == v) & (agg.group == c)][measure].iloc[0] for v in names]
            ax.bar(pos - 0.4 + width * (k + 0.5), np.nan_to_num(vals), width, label=f"{by} class {c}")
        ax.set_ylabel(f"mean {measure} influence")
    elif isinstance(result, ExpectedInfluence):
        frame = result.to_frame()
        width = 0.27
        ax.bar(pos - width, frame["potential"], width, label="potential", color="0.75")
        ei = frame["expected"].to_numpy()
        err = None
        if result.member_expected.shape[0] > 1:
            err = np.vstack([ei - frame["member_min"], frame["member_max"] - ei]).clip(min=0)
        ax.bar(pos, ei, width, yerr=err, capsize=3, label=f"expected ({result.conditional})", color="C0")
        ax.bar(pos + width, frame["marginal"], width, label="expected (marginal)", color="C0",
               alpha=0.35, hatch="//")
        ax.set_ylabel("mean influence")
    else:
        frame = result.to_frame()
        ax.bar(pos - 0.2, frame["potential"], 0.4, label="potential", color="0.6")
        ax.bar(pos + 0.2, frame["graded"], 0.4, label="graded", color="C1")
        ax.set_ylabel("mean potential influence")
    ax.set_xticks(pos)
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize="small")
    ax.set_title(result.title)
    return ax


def plot_influence_heatmap(result: Any, *, measure: str | None = None, ax=None):
    """Per-case influence as an image: cases (rows) sorted by predicted class, then by their
    total influence; variables as columns; lines separate the predicted classes.

    Returns
    -------
    matplotlib Axes
    """
    _check_result(result)
    ax = _axes(ax)
    values = result.per_case(measure).to_numpy()
    order = np.lexsort((-values.sum(axis=1), result.predicted))
    image = ax.imshow(values[order], aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1)
    counts = np.bincount(result.predicted, minlength=len(result.classes)).cumsum()
    for edge in counts[:-1]:
        ax.axhline(edge - 0.5, color="white", lw=1)
    ticks = counts - np.bincount(result.predicted, minlength=len(result.classes)) / 2
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"pred. {c}" for c in result.classes])
    ax.set_xticks(np.arange(len(result.variables)))
    ax.set_xticklabels(result.variables, rotation=30, ha="right")
    ax.figure.colorbar(image, ax=ax, label=measure or result.measures[0])
    ax.set_title(result.title)
    return ax
