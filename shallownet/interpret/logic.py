"""The Boolean reading of a network: which sets of hidden nodes switch a unit on.

Each hidden node is binarised to two levels, ``off`` and ``on`` (0 and 1 for logistic units,
-1 and 1 for tanh). A *target* is either an output class k (decided when its logit beats every
other class) or a node of the next hidden layer (on when its pre-activation exceeds the value
at which its activation crosses the midpoint of the levels). For a target with margin weights
``u_j`` (one per competitor: ``v_jk - v_jl`` for each other class l, or the node's incoming
weight) and offsets ``c``:

    margin(S) = c + sum_{j in S} on * u_j + sum_{j not in S} off * u_j

with S the set of source nodes that are on. **(choice, methods.md section 2)** The *support*
P of the target is the set of nodes whose ``u_j`` is positive against every competitor (their
switching on always helps); *inhibitors* are negative against every competitor; the rest are
*mixed*. A set S of P is *sufficient* if every margin is positive with exactly S on. Because
every node of P helps against every competitor, sufficiency is monotone and the minimal
sufficient sets describe it completely. The target's logic is

* ``"default"``: the empty set is sufficient (the target holds with every node off);
* ``"single"``: P has one node, and it is sufficient;
* ``"OR"``: every single node of P is sufficient;
* ``"AND"``: P is sufficient but no P minus one node is;
* ``"k-of-n"``: S is sufficient exactly when ``|S| >= k`` (1 < k < n);
* ``"mixed"``: sufficiency depends on which nodes, not only how many (see the minimal sets);
* ``"never"``: not even all of P is sufficient.

With two hidden layers the analysis covers layer 2 -> output and layer 1 -> layer 2.
The binarised patterns of each layer are counted over the data, with the decision that the
binarised network draws from each and how often the real network agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._validation import check_int
from ..results import Result
from ._layout import (
    encoded_input,
    levels as check_levels,
    logit_layer,
    network_of,
    node_labels,
    refuse_regression,
    weights64,
)
from .activity import member_predictions


class LogicUnit(NamedTuple):
    """The logic of one target in one member (module docstring)."""

    member: int
    connection: str
    target: str
    kind: str
    k: int | None
    support: tuple[str, ...]
    inhibitors: tuple[str, ...]
    mixed: tuple[str, ...]
    minimal_sets: tuple[tuple[str, ...], ...]
    fires: float


class PatternCount(NamedTuple):
    """One binarised pattern of a hidden layer in one member and how often it occurs."""

    member: int
    layer: str
    pattern: str
    count: int
    frequency: float
    implied: str
    agreement: float


@dataclass(frozen=True, eq=False, repr=False)
class HiddenLogic(Result):
    """OR / AND / k-of-n logic of hidden nodes, and binarised pattern frequencies.

    Attributes
    ----------
    connections : tuple of str
        ``"hidden1->output"`` (one hidden layer) or ``"hidden2->output"``,
        ``"hidden1->hidden2"`` (two).
    nodes : tuple of tuple of str
        Node labels per hidden layer (a pattern string lists its nodes in this order).
    units : tuple of LogicUnit
        One per member, connection and target.
    patterns : tuple of PatternCount
        One per member, source layer and pattern occurring in the data, most frequent first.
    fidelity : ndarray, shape (M, n_connections)
        Fraction of cases on which the binarised reading agrees with the network: the output
        class (``->output``), or the whole binarised next-layer pattern (``->hidden``).
    levels : tuple of float
        ``(off, on)``.
    activation : str
    """

    connections: tuple[str, ...]
    nodes: tuple[tuple[str, ...], ...]
    units: tuple[LogicUnit, ...]
    patterns: tuple[PatternCount, ...]
    fidelity: np.ndarray
    levels: tuple[float, float]
    activation: str

    @property
    def title(self) -> str:
        return f"Logic of hidden nodes (binarised to off={self.levels[0]:g}, on={self.levels[1]:g})"

    def to_frame(self) -> pd.DataFrame:
        """One row per member, connection and target: kind, k, support, minimal sets, fires.

        ``fires`` is the fraction of cases whose on-nodes within the support form a sufficient
        set (inhibitors and mixed nodes not looked at); it is 1 for a ``"default"`` target.
        """
        frame = pd.DataFrame([
            {"member": u.member, "connection": u.connection, "target": u.target, "kind": u.kind,
             "k": u.k, "n_support": len(u.support), "support": " ".join(u.support),
             "inhibitors": " ".join(u.inhibitors), "mixed": " ".join(u.mixed),
             "minimal_sets": " | ".join("{" + ",".join(s) + "}" for s in u.minimal_sets),
             "fires": u.fires}
            for u in self.units
        ])
        frame["k"] = frame["k"].astype("Int64")
        return frame

    def patterns_frame(self) -> pd.DataFrame:
        """One row per member, layer and binarised pattern seen in the data."""
        return pd.DataFrame([p._asdict() for p in self.patterns])

    def fidelity_frame(self) -> pd.DataFrame:
        """One row per member and connection: the binarised reading's agreement with the network."""
        return pd.DataFrame([
            {"member": m, "connection": c, "fidelity": self.fidelity[m, i]}
            for m in range(self.fidelity.shape[0]) for i, c in enumerate(self.connections)
        ])

    def summary(self, digits: int = 3) -> str:
        """The logic table and the fidelity of the binarised reading."""
        fid = self.fidelity_frame().to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
        return f"{super().summary(digits)}\n\nfidelity of the binarised reading\n{fid}"


