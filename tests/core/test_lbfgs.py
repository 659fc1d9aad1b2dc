"""Full-batch L-BFGS (issue 14): the optimum against statsmodels, scikit-learn and scipy, members
that stop on their own, restarts, row weights, checkpoints, no recompilation, the evidence and
its warning, and the errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import scipy.optimize
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import shallownet as sn
from shallownet.models.layers import Dense, init_members
from shallownet.training import estimator as estimator_module
from shallownet.training.convergence import objective_and_gradient_norm
from shallownet.training.epochs import member_loss
from shallownet.training.lbfgs import fit_lbfgs, run_lbfgs


def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog[["GPA", "TUCE", "PSI"]], data.endog.astype(int).to_numpy()


def test_zero_hidden_network_is_the_maximum_likelihood_logit_of_statsmodels():
    """Spector data: statsmodels' (and Stata's) maximum log-likelihood is -12.88963."""
    X, y = spector()
    logit = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-12)
    assert logit.llf == pytest.approx(-12.88963, abs=1e-5)
    default = sn.ShallowNetClassifier(hidden_layer_sizes=(), alpha=0.0, dtype="float64", random_state=0).fit(X, y)
    assert default.optimizer_ == "lbfgs"  # "auto" on 32 rows
    assert -len(y) * default.objective_[0] == pytest.approx(logit.llf, rel=1e-8)  # default tolerances
    # to the last digit: a gradient of 1e-9 and no relative-decrease stop
    clf = sn.ShallowNetClassifier(hidden_layer_sizes=(), alpha=0.0, optimizer="lbfgs", max_iter=500,
                                  gtol=1e-9, ftol=0.0, dtype="float64", random_state=0).fit(X, y)
    assert -len(y) * clf.objective_[0] == pytest.approx(logit.llf, rel=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], logit.predict(sm.add_constant(X)), atol=1e-6)
    assert clf.converged_.all() and clf.convergence_.reason[0] == "gradient"


def test_softmax_fit_equals_penalised_multinomial_logistic_regression_of_scikit_learn():
    X, y = load_iris(return_X_y=True, as_frame=True)
    C = 10.0
    clf = sn.ShallowNetClassifier(hidden_layer_sizes=(), alpha=1.0 / (C * len(y)), optimizer="lbfgs",
                                  max_iter=1000, gtol=1e-10, ftol=0.0, dtype="float64", random_state=0).fit(X, y)
    Z = clf.encoder_.transform(X)  # the same [0, 1] inputs for both sides
    lr = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(Z, y)
    np.testing.assert_allclose(clf.predict_proba(X), lr.predict_proba(Z), atol=1e-6)


def _flat_objective(params_template, Z, y, alpha, activation, output):
    """The penalised objective as a function of one flat float64 vector (scipy's view)."""
    leaves, tree = jax.tree_util.tree_flatten(params_template)
    shapes = [leaf.shape for leaf in leaves]
    sizes = [int(np.prod(s)) for s in shapes]

    def unflatten(v):
        parts, at = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(v[at:at + size].reshape(shape))
            at += size
        return jax.tree_util.tree_unflatten(tree, parts)

    f = jax.jit(jax.value_and_grad(
        lambda v: member_loss(unflatten(v), Z, y, jnp.ones(Z.shape[0]), alpha, activation, output)
    ))
    flat = np.concatenate([np.ravel(leaf) for leaf in leaves])
    return (lambda v: tuple(np.asarray(a, np.float64) for a in f(jnp.asarray(v)))), flat


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
def test_scipy_lbfgsb_cannot_lower_the_objective_from_where_we_stop(hidden):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    clf = sn.ShallowNetClassifier(hidden_layer_sizes=hidden, alpha=1e-3, optimizer="lbfgs", max_iter=2000,
                                  dtype="float64", random_state=0).fit(X, y)
    Z = jnp.asarray(clf.encoder_.transform(X))
    one = jax.tree_util.tree_map(lambda a: jnp.asarray(a[0]), clf.network_.params)
    f, start = _flat_objective(one, Z, jnp.asarray(y), 1e-3, "logistic", "sigmoid")
    ours = f(start)[0]
    assert ours == pytest.approx(clf.objective_[0], rel=1e-10)  # the reported evidence is the objective
    best = scipy.optimize.minimize(f, start, jac=True, method="L-BFGS-B",
                                   options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15})
    # default tolerances (gtol 1e-5, ftol 2.2e-9): within 1e-5 of the optimum scipy finds with
    # ftol 1e-15 (from Adam's default stopping point scipy lowers this objective by 21 %)
    assert best.fun >= ours - 1e-5 * abs(ours)
    assert clf.converged_.all() and clf.grad_norm_[0] <= 1e-4


