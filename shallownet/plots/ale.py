"""Drawing of accumulated local effects beside partial dependence (matplotlib imported lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .sensitivity import _axes, _class_index, _require


def plot_ale(result: Any, *, partial_dependence: Any = None, class_: Any = None, ax=None):
    """ALE of one output, optionally with the centred partial dependence of the same variable.

    Both curves are centred (the ALE by construction, the partial dependence by subtracting
    its mean over the grid values, weighted equally), so their shapes compare directly. Where
    they differ, the partial dependence is reading the network at combinations of values that
    the data do not contain (it moves every case over the whole range); the ALE only moves
    cases within their own bin (see ``theory/ale.md``).

    Parameters
    ----------
    result : AccumulatedLocalEffects
    partial_dependence : PartialDependence, optional
        :func:`shallownet.interpret.partial_dependence` of the same variable.
    class_ : label, optional
        The class (or regression output) to draw; default the positive class of a binary
        problem, else the first.

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret.ale import AccumulatedLocalEffects
    from ..interpret.profiles import PartialDependence

    _require(result, AccumulatedLocalEffects, "ale")
    if partial_dependence is not None:
        _require(partial_dependence, PartialDependence, "partial_dependence")
        if partial_dependence.variable != result.variable:
            raise ValueError(
                f"`partial_dependence` is of {partial_dependence.variable!r}; the ALE is of "
                f"{result.variable!r}."
            )
    ax = _axes(ax)
    k = _class_index(result.outputs, class_)
    label = str(result.outputs[k]) if result.regression else f"p({result.outputs[k]})"
    real = result.kind == "real"
    if real:
        x = np.asarray(result.values, float)
        ax.plot(x, result.effects[:, k], "-", color="C0", lw=2, label="ALE")
        ax.plot(x, result.effects[:, k], "|", color="0.4", ms=8)  # the bin edges
    else:
        x = np.arange(len(result.values))
        ax.plot(x, result.effects[:, k], "o-", color="C0", lw=2, label="ALE")
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in result.values])
    if partial_dependence is not None:
        pd_curve = partial_dependence.average[:, k]
        pd_x = partial_dependence.values
        if real:
            ax.plot(np.asarray(pd_x, float), pd_curve - pd_curve.mean(), "--", color="C3",
                    lw=1.5, label="partial dependence (centred)")
        else:
            pos = {str(v): i for i, v in enumerate(result.values)}
            idx = [pos[str(v)] for v in pd_x]
            ax.plot(np.asarray(idx)[np.argsort(idx)], (pd_curve - pd_curve.mean())[np.argsort(idx)],
                    "s--", color="C3", lw=1.5, label="partial dependence (centred)")
        ax.annotate("partial dependence moves every case over the whole range;\n"
                    "ALE moves each case only within its own bin",
                    (0.01, 0.01), xycoords="axes fraction", fontsize="x-small", color="0.35")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.set_xlabel(result.variable)
    ax.set_ylabel(f"effect on {label}")
    ax.legend(frameon=False, fontsize="small")
    ax.set_title(result.title)
    return ax


def plot_ale2(result: Any, *, class_: Any = None, contour: bool = True, ax=None):
    """Heat map of a second-order ALE (one output) over the pair's bin edges, with contours.

    Cells are drawn between the edges (so their widths are the quantile bins); the colour scale
    is symmetric about zero (red raises the output beyond the two main effects, blue lowers
    it). Cells that held no case, whose difference was taken from the nearest cell with cases,
    are hatched.

    Parameters
    ----------
    result : SecondOrderALE
    class_ : label, optional
        As in :func:`plot_ale`.
    contour : bool, default True
        Draw labelled contour lines over the map.

    Returns
    -------
    matplotlib Axes
    """
    from ..interpret.ale2 import SecondOrderALE

    _require(result, SecondOrderALE, "ale2")
    ax = _axes(ax)
    k = _class_index(result.outputs, class_)
    label = str(result.outputs[k]) if result.regression else f"p({result.outputs[k]})"
    e1, e2 = result.values
    z = result.effects[:, :, k]
    # colour each cell by the mean of its four corners
    cells = (z[:-1, :-1] + z[1:, :-1] + z[:-1, 1:] + z[1:, 1:]) / 4
    top = float(np.abs(z).max()) or 1.0
    mesh = ax.pcolormesh(e1, e2, cells.T, cmap="RdBu_r", vmin=-top, vmax=top, shading="flat")
    from matplotlib.patches import Rectangle

    for i, j in zip(*np.nonzero(result.imputed)):
        ax.add_patch(Rectangle((e1[i], e2[j]), e1[i + 1] - e1[i], e2[j + 1] - e2[j], fill=False,
                               hatch="//", edgecolor="0.55", linewidth=0))
    if contour and len(e1) > 2 and len(e2) > 2:
        lines = ax.contour(e1, e2, z.T, colors="0.2", linewidths=0.7)
        ax.clabel(lines, fontsize="x-small")
    ax.figure.colorbar(mesh, ax=ax, label=f"interaction effect on {label}")
    ax.set_xlabel(result.variables[0])
    ax.set_ylabel(result.variables[1])
    ax.set_title(result.title)
    return ax
