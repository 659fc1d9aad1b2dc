"""Potential and expected influence of each variable on the network's decision.

The network is read as a Bayes classifier with decision ``d(x) = argmax_k p_k(x)`` (for an
ensemble, the argmax of the members' mean probabilities). For variable i and case x, let
``x_{i<-v}`` be x with variable i set to v (a value of a real or binary variable, a whole
one-hot row of an enumerated one). Over the variable's candidate set (a grid of ``n_grid``
points on the training range, 0/1, or every category; see
:func:`shallownet.interpret.flips.flip_tensor`):

* potential influence ``PI_i(x) = max_g F[g]`` with ``F[g] = 1[d(x_{i<-g}) != d(x)]``: some
  value of the variable changes the decision; graded: the share of the candidates, with the
  case's own value added when it is not one of them (an off-grid real value), that change it,
  ``sum_g F[g] / (G + 1[own value off the grid])``;
* expected influence ``EI_i(x) = sum_g pi(g | x_{-i}) F[g]``: the probability, under the
  conditional distribution of the variable given the others, that its value changes the
  decision (:mod:`shallownet.interpret.conditionals` estimates ``pi``);
* class-targeted EI towards class k: ``sum_g pi(g | x_{-i}) F[g] 1[d(x_{i<-g}) = k]``;
* soft EI: ``sum_g pi(g | x_{-i}) |p_d(x_{i<-g}) - p_d(x)|`` with ``d = d(x)``.

Aggregates are means over all cases, per true class, per predicted class and over correctly
classified cases. The accuracy reachable WITHOUT variable i is at least
``accuracy - mean EI_i`` (a randomised classifier that draws x_i from its conditional and
applies d ignores x_i and disagrees with d on a case with probability EI_i; see
``theory/influence.md``). For an ensemble the decision is the ensemble's, and each member's
influence on its own decision is kept for the spread over members.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from .._progress import ProgressBar
from .._validation import check_bool, check_int, check_one_of, check_random_state
from ..devices import check_devices, padded_length, replicate, row_mesh, shard_rows, to_host
from ..results import Result
from . import conditionals as cond
from ._inputs import (
    candidate_count,
    check_chunk_size,
    check_n_grid,
    encode,
    prepare,
    select_variables,
)
from .flips import (
    chunk_bounds,
    chunk_length,
    influence_chunk,
    pad_rows,
    regression_influence_chunk,
    substitution,
    widest_layer,
)

GROUPINGS = ("all", "true", "predicted", "correct")


def _group_means(values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``values`` (N, ...) within each group; ``(means (n_groups, ...), counts)``.

    Empty groups get NaN."""
    counts = np.bincount(groups, minlength=n_groups)
    sums = np.zeros((n_groups,) + values.shape[1:])
    np.add.at(sums, groups, values)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts.reshape((-1,) + (1,) * (values.ndim - 1))
    return means, counts


@dataclass(frozen=True, eq=False, repr=False)
class _InfluenceBase(Result):
    """Shared fields and aggregation of potential and expected influence."""

    variables: tuple
    kinds: tuple
    classes: np.ndarray
    potential: np.ndarray  # (N, V) bool
    graded: np.ndarray  # (N, V)
    predicted: np.ndarray  # (N,) class index of the decision
    y: np.ndarray | None  # (N,) true class index, or None
    n_grid: int

    measures: ClassVar[tuple] = ()

    @property
    def n_cases(self) -> int:
        return int(self.potential.shape[0])

    @property
    def accuracy(self) -> float | None:
        """Share of cases the decision classifies correctly (None without ``y``)."""
        return None if self.y is None else float(np.mean(self.predicted == self.y))

    def _values(self, measure: str) -> np.ndarray:
        check_one_of("measure", measure, self.measures)
        return np.asarray(getattr(self, measure), dtype=np.float64)

    def per_case(self, measure: str | None = None) -> pd.DataFrame:
        """Per-case values of ``measure`` (default: the main one): one column per variable."""
        values = self._values(measure or self.measures[0])
        return pd.DataFrame(values, columns=list(self.variables))

    def aggregate(self, measure: str | None = None, by: str = "all") -> pd.DataFrame:
        """Mean of ``measure`` per variable over all cases (``by="all"``), per true class
        (``"true"``, needs ``y``), per predicted class (``"predicted"``) or over correctly
        classified cases (``"correct"``, needs ``y``).

        Returns a long frame: ``variable``, ``group``, ``n_cases``, and the measure.
        """
        measure = measure or self.measures[0]
        values = self._values(measure)
        check_one_of("by", by, GROUPINGS)
        if by in ("true", "correct") and self.y is None:
            raise ValueError(f"`by={by!r}` needs the true classes: pass `y` to the method.")
        if by == "all":
            means, counts, labels = values.mean(axis=0)[None], np.array([len(values)]), ["all"]
        elif by == "correct":
            ok = self.predicted == self.y
            means = values[ok].mean(axis=0)[None] if ok.any() else np.full((1, values.shape[1]), np.nan)
            counts, labels = np.array([int(ok.sum())]), ["correct"]
        else:
            groups = self.y if by == "true" else self.predicted
            means, counts = _group_means(values, groups, len(self.classes))
            labels = list(self.classes)
        rows = [
            {"variable": v, "group": labels[g], "n_cases": int(counts[g]), measure: means[g, j]}
            for j, v in enumerate(self.variables)
            for g in range(len(labels))
        ]
        return pd.DataFrame(rows)

    def _towards_frame(self, towards: np.ndarray, name: str) -> pd.DataFrame:
        means = towards.astype(np.float64).mean(axis=0)  # (V, K)
        rows = [
            {"variable": v, "towards": self.classes[k], name: means[j, k]}
            for j, v in enumerate(self.variables)
            for k in range(len(self.classes))
        ]
        return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False, repr=False)
