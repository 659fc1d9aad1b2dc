"""The peers the benchmarks time must compute what they are said to compute.

``benchmarks/bench_influence.py`` times our EI against a NumPy per-case loop of the same
estimator and our partial derivatives against a NumPy loop of the analytic Jacobian; its
"identical to the loop" claim rests on these loops agreeing with the library. CI has no SHAP
(the ``bench`` extra), so the SHAP part is not run here.
"""

import warnings

import pytest

import numpy as np

from benchmarks.bench_influence import data, loop_expected_influence, loop_jacobian
from shallownet import ShallowNetClassifier, ShallowNetRegressor
from shallownet.interpret.influence import expected_influence
from shallownet.interpret.sensitivity import sensitivity


def _model(n):
    X, y = data(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = ShallowNetClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(X, y)
    return X, clf


def test_numpy_loops_of_the_influence_benchmark_agree_with_the_library():
    X, clf = _model(400)
    net = clf.network_
    x = net.encode(X)
    ei = expected_influence(clf, X, n_grid=51)
    rows = np.arange(0, 400, 37)
    loop_ei, t_cond, t_flip = loop_expected_influence(net, x, rows, ei.n_neighbors, 51)
    assert ei.n_neighbors == 20 and t_cond > 0 and t_flip > 0
    np.testing.assert_allclose(loop_ei, ei.expected[rows], rtol=0, atol=1e-6)
    assert loop_ei.max() > 0.1  # some variables do change some decisions
    jac = loop_jacobian(net, x.astype(np.float64))
    np.testing.assert_allclose(jac, sensitivity(clf, X).effects[:, :, 1], rtol=0, atol=1e-5)


def test_the_regression_loop_of_the_influence_benchmark_agrees_with_the_library():
    X, _ = data(300)
    target = X[:, 0] + 0.8 * X[:, 1] - 0.6 * X[:, 2] * X[:, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = ShallowNetRegressor(hidden_layer_sizes=(16,), optimizer="adam", max_iter=20, random_state=0).fit(X, target)
    ei = expected_influence(reg, X, n_grid=51)
    rows = np.arange(0, 300, 29)
    loop_ei, _, _ = loop_expected_influence(reg.network_, reg.network_.encode(X), rows, ei.n_neighbors, 51,
                                            regression=True)
    np.testing.assert_allclose(loop_ei, ei.expected[rows][..., 0], rtol=1e-4, atol=1e-5)
    assert loop_ei.max() > 0.1  # x1 moves the prediction by more than that


def test_ale_benchmark_quick_agrees_with_pyale(capsys):
    pytest.importorskip("PyALE", reason="PyALE is not installed (it is in the bench extra)")
    from benchmarks.bench_ale import main

    out = main(quick=True)
    assert len(out["rows"]) == 4
    assert max(r["max_abs_diff"] for r in out["rows"]) < 1e-5
    assert "pyale/ours" in capsys.readouterr().out


def test_counterfactual_benchmark_quick_scores_both(capsys):
    pytest.importorskip("dice_ml", reason="dice-ml is not installed (it is in the bench extra)")
    from benchmarks.bench_counterfactuals import main

    rows = {r["method"]: r for r in main(quick=True)["rows"]}
    assert rows["ours"]["validity"] == 1.0 and rows["DiCE random"]["validity"] >= 0
    assert rows["ours"]["mean_changed"] <= 5
    assert "dice/ours" in capsys.readouterr().out


def test_shapley_benchmark_quick_runs():
    """The Shapley benchmark's quick mode (without the SHAP peers, tested in
    tests/interpret/test_shapley.py): exact values are efficient and the permutation
    estimate is near them."""
    from benchmarks import bench_shapley

    (result,) = bench_shapley.main(quick=True, peers=False)["settings"]
    assert result["efficiency_gap"] < 1e-5
    rows = {r["method"]: r for r in result["rows"]}
    assert 0 < rows["ours permutation (64 pairs)"]["max_abs_diff"] < 0.05
    assert rows["ours exact"]["s_per_row"] > 0


def test_missing_value_benchmark_smoke_run():
    """``bench_missing --quick``: listwise deletion keeps fewer rows than the indicator policy,
    which scores every test row; the peer pipeline sees the same rows."""
    from benchmarks.bench_missing import data, main

    X, _ = data(1000)
    assert abs(X.isna().to_numpy().mean() - 0.10) < 0.01  # about 10 % of the cells are missing
    result = main(quick=True)
    rows = {r["model"]: r for r in result["rows"]}
    drop, indicator = rows["shallownet drop (warm)"], rows["shallownet indicator (warm)"]
    assert drop["train_rows"] < indicator["train_rows"] == result["n_train"]
    assert drop["test_rows"] == result["complete_test_rows"] < indicator["test_rows"] == result["n_test"]
    peer = rows["sklearn imputer+indicator, MLP"]
    assert peer["test_rows"] == result["n_test"] and peer["peer_s_over_ours"] > 0
    assert all(0 <= r["accuracy"] <= 1 for r in result["rows"])
