"""Two regression models on the same held-out cases: errors, paired intervals and a test.

For predictions ``a_n`` and ``b_n`` of targets ``y_n`` (n = 1..N) the metrics are

    RMSE = sqrt(mean (y - f)^2),   MAE = mean |y - f|,   R^2 = 1 - sum (y - f)^2 / sum (y - ybar)^2

per model, and their differences (model a minus model b). The intervals come from a paired
bootstrap: each resample draws N case indices with replacement and evaluates BOTH models on
the same cases (so the correlation of their errors narrows the interval of the difference);
percentile intervals over ``n_bootstrap`` resamples. The resamples run in one jitted function
over chunks of resamples (memory ``chunk * N``).

The paired test of squared errors is the t test of ``d_n = (y_n - a_n)^2 - (y_n - b_n)^2``:
``t = mean(d) / (sd(d) / sqrt(N))`` with N - 1 degrees of freedom (a Diebold-Mariano test with
squared-error loss and no autocorrelation correction, right for independent cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_float, check_int, check_random_state
from ..results import Result
from .linear import check_numeric_target

REGRESSION_METRICS = ("rmse", "mae", "r2")

#: Numbers one bootstrap chunk may hold (resamples x cases).
_CHUNK_BUDGET = 2**22


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``[RMSE, MAE, R^2]`` of predictions ``pred`` (..., N) of ``y`` (N,) (float64)."""
    err = y - pred
    sst = np.sum((y - y.mean()) ** 2)
    return np.stack([np.sqrt(np.mean(err**2, axis=-1)), np.mean(np.abs(err), axis=-1),
                     1 - np.sum(err**2, axis=-1) / sst], axis=-1)


@partial(jax.jit, static_argnames=("chunk",))
def _bootstrap_chunk(key, y, preds, *, chunk: int):
    """Metrics ``(chunk, models, 3)`` of ``chunk`` paired resamples of the N cases."""
    n = y.shape[0]
    idx = jax.random.randint(key, (chunk, n), 0, n)
    yb = y[idx]  # (chunk, N)
    pb = preds[:, idx]  # (models, chunk, N)
    err = yb[None] - pb
    sst = jnp.sum((yb - yb.mean(axis=1, keepdims=True)) ** 2, axis=1)
    rmse = jnp.sqrt(jnp.mean(err**2, axis=-1))
    mae = jnp.mean(jnp.abs(err), axis=-1)
    r2 = 1 - jnp.sum(err**2, axis=-1) / sst[None]
    return jnp.moveaxis(jnp.stack([rmse, mae, r2], axis=-1), 0, 1)


