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

from .metrics import MetricInputs, float_dtype, weighted_metrics

_CHUNK_BUDGET = 4_000_000  # floats per chunk: chunk * n * (one-vs-rest problems + 4)


@partial(jax.jit, static_argnames=("chunk", "n_bins"))
def _bootstrap_chunk(key, start, inputs: MetricInputs, order, base, size, *, chunk: int, n_bins: int):
    """Metrics of every model on resamples ``start .. start + chunk - 1``: (chunk, M, metrics)."""
    n = order.shape[0]
    dtype = inputs.nll.dtype

    def one(b):
        k = jax.random.fold_in(key, b)
        offset = jax.random.randint(k, (n,), 0, size)
        w = jnp.zeros((n,), dtype).at[order[base + offset]].add(1.0)
        return jax.vmap(weighted_metrics, in_axes=(0, None, None))(inputs, w, n_bins)

    return jax.vmap(one)(start + jnp.arange(chunk))


def strata(y_index: np.ndarray):
    """Stratification arrays: ``order`` (cases sorted by class), and for every position i of
    a resample the start ``base_i`` and size ``size_i`` of the class of case i in ``order``."""
    order = np.argsort(y_index, kind="stable")
    counts = np.bincount(y_index)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return order, starts[y_index], counts[y_index]


def paired_bootstrap(
    inputs: MetricInputs, y_index: np.ndarray, n_bootstrap: int, key: jax.Array, n_bins: int
) -> np.ndarray:
    """Bootstrap metrics of stacked models.

    Parameters
    ----------
    inputs : MetricInputs with a leading model axis (M, ...)
    y_index : int array (n,)
        True classes (the strata).
    n_bootstrap : int
        Resamples B.
    key : PRNG key
    n_bins : int
        Calibration bins.

    Returns
    -------
    ndarray (B, M, n_metrics)
    """
    n = len(y_index)
    width = inputs.auc_positive.shape[-2] + 4
    chunk = int(max(1, min(n_bootstrap, _CHUNK_BUDGET // (n * width))))
    n_chunks = -(-n_bootstrap // chunk)
    order, base, size = (jnp.asarray(a, jnp.int32) for a in strata(y_index))
    out = [
        np.asarray(
            _bootstrap_chunk(key, c * chunk, inputs, order, base, size, chunk=chunk, n_bins=n_bins),
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


__all__ = ["paired_bootstrap", "stack_inputs", "percentile_interval", "strata", "float_dtype"]
