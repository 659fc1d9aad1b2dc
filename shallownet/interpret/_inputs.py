"""Input handling shared by the influence and sensitivity methods.

Every public method takes ``model`` (anything :func:`shallownet.models.as_network` accepts) and
``X`` as raw data (encoded through the network's encoder) or, with ``encoded=True``, as the
already-encoded matrix. This module turns them into the network view, a float array in the
network's own dtype, class indices for ``y`` and the selected variables, checking everything
before any JAX code is traced.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .._validation import check_2d_numeric, check_int
from ..data.variables import Variable
from ..models import Network, as_network


class Cases(NamedTuple):
    """A network and the cases it is asked about.

    Attributes
    ----------
    net : Network
    x : ndarray of shape (N, D)
        Encoded inputs in the network's dtype.
    y : ndarray of shape (N,) of int, or None
        True classes as indices into ``net.classes``; for a linear-output network the
        numeric targets, float64 of shape (N, n_out).
    """

    net: Network
    x: np.ndarray
    y: np.ndarray | None


def network_dtype(net: Network) -> np.dtype:
    """The floating dtype of the network's parameters (float32 unless built in float64)."""
    return np.dtype(net.params[0].W.dtype)


def encode(net: Network, X: Any, encoded: bool, name: str = "X") -> np.ndarray:
    """Encoded inputs of ``X`` as a float array in the network's dtype, shape ``(N, D)``.

    With ``encoded=True`` the matrix is checked instead of encoded: its width must match the
    network, binary columns must hold 0/1 and every one-hot group exactly one 1 per row.
    """
    if not isinstance(encoded, (bool, np.bool_)):
        raise TypeError(f"`encoded` must be True or False. Got {encoded!r}.")
    if encoded:
        arr = check_2d_numeric(name, X)
        if arr.shape[1] != net.n_inputs:
            raise ValueError(
                f"`{name}` has {arr.shape[1]} encoded columns; the network takes {net.n_inputs}."
            )
        _check_discrete_columns(net.variables, arr, name)
    else:
        if net.encoder is None:
            arr = check_2d_numeric(name, X)
            if arr.shape[1] != net.n_inputs:
                raise ValueError(
                    f"`{name}` has {arr.shape[1]} columns; the network takes {net.n_inputs}."
                )
            _check_discrete_columns(net.variables, arr, name)
        else:
            arr = net.encode(X)
    if arr.shape[0] == 0:
        raise ValueError(f"`{name}` has no rows.")
    arr = np.asarray(arr, dtype=network_dtype(net))
    check_outputs(net, arr)
    return arr


OUTPUT_CHECK_ROWS = 65536
"""Rows per forward pass of :func:`check_outputs` (memory ``M * rows * n_out`` numbers)."""


def check_outputs(net: Network, x: np.ndarray) -> None:
    """One forward pass over the encoded cases ``x``, in chunks, refusing NaN or infinite
    outputs (:meth:`Network.refuse_non_finite`) before any method computes from them."""
    for start in range(0, x.shape[0], OUTPUT_CHECK_ROWS):
        net.member_proba(x[start:start + OUTPUT_CHECK_ROWS], encoded=True)


def _check_discrete_columns(variables: Sequence[Variable], arr: np.ndarray, name: str) -> None:
    for v in variables:
        block = arr[:, list(v.columns)]
        if v.has_indicator and not np.isin(block[:, 1], (0.0, 1.0)).all():
            raise ValueError(
                f"`{name}`: the missingness indicator of {v.name!r} must hold 0 or 1 in encoded "
                f"form. Got {block[~np.isin(block[:, 1], (0.0, 1.0)), 1][0]!r}."
            )
        if v.kind == "binary" and not np.isin(block, (0.0, 1.0)).all():
            raise ValueError(
                f"`{name}`: binary variable {v.name!r} must hold 0 or 1 in encoded form. "
                f"Got {block[~np.isin(block, (0.0, 1.0))][0]!r}."
            )
        if v.kind == "enumerated":
            ok = np.isin(block, (0.0, 1.0)).all(axis=1) & (block.sum(axis=1) == 1)
            if not ok.all():
                row = int(np.argmin(ok))
                raise ValueError(
                    f"`{name}`: enumerated variable {v.name!r} must be one-hot (exactly one 1 "
                    f"in its {v.width} columns). Row {row} has {block[row].tolist()}."
                )


def numeric_targets(net: Network, y: Any, n_rows: int) -> np.ndarray:
    """Numeric targets of a linear-output network as float64 ``(N, n_out)`` (a 1-D ``y``
    for one output), checked: finite, one column per output, one row per case."""
    arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    arr = check_2d_numeric("y", arr[:, None] if arr.ndim == 1 else arr)
    if arr.shape[1] != net.n_outputs:
        raise ValueError(f"`y` must have {net.n_outputs} column(s), one per output. Got {arr.shape[1]}.")
    if arr.shape[0] != n_rows:
        raise ValueError(f"`X` has {n_rows} rows but `y` has {arr.shape[0]}; they must match.")
    return arr.astype(np.float64)


