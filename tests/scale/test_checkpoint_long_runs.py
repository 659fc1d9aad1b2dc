"""Checkpoint and resume of the long runs: the randomisation test, the information plane, the
estimator.

Oracle: the same call never interrupted. A call stopped part-way (an exception raised from its
progress callback, a real SIGKILL of a child process, or a smaller ``max_iter``) and then
repeated with its checkpoint must end with bit-identical numbers (float64), because the
checkpoints hold everything the rest of the computation depends on and the random draws of
finished parts are replayed, not redrawn.
"""

import importlib
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from shallownet import Network, ShallowNetClassifier
from shallownet.checkpoint import read_checkpoint
from shallownet.information import KDE, information_plane, train_with_snapshots
from shallownet.interpret import olden_test

plane_module = importlib.import_module("shallownet.information.information_plane")  # the package re-exports the function under the same name


class Interrupt(Exception):
    pass


def stop_at(n_calls):
    """A progress callback that raises on its ``n_calls``-th call."""
    calls = []

    def progress(*args):
        calls.append(args)
        if len(calls) == n_calls:
            raise Interrupt
    return progress


# -- olden_test ----------------------------------------------------------------------------

def olden_problem(n=40):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(n, 2))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-8 * (X[:, 0] - 0.5)))).astype(int)
    net = Network.from_weights([rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3, 1))],
                               [np.zeros((2, 3)), np.zeros((2, 1))])
    return net, X, y


# R = 5 replicates of M = 2 members, 2 replicates per group: 3 groups of 60 epochs, each
# trained in chunks of 50 + 10 epochs. Progress calls: 50, 60 (training), 60 (group done),
# 110, 120, 120, 170, 180, 180.
OLDEN = dict(n_permutations=5, chunk_size=4, max_iter=60, n_iter_no_change=None, optimizer="adam", learning_rate=0.05,
             random_state=3, encoded=True)


@pytest.fixture(scope="module")
def olden_reference():
    net, X, y = olden_problem()
    return olden_test(net, X, y, **OLDEN)


@pytest.mark.parametrize("stop", [1, 3, 4, 8])
def test_interrupted_olden_test_resumes_to_the_same_numbers(tmp_path, olden_reference, stop):
    net, X, y = olden_problem()
    path = str(tmp_path / "olden.npz")
    with pytest.raises(Interrupt):
        olden_test(net, X, y, checkpoint=path, progress=stop_at(stop), **OLDEN)
    assert os.path.exists(path) or os.path.exists(path + ".group")
    seen = []
    resumed = olden_test(net, X, y, checkpoint=path, progress=lambda d, t: seen.append(d), **OLDEN)
    np.testing.assert_array_equal(resumed.null, olden_reference.null)
    np.testing.assert_array_equal(resumed.p_values, olden_reference.p_values)
    assert seen[0] > 50  # work before the interruption was not repeated
    assert not os.path.exists(path + ".group")
    assert read_checkpoint(path)[0]["null"].shape == (6, 2, 1)  # 3 groups of 2 (the last cut to 5)
    again = olden_test(net, X, y, checkpoint=path, progress=stop_at(1), **OLDEN)  # nothing left to train
    np.testing.assert_array_equal(again.null, olden_reference.null)


@pytest.mark.parametrize("change", [
    dict(n_permutations=6), dict(learning_rate=0.04), dict(random_state=4), dict(chunk_size=2), "data",
])
def test_olden_checkpoint_of_other_settings_or_data_is_refused(tmp_path, change):
    net, X, y = olden_problem()
    path = str(tmp_path / "olden.npz")
    small = {**OLDEN, "max_iter": 5}
    olden_test(net, X, y, checkpoint=path, **small)
    if change == "data":
        y = 1 - y
        other = small
    else:
        other = {**small, **change}
    with pytest.raises(ValueError, match="other settings or data; it cannot be resumed"):
        olden_test(net, X, y, checkpoint=path, **other)


