"""Minibatches streamed from host memory (``train(stream=True)``).

Oracle: the in-device loop (``stream=False``) on the same problem. The streamed loop draws the
same permutation from the same key and steps through the same minibatches, so parameters,
histories and snapshots must agree to float64 rounding (asserted 1e-12; the validation means are
summed block by block, everything else is the same arithmetic). Blocks are chosen small so that
every run has several blocks and a padded last one.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from shallownet.models.layers import init_params
from shallownet.training import streaming
from shallownet.training.estimator import ShallowNetClassifier
from shallownet.training.loop import named_optimizer, train


def problem(n=83, d=3, sizes=(4,), k=3, m=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    y = (X @ rng.normal(size=(d, k))).argmax(axis=1).astype(np.int32)
    keys = jax.random.split(jax.random.PRNGKey(seed + 1), m)
    n_out = 1 if k == 2 else k
    params = jax.vmap(lambda key: init_params(key, (d, *sizes, n_out), "tanh", jnp.float64))(keys)
    return rng, params, X, y


def fit(params, X, y, **kw):
    settings = dict(
        activation="tanh", output="softmax", optimizer=named_optimizer("adam"),
        learning_rate=0.05, alpha=1e-3, batch_size=10, max_epochs=12, chunk_epochs=5,
        key=jax.random.PRNGKey(7), patience=None, dtype=jnp.float64, devices="none",
    )
    settings.update(kw)
    return train(params, X, y, **settings)


def assert_same(a, b, tol=1e-12):
    pa, ha, sa = a
    pb, hb, sb = b
    for x, z in zip(jax.tree_util.tree_leaves(pa), jax.tree_util.tree_leaves(pb)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(z), rtol=0, atol=tol)
    assert ha.keys() == hb.keys()
    for k in ha:
        assert ha[k].shape == hb[k].shape, k
        np.testing.assert_allclose(ha[k], hb[k], rtol=0, atol=tol, err_msg=k)
    assert sa.keys() == sb.keys()
    for e in sa:
        for x, z in zip(jax.tree_util.tree_leaves(sa[e]), jax.tree_util.tree_leaves(sb[e])):
            np.testing.assert_allclose(np.asarray(x), np.asarray(z), rtol=0, atol=tol)


def both(params, X, y, **kw):
    return fit(params, X, y, stream=False, **kw), fit(params, X, y, stream=True, **kw)


def test_one_hidden_layer_binary_with_snapshots():
    _, params, X, y = problem(k=2)
    a, b = both(params, X, y, output="sigmoid", block_batches=3,
                snapshot_epochs=np.array([0, 1, 5, 9, 12]))
    assert_same(a, b)
    assert sorted(b[2]) == [0, 1, 5, 9, 12]


def test_two_hidden_layers_per_member_targets_and_weights_early_stopping():
    rng, params, X, y = problem(sizes=(5, 4), m=4)
    y_members = np.stack([rng.permutation(y) for _ in range(4)])
    weights = rng.multinomial(X.shape[0], np.full(X.shape[0], 1 / X.shape[0]), size=4).astype(float)
    X_val, y_val = X[:31] + 0.01, y[:31]
    a, b = both(params, X, y_members, sample_weight=weights, X_val=X_val, y_val=y_val,
                early_stopping=True, patience=2, max_epochs=30, block_batches=4,
                snapshot_epochs=np.array([3, 20]))
    assert_same(a, b)
    assert a[1]["stopped"].any()  # early stopping did act, in both loops alike


def test_shared_weights_and_single_batch():
    rng, params, X, y = problem(n=40)
    w = rng.uniform(size=40)
    assert_same(*both(params, X, y, sample_weight=w, block_batches=1))
    # one batch per epoch: no shuffle in either loop
    assert_same(*both(params, X, y, batch_size=64))


def test_checkpoint_written_by_one_loop_resumed_by_the_other(tmp_path):
    _, params, X, y = problem()
    kw = dict(block_batches=2, snapshot_epochs=np.array([0, 4, 11]))
    full = fit(params, X, y, stream=False, **kw)
    for first, second in ((True, False), (False, True)):
        path = tmp_path / f"run_{first}.npz"
        fit(params, X, y, stream=first, checkpoint=path, **dict(kw, max_epochs=10))
        resumed = fit(params, X, y, stream=second, checkpoint=path, max_epochs=12, **dict(kw, chunk_epochs=5))
        assert_same(full, resumed)


def test_blocks_sent_have_one_shape_and_compile_once(monkeypatch):
    shapes = []
    original = streaming._run_block

    def spy(params, opt_state, active, X_block, *rest, **kw):
        shapes.append(X_block.shape)
        return original(params, opt_state, active, X_block, *rest, **kw)

    monkeypatch.setattr(streaming, "_run_block", spy)
    _, params, X, y = problem(n=83)
    fit(params, X, y, stream=True, block_batches=4, max_epochs=2)
    assert set(shapes) == {(4, 10, 3)}  # 9 batches -> 3 blocks of 4, the last one padded
    assert len(shapes) == 6
    compiled = original._cache_size()
    shapes.clear()
    _, params, X, y = problem(n=157, seed=3)  # more rows: more blocks, no new block program
    fit(params, X, y, stream=True, block_batches=4, max_epochs=2)
    assert set(shapes) == {(4, 10, 3)} and len(shapes) == 8
    assert original._cache_size() == compiled


def test_auto_streams_above_the_byte_budget(monkeypatch):
    calls = []
    original = streaming._run_block
    monkeypatch.setattr(streaming, "_run_block", lambda *a, **k: calls.append(1) or original(*a, **k))
    _, params, X, y = problem(n=30)
    a = fit(params, X, y, max_epochs=2)  # default budget 1 GiB: in-device
    assert not calls
    b = fit(params, X, y, max_epochs=2, stream_bytes=X.nbytes - 1)
    assert calls
    assert_same(a, b)


@pytest.mark.parametrize("kw, match", [
    (dict(stream="yes"), "`stream` must be"),
    (dict(stream=True, block_batches=0), "`block_batches` must be"),
])
def test_bad_options_are_refused(kw, match):
    _, params, X, y = problem(n=20)
    with pytest.raises(ValueError, match=match):
        fit(params, X, y, **kw)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_classifier_stream_option():
    _, _, X, y = problem(n=120, k=3)
    kw = dict(hidden_layer_sizes=(4, 3), n_members=2, max_iter=6, dtype="float64", optimizer="adam",
              random_state=0, early_stopping=True, batch_size=16)
    a = ShallowNetClassifier(stream=False, **kw).fit(X, y)
    clf = ShallowNetClassifier(stream=True, **kw)
    assert clf.get_params()["stream"] is True
    b = clf.fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="`stream` must be"):
        ShallowNetClassifier(stream="sometimes").fit(X, y)
