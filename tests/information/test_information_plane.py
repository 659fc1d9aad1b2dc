"""Snapshot training and the information plane of runs and of users' fitted models."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from shallownet import ShallowNetClassifier
from shallownet.datasets import gaussian_pair, load_penguins, twelve_bit_task
from shallownet.information import (
    KDE,
    KSG,
    Binning,
    InformationPlane,
    TrainingRun,
    information_plane,
    mutual_information,
    snapshot_schedule,
    train_with_snapshots,
)
from shallownet.information.information_plane import plane_block
from shallownet.models.layers import layer_outputs

EPOCHS = (0, 1, 2, 5, 10, 30, 60)


@pytest.fixture(scope="module")
def task():
    return twelve_bit_task()


@pytest.fixture(scope="module")
def run(task):
    return train_with_snapshots(task.X, task.y, train_index=task.train_index, epochs=60, n_seeds=2,
                                snapshot_epochs=EPOCHS, random_state=3)


@pytest.fixture(scope="module")
def plane(run):
    return information_plane(run)


def test_snapshot_schedule_is_the_original_one():
    s = snapshot_schedule(10_000)
    assert len(s) == 279 and s[-1] == 9998 and np.array_equal(s[:30], np.arange(30))
    assert np.all(np.diff(s) > 0)
    assert len(snapshot_schedule(8000)) == 274
    with pytest.raises(ValueError, match="`n_points` must be >= 2"):
        snapshot_schedule(100, 1)


def test_training_run_keeps_snapshots_of_every_seed(run):
    assert isinstance(run, TrainingRun) and run.n_seeds == 2
    assert np.array_equal(run.epochs, EPOCHS)
    W0 = [np.asarray(layer.W) for layer in run.params]
    sizes = (12, 10, 7, 5, 4, 3, 2)
    assert [w.shape for w in W0] == [(7, 2, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    for layer, w in zip(run.params, W0):  # initialisation: truncated normal at 2 sd, zero biases
        assert np.all(np.asarray(layer.b)[0] == 0)
        assert np.all(np.abs(w[0]) <= 2 / np.sqrt(w.shape[2]) + 1e-6)
    assert not np.allclose(W0[0][0, 0], W0[0][0, 1])  # seeds start apart
    assert not np.allclose(W0[0][0], W0[0][-1])  # training moved the weights
    assert run.history["train_loss"].shape == (60, 2) and run.history["val_accuracy"].shape == (60, 2)
    frame = run.to_frame()
    assert len(frame) == 60 and frame["train_loss_mean"].iloc[-1] < frame["train_loss_mean"].iloc[0]
    assert "12-10-7-5-4-3-2 tanh" in run.summary()


def test_plane_shapes_and_exact_bounds(plane, task):
    assert isinstance(plane, InformationPlane)
    assert plane.I_XT.shape == (2, 7, 6) and plane.layers == ("h1", "h2", "h3", "h4", "h5", "output")
    assert plane.widths == (10, 7, 5, 4, 3, 2) and plane.I_XT_lower is None
    assert plane.H_X == pytest.approx(12.0) and plane.H_Y == pytest.approx(task.ground_truth["H_Y_bits"])
    assert np.all(plane.I_XT <= 12 + 1e-6) and np.all(plane.I_TY <= plane.H_Y + 1e-6)
    assert np.all(plane.I_TY >= -1e-6) and np.all(plane.I_TY <= plane.I_XT + 1e-6)
    frame = plane.to_frame()
    assert len(frame) == 7 * 6 and {"I_XT_mean", "I_XT_sd", "I_TY_mean", "I_TY_sd"} <= set(frame.columns)
    assert len(plane.compression()) == 6 and "h5" in plane.summary()
    assert plane.to_dict()["n_seeds"] == 2


def test_plane_equals_one_layer_estimates_of_the_snapshots(run, plane):
    # Peer: the same activations computed one snapshot at a time, estimated one layer at a time.
    X = jnp.asarray(run.X, jnp.float32)
    for e, s in [(0, 0), (6, 1)]:
        params = jax.tree_util.tree_map(lambda a: a[e, s], run.params)
        outs = layer_outputs(params, X, run.activation, run.output)
        for j in (0, 3, 5):
            r = mutual_information(np.asarray(outs[j]), run.y)
            assert plane.I_XT[s, e, j] == pytest.approx(r.I_XT, abs=1e-5)
            assert plane.I_TY[s, e, j] == pytest.approx(r.I_TY, abs=1e-5)


def test_blocks_do_not_change_results_and_repeated_calls_do_not_recompile(run, plane):
    size = plane_block._cache_size()
    again = information_plane(run)
    assert plane_block._cache_size() == size
    np.testing.assert_array_equal(again.I_XT, plane.I_XT)
    small = information_plane(run, memory_limit_mb=1)  # one snapshot per block
    np.testing.assert_allclose(small.I_XT, plane.I_XT, atol=1e-9)
    np.testing.assert_allclose(small.I_TY, plane.I_TY, atol=1e-9)


def test_plane_on_held_out_rows_of_a_run_with_kde(run, task):
    X, y = task.X.iloc[task.test_index], task.y.iloc[task.test_index]
    binned = information_plane(run, X, y)
    assert binned.H_X == pytest.approx(np.log2(len(task.test_index)))
    assert np.all(binned.I_XT <= binned.H_X + 1e-6)
    kde = information_plane(run, X, y, estimator=KDE(noise_variance=0.1))
    assert kde.I_XT_lower.shape == kde.I_XT.shape
    assert np.all(kde.I_XT_lower <= kde.I_XT + 1e-6) and np.all(kde.I_XT <= binned.H_X + 1e-6)
    assert np.all(kde.I_TY <= kde.H_Y + 1e-5)
    size = plane_block._cache_size()
    tiny = information_plane(run, X, y, estimator=KDE(noise_variance=1e-3))
    assert plane_block._cache_size() == size  # another s2 reuses the compiled block
    assert np.all(tiny.I_XT >= kde.I_XT - 1e-6)  # less noise, more information


@pytest.fixture(scope="module")
def penguins():
    X, y = load_penguins()
    keep = X.notna().all(axis=1).to_numpy()
    return X[keep], y[keep]


def test_plane_of_a_fitted_multiclass_ensemble_with_two_hidden_layers(penguins):
    X, y = penguins
    clf = ShallowNetClassifier(hidden_layer_sizes=(6, 4), activation="tanh", n_members=3, max_iter=40,
                               optimizer="adam", n_iter_no_change=None, random_state=0).fit(X, y)
    plane = information_plane(clf, X, y, estimator=KDE(noise_variance=0.01))
    assert plane.I_XT.shape == (3, 1, 3) and plane.layers == ("h1", "h2", "output")
    assert np.array_equal(plane.epochs, [40])
    h_y = -sum(p * np.log2(p) for p in y.value_counts(normalize=True))
    assert plane.H_Y == pytest.approx(h_y) and np.all(plane.I_TY <= h_y + 1e-6)
    assert np.all(plane.I_XT <= plane.H_X + 1e-6)
    binned = information_plane(clf.network_, X, y, estimator=Binning("adaptive", n_bins=8))
    assert binned.I_XT.shape == (3, 1, 3) and np.all(binned.I_XT <= binned.H_X + 1e-6)


def test_plane_of_a_sigmoid_scikit_learn_model_with_knn():
    from sklearn.neural_network import MLPClassifier

    data = gaussian_pair(400, 0.5, random_state=1)
    mlp = MLPClassifier((5,), max_iter=1000, random_state=0).fit(data.X.to_numpy(), data.y)
    plane = information_plane(mlp, data.X.to_numpy(), data.y, estimator=KSG(k=3, noise_variance=1e-3))
    assert plane.widths == (5, 1) and plane.I_TY.shape == (1, 1, 2)
    assert np.all(plane.I_TY > 0.3)  # the layers carry most of H(Y) = 1 bit
    ksg = information_plane(mlp, data.X.to_numpy(), data.y, estimator="ksg", random_state=1)
    assert np.all(np.abs(ksg.I_TY - plane.I_TY) < 0.1)  # another noise draw, close estimate


def test_bad_input_is_refused(run, task, penguins):
    with pytest.raises(ValueError, match="together"):
        information_plane(run, task.X)
    with pytest.raises(ValueError, match="labels the model does not know"):
        information_plane(run, task.X, np.full(4096, 7))
    with pytest.raises(ValueError, match="continuous inputs"):
        information_plane(run, estimator="ksg")
    with pytest.raises(ValueError, match="`memory_limit_mb` must be >= 1"):
        information_plane(run, memory_limit_mb=0)
    with pytest.raises(TypeError, match="`model` must be"):
        information_plane("not a model", task.X, task.y)
    with pytest.raises(ValueError, match="required for a fitted model"):
        information_plane(ShallowNetClassifier(max_iter=2, n_iter_no_change=None).fit(*penguins))
    with pytest.raises(ValueError, match="`snapshot_epochs` must be integers"):
        train_with_snapshots(task.X, task.y, epochs=5, snapshot_epochs=[0, 9])
    with pytest.raises(ValueError, match="`train_index`"):
        train_with_snapshots(task.X, task.y, epochs=5, train_index=[0, 0, 1])


def test_compression_is_each_seeds_drop_after_its_own_peak():
    # Two seeds, one layer: seed 0 rises to 5 then falls to 2 (drop 3); seed 1 peaks at 4 at the
    # end (drop 0). Mean curve 2, 4.5, 3: peak 4.5 at epoch 10.
    ixt = np.array([[[1.0], [5.0], [2.0]], [[3.0], [4.0], [4.0]]])
    plane = InformationPlane(np.array([0, 10, 100]), ("h1",), (3,), ixt, ixt / 10, None, None, 12.0, 1.0,
                             "binning", "tanh")
    row = plane.compression().iloc[0]
    assert row.I_XT_peak == 4.5 and row.peak_epoch == 10 and row.I_XT_final == 3.0
    assert row.compression == pytest.approx(1.5)
    assert row.compression_sd == pytest.approx(np.std([3.0, 0.0], ddof=1))
    assert row.compression_se == pytest.approx(row.compression_sd / np.sqrt(2))
