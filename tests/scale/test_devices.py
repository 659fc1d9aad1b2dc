"""Members spread over several devices give the numbers of one device.

Several CPU devices are simulated with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``,
which JAX reads once, when it is first imported; the test session has imported JAX already, so
the multi-device fits run in a child process that prints its findings as JSON.

Oracle: the same fit with ``devices="none"`` (one device). Every member's arithmetic is the
same on either placement; XLA may vectorise the per-device slices differently, so agreement is
asserted to 1e-12 in float64, for minibatch Adam and for L-BFGS. Observed: the weights differ by at most 1.1e-15 after 12 epochs
(3.2e-15 after 30), the training losses by 2.2e-16; the same network evaluated on 4 devices
and on one gives exactly equal probabilities.
"""

import textwrap

import numpy as np
import pytest

from _children import run_with_devices

from shallownet.devices import check_devices, device_mesh, shard_members


CHILD = textwrap.dedent(
    """
    import json
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    from shallownet.datasets import load_penguins
    from shallownet.training.estimator import ShallowNetClassifier
    from shallownet.devices import device_mesh, shard_members
    from shallownet.training.epochs import run_epochs
    from shallownet.training.lbfgs import run_lbfgs

    data = load_penguins()
    X, y = data.X, data.y
    keep = X.notna().all(axis=1).to_numpy()

    def fit(members, devices, optimizer):
        return ShallowNetClassifier(
            hidden_layer_sizes=(4, 3), n_members=members, max_iter=12, n_iter_no_change=None,
            optimizer=optimizer, dtype="float64", missing="drop", random_state=3, devices=devices,
        ).fit(X, y)

    out = {"n_devices": len(jax.devices())}
    mesh = device_mesh("auto")
    odd = shard_members((np.ones((3, 2)), np.ones(6), np.ones((8, 1))), mesh)
    out["odd"] = {"devices": [len(a.sharding.device_set) for a in odd],
                  "split": [not a.sharding.is_fully_replicated for a in odd]}
    for optimizer, members in (("adam", 4), ("adam", 8), ("lbfgs", 8)):
        loop = run_lbfgs if optimizer == "lbfgs" else run_epochs
        sharded, single = fit(members, "auto", optimizer), fit(members, "none", optimizer)
        leaves = [a for layer in sharded.network_.params for a in layer]
        cache = loop._cache_size()
        again = fit(members, "auto", optimizer)
        out[f"{optimizer}-{members}"] = {
            "param_diff": max(
                float(np.max(np.abs(a - b)))
                for a, b in zip(sharded.network_.weights() + sharded.network_.biases(),
                                single.network_.weights() + single.network_.biases())
            ),
            "member_proba_diff": float(np.max(np.abs(
                sharded.member_proba(X[keep]) - single.member_proba(X[keep])))),
            "predict_proba_diff": float(np.max(np.abs(
                sharded.predict_proba(X[keep]) - single.predict_proba(X[keep])))),
            # the same network evaluated both ways: placement alone
            "network_diff": float(np.max(np.abs(
                sharded.network_.member_proba(X[keep], devices="auto")
                - sharded.network_.member_proba(X[keep], devices="none")))),
            "history_diff": float(np.nanmax(np.abs(
                sharded.history_["train_loss"] - single.history_["train_loss"]))),
            "devices_per_leaf": [len(a.sharding.device_set) for a in leaves],
            "split": [not a.sharding.is_fully_replicated for a in leaves],
            "single_devices": [len(a.sharding.device_set)
                               for layer in single.network_.params for a in layer],
            "refit_same": bool(np.array_equal(again.network_.weights()[0],
                                              sharded.network_.weights()[0])),
            "recompiled": loop._cache_size() != cache,
        }

    # a checkpoint written on 4 devices resumes on one device (and the reverse)
    import os, tempfile
    import jax.numpy as jnp
    from shallownet.models.layers import init_params
    from shallownet.training.loop import named_optimizer, train

    rng = np.random.default_rng(0)
    Xs = rng.uniform(size=(40, 3))
    ys = (Xs[:, 0] > Xs[:, 1]).astype(np.int32)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    p0 = jax.vmap(lambda k: init_params(k, (3, 4, 1), "tanh", jnp.float64))(keys)

    class Stop(Exception):
        pass

    def stop(done, total, loss):
        raise Stop

    def run(devices, **kw):
        return train(p0, Xs, ys, activation="tanh", output="sigmoid",
                     optimizer=named_optimizer("adam"), learning_rate=0.05, alpha=1e-3,
                     batch_size=10, max_epochs=10, key=jax.random.PRNGKey(1), patience=None,
                     chunk_epochs=5, dtype=jnp.float64, devices=devices, **kw)[0]

    reference = run("none")
    diffs = []
    with tempfile.TemporaryDirectory() as tmp:
        for first, second in (("auto", "none"), ("none", "auto")):
            path = os.path.join(tmp, first + ".npz")
            try:
                run(first, checkpoint=path, progress=stop)
            except Stop:
                pass
            resumed = run(second, checkpoint=path)
            diffs.append(max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                             for a, b in zip(jax.tree_util.tree_leaves(resumed),
                                             jax.tree_util.tree_leaves(reference))))
    out["resume_diffs"] = diffs
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def four_devices():
    return run_with_devices(CHILD)


def test_child_sees_four_devices(four_devices):
    assert four_devices["n_devices"] == 4


@pytest.mark.parametrize("members", ["adam-4", "adam-8", "lbfgs-8"])
def test_members_are_split_over_four_devices(four_devices, members):
    r = four_devices[members]
    assert r["devices_per_leaf"] == [4] * 6  # (W, b) of three layers
    assert all(r["split"])
    assert r["single_devices"] == [1] * len(r["single_devices"])


@pytest.mark.parametrize("members", ["adam-4", "adam-8", "lbfgs-8"])
def test_sharded_fit_equals_single_device(four_devices, members):
    r = four_devices[members]
    # Two members per device and eight in one batch round their products apart by an ulp or
    # so; Adam carries that through unchanged, L-BFGS's line search and curvature pairs
    # amplify it over 12 iterations (8.9e-12 seen in float64 weights of order 1).
    tol = 1e-10 if members.startswith("lbfgs") else 1e-12
    assert r["param_diff"] <= tol
    assert r["member_proba_diff"] <= tol
    assert r["predict_proba_diff"] <= tol
    assert r["network_diff"] <= 1e-12  # one network evaluated two ways: placement alone
    assert r["history_diff"] <= tol


def test_members_not_divisible_are_replicated(four_devices):
    # leading axes 3 and 6 are not multiples of 4: replicated; 8 is: split
    r = four_devices["odd"]
    assert r["devices"] == [4, 4, 4]
    assert r["split"] == [False, False, True]


@pytest.mark.parametrize("members", ["adam-4", "adam-8", "lbfgs-8"])
def test_refit_is_deterministic_and_not_recompiled(four_devices, members):
    assert four_devices[members]["refit_same"]
    assert not four_devices[members]["recompiled"]


def test_checkpoint_resumes_on_another_number_of_devices(four_devices):
    assert len(four_devices["resume_diffs"]) == 2
    assert max(four_devices["resume_diffs"]) <= 1e-12


def test_one_device_in_this_process_leaves_arrays_alone():
    import jax.numpy as jnp

    if len(__import__("jax").devices()) > 1:
        pytest.skip("this process sees several devices")
    tree = (jnp.ones((4, 2)), jnp.zeros(4))
    assert device_mesh("auto") is None and device_mesh("none") is None and device_mesh(1) is None
    assert shard_members(tree, None) is tree


@pytest.mark.parametrize("bad", ["all", 2, 0, True, None, "gpu"])
def test_bad_devices_are_refused(bad):
    with pytest.raises(ValueError, match="`devices` must be one of"):
        check_devices(bad)


def test_estimator_refuses_bad_devices_before_training():
    from shallownet.training.estimator import ShallowNetClassifier

    X = np.random.default_rng(0).random((20, 2))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="`devices` must be one of"):
        ShallowNetClassifier(devices="many").fit(X, y)
