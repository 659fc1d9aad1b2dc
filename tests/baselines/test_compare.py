"""compare / compare_cv: numbers against scikit-learn and the paired tests on the same cases."""

import json

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

import shallownet as sn
from shallownet.baselines import (
    ComparisonResult, compare, compare_cv, compare_probabilities, delong, fit_logistic, mcnemar,
)
from shallownet.baselines.metrics import METRICS

from ._data import simulate

# Test cases outside the training range are expected here; the encoder reports them.
pytestmark = pytest.mark.filterwarnings("ignore::shallownet.data.encoder.OutOfRangeWarning")

B = 100  # one bootstrap size throughout, so the compiled bootstrap is reused


def small_net(**kw):
    options = dict(hidden_layer_sizes=(3,), max_iter=60, n_iter_no_change=None, learning_rate=0.05, random_state=0)
    options.update(kw)
    return sn.ShallowNetClassifier(**options)


@pytest.fixture(scope="module")
def binary_setting():
    X, y = simulate(300, 2, 7)
    Xtr, ytr, Xte, yte = X.iloc[:200], y[:200], X.iloc[200:], y[200:]
    clf = small_net().fit(Xtr, ytr)
    base = fit_logistic(Xtr, ytr, encoder=clf.encoder_, inference=False, cv=3, Cs=4)
    return clf, base, Xtr, ytr, Xte, yte


def test_binary_comparison_matches_sklearn(binary_setting):
    clf, base, _, _, Xte, yte = binary_setting
    r = compare(clf, Xte, yte, base, n_bootstrap=B)
    assert isinstance(r, ComparisonResult) and r.n_obs == 100
    pa, pb = clf.predict_proba(Xte), base.predict_proba(Xte)
    frame = r.to_frame().set_index("metric")
    for name, p in (("network", pa), ("logistic", pb)):
        assert frame.loc["accuracy", name] == pytest.approx(skm.accuracy_score(yte, p.argmax(1)))
        assert frame.loc["log_loss", name] == pytest.approx(skm.log_loss(yte, p))
        assert frame.loc["brier", name] == pytest.approx(skm.brier_score_loss(yte, p[:, 1]))
        assert frame.loc["roc_auc", name] == pytest.approx(skm.roc_auc_score(yte, p[:, 1]))
    np.testing.assert_allclose(frame["difference"], frame["network"] - frame["logistic"])
    assert np.all(frame["diff_low"] <= frame["diff_high"])
    assert np.all(frame["network_low"] <= frame["network_high"])
    # The paired tests are McNemar and DeLong on the same cases.
    m = mcnemar(pa.argmax(1) == yte, pb.argmax(1) == yte)
    d = delong(yte, pa[:, 1], pb[:, 1])
    assert r.tests["mcnemar"].p_value == m.p_value and r.tests["mcnemar"].details == m.details
    assert r.tests["delong"].statistic == pytest.approx(d.statistic)
    fpr, tpr, _ = skm.roc_curve(yte, pa[:, 1])
    np.testing.assert_allclose(r.roc["network"][1][0], fpr)
    assert set(r.calibration) == {"network", "logistic"}
    assert r.calibration["network"]["count"].sum() == 100
    text = r.summary()
    assert "McNemar" in text and "DeLong" in text and "network - logistic" in text


def test_default_baseline_is_logistic_on_the_networks_variables(binary_setting):
    clf, _, Xtr, ytr, Xte, yte = binary_setting
    auto = compare(clf, Xte, yte, X_train=Xtr, y_train=ytr, n_bootstrap=B, random_state=1)
    explicit = fit_logistic(Xtr, ytr, encoder=clf.encoder_, inference=False, random_state=1)
    frame = auto.to_frame().set_index("metric")
    assert frame.loc["log_loss", "logistic"] == pytest.approx(skm.log_loss(yte, explicit.predict_proba(Xte)))