def test_olden_checkpoint_arguments_are_checked(tmp_path):
    net, X, y = olden_problem()
    with pytest.raises(ValueError, match="`checkpoint` needs an integer `random_state`"):
        olden_test(net, X, y, checkpoint=str(tmp_path / "a.npz"), **{**OLDEN, "random_state": None})
    with pytest.raises(TypeError, match="`checkpoint` must be None or a file path"):
        olden_test(net, X, y, checkpoint=3, **OLDEN)
    with pytest.raises(ValueError, match="`devices` must be one of"):
        olden_test(net, X, y, devices=2, **OLDEN)
    run = train_with_snapshots(*plane_problem(), **{**RUN, "epochs": 2, "snapshot_epochs": [0, 2]},
                               checkpoint=tmp_path / "run.npz")
    assert run.params[0].W.shape[0] == 2
    with pytest.raises(ValueError, match="is not a checkpoint of olden_test"):
        olden_test(net, X, y, checkpoint=str(tmp_path / "run.npz"), **OLDEN)


CHILD = textwrap.dedent("""
    import os, sys, time
    import jax
    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from test_checkpoint_long_runs import OLDEN, olden_problem
    from shallownet.interpret import olden_test

    def progress(done, total):
        if done == 110:  # in the second group, after its first 50 epochs were saved
            open({marker!r}, "w").close()
            time.sleep(120)

    net, X, y = olden_problem()
    olden_test(net, X, y, checkpoint={path!r}, progress=progress, **OLDEN)
""")


def test_olden_test_killed_with_sigkill_resumes_to_the_same_numbers(tmp_path, olden_reference):
    path, marker = str(tmp_path / "olden.npz"), str(tmp_path / "marker")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = CHILD.format(root=root, tests=os.path.dirname(os.path.abspath(__file__)), marker=marker, path=path)
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "SHALLOWNET_CACHE_DIR": "off"}
    child = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=str(tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not os.path.exists(marker):
            if child.poll() is not None:
                pytest.fail(f"child ended early: {child.communicate()[1].decode()[-2000:]}")
            assert time.monotonic() < deadline, "child did not reach the second group"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    # killed mid-run: one finished group and the second group's training state on disk
    assert read_checkpoint(path)[0]["null"].shape == (2, 2, 1)
    assert read_checkpoint(path + ".group")[1]["epochs_done"] == 50
    net, X, y = olden_problem()
    resumed = olden_test(net, X, y, checkpoint=path, **OLDEN)
    np.testing.assert_array_equal(resumed.null, olden_reference.null)


# -- information plane ---------------------------------------------------------------------

def plane_problem(n=64):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, size=(n, 5)).astype(float)
    y = (X[:, :3].sum(axis=1) >= 2).astype(int)
    return X, y


RUN = dict(hidden_layer_sizes=(4, 3), n_seeds=2, epochs=120, snapshot_epochs=[0, 1, 2, 5, 10, 30, 60, 100, 120],
           learning_rate=0.01, batch_size=16, random_state=5, dtype="float64", train_index=np.arange(48))


def assert_same_run(a, b):
    for x, z in zip(a.params, b.params):
        np.testing.assert_array_equal(np.asarray(x.W), np.asarray(z.W))
        np.testing.assert_array_equal(np.asarray(x.b), np.asarray(z.b))
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k])


def test_interrupted_snapshot_training_resumes_to_the_same_run(tmp_path):
    X, y = plane_problem()
    reference = train_with_snapshots(X, y, **RUN)
    path = tmp_path / "run.npz"
    with pytest.raises(Interrupt):
        train_with_snapshots(X, y, **RUN, checkpoint=path, progress=stop_at(1))  # after 50 epochs
    seen = []
    resumed = train_with_snapshots(X, y, **RUN, checkpoint=path, progress=lambda d, t, loss: seen.append(d))
    assert seen == [100, 120]
    assert_same_run(resumed, reference)
    with pytest.raises(ValueError, match="other settings, data"):
        train_with_snapshots(X, y, **{**RUN, "learning_rate": 0.02}, checkpoint=path)
    with pytest.raises(ValueError, match="needs an integer `random_state`"):
        train_with_snapshots(X, y, **{**RUN, "random_state": None}, checkpoint=path)


@pytest.fixture(scope="module")
def run_():
    return train_with_snapshots(*plane_problem(), **RUN)


