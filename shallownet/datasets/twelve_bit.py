"""The 12-bit task of the information-bottleneck experiments, generated from its closed-form rule.

Shwartz-Ziv & Tishby (2017) and Saxe et al. (2018) train on all 4096 binary strings of
length 12 with labels that are invariant under the rotations of a regular icosahedron. The
rule (methods.md section 5): bit ``i`` sits on vertex ``v_i`` of a regular icosahedron (unit
vectors) and

    y(x) = 1  iff  sum_i x_i + || sum_i x_i v_i || > theta,    theta in (7.5628, 7.7013).

Only the adjacency of the vertices matters: for a regular icosahedron the inner product
``v_i . v_j`` is 1, 1/sqrt(5), -1/sqrt(5) or -1 by graph distance 0, 1, 2, 3, so any two
assignments with the same adjacency give the same norm. The assignment below was recovered
from the published labels: among positive patterns of Hamming weight 5 to 7, the pairs of
bits that are set together most often are exactly the edges of a 5-regular graph, which is
the icosahedron graph; the vertex coordinates are one embedding of that graph. With it the
rule reproduces the published label file bit for bit (``tests/information/test_twelve_bit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import check_one_of
from ._dataset import Dataset

_PHI = (1.0 + np.sqrt(5.0)) / 2.0

#: Vertex of bit i (bit 0 = most significant), as (x, y, z) with entries from {0, +-1, +-phi}.
#: Every vertex has norm sqrt(1 + phi^2); neighbours have inner product phi.
VERTICES = np.array(
    [
        [0.0, 1.0, _PHI],
        [1.0, _PHI, 0.0],
        [0.0, 1.0, -_PHI],
        [-1.0, _PHI, 0.0],
        [_PHI, 0.0, -1.0],
        [0.0, -1.0, _PHI],
        [1.0, -_PHI, 0.0],
        [-1.0, -_PHI, 0.0],
        [-_PHI, 0.0, -1.0],
        [0.0, -1.0, -_PHI],
        [-_PHI, 0.0, 1.0],
        [_PHI, 0.0, 1.0],
    ]
) / np.sqrt(1.0 + _PHI**2)

#: The midpoint of the interval of thresholds that reproduce the labels. The score
#: ``sum x + ||sum x v||`` takes no value in (7.56278, 7.70130) over the 4096 patterns.
THRESHOLD = 7.632

N_BITS = 12
TRAIN_FRACTION = 0.8


def twelve_bit_patterns() -> np.ndarray:
    """All 4096 binary strings of length 12 in binary order, most significant bit first.

    Returns
    -------
    ndarray of shape (4096, 12), dtype int8
        Row ``n`` is the binary expansion of ``n``.
    """
    n = np.arange(2**N_BITS)
    return ((n[:, None] >> (N_BITS - 1 - np.arange(N_BITS))) & 1).astype(np.int8)


def twelve_bit_labels(patterns: np.ndarray | None = None) -> np.ndarray:
    """Labels of the 12-bit task from the closed-form rule (module docstring).

    Parameters
    ----------
    patterns : array of shape (n, 12) with 0/1 entries, optional
        Default: all 4096 patterns in binary order.

    Returns
    -------
    ndarray of shape (n,), dtype int8
    """
    x = twelve_bit_patterns() if patterns is None else np.asarray(patterns)
    if x.ndim != 2 or x.shape[1] != N_BITS or not np.isin(x, (0, 1)).all():
        raise ValueError(
            f"`patterns` must be an (n, {N_BITS}) array of 0/1 values. Got shape {np.shape(x)}."
        )
    x = x.astype(np.float64)
    score = x.sum(axis=1) + np.linalg.norm(x @ VERTICES, axis=1)
    return (score > THRESHOLD).astype(np.int8)


@dataclass(frozen=True)
class TwelveBitTask(Dataset):
    """The 12-bit task: every pattern, its label, and a train/test split of the pattern indices.

    Attributes
    ----------
    X : DataFrame (4096, 12)
        Columns ``b0`` (most significant) to ``b11``, values 0/1.
    y : Series (4096,)
        Labels 0/1.
    train_index, test_index : ndarray of int
        Rows used for training (80 %) and the rest.
    split : str
        "original" or "shuffled".
    """

    train_index: np.ndarray = None
    test_index: np.ndarray = None
    split: str = "original"

    @property
    def X_train(self) -> pd.DataFrame:
        """The training patterns."""
        return self.X.iloc[self.train_index]

    @property
    def y_train(self) -> pd.Series:
        """The training labels."""
        return self.y.iloc[self.train_index]


def twelve_bit_task(split: str = "original", random_state=None) -> TwelveBitTask:
    """The 12-bit task of Shwartz-Ziv & Tishby (2017) with its 80 % training split.

    Parameters
    ----------
    split : {"original", "shuffled"}, default "original"
        "original": the first 80 % of the patterns in binary order (3276 rows), as the
        original code does. That split is biased: every held-out pattern begins with
        the bits 11. "shuffled": a random 80 % drawn with ``random_state``.
    random_state : int or None
        Seed of the shuffled split (ignored for "original").

    Returns
    -------
    TwelveBitTask
        Unpacks as ``X, y``; ``train_index`` and ``test_index`` hold the split. The ground
        truth records ``p(y = 1)`` and ``H(Y)`` in bits, and ``log2 4096 = 12`` bits, the
        largest possible ``I(X; T)``.
    """
    check_one_of("split", split, ("original", "shuffled"))
    patterns = twelve_bit_patterns()
    labels = twelve_bit_labels(patterns)
    n = len(patterns)
    n_train = int(TRAIN_FRACTION * n)
    if split == "original":
        order = np.arange(n)
    else:
        order = np.random.default_rng(random_state).permutation(n)
    train_index, test_index = np.sort(order[:n_train]), np.sort(order[n_train:])
    X = pd.DataFrame(patterns, columns=[f"b{i}" for i in range(N_BITS)])
    y = pd.Series(labels, name="y")
    p1 = float(labels.mean())
    h_y = float(-(p1 * np.log2(p1) + (1 - p1) * np.log2(1 - p1)))
    description = (
        "All 4096 12-bit patterns with labels invariant under the icosahedron's symmetries "
        "(Shwartz-Ziv & Tishby 2017); y = 1 iff sum(x) + ||sum x_i v_i|| > 7.632."
    )
    truth = {"p_y1": p1, "H_Y_bits": h_y, "H_X_bits": float(np.log2(n))}
    return TwelveBitTask(X, y, description, truth, train_index, test_index, split)
