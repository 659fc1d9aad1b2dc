"""Issue 18: bad inputs that used to give a silent wrong result or an unhelpful crash.

Each test reproduces one case of the bad-input sweep (it failed on the main branch before
the fix) and checks the error or warning names the column (or member) and the remedy.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import shallownet as sn

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _two_columns(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.uniform(-5, 5, size=n)})
    y = (X["a"] > 0.5).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def frame_model():
    X, y = _two_columns()
    return sn.ShallowNetClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0).fit(X, y), X, y


# -- item 5: arrays after a DataFrame fit ---------------------------------------------------

def test_an_array_after_a_dataframe_fit_gets_the_feature_names_warning(frame_model):
    clf, X, _ = frame_model
    swapped = X[["b", "a"]].to_numpy()
    with pytest.warns(UserWarning, match="X does not have valid feature names, but ShallowNetClassifier "
                                         "was fitted with feature names"):
        clf.predict(swapped)
    with pytest.warns(UserWarning, match="taken by position"):
        sn.interpret.sensitivity(clf, swapped)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(clf.predict_proba(X[["b", "a"]]), clf.predict_proba(X))


def test_an_array_fit_takes_arrays_without_a_warning(tmp_path):
    X, y = _two_columns()
    clf = sn.ShallowNetClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X.to_numpy(), y)
    back = sn.load(sn.save(clf, tmp_path / "m.npz"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict(X.to_numpy())
        sn.interpret.sensitivity(back, X.to_numpy())


# -- item 6: overflowing ranges and non-finite losses -------------------------------------

def test_a_column_whose_range_overflows_is_refused_by_name():
    X, y = _two_columns(20)
    X.loc[0, "b"], X.loc[1, "b"] = 1e308, -1e308
    with pytest.raises(ValueError, match=r"Column 'b' spans .*overflows.*Rescale"):
        sn.ShallowNetClassifier(max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="Column 'b'"):
        sn.data.Encoder().fit(X)


def test_adam_training_fails_loudly_on_a_non_finite_loss():
    X, y = _two_columns(20)
    clf = sn.ShallowNetClassifier(hidden_layer_sizes=(4,), optimizer="adam", learning_rate=1e38,
                                  n_members=2, max_iter=20, random_state=0)
    with pytest.raises(ValueError, match=r"diverged.*member\(s\) \[0, 1\] at epoch\(s\) \[1, 1\]"):
        clf.fit(X, y)


def test_lbfgs_training_fails_loudly_on_a_non_finite_objective():
    import jax
    import jax.numpy as jnp

    from shallownet.models.layers import init_members
    from shallownet.training.lbfgs import fit_lbfgs

    params = init_members(jax.random.split(jax.random.PRNGKey(0), 2), (2, 4, 1), "identity", jnp.float32)
    Z = np.full((20, 2), 3e38, np.float32)  # the first layer's products overflow float32
    y = np.r_[np.zeros(10), np.ones(10)].astype(np.int32)
    with pytest.raises(ValueError, match=r"diverged.*member\(s\) \[0, 1\] at iteration\(s\) \[0, 0\]"):
        fit_lbfgs(params, Z, y, activation="identity", output="sigmoid", alpha=1e-4, max_iter=5)


# -- item 10: weights at the float32 limit -------------------------------------------------

def test_methods_refuse_a_network_whose_outputs_overflow():
    import jax.numpy as jnp

    from shallownet.data.variables import default_variables
    from shallownet.models.layers import Dense

    rng = np.random.default_rng(0)
    W1 = np.full((2, 4), 1e38)
    W1[1] = -1e38
    weights = [(W1, np.zeros(4)), (np.full((4, 3), 1e38) * [1, -1, 1], np.zeros(3))]
    params = tuple(Dense(jnp.asarray(W[None], jnp.float32), jnp.asarray(b[None], jnp.float32)) for W, b in weights)
    net = sn.Network(params, "relu", "softmax", np.arange(3), default_variables(2))  # float32 weights
    X = rng.uniform(size=(12, 2))
    y = np.arange(12) % 3
    calls = {
        "predict_proba": lambda: net.predict_proba(X),
        "sensitivity": lambda: sn.interpret.sensitivity(net, X),
        "expected_influence": lambda: sn.interpret.expected_influence(net, X, y, conditional="marginal"),
        "potential_influence": lambda: sn.interpret.potential_influence(net, X, y),
        "profile": lambda: sn.interpret.profile(net, X, "x0"),
        "hidden_activity": lambda: sn.interpret.hidden_activity(net, X, y),
        "permutation_importance": lambda: sn.interpret.permutation_importance(net, X, y),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match="outputs are NaN or infinite for member"):
            call()
            pytest.fail(f"{name} returned")
    # the weight-based methods read finite weights and stay defined
    assert np.all(np.isfinite(sn.interpret.garson(net).to_frame()["mean"]))


# -- item 8: exceptions that escaped unexplained -------------------------------------------

def test_a_target_mixing_numbers_and_strings_is_a_value_error():
    X, _ = _two_columns(8)
    y = np.array([1, "a", 2, "b", 1, "a", 2, "b"], dtype=object)
    with pytest.raises(ValueError, match="mixes label types.*astype"):
        sn.ShallowNetClassifier(max_iter=2).fit(X, y)


def _near_collinear(seed=3, n=40):
    """The first design of the sweep that made statsmodels raise LinAlgError (three classes,
    ``b = a + 1e-10 * noise``); the generator walks the sweep's draws to reach it."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(size=n)
    for K in (2, 3):
        for eps in (1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 1e-13):
            X = pd.DataFrame({"a": a, "b": a + eps * rng.normal(size=n), "c": rng.uniform(size=n)})
            y = np.digitize(a + 0.3 * rng.normal(size=n), [0.5] if K == 2 else [0.4, 0.7])
            if K == 3 and eps == 1e-10:
                return X, y


