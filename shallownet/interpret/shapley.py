"""Shapley values of the network's output with variables as players.

For a case x, the output f (a class probability, a logit target, or a regression prediction)
and a value function v over coalitions S of the V variables (a one-hot group is ONE variable),

    phi_i(x) = sum_{S not containing i} |S|! (V - |S| - 1)! / V! [v(S + i) - v(S)].

Value functions (``value=``):

``"interventional"``
    ``v(S) = sum_r w_r f(x_S, r_{-S})`` over a background sample of rows r with weights w
    (:mod:`shallownet.interpret._background`): the variables outside S are set to a
    background row's values whatever x's values of S are (the dependence between variables
    is cut, so the model is only ever asked about hybrid inputs).
``"conditional"``
    ``v(S) = E[f(x_S, X_{-S}) | X_S = x_S]`` estimated by the k nearest reference rows to x
    in the variables of S, on the distance scale of the kNN conditional of expected influence
    (real columns in standard deviations, a category mismatch one unit;
    :func:`~shallownet.interpret.conditionals.knn_scaling`) and with its rule for ties.

Either way ``v(empty) = E f`` (the weighted reference mean) and ``v(all) = f(x)``, so the
values satisfy efficiency: ``sum_i phi_i(x) = f(x) - E f``, reported as a check.

Computation (``method=``): ``"exact"`` enumerates all 2^V coalitions (allowed up to
:data:`MAX_EXACT_VARIABLES` variables: 2^16 coalitions times the background rows are a few
million forward passes per case); ``"permutation"`` averages the contributions along random
orders of the variables, each with its reverse (antithetic pairs), an unbiased estimate with a
standard error per value; ``"auto"`` takes exact up to the bound. Kernels:
:mod:`shallownet.interpret._shapley_kernels`. An ensemble's values are the mean of its members'
(Shapley values are linear in f, so for probabilities they are those of the ensemble's mean
probability), with the spread over members kept.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
import pandas as pd

from .._validation import check_int, check_one_of, check_random_state
from ..results import Result
from . import _background
from . import conditionals as cond
from ._inputs import check_chunk_size, encode, prepare
from ._layout import Layout
from ._shapley_kernels import exact_chunk, permutation_chunk
from .influence import _worker_threads
from .flips import chunk_bounds, chunk_budget, chunk_length, pad_rows

#: Most variables for which ``method="exact"`` enumerates the coalitions.
MAX_EXACT_VARIABLES = 16
#: The exact kernel's scan step (cases x coalitions x reference rows x widest layer) is held to
#: this fraction of the chunk budget. In the benchmark's setting (V = 10, 100 reference rows,
#: 16 hidden units; 64 coalitions a step) shares 1, 2, 4 and 8 ran 1.6 to 1.8 ms of CPU a row,
#: within the noise of a shared 2-core CPU; 16 ran 2.4 ms.
STEP_SHARE = 4
VALUES = ("interventional", "conditional")
OUTPUTS = ("probability", "logit", "prediction")
METHODS = ("auto", "exact", "permutation")


@dataclass(frozen=True, eq=False, repr=False)
class Shapley(Result):
    """Shapley values per case, variable and output target.

    Attributes
    ----------
    variables, kinds : tuple of str
        The players (an enumerated group is one variable) and their kinds.
    targets : tuple of str
        What is explained: class labels (``output="probability"``, or centred softmax logits
        for ``"logit"``), ``"c1 vs c0"`` for a sigmoid logit, the target names of a regression.
    output, value, method : str
        As passed (``method`` resolved to ``"exact"`` or ``"permutation"``).
    values : ndarray (N, V, T)
        ``phi`` of the ensemble (the members' mean).
    member_values : ndarray (M, N, V, T)
        Each member's values.
    standard_error : ndarray (N, V, T) or None
        Standard error of each permutation estimate (None when exact).
    prediction : ndarray (N, T)
        ``f(x)`` (ensemble mean).
    base : ndarray (T,)
        ``E f = v(empty)`` (ensemble mean).
    efficiency_gap : ndarray (N, T)
        ``f(x) - E f - sum_i phi_i(x)``; zero up to rounding for both methods.
    feature_values : ndarray (N, V)
        Each case's value of each variable: raw units for a real variable, 0/1 for a binary
        one, the category's index for an enumerated one (labels in ``categories``).
    categories : tuple of tuple
        Category labels of each variable (empty for real variables).
    n_background : int
        Reference rows the value function averages over.
    background_method : str
    n_neighbors : int or None
        k of the conditional value function.
    n_pairs : int or None
        Antithetic pairs of orders per case (permutation method).
    """

    variables: tuple
    kinds: tuple
    targets: tuple
    output: str
    value: str
    method: str
    values: np.ndarray
    member_values: np.ndarray
    standard_error: np.ndarray | None
    prediction: np.ndarray
    base: np.ndarray
    efficiency_gap: np.ndarray
    feature_values: np.ndarray
    categories: tuple
    n_background: int
    background_method: str
    n_neighbors: int | None
    n_pairs: int | None

    @property
    def n_cases(self) -> int:
        return int(self.values.shape[0])

    @property
    def title(self) -> str:
        return (f"Shapley values ({self.method}, {self.value}, {self.output}; {self.n_cases} cases, "
                f"{self.n_background} reference rows)")

    @property
    def default_target(self) -> str:
        """The target plots and :meth:`per_case` use by default: the positive class of a
        binary probability, otherwise the first target."""
        if self.output == "probability" and len(self.targets) == 2:
            return self.targets[1]
        return self.targets[0]

    def target_index(self, target: Any = None) -> int:
        """Index of ``target`` (a label; None: :attr:`default_target`) in :attr:`targets`."""
        target = self.default_target if target is None else str(target)
        check_one_of("target", target, self.targets)
        return self.targets.index(target)

    def per_case(self, target: Any = None) -> pd.DataFrame:
        """Values for one target: one row per case, one column per variable."""
        return pd.DataFrame(self.values[:, :, self.target_index(target)], columns=list(self.variables))

    def to_frame(self) -> pd.DataFrame:
        """One row per variable and target: mean |phi| (the global importance), mean phi, the
        standard deviation over members of their mean |phi| (NaN for one member) and, for the
        permutation method, the largest standard error of a single value."""
        abs_mean = np.abs(self.values).mean(axis=0)  # (V, T)
        member = np.abs(self.member_values).mean(axis=1)  # (M, V, T)
        sd = member.std(axis=0, ddof=1) if member.shape[0] > 1 else np.full(abs_mean.shape, np.nan)
        rows = []
        for j, v in enumerate(self.variables):
            for t, name in enumerate(self.targets):
                row = {"variable": v, "kind": self.kinds[j], "target": name,
                       "mean_abs": abs_mean[j, t], "mean": self.values[:, j, t].mean(),
                       "member_sd": sd[j, t]}
                if self.standard_error is not None:
                    row["max_se"] = self.standard_error[:, j, t].max()
                rows.append(row)
        return pd.DataFrame(rows)

    def importance(self, target: Any = None) -> pd.Series:
        """Mean |phi| per variable for one target, largest first."""
        t = self.target_index(target)
        return pd.Series(np.abs(self.values[:, :, t]).mean(axis=0), index=list(self.variables),
                         name="mean_abs").sort_values(ascending=False)

    def efficiency(self) -> pd.DataFrame:
        """Per target: ``E f``, the mean ``f(x)`` and the largest |f(x) - E f - sum phi|."""
        return pd.DataFrame({"target": list(self.targets), "base": self.base,
                             "mean_prediction": self.prediction.mean(axis=0),
                             "max_abs_gap": np.abs(self.efficiency_gap).max(axis=0)})

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [("", self.to_frame()), ("Efficiency: sum phi = f(x) - E f.", self.efficiency())]

    def summary(self, digits: int = 3) -> str:
        """The table, the efficiency check and the value function's assumption."""
        with pd.option_context("display.width", 120):
            eff = self.efficiency().to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
        note = ("Interventional: variables outside a coalition are set to background rows "
                "independently of the others." if self.value == "interventional" else
                f"Conditional: the {self.n_neighbors} nearest reference rows in the coalition's "
                f"variables stand for the conditional distribution. {cond.ASSUMPTIONS['knn']}")
        return f"{super().summary(digits)}\n\nEfficiency (sum phi = f(x) - E f)\n{eff}\n\n{note}"


def shapley(
    model: Any,
    X: Any,
    background: Any = None,
    *,
    value: str = "interventional",
    output: str | None = None,
    method: str = "auto",
    n_background: int = 100,
    background_method: str | None = None,
    n_pairs: int = 128,
    n_neighbors: int | None = None,
    encoded: bool = False,
    chunk_size: Any = "auto",
    random_state: int = 0,
) -> Shapley:
    """Shapley values of every variable for every case (see the module docstring).

    Parameters
    ----------
    model : Network, ShallowNetClassifier, ShallowNetRegressor or fitted MLPClassifier
    X : DataFrame or array (N, n_features)
        The cases explained (with ``encoded=True`` the encoded matrix).
    background : DataFrame or array, optional
        Reference data of the value function, same form as ``X``. Default: ``X`` (for the
        conditional value a case is then one of its own candidate neighbours: unlike expected
        influence, nothing is left out, since ``v(S)`` asks for the distribution of the other
        variables among cases like x in S, x included).
    value : {"interventional", "conditional"}, default "interventional"
    output : {"probability", "logit", "prediction"}, optional
        What is explained. Classifiers: ``"probability"`` (default; one target per class) or
        ``"logit"`` (the logit ``z`` of a sigmoid unit; the centred logits ``z_k - mean_l z_l``
        of a softmax, which are identified where the raw logits are not). Regression networks:
        ``"prediction"`` (default and only choice), in the target's raw units.
    method : {"auto", "exact", "permutation"}, default "auto"
        ``"exact"`` needs V <= :data:`MAX_EXACT_VARIABLES`; ``"auto"`` is exact up to there.
    n_background : int, default 100
        Reference rows kept: a reference with more rows is summarised by
        ``background_method`` (:mod:`shallownet.interpret._background`).
    background_method : {"kmeans", "random"}, optional
        Default ``"kmeans"`` for the interventional value and ``"random"`` (the only choice)
        for the conditional one.
    n_pairs : int, default 128
        Antithetic pairs of random orders per case (``method="permutation"``), >= 2.
    n_neighbors : int, optional
        k of the conditional value, default ``min(B, max(20, floor(sqrt(B))))`` for B rows.
    encoded : bool, default False
    chunk_size : "auto" or int
        Cases per compiled call; "auto" fits the chunk budget
        (:func:`~shallownet.interpret.flips.chunk_budget`), with the coalitions also cut into
        blocks so that one call holds about ``M * C * L * B * H_max`` numbers.
    random_state : int, default 0
        Seeds the background summary and the random orders.

    Returns
    -------
    Shapley
    """
    check_one_of("value", value, VALUES)
    check_one_of("method", method, METHODS)
    n_background = check_int("n_background", n_background, 1)
    n_pairs = check_int("n_pairs", n_pairs, 2)
    chunk = check_chunk_size(chunk_size)
    seed = check_random_state(random_state)
    if background_method is None:
        background_method = "kmeans" if value == "interventional" else "random"
    check_one_of("background_method", background_method, _background.BACKGROUND_METHODS)
    if value == "conditional" and background_method != "random":
        raise ValueError(
            "`background_method` must be 'random' for the conditional value function (its "
            f"kNN neighbours are rows with equal mass). Got {background_method!r} instead."
        )
    net, x, _ = prepare(model, X, None, encoded)
    if output is None:
        output = "prediction" if net.is_regression else "probability"
    check_one_of("output", output, ("prediction",) if net.is_regression else ("probability", "logit"))
    V = len(net.variables)
    if method == "auto":
        method = "exact" if V <= MAX_EXACT_VARIABLES else "permutation"
    if method == "exact" and V > MAX_EXACT_VARIABLES:
        raise ValueError(
            f"`method='exact'` enumerates 2^V coalitions and is allowed for at most "
            f"{MAX_EXACT_VARIABLES} variables; this model has {V}. Use method='permutation'."
        )
    x_ref = x if background is None else encode(net, background, encoded, name="background")
    ref, ref_w = _background.summarise(net.variables, x_ref, n_background, background_method, seed)
    B = ref.shape[0]
    k = 0
    if value == "conditional":
        k = min(B, max(20, math.isqrt(B))) if n_neighbors is None else check_int("n_neighbors", n_neighbors, 1)
        if k > B:
            raise ValueError(f"`n_neighbors` must be <= {B} (the reference rows). Got {k}.")

    dtype = x.dtype
    targets, T = _targets(net, output)
    P = np.zeros((V, net.n_inputs), dtype)
    for i, v in enumerate(net.variables):
        P[i, list(v.columns)] = 1
    scale = cond.knn_scaling(net.variables, ref).astype(dtype)
    consts = (jax.numpy.asarray(P), jax.numpy.asarray(ref), jax.numpy.asarray(ref_w.astype(dtype)),
              jax.numpy.asarray(scale))
    kw = dict(activation=net.activation, net_output=net.output, output=output, k=k)
    M, N, n_t = net.n_members, x.shape[0], T.shape[1]
    unit = M * B * max(net.hidden_sizes + (net.n_outputs, n_t, V))
    budget = chunk_budget()

    phi = np.zeros((N, M, V, n_t))
    ends = np.zeros((N, M, 2, n_t))
    se = None
    if method == "exact":
        step = budget // STEP_SHARE  # numbers one scan step of a chunk may hold
        L = 2**V  # coalitions per block: a step of up to 8 cases fits
        while L > 1 and L * unit * min(N, 8) > step:
            L //= 2
        masks, coef = coalition_table(V)
        blocks = (jax.numpy.asarray(masks.reshape(-1, L, V).astype(dtype)),
                  jax.numpy.asarray(coef.reshape(-1, L, V).astype(dtype)))
        # about step // (L * unit) cases; not rounded up to a multiple of 8 as elsewhere (the
        # cases are not the vector axis here, and at V = 16 a padded row costs 0.1 s)
        C = chunk_length(N, L * unit * STEP_SHARE, chunk, multiple=1)

        def one_chunk(start, stop):
            out = exact_chunk(net.params, pad_rows(x[start:stop], C), *consts, *blocks,
                              T.astype(dtype), **kw)
            phi[start:stop], ends[start:stop] = (np.asarray(o)[: stop - start] for o in out)
    else:
        C = chunk_length(N, unit * (2 * V + 2), chunk)
        keys = np.asarray(jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(seed), i))(np.arange(N)))
        squares = np.zeros((N, V, n_t))

        def one_chunk(start, stop):
            out = permutation_chunk(net.params, pad_rows(x[start:stop], C), pad_rows(keys[start:stop], C),
                                    *consts, T.astype(dtype), n_pairs=n_pairs, **kw)
            phi[start:stop], squares[start:stop], ends[start:stop] = (np.asarray(o)[: stop - start] for o in out)

    # The first chunk compiles; the others run a few at a time in worker threads (as the
    # influence engine's chunks do), each writing its own rows.
    bounds = chunk_bounds(N, C)
    one_chunk(*bounds[0])
    with ThreadPoolExecutor(max_workers=_worker_threads(None)) as pool:
        for future in [pool.submit(one_chunk, *b) for b in bounds[1:]]:
            future.result()
    if method == "permutation":
        phi /= n_pairs
        mean = phi.mean(axis=1)
        var = np.maximum(squares / n_pairs - mean**2, 0.0) * n_pairs / (n_pairs - 1)
        se = np.sqrt(var / n_pairs)
    member = np.moveaxis(phi, 1, 0)  # (M, N, V, T)
    values = member.mean(axis=0)
    end = ends.mean(axis=1)  # (N, 2, T)
    return Shapley(
        variables=tuple(v.name for v in net.variables), kinds=tuple(v.kind for v in net.variables),
        targets=targets, output=output, value=value, method=method, values=values,
        member_values=member, standard_error=se, prediction=end[:, 1], base=end[:, 0].mean(axis=0),
        efficiency_gap=end[:, 1] - end[:, 0] - values.sum(axis=1),
        feature_values=_feature_values(net, x),
        categories=tuple(tuple(v.categories) if v.kind == "enumerated" else () for v in net.variables),
        n_background=B, background_method=background_method, n_neighbors=k or None,
        n_pairs=n_pairs if method == "permutation" else None,
    )


