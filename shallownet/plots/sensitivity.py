"""Drawings of sensitivities, profiles and the decision surface (matplotlib imported lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_one_of


def _axes(ax, size=(6, 4)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _class_index(classes: np.ndarray, class_: Any) -> int:
    """Index of ``class_`` in ``classes``; by default the positive class of a binary problem,
    else the first class."""
    if class_ is None:
        return 1 if len(classes) == 2 else 0
    matches = [k for k, c in enumerate(classes) if c == class_]
    if not matches:
        raise ValueError(f"`class_` must be one of {list(classes)}. Got {class_!r}.")
    return matches[0]


def _require(result: Any, kind: type, function: str) -> None:
    if not isinstance(result, kind):
        raise TypeError(f"`result` must be the result of {function}. Got {type(result).__name__}.")


def plot_sensitivity(result: Any, *, kind: str = "scatter", class_: Any = None, ax=None):
    """Partial-derivative summaries of a :class:`~shallownet.interpret.sensitivity.Sensitivity`.

    ``kind="scatter"``: mean against standard deviation per variable for one class (a variable
    far from the origin matters; a large sd with a small mean marks a non-monotone or
    interacting effect). ``kind="rms"``: bars of the root mean square per variable and class.

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret.sensitivity import Sensitivity

    _require(result, Sensitivity, "sensitivity")
    check_one_of("kind", kind, ("scatter", "rms"))
    ax = _axes(ax)
    if kind == "scatter":
        k = _class_index(result.classes, class_)
        mean, sd = result.mean[:, k], result.sd[:, k]
        ax.scatter(mean, sd, color="C0")
        for name, m, s in zip(result.variables, mean, sd):
            ax.annotate(name, (m, s), textcoords="offset points", xytext=(4, 3), fontsize="small")
        ax.axvline(0, color="0.7", lw=0.8)
        ax.set_xlabel(f"mean effect on predicted {result.classes[k]}" if result.regression
                      else f"mean effect on p({result.classes[k]})")
        ax.set_ylabel("sd over cases")
    else:
        rms = result.rms
        pos = np.arange(len(result.variables))
        K = len(result.classes)
        height = 0.8 / K
        for k, c in enumerate(result.classes):
            ax.barh(pos - 0.4 + height * (k + 0.5), rms[:, k], height,
                    label=f"predicted {c}" if result.regression else f"p({c})")
        ax.set_yticks(pos)
        ax.set_yticklabels(result.variables)
        ax.invert_yaxis()
        ax.set_xlabel("root mean square effect")
        ax.legend(frameon=False, fontsize="small")
    ax.set_title(result.title)
    return ax


def _categorical(values: np.ndarray) -> bool:
    return np.asarray(values).dtype == object


def _missing_position(values, x: np.ndarray):
    """For a real variable with a missingness indicator (values end with NaN, "missing"):
    ``(x with NaN at the end, position to draw "missing" at)``; else ``(x, None)``."""
    if _categorical(values) or len(x) < 2 or not np.isnan(x[-1]):
        return x, None
    grid = x[:-1]
    return x, float(grid.max() + 0.08 * (grid.max() - grid.min()))


def _label_missing(ax, at_missing) -> None:
    if at_missing is not None:
        ax.annotate("missing", (at_missing, 0.0), xytext=(0, -2), textcoords="offset points",
                    ha="center", va="top", fontsize="small")


