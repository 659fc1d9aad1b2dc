"""Weight-based variable importance: Garson, Olden (connection weights) and Milne.

Notation (one hidden layer): first-layer weights ``W`` (D x H), output weights ``V`` (H x n_out),
target matrix ``T`` (see :mod:`._layout`), ``U = V T`` the output weights on the identifiable
targets. For a variable i and node j, ``A_ij`` is the variable's *spread* into the node: ``|w_ij|``
for a real or binary variable, ``max_c w_cj - min_c w_cj`` over an enumerated group (the largest
change of the pre-activation the variable can make; invariant to the one-hot shift), and for a
value with its missingness indicator the range of ``x_block @ w`` over ``(0, 0), (1, 0),
(fill', 1)``: the pair is one variable, ranked once.

* **Garson** ``RI_i = sum_j r_ij / sum_i' sum_j r_i'j`` with ``r_ij = A_ij / sum_i' A_i'j``.
  Garson's ``c_ij = |w_ij| |v_jk|`` puts the same factor ``|v_jk|`` in the numerator and the
  denominator of ``r_ij``: it cancels, so canonical Garson does not depend on the output weights
  and is the same for every output (reported once, as ``"all outputs"``; ``v_jk = 0`` is the
  limit). ``output_weights=True`` gives the variant that keeps them, ``sum_j r_ij |U_jt|``
  normalised over variables (the unsigned Milne form), per target.
* **Olden** ``CW = W V T`` (``W1 W2 V T`` with two hidden layers, any depth), signed, D x targets;
  per category centred over the group, the group's range at the variable level.
* **Milne** ``Q_it = sum_j (w_ij / sum_i' A_i'j) U_jt`` normalised by ``sum_i |Q_it|``; signed.

With two hidden layers Garson and Milne are not defined by their authors. The extension
used here (labelled as such in the result) propagates the layer-wise normalised matrices,
``N(A1) N(|W2|)`` for Garson and ``N_s(W1) N_s(W2)`` for Milne, where each column of ``N`` is
divided by the sum of its absolute values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..results import Result
from ._layout import Layout, member_mean_sd, network_of, weights64


@dataclass(frozen=True, eq=False, repr=False)
class Importance(Result):
    """Per-variable importance from the weights, for every ensemble member.

    Attributes
    ----------
    method : str
        ``"garson"``, ``"olden"`` or ``"milne"``.
    layout : Layout
        Variables, columns and targets.
    outputs : tuple of str
        The output (target) each column of ``values`` refers to.
    values : ndarray, shape (M, V, n_outputs)
        Per-member importance of each variable.
    signed : bool
        Whether the values carry a direction (Olden, Milne for real and binary variables;
        an enumerated group's value is a range, >= 0).
    column_values : ndarray (M, D, n_outputs) or None
        Per-column detail: centred per category for enumerated groups (Olden, Milne).
    per_raw_unit : ndarray (M, V, n_outputs) or None
        ``values`` per raw unit of each real variable (Olden).
    note : str
        What the numbers are, and any extension beyond the published method.
    """

    method: str
    layout: Layout
    outputs: tuple[str, ...]
    values: np.ndarray
    signed: bool
    column_values: np.ndarray | None
    per_raw_unit: np.ndarray | None
    note: str

    @property
    def title(self) -> str:
        return f"{self.method.capitalize()} importance"

    @property
    def n_members(self) -> int:
        """Ensemble members M."""
        return int(self.values.shape[0])

    @property
    def mean(self) -> np.ndarray:
        """Mean over members, shape (V, n_outputs)."""
        return member_mean_sd(self.values)[0]

    @property
    def sd(self) -> np.ndarray:
        """Standard deviation over members (NaN for a single network), shape (V, n_outputs)."""
        return member_mean_sd(self.values)[1]

    def _form(self, i: int) -> str:
        if self.method == "garson":
            return "share"
        group = not self.layout.is_signed(i)
        if self.method == "olden":
            return "range" if group else "signed"
        return "range share" if group else "signed share"

    def to_frame(self) -> pd.DataFrame:
        """One row per variable and output: ``mean``, ``sd`` over members, ``rank``.

        ``rank`` orders variables by ``|mean|`` within each output (1 = largest). ``form``
        says what the number is (``share``, ``signed``, ``range``, ...). Olden adds
        ``mean_per_raw_unit`` and ``sd_per_raw_unit``.
        """
        lay = self.layout
        mean, sd = member_mean_sd(self.values)
        raw = None if self.per_raw_unit is None else member_mean_sd(self.per_raw_unit)
        rows = []
        for t, out in enumerate(self.outputs):
            order = np.argsort(-np.abs(mean[:, t]), kind="stable")
            rank = np.empty(lay.n_variables, dtype=int)
            rank[order] = np.arange(1, lay.n_variables + 1)
            for i, var in enumerate(lay.variables):
                row = {"variable": var, "kind": lay.kinds[i], "output": out, "form": self._form(i),
                       "mean": mean[i, t], "sd": sd[i, t], "rank": int(rank[i])}
                if raw is not None:
                    row["mean_per_raw_unit"] = raw[0][i, t]
                    row["sd_per_raw_unit"] = raw[1][i, t]
                rows.append(row)
        return pd.DataFrame(rows)

    def columns_frame(self) -> pd.DataFrame:
        """Per-column detail (one row per encoded column and output), when the method has it."""
        if self.column_values is None:
            raise ValueError(f"{self.method} has no per-column detail (its values are shares of variables).")
        lay = self.layout
        mean, sd = member_mean_sd(self.column_values)
        rows = []
        for t, out in enumerate(self.outputs):
            for c, col in enumerate(lay.columns):
                rows.append({"column": col, "variable": lay.variables[lay.column_variable[c]],
                             "category": lay.column_category[c], "output": out,
                             "mean": mean[c, t], "sd": sd[c, t]})
        return pd.DataFrame(rows)

    def summary(self, digits: int = 3) -> str:
        """The table, followed by the note."""
        return f"{super().summary(digits)}\n{self.note}"


def _normalise_columns(M: np.ndarray) -> np.ndarray:
    """Divide each column (last axis) by the sum of absolute values over the rows (axis -2).

    A column of zeros (a node that no input reaches) stays zero.
    """
    total = np.abs(M).sum(axis=-2, keepdims=True)
    return np.divide(M, total, out=np.zeros_like(M), where=total > 0)


def _normalise_variables(values: np.ndarray) -> np.ndarray:
    """Divide by the sum of absolute values over variables (axis -2); NaN where it is zero."""
    total = np.abs(values).sum(axis=-2, keepdims=True)
    return np.divide(values, total, out=np.full_like(values, np.nan), where=total > 0)


def _deeper(Ws: list[np.ndarray], signed: bool) -> np.ndarray:
    """Product of the normalised hidden -> hidden matrices (identity for one hidden layer)."""
    M, H1 = Ws[0].shape[0], Ws[0].shape[-1]
    P = np.broadcast_to(np.eye(H1), (M, H1, H1))
    for W in Ws[1:-1]:
        P = P @ _normalise_columns(W if signed else np.abs(W))
    return P


def _extension_note(net) -> str:
    if len(net.hidden_sizes) < 2:
        return ""
    return (" Two hidden layers: an EXTENSION of the published one-hidden-layer method "
            "(layer-wise normalised weight matrices multiplied through the network).")


def garson(model: Any, output_weights: bool = False) -> Importance:
    """Garson's (Goh's) relative importance of each variable.

    ``RI_i = sum_j r_ij / sum_i' sum_j r_i'j`` with ``r_ij = A_ij / sum_i' A_i'j``, where
    ``A_ij`` is ``|w_ij|`` for a real or binary variable and the range of the group's weights
    into node j for an enumerated variable (one-hot-shift invariant). Non-negative, sums to 1.

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        At least one hidden layer.
    output_weights : bool, default False
        False: canonical Garson. The output weight ``|v_jk|`` cancels inside ``r_ij``, so the
        result does not depend on the output layer and is one column, ``"all outputs"``.
        True: the variant that weights each node's shares by ``|U_jt|`` (output weights on the
        identifiable targets, see :mod:`._layout`) after the normalisation, one column per
        target.

    Returns
    -------
    Importance
        ``values`` of shape (M, V, 1) (canonical) or (M, V, n_targets); unsigned.

    Notes
    -----
    With two hidden layers Garson is not defined; the result is the labelled extension
    ``N(A1) N(|W2|)`` (module docstring). Garson's shares depend on the [0, 1] scaling of
    real inputs and have no per-raw-unit form: a share mixes the units of all variables.
    Use the ranks, not the values, to compare networks.
    """
    if not isinstance(output_weights, (bool, np.bool_)):
        raise TypeError(f"`output_weights` must be True or False. Got {output_weights!r}.")
    net = network_of(model, 1, "Garson's method")
    lay = Layout.of(net)
    Ws, _ = weights64(net)
    G = _normalise_columns(lay.spread(Ws[0])) @ _deeper(Ws, signed=False)  # (M, V, H_L)
    if output_weights:
        scores = G @ np.abs(Ws[-1] @ lay.T)
        outputs = lay.targets
        note = ("Garson variant with output weights: node shares weighted by |output weight on "
                "each target| after normalisation.")
    else:
        scores = G.sum(axis=-1, keepdims=True)
        outputs = ("all outputs",)
        note = ("Canonical Garson: |v_jk| cancels inside r_ij, so the result does not depend on the "
                "output weights and is the same for every output.")
    values = _normalise_variables(scores)
    return Importance("garson", lay, tuple(outputs), values, False, None, None,
                      note + _extension_note(net))


def olden(model: Any) -> Importance:
    """Olden's connection-weight importance, any depth, per class and per class contrast.

    ``CW = W1 W2 ... V T`` (shape D x targets, signed): the product of the weight matrices
    along every path from input column to output, on the identifiable targets ``T`` — for a
    softmax output the centred logit of each class and each pairwise contrast, for a sigmoid
    output the contrast of its two classes, for a linear (regression) output each output
    unit, in raw units of its target per encoded unit of the input (``per_raw_unit``: per raw
    unit of the input; with identity hidden units this is exactly the network's slope). An enumerated group's per-category values are
    centred over the group (:attr:`Importance.column_values`) and its variable-level value
    is their range (>= 0).

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        Any number of hidden layers (with none, CW is the logistic-regression coefficients).

    Returns
    -------
    Importance
        Signed values (M, V, n_targets); ``per_raw_unit`` divides real variables by their
        training range ``max - min``.

    Notes
    -----
    CW is the gradient of the target logit with respect to the input when every hidden unit
    is linear; with saturating units it ignores where the units operate, so it ranks
    variables but is not an effect size. Its scale depends on the training (weights grow
    with epochs and shrink with the penalty): do not compare values across models; use
    :func:`shallownet.interpret.olden_test` for a p-value.
    """
    net = network_of(model, 0, "Olden's method")
    lay = Layout.of(net)
    Ws, _ = weights64(net)
    return _olden_from_weights(Ws, lay, len(net.hidden_sizes))


def _olden_from_weights(Ws: list[np.ndarray], lay: Layout, n_hidden: int) -> Importance:
    """Olden's importance from member-stacked float64 weights (shared with the randomisation test)."""
    P = Ws[0]
    for W in Ws[1:]:
        P = P @ W
    CW = lay.centre(P @ lay.T)  # (M, D, n_targets)
    values = lay.variable_values(CW)
    note = ("Olden connection weights: signed sums over paths of weight products, on centred "
            "class logits and class contrasts; an enumerated variable's value is the range of "
            "its centred category values.")
    regression = "output" in lay.target_kinds
    if regression:
        note = ("Olden connection weights of a linear (regression) output: signed sums over paths "
                "of weight products, per output, in units of the target per encoded unit of the "
                "input (per raw unit: per_raw_unit); an enumerated variable's value is the range "
                "of its centred category values.")
    if n_hidden == 0:
        note += (" No hidden layer: the values are the linear-regression coefficients."
                 if regression else " No hidden layer: the values are the logistic-regression coefficients.")
    return Importance("olden", lay, lay.targets, values, True, CW,
                      lay.per_raw_unit(values), note)


def milne(model: Any) -> Importance:
    """Milne's signed importance.

    ``Q_it = sum_j (w_ij / sum_i' A_i'j) U_jt`` normalised by ``sum_i |Q_it|``, with ``A`` the
    variable spreads of :func:`garson` and ``U`` the output weights on the identifiable
    targets. For an enumerated group the per-category values use centred weights and the
    variable-level value is their range (>= 0) before the normalisation.

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        At least one hidden layer.

    Returns
    -------
    Importance
        Signed values (M, V, n_targets) whose absolute values sum to 1 over variables.

    Notes
    -----
    With two hidden layers the result is the labelled extension ``N_s(W1) N_s(W2) U``
    (module docstring). Like Garson, the shares depend on the [0, 1] scaling of real inputs.
    """
    net = network_of(model, 1, "Milne's method")
    lay = Layout.of(net)
    Ws, _ = weights64(net)
    Wc = lay.centre(Ws[0])
    denom = lay.spread(Ws[0]).sum(axis=-2, keepdims=True)  # (M, 1, H1)
    N1 = np.divide(Wc, denom, out=np.zeros_like(Wc), where=denom > 0)
    Q = N1 @ _deeper(Ws, signed=True) @ (Ws[-1] @ lay.T)  # (M, D, n_targets)
    variable_level = lay.variable_values(Q)
    total = np.abs(variable_level).sum(axis=-2, keepdims=True)
    values = _normalise_variables(variable_level)
    columns = np.divide(Q, total, out=np.full_like(Q, np.nan), where=total > 0)
    note = ("Milne: signed input shares times output weights on centred class logits and class "
            "contrasts, normalised so that |values| sum to 1 over variables.")
    if "output" in lay.target_kinds:
        note = ("Milne: signed input shares times output weights on each linear (regression) "
                "output, normalised so that |values| sum to 1 over variables.")
    return Importance("milne", lay, lay.targets, values, True, columns, None,
                      note + _extension_note(net))
