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


def plot_surface(result: Any, *, class_: Any = None, points: Any = None, labels: Any = None, ax=None):
    """Map of the classification over two variables (for a regression surface: of one
    output's prediction, coloured over its own range), optionally with the data on it.

    Two classes (or a chosen ``class_``): contours of that class's probability on a colour map
    safe for colour-blind readers, with the decision boundary. More classes and no
    ``class_``: the decided class in each region, in the class colours of
    :mod:`shallownet.plots.palette`, shaded by the probability of the decided class. A
    binary or enumerated variable gives a categorical axis (cells instead of contours).

    Parameters
    ----------
    result : DecisionSurface
    class_ : label, optional
        The class whose probability is drawn.
    points : DataFrame, optional
        Cases to overlay (raw units), with the two variables as columns; real axes only.
    labels : array-like, optional
        The class of each point (colours and markers follow the classes of ``result``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.colors import ListedColormap

    from ..interpret.profiles import DecisionSurface
    from .palette import DIVERGING, MARKERS, class_colour

    _require(result, DecisionSurface, "decision_surface")
    ax = _axes(ax, (6, 5))
    va, vb = result.values
    cat_a, cat_b = _categorical(va), _categorical(vb)
    xa = np.arange(len(va)) if cat_a else np.asarray(va, float)
    xb = np.arange(len(vb)) if cat_b else np.asarray(vb, float)
    regression = result.regression
    K = len(result.classes)
    regions = not regression and class_ is None and K > 2
    if regions:
        colours = ListedColormap([class_colour(k) for k in range(K)])
        strength = result.proba.max(axis=-1).T
        ax.pcolormesh(xa, xb, result.decision.T, cmap=colours, vmin=-0.5, vmax=K - 0.5, shading="nearest",
                      alpha=0.25 + 0.35 * (strength - strength.min()) / max(float(np.ptp(strength)), 1e-12))
        label = "decided class (darker: more probable)"
    else:
        k = _class_index(result.classes, class_)
        P = result.proba[:, :, k].T  # rows: second variable
        low, high = (float(P.min()), float(P.max())) if regression else (0.0, 1.0)
        if high <= low:
            high = low + 1.0
        if cat_a or cat_b:
            image = ax.pcolormesh(xa, xb, P, shading="nearest", vmin=low, vmax=high, cmap=DIVERGING)
        else:
            image = ax.contourf(xa, xb, P, levels=np.linspace(low, high, 11), cmap=DIVERGING)
        label = f"predicted {result.classes[k]}" if regression else f"p({result.classes[k]})"
        ax.figure.colorbar(image, ax=ax, label=label)
    if not regression and not (cat_a or cat_b) and len(np.unique(result.decision)) > 1:
        ax.contour(xa, xb, result.decision.T.astype(float), colors="k", linewidths=1.2,
                   levels=np.arange(K) + 0.5)
    if points is not None and not (cat_a or cat_b):
        pa = np.asarray(points[result.variables[0]], dtype=float)
        pb = np.asarray(points[result.variables[1]], dtype=float)
        groups = np.asarray(labels, dtype=object) if labels is not None else np.full(len(pa), None)
        inside = (pa >= xa.min()) & (pa <= xa.max()) & (pb >= xb.min()) & (pb <= xb.max())
        for k, c in enumerate(result.classes if labels is not None else [None]):
            sel = inside & ((groups == c) if labels is not None else True)
            ax.scatter(pa[sel], pb[sel], s=14, marker=MARKERS[k % len(MARKERS)], color=class_colour(k),
                       edgecolor="black", linewidth=0.4, label=None if c is None else str(c))
        if labels is not None:
            ax.legend(title="true class", fontsize="small", loc="best", framealpha=0.8)
    for axis, cat, values in ((ax.xaxis, cat_a, va), (ax.yaxis, cat_b, vb)):
        if cat:
            axis.set_ticks(np.arange(len(values)))
            axis.set_ticklabels([str(v) for v in values])
    ax.set_xlabel(result.variables[0])
    ax.set_ylabel(result.variables[1])
    ax.set_title(result.title + (f"; {label}" if regions else ""), fontsize="small")
    return ax
