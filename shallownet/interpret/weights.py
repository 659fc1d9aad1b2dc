"""Weight tables: every weight of a network, labelled, in the forms that can be read.

Raw weights are not all identifiable (``theory/parametric.md``):

* input -> hidden: the weights of an enumerated group's one-hot columns into a node are
  defined only up to a common shift (absorbed by the node's bias). The table gives them
  *centred* over the group, the group's *range* ``max_c w_cj - min_c w_cj``, and the bias
  with the group means folded in, ``b*_j = b_j + sum_G mean_{c in G} w_cj`` (the
  pre-activation at the "average category" of every group). Real inputs are scaled to [0, 1],
  so a real variable's weight is the change of the pre-activation over its training range;
  ``w / (max - min)`` gives it per raw unit.
* hidden -> softmax output: defined only up to adding a constant to a node's weights into all
  classes. The table gives the centred weights ``v_jk - mean_l v_jl`` and the contrasts
  ``v_jk - v_jl``. A sigmoid output's single weight is the contrast of its two classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..results import Result
from ._layout import Layout, network_of, node_labels, weights64


@dataclass(frozen=True, eq=False, repr=False)
class WeightTable(Result):
    """The labelled weights of a network or ensemble (see :func:`weight_table`).

    Attributes
    ----------
    layout : Layout
        Variables, columns, classes and output targets.
    activation, output : str
        Hidden activation and output kind of the network.
    hidden : tuple of tuple of str
        Node labels per hidden layer.
    weights : tuple of ndarray
        Raw weight matrices, ``(M, n_in, n_out)`` per layer, output layer last.
    biases : tuple of ndarray
        Raw bias vectors, ``(M, n_out)`` per layer.
    input_centred : ndarray, shape (M, D, H1)
        First-layer weights with one-hot groups centred.
    input_bias : ndarray, shape (M, H1)
        First-layer bias with the group means folded in (shift-invariant).
    input_ranges : ndarray, shape (M, V, H1)
        Per-variable range of the first-layer weights (``|w|`` for a real or binary variable);
        with no hidden layer, of the weights on the identifiable targets ``W @ T``.
    output_targets : ndarray, shape (M, H_L, n_targets)
        Last hidden layer -> output weights on the identifiable targets (``V @ T``): centred
        per class and pairwise class contrasts (softmax), or the single contrast (sigmoid).
        With no hidden layer, the input weights on the targets, groups centred.
    """

    layout: Layout
    activation: str
    output: str
    hidden: tuple[tuple[str, ...], ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    input_centred: np.ndarray
    input_bias: np.ndarray
    input_ranges: np.ndarray
    output_targets: np.ndarray

    @property
    def title(self) -> str:
        sizes = [len(self.layout.columns), *(len(h) for h in self.hidden), self.weights[-1].shape[-1]]
        return f"Weights ({'-'.join(map(str, sizes))}, {self.activation})"

    @property
    def n_members(self) -> int:
        """Ensemble members M."""
        return int(self.weights[0].shape[0])

    @property
    def input_per_raw_unit(self) -> np.ndarray:
        """Centred first-layer weights per raw unit of each real variable, shape (M, D, H1)."""
        return self.input_centred / self.layout.column_scales[:, None]

    @property
    def ranges_per_raw_unit(self) -> np.ndarray:
        """:attr:`input_ranges` per raw unit (real variables divided by ``max - min``)."""
        return self.layout.per_raw_unit(self.input_ranges)

    def _layer_names(self) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """(name, source labels, target labels) for every layer."""
        out_units = (
            (f"logit({self.layout.targets[0]})",)
            if self.output == "sigmoid"
            else tuple(str(c) for c in self.layout.classes)
        )
        sources = [self.layout.columns, *self.hidden]
        targets = [*self.hidden, out_units]
        names = []
        for l, (src, dst) in enumerate(zip(sources, targets)):
            a = "input" if l == 0 else f"hidden{l}"
            b = "output" if l == len(self.hidden) else f"hidden{l + 1}"
            names.append((f"{a}->{b}", src, dst))
        return names

    def table(self, layer: int = 0, member: int = 0, kind: str = "centred") -> pd.DataFrame:
        """One layer of one member as a wide table (rows: sources, columns: targets).

        Parameters
        ----------
        layer : int
            0 for input -> first hidden layer, ..., ``len(hidden)`` for the output layer.
        member : int
            Ensemble member.
        kind : {"centred", "raw", "per_raw_unit", "ranges"}
            ``"centred"``: the identifiable form (centred groups for the input layer plus the
            folded bias row; centred per class and class contrasts for a softmax output;
            hidden -> hidden weights as they are). ``"raw"``: the weights as stored, with the
            bias row. ``"per_raw_unit"``: centred input weights per raw unit. ``"ranges"``:
            per-variable ranges of the input weights.
        """
        n_layers = len(self.weights)
        if not -n_layers <= layer < n_layers:
            raise ValueError(f"`layer` must be in [0, {n_layers - 1}]. Got {layer!r}.")
        layer %= n_layers
        if not -self.n_members <= member < self.n_members:
            raise ValueError(f"`member` must be in [0, {self.n_members - 1}]. Got {member!r}.")
        kinds = ("centred", "raw", "per_raw_unit", "ranges")
        if kind not in kinds:
            raise ValueError(f"`kind` must be one of {kinds}. Got {kind!r} instead.")
        name, src, dst = self._layer_names()[layer]
        if kind in ("per_raw_unit", "ranges") and layer != 0:
            raise ValueError(f"kind={kind!r} applies to the input layer (layer=0) only.")
        if kind == "ranges":
            cols = list(dst) if self.hidden else list(self.layout.targets)
            return pd.DataFrame(self.input_ranges[member], index=list(self.layout.variables), columns=cols)
        if kind == "per_raw_unit":
            return pd.DataFrame(self.input_per_raw_unit[member], index=list(src), columns=list(dst))
        if kind == "raw":
            body = np.vstack([self.weights[layer][member], self.biases[layer][member][None]])
            return pd.DataFrame(body, index=[*src, "(bias)"], columns=list(dst))
        targets = list(self.layout.targets)
        if layer == n_layers - 1 == 0:  # no hidden layer: inputs feed the output directly
            body = np.vstack([self.output_targets[member], (self.input_bias[member] @ self.layout.T)[None]])
            return pd.DataFrame(body, index=[*src, "(bias)"], columns=targets)
        if layer == 0:
            body = np.vstack([self.input_centred[member], self.input_bias[member][None]])
            return pd.DataFrame(body, index=[*src, "(bias)"], columns=list(dst))
        if layer == n_layers - 1:
            return pd.DataFrame(self.output_targets[member], index=list(src), columns=targets)
        return pd.DataFrame(self.weights[layer][member], index=list(src), columns=list(dst))

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per member, layer, source and target.

        Columns: ``member, layer, source, variable, category, target, weight`` (raw),
        ``centred`` (identifiable form; NaN where a raw output weight has none on its own) and
        ``per_raw_unit`` (input layer only). Output-layer rows come twice: the raw weights
        into each output unit (layer ``...->output``) and the identifiable targets (layer
        ``...->targets``, ``weight`` = ``centred`` = ``V @ T``).
        """
        lay = self.layout
        rows = []
        names = self._layer_names()
        for m in range(self.n_members):
            for l, (name, src, dst) in enumerate(names):
                W, b = self.weights[l][m], self.biases[l][m]
                for i, s in enumerate([*src, "(bias)"]):
                    is_bias = i == len(src)
                    for j, t in enumerate(dst):
                        raw = b[j] if is_bias else W[i, j]
                        row = {"member": m, "layer": name, "source": s, "variable": "",
                               "category": "", "target": t, "weight": raw,
                               "centred": np.nan, "per_raw_unit": np.nan}
                        if l == 0:
                            if is_bias:
                                row["centred"] = self.input_bias[m, j]
                            else:
                                row["variable"] = lay.variables[lay.column_variable[i]]
                                row["category"] = lay.column_category[i]
                                row["centred"] = self.input_centred[m, i, j]
                                row["per_raw_unit"] = self.input_per_raw_unit[m, i, j]
                        elif l < len(names) - 1:
                            row["centred"] = raw
                        rows.append(row)
            for j, s in enumerate(names[-1][1]):
                for t, label in enumerate(lay.targets):
                    value = self.output_targets[m, j, t]
                    rows.append({"member": m, "layer": names[-1][0].replace("output", "targets"),
                                 "source": s, "variable": "", "category": "", "target": label,
                                 "weight": value, "centred": value, "per_raw_unit": np.nan})
        return pd.DataFrame(rows)

    def summary(self, digits: int = 3) -> str:
        """The identifiable tables of member 0, layer by layer."""
        fmt = lambda v: f"{v:.{digits}g}"  # noqa: E731
        parts = [self.title, "=" * len(self.title)]
        if self.n_members > 1:
            parts.append(f"member 0 of {self.n_members} (hidden nodes are not aligned across members)")
        for l, (name, _, _) in enumerate(self._layer_names()):
            parts.append(f"\n{name} ({'identifiable form' if l in (0, len(self.weights) - 1) else 'as stored'})")
            parts.append(self.table(l, 0, "centred").to_string(float_format=fmt))
        parts.append("\ninput ranges per variable (largest change of each pre-activation)")
        parts.append(self.table(0, 0, "ranges").to_string(float_format=fmt))
        return "\n".join(parts)