def coalition_table(V: int) -> tuple[np.ndarray, np.ndarray]:
    """Every coalition as a 0/1 row (2^V, V) (bit i of the row index is variable i) and the
    Shapley coefficients ``c[s, i]``: ``w(|s| - 1)`` if i is in s, ``-w(|s|)`` if not, with
    ``w(m) = m! (V - m - 1)! / V! = 1 / (V * binom(V - 1, m))``."""
    idx = np.arange(2**V)
    masks = ((idx[:, None] >> np.arange(V)[None, :]) & 1).astype(np.float64)
    size = masks.sum(axis=1).astype(int)
    w = np.array([1.0 / (V * math.comb(V - 1, m)) for m in range(V)])
    inside = w[np.clip(size - 1, 0, V - 1)][:, None]
    outside = -w[np.clip(size, 0, V - 1)][:, None]
    return masks, np.where(masks > 0, inside, outside)


def _targets(net, output: str) -> tuple[tuple, np.ndarray]:
    """Labels of the explained targets and the matrix mapping output pre-activations to them."""
    labels = tuple(str(c) for c in net.classes)
    if output == "prediction":
        return labels, np.eye(net.n_outputs)
    if output == "probability":
        return labels, np.eye(len(labels))  # sets the width only: probabilities come from the output layer
    layout = Layout.of(net)
    if net.output == "sigmoid":
        return layout.targets, layout.T
    K = len(labels)
    return labels, layout.T[:, :K]  # the centred logits, one per class


def _feature_values(net, x: np.ndarray) -> np.ndarray:
    """Each case's value of each variable (raw units, 0/1, or category index), (N, V)."""
    cols = []
    for v in net.variables:
        block = np.asarray(x[:, list(v.columns)], dtype=np.float64)
        if v.kind == "real":
            cols.append(v.minimum + v.scale * block[:, 0])
        elif v.kind == "binary":
            cols.append(block[:, 0])
        else:
            cols.append(block.argmax(axis=1).astype(np.float64))
    return np.stack(cols, axis=1)
