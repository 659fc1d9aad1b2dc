"""Cases (rows) and seeds spread over several devices give the numbers of one device.

Four CPU devices are simulated in a child process (``XLA_FLAGS=--xla_force_host_platform_
device_count=4`` is read when JAX is first imported; this session has imported it already).
The child fits a 3-member ensemble (3 is not a multiple of 4, so the members cannot be split
and the rows are) on a table with a real, a uniform, an enumerated and a boolean variable, and
computes every row-sharded quantity with ``devices="auto"`` and with ``devices="none"``.

Oracle: the same call on one device. Each row goes through the same operations on either
placement, so agreement is asserted to 1e-12 in float64 (exact equality is observed for most
quantities; integer-valued outputs such as decisions and bin counts are compared exactly).
The child also records, by wrapping the jitted kernels, that their row (or seed) inputs
really span the four devices, and that a second call compiles nothing new.
"""

import textwrap

import pytest

from _children import run_with_devices


CHILD = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    sys.path.insert(0, "tests/interpret")
    from _mixed_data import frame
    from shallownet.training.estimator import ShallowNetClassifier
    from importlib import import_module
    network_mod = import_module("shallownet.models.network")
    influence_mod = import_module("shallownet.interpret.influence")
    sens_mod = import_module("shallownet.interpret.sensitivity")
    flips = import_module("shallownet.interpret.flips")
    from shallownet.interpret.influence import expected_influence, potential_influence
    from shallownet.interpret.sensitivity import sensitivity
    plane_mod = import_module("shallownet.information.information_plane")
    estimators = import_module("shallownet.information.estimators")
    conditionals = import_module("shallownet.interpret.conditionals")
    from shallownet.information.information_plane import information_plane, mutual_information
    from shallownet.information.snapshots import train_with_snapshots

    seen = {}

    def spy(module, name, arg):
        fn = getattr(module, name)

        def wrapped(*args, **kwargs):
            a = args[arg]
            leaf = jax.tree_util.tree_leaves(a)[0]
            sh = getattr(leaf, "sharding", None)  # a NumPy input goes to the default device
            seen.setdefault(name, set()).add(
                (1, False) if sh is None else (len(sh.device_set), not sh.is_fully_replicated))
            return fn(*args, **kwargs)

        wrapped._cache_size = fn._cache_size
        setattr(module, name, wrapped)

    spy(network_mod, "member_probabilities", 1)
    spy(influence_mod, "influence_chunk", 1)
    spy(conditionals, "knn_chunk", 0)
    spy(sens_mod, "jacobian_chunk", 1)
    spy(flips, "member_proba_chunk", 1)
    spy(plane_mod, "plane_block", 0)

    X = frame(150, 0)
    y = (X["a"] + (X["g"] == "w") - X["flag"] > 1).to_numpy()
    clf = ShallowNetClassifier(hidden_layer_sizes=(5, 4), n_members=3, max_iter=15,
                               n_iter_no_change=None, dtype="float64", random_state=0,
                               devices="none").fit(X, y)
    net = clf.network_
    out = {"n_devices": len(jax.devices())}

    def diff(a, b):
        return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))

    def both(fn):
        return fn("auto"), fn("none")

    # predictions (37 rows: padded to 40 on four devices)
    pa, pn = both(lambda d: net.member_proba(X.iloc[:37], devices=d))
    out["member_proba"] = {"diff": diff(pa, pn), "shape": list(pa.shape)}

    sa, sn = both(lambda d: sensitivity(net, X, chunk_size=50, devices=d))
    out["sensitivity"] = {"effects": diff(sa.effects, sn.effects),
                          "member_means": diff(sa.member_means, sn.member_means),
                          "category": diff(sa.category_proba["g"], sn.category_proba["g"])}

    ea, en = both(lambda d: expected_influence(net, X, y, n_grid=11, chunk_size=50, devices=d))
    out["expected"] = {name: diff(getattr(ea, name), getattr(en, name))
                       for name in ("expected", "marginal", "soft", "towards", "member_expected",
                                    "graded")}
    out["expected_exact"] = bool(np.array_equal(ea.potential, en.potential)
                                 and np.array_equal(ea.predicted, en.predicted))
    qa, qn = both(lambda d: potential_influence(net, X, n_grid=11, chunk_size=50, devices=d))
    out["potential_exact"] = bool(np.array_equal(qa.potential, qn.potential)
                                  and np.array_equal(qa.member_potential, qn.member_potential))

    T = net.layer_outputs(X)[0][0]  # first hidden layer of member 0, (150, 5)
    Z = net.encode(X)
    mi = {}
    for name in ("kde", "ksg", "binning"):
        a, b = both(lambda d: mutual_information(T, y, estimator=name, X=Z, devices=d))
        mi[name] = [diff(a.I_XT, b.I_XT), diff(a.I_TY, b.I_TY)]
        if name == "kde":
            mi["kde_lower"] = [diff(a.I_XT_lower, b.I_XT_lower), diff(a.I_TY_lower, b.I_TY_lower)]
    out["mi"] = mi
    from shallownet.devices import row_mesh
    lowered = estimators.estimate_layer_rows.lower(
        jax.numpy.asarray(T), jax.numpy.asarray(y.astype(np.int32)), jax.numpy.asarray(Z),
        jax.random.PRNGKey(0), estimators.KDE(), n_classes=2, mesh=row_mesh("auto"))
    hlo = lowered.compile().as_text()
    out["mi_split"] = {"devices": row_mesh("auto").devices.size, "all_gather": "all-gather" in hlo}

    run = train_with_snapshots(Z, y, hidden_layer_sizes=(4, 3), n_seeds=4, epochs=6,
                               snapshot_epochs=[0, 3, 6], batch_size=50, learning_rate=0.01,
                               dtype="float64", random_state=1)
    out["run_training_split"] = [len(run.params[0].W.sharding.device_set),
                                 not run.params[0].W.sharding.is_fully_replicated]
    pa, pn = both(lambda d: information_plane(run, estimator="kde", devices=d))
    out["plane"] = [diff(pa.I_XT, pn.I_XT), diff(pa.I_TY, pn.I_TY), list(pa.I_XT.shape)]
    run1 = train_with_snapshots(Z, y, hidden_layer_sizes=(4, 3), n_seeds=4, epochs=6,
                                snapshot_epochs=[0, 3, 6], batch_size=50, learning_rate=0.01,
                                dtype="float64", random_state=1, devices="none")
    out["run_params_diff"] = max(diff(a, b) for a, b in zip(jax.tree_util.tree_leaves(run.params),
                                                            jax.tree_util.tree_leaves(run1.params)))

    # second calls compile nothing new
    kernels = [network_mod.member_probabilities, influence_mod.influence_chunk, conditionals.knn_chunk,
               sens_mod.jacobian_chunk, flips.member_proba_chunk, estimators.estimate_layer_rows,
               plane_mod.plane_block]
    sizes = [k._cache_size() for k in kernels]
    net.member_proba(X.iloc[:37], devices="auto")
    sensitivity(net, X, chunk_size=50, devices="auto")
    expected_influence(net, X, y, n_grid=11, chunk_size=50, devices="auto")
    mutual_information(T, y, estimator="kde", X=Z, devices="auto")
    mutual_information(T, y, estimator="ksg", X=Z, devices="auto")
    information_plane(run, estimator="kde", devices="auto")
    out["recompiled"] = [k._cache_size() != s for k, s in zip(kernels, sizes)]
    out["seen"] = {k: sorted(v) for k, v in seen.items()}
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def four_devices():
    return run_with_devices(CHILD)


