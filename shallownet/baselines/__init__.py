"""Logistic regression beside a network: the same variables, the same cases, side by side.

* :func:`fit_logistic` -- statsmodels inference (coefficients, errors, odds ratios, LR test,
  pseudo-R2, marginal effects) and a cross-validated penalised scikit-learn model for
  prediction, on the network's own encoded variables.
* :func:`network_as_logistic` -- a zero-hidden-layer network read as a logistic regression,
  with standard errors from the Hessian of its loss.
* :func:`compare`, :func:`compare_cv` -- held-out or cross-validated metrics with paired
  bootstrap intervals, McNemar's and DeLong's tests, calibration and ROC curves.
* :func:`fit_linear`, :func:`compare_regression` -- the same for a numeric target: OLS
  (statsmodels) on the network's variables, and RMSE / MAE / R^2 with paired intervals.
* :func:`side_by_side` -- per-variable importances of any methods against the logistic
  measures, with rank agreement and disagreements.
"""

from .coefficients import CoefficientTable
from .compare import ComparisonResult, compare, compare_cv, compare_probabilities
from .identity import network_as_logistic
from .linear import LinearFit, fit_linear
from .logistic import CollinearityWarning, LogisticFit, LogisticFitError, SeparationError, fit_logistic
from .metrics import METRICS, calibration_table, evaluate
from .paired_tests import PairedTest, delong, mcnemar
from .regression_compare import RegressionComparison, compare_predictions, compare_regression
from .side_by_side import SideBySideResult, logistic_importance, side_by_side

__all__ = [
    "fit_linear",
    "LinearFit",
    "compare_regression",
    "compare_predictions",
    "RegressionComparison",
    "fit_logistic",
    "LogisticFit",
    "CoefficientTable",
    "SeparationError",
    "LogisticFitError",
    "CollinearityWarning",
    "network_as_logistic",
    "compare",
    "compare_cv",
    "compare_probabilities",
    "ComparisonResult",
    "evaluate",
    "calibration_table",
    "METRICS",
    "mcnemar",
    "delong",
    "PairedTest",
    "side_by_side",
    "logistic_importance",
    "SideBySideResult",
]