def test_fit_logistic_on_near_collinear_columns_names_them():
    from shallownet.baselines import LogisticFitError

    X, y = _near_collinear()
    with pytest.raises(LogisticFitError, match=r"nearly collinear columns: \['a \(VIF .*'b \(VIF"):
        sn.baselines.fit_logistic(X, y, cv=2)


def test_a_truncated_or_corrupt_checkpoint_is_a_clear_error(tmp_path):
    from shallownet.checkpoint import read_checkpoint, write_checkpoint

    path = tmp_path / "c.npz"
    write_checkpoint(path, {"a": np.arange(1000.0)}, {"format": "x"})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or damaged.*start afresh"):
        read_checkpoint(path)
    flipped = bytearray(data)
    flipped[200] ^= 0xFF  # inside the array's bytes: the CRC check fails
    path.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="truncated or damaged"):
        read_checkpoint(path)


def test_a_fitted_pipeline_is_read_through_or_explained():
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    X, y = _two_columns(30)
    mlp_args = dict(hidden_layer_sizes=(3,), max_iter=50, random_state=0)
    plain = make_pipeline(FunctionTransformer(), MLPClassifier(**mlp_args)).fit(X.to_numpy(), y)
    g = sn.interpret.garson(plain)
    np.testing.assert_allclose(g.to_frame()["mean"], sn.interpret.garson(plain[-1]).to_frame()["mean"])
    scaled = make_pipeline(StandardScaler(), MLPClassifier(**mlp_args)).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match=r"transforms its inputs \(standardscaler\).*pipe\[-1\].*pipe\[:-1\]\.transform"):
        sn.interpret.garson(scaled)


# -- item 9: thin data that used to pass silently ------------------------------------------

def test_a_class_with_one_row_is_warned_about_by_name():
    X, _ = _two_columns(12)
    y = np.array(["a", "b"] * 5 + ["a", "lonely"])
    with pytest.warns(sn.data.DataWarning, match=r"\['lonely'\] have a single training row"):
        sn.ShallowNetClassifier(hidden_layer_sizes=(2,), max_iter=2).fit(X, y)


