"""The logistic-regression design on the network's own variables.

A network sees every one-hot column of an enumerated variable and has a bias, so its input
matrix ``Z`` (from :class:`shallownet.data.Encoder`) is rank-deficient once a constant is
added: the K columns of a group sum to one. For likelihood inference the design drops ONE
reference category per enumerated group and puts a constant first::

    D = [1, Z without the reference column of each enumerated group]

Real variables keep their [0, 1] scale, so a coefficient is the change in log-odds from the
training minimum to the training maximum; binary variables keep their one 0/1 column. A real
variable with a missingness indicator keeps both columns, ``variable`` and
``variable=missing``: the indicator's coefficient is the change in log-odds of "missing"
against a known value at the fill value. The design's rank check covers the indicator
columns like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..data.variables import Variable

CONSTANT = "const"


@dataclass(frozen=True)
class Design:
    """Which encoded columns the design keeps, and what each design column means.

    Attributes
    ----------
    variables : tuple of Variable
        The variables of the encoded matrix (as the network has them).
    names : tuple of str
        Design column names: ``"const"``, then ``variable`` (real, binary) or
        ``variable=category`` (the non-reference categories of an enumerated variable).
    owners : tuple of str
        The variable each design column belongs to (``"const"`` for the constant).
    encoded : tuple of int
        The encoded column each design column copies (-1 for the constant).
    references : dict
        Reference (dropped) category of every enumerated variable.
    """

    variables: tuple[Variable, ...]
    names: tuple[str, ...]
    owners: tuple[str, ...]
    encoded: tuple[int, ...]
    references: dict

    @property
    def n_columns(self) -> int:
        """Number of design columns p (constant included)."""
        return len(self.names)

    def matrix(self, Z: np.ndarray) -> np.ndarray:
        """The design matrix ``(n, p)`` of an encoded matrix ``Z``."""
        Z = np.asarray(Z, dtype=float)
        width = sum(v.width for v in self.variables)
        if Z.ndim != 2 or Z.shape[1] != width:
            raise ValueError(f"`Z` must have shape (n, {width}). Got {Z.shape} instead.")
        cols = np.asarray(self.encoded[1:], dtype=int)
        return np.column_stack([np.ones(Z.shape[0]), Z[:, cols]])

    def from_full(self) -> np.ndarray:
        """Linear map ``T`` (p, 1 + D) from full-encoding coefficients to design ones.

        A linear predictor ``b + Z w`` over all encoded columns equals ``D beta`` with
        ``beta = T [b; w]``: within each enumerated group, ``beta_j = w_j - w_ref`` and the
        constant absorbs ``w_ref`` (the one-hot shift, methods.md section 1).
        """
        width = sum(v.width for v in self.variables)
        T = np.zeros((self.n_columns, 1 + width))
        T[0, 0] = 1.0
        position = {e: i for i, e in enumerate(self.encoded) if e >= 0}
        for v in self.variables:
            if v.kind == "enumerated":
                ref = v.columns[v.categories.index(self.references[v.name])]
                T[0, 1 + ref] += 1.0
                for c in v.columns:
                    if c != ref:
                        T[position[c], 1 + c] = 1.0
                        T[position[c], 1 + ref] = -1.0
            else:
                for c in v.columns:
                    T[position[c], 1 + c] = 1.0
        return T

    def columns_of(self, variable: str) -> list[int]:
        """Design column positions of one variable."""
        return [i for i, o in enumerate(self.owners) if o == variable]

    @property
    def raw_units(self) -> np.ndarray:
        """Raw units per design unit of each column, shape (p,): the training range of a real
        value column, 1 for the constant, binary, category and indicator columns."""
        by_column = {}
        for v in self.variables:
            by_column[v.columns[0]] = v.scale if v.kind == "real" else 1.0
        return np.asarray([1.0 if e < 0 else by_column.get(e, 1.0) for e in self.encoded])

    def vertices_of(self, variable: Variable) -> np.ndarray:
        """The vertices of a variable's values in its design columns, shape (P, len(J)).

        ``vertices_of(v) @ beta[J]`` gives the linear predictor's contribution of ``v`` at each
        vertex (:meth:`shallownet.data.Variable.vertices`), the reference category being 0.
        """
        if variable.kind == "enumerated":
            k = len(self.columns_of(variable.name))
            return np.vstack([np.zeros((1, k)), np.eye(k)])
        return variable.vertices()


def build_design(
    variables: Sequence[Variable], reference: Mapping[str, Any] | None = None
) -> Design:
    """Choose the reference categories and lay out the design columns.

    Parameters
    ----------
    variables : sequence of Variable
        The encoded variables (``Encoder.variables_`` or ``Network.variables``).
    reference : dict, optional
        ``{variable: category}`` reference categories; every other enumerated variable uses
        its first category (the encoder's order: sorted, or the pandas categorical order).

    Returns
    -------
    Design
    """
    reference = dict(reference or {})
    by_name = {v.name: v for v in variables}
    for name, category in reference.items():
        v = by_name.get(name)
        if v is None or v.kind != "enumerated":
            enumerated = [u.name for u in variables if u.kind == "enumerated"]
            raise ValueError(
                f"`reference` names {name!r}, which is not an enumerated variable. "
                f"Enumerated variables: {enumerated}."
            )
        if category not in v.categories:
            raise ValueError(
                f"`reference` for {name!r} is {category!r}, which is not one of its categories "
                f"{list(v.categories)}."
            )
    names, owners, encoded = [CONSTANT], [CONSTANT], [-1]
    references = {}
    for v in variables:
        if v.kind == "enumerated":
            ref = reference.get(v.name, v.categories[0])
            references[v.name] = ref
            for cat, col in zip(v.categories, v.columns):
                if cat != ref:
                    names.append(f"{v.name}={cat}")
                    owners.append(v.name)
                    encoded.append(col)
        else:
            for name, col in zip(v.column_names, v.columns):
                names.append(name)
                owners.append(v.name)
                encoded.append(col)
    return Design(tuple(variables), tuple(names), tuple(owners), tuple(encoded), references)


def check_full_rank(D: np.ndarray, names: Sequence[str]) -> None:
    """Raise, naming the columns, when the design matrix is rank-deficient.

    Columns are added one at a time (QR rank); a column that does not raise the rank is a
    linear combination of the ones before it.
    """
    if np.linalg.matrix_rank(D) == D.shape[1]:
        return
    dependent = []
    kept: list[int] = []
    for j in range(D.shape[1]):
        trial = D[:, kept + [j]]
        if np.linalg.matrix_rank(trial) == len(kept) + 1:
            kept.append(j)
        else:
            dependent.append(names[j])
    if dependent:
        raise ValueError(
            f"The logistic-regression design is singular: column(s) {dependent} are linear "
            "combinations of the constant and the columns before them in the training rows "
            "(duplicated or collinear variables, or a category that only occurs together with "
            "another). Drop or merge those variables and refit."
        )
