"""Paired, class-stratified bootstrap of metric differences between two models (JAX).

Resampling is of *cases*: one resample draws n cases with replacement and both models are
scored on the same draw, so the interval for ``metric(A) - metric(B)`` keeps the pairing
(the two models' errors on a case are correlated; an unpaired bootstrap would ignore that
and give intervals too wide). Draws are stratified by the true class -- each class keeps its
count, as pROC does for AUC -- so every resample has every class and the AUC is defined.

A resample is a vector of counts ``w`` (n,), and each metric is a weighted sum over cases
(:mod:`shallownet.baselines.metrics`), so one compiled function scores chunks of resamples
with ``vmap``; chunks of resamples run one after another through the same compiled
function (memory bounded by the chunk; the last chunk is padded to the same shape and the
padding dropped). Resample b uses the key ``fold_in(key, b)``, so results do not depend on
the chunk size.

The percentile interval treats the fitted models as fixed: it measures the uncertainty
from the finite test set, not from training (see :func:`compare_cv` for that).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .metrics import MetricInputs, weighted_metrics

_CHUNK_BUDGET = 4_000_000  # floats per chunk: chunk * n * (one-vs-rest problems + 4)


@partial(jax.jit, static_argnames=("chunk", "n_bins"))
def _bootstrap_chunk(key, start, inputs: MetricInputs, order, base, size, valid, *, chunk: int, n_bins: int):
    """Metrics of every model on resamples ``start .. start + chunk - 1``: (chunk, M, metrics)."""
    n = order.shape[0]
    dtype = inputs.nll.dtype

    def one(b):
        k = jax.random.fold_in(key, b)
        offset = jax.random.randint(k, (n,), 0, size)
        w = jnp.zeros((n,), dtype).at[order[base + offset]].add(valid.astype(dtype))
        return jax.vmap(weighted_metrics, in_axes=(0, None, None))(inputs, w, n_bins)

    return jax.vmap(one)(start + jnp.arange(chunk))


@partial(jax.jit, static_argnames=("n_bins",))
def _point(inputs: MetricInputs, w, *, n_bins: int):
    return jax.vmap(weighted_metrics, in_axes=(0, None, None))(inputs, w, n_bins)


def point_metrics(inputs: MetricInputs, n: int, n_bins: int) -> np.ndarray:
    """Metrics of stacked models on the n real cases (weight 1; padding 0): (M, metrics)."""
    size = inputs.nll.shape[-1]
    w = (jnp.arange(size) < n).astype(inputs.nll.dtype)
    return np.asarray(_point(inputs, w, n_bins=n_bins), dtype=float)


def strata(y_index: np.ndarray, size: int | None = None):
    """Stratification arrays for n cases padded to ``size`` positions (default n).

    ``order`` lists the cases sorted by class (then the padding); for every position i of a
    resample, ``base_i`` and ``size_i`` are the start and size of the class of case i in
    ``order``, and ``valid_i`` is 0 for padding (a padded position draws nothing).
    """
    n = len(y_index)
    size = n if size is None else size
    order = np.concatenate([np.argsort(y_index, kind="stable"), np.arange(n, size)])
    counts = np.bincount(y_index)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pad = np.zeros(size - n, dtype=int)
    base = np.concatenate([starts[y_index], pad])
    sizes = np.concatenate([counts[y_index], pad + 1])
    valid = np.concatenate([np.ones(n), pad]).astype(bool)
    return order, base, sizes, valid


def paired_bootstrap(
    inputs: MetricInputs, y_index: np.ndarray, n_bootstrap: int, key: jax.Array, n_bins: int
) -> np.ndarray:
    """Bootstrap metrics of stacked models.

    Parameters
    ----------
    inputs : MetricInputs with a leading model axis (M, ...), padded (see metrics)
    y_index : int array (n,)
        True classes (the strata) of the n real cases.
    n_bootstrap : int
        Resamples B.
    key : PRNG key
    n_bins : int
        Calibration bins.

    Returns
    -------
    ndarray (B, M, n_metrics)
    """
    n = inputs.nll.shape[-1]  # padded length
    width = inputs.auc_positive.shape[-2] + 4
    chunk = int(max(1, min(n_bootstrap, _CHUNK_BUDGET // (n * width))))
    n_chunks = -(-n_bootstrap // chunk)
    order, base, size, valid = (jnp.asarray(a) for a in strata(y_index, n))
    order, base, size = (a.astype(jnp.int32) for a in (order, base, size))
    out = [
        np.asarray(
            _bootstrap_chunk(key, c * chunk, inputs, order, base, size, valid, chunk=chunk, n_bins=n_bins),
            dtype=float,
        )
        for c in range(n_chunks)
    ]
    return np.concatenate(out)[:n_bootstrap]


def stack_inputs(*inputs: MetricInputs) -> MetricInputs:
    """Stack per-model inputs along a new leading model axis."""
    return jax.tree_util.tree_map(lambda *a: jnp.stack(a), *inputs)


def percentile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0."""
    lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


__all__ = ["paired_bootstrap", "point_metrics", "stack_inputs", "percentile_interval", "strata"]