def test_missing_drop_removing_every_row_of_a_class_is_an_error():
    X, _ = _two_columns(12)
    y = np.array(["a", "b"] * 5 + ["c", "c"])
    X.loc[[10, 11], "a"] = np.nan
    with pytest.raises(ValueError, match=r"dropped every row of class\(es\) \['c'\]"):
        sn.ShallowNetClassifier(missing="drop", max_iter=2).fit(X, y)


def test_early_stopping_on_two_rows_is_an_error_naming_validation_fraction():
    X, y = _two_columns(2)
    with pytest.raises(ValueError, match="validation_fraction=0.1 of the 2 training rows"):
        sn.ShallowNetClassifier(early_stopping=True, max_iter=2).fit(X, [0, 1])


def test_a_near_collinear_design_warns_naming_the_columns():
    from shallownet.baselines.logistic import CollinearityWarning

    rng = np.random.default_rng(0)
    a = rng.uniform(size=60)
    X = pd.DataFrame({"a": a, "b": a + 1e-5 * rng.normal(size=60), "c": rng.uniform(size=60)})
    y = (a + 0.3 * rng.normal(size=60) > 0.5).astype(int)
    with pytest.warns(CollinearityWarning, match=r"nearly collinear design columns \['a \(VIF.*'b \(VIF"):
        fit = sn.baselines.fit_logistic(X, y)
    assert np.max(np.abs(fit.coefficients.params)) > 30  # the huge, meaningless estimates warned of


def test_a_dropped_constant_column_varying_at_predict_time_is_reported():
    X, y = _two_columns(20)
    X["site"] = "A"
    with pytest.warns(sn.data.DataWarning, match="Dropped constant column 'site'"):
        clf = sn.ShallowNetClassifier(hidden_layer_sizes=(2,), constant="drop", max_iter=2).fit(X, y)
    later = X.assign(site=["A"] * 15 + ["B"] * 5)
    with pytest.warns(sn.data.DataWarning, match=r"'site' was 'A' in every training row, here 5 row\(s\) differ"):
        clf.predict(later)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sn.data.DataWarning)
        clf.predict(X)


def test_a_model_file_keeps_the_dropped_constants_and_identifier_columns(tmp_path):
    """A loaded model still knows which constant columns it dropped (and their values), so a
    varying one is reported after loading as before; the identifier warnings survive too."""
    X, y = _two_columns(20)
    X["site"] = "A"
    X["batch"] = np.int64(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = sn.ShallowNetClassifier(hidden_layer_sizes=(2,), constant="drop", max_iter=2).fit(X, y)
    loaded = sn.load(sn.save(clf, tmp_path / "m.npz"))
    enc = loaded.encoder_
    assert enc.dropped_constants_ == {"site": "A", "batch": 7}
    assert sorted(enc.dropped_columns_) == sorted(clf.encoder_.dropped_columns_) == ["batch", "site"]
    assert enc.identifier_columns_ == clf.encoder_.identifier_columns_
    later = X.assign(batch=[7] * 16 + [8] * 4)
    with pytest.warns(sn.data.DataWarning, match=r"'batch' was 7.0 in every training row, here 4 row\(s\) differ \(e.g. 8\)"):
        loaded.predict(later)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("column, message", [
    (pd.date_range("2020-01-01", periods=12), "holds dates/times"),
    (pd.to_timedelta(np.arange(12), unit="h"), "holds durations"),
    (np.arange(12) * (1 + 1j), "holds complex numbers"),
    ([f"2021-03-{d:02d}" for d in range(1, 13)], "holds dates"),
])
def test_date_and_complex_columns_are_refused_by_name(column, message):
    X, y = _two_columns(12)
    X["when"] = column
    with pytest.raises(ValueError, match=f"Column 'when' {message}"):
        sn.data.Encoder().fit(X)
    # ISO date strings declared categorical are kept as categories, as asked
    if isinstance(column, list):
        assert sn.data.Encoder(categorical=["when"]).fit(X).variables_[-1].kind == "enumerated"