def class_index(net: Network, y: Any, n_rows: int) -> np.ndarray | None:
    """Map labels ``y`` to indices into ``net.classes``; None stays None. For a linear-output
    network, the numeric targets (:func:`numeric_targets`)."""
    if y is None:
        return None
    if net.is_regression:
        return numeric_targets(net, y, n_rows)
    arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"`y` must be 1-D (n_samples,). Got shape {arr.shape} instead.")
    if len(arr) != n_rows:
        raise ValueError(f"`X` has {n_rows} rows but `y` has {len(arr)}; they must match.")
    classes = list(net.classes)
    lookup = {(c.item() if isinstance(c, np.generic) else c): i for i, c in enumerate(classes)}
    idx = np.empty(len(arr), dtype=np.int32)
    for n, label in enumerate(arr):
        key = label.item() if isinstance(label, np.generic) else label
        if key not in lookup:
            raise ValueError(
                f"`y` holds the label {label!r}, which is not one of the model's classes "
                f"{classes}."
            )
        idx[n] = lookup[key]
    return idx


def prepare(model: Any, X: Any, y: Any = None, encoded: bool = False) -> Cases:
    """Network view, encoded inputs and class indices, all checked."""
    net = as_network(model)
    x = encode(net, X, encoded)
    return Cases(net, x, class_index(net, y, x.shape[0]))


def select_variables(net: Network, variables: Any) -> tuple[Variable, ...]:
    """The variables named by ``variables`` (None: all), in the order given."""
    if variables is None:
        return tuple(net.variables)
    if isinstance(variables, (str, Variable)):
        variables = [variables]
    by_name = {v.name: v for v in net.variables}
    out = []
    for item in variables:
        name = item.name if isinstance(item, Variable) else item
        if name not in by_name:
            raise ValueError(
                f"`variables`: {name!r} is not a variable of this model. "
                f"Known variables: {list(by_name)}."
            )
        out.append(by_name[name])
    if not out:
        raise ValueError("`variables` must name at least one variable.")
    if len({v.name for v in out}) != len(out):
        raise ValueError(f"`variables` names a variable twice: {[v.name for v in out]}.")
    return tuple(out)


def one_variable(net: Network, variable: Any) -> Variable:
    """The single variable named by ``variable`` (a name or a :class:`Variable`)."""
    if not isinstance(variable, (str, Variable)):
        raise TypeError(
            f"`variable` must be a variable name (str). Got {type(variable).__name__}."
        )
    return select_variables(net, [variable])[0]


def check_n_grid(n_grid: Any) -> int:
    """Grid size for real variables: an integer >= 2."""
    return check_int("n_grid", n_grid, 2)


def check_chunk_size(chunk_size: Any) -> int | None:
    """``"auto"`` (None here) or a positive integer number of rows per chunk."""
    if isinstance(chunk_size, str) and chunk_size == "auto":
        return None
    if isinstance(chunk_size, numbers.Integral) and not isinstance(chunk_size, bool):
        return check_int("chunk_size", chunk_size, 1)
    raise TypeError(f"`chunk_size` must be 'auto' or a positive integer. Got {chunk_size!r}.")


def observed_code(variable: Variable, x: np.ndarray, n_grid: int) -> np.ndarray:
    """Index of each case's own value in ``variable.candidates(n_grid)``, shape ``(N,)``.

    Real: the nearest grid point (values outside [0, 1] go to the end points). Binary: 0 or 1.
    Enumerated: the category's position (0 for an all-zero row of an unseen category). Real
    with a missingness indicator: the nearest grid point, or ``n_grid`` (the last candidate,
    "missing") where the indicator is set.
    """
    block = x[:, list(variable.columns)]
    if variable.has_indicator:
        near = np.clip(np.rint(block[:, 0].astype(np.float64) * (n_grid - 1)), 0, n_grid - 1)
        return np.where(block[:, 1] >= 0.5, n_grid, near).astype(np.int32)
    if variable.kind == "real":
        return np.clip(np.rint(block[:, 0].astype(np.float64) * (n_grid - 1)), 0, n_grid - 1).astype(np.int32)
    if variable.kind == "binary":
        return block[:, 0].astype(np.int32)
    return block.argmax(axis=1).astype(np.int32)


def candidate_count(variable: Variable, n_grid: int) -> int:
    """Number of candidate values G of ``variable``."""
    if variable.kind == "real":
        return n_grid + 1 if variable.has_indicator else n_grid
    return 2 if variable.kind == "binary" else variable.width
