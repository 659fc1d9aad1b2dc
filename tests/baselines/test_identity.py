"""The zero-hidden-layer identity: a network without hidden layers, trained without penalty
to convergence, reproduces statsmodels' estimates (to 1e-5) and, through the Hessian of its
own loss, statsmodels' standard errors.

Training: full batch (one Adam step per epoch), alpha = 0, float64, learning rate 0.05,
3000 epochs, no early stop. On these data Adam reaches the optimum to ~1e-13 (measured:
max coefficient error 4e-15 binary, 2e-15 multinomial), far inside the 1e-5 asked for, so
the tolerance is not loosened to fit the optimiser.
"""

import jax
import numpy as np
import pytest
import statsmodels.api as sm

import shallownet as sn
from shallownet.baselines import fit_logistic, network_as_logistic
from shallownet.baselines.design import build_design

from ._data import manual_design

def zero_hidden(X, y):
    """Full-batch L-BFGS to a gradient of 1e-9 (no relative-decrease stop): the MLE."""
    return sn.ShallowNetClassifier(
        hidden_layer_sizes=(), alpha=0.0, dtype="float64", optimizer="lbfgs", max_iter=1000,
        gtol=1e-9, ftol=0.0, random_state=0,
    ).fit(X, y)


@pytest.mark.parametrize("data", ["binary_data", "multiclass_data"])
def test_zero_hidden_network_is_logistic_regression(data, request):
    X, y = request.getfixturevalue(data)
    clf = zero_hidden(X, y)
    net_table = network_as_logistic(clf, X, y)
    model = sm.Logit if len(np.unique(y)) == 2 else sm.MNLogit
    oracle = model(y, manual_design(X)).fit(disp=0, tol=1e-12, maxiter=100)
    params = np.asarray(oracle.params).reshape(net_table.params.shape)
    bse = np.asarray(oracle.bse).reshape(net_table.params.shape)
    np.testing.assert_allclose(net_table.params, params, rtol=0, atol=1e-5)
    np.testing.assert_allclose(net_table.bse, bse, rtol=1e-5)
    # The same through fit_logistic on the network's own encoder, table for table.
    lr = fit_logistic(X, y, encoder=clf.encoder_, Cs=2, cv=3).coefficients
    a, b = net_table.to_frame(), lr.to_frame()
    assert list(a["column"]) == list(b["column"])
    np.testing.assert_allclose(a["coef"], b["coef"], atol=1e-5)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-5)
    assert net_table.cov_type == "network hessian"


def test_full_to_design_map_preserves_the_linear_predictor(binary_data):
    """Invariance oracle: b + Z w == D (T [b; w]) for ANY full-encoding parameters."""
    X, _ = binary_data
    enc = sn.Encoder().fit(X)
    Z = enc.transform(X)
    rng = np.random.default_rng(0)
    design = build_design(enc.variables_, {"g": "v"})
    full = rng.normal(size=(1 + Z.shape[1], 2))
    eta_full = full[0] + Z @ full[1:]
    np.testing.assert_allclose(design.matrix(Z) @ (design.from_full() @ full), eta_full, atol=1e-12)


def test_hidden_layers_are_refused():
    net = sn.Network.from_weights([np.ones((2, 3)), np.ones((3, 1))], [np.zeros(3), np.zeros(1)])
    with pytest.raises(ValueError, match="holds only for a network without hidden layers"):
        network_as_logistic(net, np.zeros((4, 2)), np.array([0, 1, 0, 1]))


def test_raw_weights_view_and_unknown_labels():
    """A Network built from raw weights (inputs already scaled) reads the same way."""
    W = np.array([[1.5], [-2.0]])
    b = np.array([0.25])
    net = sn.Network.from_weights([W], [b], output="sigmoid")
    rng = np.random.default_rng(1)
    Z = rng.uniform(size=(200, 2))
    y = (rng.uniform(size=200) < 0.5).astype(int)
    table = network_as_logistic(net, Z, y)
    np.testing.assert_allclose(table.params[:, 0], [0.25, 1.5, -2.0])
    # Hessian oracle: the logistic information matrix sum p(1-p) d d'.
    D = np.column_stack([np.ones(200), Z])
    p = 1 / (1 + np.exp(-D @ table.params[:, 0]))
    info = D.T @ (D * (p * (1 - p))[:, None])
    np.testing.assert_allclose(table.cov, np.linalg.inv(info), rtol=1e-8 if jax.config.jax_enable_x64 else 1e-4)
    with pytest.raises(ValueError, match="not among the network's classes"):
        network_as_logistic(net, Z, y + 5)


def test_connection_weights_collapse_to_coefficients():
    """Identity hidden units: logits are x (W1 V) + (b1 V + c), so the network equals the
    logistic regression with coefficients W1 V (Olden's products summed over hidden units).
    Logistic hidden units with small weights: s(a) ~ 1/2 + a/4, coefficients ~ W1 V / 4."""
    rng = np.random.default_rng(2)
    W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=4)
    V, c = rng.normal(size=(4, 1)), rng.normal(size=1)
    Z = rng.uniform(size=(50, 3))
    linear = sn.Network.from_weights([W1, V], [b1, c], activation="identity")
    collapsed = sn.Network.from_weights([W1 @ V], [b1 @ V + c])
    np.testing.assert_allclose(linear.predict_proba(Z), collapsed.predict_proba(Z), rtol=1e-10)
    y = rng.integers(0, 2, 50)
    table = network_as_logistic(collapsed, Z, y)
    np.testing.assert_allclose(table.params[1:, 0], (W1 @ V)[:, 0])

    eps = 1e-3
    small = sn.Network.from_weights([eps * W1, V], [eps * b1, c], activation="logistic")
    approx = sn.Network.from_weights([eps * W1 @ V / 4], [V.sum(axis=0) / 2 + eps * b1 @ V / 4 + c])
    gap = np.abs(small.predict_proba(Z) - approx.predict_proba(Z)).max()
    assert gap < 1e-6  # the next term of the logistic is cubic in eps
