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
