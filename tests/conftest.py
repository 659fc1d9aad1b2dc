"""Strict settings for the whole suite.

* 64-bit JAX is on, so tests can ask for float64 where a tolerance demands it; the library
  casts to its own dtype (float32 by default) explicitly, so the float32 path is exercised too.
* Implicit rank promotion raises.
* The commands' persistent compilation cache is off.
* A test that touches NumPy's global random state fails (use explicit Generators).
* JAX's compiled executables are dropped after each test module: in one long process
  (CI runs some 700 tests) XLA's CPU compiler segfaulted after about 250 tests had
  compiled their kernels, while test_training.py, where it crashed, passes on its own.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
# JAX's persistent cache is process-wide once a command turns it on; keep it off in tests
os.environ["SHALLOWNET_CACHE_DIR"] = "off"

import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared")


@pytest.fixture(autouse=True)
def _no_global_numpy_random_state():
    state = np.random.get_state()[1].copy()
    yield
    assert np.array_equal(np.random.get_state()[1], state), (
        "The test touched NumPy's global random state; use np.random.default_rng(seed)."
    )


@pytest.fixture(autouse=True, scope="module")
def _fresh_jax_caches_per_module():
    yield
    jax.clear_caches()


@pytest.fixture(scope="session")
def shared_dir():
    """Path to ../shared (reference data); tests that need it skip with a reason if absent."""
    path = os.path.abspath(SHARED)
    if not os.path.isdir(path):
        pytest.skip(f"reference data folder {path} is absent")
    return path