def paired_regression_bootstrap(y: np.ndarray, preds: np.ndarray, n_bootstrap: int, seed: int) -> np.ndarray:
    """``(B, models, 3)`` bootstrap metrics of stacked predictions ``preds`` (models, N)."""
    n = y.shape[0]
    chunk = int(max(1, min(n_bootstrap, _CHUNK_BUDGET // max(n * preds.shape[0], 1))))
    keys = jax.random.split(jax.random.PRNGKey(seed), -(-n_bootstrap // chunk))
    yj, pj = jnp.asarray(y), jnp.asarray(preds)
    out = [np.asarray(_bootstrap_chunk(k, yj, pj, chunk=chunk), dtype=float) for k in keys]
    return np.concatenate(out)[:n_bootstrap]


@dataclass(frozen=True, eq=False, repr=False)
class RegressionComparison(Result):
    """Held-out comparison of two regression models (module docstring).

    Attributes
    ----------
    names : (str, str)
    metrics : DataFrame
        One row per metric: each model's value, the difference a - b and its paired
        bootstrap interval.
    test : dict
        Paired t test of squared errors: ``mean_difference``, ``t``, ``df``, ``p``.
    predictions : ndarray (2, N)
    y : ndarray (N,)
    n_bootstrap : int
    level : float
    """

    names: tuple
    metrics: pd.DataFrame
    test: dict
    predictions: np.ndarray
    y: np.ndarray
    n_bootstrap: int
    level: float

    @property
    def title(self) -> str:
        return f"{self.names[0]} vs {self.names[1]} on {len(self.y)} held-out cases"

    def to_frame(self) -> pd.DataFrame:
        return self.metrics.copy()

    def _html_figures(self) -> list[tuple[str, str]]:
        from .._html import format_value

        return [("n", str(len(self.y))), ("level", format_value(self.level)),
                ("n_bootstrap", str(self.n_bootstrap)),
                ("paired t test of squared errors, p", format_value(self.test["p"]))]

    def residuals(self) -> np.ndarray:
        """``y - prediction`` of each model, (2, N)."""
        return self.y[None] - self.predictions

    def summary(self, digits: int = 3) -> str:
        t = self.test
        return (f"{super().summary(digits)}\n\nPaired t test of squared errors ({self.names[0]} - "
                f"{self.names[1]}): mean {t['mean_difference']:.{digits}g}, t = {t['t']:.{digits}g}, "
                f"df = {t['df']}, p = {t['p']:.{digits}g}")


def _predict(model: Any, X: Any, name: str) -> np.ndarray:
    from ..models import Network, as_network

    if isinstance(model, Network) or hasattr(model, "network_") or hasattr(model, "coefs_"):
        net = as_network(model)
        if not net.is_regression:
            raise ValueError(f"`{name}` is a classifier; compare_regression needs regression models.")
        pred = net.predict(X)
    elif hasattr(model, "predict"):
        pred = model.predict(X)
    else:
        raise TypeError(f"`{name}` must have a predict method; got {type(model).__name__}.")
    pred = np.asarray(pred, dtype=float)
    if pred.ndim != 1:
        raise ValueError(f"`{name}` must predict one target (shape (N,)); got shape {pred.shape}.")
    return pred


def compare_predictions(y: Any, pred_a: Any, pred_b: Any, *, names=("network", "linear"),
                        n_bootstrap: int = 2000, level: float = 0.95,
                        random_state: int | None = 0) -> RegressionComparison:
    """:class:`RegressionComparison` from two prediction vectors of the same cases."""
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 1)
    level = check_float("level", level, 0.0, 1.0, open_min=True, open_max=True)
    seed = check_random_state(random_state)
    yv = check_numeric_target(y, len(np.asarray(pred_a)))
    if yv.size < 2 or np.ptp(yv) == 0:
        raise ValueError("`y_test` must hold at least two different values (R^2 needs its variance).")
    preds = np.stack([np.asarray(pred_a, float), np.asarray(pred_b, float)])
    if preds.shape[1] != yv.size:
        raise ValueError(f"The predictions have {preds.shape[1]} and `y` {yv.size} cases.")
    point = regression_metrics(yv, preds)  # (2, 3)
    boot = paired_regression_bootstrap(yv, preds, n_bootstrap, seed)
    diff = boot[:, 0] - boot[:, 1]
    q = [(1 - level) / 2, (1 + level) / 2]
    low, high = np.quantile(diff, q, axis=0)
    metrics = pd.DataFrame({
        "metric": list(REGRESSION_METRICS), names[0]: point[0], names[1]: point[1],
        "difference": point[0] - point[1], "ci_low": low, "ci_high": high,
    })
    d = (yv - preds[0]) ** 2 - (yv - preds[1]) ** 2
    res = stats.ttest_1samp(d, 0.0)
    test = {"mean_difference": float(d.mean()), "t": float(res.statistic), "df": int(d.size - 1),
            "p": float(res.pvalue)}
    return RegressionComparison(tuple(names), metrics, test, preds, yv, n_bootstrap, level)


def compare_regression(model: Any, X_test: Any, y_test: Any, baseline: Any = None, *,
                       X_train: Any = None, y_train: Any = None, n_bootstrap: int = 2000,
                       level: float = 0.95, random_state: int | None = 0,
                       names=("network", "linear")) -> RegressionComparison:
    """Compare a fitted regression network with a baseline on held-out data.

    Parameters
    ----------
    model : ShallowNetRegressor, linear-output Network or fitted MLPRegressor
    X_test, y_test : held-out raw inputs and numeric targets
    baseline : fitted model with ``predict``, optional
        Default: ``fit_linear(X_train, y_train, encoder=<the network's encoder>)`` (needs
        ``X_train`` and ``y_train``).
    n_bootstrap, level, random_state : the paired bootstrap (module docstring)
    names : (str, str)

    Returns
    -------
    RegressionComparison
    """
    from ..models import as_network
    from .linear import fit_linear

    net = as_network(model)
    if baseline is None:
        if X_train is None or y_train is None:
            raise ValueError(
                "`compare_regression` needs a baseline: pass `baseline=fit_linear(X_train, y_train, "
                "encoder=model.encoder_)` (or any fitted regressor), or pass `X_train` and `y_train`."
            )
        baseline = fit_linear(X_train, y_train, encoder=net.encoder) if net.encoder is not None \
            else fit_linear(X_train, y_train)
    return compare_predictions(y_test, _predict(model, X_test, "model"), _predict(baseline, X_test, "baseline"),
                               names=names, n_bootstrap=n_bootstrap, level=level, random_state=random_state)
