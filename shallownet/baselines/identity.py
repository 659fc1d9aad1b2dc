"""The zero-hidden-layer identity: a network without hidden layers IS logistic regression.

With no hidden layer the network's logits are ``z = b + x W``. For a single sigmoid unit
``P(class 1) = sigmoid(z)``: binary logistic regression on all encoded columns. For a softmax
over K units ``P(k) = exp(z_k) / sum_l exp(z_l)``: multinomial logistic regression, written
over-parameterised (adding a vector to every column of W changes nothing: the softmax
shift). Two more redundancies separate it from the identifiable logistic model:

* softmax shift -- contrasts against the base class, ``beta_k = [b_k - b_0; W_k - W_0]``;
* one-hot shift -- within an enumerated group only differences from the reference column
  matter; the constant absorbs the reference weight (:meth:`Design.from_full`).

After both, the trained network's parameters are the logistic-regression coefficients, and
when it was trained to convergence without penalty they are the maximum-likelihood estimates.
Their covariance is the inverse Hessian of the network's own loss at the fitted parameters,
``Cov = (n H)^-1`` with ``H`` the Hessian of the mean negative log-likelihood in the
identifiable parameters, computed with ``jax.hessian`` through the network's forward pass
(:func:`shallownet.models.layers.logits`).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_float
from ..models.adapters import as_network
from ..models.layers import Dense, log_probabilities, logits
from .coefficients import CoefficientTable
from .design import build_design


@partial(jax.jit, static_argnames=("output", "activation"))
def _mean_nll_hessian(theta, E, x, y, *, output: str, activation: str):
    """Hessian of the mean NLL in the design parametrisation.

    ``theta`` (p, K-1) are design coefficients; ``E`` (1 + D, p) embeds them back into the
    network's full parametrisation (constant row first; reference columns get zero weight);
    the base class gets a zero column for a softmax output.
    """

    def mean_nll(th):
        full = E @ th  # (1 + D, K - 1)
        if output == "softmax":
            full = jnp.concatenate([jnp.zeros((full.shape[0], 1), full.dtype), full], axis=1)
        params = (Dense(full[1:], full[0]),)
        lp = log_probabilities(logits(params, x, activation), output)
        return -jnp.mean(jnp.take_along_axis(lp, y[:, None], axis=1))

    return jax.hessian(mean_nll)(theta)


def network_as_logistic(
    model: Any,
    X: Any,
    y: Any,
    *,
    reference: Mapping[str, Any] | None = None,
    member: int = 0,
    level: float = 0.95,
    encoded: bool = False,
) -> CoefficientTable:
    """Read a zero-hidden-layer network as a logistic regression, with Hessian errors.

    Parameters
    ----------
    model : ShallowNetClassifier, Network or MLPClassifier
        A network WITHOUT hidden layers (``hidden_layer_sizes=()``).
    X, y : data the network was trained on (raw, or encoded with ``encoded=True``)
        Used for the Hessian; the coefficients come from the weights alone.
    reference : dict, optional
        Reference categories, as in :func:`fit_logistic`.
    member : int
        Which ensemble member to read.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    CoefficientTable
        Same layout as ``fit_logistic(...).coefficients``; ``cov_type="network hessian"``.
        Standard errors are meaningful only when the network was trained to the optimum of
        the unpenalised likelihood (``alpha=0``, to convergence); the Hessian is evaluated in
        the network's dtype.
    """
    net = as_network(model)
    if net.hidden_sizes:
        raise ValueError(
            f"`model` has hidden layers {net.hidden_sizes}; the logistic-regression identity "
            "holds only for a network without hidden layers (hidden_layer_sizes=())."
        )
    level = check_float("level", level, 0.0, 1.0, open_min=True, open_max=True)
    sub = net.member(member)
    Z = net.encode(X) if not encoded else np.asarray(X, dtype=float)
    y_arr = np.asarray(y)
    index = {c: k for k, c in enumerate(net.classes.tolist())}
    unknown = sorted({str(v) for v in y_arr.tolist() if v not in index})
    if unknown:
        raise ValueError(f"`y` has labels {unknown} that are not among the network's classes {list(net.classes)}.")
    y_index = np.array([index[v] for v in y_arr.tolist()], dtype=np.int32)
    if len(y_index) != Z.shape[0]:
        raise ValueError(f"`X` has {Z.shape[0]} rows but `y` has {len(y_index)}.")

    design = build_design(net.variables, reference)
    W = np.asarray(sub.params[0].W[0], dtype=float)  # (D, n_out)
    b = np.asarray(sub.params[0].b[0], dtype=float)  # (n_out,)
    full = np.vstack([b[None, :], W])  # (1 + D, n_out)
    if net.output == "softmax":
        full = full[:, 1:] - full[:, :1]  # contrasts against class 0
    T = design.from_full()
    params = T @ full  # (p, K - 1)

    E = np.zeros((T.shape[1], T.shape[0]))
    E[0, 0] = 1.0
    for j, col in enumerate(design.encoded[1:], start=1):
        E[1 + col, j] = 1.0
    dtype = sub.params[0].W.dtype
    H = _mean_nll_hessian(
        jnp.asarray(params, dtype), jnp.asarray(E, dtype), jnp.asarray(Z, dtype),
        jnp.asarray(y_index), output=net.output, activation=net.activation,
    )
    p, C = params.shape
    # Hessian axes (p, C, p, C) -> flatten contrast-major to match CoefficientTable.cov.
    H = np.asarray(H, dtype=float).transpose(1, 0, 3, 2).reshape(p * C, p * C)
    cov = np.linalg.inv(H) / len(y_index)
    return CoefficientTable(
        design, np.asarray(net.classes), params, cov, "network hessian", level, len(y_index),
        source="zero-hidden-layer network",
    )