def _inverse_activation(activation: str, value: float) -> float:
    """The pre-activation at which a unit's output equals ``value``."""
    if activation == "logistic":
        return float(np.log(value / (1.0 - value)))
    if activation == "tanh":
        return float(np.arctanh(value))
    return float(value)  # relu (value > 0) and identity


def _classify(base: np.ndarray, step: np.ndarray, max_support: int, what: str):
    """Support, inhibitors, minimal sufficient sets and kind of one target.

    ``base`` (C,) holds the margins with every source node off, ``step`` (n, C) the change of
    each margin when node j switches on. Returns ``(kind, k, support, inhibitors, mixed,
    minimal_masks, sufficient)``; masks index subsets of ``support`` as bits.
    """
    support = np.flatnonzero(np.all(step > 0, axis=1))
    inhibitors = np.flatnonzero(np.all(step < 0, axis=1))
    mixed = np.setdiff1d(np.arange(step.shape[0]), np.concatenate([support, inhibitors]))
    p = len(support)
    if p > max_support:
        raise ValueError(
            f"{what} has {p} supporting nodes; enumerating 2^{p} subsets exceeds "
            f"max_support={max_support}. Pass a larger `max_support` to allow it."
        )
    masks = np.arange(2**p)
    bits = ((masks[:, None] >> np.arange(p)) & 1).astype(np.float64)  # (2^p, p)
    sufficient = np.all(base + bits @ step[support] > 0, axis=1)
    sizes = bits.sum(axis=1).astype(int)
    minimal = sufficient.copy()
    for i in range(p):
        minimal &= ~((bits[:, i] == 1) & sufficient[masks ^ (1 << i)])
    if sufficient[0]:
        kind, k = "default", 0
    elif not sufficient[-1]:
        kind, k = "never", None
    else:
        k_min = int(sizes[sufficient].min())
        if not np.array_equal(sufficient, sizes >= k_min):
            kind, k = "mixed", None
        elif p == 1:
            kind, k = "single", 1
        elif k_min == 1:
            kind, k = "OR", 1
        elif k_min == p:
            kind, k = "AND", p
        else:
            kind, k = "k-of-n", k_min
    return kind, k, support, inhibitors, mixed, masks[minimal], sufficient


def _targets(Ws, bs, net, lv, theta, layer_names):
    """Per connection: (name, source layer index, list of (label, base, step) per member).

    ``theta`` is the pre-activation at which a hidden unit counts as on.
    """
    off, on = lv
    n_hidden = len(net.hidden_sizes)
    V, c = logit_layer(Ws[-1], bs[-1], net.output)  # (M, H, K), (M, K)
    K = V.shape[-1]
    out = []
    per_class = []
    for k in range(K):
        others = [l for l in range(K) if l != k]
        U = V[..., k : k + 1] - V[..., others]  # (M, H, K-1)
        offset = c[:, k : k + 1] - c[:, others]  # (M, K-1)
        per_class.append((str(net.classes[k]), offset + off * U.sum(axis=1), (on - off) * U))
    out.append((f"hidden{n_hidden}->output", n_hidden - 1, per_class))
    for l in range(n_hidden - 2, -1, -1):
        W, b = Ws[l + 1], bs[l + 1]  # (M, H_l, H_l+1)
        per_node = []
        for j, label in enumerate(layer_names[l + 1]):
            w = W[..., j : j + 1]
            per_node.append((label, b[:, j : j + 1] - theta + off * w.sum(axis=1), (on - off) * w))
        out.append((f"hidden{l + 1}->hidden{l + 2}", l, per_node))
    return out


def _pattern_strings(binary: np.ndarray) -> np.ndarray:
    """Rows of a 0/1 matrix as strings ``"0110"``."""
    return np.array(["".join("1" if v else "0" for v in row) for row in binary])


