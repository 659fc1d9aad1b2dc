"""Drawing of the PCA map of a hidden layer (matplotlib is imported when a plot is drawn)."""

from __future__ import annotations

from typing import Any

import numpy as np


def plot_hidden_map(result: Any, *, regions: bool = True, ax=None):
    """Cases on the first two principal components of a hidden layer.

    Points are coloured by true class (by predicted class without ``y``); misclassified cases
    are drawn as crosses. With ``regions=True`` the decided class of the slice
    ``mu + t1 u1 + t2 u2`` (every other component at its mean) is shaded behind them, blank
    where that vector is outside the activation's range; for a regression network the
    prediction is shaded instead and points are coloured by it.

    Parameters
    ----------
    result : HiddenMap
    regions : bool, default True
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret.hidden_map import HiddenMap

    if not isinstance(result, HiddenMap):
        raise TypeError(f"`result` must be the result of hidden_map. Got {type(result).__name__}.")
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    t = result.coordinates
    y2 = t[:, 1] if t.shape[1] > 1 else np.zeros(len(t))
    have_grid = regions and result.grid_x.size > 0
    if result.is_regression:
        values = np.asarray(result.predicted).reshape(len(t), -1)[:, 0]
        if have_grid:
            ax.pcolormesh(result.grid_x, result.grid_y, result.region[..., 0], cmap="viridis", alpha=0.35, shading="auto")
        points = ax.scatter(t[:, 0], y2, c=values, cmap="viridis", s=12)
        ax.figure.colorbar(points, ax=ax, label=f"prediction of {result.classes[0]}")
    else:
        K = len(result.classes)
        colours = plt.get_cmap("tab10")(np.arange(K) % 10)
        if have_grid:
            decided = result.region_class.astype(float)
            decided[decided < 0] = np.nan
            from matplotlib.colors import ListedColormap

            ax.pcolormesh(result.grid_x, result.grid_y, decided, cmap=ListedColormap(colours),
                          vmin=-0.5, vmax=K - 0.5, alpha=0.2, shading="auto")
        label = result.y if result.y is not None else result.predicted
        wrong = result.misclassified if result.misclassified is not None else np.zeros(len(t), bool)
        for k in range(K):
            ok = (label == k) & ~wrong
            ax.scatter(t[ok, 0], y2[ok], color=colours[k], s=12, label=str(result.classes[k]))
            bad = (label == k) & wrong
            if bad.any():
                ax.scatter(t[bad, 0], y2[bad], color=colours[k], marker="x", s=30)
        ax.legend(title="true class (x: misclassified)" if result.y is not None else "predicted class",
                  fontsize="small")
    r = result.explained_variance_ratio
    ax.set_xlabel(f"PC1 ({100 * r[0]:.1f} % of variance)")
    ax.set_ylabel(f"PC2 ({100 * r[1]:.1f} % of variance)" if len(r) > 1 else "")
    ax.set_title(f"Hidden layer {result.layer + 1}" + (" (regions: other components at their means)" if have_grid else ""),
                 fontsize="medium")
    return ax