def plot_profile(result: Any, *, class_: Any = None, ax=None):
    """Lek profile curves: one curve per group (quantile or cluster) for one class.

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret.profiles import LekProfile

    _require(result, LekProfile, "profile")
    ax = _axes(ax)
    k = _class_index(result.classes, class_)
    x = np.arange(len(result.values)) if _categorical(result.values) else np.asarray(result.values, float)
    style = "o-" if _categorical(result.values) or len(x) <= 2 else "-"
    x, at_missing = _missing_position(result.values, x)
    for g, label in enumerate(result.groups):
        ax.plot(x, result.curves[g, :, k], style, label=label, color=f"C{g % 10}")
        if at_missing is not None:
            ax.plot([at_missing], [result.curves[g, -1, k]], "s", color=f"C{g % 10}")
    _label_missing(ax, at_missing)
    if _categorical(result.values):
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in result.values])
    ax.set_xlabel(result.variable)
    ax.set_ylabel(f"p({result.classes[k]})")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(frameon=False, fontsize="small", title=f"{result.method} groups")
    ax.set_title(result.title)
    return ax


def plot_partial_dependence(result: Any, *, class_: Any = None, ice: bool = True, max_ice: int = 100, ax=None):
    """ICE curves (thin, at most ``max_ice`` evenly chosen cases) and partial dependence (thick).

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret.profiles import PartialDependence

    _require(result, PartialDependence, "partial_dependence")
    ax = _axes(ax)
    k = _class_index(result.classes, class_)
    x = np.arange(len(result.values)) if _categorical(result.values) else np.asarray(result.values, float)
    if ice:
        N = result.ice.shape[0]
        chosen = np.unique(np.linspace(0, N - 1, min(N, max_ice)).astype(int))
        ax.plot(x, result.ice[chosen, :, k].T, color="0.6", lw=0.5, alpha=0.5)
    x, at_missing = _missing_position(result.values, x)
    ax.plot(x, result.average[:, k], color="C3", lw=2.5, label="partial dependence")
    if at_missing is not None:
        ax.plot([at_missing], [result.average[-1, k]], "s", color="C3")
    _label_missing(ax, at_missing)
    if _categorical(result.values):
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in result.values])
    ax.set_xlabel(result.variable)
    if result.regression:
        ax.set_ylabel(f"predicted {result.classes[k]}")
    else:
        ax.set_ylabel(f"p({result.classes[k]})")
        ax.set_ylim(-0.02, 1.02)
    ax.legend(frameon=False, fontsize="small")
    ax.set_title(result.title)
    return ax


def plot_surface(result: Any, *, class_: Any = None, ax=None):
    """Contour map of one class probability over two variables, with the decision boundaries
    (for a regression surface: of one output's prediction, coloured over its own range).

    A binary or enumerated variable gives a categorical axis (cells instead of contours).

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret.profiles import DecisionSurface

    _require(result, DecisionSurface, "decision_surface")
    ax = _axes(ax, (6, 5))
    k = _class_index(result.classes, class_)
    va, vb = result.values
    cat_a, cat_b = _categorical(va), _categorical(vb)
    xa = np.arange(len(va)) if cat_a else np.asarray(va, float)
    xb = np.arange(len(vb)) if cat_b else np.asarray(vb, float)
    P = result.proba[:, :, k].T  # rows: second variable
    regression = result.regression
    low, high = (float(P.min()), float(P.max())) if regression else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    if cat_a or cat_b:
        image = ax.pcolormesh(xa, xb, P, shading="nearest", vmin=low, vmax=high, cmap="RdBu_r")
    else:
        image = ax.contourf(xa, xb, P, levels=np.linspace(low, high, 11), cmap="RdBu_r")
        if not regression and len(np.unique(result.decision)) > 1:
            ax.contour(xa, xb, result.decision.T.astype(float), colors="k", linewidths=1.2,
                       levels=np.arange(len(result.classes)) + 0.5)
    label = f"predicted {result.classes[k]}" if regression else f"p({result.classes[k]})"
    ax.figure.colorbar(image, ax=ax, label=label)
    for axis, cat, values in ((ax.xaxis, cat_a, va), (ax.yaxis, cat_b, vb)):
        if cat:
            axis.set_ticks(np.arange(len(values)))
            axis.set_ticklabels([str(v) for v in values])
    ax.set_xlabel(result.variables[0])
    ax.set_ylabel(result.variables[1])
    ax.set_title(result.title, fontsize="small")
    return ax