def hidden_logic(
    model: Any,
    X: Any,
    *,
    levels: tuple[float, float] | None = None,
    max_support: int = 16,
    encoded: bool = False,
) -> HiddenLogic:
    """Read each output (and each second-layer node) as a Boolean function of hidden nodes.

    See the module docstring for the definitions (support, sufficient sets, OR / AND / k-of-n).

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        One or more hidden layers; a sigmoid output is read as the two classes it separates.
    X : array-like or DataFrame
        Cases (usually the training data) whose binarised hidden patterns are counted.
    levels : (off, on), optional
        Values of a binarised node. Default by activation: (0, 1) for logistic, (-1, 1) for
        tanh, and the convention (0, 1) for relu and identity units (they do not saturate).
        A node counts as on in the data when it reaches the midpoint of the levels.
    max_support : int, default 16
        Largest support to enumerate (2^n subsets).
    encoded : bool, default False
        Whether ``X`` is already encoded.

    Returns
    -------
    HiddenLogic
        Per member: the logic of each target, the patterns of each hidden layer with their
        frequencies, and the fidelity of the binarised reading.
    """
    net = network_of(model, 1, "hidden_logic")
    refuse_regression(net, "hidden_logic (OR/AND logic of hidden nodes towards a class)")
    lv = check_levels(net.activation, levels)
    max_support = check_int("max_support", max_support, 1)
    Z = encoded_input(net, X, encoded)
    N = Z.shape[0]
    Ws, bs = weights64(net)
    names = node_labels(net.hidden_sizes)
    outs = net.layer_outputs(Z, encoded=True)
    pred = member_predictions(net, outs)
    mid = 0.5 * (lv[0] + lv[1])
    binary = [np.asarray(h, dtype=np.float64) >= mid for h in outs[:-1]]  # (M, N, H_l) per layer
    V, c = logit_layer(Ws[-1], bs[-1], net.output)
    theta = _inverse_activation(net.activation, mid)
    classes = [str(k) for k in net.classes]

    targets = _targets(Ws, bs, net, lv, theta, names)
    M = net.n_members
    units, patterns = [], []
    fidelity = np.zeros((M, len(targets)))
    for m in range(M):
        for ci, (conn, src, per_target) in enumerate(targets):
            on_nodes = binary[src][m]  # (N, H_src)
            for label, base, step in per_target:
                kind, k, sup, inh, mix, minimal, sufficient = _classify(
                    base[m], step[m], max_support, f"Target {label!r} of {conn} (member {m})"
                )
                lab = names[src]
                case_masks = (on_nodes[:, sup].astype(int) << np.arange(len(sup))).sum(axis=1)
                units.append(LogicUnit(
                    member=m, connection=conn, target=label, kind=kind, k=k,
                    support=tuple(lab[j] for j in sup), inhibitors=tuple(lab[j] for j in inh),
                    mixed=tuple(lab[j] for j in mix),
                    minimal_sets=tuple(
                        tuple(lab[sup[i]] for i in range(len(sup)) if mask >> i & 1) for mask in minimal
                    ),
                    fires=float(sufficient[case_masks].mean()),
                ))
            # what the binarised source layer implies, case by case
            uniq, first, inverse, counts = np.unique(on_nodes, axis=0, return_index=True,
                                                     return_inverse=True, return_counts=True)
            inverse = inverse.reshape(-1)
            h_bin = np.where(on_nodes, lv[1], lv[0])
            if conn.endswith("->output"):
                implied = (h_bin @ V[m] + c[m]).argmax(axis=1)
                agree = implied == pred[m]
                implied_labels = np.array(classes)[implied[first]]
            else:
                nxt = h_bin @ Ws[src + 1][m] + bs[src + 1][m] > theta
                agree = np.all(nxt == binary[src + 1][m], axis=1)
                implied_labels = _pattern_strings(nxt[first])
            fidelity[m, ci] = agree.mean()
            strings = _pattern_strings(uniq)
            agreement = np.bincount(inverse, weights=agree, minlength=len(uniq)) / counts
            for u in np.argsort(-counts, kind="stable"):
                patterns.append(PatternCount(
                    member=m, layer=f"hidden{src + 1}", pattern=str(strings[u]), count=int(counts[u]),
                    frequency=counts[u] / N, implied=str(implied_labels[u]),
                    agreement=float(agreement[u]),
                ))
    return HiddenLogic(
        connections=tuple(t[0] for t in targets),
        nodes=names,
        units=tuple(units),
        patterns=tuple(patterns),
        fidelity=fidelity,
        levels=lv,
        activation=net.activation,
    )
