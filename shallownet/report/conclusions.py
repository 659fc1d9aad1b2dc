"""The conclusion of a held-out comparison in plain words, as the report's first screen says it.

``shallownet compare`` leads its text and JSON with these sentences; the wording of the
classification case is the report's own (:func:`shallownet.report.build._accuracy_finding`,
:func:`~shallownet.report.build.majority_baseline`), so the command and the report never
disagree.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from .build import _accuracy_finding, majority_baseline


def majority_rate(model, X_train: pd.DataFrame, y_train: pd.Series, X_test: pd.DataFrame,
                  y_test: pd.Series) -> tuple[object, float]:
    """The most common training class and the share of the held-out rows the model can encode
    (those of every held-out figure) that belong to it: the accuracy of always predicting it.
    Same rule as the report (:func:`~shallownet.report.build.majority_baseline`)."""
    return majority_baseline(SimpleNamespace(model=model, X_train=X_train, y_train=y_train, X_test=X_test,
                                             y_test=y_test))


def classification_conclusion(comparison, majority=None, majority_accuracy: float = float("nan")) -> str:
    """Two or three sentences: the network's and logistic regression's held-out accuracy with
    the 95% interval of the difference, whether that interval excludes zero, and (when given)
    the accuracy of always predicting the majority class.

    Parameters
    ----------
    comparison : ComparisonResult
        Of :func:`shallownet.baselines.compare` (the network first, logistic regression second).
    majority : class label, optional
    majority_accuracy : float, optional
        From :func:`majority_rate`.

    Returns
    -------
    str
    """
    text = _accuracy_finding(SimpleNamespace(n_test_complete=comparison.n_obs), comparison)
    diff, low, high = comparison.difference("accuracy")
    if not low <= 0 <= high:
        better, worse = ("the network", "logistic regression") if diff > 0 else ("logistic regression", "the network")
        text += f" The interval excludes zero: {better} is more accurate than {worse} on these cases."
    if majority is not None and np.isfinite(majority_accuracy):
        text += (f" Always predicting the most common training class, {majority}, would be right for "
                 f"{majority_accuracy:.1%} of them.")
    return text


def mean_prediction_rmse(comparison, training_mean: float) -> float:
    """Held-out RMSE of always predicting ``training_mean`` (the regression counterpart of
    always predicting the majority class), on the comparison's cases."""
    y = np.asarray(comparison.y, dtype=float)
    return float(np.sqrt(np.mean((y - training_mean) ** 2)))


def regression_conclusion(comparison, target: str = "the target", training_mean: float | None = None) -> str:
    """The network's and OLS's held-out RMSE, MAE and R^2, the 95% paired bootstrap interval of
    the RMSE difference with the paired t test, and what the interval says: the words of the
    regression report's first finding (:func:`shallownet.report.regression.regression_findings`),
    from the comparison alone.

    Parameters
    ----------
    comparison : RegressionComparison
        Of :func:`shallownet.baselines.compare` on a regression network (network first).
    target : str
        The target's name.
    training_mean : float, optional
        The training rows' mean of the target; when given, the RMSE of always predicting it
        (:func:`mean_prediction_rmse`) closes the conclusion.

    Returns
    -------
    str
    """
    m = comparison.to_frame().set_index("metric")
    net, lin = comparison.names
    rmse, r2 = m.loc["rmse"], m.loc["r2"]
    text = (f"On {len(comparison.y)} held-out cases the network predicts {target} with RMSE {rmse[net]:.3g} "
            f"(MAE {m.loc['mae', net]:.3g}, R² {r2[net]:.3f}); ordinary least squares on the same variables "
            f"has RMSE {rmse[lin]:.3g} (R² {r2[lin]:.3f}). The network's RMSE minus OLS's is "
            f"{rmse['difference']:+.3g} (95% paired bootstrap interval {rmse['ci_low']:+.3g} to "
            f"{rmse['ci_high']:+.3g}; paired t test of squared errors p = {comparison.test['p']:.2g}).")
    if rmse["ci_low"] <= 0 <= rmse["ci_high"]:
        text += (" The interval includes zero: the data do not show either model to predict better, so a "
                 "linear model describes these data about as well as the network.")
    elif rmse["ci_high"] < 0:
        text += (" The network's errors are smaller: the data hold structure (curvature or interactions) "
                 "that a linear model misses.")
    else:
        text += (" OLS's errors are smaller: on these data the network does not improve on a linear model "
                 "(see the convergence of its members, and consider fewer hidden units).")
    if training_mean is not None:
        text += (f" Always predicting the training mean, {training_mean:.3g}, would have RMSE "
                 f"{mean_prediction_rmse(comparison, training_mean):.3g}.")
    return text
