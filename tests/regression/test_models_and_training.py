"""Linear-output networks: the view, the MLPRegressor adapter, files, the squared-error loss
and the training loop (in-device and streamed), with OLS as the oracle."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

import shallownet as sn
from shallownet.baselines.design import build_design
from shallownet.data.encoder import Encoder
from shallownet.models.layers import init_members
from shallownet.training.epochs import member_loss
from shallownet.training.loop import named_optimizer, train

from ._data import simulate


def test_from_weights_linear_output_predicts_the_affine_map():
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)), rng.normal(size=2)
    net = sn.Network.from_weights([W1, W2], [b1, b2], activation="tanh", output="linear")
    x = rng.uniform(size=(7, 3))
    np.testing.assert_allclose(net.predict(x), np.tanh(x @ W1 + b1) @ W2 + b2, rtol=1e-5, atol=1e-5)
    assert list(net.classes) == ["y0", "y1"] and net.is_regression
    one = sn.Network.from_weights([W1, W2[:, :1]], [b1, b2[:1]], activation="tanh", output="linear")
    assert one.predict(x).shape == (7,) and list(one.classes) == ["y"]
    with pytest.raises(AttributeError, match="no predict_proba"):
        one.predict_proba(x)
    with pytest.raises(ValueError, match="must name its 1 target"):
        sn.Network.from_weights([W1, W2[:, :1]], [b1, b2[:1]], output="linear", classes=["a", "b"])
    with pytest.raises(ValueError, match="`output` must be one of"):
        sn.Network.from_weights([W1], [b1], output="poisson")


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_mlp_regressor_adapter_reproduces_predict(hidden, n_targets, activation):
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(80, 4))
    Y = X @ rng.normal(size=(4, n_targets)) + 0.1 * rng.normal(size=(80, n_targets))
    with pytest.warns(ConvergenceWarning):
        mlp = MLPRegressor(hidden_layer_sizes=hidden, activation=activation, max_iter=30,
                           random_state=0).fit(X, Y[:, 0] if n_targets == 1 else Y)
    net = sn.as_network(mlp)
    np.testing.assert_allclose(net.predict(X), mlp.predict(X), atol=1e-6)
    assert net.output == "linear" and net.hidden_sizes == hidden and net.n_outputs == n_targets


def test_linear_network_file_round_trip(tmp_path):
    X, y = simulate(60)
    enc = Encoder().fit(X)
    rng = np.random.default_rng(2)
    net = sn.Network.from_weights([rng.normal(size=(6, 3)), rng.normal(size=(3, 1))],
                                  [rng.normal(size=3), rng.normal(size=1)], output="linear",
                                  variables=enc, classes=["yield"])
    back = sn.load(sn.save(net, tmp_path / "reg"))
    assert back.output == "linear" and list(back.classes) == ["yield"]
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


def test_squared_error_loss_matches_hand_formula_and_mlpregressor_convention():
    rng = np.random.default_rng(3)
    x, Y, w = rng.normal(size=(9, 3)), rng.normal(size=(9, 2)), rng.uniform(size=9)
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    params = (sn.models.Dense(jnp.asarray(W), jnp.asarray(b)),)
    got = member_loss(params, jnp.asarray(x), jnp.asarray(Y), jnp.asarray(w), 0.3, "identity", "linear")
    z = x @ W + b
    want = np.sum(w * ((z - Y) ** 2).mean(axis=1) / 2) / w.sum() + 0.15 * np.sum(W**2)
    np.testing.assert_allclose(float(got), want, rtol=1e-5)
    # scikit-learn's squared_error: ((y - z)^2).mean() / 2 over samples and outputs
    from sklearn.neural_network._base import squared_loss

    got0 = member_loss(params, jnp.asarray(x), jnp.asarray(Y), jnp.ones(9), 0.0, "identity", "linear")
    np.testing.assert_allclose(float(got0), squared_loss(Y, z), rtol=1e-5)


@pytest.fixture
def float64():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("stream", [False, True])
def test_zero_hidden_linear_network_equals_statsmodels_ols(float64, stream):
    """Oracle: statsmodels OLS on the design (constant, reference categories dropped). The
    network's full one-hot coefficients map to the design by Design.from_full. Full-batch
    gradient descent ("sgd", batch N) converges monotonically on this convex quadratic;
    Adam's steps do not shrink near the optimum and wander at about 1e-6."""
    X, y = simulate(300)
    enc = Encoder().fit(X)
    Z = enc.transform(X)
    design = build_design(enc.variables_)
    ols = sm.OLS(y, design.matrix(Z)).fit()
    init = init_members(jax.random.split(jax.random.PRNGKey(0), 1), (Z.shape[1], 1), "identity", jnp.float64)
    params, hist, _ = train(
        init, Z, y, activation="identity", output="linear", optimizer=named_optimizer("sgd"),
        learning_rate=0.5, alpha=0.0, batch_size=len(y), max_epochs=6000, key=jax.random.PRNGKey(1),
        dtype=jnp.float64, tol=0.0, patience=None, stream=stream, block_batches=1,
    )
    w = np.asarray(params[0].W[0, :, 0])
    b = np.asarray(params[0].b[0])
    beta = design.from_full() @ np.concatenate([b, w])
    np.testing.assert_allclose(beta, ols.params, atol=1e-6)
    np.testing.assert_allclose(hist["train_loss"][-1, 0], 0.5 * np.mean(ols.resid**2), rtol=1e-9)


def test_per_member_numeric_targets_train_each_member_on_its_own(float64):
    """(M, N, T) targets: member m fits target set m (closed form: least squares per member)."""
    rng = np.random.default_rng(4)
    Z = rng.uniform(size=(120, 2))
    Y = np.stack([Z @ [1.0, -2.0] + 0.5, Z @ [-1.0, 3.0] - 1.0]) + 0.2 * rng.normal(size=(2, 120))
    D = np.column_stack([np.ones(120), Z])
    want = np.stack([np.linalg.lstsq(D, Y[m], rcond=None)[0] for m in range(2)])  # (2, 3)
    Y = Y[:, :, None]  # (2, N, 1)
    init = init_members(jax.random.split(jax.random.PRNGKey(0), 2), (2, 1), "identity", jnp.float64)
    for stream in (False, True):
        params, _, _ = train(
            init, Z, Y, activation="identity", output="linear", optimizer=named_optimizer("sgd"),
            learning_rate=0.5, alpha=0.0, batch_size=120, max_epochs=4000, key=jax.random.PRNGKey(1),
            dtype=jnp.float64, tol=0.0, patience=None, stream=stream, block_batches=1,
            X_val=Z[:10], y_val=Y[:, :10],
        )
        np.testing.assert_allclose(np.asarray(params[0].W[:, :, 0]), want[:, 1:], atol=1e-6)
        np.testing.assert_allclose(np.asarray(params[0].b[:, 0]), want[:, 0], atol=1e-6)