def test_better_column_reads_the_interval(binary_setting):
    """A model that predicts the truth beats one that predicts 1/2 everywhere."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    good = np.column_stack([np.where(y == 1, 0.1, 0.9), np.where(y == 1, 0.9, 0.1)])
    flat = np.full((100, 2), 0.5)
    r = compare_probabilities(y, np.array([0, 1]), good, flat, names=("good", "flat"), n_bootstrap=B)
    frame = r.to_frame().set_index("metric")
    assert frame.loc["log_loss", "better"] == "good" and frame.loc["roc_auc", "better"] == "good"
    assert frame.loc["calibration_error", "good"] == pytest.approx(0.1)
    r2 = compare_probabilities(y, np.array([0, 1]), good, good, n_bootstrap=B)
    assert set(r2.to_frame()["better"]) == {"neither"}
    assert np.all(r2.to_frame()["diff_low"] == 0) and np.all(r2.to_frame()["diff_high"] == 0)


def test_multiclass_comparison_on_penguins():
    X, y = sn.datasets.load_penguins()
    keep = X.notna().all(axis=1).to_numpy()
    X, y = X[keep].reset_index(drop=True), y[keep].reset_index(drop=True)
    rng = np.random.default_rng(0)
    test = rng.permutation(len(y))[:100]
    train = np.setdiff1d(np.arange(len(y)), test)
    clf = small_net(max_iter=40).fit(X.iloc[train], y.iloc[train])
    base = LogisticRegression(max_iter=500).fit(clf.encoder_.transform(X.iloc[train]), y.iloc[train])

    class Encoded:  # a baseline that takes raw data: encode, then scikit-learn
        classes_ = base.classes_

        def predict_proba(self, X_):
            return base.predict_proba(clf.encoder_.transform(X_, report=False))

    r = compare(clf, X.iloc[test], y.iloc[test], Encoded(), n_bootstrap=100)
    pa = clf.predict_proba(X.iloc[test])
    frame = r.to_frame().set_index("metric")
    assert frame.loc["roc_auc", "network"] == pytest.approx(
        skm.roc_auc_score(y.iloc[test], pa, multi_class="ovr", average="macro")
    )
    assert frame.loc["brier", "network"] == pytest.approx(skm.brier_score_loss(y.iloc[test], pa))
    assert "delong" not in r.tests and set(r.roc["network"]) == set(clf.classes_)


def test_errors(binary_setting):
    clf, base, _, _, Xte, yte = binary_setting
    with pytest.raises(ValueError, match="needs a baseline"):
        compare(clf, Xte, yte)
    other = LogisticRegression().fit(np.zeros((4, 1)), ["a", "b", "a", "b"])
    with pytest.raises(ValueError, match="same labels"):
        compare(clf, Xte, yte, other)
    with pytest.raises(ValueError, match="does not occur"):
        compare(clf, Xte[yte == 1], yte[yte == 1], base)
    with pytest.raises(ValueError, match="two different names"):
        compare(clf, Xte, yte, base, names=("a", "a"))
    with pytest.raises(TypeError, match="must be a shallownet.Network"):
        compare(object(), Xte, yte, base)


def test_cross_validation_uses_the_same_folds_for_both():
    X, y = simulate(150, 2, 9)
    X = X[["a", "b"]]  # numeric, for a plain scikit-learn baseline
    r = compare_cv(small_net(max_iter=20), X, y, LogisticRegression(max_iter=500), cv=3, n_bootstrap=B)
    assert r.per_fold.shape[0] == 3 * len(METRICS)
    folds = r.per_fold[r.per_fold["metric"] == "accuracy"]
    # Folds partition the cases: pooled accuracy is the size-weighted mean of fold accuracies
    # (stratified folds of 150 cases in 3 are 50 each).
    pooled = r.to_frame().set_index("metric").loc["accuracy"]
    assert pooled["network"] == pytest.approx(folds["network"].mean())
    assert pooled["logistic"] == pytest.approx(folds["logistic"].mean())
    assert pooled["fold_mean_difference"] == pytest.approx(folds["difference"].mean())
    assert pooled["fold_sd_difference"] == pytest.approx(folds["difference"].std())
    assert "3-fold cross-validation" in r.summary()
    d = r.to_dict()
    json.dumps(d)  # JSON-ready
    assert len(d["per_fold"]) == 15 and d["tests"]["mcnemar"]["test"] == "McNemar"
    assert d["tests"]["delong"]["p_value"] == pytest.approx(r.tests["delong"].p_value)


def test_cross_validation_refuses_missing_values_and_tiny_classes():
    X, y = simulate(60, 2, 2)
    X2 = X.copy()
    X2.loc[0, "a"] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        compare_cv(small_net(), X2, y)
    y2 = np.zeros(60, int)
    y2[:2] = 1
    with pytest.raises(ValueError, match="Pass a smaller cv"):
        compare_cv(small_net(), X, y2, cv=3)
