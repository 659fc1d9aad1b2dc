"""Every metric against scikit-learn's own function (unweighted and weighted)."""

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from shallownet.baselines import calibration_table, evaluate


def predictions(n, K, seed, decimals=None):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, K)) * 1.5
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    if decimals is not None:  # coarse probabilities: many tied scores
        p = np.round(p, decimals)
        p[:, -1] = 1 - p[:, :-1].sum(axis=1)
        p = np.clip(p, 0, 1)
        p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(K, p=row) for row in p])
    return y, p


def ece_oracle(y_true_binary, score, n_bins, weights=None):
    """ECE from scikit-learn's calibration_curve and the bin counts (scores avoid bin edges)."""
    prob_true, prob_pred = calibration_curve(y_true_binary, score, n_bins=n_bins, strategy="uniform")
    w = np.ones_like(score) if weights is None else weights
    counts = np.histogram(score, bins=np.linspace(0, 1, n_bins + 1), weights=w)[0]
    counts = counts[counts > 0]
    return float(np.sum(counts / w.sum() * np.abs(prob_true - prob_pred)))


def sklearn_values(y, p, sample_weight=None):
    K = p.shape[1]
    auc = (
        skm.roc_auc_score(y, p[:, 1], sample_weight=sample_weight)
        if K == 2
        else skm.roc_auc_score(y, p, multi_class="ovr", average="macro", sample_weight=sample_weight)
    )
    return {
        "accuracy": skm.accuracy_score(y, p.argmax(axis=1), sample_weight=sample_weight),
        "log_loss": skm.log_loss(y, p, sample_weight=sample_weight, labels=np.arange(K)),
        "brier": skm.brier_score_loss(y, p[:, 1] if K == 2 else p, sample_weight=sample_weight),
        "roc_auc": auc,
    }


@pytest.mark.parametrize("K", [2, 3, 4])
@pytest.mark.parametrize("decimals", [None, 1])
def test_metrics_match_sklearn(K, decimals):
    y, p = predictions(300, K, seed=K, decimals=decimals)
    ours = evaluate(y, p)
    for name, value in sklearn_values(y, p).items():
        assert ours[name] == pytest.approx(value, rel=1e-12, abs=1e-14), name


@pytest.mark.parametrize("K", [2, 3])
def test_weighted_metrics_match_sklearn_sample_weight(K):
    y, p = predictions(250, K, seed=10 + K, decimals=1)
    w = np.random.default_rng(0).integers(0, 4, size=len(y)).astype(float)
    ours = evaluate(y, p, sample_weight=w)
    for name, value in sklearn_values(y, p, sample_weight=w).items():
        assert ours[name] == pytest.approx(value, rel=1e-12, abs=1e-14), name
    # Integer weights are repeated rows: the calibration error too.
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    assert ours["calibration_error"] == pytest.approx(evaluate(y[rows], p[rows])["calibration_error"], rel=1e-12)


def test_calibration_error_binary_and_top_label():
    y, p = predictions(400, 2, seed=3)
    assert evaluate(y, p, n_bins=8)["calibration_error"] == pytest.approx(ece_oracle(y, p[:, 1], 8), rel=1e-12)
    y, p = predictions(400, 3, seed=4)
    correct = (p.argmax(axis=1) == y).astype(int)
    assert evaluate(y, p, n_bins=5)["calibration_error"] == pytest.approx(
        ece_oracle(correct, p.max(axis=1), 5), rel=1e-12
    )


def test_calibration_bins_are_right_closed_like_sklearn():
    """Scores on the bin edges land where scikit-learn puts them."""
    score = np.array([0.0, 0.1, 0.1, 0.2, 0.5, 0.55, 0.9, 1.0, 0.3, 0.7])
    y = np.array([0, 0, 1, 0, 1, 1, 1, 1, 0, 1])
    p = np.column_stack([1 - score, score])
    table = calibration_table(y, p, n_bins=10)
    prob_true, prob_pred = calibration_curve(y, score, n_bins=10)
    np.testing.assert_allclose(table["observed"], prob_true)
    np.testing.assert_allclose(table["mean_predicted"], prob_pred)
    # By hand: bin [0, 0.1] holds 0.0, 0.1, 0.1 (mean 0.0667, observed 1/3).
    assert table["count"].iloc[0] == 3 and table["observed"].iloc[0] == pytest.approx(1 / 3)


def test_perfect_and_constant_predictions():
    y = np.array([0, 1, 0, 1])
    perfect = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    m = evaluate(y, perfect)
    assert m["accuracy"] == 1 and m["brier"] == 0 and m["roc_auc"] == 1 and m["calibration_error"] == 0
    assert m["log_loss"] == pytest.approx(-np.log(1 - np.finfo(float).eps))
    flat = np.full((4, 2), 0.5)
    assert evaluate(y, flat)["roc_auc"] == 0.5  # all tied: half credit


@pytest.mark.parametrize(
    "y, p, message",
    [
        (np.array([0, 0, 0]), np.full((3, 2), 0.5), "does not occur"),
        (np.array([0, 1, 2]), np.full((3, 2), 0.5), "not among the classes"),
        (np.array([0, 1]), np.full((2, 3), 1 / 3), r"must have shape \(2, 2\)"),
        (np.array([0, 1]), np.array([[0.5, 0.6], [0.5, 0.5]]), "sum to 1"),
    ],
)
def test_bad_input(y, p, message):
    classes = np.array([0, 1])
    with pytest.raises(ValueError, match=message):
        evaluate(y, p, classes)
