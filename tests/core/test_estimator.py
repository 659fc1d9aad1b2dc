"""The scikit-learn contract of ShallowNetClassifier and its bad-input errors."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import check_estimator

import shallownet as sn

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Checks that cannot apply, with the reason (none at present: the estimator passes them all;
# check_array_api_input is skipped by scikit-learn itself unless SCIPY_ARRAY_API is set).
NOT_APPLICABLE: dict[str, str] = {}


def test_scikit_learn_estimator_checks():
    results = check_estimator(
        sn.ShallowNetClassifier(max_iter=30, random_state=0),
        on_fail=None,
        expected_failed_checks=NOT_APPLICABLE,
    )
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 50


def penguins():
    X, y = sn.datasets.load_penguins()
    keep = X.notna().all(axis=1)
    return X[keep].reset_index(drop=True), y[keep].reset_index(drop=True)


def test_dataframe_with_enumerated_variables_and_string_labels():
    X, y = penguins()
    clf = sn.ShallowNetClassifier(n_members=3, max_iter=150, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["Adelie", "Chinstrap", "Gentoo"]
    assert clf.score(X, y) > 0.95
    assert list(clf.feature_names_in_) == list(X.columns)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, clf.member_proba(X).mean(axis=0))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert clf.network_.n_members == 3
    assert [v.kind for v in clf.network_.variables] == ["enumerated", "real", "real", "real", "real", "enumerated"]


def test_missing_drop_through_the_estimator():
    X, y = sn.datasets.load_penguins()
    with pytest.warns(sn.data.DataWarning, match="Dropped 11 of 344 rows"):
        clf = sn.ShallowNetClassifier(missing="drop", max_iter=5, random_state=0).fit(X, y)
    assert clf.encoder_.n_dropped_rows_ == 11


def test_clone_params_pipeline_and_cross_validation():
    X, y = penguins()
    clf = sn.ShallowNetClassifier(hidden_layer_sizes=(4,), max_iter=60, random_state=0)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (4,) and params["n_members"] == 1
    c2 = clone(clf).set_params(n_members=2)
    assert c2.n_members == 2 and clf.n_members == 1
    pipe = make_pipeline(FunctionTransformer(lambda d: d.drop(columns=["sex"])), clf)
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.7


def test_binary_output_is_one_sigmoid_unit_and_softmax_on_request():
    X, y = penguins()
    yb = (y == "Gentoo").map({True: "yes", False: "no"})
    sig = sn.ShallowNetClassifier(max_iter=40, random_state=0).fit(X, yb)
    assert sig.network_.output == "sigmoid" and sig.network_.n_outputs == 1
    assert sig.predict_proba(X).shape == (len(X), 2)
    soft = sn.ShallowNetClassifier(output="softmax", max_iter=40, random_state=0).fit(X, yb)
    assert soft.network_.n_outputs == 2
    with pytest.raises(ValueError, match="`output='sigmoid'` is for two classes; `y` has 3"):
        sn.ShallowNetClassifier(output="sigmoid").fit(X, y)


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"hidden_layer_sizes": (0,)}, ValueError, "`hidden_layer_sizes` must contain positive integers"),
        ({"hidden_layer_sizes": "big"}, ValueError, "`hidden_layer_sizes` must contain positive integers"),
        ({"activation": "swish"}, ValueError, "`activation` must be one of"),
        ({"n_members": 0}, ValueError, "`n_members` must be >= 1. Got 0"),
        ({"alpha": -1.0}, ValueError, "`alpha` must be >= 0.0"),
        ({"learning_rate": 0.0}, ValueError, "`learning_rate` must be > 0.0"),
        ({"optimizer": "newton"}, ValueError, "`optimizer` must be one of"),
        ({"optimizer": 3}, TypeError, "`optimizer` must be .auto., .lbfgs., a minibatch"),
        ({"batch_size": 0}, ValueError, "`batch_size` must be >= 1"),
        ({"max_iter": 2.5}, TypeError, "`max_iter` must be an integer"),
        ({"validation_fraction": 1.0}, ValueError, "`validation_fraction` must be < 1.0"),
        ({"random_state": -3}, ValueError, "`random_state` must be None or a non-negative integer"),
        ({"dtype": "float16"}, ValueError, "`dtype` must be one of"),
    ],
)
def test_bad_hyper_parameters_give_clear_errors(params, error, message):
    X, y = penguins()
    with pytest.raises(error, match=message):
        sn.ShallowNetClassifier(**params).fit(X, y)


def test_bad_targets():
    X, y = penguins()
    with pytest.raises(ValueError, match="single class"):
        sn.ShallowNetClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="`y` has missing values"):
        sn.ShallowNetClassifier().fit(X, y.where(y.index > 0))
    with pytest.raises(ValueError, match="rows but `y` has"):
        sn.ShallowNetClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="continuous values"):
        sn.ShallowNetClassifier().fit(X, np.linspace(0, 1, len(X)))


def test_predict_with_unseen_category_and_out_of_range_values():
    X, y = penguins()
    clf = sn.ShallowNetClassifier(max_iter=5, random_state=0).fit(X, y)
    bad = X.head(3).copy()
    bad.loc[0, "island"] = "Atlantis"
    with pytest.raises(ValueError, match=r"Column 'island' has categories not seen in training: \['Atlantis'\]"):
        clf.predict(bad)
    far = X.head(3).copy()
    far.loc[0, "body_mass_g"] = 10_000.0
    with pytest.warns(sn.data.OutOfRangeWarning, match=r"\{'body_mass_g': 1\}"):
        clf.predict(far)


def test_float64_needs_x64_message():
    import jax

    X, y = penguins()
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(ValueError, match="needs 64-bit JAX"):
            sn.ShallowNetClassifier(dtype="float64").fit(X, y)
    finally:
        jax.config.update("jax_enable_x64", True)


def test_convergence_warning_when_max_iter_is_reached():
    X, y = penguins()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sn.ShallowNetClassifier(max_iter=3, random_state=0).fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


def test_verbose_prints_progress(capsys):
    X, y = penguins()
    sn.ShallowNetClassifier(optimizer="adam", max_iter=60, verbose=True, random_state=0,
                            n_iter_no_change=None).fit(X, y)
    err = capsys.readouterr().err
    assert "epochs" in err and "50/60" in err and "60/60" in err and "loss" in err
    sn.ShallowNetClassifier(optimizer="lbfgs", max_iter=60, verbose=True, random_state=0).fit(X, y)
    assert "iterations" in capsys.readouterr().err
