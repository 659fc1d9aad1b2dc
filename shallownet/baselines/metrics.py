"""Held-out metrics of predicted probabilities, as weighted sums (JAX).

Every metric is written as a function of case weights ``w`` (n,) over fixed per-case
ingredients, so one compiled function gives the point estimate (``w = 1``), a weighted
estimate, and every bootstrap resample (``w`` = resampling counts) at once. Arrays are padded
to a power of two with zero-weight cases, so a new test-set size rarely means a new compile.

For cases i with label y_i, probabilities p_i (K classes) and weights w_i (``W = sum w``):

* accuracy  ``sum w_i 1[argmax p_i = y_i] / W``;
* log-loss  ``-sum w_i log p_{i, y_i} / W``, with p clipped to [eps, 1 - eps], eps the
  float64 machine epsilon (as scikit-learn's ``log_loss`` does for float64 input);
* Brier     ``sum w_i sum_k (p_ik - 1[y_i = k])^2 / W``, halved for two classes so that it is
  ``mean (p_i1 - y_i)^2`` (scikit-learn's ``brier_score_loss``, ``scale_by_half="auto"``);
* ROC AUC   the weighted Mann-Whitney probability ``P(s+ > s-) + P(s+ = s-) / 2`` for the
  positive class score (binary), or the unweighted mean over classes of the one-vs-rest AUC
  of ``p_k`` (``roc_auc_score(multi_class="ovr", average="macro")``);
* calibration error  the expected calibration error over ``n_bins`` equal-width bins,
  ``sum_b |sum_{i in b} w_i (t_i - s_i)| / W``, with score ``s`` and target ``t`` the
  positive-class probability and label for two classes, the top-label confidence and
  correctness for more (**choice**, documented in ``theory/logistic-baseline.md``). Bins are
  right-closed, ``[0, 1/B], (1/B, 2/B], ...``, as in scikit-learn's ``calibration_curve``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

METRICS = ("accuracy", "log_loss", "brier", "roc_auc", "calibration_error")
HIGHER_IS_BETTER = {
    "accuracy": True,
    "log_loss": False,
    "brier": False,
    "roc_auc": True,
    "calibration_error": False,
}


def float_dtype():
    """float64 when JAX runs in 64-bit mode, else float32."""
    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


class MetricInputs(NamedTuple):
    """Per-case ingredients of the metrics (arrays; a leading model axis is allowed).

    correct (n,), nll (n,), brier (n,): per-case accuracy, log-loss and Brier terms;
    auc_positive (C, n) and auc_group (C, n): for each one-vs-rest problem (C = 1 for two
    classes), the positive indicator and the rank of the case's score among the distinct
    scores (ties share a group); ece_bin (n,) and ece_residual (n,) = target - score.
    """

    correct: jax.Array
    nll: jax.Array
    brier: jax.Array
    auc_positive: jax.Array
    auc_group: jax.Array
    ece_bin: jax.Array
    ece_residual: jax.Array


def calibration_scores(y_index: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score and target the calibration error uses: ``(p_1, 1[y = 1])`` for two classes,
    ``(max_k p_k, 1[argmax = y])`` for more."""
    if proba.shape[1] == 2:
        return proba[:, 1], (y_index == 1).astype(float)
    return proba.max(axis=1), (proba.argmax(axis=1) == y_index).astype(float)