def test_members_stop_on_their_own_and_reach_the_lone_optimum():
    X, y = load_iris(return_X_y=True)
    Z = (X - X.min(0)) / (X.max(0) - X.min(0))
    start = init_members(jax.random.split(jax.random.PRNGKey(0), 3), (4, 4, 3), "tanh", jnp.float64)
    kw = dict(activation="tanh", output="softmax", alpha=1e-2, max_iter=400, dtype=jnp.float64)
    joint, history = fit_lbfgs(start, Z, y, **kw)
    assert len(set(history["n_iter"].tolist())) > 1  # they did stop at different iterations
    # a member is untouched by the others: change member 2's start, members 0 and 1 are bit-identical
    other = jax.tree_util.tree_map(lambda a: a.at[2].multiply(3.0), start)
    changed, changed_history = fit_lbfgs(other, Z, y, **kw)
    for a, b in zip(jax.tree_util.tree_leaves(joint), jax.tree_util.tree_leaves(changed)):
        np.testing.assert_array_equal(np.asarray(a[:2]), np.asarray(b[:2]))
    np.testing.assert_array_equal(history["n_iter"][:2], changed_history["n_iter"][:2])
    # and reaches the optimum it reaches alone (batched and lone products round differently,
    # so the paths agree to rounding, not bit for bit)
    for m in range(3):
        lone, lone_history = fit_lbfgs(jax.tree_util.tree_map(lambda a: a[m:m + 1], start), Z, y, **kw)
        np.testing.assert_allclose(lone_history["objective"][0], history["objective"][m], rtol=1e-6)
    # the per-iteration record is NaN once a member has stopped
    m = int(np.argmin(history["n_iter"]))
    stopped = history["n_iter"][m]
    assert np.isnan(history["train_loss"][stopped:, m]).all()
    assert np.isfinite(history["train_loss"][:stopped, m]).all()


