"""Two JAX processes on localhost give the numbers of one process.

The parent starts two copies of ``_multiprocess_worker.py`` (``jax.distributed.initialize``
with a coordinator on a free local port; two simulated CPU devices each, four in the global
mesh; cross-process collectives through JAX's CPU collectives, gloo). Together they fit a
4-member float64 ensemble with the members split over the four devices (two in each
process), compute the expected influence (kNN conditional) and the sensitivity with the rows
split over the four devices, and evaluate the network on a global array built from each
process's own half of the rows. Each writes its results to a file.

Oracle: the same fit and the same calls in this (single-device) process with
``devices="none"``; agreement to 1e-12 (float64), decisions exactly. Both processes must
also hold identical results. Every wait has a timeout and the children are killed on
expiry, so a stuck collective cannot hang the suite.
"""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
WORKER = os.path.join(HERE, "_multiprocess_worker.py")
TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    out = tmp_path_factory.mktemp("multiprocess")
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    port = str(_free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, str(i), port, str(out)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for i in range(2)
    ]
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=TIMEOUT_S)[0])
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
            p.communicate()
        pytest.fail(f"the two JAX processes did not finish within {TIMEOUT_S} s")
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    return [dict(np.load(out / f"process_{i}.npz")) for i in range(2)]


def _reference():
    """The single-process numbers, computed here with devices='none'."""
    sys.path.insert(0, os.path.join(HERE, "..", "interpret"))
    try:
        from _mixed_data import frame
    finally:
        sys.path.pop(0)
    from shallownet.interpret.influence import expected_influence
    from shallownet.interpret.sensitivity import sensitivity
    from shallownet.training.estimator import ShallowNetClassifier

    X = frame(120, 0)
    y = (X["a"] + (X["g"] == "w") - X["flag"] > 1).to_numpy()
    clf = ShallowNetClassifier(
        hidden_layer_sizes=(5, 4), n_members=4, max_iter=15, n_iter_no_change=None,
        dtype="float64", random_state=0, devices="none",
    ).fit(X, y)
    ei = expected_influence(clf, X, y, n_grid=11, chunk_size=50, devices="none")
    sens = sensitivity(clf, X, chunk_size=50, devices="none")
    proba = clf.predict_proba(X)
    longer = ShallowNetClassifier(
        hidden_layer_sizes=(5, 4), n_members=4, max_iter=60, n_iter_no_change=None,
        dtype="float64", random_state=0, devices="none",
    ).fit(X, y)
    return {
        "weights_60": np.concatenate([w.ravel() for w in longer.network_.weights()]),
        "weights": np.concatenate([w.ravel() for w in clf.network_.weights()]),
        "predict_proba": proba, "expected": ei.expected, "marginal": ei.marginal,
        "soft": ei.soft, "member_expected": ei.member_expected, "predicted": ei.predicted,
        "effects": sens.effects,
        "local_proba": clf.network_.member_proba(X, devices="none"),
    }


@pytest.fixture(scope="module")
def reference():
    return _reference()


def test_two_processes_see_one_global_mesh(two_processes):
    for r in two_processes:
        assert int(r["process_count"]) == 2
        assert int(r["global_devices"]) == 4 and int(r["local_devices"]) == 2
        # members split over all four devices, two of them in the other process
        assert int(r["member_devices"]) == 4 and bool(r["member_split"])
        # the array built from each process's half spans both processes
        assert r["x_global_shape"].tolist() == [120, 6] and not bool(r["x_global_addressable"])


@pytest.mark.parametrize(
    "name", ["weights", "predict_proba", "expected", "marginal", "soft", "member_expected",
             "effects", "local_proba"],
)
def test_two_processes_equal_one_process(two_processes, reference, name):
    for r in two_processes:
        assert r[name].shape == reference[name].shape
        assert np.max(np.abs(r[name] - reference[name])) <= 1e-12
    np.testing.assert_array_equal(two_processes[0][name], two_processes[1][name])


def test_checkpointed_fit_resumes_across_processes(two_processes, reference):
    # process 0 wrote the checkpoint after 50 iterations; both resumed from it to 60
    for r in two_processes:
        assert int(r["resumes"]) == 1  # the second fit read the file (it did not start afresh)
        # resuming changes nothing: the numbers of an uninterrupted 60-iteration fit here
        assert np.max(np.abs(r["resumed_weights"] - r["uninterrupted_weights"])) <= 1e-12
        # and that fit is the one-process fit, up to the ulps that sharding moves and 60
        # L-BFGS iterations amplify (2.8e-6 seen on weights of order 10)
        np.testing.assert_allclose(r["resumed_weights"], reference["weights_60"], rtol=1e-5, atol=1e-5)


def test_decisions_are_identical(two_processes, reference):
    for r in two_processes:
        np.testing.assert_array_equal(r["predicted"], reference["predicted"])