class PotentialInfluence(_InfluenceBase):
    """Potential influence of each variable (see the module docstring).

    Attributes
    ----------
    variables, kinds : tuple of str
        Variable names and kinds (an enumerated group is one variable).
    classes : ndarray (K,)
    potential : ndarray (N, V) of bool
        ``PI_i(x_n)``: some candidate value flips the decision.
    graded : ndarray (N, V)
        Share of the candidate values, plus the case's own value when it is off the grid, that
        flip it.
    towards : ndarray (N, V, K) of bool
        Some candidate value moves the decision to class k.
    member_potential : ndarray (M, N, V) of bool
        Each member's PI on its own decision.
    predicted, y : ndarray (N,) of int
        Decision and true class (indices into ``classes``; ``y`` may be None).
    n_grid : int
    """

    towards: np.ndarray
    member_potential: np.ndarray
    measures: ClassVar[tuple] = ("potential", "graded")

    @property
    def title(self) -> str:
        return f"Potential influence ({self.n_cases} cases, grid of {self.n_grid})"

    def to_frame(self) -> pd.DataFrame:
        """One row per variable: mean PI, graded PI, spread of PI over members."""
        member = self.member_potential.mean(axis=1)  # (M, V)
        return pd.DataFrame(
            {
                "variable": list(self.variables),
                "kind": list(self.kinds),
                "potential": self.potential.mean(axis=0),
                "graded": self.graded.mean(axis=0),
                "member_sd": member.std(axis=0, ddof=1) if member.shape[0] > 1 else np.zeros(member.shape[1]),
                "member_min": member.min(axis=0),
                "member_max": member.max(axis=0),
            }
        )

    def targeted(self) -> pd.DataFrame:
        """Share of cases whose decision some value of the variable moves to each class."""
        return self._towards_frame(self.towards, "potential")


