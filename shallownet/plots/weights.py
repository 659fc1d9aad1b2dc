"""Drawings of weight-based results: the neural interpretation diagram, importance bars, and
the hidden-activity heatmap. matplotlib is imported inside each function."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..interpret.activity import HiddenActivity
from ..interpret.importance import Importance
from ..interpret.randomization import OldenTest
from ..interpret.weights import WeightTable

POSITIVE = "#b2182b"
NEGATIVE = "#2166ac"


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_type(name: str, value: Any, types: tuple) -> None:
    if not isinstance(value, types):
        wanted = " or ".join(t.__name__ for t in types)
        raise TypeError(f"`{name}` must be a {wanted}. Got {type(value).__name__}.")


def _check_member(member: int, n_members: int) -> int:
    if not -n_members <= member < n_members:
        raise ValueError(f"`member` must be in [0, {n_members - 1}]. Got {member!r}.")
    return member % n_members


def plot_network(
    weights: WeightTable,
    activity: HiddenActivity | None = None,
    member: int = 0,
    ax=None,
    max_width: float = 6.0,
):
    """Neural interpretation diagram of one member.

    Edge width is proportional to ``|weight|`` (the largest edge gets ``max_width`` points),
    colour gives the sign (red positive, blue negative). Input weights of enumerated groups
    are drawn centred over the group, and a softmax output's weights centred over classes
    (the identifiable forms, see :func:`shallownet.interpret.weight_table`); biases are not
    drawn. Inputs are labelled by variable, the categories of an enumerated variable
    bracketed together. With ``activity`` (from :func:`shallownet.interpret.hidden_activity`
    on the same model) each hidden node is annotated with its high firing frequency ``F``.

    Parameters
    ----------
    weights : WeightTable
    activity : HiddenActivity, optional
    member : int, default 0
    ax : matplotlib Axes, optional
    max_width : float, default 6.0

    Returns
    -------
    matplotlib Axes
    """
    _check_type("weights", weights, (WeightTable,))
    if activity is not None:
        _check_type("activity", activity, (HiddenActivity,))
        if tuple(len(n) for n in activity.nodes) != tuple(len(h) for h in weights.hidden):
            raise ValueError("`activity` was computed on a network of another shape than `weights`.")
    m = _check_member(member, weights.n_members)
    lay = weights.layout
    n_hidden = len(weights.hidden)
    matrices = [weights.input_centred[m] if n_hidden else lay.centre(weights.weights[0][m])]
    matrices += [weights.weights[l][m] for l in range(1, len(weights.weights))]
    if weights.output == "softmax":
        V = matrices[-1]
        matrices[-1] = V - V.mean(axis=1, keepdims=True)
    out_labels = ([str(c) for c in lay.classes] if weights.output in ("softmax", "linear")
                  else [f"P({lay.classes[1]})"])
    sizes = [len(lay.columns), *(len(h) for h in weights.hidden), len(out_labels)]
    height = max(sizes)
    ax = _axes(ax, (2.2 * len(sizes) + 2, 0.45 * height + 1.5))

    def ys(n):
        return np.linspace(height - 1, 0, n) if n > 1 else np.array([(height - 1) / 2])

    pos = [ys(n) for n in sizes]
    biggest = max(float(np.abs(W).max()) for W in matrices) or 1.0
    for l, W in enumerate(matrices):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                w = W[i, j]
                if w == 0:
                    continue
                ax.plot([l, l + 1], [pos[l][i], pos[l + 1][j]], color=POSITIVE if w > 0 else NEGATIVE,
                        lw=max_width * abs(w) / biggest, alpha=0.7, solid_capstyle="round", zorder=1)
    for l, y in enumerate(pos):
        ax.scatter(np.full(len(y), l), y, s=520, color="white", edgecolor="black", zorder=2)
    # inputs: category names next to the node, variable names (bracketed for groups) further left
    for v, cols in enumerate(lay.groups):
        y = pos[0][cols]
        if len(cols) > 1:
            for c, yc in zip(cols, y):
                ax.text(-0.12, yc, lay.column_category[c] or "value", ha="right", va="center", fontsize=8)
            x_br = -0.12 - 0.04 * max(len(lay.column_category[c] or "value") for c in cols) - 0.08
            ax.plot([x_br, x_br - 0.05, x_br - 0.05, x_br], [y.max(), y.max(), y.min(), y.min()],
                    color="black", lw=1)
            ax.text(x_br - 0.1, y.mean(), lay.variables[v], ha="right", va="center", fontsize=9,
                    fontweight="bold")
        else:
            ax.text(-0.12, y[0], lay.variables[v], ha="right", va="center", fontsize=9, fontweight="bold")
    for l, labels in enumerate(weights.hidden):
        for j, label in enumerate(labels):
            ax.text(l + 1, pos[l + 1][j], label, ha="center", va="center", fontsize=6, zorder=3)
            if activity is not None:
                ax.text(l + 1, pos[l + 1][j] - 0.42, f"F={activity.high[l][m, j, 0]:.2f}",
                        ha="center", va="top", fontsize=7, color="dimgray")
    for k, label in enumerate(out_labels):
        ax.text(len(sizes) - 1 + 0.12, pos[-1][k], label, ha="left", va="center", fontsize=9)
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], color=POSITIVE, lw=3, label="positive"),
                       Line2D([], [], color=NEGATIVE, lw=3, label="negative")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False, fontsize=8)
    ax.set_xlim(-1.6, len(sizes) - 0.3)
    ax.set_ylim(-1, height)
    ax.axis("off")
    note = f", member {m} of {weights.n_members}" if weights.n_members > 1 else ""
    ax.set_title(f"Neural interpretation diagram ({weights.activation}{note})", fontsize=10)
    return ax


def plot_importance(result: Importance | OldenTest, output: str | None = None, ax=None):
    """Importance bars per variable, with error bars of +-1 sd over ensemble members.

    Parameters
    ----------
    result : Importance or OldenTest
        From :func:`~shallownet.interpret.garson`, :func:`~shallownet.interpret.olden`,
        :func:`~shallownet.interpret.milne` or :func:`~shallownet.interpret.olden_test` (bars
        annotated with their p-values).
    output : str, optional
        Which outputs to draw: one output's name, ``"classes"`` (the centred class logits of a
        softmax output), ``"contrasts"`` (pairwise class contrasts) or ``"all"``. Default:
        ``"classes"`` when the result has them, else every output.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _check_type("result", result, (Importance, OldenTest))
    imp = result.observed if isinstance(result, OldenTest) else result
    kinds = dict(zip(imp.layout.targets, imp.layout.target_kinds))
    named = {
        "all": list(range(len(imp.outputs))),
        "classes": [t for t, o in enumerate(imp.outputs) if kinds.get(o) == "class"],
        "contrasts": [t for t, o in enumerate(imp.outputs) if kinds.get(o) == "contrast"],
    }
    if output is None:
        outs = named["classes"] or named["all"]
    elif named.get(output):
        outs = named[output]
    elif output in imp.outputs:
        outs = [imp.outputs.index(output)]
    else:
        choices = [*imp.outputs] + [k for k, v in named.items() if v]
        raise ValueError(f"`output` must be one of {choices}. Got {output!r} instead.")
    names = list(imp.layout.variables)
    mean, sd = imp.mean, imp.sd
    ax = _axes(ax, (6.5, 0.35 * len(names) * len(outs) + 1.5))
    height = 0.8 / len(outs)
    base = np.arange(len(names))[::-1]
    for n, t in enumerate(outs):
        y = base + 0.4 - height * (n + 0.5)
        err = None if np.all(np.isnan(sd[:, t])) else np.nan_to_num(sd[:, t])
        bars = ax.barh(y, mean[:, t], height=height, xerr=err, capsize=2, label=imp.outputs[t],
                       color=f"C{n}")
        if isinstance(result, OldenTest):
            for bar, p in zip(bars, result.p_values[:, t]):
                x = bar.get_width()
                ax.text(x, bar.get_y() + bar.get_height() / 2, f" p={p:.3g} ",
                        ha="left" if x >= 0 else "right", va="center", fontsize=7)
    ax.set_yticks(base, names)
    ax.axvline(0, color="black", lw=0.8)
    label = {"garson": "relative importance (share)", "olden": "connection weight (logit units)",
             "milne": "signed share"}[imp.method]
    ax.set_xlabel(label)
    members = f", mean +- sd over {imp.n_members} members" if imp.n_members > 1 else ""
    ax.set_title(f"{imp.title}{members}", fontsize=10)
    if len(outs) > 1:
        ax.legend(fontsize=7, loc="best")
    return ax


