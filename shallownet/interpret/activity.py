"""What the hidden nodes do on the data: firing frequencies, weight x input frequency, deltas.

* **Firing frequency** of node j over cases n: ``F_j = mean_n [h_nj >= high]`` (near its on
  state) and ``F0_j = mean_n [h_nj <= low]`` (near its off state), overall, per true class and
  per predicted class (the member's own prediction), with the lift ``F_j|c / F_j``.
* **Input weight x input frequency**: ``C_cj = w_cj * mean_n x_nc`` with one-hot groups
  centred; per variable, the sum over its columns and the shift-invariant spread
  ``SD_n(sum_{c in G} w_cj x_nc) = sqrt(w_G' Cov(x_G) w_G)``.
* **Activation distributions** (:func:`hidden_activations`): every case's activation of every
  node, by true class: quartiles per class and the separation of each node, the largest
  difference between two class medians in units of the node's activation range (0 to 1 for
  logistic units); a reading that needs no threshold, unlike a firing count.
* **Output deltas**: ``Delta_j(k, l) = |v_jk - v_jl|`` for the last hidden layer, and the class
  each node favours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..results import Result
from ._layout import (
    Layout,
    class_indices,
    encoded_input,
    logit_layer,
    network_of,
    node_labels,
    refuse_regression,
    thresholds,
    weights64,
)


#: Groups of a regression network's cases in :func:`hidden_activity`: quarters of the target.
QUARTERS = ("Q1", "Q2", "Q3", "Q4")


def quarter_index(values: np.ndarray) -> np.ndarray:
    """The quarter (0..3) of each value among ``values`` (..., N), by the quartiles of the last
    axis (ties at a quartile go to the lower quarter)."""
    values = np.asarray(values, dtype=np.float64)
    cuts = np.quantile(values, [0.25, 0.5, 0.75], axis=-1)  # (3, ...)
    return (values[None] > cuts[..., None]).sum(axis=0)


def member_predictions(net, outputs: list[np.ndarray]) -> np.ndarray:
    """Each member's predicted class index (M, N) from its output layer (last of ``outputs``);
    for a linear (regression) output, the quarter (:data:`QUARTERS`) of each member's first
    output among its own predictions."""
    out = np.asarray(outputs[-1], dtype=np.float64)
    if net.output == "linear":
        return quarter_index(out[..., 0])
    if net.output == "sigmoid":
        return (out[..., 0] > 0.5).astype(int)
    return out.argmax(axis=-1)


@dataclass(frozen=True, eq=False, repr=False)
class HiddenActivity(Result):
    """Firing frequencies of hidden nodes, overall and by class (see :func:`hidden_activity`).

    Attributes
    ----------
    layers : tuple of str
        Hidden layer names.
    nodes : tuple of tuple of str
        Node labels per layer.
    groups : tuple of str
        Case groups: ``"all"``, then ``"true=c"`` per class (when ``y`` was given), then
        ``"predicted=c"`` per class.
    group_kinds : tuple of str
        ``"all"``, ``"true"`` or ``"predicted"`` per group.
    group_classes : tuple of str
        The class of each group (``""`` for ``"all"``).
    high, low : tuple of ndarray
        Per layer, shape (M, H, G): fraction of the group's cases with ``h >= high``
        (``h <= low``); NaN for an empty group.
    counts : ndarray, shape (M, G)
        Cases per group (predicted groups differ between members).
    thresholds : tuple of float
        ``(high, low)``.
    activation : str
    """

    layers: tuple[str, ...]
    nodes: tuple[tuple[str, ...], ...]
    groups: tuple[str, ...]
    group_kinds: tuple[str, ...]
    group_classes: tuple[str, ...]
    high: tuple[np.ndarray, ...]
    low: tuple[np.ndarray, ...]
    counts: np.ndarray
    thresholds: tuple[float, float]
    activation: str

    @property
    def title(self) -> str:
        return f"Hidden-node firing frequencies (high >= {self.thresholds[0]:g}, low <= {self.thresholds[1]:g})"

    @property
    def n_members(self) -> int:
        """Ensemble members M."""
        return int(self.counts.shape[0])

    def lift(self, layer: int = 0, which: str = "high") -> np.ndarray:
        """``F_j|group / F_j`` for one layer, shape (M, H, G); NaN where ``F_j = 0``."""
        freq = self._freq(layer, which)
        overall = freq[..., :1]
        return np.divide(freq, overall, out=np.full_like(freq, np.nan), where=overall > 0)

    def _freq(self, layer: int, which: str) -> np.ndarray:
        if which not in ("high", "low"):
            raise ValueError(f"`which` must be 'high' or 'low'. Got {which!r} instead.")
        if not -len(self.layers) <= layer < len(self.layers):
            raise ValueError(f"`layer` must be in [0, {len(self.layers) - 1}]. Got {layer!r}.")
        return (self.high if which == "high" else self.low)[layer]

    def by_class(self, layer: int = 0, member: int = 0, by: str = "true", which: str = "high") -> pd.DataFrame:
        """Nodes x classes table of firing frequencies for one member (the heatmap's data)."""
        if by not in ("true", "predicted"):
            raise ValueError(f"`by` must be 'true' or 'predicted'. Got {by!r} instead.")
        cols = [g for g, k in enumerate(self.group_kinds) if k == by]
        if not cols:
            raise ValueError("No true classes were given: call hidden_activity(model, X, y) with `y`.")
        freq = self._freq(layer, which)[member][:, cols]
        return pd.DataFrame(freq, index=list(self.nodes[layer]),
                            columns=[self.group_classes[g] for g in cols])

    def to_frame(self) -> pd.DataFrame:
        """One row per layer, member, node and group: ``n, high, low, lift_high, lift_low``."""
        rows = []
        for l, layer in enumerate(self.layers):
            lift_h, lift_l = self.lift(l, "high"), self.lift(l, "low")
            for m in range(self.n_members):
                for j, node in enumerate(self.nodes[l]):
                    for g, group in enumerate(self.groups):
                        rows.append({
                            "layer": layer, "member": m, "node": node, "group": group,
                            "kind": self.group_kinds[g], "class": self.group_classes[g],
                            "n": int(self.counts[m, g]), "high": self.high[l][m, j, g],
                            "low": self.low[l][m, j, g], "lift_high": lift_h[m, j, g],
                            "lift_low": lift_l[m, j, g],
                        })
        return pd.DataFrame(rows)

    def summary(self, digits: int = 3) -> str:
        """Overall frequencies and the by-class table of member 0 per layer."""
        fmt = lambda v: f"{v:.{digits}g}"  # noqa: E731
        parts = [self.title, "=" * len(self.title)]
        by = "true" if "true" in self.group_kinds else "predicted"
        for l, layer in enumerate(self.layers):
            table = self.by_class(l, 0, by, "high")
            table.insert(0, "all", self.high[l][0, :, 0])
            table.insert(1, "low (all)", self.low[l][0, :, 0])
            parts.append(f"\n{layer}, member 0: high frequency overall and by {by} class")
            parts.append(table.to_string(float_format=fmt))
        return "\n".join(parts)


def hidden_activity(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    high: float | None = None,
    low: float | None = None,
    encoded: bool = False,
) -> HiddenActivity:
    """Firing frequencies of every hidden node, overall, per true and per predicted class.

    ``F_j = mean_n [h_nj >= high]`` and ``F0_j = mean_n [h_nj <= low]`` over the cases of each
    group; the lift of a class is ``F_j|c / F_j`` (> 1: the node fires more often in that class).

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        At least one hidden layer; every hidden layer is reported.
    X : array-like or DataFrame (N, n_features)
        Cases, usually the training data (raw, or encoded with ``encoded=True``).
    y : array-like (N,), optional
        True class labels; adds the per-true-class groups.

        For a linear (regression) output the groups are the quarters of the target instead
        of classes (a documented analogue): ``true=Q1 .. Q4`` by the quartiles of ``y`` (its
        first column for several outputs) and ``predicted=Q1 .. Q4`` by the quartiles of
        each member's own first prediction.
    high, low : float, optional
        Thresholds. Defaults by activation: logistic (0.9, 0.1); tanh (0.9, -0.9), the off
        state of tanh being -1; relu and identity (1.0, 0.0), where "low" is exactly off and
        "high" is the on value of a logistic unit (these units do not saturate).
    encoded : bool, default False
        Whether ``X`` is already the encoded [0, 1] matrix.

    Returns
    -------
    HiddenActivity
        Per member (hidden nodes are not aligned across members). The predicted class of a
        group is each member's own prediction.
    """
    net = network_of(model, 1, "hidden_activity")
    th_high, th_low = thresholds(net.activation, high, low)
    Z = encoded_input(net, X, encoded)
    N = Z.shape[0]
    K = len(QUARTERS) if net.is_regression else net.n_classes
    labels = list(QUARTERS) if net.is_regression else [str(c) for c in net.classes]
    outs = net.layer_outputs(Z, encoded=True)
    pred = member_predictions(net, outs)  # (M, N)
    M = pred.shape[0]
    # membership weights (M, N, G): column 0 is "all"
    member_cols = [np.ones((M, N, 1))]
    groups, kinds, classes = ["all"], ["all"], [""]
    if y is not None:
        if net.is_regression:
            from ._inputs import numeric_targets

            yi = quarter_index(numeric_targets(net, y, N)[:, 0])
        else:
            yi = class_indices(net, y, N)
        member_cols.append(np.broadcast_to(np.eye(K)[yi], (M, N, K)))
        groups += [f"true={c}" for c in labels]
        kinds += ["true"] * K
        classes += labels
    member_cols.append(np.eye(K)[pred])
    groups += [f"predicted={c}" for c in labels]
    kinds += ["predicted"] * K
    classes += labels
    G = np.concatenate(member_cols, axis=-1)  # (M, N, n_groups)
    counts = G.sum(axis=1)  # (M, n_groups)

    def frequency(indicator: np.ndarray) -> np.ndarray:
        hits = np.einsum("mnh,mng->mhg", indicator.astype(np.float64), G)
        return np.divide(hits, counts[:, None, :], out=np.full_like(hits, np.nan),
                         where=counts[:, None, :] > 0)

    hidden = [np.asarray(h, dtype=np.float64) for h in outs[:-1]]
    return HiddenActivity(
        layers=tuple(f"hidden{l + 1}" for l in range(len(hidden))),
        nodes=node_labels(net.hidden_sizes),
        groups=tuple(groups),
        group_kinds=tuple(kinds),
        group_classes=tuple(classes),
        high=tuple(frequency(h >= th_high) for h in hidden),
        low=tuple(frequency(h <= th_low) for h in hidden),
        counts=counts,
        thresholds=(th_high, th_low),
        activation=net.activation,
    )


@dataclass(frozen=True, eq=False, repr=False)
class HiddenActivations(Result):
    """Each case's activation of each hidden node, with the cases' classes.

    Attributes
    ----------
    layers : tuple of str
    nodes : tuple of tuple of str
    values : tuple of ndarray
        Per layer, shape (M, N, H): member, case, node.
    groups : ndarray (N,) of int
        Class index of each case.
    classes : tuple of str
        Class (or target quarter) labels.
    activation : str
    """

    layers: tuple[str, ...]
    nodes: tuple[tuple[str, ...], ...]
    values: tuple[np.ndarray, ...]
    groups: np.ndarray
    classes: tuple[str, ...]
    activation: str

    @property
    def title(self) -> str:
        return f"Hidden-node activations by class ({self.activation} units)"

    @property
    def n_members(self) -> int:
        return int(self.values[0].shape[0])

    def separation(self, layer: int = 0, member: int = 0) -> pd.DataFrame:
        """Per node of one member: the two classes whose median activations differ most, the
        difference, and that difference over the node's observed range (5th to 95th
        percentile over all cases; 0 for a node that does not vary)."""
        h = self.values[layer][member]
        rows = []
        for j, node in enumerate(self.nodes[layer]):
            med = np.array([np.median(h[self.groups == k, j]) if (self.groups == k).any() else np.nan
                            for k in range(len(self.classes))])
            hi, lo = int(np.nanargmax(med)), int(np.nanargmin(med))
            spread = float(np.subtract(*np.percentile(h[:, j], [95, 5])))
            gap = float(med[hi] - med[lo])
            rows.append({"node": node, "high_class": self.classes[hi], "low_class": self.classes[lo],
                         "median_high": float(med[hi]), "median_low": float(med[lo]), "difference": gap,
                         "relative": gap / spread if spread > 1e-12 else 0.0})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per layer, member, node and class: n, mean, quartiles, 5th and 95th percentile."""
        rows = []
        for l, layer in enumerate(self.layers):
            for m in range(self.n_members):
                for j, node in enumerate(self.nodes[l]):
                    for k, c in enumerate(self.classes):
                        h = self.values[l][m, self.groups == k, j]
                        q = np.percentile(h, [5, 25, 50, 75, 95]) if h.size else np.full(5, np.nan)
                        rows.append({"layer": layer, "member": m, "node": node, "class": c, "n": int(h.size),
                                     "mean": float(h.mean()) if h.size else np.nan, "p05": q[0], "q1": q[1],
                                     "median": q[2], "q3": q[3], "p95": q[4]})
        return pd.DataFrame(rows)


def hidden_activations(model: Any, X: Any, y: Any, *, encoded: bool = False) -> HiddenActivations:
    """Every case's activation of every hidden node, grouped by true class.

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        At least one hidden layer.
    X : array-like or DataFrame (N, n_features)
        Cases (raw, or encoded with ``encoded=True``).
    y : array-like (N,)
        True class labels (for a regression network, the target: grouped by its quarters).

    Returns
    -------
    HiddenActivations
    """
    net = network_of(model, 1, "hidden_activations")
    Z = encoded_input(net, X, encoded)
    if net.is_regression:
        from ._inputs import numeric_targets

        groups, labels = quarter_index(numeric_targets(net, y, Z.shape[0])[:, 0]), QUARTERS
    else:
        groups, labels = class_indices(net, y, Z.shape[0]), tuple(str(c) for c in net.classes)
    outs = net.layer_outputs(Z, encoded=True)
    return HiddenActivations(
        layers=tuple(f"hidden{l + 1}" for l in range(len(outs) - 1)),
        nodes=node_labels(net.hidden_sizes),
        values=tuple(np.asarray(h, dtype=np.float64) for h in outs[:-1]),
        groups=np.asarray(groups), classes=tuple(labels), activation=net.activation,
    )


@dataclass(frozen=True, eq=False, repr=False)
class WeightFrequency(Result):
    """Input weight x input frequency for the first hidden layer (see :func:`weight_frequency`).

    Attributes
    ----------
    layout : Layout
    nodes : tuple of str
        First-hidden-layer node labels.
    column_mean : ndarray, shape (D,)
        ``mean_n x_nc`` on the encoded scale (a category's frequency for a one-hot column).
    column_weights : ndarray, shape (M, D, H)
        First-layer weights, one-hot groups centred.
    contributions : ndarray, shape (M, D, H)
        ``C_cj = w_cj * mean_n x_nc`` (centred weights for groups).
    variable_mean : ndarray, shape (M, V, H)
        Sum of a variable's column contributions: its mean contribution to the
        pre-activation, measured from its minimum (real) or from the average category (group).
    variable_sd : ndarray, shape (M, V, H)
        ``SD_n(sum_{c in G} w_cj x_nc)``: the spread of the variable's contribution over cases.
    """

    layout: Layout
    nodes: tuple[str, ...]
    column_mean: np.ndarray
    column_weights: np.ndarray
    contributions: np.ndarray
    variable_mean: np.ndarray
    variable_sd: np.ndarray

    @property
    def title(self) -> str:
        return "Input weight x input frequency (first hidden layer)"

    def to_frame(self) -> pd.DataFrame:
        """One row per member, node and variable: ``mean_contribution``, ``sd_contribution``."""
        lay = self.layout
        rows = []
        for m in range(self.contributions.shape[0]):
            for j, node in enumerate(self.nodes):
                for i, var in enumerate(lay.variables):
                    rows.append({"member": m, "node": node, "variable": var, "kind": lay.kinds[i],
                                 "mean_contribution": self.variable_mean[m, i, j],
                                 "sd_contribution": self.variable_sd[m, i, j]})
        return pd.DataFrame(rows)

    def summary(self, digits: int = 3) -> str:
        """Member 0's mean contribution and its spread, variables x nodes."""
        fmt = lambda v: f"{v:.{digits}g}"  # noqa: E731
        M = self.contributions.shape[0]
        parts = [self.title, "=" * len(self.title)]
        if M > 1:
            parts.append(f"member 0 of {M} (hidden nodes are not aligned across members)")
        for name, values in (("mean contribution to the pre-activation", self.variable_mean),
                             ("sd of the contribution over cases", self.variable_sd)):
            table = pd.DataFrame(values[0], index=list(self.layout.variables), columns=list(self.nodes))
            parts += [f"\n{name}", table.to_string(float_format=fmt)]
        return "\n".join(parts)

    def columns_frame(self) -> pd.DataFrame:
        """One row per member, node and column: mean input (raw mean for real), weight, ``C_cj``."""
        lay = self.layout
        raw_mean = self.column_mean * lay.column_scales + lay.column_minima
        rows = []
        for m in range(self.contributions.shape[0]):
            for j, node in enumerate(self.nodes):
                for c, col in enumerate(lay.columns):
                    rows.append({"member": m, "node": node, "column": col,
                                 "variable": lay.variables[lay.column_variable[c]],
                                 "category": lay.column_category[c],
                                 "mean_input": self.column_mean[c], "mean_input_raw": raw_mean[c],
                                 "weight": self.column_weights[m, c, j],
                                 "contribution": self.contributions[m, c, j]})
        return pd.DataFrame(rows)


def weight_frequency(model: Any, X: Any, *, encoded: bool = False) -> WeightFrequency:
    """Input weight x input frequency table of the first hidden layer.

    ``C_cj = w_cj * mean_n x_nc``: the average contribution of column c to node j's
    pre-activation (for a one-hot column, weight times category frequency). One-hot groups use
    centred weights, so the values are invariant to the one-hot shift; per variable the table
    gives the sum of its columns' contributions and the shift-invariant spread
    ``SD_n(sum_{c in G} w_cj x_nc) = sqrt(w_G' Cov(x_G) w_G)`` (population covariance).

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        At least one hidden layer.
    X : array-like or DataFrame
        Cases, usually the training data.
    encoded : bool, default False
        Whether ``X`` is already encoded.

    Notes
    -----
    Neither figure depends on the [0, 1] scaling: ``w x' = w_raw (x - min)`` with
    ``w_raw = w / (max - min)``, so a real variable's contribution is measured from its
    training minimum in pre-activation units whatever the scale.
    """
    net = network_of(model, 1, "weight_frequency")
    lay = Layout.of(net)
    Z = encoded_input(net, X, encoded)
    Ws, _ = weights64(net)
    W1 = Ws[0]
    Wc = lay.centre(W1)
    mean_x = Z.mean(axis=0)
    contributions = Wc * mean_x[:, None]
    cov = np.atleast_2d(np.cov(Z, rowvar=False, bias=True))
    var_mean, var_sd = [], []
    for cols in lay.groups:
        var_mean.append(contributions[:, cols, :].sum(axis=1))
        w = W1[:, cols, :]  # (M, |G|, H)
        var = np.einsum("mah,ab,mbh->mh", w, cov[np.ix_(cols, cols)], w)
        var_sd.append(np.sqrt(np.maximum(var, 0.0)))
    return WeightFrequency(
        layout=lay,
        nodes=node_labels(net.hidden_sizes)[0],
        column_mean=mean_x,
        column_weights=Wc,
        contributions=contributions,
        variable_mean=np.stack(var_mean, axis=1),
        variable_sd=np.stack(var_sd, axis=1),
    )


@dataclass(frozen=True, eq=False, repr=False)
class OutputDeltas(Result):
    """Differences of each last-hidden-node's output weights between classes.

    Attributes
    ----------
    classes : ndarray (K,)
    nodes : tuple of str
        Labels of the last hidden layer's nodes.
    pairs : tuple of (int, int)
        Class index pairs ``(k, l)`` with ``l < k``.
    differences : ndarray, shape (M, H, n_pairs)
        ``v_jk - v_jl``: node j's contribution to the logit margin ``z_k - z_l`` at ``h_j = 1``.
    favoured : ndarray of int, shape (M, H)
        The class with node j's largest output weight.
    strength : ndarray, shape (M, H)
        ``v_jk* - max_{l != k*} v_jl`` (>= 0) for the favoured class k*.
    activation : str
    """

    classes: np.ndarray
    nodes: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    differences: np.ndarray
    favoured: np.ndarray
    strength: np.ndarray
    activation: str

    @property
    def title(self) -> str:
        return "Output deltas of hidden nodes"

    @property
    def deltas(self) -> np.ndarray:
        """``Delta_j(k, l) = |v_jk - v_jl|``, shape (M, H, n_pairs)."""
        return np.abs(self.differences)

    def to_frame(self) -> pd.DataFrame:
        """One row per member, node and class pair: ``difference``, ``delta``, ``favours``."""
        labels = [str(c) for c in self.classes]
        rows = []
        for m in range(self.differences.shape[0]):
            for j, node in enumerate(self.nodes):
                for p, (k, l) in enumerate(self.pairs):
                    d = self.differences[m, j, p]
                    rows.append({"member": m, "node": node, "class_k": labels[k], "class_l": labels[l],
                                 "difference": d, "delta": abs(d),
                                 "favours": labels[k] if d > 0 else labels[l] if d < 0 else ""})
        return pd.DataFrame(rows)

    def nodes_frame(self) -> pd.DataFrame:
        """One row per member and node: the class it favours and by how much."""
        labels = [str(c) for c in self.classes]
        return pd.DataFrame([
            {"member": m, "node": node, "favours": labels[self.favoured[m, j]],
             "strength": self.strength[m, j]}
            for m in range(self.favoured.shape[0]) for j, node in enumerate(self.nodes)
        ])

    def summary(self, digits: int = 3) -> str:
        """The class each node favours (every member) and member 0's pairwise deltas."""
        fmt = lambda v: f"{v:.{digits}g}"  # noqa: E731
        note = ("Delta_j(k, l) = |v_jk - v_jl| is node j's contribution to the margin z_k - z_l at h_j = 1"
                + (" (from h_j = -1 to 1 the margin moves by 2 Delta)." if self.activation == "tanh" else "."))
        frame = self.to_frame()
        pairs = frame[frame.member == 0].to_string(index=False, float_format=fmt)
        nodes = self.nodes_frame().to_string(index=False, float_format=fmt)
        return f"{self.title}\n{'=' * len(self.title)}\n{nodes}\n\nmember 0, by class pair\n{pairs}\n{note}"


def output_deltas(model: Any) -> OutputDeltas:
    """``Delta_j(k, l) = |v_jk - v_jl|`` for every node of the last hidden layer and class pair.

    The difference ``v_jk - v_jl`` is exactly node j's contribution to the logit margin
    ``z_k - z_l`` when ``h_j = 1`` (and its sign says which of k, l the node favours); it is
    invariant to the softmax shift. A sigmoid output has one pair, ``(1, 0)``, with difference
    ``v_j``. The class a node favours is the argmax of its output weights, and its strength
    the smallest margin gain over any other class.

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        At least one hidden layer.
    """
    net = network_of(model, 1, "output_deltas")
    refuse_regression(net, "output_deltas (differences of output weights between classes)")
    Ws, bs = weights64(net)
    V, _ = logit_layer(Ws[-1], bs[-1], net.output)  # (M, H, K)
    K = V.shape[-1]
    pairs = tuple((k, l) for k in range(K) for l in range(k))
    differences = np.stack([V[..., k] - V[..., l] for k, l in pairs], axis=-1)
    favoured = V.argmax(axis=-1)
    top = np.take_along_axis(V, favoured[..., None], axis=-1)[..., 0]
    others = np.where(np.eye(K, dtype=bool)[favoured], -np.inf, V)
    return OutputDeltas(
        classes=np.asarray(net.classes),
        nodes=node_labels(net.hidden_sizes)[-1],
        pairs=pairs,
        differences=differences,
        favoured=favoured,
        strength=top - others.max(axis=-1),
        activation=net.activation,
    )