@dataclass(frozen=True, eq=False, repr=False)
class ExpectedInfluence(_InfluenceBase):
    """Expected influence of each variable, with the marginal baseline beside it.

    Attributes
    ----------
    conditional : str
        The conditional estimator of ``pi`` (``knn``, ``copula``, ``model`` or ``marginal``).
    expected : ndarray (N, V)
        ``EI_i(x_n)`` under the chosen conditional.
    marginal : ndarray (N, V)
        The same under the marginal distribution (a baseline that ignores dependence).
    soft : ndarray (N, V)
        Soft EI: expected absolute change of the probability of the decided class.
    towards : ndarray (N, V, K)
        Class-targeted EI: probability that the variable's value moves the decision to class k.
    member_expected : ndarray (M, N, V)
        Each member's EI on its own decision (chosen conditional).
    potential, graded : ndarray (N, V)
        Potential influence (computed from the same flips).
    diagnostics : DataFrame
        Per variable and estimator: 90 % coverage, log score, whether held out
        (:func:`shallownet.interpret.conditionals.scores`). Out of sample: kNN and marginal
        leave each case out, copula and model are cross-fitted over 5 folds
        (:func:`shallownet.interpret.conditionals.cross_fitted_scores`); ``held_out`` is False
        only where a fold could not be fitted and the in-sample figures were kept.
    n_neighbors : int or None
        k of the kNN conditional.
    n_reference : int
        Reference rows the conditional was estimated from (for ``knn``: the rows searched).
    """

    conditional: str
    expected: np.ndarray
    marginal: np.ndarray
    soft: np.ndarray
    towards: np.ndarray
    member_expected: np.ndarray
    diagnostics: pd.DataFrame
    n_neighbors: int | None
    n_reference: int
    measures: ClassVar[tuple] = ("expected", "marginal", "soft", "potential", "graded")

    @property
    def title(self) -> str:
        return f"Expected influence ({self.conditional} conditional, {self.n_cases} cases)"

    def to_frame(self) -> pd.DataFrame:
        """One row per variable: mean EI (chosen conditional and marginal), soft EI, mean PI,
        the spread of EI over members and, with ``y``, the mean EI over correctly classified
        cases and the lower bound on the accuracy reachable without the variable."""
        member = self.member_expected.mean(axis=1)  # (M, V)
        frame = pd.DataFrame(
            {
                "variable": list(self.variables),
                "kind": list(self.kinds),
                "expected": self.expected.mean(axis=0),
                "marginal": self.marginal.mean(axis=0),
                "soft": self.soft.mean(axis=0),
                "potential": self.potential.mean(axis=0),
                "graded": self.graded.mean(axis=0),
                "member_sd": member.std(axis=0, ddof=1) if member.shape[0] > 1 else np.zeros(member.shape[1]),
                "member_min": member.min(axis=0),
                "member_max": member.max(axis=0),
            }
        )
        if self.y is not None:
            ok = self.predicted == self.y
            frame["expected_correct"] = self.expected[ok].mean(axis=0) if ok.any() else np.nan
            frame["accuracy_without_lb"] = self.accuracy_bound()
        return frame

    def accuracy_bound(self) -> np.ndarray:
        """``accuracy - mean EI_i`` per variable: the accuracy reachable without variable i
        is at least this (needs ``y``)."""
        if self.y is None:
            raise ValueError("The accuracy bound needs the true classes: pass `y`.")
        return self.accuracy - self.expected.mean(axis=0)

    def targeted(self) -> pd.DataFrame:
        """Mean class-targeted EI: the probability that the variable moves the decision to
        each class."""
        return self._towards_frame(self.towards, "expected")

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [("", self.to_frame()), ("Conditional diagnostics.", self.diagnostics)]

    def summary(self, digits: int = 3) -> str:
        """The table, the conditional's diagnostics and its assumptions."""
        text = super().summary(digits)
        with pd.option_context("display.width", 120):
            diag = self.diagnostics.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
        return (
            f"{text}\n\nConditional diagnostics\n{diag}\n\nAssumptions ({self.conditional}): "
            f"{cond.ASSUMPTIONS[self.conditional]}"
        )