def plot_hidden_activity(
    activity: HiddenActivity,
    layer: int = 0,
    member: int = 0,
    by: str = "true",
    which: str = "high",
    ax=None,
):
    """Heatmap of hidden-node firing frequencies by class (nodes x classes, one member).

    Parameters
    ----------
    activity : HiddenActivity
    layer : int, default 0
        Hidden layer.
    member : int, default 0
    by : {"true", "predicted"}
        Group cases by their true class (needs ``y`` in ``hidden_activity``) or by the
        member's prediction.
    which : {"high", "low"}
        Frequency near the on state or near the off state.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _check_type("activity", activity, (HiddenActivity,))
    m = _check_member(member, activity.n_members)
    table = activity.by_class(layer, m, by, which)
    ax = _axes(ax, (1.2 * table.shape[1] + 2.5, 0.4 * table.shape[0] + 1.5))
    image = ax.imshow(table.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(table.to_numpy()):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if v > 0.6 else "white")
    ax.set_xticks(range(table.shape[1]), list(table.columns))
    ax.set_yticks(range(table.shape[0]), list(table.index))
    ax.set_xlabel(f"{by} class")
    threshold = activity.thresholds[0 if which == "high" else 1]
    sign = ">=" if which == "high" else "<="
    ax.set_title(f"{activity.layers[layer]}: fraction of cases with h {sign} {threshold:g}", fontsize=10)
    ax.figure.colorbar(image, ax=ax, fraction=0.05)
    return ax


def plot_activation_distributions(activations, layer: int = 0, member: int = 0, ax=None):
    """Distributions of each hidden node's activation by true class (one member).

    One strip per node, a violin per class in the class colours of
    :mod:`shallownet.plots.palette`, with the class medians marked; nodes ordered by how far
    apart their class medians lie (:meth:`HiddenActivations.separation`).

    Parameters
    ----------
    activations : HiddenActivations
    layer : int, default 0
    member : int, default 0
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import inspect

    from ..interpret.activity import HiddenActivations
    from .palette import class_colour

    _check_type("activations", activations, (HiddenActivations,))
    m = _check_member(member, activations.n_members)
    h = activations.values[layer][m]
    order = activations.separation(layer, m).sort_values("relative", ascending=False).index.to_numpy()
    K = len(activations.classes)
    ax = _axes(ax, (8, 0.55 * len(order) * max(K, 2) / 2 + 1.5))
    width = 0.8 / K
    # matplotlib 3.10 replaced vert=False by orientation="horizontal"
    horizontal = ({"orientation": "horizontal"} if "orientation" in inspect.signature(ax.violinplot).parameters
                  else {"vert": False})
    for row, j in enumerate(order[::-1]):
        for k in range(K):
            values = h[activations.groups == k, j]
            y = row + (k - (K - 1) / 2) * width
            if values.size > 1 and np.ptp(values) > 1e-9:
                parts = ax.violinplot(values, positions=[y], widths=width * 0.95, showextrema=False, **horizontal)
                for body in parts["bodies"]:
                    body.set_facecolor(class_colour(k))
                    body.set_edgecolor("black")
                    body.set_linewidth(0.4)
                    body.set_alpha(0.8)
            if values.size:
                ax.plot([np.median(values)] * 2, [y - width / 2, y + width / 2], color="black", lw=1.2)
    ax.set_yticks(range(len(order)), [activations.nodes[layer][j] for j in order[::-1]])
    ax.set_xlabel(f"activation ({activations.activation})")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=class_colour(k), label=c) for k, c in enumerate(activations.classes)],
              title="true class", fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"{activations.layers[layer]}, member {m}: activation by class (black: median)", fontsize="small")
    return ax