def test_row_weights_equal_repeated_rows():
    X, y = load_iris(return_X_y=True)
    Z = (X - X.min(0)) / (X.max(0) - X.min(0))
    counts = np.random.default_rng(1).integers(0, 3, size=len(y))
    start = init_members(jax.random.split(jax.random.PRNGKey(2), 1), (4, 3, 3), "tanh", jnp.float64)
    kw = dict(activation="tanh", output="softmax", alpha=1e-2, max_iter=500, dtype=jnp.float64)
    weighted, _ = fit_lbfgs(start, Z, y, sample_weight=counts[None, :].astype(float), **kw)
    repeated, _ = fit_lbfgs(start, np.repeat(Z, counts, axis=0), np.repeat(y, counts), **kw)
    for a, b in zip(jax.tree_util.tree_leaves(weighted), jax.tree_util.tree_leaves(repeated)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_n_init_keeps_the_start_with_the_lowest_objective():
    X, y = load_iris(return_X_y=True, as_frame=True)
    kw = dict(hidden_layer_sizes=(3,), n_members=2, alpha=1e-4, optimizer="lbfgs", max_iter=300,
              dtype="float64", random_state=4)
    clf = sn.ShallowNetClassifier(n_init=3, **kw).fit(X, y)
    Z = clf.encoder_.transform(X)
    # the documented layout: start r of member m is network m * n_init + r of one batch
    key_init = jax.random.split(jax.random.PRNGKey(4), 3)[0]
    starts = init_members(jax.random.split(key_init, 6), (4, 3, 3), "logistic", jnp.float64)
    _, history = fit_lbfgs(starts, Z, np.asarray(pd.Categorical(y).codes), activation="logistic",
                           output="softmax", alpha=1e-4, max_iter=300, dtype=jnp.float64)
    expected = history["objective"].reshape(2, 3).min(axis=1)
    np.testing.assert_allclose(clf.objective_, expected, rtol=1e-9)
    single = sn.ShallowNetClassifier(n_init=1, **kw).fit(X, y)
    assert single.objective_.shape == (2,)


def test_repeated_fits_with_the_same_shapes_do_not_recompile():
    X, y = load_iris(return_X_y=True)
    sn.ShallowNetClassifier((3,), optimizer="lbfgs", max_iter=30, random_state=0).fit(X, y)
    compiled = run_lbfgs._cache_size()
    rng = np.random.default_rng(0)
    sn.ShallowNetClassifier((3,), optimizer="lbfgs", max_iter=30, alpha=0.1, gtol=1e-3,
                            random_state=1).fit(X + rng.normal(size=X.shape), y)
    assert run_lbfgs._cache_size() == compiled


def test_checkpoint_resumes_to_the_numbers_of_an_uninterrupted_run(tmp_path):
    X, y = load_iris(return_X_y=True)
    Z = (X - X.min(0)) / (X.max(0) - X.min(0))
    start = init_members(jax.random.split(jax.random.PRNGKey(5), 2), (4, 4, 3), "tanh", jnp.float64)
    kw = dict(activation="tanh", output="softmax", alpha=1e-4, chunk_iters=10, dtype=jnp.float64)
    whole, whole_history = fit_lbfgs(start, Z, y, max_iter=60, **kw)
    path = str(tmp_path / "fit.npz")
    fit_lbfgs(start, Z, y, max_iter=20, checkpoint=path, **kw)  # "interrupted" after 20
    resumed, resumed_history = fit_lbfgs(start, Z, y, max_iter=60, checkpoint=path, **kw)
    for a, b in zip(jax.tree_util.tree_leaves(whole), jax.tree_util.tree_leaves(resumed)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(whole_history["n_iter"], resumed_history["n_iter"])
    np.testing.assert_array_equal(whole_history["train_loss"], resumed_history["train_loss"])
    with pytest.raises(ValueError, match="other settings, data or initial"):
        fit_lbfgs(start, Z, y, max_iter=60, checkpoint=path, **{**kw, "alpha": 1e-3})


def test_convergence_warning_names_the_members_and_the_remedy():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"3 of 3 members did not converge \(members 0, 1, 2; "
                                                r"stopped by: max_iter.*raise max_iter \(now 3 iterations\)"):
        clf = sn.ShallowNetClassifier((4,), n_members=3, optimizer="lbfgs", max_iter=3, random_state=0).fit(X, y)
    assert not clf.converged_.any() and (clf.n_iter_ == 3).all()
    frame = clf.convergence_.to_frame()
    assert list(frame["reason"]) == ["max_iter"] * 3
    assert "0 of 3 members converged" in clf.summary()
    # the evidence is the objective and gradient at the returned weights, whatever optimiser
    Z = clf.encoder_.transform(X)
    objective, grad = objective_and_gradient_norm(clf.network_.params, Z, y, None, clf.alpha,
                                                  activation="logistic", output="softmax")
    np.testing.assert_allclose(clf.objective_, objective, rtol=1e-5)
    np.testing.assert_allclose(clf.grad_norm_, grad, rtol=1e-4)


def test_converged_fit_is_silent_and_adam_fits_carry_the_same_evidence():
    X, y = load_iris(return_X_y=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = sn.ShallowNetClassifier((4,), optimizer="lbfgs", max_iter=1000, dtype="float64",
                                      random_state=0).fit(X, y)
    assert clf.optimizer_ == "lbfgs" and clf.converged_.all()
    adam = sn.ShallowNetClassifier((4,), optimizer="adam", max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="optimizer='lbfgs'"):
        adam.fit(X, y)
    assert adam.optimizer_ == "adam" and adam.convergence_.reason.tolist() == ["max_iter"]
    assert adam.objective_[0] > clf.objective_[0]


def test_auto_uses_lbfgs_for_small_data_and_adam_beyond_the_threshold(monkeypatch):
    X, y = load_iris(return_X_y=True)
    assert sn.ShallowNetClassifier((3,), max_iter=50, random_state=0).fit(X, y).optimizer_ == "lbfgs"
    monkeypatch.setattr(estimator_module, "AUTO_LBFGS_MAX_VALUES", X.size - 1)
    big = sn.ShallowNetClassifier((3,), max_iter=5, n_iter_no_change=None, random_state=0).fit(X, y)
    assert big.optimizer_ == "adam"
    assert sn.ShallowNetClassifier((3,), max_iter=5, n_iter_no_change=None, stream=True,
                                   random_state=0).fit(X, y).optimizer_ == "adam"


def test_two_hidden_layers_float32_and_early_stopping():
    X, y = load_breast_cancer(return_X_y=True)
    clf = sn.ShallowNetClassifier((6, 3), n_members=2, bootstrap=True, optimizer="lbfgs", max_iter=2000,
                                  random_state=0).fit(X, y)
    assert clf.network_.params[0].W.dtype == jnp.float32
    assert clf.converged_.all() and clf.score(X, y) > 0.95
    es = sn.ShallowNetClassifier((6,), optimizer="lbfgs", early_stopping=True, n_iter_no_change=5,
                                 max_iter=500, alpha=0.0, random_state=0).fit(X, y)
    assert es.history_["val_loss"].shape[1] == 1 and np.isfinite(es.history_["val_accuracy"][0]).all()
    assert es.convergence_.reason[0] in ("validation", "gradient", "objective")


def test_regressor_lbfgs_is_ordinary_least_squares():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.uniform(size=200), "b": rng.normal(size=200)})
    y = 3 + 2 * X["a"] - 0.5 * X["b"] + rng.normal(scale=0.1, size=200)
    reg = sn.ShallowNetRegressor(hidden_layer_sizes=(), activation="identity", alpha=0.0, optimizer="lbfgs",
                                 max_iter=500, gtol=1e-10, ftol=0.0, dtype="float64", random_state=0).fit(X, y)
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(reg.predict(X), ols.fittedvalues, rtol=1e-7)
    assert reg.converged_.all()


def test_errors():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="cannot be combined with stream=True"):
        sn.ShallowNetClassifier(optimizer="lbfgs", stream=True).fit(X, y)
    with pytest.raises(ValueError, match="`n_init` must be >= 1"):
        sn.ShallowNetClassifier(n_init=0).fit(X, y)
    with pytest.raises(ValueError, match="`gtol` must be > 0"):
        sn.ShallowNetClassifier(gtol=0.0).fit(X, y)
    bad = (Dense(jnp.full((1, 4, 3), jnp.inf), jnp.zeros((1, 3))),)
    Z = (X - X.min(0)) / (X.max(0) - X.min(0))
    with pytest.raises(ValueError, match=r"NaN or infinite for member\(s\) \[0\]"):
        fit_lbfgs(bad, Z, y, activation="relu", output="softmax", alpha=0.0, max_iter=5)