@dataclass(frozen=True, eq=False, repr=False)
class RegressionInfluence(Result):
    """Potential and (with a conditional) expected influence on a regression network.

    For a linear-output network with prediction ``f`` (the members' mean), variable i and
    case x (``theory/influence.md``, "Numeric outputs"):

    * potential influence ``PI_i(x) = max_g f(x_{i<-g}) - min_g f(x_{i<-g})`` over the
      candidate set with the case's own value included: how far the variable can move the
      prediction, in raw units of the target;
    * expected influence ``EI_i(x) = E|f(x_{i<-X_i'}) - f(x)|`` with ``X_i'`` drawn from the
      conditional ``p(x_i | x_{-i})``: how far it probably moves it;
    * ``share``: mean EI over the mean absolute difference ``E|f(X) - f(X')|`` of the
      predictions at two cases drawn independently from the data (1 when f depends on x_i
      alone and x_i is independent of the others).

    Bounds with ``y``: the mean absolute error reachable without variable i is at most
    ``MAE + mean EI_i``, and the root mean squared error at most ``RMSE + sqrt(mean EI2_i)``
    with ``EI2_i = E (f(x_{i<-X_i'}) - f(x))^2`` (the randomised predictor that draws x_i
    from its conditional ignores x_i; triangle and Minkowski inequalities).

    Attributes
    ----------
    variables, kinds : tuple of str
    outputs : ndarray (T,)
        Names of the network's outputs.
    potential : ndarray (N, V, T)
    member_potential : ndarray (M, N, V, T)
    predicted : ndarray (N, T)
        The ensemble's predictions at the cases.
    y : ndarray (N, T) or None
    n_grid : int
    conditional : str or None
        None for potential influence alone.
    expected, marginal, expected_sq : ndarray (N, V, T) or None
        EI under the chosen conditional and under the marginal; EI2 under the chosen one.
    member_expected : ndarray (M, N, V, T) or None
    diagnostics : DataFrame or None
    n_neighbors : int or None
    n_reference : int or None
    """

    variables: tuple
    kinds: tuple
    outputs: np.ndarray
    potential: np.ndarray
    member_potential: np.ndarray
    predicted: np.ndarray
    y: np.ndarray | None
    n_grid: int
    conditional: str | None = None
    expected: np.ndarray | None = None
    marginal: np.ndarray | None = None
    expected_sq: np.ndarray | None = None
    member_expected: np.ndarray | None = None
    diagnostics: pd.DataFrame | None = None
    n_neighbors: int | None = None
    n_reference: int | None = None

    @property
    def title(self) -> str:
        kind = "Potential" if self.conditional is None else f"Expected ({self.conditional} conditional)"
        return f"{kind} influence on a numeric output ({self.potential.shape[0]} cases)"

    def prediction_spread(self) -> np.ndarray:
        """``E|f(X) - f(X')|`` per output, over all ordered pairs of distinct cases, (T,)
        (the mean absolute difference of the predictions, computed from their sorted values)."""
        f = np.sort(self.predicted, axis=0)
        n = f.shape[0]
        if n < 2:
            return np.full(f.shape[1], np.nan)
        weights = 2 * np.arange(1, n + 1) - n - 1
        return 2 * (weights[:, None] * f).sum(axis=0) / (n * (n - 1))

    def bounds(self) -> pd.DataFrame:
        """Per variable and output: the MAE and RMSE of the network and the bounds on those
        reachable without the variable (class docstring; needs ``y`` and a conditional)."""
        if self.y is None or self.expected is None:
            raise ValueError("The bounds need the true targets `y` and an expected influence.")
        err = self.y - self.predicted
        mae, rmse = np.abs(err).mean(axis=0), np.sqrt((err**2).mean(axis=0))
        rows = []
        for j, v in enumerate(self.variables):
            for t, out in enumerate(self.outputs):
                rows.append({"variable": v, "output": str(out), "mae": mae[t],
                             "mae_without_ub": mae[t] + self.expected[:, j, t].mean(),
                             "rmse": rmse[t],
                             "rmse_without_ub": rmse[t] + np.sqrt(self.expected_sq[:, j, t].mean())})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per variable and output: mean PI (and its spread over members) and, with a
        conditional, mean EI, its share of the prediction spread, the marginal EI and the
        spread of EI over members. Raw units of the target."""
        spread = self.prediction_spread()
        rows = []
        for j, v in enumerate(self.variables):
            for t, out in enumerate(self.outputs):
                member = self.member_potential[:, :, j, t].mean(axis=1)
                row = {"variable": v, "kind": self.kinds[j], "output": str(out),
                       "potential": self.potential[:, j, t].mean(),
                       "potential_member_sd": member.std(ddof=1) if member.size > 1 else 0.0}
                if self.expected is not None:
                    m_ei = self.member_expected[:, :, j, t].mean(axis=1)
                    ei = self.expected[:, j, t].mean()
                    row.update(expected=ei, share=ei / spread[t] if spread[t] > 0 else np.nan,
                               marginal=self.marginal[:, j, t].mean(),
                               expected_member_sd=m_ei.std(ddof=1) if m_ei.size > 1 else 0.0)
                rows.append(row)
        return pd.DataFrame(rows)

    def summary(self, digits: int = 3) -> str:
        """The table and, with a conditional, its diagnostics and assumptions."""
        text = super().summary(digits)
        if self.diagnostics is None:
            return text
        with pd.option_context("display.width", 120):
            diag = self.diagnostics.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
        return (f"{text}\n\nConditional diagnostics\n{diag}\n\nAssumptions ({self.conditional}): "
                f"{cond.ASSUMPTIONS[self.conditional]}")


DEFAULT_REFERENCE_SIZE = 10_000
"""Default ``reference_size`` of :func:`expected_influence` (see theory/influence.md)."""


def _check_reference_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        check_one_of("reference_size", value, ("auto",))
        return DEFAULT_REFERENCE_SIZE
    return check_int("reference_size", value, 2)


# -- the shared pass --------------------------------------------------------------------------
def _influence_pass(net, x, variables, n_grid, conditionals, exclude_self, chunk_size, devices="auto",
                    progress=False, scored=None):
    """Run the influence kernel over chunks of cases for every variable.

    ``conditionals`` is a list of J fitted conditionals (J = 0 for potential influence only).
    Returns a dict of arrays with cases first and variables second (:func:`_allocate`), and
    with conditionals the mean diagnostics ``coverage90`` and ``log_score`` of shape (V, J),
    computed for the conditionals marked True in ``scored`` (default all; the others stay 0).
    The per-case results are written into arrays allocated once, so memory is the result
    itself plus the working sets of the chunks in flight (:func:`_worker_threads` + 1 of them),
    whatever N. On one CPU device several chunks are computed at once in worker threads.
    With ``progress``, a bar with the time left is shown on stderr, per chunk of cases.
    With several devices and ``devices="auto"`` each chunk (its length rounded up to a
    multiple of the device count) has its rows split over the devices for the kNN and flip
    kernels; the parameters, candidates and kNN reference are replicated
    (:mod:`shallownet.devices`).
    """
    mesh = row_mesh(devices)
    N, V, J = x.shape[0], len(variables), len(conditionals)
    G_max = max(candidate_count(v, n_grid) for v in variables)
    per_row = net.n_members * G_max * widest_layer(net)
    for c in conditionals:
        per_row = max(per_row, getattr(c, "per_row", 0))
    chunk = padded_length(chunk_length(N, per_row, chunk_size), mesh)
    subs = [substitution(v, n_grid) for v in variables]
    subs = replicate([(jnp.asarray(cols), jnp.asarray(cand.astype(x.dtype))) for cols, cand in subs], mesh)
    regression = net.is_regression
    kernel = partial(regression_influence_chunk if regression else influence_chunk,
                     replicate(net.params, mesh), activation=net.activation, output=net.output)
    if regression:
        out = _allocate_regression(N, V, J, net.n_outputs, net.n_members)
    else:
        out = _allocate(N, V, J, len(net.classes) if net.output == "softmax" else 2, net.n_members)
    store = _store_regression if regression else _store
    own_all = cond.codes(variables, x, n_grid)
    label = "expected influence" if conditionals else "potential influence"
    bar = ProgressBar(N, f"{label} ({V} variables)", enabled=progress)

    def one_chunk(start: int, stop: int):
        """Kernel outputs of every variable for one chunk (on the host), and the chunk's sums
        of the diagnostics, shape (2, V, J)."""
        xc = pad_rows(x[start:stop], chunk)
        rows = pad_rows(np.arange(start, stop), chunk)
        masses = [cond.chunk_masses(c, xc, rows, exclude_self, mesh) for c in conditionals]
        xj = shard_rows(xc, mesh)
        n = stop - start
        dispatched, sums = [], np.zeros((2, V, J))
        for j, (v, (cols, cand)) in enumerate(zip(variables, subs)):
            G = cand.shape[0]
            m = np.stack([ms[j] for ms in masses], axis=-1) if masses else np.zeros((chunk, G, 0), x.dtype)
            dispatched.append(kernel(xj, cols, cand, shard_rows(m.astype(x.dtype), mesh)))
            for i, ms in enumerate(masses):
                if scored is None or scored[i]:
                    covered, log_score = cond.scores(ms[j][:n], own_all[start:stop, j], v.ordered)
                    sums[:, j, i] = covered.sum(), log_score.sum()
        return [to_host(r) for r in dispatched], sums

    bounds = chunk_bounds(N, chunk)
    chunk_sums = np.zeros((len(bounds), 2, V, J))

    def finish(c: int, done) -> None:
        results, chunk_sums[c] = done
        start, stop = bounds[c]
        for j, result in enumerate(results):
            store(out, start, stop, j, result)
        bar.update(stop, "cases")

    # The first chunk compiles the kernels; the others run in worker threads, several at a time
    # (:func:`_worker_threads`), while this thread copies finished chunks into the results. At
    # most workers + 1 chunks are in flight, so memory stays bounded. Every case's numbers are
    # the same whatever the number of threads.
    finish(0, one_chunk(*bounds[0]))
    workers = _worker_threads(mesh)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        in_flight = deque()
        for c in range(1, len(bounds)):
            in_flight.append((c, pool.submit(one_chunk, *bounds[c])))
            if len(in_flight) > workers:
                c_done, future = in_flight.popleft()
                finish(c_done, future.result())
        while in_flight:
            c_done, future = in_flight.popleft()
            finish(c_done, future.result())
    if J:
        totals = chunk_sums.sum(axis=0) / N  # summed in chunk order: the same for any threads
        out["coverage90"], out["log_score"] = totals[0], totals[1]
    return out


#: Most chunks computed at once on a CPU (each holds its own working set).
MAX_CPU_WORKERS = 16


def _worker_threads(mesh) -> int:
    """Chunks computed at once. On one CPU device, one more than the cores this process may
    use (at most :data:`MAX_CPU_WORKERS`): XLA's top-k runs on one core per call, and a thread
    is often busy on the host (the chunk's masses and scores). On one accelerator two, so that
    one chunk's results travel to the host while the next computes. Over several devices one:
    they already share each chunk, and with several processes every process must launch the
    same computations in the same order."""
    if mesh is not None:
        return 1
    if jax.default_backend() != "cpu":
        return 2
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cores, MAX_CPU_WORKERS) + 1


def _allocate(N: int, V: int, J: int, K: int, M: int) -> dict:
    """Result arrays of :func:`_influence_pass`, filled chunk by chunk.

    ``potential`` (N, V) bool, ``graded`` (N, V), ``potential_towards`` (N, V, K) bool,
    ``member_potential`` (N, V, M) bool, ``base`` (N,) int32; with J > 0 conditionals also
    ``expected`` (N, V, J) and, for the first (chosen) conditional only, ``soft`` (N, V),
    ``towards`` (N, V, K) and ``member_expected`` (N, V, M); floats in float64.
    """
    out = {
        "potential": np.zeros((N, V), bool), "graded": np.zeros((N, V)),
        "potential_towards": np.zeros((N, V, K), bool), "member_potential": np.zeros((N, V, M), bool),
        "base": np.zeros(N, np.int32),
    }
    if J:
        out.update(
            expected=np.zeros((N, V, J)), soft=np.zeros((N, V)), towards=np.zeros((N, V, K)),
            member_expected=np.zeros((N, V, M)), coverage90=np.zeros((V, J)), log_score=np.zeros((V, J)),
        )
    return out


def _allocate_regression(N: int, V: int, J: int, T: int, M: int) -> dict:
    """Result arrays of :func:`_influence_pass` for a linear-output network (T outputs):
    ``potential`` (N, V, T), ``member_potential`` (N, V, M, T), ``base`` (N, T); with J > 0
    conditionals ``expected`` (N, V, T, J) and ``member_expected`` (N, V, M, T) (first
    conditional), and the diagnostics; all float64."""
    out = {"potential": np.zeros((N, V, T)), "member_potential": np.zeros((N, V, M, T)),
           "base": np.zeros((N, T))}
    if J:
        out.update(expected=np.zeros((N, V, T, J)), expected_sq=np.zeros((N, V, T, J)), member_expected=np.zeros((N, V, M, T)),
                   coverage90=np.zeros((V, J)), log_score=np.zeros((V, J)))
    return out


def _store_regression(out: dict, start: int, stop: int, j: int, result) -> None:
    """:func:`_store` for :class:`~shallownet.interpret.flips.RegressionInfluenceChunk`."""
    n = stop - start
    host = to_host(result)
    out["potential"][start:stop, j] = host.potential[:n]
    out["member_potential"][start:stop, j] = host.member_potential[:n]
    out["base"][start:stop] = host.base[:n]
    if "expected" in out:
        out["expected"][start:stop, j] = host.expected[:n]
        out["expected_sq"][start:stop, j] = host.expected_sq[:n]
        out["member_expected"][start:stop, j] = host.member_expected[:n]


def _store(out: dict, start: int, stop: int, j: int, result) -> None:
    """Copy one variable's chunk of kernel output into the result arrays (padding dropped)."""
    n = stop - start
    host = to_host(result)
    out["potential"][start:stop, j] = host.potential[:n]
    out["graded"][start:stop, j] = host.graded[:n]
    out["potential_towards"][start:stop, j] = host.potential_towards[:n]
    out["member_potential"][start:stop, j] = host.member_potential[:n]
    out["base"][start:stop] = host.base[:n]
    if "expected" in out:
        out["expected"][start:stop, j] = host.expected[:n]
        out["soft"][start:stop, j] = host.soft[:n, 0]
        out["towards"][start:stop, j] = host.towards[:n, :, 0]
        out["member_expected"][start:stop, j] = host.member_expected[:n, :, 0]


def potential_influence(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    variables: Any = None,
    n_grid: int = 51,
    encoded: bool = False,
    chunk_size: Any = "auto",
    devices: Any = "auto",
    progress: bool = False,
) -> PotentialInfluence | RegressionInfluence:
    """Potential influence of every variable on every case.

    For a linear-output (regression) network the result is a :class:`RegressionInfluence`:
    the range of the prediction over the same candidates, in raw units of the target.

    ``PI_i(x) = 1`` if some candidate value of variable i changes the decision at x: a grid of
    ``n_grid`` points over the training range of a real variable, 0/1 for a binary one, every
    category of an enumerated one (the whole one-hot group is substituted). The graded form is
    the share of those values, with the case's own value added when it is not on the grid, that
    change it (``methods.md`` section 4: the grid includes the observed value, which never
    changes the decision).

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier
    X : DataFrame or array (N, n_features)
        Raw cases; with ``encoded=True`` the encoded matrix (N, D).
    y : array-like (N,), optional
        True labels, for the per-true-class and correctly-classified aggregates.
    variables : list of str, optional
        The variables to assess (default: all).
    n_grid : int, default 51
    encoded : bool, default False
    chunk_size : "auto" or int
        Cases per chunk; memory is about ``chunk * M * G * H`` numbers.
    devices : {"auto", "none", 1}, default "auto"
        "auto" splits each chunk's cases over all visible devices when there are several
        (:mod:`shallownet.devices`); "none" or 1 uses one device. Same numbers either way.
    progress : bool, default False
        Show a progress bar with the time left on stderr.

    Returns
    -------
    PotentialInfluence
    """
    n_grid = check_n_grid(n_grid)
    chunk_size = check_chunk_size(chunk_size)
    check_devices(devices)
    progress = check_bool("progress", progress)
    net, x, yi = prepare(model, X, y, encoded)
    vars_ = select_variables(net, variables)
    out = _influence_pass(net, x, vars_, n_grid, [], False, chunk_size, devices, progress)
    if net.is_regression:
        return RegressionInfluence(
            variables=tuple(v.name for v in vars_), kinds=tuple(v.kind for v in vars_),
            outputs=np.asarray(net.classes), potential=out["potential"],
            member_potential=np.moveaxis(out["member_potential"], 2, 0), predicted=out["base"],
            y=yi, n_grid=n_grid,
        )
    return PotentialInfluence(
        variables=tuple(v.name for v in vars_), kinds=tuple(v.kind for v in vars_),
        classes=np.asarray(net.classes), potential=out["potential"], graded=out["graded"],
        predicted=out["base"], y=yi, n_grid=n_grid, towards=out["potential_towards"],
        member_potential=np.moveaxis(out["member_potential"], 2, 0),
    )


def expected_influence(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    conditional: str = "knn",
    reference: Any = None,
    reference_size: Any = "auto",
    n_neighbors: int | None = None,
    variables: Any = None,
    n_grid: int = 51,
    encoded: bool = False,
    chunk_size: Any = "auto",
    random_state: int = 0,
    devices: Any = "auto",
    progress: bool = False,
) -> ExpectedInfluence | RegressionInfluence:
    """Expected influence of every variable on every case, with the marginal baseline.

    For a linear-output (regression) network the result is a :class:`RegressionInfluence`:
    ``EI_i(x) = sum_g pi(g | x_{-i}) |f(x_{i<-g}) - f(x)|`` in raw units of the target, with
    its share of the prediction spread and the error bounds of that class.

    ``EI_i(x) = P(d(x_{-i}, X_i) != d(x) | X_{-i} = x_{-i}) = sum_g pi(g | x_{-i}) F[g]`` over
    the variable's candidate set (see :func:`potential_influence`). For an enumerated variable
    this is exactly ``sum_c p(c | x_{-i}) 1[d(x_{i<-e_c}) != d(x)]``. For a real variable a value
    counts for its nearest grid point (``n_grid`` points over the training range).

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier
    X : DataFrame or array (N, n_features)
        Raw cases; with ``encoded=True`` the encoded matrix.
    y : array-like (N,), optional
        True labels (per-true-class and correct-case aggregates, the accuracy bound).
    conditional : {"knn", "copula", "model", "marginal"}, default "knn"
        Estimator of the conditional distribution of a variable given the others
        (:mod:`shallownet.interpret.conditionals`). The marginal is always computed beside it.
    reference : DataFrame or array, optional
        Data the conditional is estimated from (same form as ``X``). Default: ``X`` itself, and
        then each case is left out of its own kNN neighbours and marginal.
    reference_size : "auto", int or None, default "auto"
        Reference rows the kNN conditional searches for each case's neighbours. A reference
        with more rows is replaced, for the kNN conditional only, by a random subset of this
        many rows (drawn from ``random_state``; a case outside the subset has no row to leave
        out). ``"auto"`` is :data:`DEFAULT_REFERENCE_SIZE`; ``None`` searches every row (cost
        per case proportional to N, so quadratic in total).
    n_neighbors : int, optional
        k of the kNN conditional; default ``max(20, floor(sqrt(N_ref)))`` with ``N_ref`` the
        rows searched.
    variables : list of str, optional
    n_grid : int, default 51
    encoded : bool, default False
    chunk_size : "auto" or int
        Cases per chunk. Working memory is bounded by the chunk, not by N: the kNN kernel
        holds about ``6 * chunk * N_ref`` numbers, the flips ``chunk * M * G * H``.
    random_state : int, default 0
        Seed of the kNN reference subset and of the folds that score a copula or model
        conditional fitted on ``X`` itself.
    progress : bool, default False
        Show a progress bar with the time left on stderr.
    devices : {"auto", "none", 1}, default "auto"
        "auto" splits each chunk's cases over all visible devices when there are several
        (:mod:`shallownet.devices`); "none" or 1 uses one device. Same numbers either way.

    Returns
    -------
    ExpectedInfluence
    """
    check_one_of("conditional", conditional, cond.CONDITIONALS)
    n_grid = check_n_grid(n_grid)
    chunk_size = check_chunk_size(chunk_size)
    size = _check_reference_size(reference_size)
    seed = check_random_state(random_state)
    check_devices(devices)
    progress = check_bool("progress", progress)
    net, x, yi = prepare(model, X, y, encoded)
    vars_ = select_variables(net, variables)
    exclude_self = reference is None
    x_ref = x if exclude_self else encode(net, reference, encoded, name="reference")
    fitted = [
        cond.fit_conditional(conditional, net.variables, vars_, x_ref, n_grid, n_neighbors, exclude_self, size, seed)
    ]
    if conditional != "marginal":
        fitted.append(cond.fit_conditional("marginal", net.variables, vars_, x_ref, n_grid))
    names = [c.name for c in fitted]
    held_out = [name in ("knn", "marginal") or not exclude_self for name in names]
    crossed = None
    if not held_out[0]:  # copula or model fitted on the cases it scores: cross-fit the scores
        crossed = cond.cross_fitted_scores(conditional, net.variables, vars_, x, n_grid, seed)
        held_out[0] = crossed is not None
    # Scores in the pass only where the cross-fitted ones do not replace them.
    scored = [i > 0 or crossed is None for i in range(len(fitted))]
    out = _influence_pass(net, x, vars_, n_grid, fitted, exclude_self, chunk_size, devices, progress, scored)
    if crossed is not None:
        out["coverage90"][:, 0], out["log_score"][:, 0] = crossed
    expected = out["expected"]  # (N, V, J), (N, V, T, J) for a regression network
    rows = []
    for j, v in enumerate(vars_):
        for i, name in enumerate(names):
            rows.append(
                {
                    "variable": v.name, "conditional": name,
                    "coverage90": float(out["coverage90"][j, i]),
                    "log_score": float(out["log_score"][j, i]),
                    "held_out": held_out[i],
                }
            )
    if net.is_regression:
        return RegressionInfluence(
            variables=tuple(v.name for v in vars_), kinds=tuple(v.kind for v in vars_),
            outputs=np.asarray(net.classes), potential=out["potential"],
            member_potential=np.moveaxis(out["member_potential"], 2, 0), predicted=out["base"],
            y=yi, n_grid=n_grid, conditional=conditional, expected=expected[..., 0],
            marginal=expected[..., -1], expected_sq=out["expected_sq"][..., 0],
            member_expected=np.moveaxis(out["member_expected"], 2, 0),
            diagnostics=pd.DataFrame(rows), n_neighbors=getattr(fitted[0], "k", None),
            n_reference=getattr(fitted[0], "n_ref", x_ref.shape[0]),
        )
    return ExpectedInfluence(
        variables=tuple(v.name for v in vars_), kinds=tuple(v.kind for v in vars_),
        classes=np.asarray(net.classes), potential=out["potential"], graded=out["graded"],
        predicted=out["base"], y=yi, n_grid=n_grid,
        conditional=conditional, expected=expected[:, :, 0], marginal=expected[:, :, -1],
        soft=out["soft"], towards=out["towards"],
        member_expected=np.moveaxis(out["member_expected"], 2, 0),
        diagnostics=pd.DataFrame(rows),
        n_neighbors=getattr(fitted[0], "k", None),
        n_reference=getattr(fitted[0], "n_ref", x_ref.shape[0]),
    )
