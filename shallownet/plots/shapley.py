"""Drawings of Shapley values: a beeswarm summary, one case's waterfall, a dependence plot.

All take a :class:`~shallownet.interpret.shapley.Shapley` result and one of its targets
(default :attr:`~shallownet.interpret.shapley.Shapley.default_target`); matplotlib is imported
when a plot is drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_int


def _axes(ax, size=(7, 4)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _check(result: Any) -> None:
    from ..interpret.shapley import Shapley

    if not isinstance(result, Shapley):
        raise TypeError(f"`result` must be the result of shapley. Got {type(result).__name__}.")


def _colour_scale(values: np.ndarray) -> np.ndarray:
    """Each variable's values mapped to [0, 1] by rank within the variable (NaN-free)."""
    out = np.empty_like(values, dtype=float)
    for j in range(values.shape[1]):
        col = values[:, j]
        lo, hi = np.min(col), np.max(col)
        out[:, j] = (col - lo) / (hi - lo) if hi > lo else 0.5
    return out


def plot_shapley_summary(result: Any, target: Any = None, *, max_variables: int = 20, ax=None,
                         random_state: int = 0):
    """Beeswarm-style summary: one row per variable (largest mean |phi| on top), one dot per
    case at its value phi, coloured from low (blue) to high (red) value of the variable (for
    an enumerated variable: its category index). Dots are jittered vertically within their
    row by the local density of values, so crowded values spread out.

    Parameters
    ----------
    result : Shapley
    target : label, optional
    max_variables : int, default 20
    ax : matplotlib Axes, optional
    random_state : int, default 0
        Seeds the jitter.

    Returns
    -------
    matplotlib Axes
    """
    _check(result)
    max_variables = check_int("max_variables", max_variables, 1)
    t = result.target_index(target)
    phi = result.values[:, :, t]
    order = np.argsort(-np.abs(phi).mean(axis=0))[:max_variables][::-1]
    colours = _colour_scale(result.feature_values)
    rng = np.random.default_rng(random_state)
    ax = _axes(ax, (7, 0.4 * len(order) + 1.5))
    for row, j in enumerate(order):
        v = phi[:, j]
        span = np.ptp(v) or 1.0
        bins = np.clip(((v - v.min()) / span * 40).astype(int), 0, 40)
        density = np.bincount(bins, minlength=41)[bins] / len(v)
        spread = 0.4 * density / max(density.max(), 1e-12)
        y = row + rng.uniform(-1, 1, len(v)) * spread
        points = ax.scatter(v, y, c=colours[:, j], cmap="coolwarm", vmin=0, vmax=1, s=10, linewidths=0)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(order)), [result.variables[j] for j in order])
    ax.set_xlabel(f"Shapley value ({result.output} of {result.targets[t]})")
    ax.figure.colorbar(points, ax=ax, ticks=[0, 1], label="variable value").ax.set_yticklabels(["low", "high"])
    return ax


def plot_shapley_waterfall(result: Any, case: int = 0, target: Any = None, *, max_variables: int = 12, ax=None):
    """Waterfall of one case: from ``E f`` at the bottom, each variable's phi as a step (red up,
    blue down; largest |phi| last, the smallest pooled as "other variables"), ending at
    ``f(x)``.

    Parameters
    ----------
    result : Shapley
    case : int, default 0
        Row of the explained data.
    target : label, optional
    max_variables : int, default 12
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _check(result)
    case = check_int("case", case)
    if not 0 <= case < result.n_cases:
        raise ValueError(f"`case` must be in [0, {result.n_cases - 1}]. Got {case}.")
    max_variables = check_int("max_variables", max_variables, 1)
    t = result.target_index(target)
    phi = result.values[case, :, t]
    order = np.argsort(np.abs(phi))  # smallest first
    labels, steps = [], []
    if len(order) > max_variables:
        rest = order[: len(order) - max_variables]
        labels.append(f"{len(rest)} other variables")
        steps.append(phi[rest].sum())
        order = order[len(order) - max_variables :]
    for j in order:
        labels.append(f"{result.variables[j]} = {_value_label(result, case, j)}")
        steps.append(phi[j])
    ax = _axes(ax, (7, 0.4 * len(steps) + 1.5))
    start = float(result.base[t])
    for row, step in enumerate(steps):
        ax.barh(row, step, left=start, color="tab:red" if step > 0 else "tab:blue")
        start += step
    ax.axvline(float(result.base[t]), color="grey", lw=0.8, ls=":")
    ax.axvline(float(result.prediction[case, t]), color="black", lw=0.8)
    ax.set_yticks(range(len(steps)), labels)
    ax.set_xlabel(f"{result.output} of {result.targets[t]}: E f = {result.base[t]:.3g} "
                  f"(dotted) to f(x) = {result.prediction[case, t]:.3g} (solid)")
    return ax


def plot_shapley_dependence(result: Any, variable: str, target: Any = None, *, colour_by: str | None = None, ax=None):
    """phi of one variable against its value, one dot per case (categories on the x axis for an
    enumerated variable, jittered), optionally coloured by another variable's value (which
    shows interactions: a vertical spread that follows the colour).

    Parameters
    ----------
    result : Shapley
    variable : str
    target : label, optional
    colour_by : str, optional
        Another variable.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _check(result)
    j = _variable(result, variable, "variable")
    t = result.target_index(target)
    x = result.feature_values[:, j].astype(float)
    ax = _axes(ax)
    if result.kinds[j] != "real":
        x = x + np.random.default_rng(0).uniform(-0.15, 0.15, len(x))
        cats = result.categories[j] or ("False", "True")
        ax.set_xticks(range(len(cats)), [str(c) for c in cats])
    kw = {}
    if colour_by is not None:
        c = _variable(result, colour_by, "colour_by")
        kw = dict(c=_colour_scale(result.feature_values)[:, c], cmap="coolwarm", vmin=0, vmax=1)
    points = ax.scatter(x, result.values[:, j, t], s=10, linewidths=0, **kw)
    if colour_by is not None:
        ax.figure.colorbar(points, ax=ax, label=f"{colour_by} (low to high)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(variable)
    ax.set_ylabel(f"Shapley value of {variable} ({result.targets[t]})")
    return ax


def _variable(result, name: str, arg: str) -> int:
    if name not in result.variables:
        raise ValueError(f"`{arg}` must be one of {list(result.variables)}. Got {name!r}.")
    return result.variables.index(name)


def _value_label(result, case: int, j: int) -> str:
    value = result.feature_values[case, j]
    if result.kinds[j] == "enumerated":
        return str(result.categories[j][int(value)])
    if result.kinds[j] == "binary":
        return str(bool(value))
    return f"{value:.3g}"
