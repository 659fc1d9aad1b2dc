"""Synthetic data with known ground truth, for tests, examples and paper reproductions."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .._validation import check_float, check_int
from ._dataset import Dataset


def _rng(random_state) -> np.random.Generator:
    return np.random.default_rng(random_state)


def gaussian_pair(n_samples: int = 2000, rho: float = 0.5, random_state=None) -> Dataset:
    """Standard bivariate normal ``(x1, x2)`` with correlation ``rho`` and ``y = 1[x1 > 0]``.

    Ground truth (methods.md section 4): under the exact classifier ``d(x) = 1[x1 > 0]``,
    ``X1 | x2 ~ N(rho x2, 1 - rho^2)``, so the expected influence of x1 at a case is
    ``Phi(-sign(x1) rho x2 / sqrt(1 - rho^2))`` and its mean is ``1/2 - arcsin(rho^2) / pi``;
    the potential influence of x1 is 1 for every case; x2 has PI = EI = 0; the marginal
    estimator gives 0.5 for x1 at every rho.
    """
    n = check_int("n_samples", n_samples, 2)
    rho = check_float("rho", rho, -1.0, 1.0, open_min=True, open_max=True)
    rng = _rng(random_state)
    z = rng.standard_normal((n, 2))
    x1 = z[:, 0]
    x2 = rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]
    X = pd.DataFrame({"x1": x1, "x2": x2})
    y = pd.Series((x1 > 0).astype(int), name="y")
    truth = {
        "rho": rho,
        "mean_expected_influence": {"x1": 0.5 - np.arcsin(rho**2) / np.pi, "x2": 0.0},
        "mean_potential_influence": {"x1": 1.0, "x2": 0.0},
        "marginal_expected_influence": {"x1": 0.5, "x2": 0.0},
    }
    return Dataset(X, y, gaussian_pair.__doc__.split("\n\n")[0], truth)


def logistic_model(
    n_samples: int = 1000,
    coefficients: Sequence[float] = (2.0, -1.0, 0.5, 0.0),
    intercept: float = 0.0,
    random_state=None,
) -> Dataset:
    """Inputs uniform on [0, 1], ``P(y = 1 | x) = 1 / (1 + exp(-(intercept + x . beta)))``.

    Ground truth: the coefficients. Since the inputs already span [0, 1], a logistic
    regression on the encoded inputs estimates ``beta`` directly (up to the small rescaling by
    the sample's min and max).
    """
    n = check_int("n_samples", n_samples, 2)
    beta = np.asarray(coefficients, dtype=float)
    if beta.ndim != 1 or beta.size == 0:
        raise ValueError(f"`coefficients` must be a non-empty 1-D sequence. Got {coefficients!r}.")
    rng = _rng(random_state)
    x = rng.uniform(size=(n, beta.size))
    p = 1 / (1 + np.exp(-(intercept + x @ beta)))
    y = (rng.uniform(size=n) < p).astype(int)
    X = pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(beta.size)])
    truth = {"coefficients": dict(zip(X.columns, beta)), "intercept": float(intercept)}
    return Dataset(X, pd.Series(y, name="y"), logistic_model.__doc__.split("\n\n")[0], truth)


def correlated_predictors(
    n_samples: int = 1000,
    correlations: Sequence[float] = (0.8, 0.6, 0.4, 0.2, 0.0),
    threshold: float = 0.0,
    random_state=None,
) -> Dataset:
    """Independent standard-normal predictors with chosen correlations to a latent response.

    ``r = sum_i c_i x_i + sqrt(1 - sum c_i^2) e`` with ``e ~ N(0, 1)`` gives
    ``corr(x_i, r) = c_i`` exactly in the population (needs ``sum c_i^2 < 1``); the class is
    ``y = 1[r > threshold]``. This is the well-posed version of the Olden, Joy & Death (2004)
    design: the true importance ranking is the order of ``|c_i|``.
    """
    n = check_int("n_samples", n_samples, 2)
    c = np.asarray(correlations, dtype=float)
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"`correlations` must be a non-empty 1-D sequence. Got {correlations!r}.")
    ss = float(np.sum(c**2))
    if ss >= 1:
        raise ValueError(
            "`correlations` must have a sum of squares below 1 for independent predictors "
            f"(the correlation matrix is otherwise not positive-definite). Got {ss:.3f}."
        )
    rng = _rng(random_state)
    x = rng.standard_normal((n, c.size))
    r = x @ c + np.sqrt(1 - ss) * rng.standard_normal(n)
    X = pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(c.size)])
    y = pd.Series((r > threshold).astype(int), name="y")
    order = np.argsort(-np.abs(c), kind="stable")
    truth = {
        "correlations": dict(zip(X.columns, c)),
        "true_rank": {X.columns[j]: int(k + 1) for k, j in enumerate(order)},
        "latent_response": r,
    }
    return Dataset(X, y, correlated_predictors.__doc__.split("\n\n")[0], truth)