def weight_table(model: Any) -> WeightTable:
    """The weights of ``model``, labelled by variable and category, in identifiable forms.

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        Any depth (including no hidden layer), sigmoid or softmax output, any ensemble size.

    Returns
    -------
    WeightTable
        Raw weights and biases of every layer; first-layer weights centred over one-hot
        groups, with group ranges, folded biases and per-raw-unit values; output weights on
        the identifiable targets ``V @ T`` (module docstring).

    Notes
    -----
    Hidden nodes of different ensemble members are not aligned (any permutation of a
    member's nodes gives the same function), so weights are reported per member and never
    averaged; member-level summaries that are invariant to that are the importance measures.
    """
    net = network_of(model)
    lay = Layout.of(net)
    Ws, bs = weights64(net)
    W1 = Ws[0]
    return WeightTable(
        layout=lay,
        activation=net.activation,
        output=net.output,
        hidden=node_labels(net.hidden_sizes),
        weights=tuple(Ws),
        biases=tuple(bs),
        input_centred=lay.centre(W1),
        input_bias=bs[0] + lay.group_mean(W1),
        input_ranges=lay.spread(W1 if net.hidden_sizes else W1 @ lay.T),
        output_targets=Ws[-1] @ lay.T if net.hidden_sizes else lay.centre(W1 @ lay.T),
    )