def test_child_sees_four_devices(four_devices):
    assert four_devices["n_devices"] == 4


def test_kernels_received_rows_split_over_four_devices(four_devices):
    seen = four_devices["seen"]
    for name in ("member_probabilities", "influence_chunk", "knn_chunk", "jacobian_chunk",
                 "member_proba_chunk"):
        # both placements were run: four devices split, and one device
        assert [4, True] in seen[name], name
        assert [1, False] in seen[name], name
    assert [4, True] in seen["plane_block"] and [1, False] in seen["plane_block"]


def test_predictions_on_rows_equal_one_device(four_devices):
    r = four_devices["member_proba"]
    assert r["shape"] == [3, 37, 2]  # padding dropped
    assert r["diff"] <= 1e-12


def test_sensitivity_on_rows_equals_one_device(four_devices):
    assert max(four_devices["sensitivity"].values()) <= 1e-12


def test_influence_on_rows_equals_one_device(four_devices):
    assert max(four_devices["expected"].values()) <= 1e-12
    assert four_devices["expected_exact"]
    assert four_devices["potential_exact"]


def test_mutual_information_split_rows_equals_one_device(four_devices):
    mi = four_devices["mi"]
    for name in ("kde", "kde_lower", "ksg"):
        assert max(mi[name]) <= 1e-12, name
    assert mi["binning"] == [0.0, 0.0]
    assert four_devices["mi_split"] == {"devices": 4, "all_gather": True}


def test_seeds_split_in_training_and_in_the_plane(four_devices):
    assert four_devices["run_training_split"] == [4, True]
    assert four_devices["run_params_diff"] <= 1e-12
    i_xt, i_ty, shape = four_devices["plane"]
    assert shape == [4, 3, 3]  # seeds, epochs, layers
    assert i_xt <= 1e-12 and i_ty <= 1e-12


def test_repeated_calls_do_not_recompile(four_devices):
    assert four_devices["recompiled"] == [False] * 7


@pytest.mark.parametrize("call", ["sensitivity", "expected", "potential", "mi", "plane", "snapshots"])
def test_bad_devices_refused_before_tracing(call):
    import numpy as np

    from shallownet.information.information_plane import information_plane, mutual_information
    from shallownet.information.snapshots import train_with_snapshots
    from shallownet.interpret.influence import expected_influence, potential_influence
    from shallownet.interpret.sensitivity import sensitivity
    from shallownet.models.network import Network

    net = Network.from_weights([np.ones((2, 3)), np.ones((3, 1))], [np.zeros(3), np.zeros(1)])
    X = np.random.default_rng(0).random((12, 2))
    y = np.arange(12) % 2
    fns = {
        "sensitivity": lambda: sensitivity(net, X, encoded=True, devices=2),
        "expected": lambda: expected_influence(net, X, encoded=True, devices="all"),
        "potential": lambda: potential_influence(net, X, encoded=True, devices=True),
        "mi": lambda: mutual_information(X, y, estimator="kde", devices="gpu"),
        "plane": lambda: information_plane(net, X, y, devices=0),
        "snapshots": lambda: train_with_snapshots(X, y, epochs=1, devices=None),
    }
    with pytest.raises(ValueError, match="`devices` must be one of"):
        fns[call]()
