"""Every matrix product in the compiled code asks for full float32 precision.

JAX's default lets recent NVIDIA GPUs compute float32 products with TensorFloat-32 (a 10-bit
mantissa); ``shallownet.models.layers.PRECISION`` asks for HIGHEST instead. CPUs compute in
float32 either way, so the check is on the lowered programs: every ``dot_general`` in them,
forward and backward, must carry ``precision = [HIGHEST, HIGHEST]``.
"""

import jax
import jax.numpy as jnp
import numpy as np

from shallownet.information.estimators import KDE, estimate_layer
from shallownet.interpret.flips import influence_chunk
from shallownet.interpret.sensitivity import jacobian_chunk
from shallownet.models.network import Network
from shallownet.training.epochs import member_loss


def dots(lowered) -> list[str]:
    lines = [ln for ln in lowered.as_text().splitlines() if "dot_general" in ln]
    assert lines, "no matrix product in this program"
    return lines


def assert_highest(lowered):
    loose = [ln.strip() for ln in dots(lowered) if "precision = [HIGHEST, HIGHEST]" not in ln]
    assert not loose, loose


def network(hidden=(4, 3)):
    rng = np.random.default_rng(0)
    sizes = (5, *hidden, 3)
    return Network.from_weights(
        [rng.normal(size=(a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])],
        [np.zeros(b, np.float32) for b in sizes[1:]], activation="tanh",
    )


def test_training_loss_and_gradient_use_full_precision():
    net = network()
    params = jax.tree_util.tree_map(lambda a: a[0], net.params)
    x = jnp.ones((8, 5), jnp.float32)
    y = jnp.zeros(8, jnp.int32)
    w = jnp.ones(8, jnp.float32)
    grad = jax.jit(jax.grad(member_loss), static_argnames=("activation", "output"))
    assert_highest(grad.lower(params, x, y, w, 0.01, activation="tanh", output="softmax"))


def test_influence_and_sensitivity_kernels_use_full_precision():
    net = network()
    x = jnp.ones((6, 5), jnp.float32)
    cols = jnp.asarray([2])
    cand = jnp.linspace(0, 1, 7, dtype=jnp.float32)[:, None]
    masses = jnp.full((6, 7, 2), 1 / 7, jnp.float32)
    assert_highest(influence_chunk.lower(net.params, x, cols, cand, masses,
                                         activation="tanh", output="softmax"))
    assert_highest(jacobian_chunk.lower(net.params, x, activation="tanh", output="softmax"))


def test_kde_distances_use_full_precision():
    T = jnp.ones((40, 3), jnp.float32)
    y = jnp.zeros(40, jnp.int32)
    lowered = estimate_layer.lower(T, y, jnp.ones((40, 2), jnp.float32), jax.random.PRNGKey(0), KDE(),
                                   n_classes=2)
    assert_highest(lowered)
