"""Permutation importance with one-hot groups permuted as one variable.

For variable i the rows of its encoded columns (the whole one-hot group for an enumerated
variable) are shuffled together by a random permutation of the cases, which breaks the link
between the variable and the target while keeping its marginal distribution and every row a
valid input. The importance is the loss of score:

    importance_i^(r) = score(X) - score(X with variable i permuted by permutation r)

for ``scoring="accuracy"``, and ``log_loss(permuted) - log_loss(X)`` for ``scoring="log_loss"``
(so larger is more important either way). A linear (regression) output is scored by
``"r2"`` (the coefficient of determination ``1 - SSE / SST`` per output, averaged over outputs;
importance ``R^2(X) - R^2(permuted)``) or ``"rmse"`` (root mean squared error over all
outputs, in raw units of the target; importance ``RMSE(permuted) - RMSE(X)``). The same R permutations serve every variable
(common random numbers: differences between variables are not blurred by different shuffles).

The permuted network output uses the first-layer update of :mod:`shallownet.interpret.flips`:
``a = a0 + (x[perm, cols] - x[:, cols]) W1[cols]``, O(N w H) per repeat instead of O(N D H).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from .._validation import check_int, check_one_of, check_random_state
from ..models.layers import PRECISION, affine
from ..results import Result
from ._inputs import prepare, select_variables
from .flips import proba_from_preactivation

SCORINGS = ("auto", "accuracy", "log_loss", "r2", "rmse")
REGRESSION_SCORINGS = ("r2", "rmse")
#: Scorings where a larger value is better (the importance is then base - permuted).
_HIGHER_IS_BETTER = ("accuracy", "r2")


def _score(p: jax.Array, y: jax.Array, scoring: str) -> jax.Array:
    """Accuracy of the argmax, or mean negative log-likelihood, of probabilities ``(N, K)``;
    for predictions ``p`` and targets ``y`` of shape ``(N, T)``, the mean R^2 over outputs or
    the RMSE over all of them."""
    if scoring == "r2":
        sse = jnp.sum((y - p) ** 2, axis=0)
        sst = jnp.sum((y - jnp.mean(y, axis=0, keepdims=True)) ** 2, axis=0)
        return jnp.mean(1 - sse / sst)
    if scoring == "rmse":
        return jnp.sqrt(jnp.mean((y - p) ** 2))
    if scoring == "accuracy":
        return jnp.mean((jnp.argmax(p, axis=-1) == y).astype(p.dtype))
    py = jnp.take_along_axis(p, y[:, None], axis=-1)[:, 0]
    return -jnp.mean(jnp.log(jnp.clip(py, jnp.finfo(p.dtype).tiny, 1.0)))


def _permuted_scores_impl(params, x, y, cols, perms, activation, output, scoring):
    """Scores ``(R,)`` with ``x[:, cols]`` replaced by ``x[perm, cols]`` for each permutation."""
    xc = x[:, cols]

    def member_proba(p, delta):
        a = affine(x, p[0]) + jnp.matmul(delta, p[0].W[cols], precision=PRECISION)
        return proba_from_preactivation(p, a, activation, output)

    def one(perm):
        delta = xc[perm] - xc
        proba = jax.vmap(lambda p: member_proba(p, delta))(params).mean(axis=0)
        return _score(proba, y, scoring)

    return jax.lax.map(one, perms)


permuted_scores = jax.jit(_permuted_scores_impl, static_argnames=("activation", "output", "scoring"))


def _base_score_impl(params, x, y, activation, output, scoring):
    member = jax.vmap(lambda p: proba_from_preactivation(p, affine(x, p[0]), activation, output))(params)
    return _score(member.mean(axis=0), y, scoring)


base_score = jax.jit(_base_score_impl, static_argnames=("activation", "output", "scoring"))


@dataclass(frozen=True, eq=False, repr=False)
class PermutationImportance(Result):
    """Grouped permutation importance.

    Attributes
    ----------
    variables, kinds : tuple of str
    importances : ndarray (V, R)
        Score lost with each permutation (larger: more important).
    baseline : float
        Score on the unpermuted data.
    scoring : str
    """

    variables: tuple
    kinds: tuple
    importances: np.ndarray
    baseline: float
    scoring: str

    @property
    def title(self) -> str:
        return f"Permutation importance ({self.scoring}, {self.importances.shape[1]} repeats)"

    @property
    def importances_mean(self) -> np.ndarray:
        return self.importances.mean(axis=1)

    @property
    def importances_std(self) -> np.ndarray:
        return self.importances.std(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """One row per variable: mean and sd of the importance over repeats."""
        return pd.DataFrame(
            {
                "variable": list(self.variables), "kind": list(self.kinds),
                "importance_mean": self.importances_mean, "importance_sd": self.importances_std,
                "baseline": self.baseline,
            }
        )


def permutation_importance(
    model: Any,
    X: Any,
    y: Any,
    *,
    n_repeats: int = 10,
    scoring: str = "auto",
    variables: Any = None,
    random_state: int | None = 0,
    encoded: bool = False,
) -> PermutationImportance:
    """Permutation importance, a one-hot group permuted as one variable.

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier
    X : DataFrame or array
    y : array-like (N,)
        True labels.
    n_repeats : int, default 10
    scoring : {"auto", "accuracy", "log_loss", "r2", "rmse"}, default "auto"
        "auto": accuracy for a classifier, R^2 for a linear (regression) output. "r2" and
        "rmse" need a regression network, "accuracy" and "log_loss" a classifier.
    variables : list of str, optional
    random_state : int or None, default 0
        Seed of the JAX key that draws the permutations.
    encoded : bool, default False

    Returns
    -------
    PermutationImportance
        Memory is O(N (D + M H)) per repeat.
    """
    n_repeats = check_int("n_repeats", n_repeats, 1)
    check_one_of("scoring", scoring, SCORINGS)
    if y is None:
        raise ValueError("`y` is required: permutation importance measures the score lost.")
    seed = check_random_state(random_state)
    net, x, yi = prepare(model, X, y, encoded)
    if scoring == "auto":
        scoring = "r2" if net.is_regression else "accuracy"
    if net.is_regression != (scoring in REGRESSION_SCORINGS):
        allowed = REGRESSION_SCORINGS if net.is_regression else ("accuracy", "log_loss")
        raise ValueError(f"`scoring` must be one of {allowed} for this network. Got {scoring!r} instead.")
    if net.is_regression and scoring == "r2" and np.any(np.ptp(yi, axis=0) == 0):
        raise ValueError("`scoring='r2'` needs a target that varies over the cases; use 'rmse'.")
    vars_ = select_variables(net, variables)
    N = x.shape[0]
    keys = jax.random.split(jax.random.PRNGKey(seed), n_repeats)
    perms = jax.vmap(lambda k: jax.random.permutation(k, N))(keys)
    xj, yj = jnp.asarray(x), jnp.asarray(yi)
    statics = dict(activation=net.activation, output=net.output, scoring=scoring)
    fn = partial(permuted_scores, net.params, xj, yj, **statics)
    base = float(base_score(net.params, xj, yj, **statics))
    imps = []
    for v in vars_:
        s = np.asarray(fn(jnp.asarray(np.asarray(v.columns, dtype=np.int32)), perms), dtype=np.float64)
        imps.append(base - s if scoring in _HIGHER_IS_BETTER else s - base)
    return PermutationImportance(
        variables=tuple(v.name for v in vars_), kinds=tuple(v.kind for v in vars_),
        importances=np.stack(imps), baseline=base, scoring=scoring,
    )
