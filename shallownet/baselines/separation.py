"""Detecting (quasi-)complete separation before a maximum-likelihood fit.

The multinomial (and binary) logistic MLE does not exist exactly when some direction ``B``
(design columns x contrasts, base class column fixed at 0) orders every case's own class at
least as high as every other class, ``d_i (beta_{y_i} - beta_k) >= 0`` for all ``i`` and
``k != y_i``, strictly for some case (Albert & Anderson 1984). Then the likelihood keeps
rising along ``B`` and the coefficients run to infinity. Following Konis (2007), the linear
programme

    maximise   sum_{i, k != y_i} d_i (beta_{y_i} - beta_k)
    subject to d_i (beta_{y_i} - beta_k) >= 0,   -1 <= B <= 1

has optimum 0 if and only if there is no such direction; a positive optimum returns one, and
the cases with a positive margin are the ones the direction predicts perfectly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

# A margin above this (inputs are on [0, 1]) is a real separating direction, not LP round-off.
_MARGIN = 1e-6


@dataclass(frozen=True)
class Separation:
    """A separating direction found by :func:`find_separation`.

    Attributes
    ----------
    direction : ndarray (p, K - 1)
        The direction ``B`` (base class column omitted).
    separated_rows : ndarray of int
        Rows whose own class beats every rival with a positive margin along ``B``: their
        fitted probability tends to 1. Empty only in degenerate cases where every margin is
        shared with a tie (the direction still makes some rival's probability vanish).
    columns : ndarray of int
        Design columns with a non-zero entry in ``B``.
    """

    direction: np.ndarray
    separated_rows: np.ndarray
    columns: np.ndarray


def find_separation(D: np.ndarray, y_index: np.ndarray, n_classes: int) -> Separation | None:
    """Return a separating direction of the design ``D`` for classes ``y_index``, or None.

    Parameters
    ----------
    D : ndarray (n, p)
        Design matrix (constant included).
    y_index : int ndarray (n,)
        Class indices ``0 .. K-1``; class 0 is the base.
    n_classes : int
        K.
    """
    n, p = D.shape
    K = n_classes
    # Unknowns: B[:, 1..K-1] flattened contrast-major, index (k - 1) * p + j. One constraint
    # (row) per case i and rival class k != y_i: margin = d_i beta_{y_i} - d_i beta_k.
    rows, cols, vals, case = [], [], [], []
    r0 = 0
    for k in range(K):
        idx = np.flatnonzero(y_index != k)
        own = y_index[idx].astype(int)
        row = r0 + np.arange(len(idx))
        has_own = own > 0
        rows.append(np.repeat(row[has_own], p))
        cols.append(((own[has_own] - 1) * p)[:, None].repeat(p, 1).ravel() + np.tile(np.arange(p), has_own.sum()))
        vals.append(D[idx[has_own]].ravel())
        if k > 0:
            rows.append(np.repeat(row, p))
            cols.append(np.tile((k - 1) * p + np.arange(p), len(idx)))
            vals.append(-D[idx].ravel())
        case.append(idx)
        r0 += len(idx)
    A = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, p * (K - 1))
    )
    case = np.concatenate(case)
    objective = -np.asarray(A.sum(axis=0)).ravel()
    res = optimize.linprog(
        objective, A_ub=-A, b_ub=np.zeros(r0), bounds=(-1.0, 1.0), method="highs"
    )
    if res.status != 0:  # pragma: no cover - the LP is always feasible (B = 0) and bounded
        raise RuntimeError(f"The separation check failed: {res.message}")
    margins = A @ res.x
    if margins.max() <= _MARGIN or margins.min() < -_MARGIN:
        return None
    direction = res.x.reshape(K - 1, p).T
    # A case is predicted perfectly when its own class beats every rival along B.
    worst = np.full(len(y_index), np.inf)
    np.minimum.at(worst, case, margins)
    separated = np.flatnonzero(worst > _MARGIN)
    columns = np.flatnonzero(np.abs(direction).max(axis=1) > _MARGIN)
    return Separation(direction, separated, columns)