def calibration_bins(score: np.ndarray, n_bins: int) -> np.ndarray:
    """Right-closed equal-width bin of each score, as ``sklearn.calibration.calibration_curve``."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], score)


def padded_size(n: int) -> int:
    """Array length used for n cases: the next power of two (at least 64).

    Cases beyond n are padding with weight 0, which leaves every metric unchanged, so one
    compiled function serves every n in a bucket (no recompiling for each test-set size).
    """
    return max(64, 1 << (int(n) - 1).bit_length())


def _pad(a: np.ndarray, size: int, value=0) -> np.ndarray:
    width = [(0, 0)] * (a.ndim - 1) + [(0, size - a.shape[-1])]
    return np.pad(a, width, constant_values=value)


def metric_inputs(y_index: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> MetricInputs:
    """Per-case ingredients from class indices ``(n,)`` and probabilities ``(n, K)``, padded
    to :func:`padded_size` cases (padding must get weight 0)."""
    proba = np.asarray(proba, dtype=np.float64)
    n, K = proba.shape
    size = padded_size(n)
    rows = np.arange(n)
    eps = np.finfo(np.float64).eps
    onehot = np.zeros((n, K))
    onehot[rows, y_index] = 1.0
    brier = ((proba - onehot) ** 2).sum(axis=1) * (0.5 if K == 2 else 1.0)
    scores = proba[:, 1:2].T if K == 2 else proba.T  # (C, n)
    positive = (y_index[None, :] == (np.array([1]) if K == 2 else np.arange(K))[:, None]).astype(float)
    group = np.stack([np.unique(s, return_inverse=True)[1] for s in scores])
    score, target = calibration_scores(y_index, proba)
    dtype = float_dtype()
    return MetricInputs(
        correct=jnp.asarray(_pad(proba.argmax(axis=1) == y_index, size), dtype),
        nll=jnp.asarray(_pad(-np.log(np.clip(proba[rows, y_index], eps, 1 - eps)), size), dtype),
        brier=jnp.asarray(_pad(brier, size), dtype),
        auc_positive=jnp.asarray(_pad(positive, size), dtype),
        auc_group=jnp.asarray(_pad(group, size), jnp.int32),
        ece_bin=jnp.asarray(_pad(calibration_bins(score, n_bins), size), jnp.int32),
        ece_residual=jnp.asarray(_pad(target - score, size), dtype),
    )


def _auc(w, positive, group):
    """Weighted Mann-Whitney AUC of one problem; groups are ascending distinct scores."""
    n = w.shape[0]
    pos = jax.ops.segment_sum(w * positive, group, num_segments=n)
    neg = jax.ops.segment_sum(w * (1 - positive), group, num_segments=n)
    below = jnp.cumsum(neg) - neg
    return jnp.sum(pos * (below + 0.5 * neg)) / (jnp.sum(pos) * jnp.sum(neg))


def weighted_metrics(inputs: MetricInputs, w: jax.Array, n_bins: int) -> jax.Array:
    """The five metrics (order of :data:`METRICS`) under case weights ``w`` (n,)."""
    total = jnp.sum(w)
    auc = jnp.mean(jax.vmap(_auc, in_axes=(None, 0, 0))(w, inputs.auc_positive, inputs.auc_group))
    gaps = jax.ops.segment_sum(w * inputs.ece_residual, inputs.ece_bin, num_segments=n_bins)
    return jnp.stack(
        [
            jnp.sum(w * inputs.correct) / total,
            jnp.sum(w * inputs.nll) / total,
            jnp.sum(w * inputs.brier) / total,
            auc,
            jnp.sum(jnp.abs(gaps)) / total,
        ]
    )


_weighted_metrics_jit = jax.jit(weighted_metrics, static_argnames=("n_bins",))


def check_probabilities(name: str, proba, n_rows: int, n_classes: int) -> np.ndarray:
    """Validate a probability matrix ``(n_rows, n_classes)`` with rows summing to one."""
    arr = np.asarray(proba, dtype=np.float64)
    if arr.shape != (n_rows, n_classes):
        raise ValueError(f"`{name}` must have shape ({n_rows}, {n_classes}). Got {arr.shape} instead.")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"`{name}` must hold probabilities in [0, 1] (no NaN).")
    worst = np.abs(arr.sum(axis=1) - 1).max()
    if worst > 1e-4:
        raise ValueError(f"Rows of `{name}` must sum to 1; the worst is off by {worst:.3g}.")
    return arr


def check_labels(y_true, classes: np.ndarray) -> np.ndarray:
    """Class indices of ``y_true`` in ``classes``; every class must occur."""
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise ValueError(f"`y_true` must be 1-D. Got shape {y.shape} instead.")
    index = {c: k for k, c in enumerate(np.asarray(classes).tolist())}
    values = y.tolist()
    unknown = sorted({str(v) for v in values if v not in index})
    if unknown:
        raise ValueError(f"`y_true` has labels {unknown} that are not among the classes {list(classes)}.")
    y_index = np.array([index[v] for v in values], dtype=np.int64)
    counts = np.bincount(y_index, minlength=len(classes))
    if counts.min() == 0:
        raise ValueError(
            f"Class {classes[counts.argmin()]!r} does not occur in `y_true`; the ROC AUC (one "
            "vs rest) needs every class in the evaluation data."
        )
    return y_index


def evaluate(y_true, proba, classes=None, *, sample_weight=None, n_bins: int = 10) -> dict:
    """The five held-out metrics of one model.

    Parameters
    ----------
    y_true : array (n,)
        Class labels.
    proba : array (n, K)
        Predicted probabilities, columns in the order of ``classes``.
    classes : array (K,), optional
        Class labels of the columns (default: the sorted unique labels of ``y_true``).
    sample_weight : array (n,), optional
        Case weights (non-negative).
    n_bins : int
        Bins of the calibration error.

    Returns
    -------
    dict metric -> float (keys :data:`METRICS`).
    """
    classes = np.unique(np.asarray(y_true)) if classes is None else np.asarray(classes)
    y_index = check_labels(y_true, classes)
    proba = check_probabilities("proba", proba, len(y_index), len(classes))
    w = np.ones(len(y_index)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if w.shape != y_index.shape or w.min() < 0:
        raise ValueError(f"`sample_weight` must be non-negative with shape {y_index.shape}.")
    w = _pad(w, padded_size(len(w)))
    values = _weighted_metrics_jit(metric_inputs(y_index, proba, n_bins), jnp.asarray(w, float_dtype()), n_bins=n_bins)
    return dict(zip(METRICS, np.asarray(values, dtype=float).tolist()))


def calibration_table(y_index: np.ndarray, proba: np.ndarray, n_bins: int = 10):
    """Reliability table of one model: per non-empty bin, mean score, observed frequency and
    count (the same score, target and bins as the calibration error)."""
    import pandas as pd

    score, target = calibration_scores(y_index, proba)
    b = calibration_bins(score, n_bins)
    count = np.bincount(b, minlength=n_bins)
    keep = count > 0
    mean_score = np.bincount(b, score, n_bins)[keep] / count[keep]
    observed = np.bincount(b, target, n_bins)[keep] / count[keep]
    return pd.DataFrame(
        {"bin": np.flatnonzero(keep), "mean_predicted": mean_score, "observed": observed, "count": count[keep]}
    )
