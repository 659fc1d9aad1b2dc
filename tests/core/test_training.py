"""The jitted training loop: gradients, the logistic-regression identity, determinism,
early stopping, snapshots, per-member targets and compilation reuse."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.test_util import check_grads
from sklearn.linear_model import LogisticRegression

import shallownet as sn
from shallownet.models.layers import init_params
from shallownet.training.epochs import member_loss, run_epochs
from shallownet.training.loop import named_optimizer, train


def small_problem(n=120, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    y = (X @ rng.normal(size=(d, k))).argmax(axis=1).astype(np.int32)
    return X, y


def stacked_init(seed, sizes, m, activation="tanh", dtype=jnp.float64):
    keys = jax.random.split(jax.random.PRNGKey(seed), m)
    return jax.vmap(lambda k: init_params(k, sizes, activation, dtype))(keys)


@pytest.mark.parametrize("output, k", [("softmax", 3), ("sigmoid", 2)])
@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
def test_loss_gradient_matches_finite_differences(output, k, hidden):
    X, y = small_problem(30, 4, k)
    sizes = (4, *hidden, 1 if output == "sigmoid" else k)
    params = init_params(jax.random.PRNGKey(0), sizes, "tanh", jnp.float64)
    w = jnp.ones(30, jnp.float64).at[:5].set(0.0)  # padded rows must not count

    def loss(p):
        return member_loss(p, jnp.asarray(X), jnp.asarray(y), w, 0.01, "tanh", output)

    check_grads(loss, (params,), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


def test_sample_mask_and_penalty_by_hand():
    # One input, no hidden layer, sigmoid: z = w x + b with w = 2, b = -1.
    params = (sn.models.Dense(jnp.array([[2.0]]), jnp.array([-1.0])),)
    X = jnp.array([[1.0], [0.0], [5.0]])
    y = jnp.array([1, 0, 0])
    mask = jnp.array([1.0, 1.0, 0.0])
    # rows 1, 2: -log s(1) - log(1 - s(-1)) = 2 log(1 + e^-1); mean over 2 rows; + 0.5 * 0.1 * 4
    expected = np.log1p(np.exp(-1.0)) + 0.2
    got = member_loss(params, X, y, mask, 0.1, "logistic", "sigmoid")
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def fit_logreg(X, y):
    steps = 3000
    opt = optax.adam(optax.cosine_decay_schedule(0.1, steps, 1e-5))
    return sn.ShallowNetClassifier(
        hidden_layer_sizes=(), alpha=0.0, optimizer=opt, batch_size=10**6, max_iter=steps,
        n_iter_no_change=None, dtype="float64", random_state=0,
    ).fit(X, y)


def test_zero_hidden_layers_is_logistic_regression_binary():
    ds = sn.datasets.logistic_model(400, (2.0, -1.0, 0.5), 0.3, random_state=0)
    Z = sn.Encoder().fit_transform(ds.X)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(Z, ds.y)
    clf = fit_logreg(Z, ds.y)
    W, b = clf.network_.weights(0)[0][:, 0], clf.network_.biases(0)[0][0]
    np.testing.assert_allclose(W, ref.coef_[0], atol=1e-5)
    np.testing.assert_allclose(b, ref.intercept_[0], atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(Z), ref.predict_proba(Z), atol=1e-6)


def test_zero_hidden_layers_is_logistic_regression_multiclass_contrasts():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(500, 3))
    logits = X @ np.array([[0.0, 2.0, -1.0], [0.0, -1.5, 1.0], [0.0, 0.5, 2.0]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    clf = fit_logreg(X, y)
    # Softmax weights are identified only as differences from a base class (class 0).
    W = clf.network_.weights(0)[0]
    b = clf.network_.biases(0)[0]
    ours = W[:, 1:] - W[:, :1]
    theirs = ref.coef_.T[:, 1:] - ref.coef_.T[:, :1]
    # Rescale both to the encoded inputs: the estimator scales X by its own min/max.
    scale = np.array([v.scale for v in clf.network_.variables])
    lo = np.array([v.minimum for v in clf.network_.variables])
    ours_raw = ours / scale[:, None]
    np.testing.assert_allclose(ours_raw, theirs, atol=1e-5)
    b_raw = (b[1:] - b[0]) - lo @ ours_raw
    np.testing.assert_allclose(b_raw, ref.intercept_[1:] - ref.intercept_[0], atol=1e-5)


def test_same_seed_same_result_and_seed_matters():
    X, y = small_problem()
    kw = dict(hidden_layer_sizes=(6,), max_iter=20, n_iter_no_change=None, batch_size=32)
    a = sn.ShallowNetClassifier(random_state=7, **kw).fit(X, y).predict_proba(X)
    b = sn.ShallowNetClassifier(random_state=7, **kw).fit(X, y).predict_proba(X)
    c = sn.ShallowNetClassifier(random_state=8, **kw).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_learning_rate_reaches_the_optimizer():
    X, y = small_problem()
    kw = dict(hidden_layer_sizes=(6,), optimizer="adam", max_iter=10, n_iter_no_change=None, random_state=0)
    slow = sn.ShallowNetClassifier(learning_rate=1e-4, **kw).fit(X, y)
    fast = sn.ShallowNetClassifier(learning_rate=1e-1, **kw).fit(X, y)
    assert fast.loss_curve_[-1] < slow.loss_curve_[-1] - 0.05


def test_second_fit_with_same_shapes_does_not_recompile():
    X, y = small_problem()
    kw = dict(hidden_layer_sizes=(5,), max_iter=10, n_iter_no_change=None)
    sn.ShallowNetClassifier(random_state=0, **kw).fit(X, y)
    before = run_epochs._cache_size()
    clf = sn.ShallowNetClassifier(random_state=1, learning_rate=0.05, alpha=0.1, **kw).fit(X, y)
    clf.predict_proba(X)
    assert run_epochs._cache_size() == before


def test_minibatch_epochs_cover_every_row_once():
    # With learning rate 0 nothing moves, so the recorded epoch loss is the exact mean loss of
    # the initial parameters over the epoch's rows. 50 rows in
    # batches of 7 give 8 batches; the last is padded with 6 masked rows.
    X, y = small_problem(50, 3, 2)
    params = stacked_init(0, (3, 4, 2), 1)
    key = jax.random.PRNGKey(0)
    _, hist, _ = train(
        params, X, y, activation="tanh", output="softmax", optimizer=named_optimizer("sgd"),
        learning_rate=0.0, alpha=0.0, batch_size=7, max_epochs=1, key=key,
        patience=None, dtype=jnp.float64,
    )
    _, sub = jax.random.split(key)
    perm = np.asarray(jax.random.permutation(sub, 50))
    idx = np.concatenate([perm, perm[:6]]).reshape(8, 7)
    mask = (np.arange(56) < 50).reshape(8, 7).astype(float)
    weighted_rows = idx[mask == 1]
    assert sorted(weighted_rows.tolist()) == list(range(50))  # every row exactly once
    p0 = jax.tree_util.tree_map(lambda a: a[0], params)
    losses = [
        member_loss(p0, jnp.asarray(X[i]), jnp.asarray(y[i]), jnp.asarray(w), 0.0, "tanh", "softmax")
        for i, w in zip(idx, mask)
    ]
    # The epoch loss is the mean over the 50 real rows: batch means weighted by real rows.
    real = mask.sum(axis=1)
    np.testing.assert_allclose(hist["train_loss"][0, 0], np.sum(np.array(losses) * real) / 50, rtol=1e-12)
    full = member_loss(p0, jnp.asarray(X), jnp.asarray(y), jnp.ones(50), 0.0, "tanh", "softmax")
    np.testing.assert_allclose(hist["train_loss"][0, 0], float(full), rtol=1e-12)


def test_members_train_independently_and_targets_per_member():
    X, y = small_problem(80, 3, 2)
    rng = np.random.default_rng(0)
    y2 = rng.permutation(y)
    params = stacked_init(1, (3, 4, 2), 2)
    common = dict(activation="tanh", output="softmax", optimizer=named_optimizer("adam"),
                  learning_rate=0.01, alpha=0.0, batch_size=16, max_epochs=15,
                  key=jax.random.PRNGKey(5), patience=None, dtype=jnp.float64)
    both, _, _ = train(params, X, np.stack([y, y2]), **common)
    for m, target in enumerate([y, y2]):
        alone = jax.tree_util.tree_map(lambda a: a[m : m + 1], params)
        single, _, _ = train(alone, X, target, **common)
        for l_both, l_single in zip(both, single):
            np.testing.assert_allclose(l_both.W[m], l_single.W[0], atol=1e-10)


def test_snapshots_equal_shorter_runs_and_chunking_changes_nothing():
    X, y = small_problem(60, 3, 2)
    params = stacked_init(2, (3, 4, 2), 2)
    common = dict(activation="tanh", output="softmax", optimizer=named_optimizer("adam"),
                  learning_rate=0.02, alpha=1e-3, batch_size=16,
                  key=jax.random.PRNGKey(1), patience=3, tol=1e-2, dtype=jnp.float64)
    final, hist, snaps = train(params, X, y, max_epochs=12, snapshot_epochs=[0, 3, 7], chunk_epochs=5, **common)
    assert sorted(snaps) == [0, 3, 7]
    short, _, _ = train(params, X, y, max_epochs=7, chunk_epochs=5, **common)
    np.testing.assert_allclose(snaps[7][0].W, short[0].W, atol=1e-12)
    np.testing.assert_array_equal(snaps[0][0].W, params[0].W)
    other, hist2, _ = train(params, X, y, max_epochs=12, chunk_epochs=12, **common)
    np.testing.assert_allclose(final[0].W, other[0].W, atol=1e-12)
    np.testing.assert_array_equal(hist["epochs_run"], hist2["epochs_run"])


def test_early_stopping_keeps_the_best_validation_parameters():
    X, y = small_problem(200, 4, 3, seed=4)
    Xv, yv = small_problem(60, 4, 3, seed=5)
    params = stacked_init(3, (4, 16, 3), 2)
    best, hist, _ = train(
        params, X, y, activation="tanh", output="softmax", optimizer=named_optimizer("adam"),
        learning_rate=0.05, alpha=0.0, batch_size=20, max_epochs=200, key=jax.random.PRNGKey(0),
        X_val=Xv, y_val=yv, early_stopping=True, patience=5, tol=0.0, dtype=jnp.float64,
    )
    assert hist["stopped"].all() and (hist["epochs_run"] < 200).all()
    for m in range(2):
        p = jax.tree_util.tree_map(lambda a: a[m], best)
        val = member_loss(p, jnp.asarray(Xv), jnp.asarray(yv), jnp.ones(len(yv)), 0.0, "tanh", "softmax")
        np.testing.assert_allclose(float(val), np.nanmin(hist["val_loss"][:, m]), rtol=1e-9)


def test_estimator_early_stopping_runs_and_reports_history():
    X, y = small_problem(200, 4, 3, seed=4)
    clf = sn.ShallowNetClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=300, optimizer="adam",
                                  learning_rate=0.05, random_state=0, n_members=3).fit(X, y)
    assert clf.history_["val_loss"].shape[1] == 3
    assert np.all(clf.n_iter_ < 300) and np.all(clf.convergence_.reason == "validation")
    assert clf.score(X, y) > 0.8


def test_row_weights_equal_repeated_rows_full_batch():
    # Full batch: the weighted mean loss with integer weights is the plain mean over the data
    # with each row repeated that many times, so training gives the same parameters.
    X, y = small_problem(40, 3, 2)
    counts = np.random.default_rng(0).multinomial(40, np.full(40, 1 / 40)).astype(float)
    params = stacked_init(4, (3, 4, 2), 1)
    common = dict(activation="tanh", output="softmax", optimizer=named_optimizer("adam"),
                  learning_rate=0.02, alpha=1e-3, batch_size=10**6, max_epochs=25,
                  key=jax.random.PRNGKey(2), patience=None, dtype=jnp.float64)
    weighted, hist_w, _ = train(params, X, y, sample_weight=counts, **common)
    rows = np.repeat(np.arange(40), counts.astype(int))
    repeated, hist_r, _ = train(params, X[rows], y[rows], **common)
    for a, b in zip(weighted, repeated):
        np.testing.assert_allclose(a.W, b.W, atol=1e-10)
    np.testing.assert_allclose(hist_w["train_loss"], hist_r["train_loss"], rtol=1e-10)


def test_per_member_weights_train_members_on_their_own_resample():
    X, y = small_problem(40, 3, 2)
    counts = np.random.default_rng(1).multinomial(40, np.full(40, 1 / 40), size=2).astype(float)
    params = stacked_init(5, (3, 4, 2), 2)
    common = dict(activation="tanh", output="softmax", optimizer=named_optimizer("adam"),
                  learning_rate=0.02, alpha=0.0, batch_size=16, max_epochs=10,
                  key=jax.random.PRNGKey(3), patience=None, dtype=jnp.float64)
    both, _, _ = train(params, X, y, sample_weight=counts, **common)
    for m in range(2):
        alone = jax.tree_util.tree_map(lambda a: a[m : m + 1], params)
        single, _, _ = train(alone, X, y, sample_weight=counts[m], **common)
        np.testing.assert_allclose(both[0].W[m], single[0].W[0], atol=1e-10)
    with pytest.raises(ValueError, match="`sample_weight` must have shape"):
        train(params, X, y, sample_weight=np.ones(7), **common)


def test_bootstrap_ensemble_members_see_different_data():
    X, y = small_problem(150, 4, 3)
    kw = dict(hidden_layer_sizes=(5,), n_members=3, max_iter=30, n_iter_no_change=None, random_state=0)
    plain = sn.ShallowNetClassifier(**kw).fit(X, y)
    bagged = sn.ShallowNetClassifier(bootstrap=True, **kw).fit(X, y)
    # Same initial weights and batch order; only the row weights differ.
    assert not np.allclose(plain.network_.weights()[0], bagged.network_.weights()[0])
    assert bagged.score(X, y) > 0.8
    with pytest.raises(TypeError, match="`bootstrap` must be True or False"):
        sn.ShallowNetClassifier(bootstrap="yes").fit(X, y)
