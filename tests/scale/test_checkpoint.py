"""Checkpoint and resume of the training loop.

Oracle: the same training run without interruption. A run stopped after some chunks (by an
exception from the progress callback, or by a smaller ``max_epochs``) and resumed from its
checkpoint must end with bit-identical parameters, history and snapshots (float64), because the
checkpoint holds the complete loop state (parameters, optimizer state, best parameters, the
early-stopping counters, the PRNG key and the epoch counter).
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from shallownet.checkpoint import read_checkpoint, write_checkpoint
from shallownet.models.layers import init_params
from shallownet.training.loop import named_optimizer, train

SNAPSHOTS = np.array([0, 3, 7, 12, 20])


class Interrupt(Exception):
    pass


def problem(m=3, per_member=False):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 3))
    y = (X @ rng.normal(size=(3, 3))).argmax(axis=1).astype(np.int32)
    if per_member:
        y = np.stack([rng.permutation(y) for _ in range(m)])
    keys = jax.random.split(jax.random.PRNGKey(1), m)
    params = jax.vmap(lambda k: init_params(k, (3, 4, 3), "tanh", jnp.float64))(keys)
    return params, X, y


def run(params, X, y, key=None, **kw):
    settings = dict(
        activation="tanh", output="softmax", optimizer=named_optimizer("adam"),
        learning_rate=0.05, alpha=1e-3, batch_size=16, max_epochs=20,
        key=jax.random.PRNGKey(7) if key is None else key, patience=None,
        snapshot_epochs=SNAPSHOTS, chunk_epochs=5, dtype=jnp.float64,
    )
    settings.update(kw)
    return train(params, X, y, **settings)


def stop_after(chunks):
    calls = []

    def progress(done, total, loss):
        calls.append(done)
        if len(calls) == chunks:
            raise Interrupt
    return progress


def assert_same(a, b):
    (pa, ha, sa), (pb, hb, sb) = a, b
    for x, z in zip(jax.tree_util.tree_leaves(pa), jax.tree_util.tree_leaves(pb)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(z))
    assert sorted(ha) == sorted(hb)
    for k in ha:
        np.testing.assert_array_equal(ha[k], hb[k])
    assert sorted(sa) == sorted(sb)
    for e in sa:
        for x, z in zip(jax.tree_util.tree_leaves(sa[e]), jax.tree_util.tree_leaves(sb[e])):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(z))


@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_interrupted_run_resumes_to_the_same_numbers(tmp_path, chunks):
    params, X, y = problem()
    reference = run(params, X, y)
    path = tmp_path / "run.npz"
    with pytest.raises(Interrupt):
        run(params, X, y, checkpoint=path, progress=stop_after(chunks))
    assert path.exists()
    _, meta = read_checkpoint(path)
    assert meta["epochs_done"] == 5 * chunks
    resumed = run(params, X, y, checkpoint=path)
    assert sorted(resumed[2]) == SNAPSHOTS.tolist()
    assert_same(resumed, reference)
    # the checkpoint of the finished run gives the result again without training
    assert_same(run(params, X, y, checkpoint=path, progress=stop_after(1)), reference)


def test_shorter_run_extended_by_a_larger_max_epochs(tmp_path):
    params, X, y = problem()
    reference = run(params, X, y)
    path = tmp_path / "run.npz"
    first = run(params, X, y, checkpoint=path, max_epochs=10)
    assert sorted(first[2]) == [0, 3, 7]
    assert_same(run(params, X, y, checkpoint=path), reference)


def test_early_stopping_and_per_member_targets_resume_exactly(tmp_path):
    params, X, y = problem(per_member=True)
    rng = np.random.default_rng(5)
    X_val = rng.uniform(size=(20, 3))
    y_val = np.stack([rng.integers(0, 3, 20) for _ in range(3)]).astype(np.int32)
    kw = dict(X_val=X_val, y_val=y_val, early_stopping=True, patience=3, tol=0.0,
              max_epochs=40, snapshot_epochs=None, learning_rate=0.2)
    reference = run(params, X, y, **kw)
    assert reference[1]["stopped"].any()  # stopping happens, so its counters must be restored
    path = tmp_path / "run.npz"
    with pytest.raises(Interrupt):
        run(params, X, y, checkpoint=path, progress=stop_after(1), **kw)
    assert_same(run(params, X, y, checkpoint=path, **kw), reference)


def test_typed_prng_key_is_restored(tmp_path):
    params, X, y = problem()
    key = jax.random.key(11)
    reference = run(params, X, y, key=key)
    path = tmp_path / "run.npz"
    with pytest.raises(Interrupt):
        run(params, X, y, key=key, checkpoint=path, progress=stop_after(2))
    assert_same(run(params, X, y, key=key, checkpoint=path), reference)


@pytest.mark.parametrize(
    "change",
    [dict(alpha=2e-3), dict(learning_rate=0.01), dict(batch_size=8), dict(chunk_epochs=4),
     dict(snapshot_epochs=np.array([0, 5])), dict(key=jax.random.PRNGKey(8)),
     dict(optimizer=named_optimizer("sgd")), dict(data="X"), dict(data="params")],
)
def test_checkpoint_of_another_run_is_refused(tmp_path, change):
    params, X, y = problem()
    path = tmp_path / "run.npz"
    with pytest.raises(Interrupt):
        run(params, X, y, checkpoint=path, progress=stop_after(1))
    before = path.read_bytes()
    change = dict(change)
    what = change.pop("data", None)
    if what == "X":
        X = X.copy()
        X[0, 0] += 1e-9
    elif what == "params":
        params = jax.tree_util.tree_map(lambda a: a * 1.0000001, params)
    with pytest.raises(ValueError, match="other settings, data, initial parameters or key"):
        run(params, X, y, checkpoint=path, **change)
    assert path.read_bytes() == before  # a refused checkpoint is left untouched


def test_run_whose_last_chunk_was_cut_cannot_be_extended(tmp_path):
    params, X, y = problem()
    path = tmp_path / "run.npz"
    run(params, X, y, checkpoint=path, max_epochs=12)
    with pytest.raises(ValueError, match="last chunk was cut short"):
        run(params, X, y, checkpoint=path, max_epochs=20)
    with pytest.raises(ValueError, match="ended after 12 epochs"):
        run(params, X, y, checkpoint=path, max_epochs=10)


def test_not_a_checkpoint_is_refused(tmp_path):
    params, X, y = problem()
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a shallownet checkpoint"):
        run(params, X, y, checkpoint=path)
    path.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable shallownet checkpoint"):
        run(params, X, y, checkpoint=path)


def test_write_is_atomic_and_pickle_free(tmp_path):
    path = tmp_path / "c.npz"
    write_checkpoint(path, {"a": np.arange(3.0)}, {"n": 1})
    write_checkpoint(path, {"a": np.arange(4.0)}, {"n": 2})
    assert os.listdir(tmp_path) == ["c.npz"]  # the temporary file was moved over the target
    with np.load(path, allow_pickle=False) as data:
        assert data["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    arrays, meta = read_checkpoint(path)
    assert meta == {"n": 2} and list(arrays) == ["a"]

    class Boom:
        def __array__(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(ValueError, match="reserved"):
        write_checkpoint(path, {"__meta__": np.zeros(1)}, {})
    with pytest.raises(RuntimeError):
        write_checkpoint(path, {"a": np.zeros(2), "b": Boom()}, {"n": 3})
    assert os.listdir(tmp_path) == ["c.npz"]
    assert read_checkpoint(path)[1] == {"n": 2}
