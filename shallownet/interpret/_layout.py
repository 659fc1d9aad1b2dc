"""What every weight-based method needs to know about a network besides its numbers.

* Which encoded columns make up which *variable* (an enumerated group is one variable, so is
  a real value with its missingness indicator), and the two operations the one-hot shift
  identifiability calls for: centring a group's weights and taking their range. The range
  of a variable's linear effect ``x_block @ w`` is taken over the vertices of its encoded
  values (:meth:`shallownet.data.Variable.vertices`): ``|w|`` for a real or binary column,
  ``max_c w_c - min_c w_c`` over a one-hot group, and over ``(0, 0), (1, 0), (fill', 1)``
  for a value with its indicator.
* Which functionals of the output logits are identifiable. A linear (regression) output is
  identified unit by unit: its targets are the outputs themselves (``T`` the identity). A
  sigmoid output has one logit,
  ``z = log p_1 / p_0``: its only target is the contrast ``classes[1] vs classes[0]``. A softmax
  output is identified only up to adding the same number to every logit (the softmax shift),
  so its targets are the centred logits ``z_k - mean_l z_l`` (one per class, reported under the
  class's name) and the pairwise contrasts ``z_k - z_l`` (``"k vs l"`` for ``l < k``). Every
  target is a column of a matrix ``T`` whose columns sum to zero over softmax units, so
  ``V T`` is unchanged when a constant is added to a row of ``V``.
* Node labels, member statistics, and the argument checks shared by the public functions.

Weight algebra works on NumPy float64 copies of the parameters: the arrays are a few hundred
numbers, and exact double arithmetic with no compilation serves better than a jit here.
Forward passes over data go through the jitted functions of :class:`~shallownet.models.Network`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_2d_numeric, check_float
from ..models import Network, as_network


@dataclass(frozen=True, eq=False)
class Layout:
    """Variables, columns and output targets of a network (see the module docstring).

    Attributes
    ----------
    variables : tuple of str
        Variable names, in encoded-column order.
    kinds : tuple of str
        ``"real"``, ``"enumerated"`` or ``"binary"`` for each variable.
    groups : tuple of ndarray of int
        The encoded columns of each variable.
    columns : tuple of str
        Encoded column names (``name=category`` for one-hot columns).
    column_variable : ndarray of int, shape (D,)
        Index of the variable each column belongs to.
    column_category : tuple of str
        Category label of each one-hot column, ``"missing"`` for a missingness indicator,
        ``""`` for real value and binary columns.
    scales : ndarray, shape (V,)
        Raw units per encoded unit of each variable (``max - min`` for real, 1 otherwise).
    minima : ndarray, shape (V,)
        Raw value at encoded 0 (the training minimum for real, 0 otherwise).
    classes : ndarray, shape (K,)
        Class labels.
    targets : tuple of str
        Labels of the identifiable output functionals.
    target_kinds : tuple of str
        ``"class"`` (a centred softmax logit), ``"contrast"`` (a difference of two logits) or,
        for a linear (regression) output, ``"output"``: the output unit itself, in raw units
        of its target (no shift to remove).
    T : ndarray, shape (n_out, n_targets)
        Target matrix: target ``t`` of logits ``z`` is ``z @ T[:, t]``.
    vertices : tuple of ndarray
        Per variable, the vertices of its encoded values, shape ``(P_i, width_i)``.
    indicator : ndarray of bool, shape (D,)
        Which columns are missingness indicators (their raw unit is the 0/1 switch).
    """

    variables: tuple[str, ...]
    kinds: tuple[str, ...]
    groups: tuple[np.ndarray, ...]
    columns: tuple[str, ...]
    column_variable: np.ndarray
    column_category: tuple[str, ...]
    scales: np.ndarray
    minima: np.ndarray
    classes: np.ndarray
    targets: tuple[str, ...]
    target_kinds: tuple[str, ...]
    T: np.ndarray
    vertices: tuple[np.ndarray, ...] = ()
    indicator: np.ndarray | None = None

    @classmethod
    def of(cls, net: Network) -> "Layout":
        """The layout of ``net``."""
        names, kinds, groups, cats, col_var, scales, minima = [], [], [], [], [], [], []
        vertices, indicator = [], []
        for i, v in enumerate(net.variables):
            vertices.append(v.vertices())
            indicator.extend([False, True] if v.has_indicator else [False] * v.width)
            names.append(v.name)
            kinds.append(v.kind)
            groups.append(np.asarray(v.columns, dtype=int))
            scales.append(v.scale)
            minima.append(v.minimum if v.kind == "real" else 0.0)
            if v.kind == "enumerated":
                cats.extend(str(c) for c in v.categories)
            elif v.has_indicator:
                cats.extend(["", "missing"])
            else:
                cats.append("")
            col_var.extend([i] * v.width)
        order = np.concatenate(groups)
        if not np.array_equal(order, np.arange(net.n_inputs)):
            raise ValueError(
                "The network's variables must cover its encoded columns in order "
                f"(0 .. {net.n_inputs - 1}); got columns {order.tolist()}."
            )
        classes = np.asarray(net.classes)
        labels = [str(c) for c in classes]
        if net.output == "linear":  # each output unit is identified on its own
            targets = tuple(labels)
            target_kinds = ("output",) * len(labels)
            T = np.eye(len(labels))
        elif net.output == "sigmoid":
            targets = (f"{labels[1]} vs {labels[0]}",)
            target_kinds = ("contrast",)
            T = np.ones((1, 1))
        else:
            K = len(classes)
            cols, targets, target_kinds = [], [], []
            for k in range(K):
                cols.append(np.eye(K)[k] - 1.0 / K)
                targets.append(labels[k])
                target_kinds.append("class")
            for k in range(K):
                for l in range(k):
                    cols.append(np.eye(K)[k] - np.eye(K)[l])
                    targets.append(f"{labels[k]} vs {labels[l]}")
                    target_kinds.append("contrast")
            T = np.stack(cols, axis=1)
        return cls(
            variables=tuple(names),
            kinds=tuple(kinds),
            groups=tuple(groups),
            columns=tuple(net.column_names),
            column_variable=np.asarray(col_var, dtype=int),
            column_category=tuple(cats),
            scales=np.asarray(scales, dtype=float),
            minima=np.asarray(minima, dtype=float),
            classes=classes,
            targets=tuple(targets),
            target_kinds=tuple(target_kinds),
            T=T,
            vertices=tuple(vertices),
            indicator=np.asarray(indicator, dtype=bool),
        )

    @property
    def n_variables(self) -> int:
        """Number of variables V."""
        return len(self.variables)

    @property
    def column_scales(self) -> np.ndarray:
        """Raw units per encoded unit of each column, shape (D,) (1 for an indicator)."""
        return np.where(self.indicator, 1.0, self.scales[self.column_variable])

    @property
    def column_minima(self) -> np.ndarray:
        """Raw value at encoded 0 of each column, shape (D,) (0 for an indicator)."""
        return np.where(self.indicator, 0.0, self.minima[self.column_variable])

    def is_group(self, i: int) -> bool:
        """Whether variable ``i`` is an enumerated (one-hot) group."""
        return self.kinds[i] == "enumerated"

    def centre(self, W: np.ndarray) -> np.ndarray:
        """Centre the rows of each one-hot group: ``w_c - mean_{c' in G} w_c'``.

        ``W`` has the input (column) axis second to last, shape ``(..., D, n)``; real and binary
        rows are returned unchanged. The result is invariant to the one-hot shift.
        """
        out = np.array(W, dtype=float, copy=True)
        for i, cols in enumerate(self.groups):
            if self.is_group(i):
                block = out[..., cols, :]
                out[..., cols, :] = block - block.mean(axis=-2, keepdims=True)
        return out

    def group_mean(self, W: np.ndarray) -> np.ndarray:
        """Sum over groups of the group-mean row, shape ``(..., n)`` (the shift absorbed by a bias)."""
        W = np.asarray(W, dtype=float)
        total = np.zeros(W.shape[:-2] + W.shape[-1:])
        for i, cols in enumerate(self.groups):
            if self.is_group(i):
                total = total + W[..., cols, :].mean(axis=-2)
        return total

    def _vertex_range(self, block: np.ndarray, i: int) -> np.ndarray:
        """``max_p - min_p`` of ``vertices[i] @ block`` over the vertices (axis -2 of block)."""
        values = np.einsum("pc,...cn->...pn", self.vertices[i], block)
        return values.max(axis=-2) - values.min(axis=-2)

    def spread(self, W: np.ndarray) -> np.ndarray:
        """Per-variable magnitude of rows, shape ``(..., V, n)``.

        ``|w|`` for a real or binary variable; ``max_c w_c - min_c w_c`` over an enumerated
        group; for a value with its missingness indicator the range of ``x_block @ w`` over
        its vertices ``(0, 0), (1, 0), (fill', 1)``. Either way it is the largest change of
        ``x @ W`` that moving this variable over its range can make, and it is invariant to
        the one-hot shift.
        """
        W = np.asarray(W, dtype=float)
        rows = []
        for i, cols in enumerate(self.groups):
            block = W[..., cols, :]
            if len(cols) == 1:
                rows.append(np.abs(block[..., 0, :]))
            else:
                rows.append(self._vertex_range(block, i))
        return np.stack(rows, axis=-2)

    def is_signed(self, i: int) -> bool:
        """Whether variable ``i`` has a signed variable-level value (one column: real or binary)."""
        return len(self.groups[i]) == 1

    def variable_values(self, C: np.ndarray) -> np.ndarray:
        """Variable-level values of per-column signed effects, shape ``(..., V, n)``.

        A real or binary variable keeps its signed value; an enumerated group gets the range
        of its categories' values and a value with its indicator the range over its vertices
        (>= 0 both; which category, or whether "missing", is higher is in the per-column
        detail).
        """
        C = np.asarray(C, dtype=float)
        rows = []
        for i, cols in enumerate(self.groups):
            block = C[..., cols, :]
            if self.is_signed(i):
                rows.append(block[..., 0, :])
            else:
                rows.append(self._vertex_range(block, i))
        return np.stack(rows, axis=-2)

    def per_raw_unit(self, values: np.ndarray, axis: int = -2) -> np.ndarray:
        """Divide variable-level values (variables on ``axis``) by each variable's raw scale."""
        shape = [1] * np.ndim(values)
        shape[axis] = self.n_variables
        return np.asarray(values, dtype=float) / self.scales.reshape(shape)


def network_of(model: Any, min_hidden: int = 0, what: str = "This method") -> Network:
    """``as_network(model)`` with a check on the number of hidden layers."""
    net = as_network(model)
    if len(net.hidden_sizes) < min_hidden:
        raise ValueError(
            f"{what} needs a network with at least {min_hidden} hidden layer(s); this one has "
            f"{len(net.hidden_sizes)} (hidden sizes {net.hidden_sizes})."
        )
    Layout.of(net)  # validates the column order early
    for i, layer in enumerate(net.params):
        if not (np.all(np.isfinite(np.asarray(layer.W))) and np.all(np.isfinite(np.asarray(layer.b)))):
            raise ValueError(f"{what} needs finite weights; layer {i} of this network holds NaN or infinite values.")
    return net


def refuse_regression(net: Network, what: str) -> None:
    """A clear error for a classification notion asked of a linear (regression) output."""
    if net.is_regression:
        raise ValueError(
            f"{what} is defined for classifiers (it reads which class an output layer "
            "decides); this network has a linear (regression) output. For a regression network "
            "use olden, milne, garson, sensitivity or the influence measures instead."
        )


def weights64(net: Network) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Member-stacked weights and biases as float64 NumPy arrays."""
    Ws = [np.asarray(W, dtype=np.float64) for W in net.weights()]
    bs = [np.asarray(b, dtype=np.float64) for b in net.biases()]
    return Ws, bs


def node_labels(hidden_sizes: tuple[int, ...]) -> tuple[tuple[str, ...], ...]:
    """Hidden-node labels: ``h1 .. hH`` with one hidden layer, ``h1_j`` / ``h2_j`` with more."""
    if len(hidden_sizes) == 1:
        return (tuple(f"h{j + 1}" for j in range(hidden_sizes[0])),)
    return tuple(
        tuple(f"h{l + 1}_{j + 1}" for j in range(size)) for l, size in enumerate(hidden_sizes)
    )


def logit_layer(V: np.ndarray, c: np.ndarray, output: str) -> tuple[np.ndarray, np.ndarray]:
    """The output layer as K logits: a sigmoid unit ``z`` becomes the logits ``[0, z]``.

    ``V`` has shape ``(..., H, n_out)`` and ``c`` ``(..., n_out)``; the class probabilities
    are the softmax of the returned logits in both cases.
    """
    if output == "softmax":
        return V, c
    return (
        np.concatenate([np.zeros_like(V), V], axis=-1),
        np.concatenate([np.zeros_like(c), c], axis=-1),
    )


def member_mean_sd(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof 1) over the leading member axis; sd is NaN for M = 1."""
    values = np.asarray(values, dtype=float)
    mean = values.mean(axis=0)
    if values.shape[0] < 2:
        return mean, np.full_like(mean, np.nan)
    return mean, values.std(axis=0, ddof=1)


ACTIVITY_THRESHOLDS = {
    "logistic": (0.9, 0.1),
    "tanh": (0.9, -0.9),
    "relu": (1.0, 0.0),
    "identity": (1.0, 0.0),
}
"""Default ``(high, low)`` firing thresholds per activation (see ``theory/parametric.md``)."""

BINARY_LEVELS = {
    "logistic": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, 1.0),
    "identity": (0.0, 1.0),
}
"""Default ``(off, on)`` values of a binarised hidden node per activation."""


def thresholds(activation: str, high: float | None, low: float | None) -> tuple[float, float]:
    """Validated ``(high, low)`` firing thresholds, defaults by activation."""
    d_high, d_low = ACTIVITY_THRESHOLDS[activation]
    high = d_high if high is None else check_float("high", high)
    low = d_low if low is None else check_float("low", low)
    if not low < high:
        raise ValueError(f"`low` must be below `high`. Got low={low!r}, high={high!r}.")
    return high, low


def levels(activation: str, value: Any) -> tuple[float, float]:
    """Validated ``(off, on)`` levels of binarised hidden nodes, defaults by activation."""
    if value is None:
        return BINARY_LEVELS[activation]
    try:
        off, on = value
    except (TypeError, ValueError):
        raise ValueError(f"`levels` must be a pair (off, on). Got {value!r} instead.") from None
    off, on = check_float("levels[0]", off), check_float("levels[1]", on)
    if not off < on:
        raise ValueError(f"`levels` must satisfy off < on. Got {value!r} instead.")
    if activation == "logistic" and not (0 <= off and on <= 1):
        raise ValueError(f"Logistic units lie in [0, 1]; `levels` must too. Got {value!r}.")
    if activation == "tanh" and not (-1 <= off and on <= 1):
        raise ValueError(f"tanh units lie in [-1, 1]; `levels` must too. Got {value!r}.")
    if activation == "relu" and off < 0:
        raise ValueError(f"relu units are >= 0; `levels` must be too. Got {value!r}.")
    return off, on


def class_indices(net: Network, y: Any, n_rows: int) -> np.ndarray:
    """Class labels ``y`` as indices into ``net.classes`` (every label must be a known class);
    for a linear (regression) output the numeric targets, float64 (N, n_out)."""
    if net.is_regression:
        from ._inputs import numeric_targets

        return numeric_targets(net, y, n_rows)
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"`y` must be 1-D. Got shape {arr.shape} instead.")
    if len(arr) != n_rows:
        raise ValueError(f"`X` has {n_rows} rows but `y` has {len(arr)}; they must match.")
    lookup = {_key(c): k for k, c in enumerate(net.classes)}
    idx = np.array([lookup.get(_key(v), -1) for v in arr], dtype=int)
    if (idx < 0).any():
        unknown = sorted({str(v) for v in arr[idx < 0]})[:5]
        raise ValueError(
            f"`y` has labels that are not classes of the model: {unknown}. "
            f"Classes: {[str(c) for c in net.classes]}."
        )
    return idx


def _key(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def encoded_input(net: Network, X: Any, encoded: bool) -> np.ndarray:
    """The encoded (N, D) float64 matrix of ``X`` (raw data through the network's encoder)."""
    if not isinstance(encoded, (bool, np.bool_)):
        raise TypeError(f"`encoded` must be True or False. Got {encoded!r}.")
    if encoded:
        Z = check_2d_numeric("X", X)
        if Z.shape[1] != net.n_inputs:
            raise ValueError(f"`X` has {Z.shape[1]} encoded columns; the network takes {net.n_inputs}.")
    else:
        Z = np.asarray(net.encode(X), dtype=np.float64)
    if Z.shape[0] == 0:
        raise ValueError("`X` has no rows.")
    return Z