@pytest.fixture
def blocks_of_two(monkeypatch):
    """Two snapshots per compiled block, so a run of 9 snapshots has 5 blocks."""
    real = plane_module._plan
    monkeypatch.setattr(plane_module, "_plan", lambda *a: (2, real(*a)[1]))


@pytest.mark.parametrize("estimator", ["binning", KDE(noise_variance=0.05)])
@pytest.mark.parametrize("stop", [1, 3])
def test_interrupted_information_plane_resumes_to_the_same_numbers(tmp_path, run_, blocks_of_two, estimator, stop):
    reference = information_plane(run_, estimator=estimator, random_state=2)
    path = tmp_path / "plane.npz"
    with pytest.raises(Interrupt):
        information_plane(run_, estimator=estimator, random_state=2, checkpoint=path, progress=stop_at(stop))
    assert read_checkpoint(path)[0]["I_XT"].shape[1] == 2 * stop  # (layers, snapshots done, seeds)
    seen = []
    resumed = information_plane(run_, estimator=estimator, random_state=2, checkpoint=path,
                                progress=lambda d, t: seen.append(d))
    assert seen[0] == 2 * stop + 2  # finished blocks were not computed again
    for name in ("I_XT", "I_TY", "I_XT_lower", "I_TY_lower"):
        a, b = getattr(resumed, name), getattr(reference, name)
        if b is None:
            assert a is None
        else:
            np.testing.assert_array_equal(a, b)
    assert resumed.to_frame().equals(reference.to_frame())


def test_information_plane_checkpoint_of_another_computation_is_refused(tmp_path, run_):
    path = tmp_path / "plane.npz"
    information_plane(run_, checkpoint=path)
    with pytest.raises(ValueError, match="for another run, other rows or another estimator or seed"):
        information_plane(run_, estimator=KDE(noise_variance=0.1), checkpoint=path)
    with pytest.raises(ValueError, match="for another run, other rows or another estimator or seed"):
        information_plane(run_, random_state=1, checkpoint=path)
    X, y = plane_problem()
    with pytest.raises(ValueError, match="for another run, other rows or another estimator or seed"):
        information_plane(run_, X[:40], y[:40], checkpoint=path)
    other = tmp_path / "olden.npz"
    net, Xo, yo = olden_problem()
    olden_test(net, Xo, yo, checkpoint=str(other), **{**OLDEN, "max_iter": 2})
    with pytest.raises(ValueError, match="is not a checkpoint of information_plane"):
        information_plane(run_, checkpoint=other)


# -- estimator -----------------------------------------------------------------------------

def test_estimator_checkpoint_resumes_and_is_a_plain_parameter(tmp_path):
    X, y = plane_problem()
    settings = dict(hidden_layer_sizes=(3,), n_members=2, n_iter_no_change=None, dtype="float64", random_state=0)
    reference = ShallowNetClassifier(max_iter=100, **settings).fit(X, y)
    path = tmp_path / "fit.npz"
    first = ShallowNetClassifier(max_iter=50, checkpoint=path, **settings)
    assert first.get_params()["checkpoint"] is path  # stored unchanged
    first.fit(X, y)
    resumed = ShallowNetClassifier(max_iter=100, checkpoint=path, **settings).fit(X, y)  # 50 more epochs
    for a, b in zip(resumed.network_.params, reference.network_.params):
        np.testing.assert_array_equal(np.asarray(a.W), np.asarray(b.W))
        np.testing.assert_array_equal(np.asarray(a.b), np.asarray(b.b))
    np.testing.assert_array_equal(resumed.history_["train_loss"], reference.history_["train_loss"])
    assert ShallowNetClassifier().get_params()["checkpoint"] is None
    with pytest.raises(ValueError, match="other settings, data"):
        ShallowNetClassifier(max_iter=100, checkpoint=path, **{**settings, "random_state": 1}).fit(X, y)
    with pytest.raises(ValueError, match="needs an integer `random_state`"):
        ShallowNetClassifier(checkpoint=path, **{**settings, "random_state": None}).fit(X, y)
    with pytest.raises(TypeError, match="`checkpoint` must be None or a file path"):
        ShallowNetClassifier(checkpoint=1.5, **settings).fit(X, y)
