"""Parameters as a pytree of dense layers, activations, and the forward pass.

A network is a tuple of :class:`Dense` layers. ``W`` has shape ``(n_in, n_out)`` (as in
scikit-learn's ``coefs_``), so a layer computes ``a = x @ W + b``. Every function here works on
ONE network; an ensemble is the same pytree with a leading member axis on every array, and
batching over members is ``jax.vmap`` at the call site.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp

PRECISION = jax.lax.Precision.HIGHEST
"""Precision of every matrix product in shallownet's compiled code: float32 products are
computed in float32 on every backend. JAX's default lets recent NVIDIA GPUs use TensorFloat-32
(a 10-bit mantissa) for float32 products; on an H200 our float32 partial derivatives then
differed from a float64 NumPy loop by 0.0096, against 2.3e-6 on a CPU
(``benchmarks/results/h200/influence.json``). CPUs compute in float32 either way."""

ACTIVATIONS = ("logistic", "tanh", "relu", "identity")
OUTPUTS = ("softmax", "sigmoid", "linear")
CLASS_OUTPUTS = ("softmax", "sigmoid")
"""Outputs that make a classifier; ``"linear"`` makes a regression network (its outputs are
the predictions themselves, one unit per target)."""


class Dense(NamedTuple):
    """One dense layer: ``W`` of shape ``(n_in, n_out)`` and bias ``b`` of shape ``(n_out,)``."""

    W: jax.Array
    b: jax.Array


Params = tuple  # tuple[Dense, ...]


def affine(x: jax.Array, layer: Dense) -> jax.Array:
    """``x @ W + b`` for ``x`` of shape ``(..., n_in)`` (the bias broadcast explicitly)."""
    bias = layer.b.reshape((1,) * (x.ndim - 1) + layer.b.shape)
    return jnp.matmul(x, layer.W, precision=PRECISION) + bias


def activate(a: jax.Array, activation: str) -> jax.Array:
    """Apply a hidden-layer activation: logistic ``1/(1+e^-a)``, tanh, relu ``max(a, 0)``, identity."""
    if activation == "logistic":
        return jax.nn.sigmoid(a)
    if activation == "tanh":
        return jnp.tanh(a)
    if activation == "relu":
        return jnp.maximum(a, 0)
    if activation == "identity":
        return a
    raise ValueError(f"`activation` must be one of {ACTIVATIONS}. Got {activation!r} instead.")


def logits(params: Params, x: jax.Array, activation: str) -> jax.Array:
    """Output-layer pre-activations ``z`` for inputs ``x`` of shape ``(..., n_in)``."""
    h = x
    for layer in params[:-1]:
        h = activate(affine(h, layer), activation)
    return affine(h, params[-1])


def layer_outputs(params: Params, x: jax.Array, activation: str, output: str) -> list[jax.Array]:
    """Every layer's output: the hidden activations, then the output probabilities.

    The output layer's entry holds the probabilities (softmax, or the sigmoid of the single
    unit), which is the layer "T" of the information plane; for a linear output, the
    predictions ``z`` themselves.
    """
    outs = []
    h = x
    for layer in params[:-1]:
        h = activate(affine(h, layer), activation)
        outs.append(h)
    z = affine(h, params[-1])
    outs.append(output_values(z, output) if output != "sigmoid" else jax.nn.sigmoid(z))
    return outs


def output_values(z: jax.Array, output: str) -> jax.Array:
    """What the network reports from its logits ``z`` (..., n_out): class probabilities
    ``(..., K)`` (softmax; a single sigmoid unit gives ``[1 - p, p]``), or for a linear output
    the predictions ``z`` unchanged (one column per target)."""
    if output == "linear":
        return z
    if output == "softmax":
        return jax.nn.softmax(z, axis=-1)
    p = jax.nn.sigmoid(z[..., 0])
    return jnp.stack([1 - p, p], axis=-1)


def probabilities(params: Params, x: jax.Array, activation: str, output: str) -> jax.Array:
    """Class probabilities, shape ``(..., K)``; a single sigmoid unit gives ``[1 - p, p]``; a
    linear output gives its predictions ``(..., n_out)`` (:func:`output_values`)."""
    return output_values(logits(params, x, activation), output)


def log_probabilities(z: jax.Array, output: str) -> jax.Array:
    """Log class probabilities from logits, computed stably; shape ``(..., K)``."""
    if output == "softmax":
        return jax.nn.log_softmax(z, axis=-1)
    return jnp.stack([jax.nn.log_sigmoid(-z[..., 0]), jax.nn.log_sigmoid(z[..., 0])], axis=-1)


def init_params(key: jax.Array, sizes: Sequence[int], activation: str, dtype=jnp.float32) -> Params:
    """Glorot-uniform weights and zero biases for layer sizes ``(n_in, h1, ..., n_out)``.

    The bound is ``sqrt(6 / (fan_in + fan_out))``, times ``sqrt(2)`` for logistic units, as
    scikit-learn's MLP does, so that training starts in the same regime.
    """
    gain = jnp.sqrt(2.0) if activation == "logistic" else 1.0
    layers = []
    keys = jax.random.split(key, len(sizes) - 1)
    for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
        bound = gain * jnp.sqrt(6.0 / (n_in + n_out))
        W = jax.random.uniform(k, (n_in, n_out), dtype=dtype, minval=-bound, maxval=bound)
        layers.append(Dense(W, jnp.zeros((n_out,), dtype=dtype)))
    return tuple(layers)


@partial(jax.jit, static_argnames=("sizes", "activation", "dtype"))
def init_members(keys: jax.Array, sizes: tuple[int, ...], activation: str, dtype=jnp.float32) -> Params:
    """:func:`init_params` for every key in ``keys`` (shape ``(M, 2)``): member-stacked
    parameters, in one compiled region."""
    return jax.vmap(lambda k: init_params(k, sizes, activation, dtype))(keys)


def init_truncated_normal(key: jax.Array, sizes: Sequence[int], dtype=jnp.float32) -> Params:
    """Truncated-normal weights (sd ``1/sqrt(fan_in)``, cut at 2 sd) and zero biases.

    The initialisation of the information-bottleneck experiments (methods.md section 5).
    """
    layers = []
    keys = jax.random.split(key, len(sizes) - 1)
    for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
        W = jax.random.truncated_normal(k, -2.0, 2.0, (n_in, n_out), dtype=dtype) / jnp.sqrt(n_in)
        layers.append(Dense(W.astype(dtype), jnp.zeros((n_out,), dtype=dtype)))
    return tuple(layers)
