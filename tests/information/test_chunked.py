"""Row-blocked mutual-information estimators at large N.

Oracle: the same estimator without blocks. Binning builds the same integer sort keys block by
block, so the entropies must be exactly equal; KDE sums the same row terms, so it agrees to
float64 rounding (1e-12). The blocks run inside one compiled ``lax.map``: no recompilation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from shallownet.information.estimators import KDE, Binning, estimate_layer
from shallownet.information.information_plane import _plan


def layer(n=301, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    T = jnp.asarray(np.tanh(rng.normal(size=(n, d)) * 1.5))
    y = jnp.asarray(rng.integers(0, k, n), jnp.int32)
    return T, y


def estimate(T, y, est, k=3):
    out = estimate_layer(T, y, T, jax.random.PRNGKey(0), est, n_classes=k)
    return {name: float(v) for name, v in out.items()}


@pytest.mark.parametrize("rule, d", [("original", 5), ("original", 12), ("fixed", 4), ("adaptive", 7)])
def test_binning_in_row_blocks_equals_one_pass(rule, d):
    T, y = layer(d=d)
    whole = estimate(T, y, Binning(rule=rule, block_size=None))
    assert 0 < whole["I_TY"] < whole["I_XT"]
    for block in (1, 7, 64, 1000):
        assert estimate(T, y, Binning(rule=rule, block_size=block)) == whole


def test_binning_blocks_compile_once():
    T, y = layer()
    est = Binning(rule="fixed", block_size=16)
    estimate(T, y, est)
    size = estimate_layer._cache_size()
    T2, y2 = layer(seed=1)
    estimate(T2, y2, Binning(rule="fixed", width=0.2, block_size=16))  # new data and width
    assert estimate_layer._cache_size() == size


def test_kde_in_row_blocks_equals_one_block():
    T, y = layer(n=203, d=3)
    whole = estimate(T, y, KDE(noise_variance=0.05, block_size=203))
    for block in (1, 10, 64):
        got = estimate(T, y, KDE(noise_variance=0.05, block_size=block))
        assert got.keys() == whole.keys()
        for name in whole:
            assert got[name] == pytest.approx(whole[name], abs=1e-12)


def test_memory_plan_shrinks_the_binning_block_under_a_small_budget():
    n, widths = 100_000, (20, 3)
    big = Binning(rule="adaptive")
    _, roomy = _plan(big, n, widths, 20, 1, 1, 2**32)
    assert roomy.block_size == big.block_size
    budget = sum(4 * n * w * 3 + Binning(rule="adaptive", block_size=1).working_bytes(n, w, 20)
                 for w in widths) + 2**20
    _, tight = _plan(big, n, widths, 20, 1, 1, budget)
    assert 1 <= tight.block_size < big.block_size
    cost = sum(4 * n * w * 3 + tight.working_bytes(n, w, 20) for w in widths)
    assert cost <= budget


def test_bad_block_size_is_refused():
    with pytest.raises(ValueError, match="`block_size` must be >= 1"):
        Binning(block_size=0)
