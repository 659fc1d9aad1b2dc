"""Gradient sensitivity: partial derivatives (PaD) and second-order (Hessian) summaries.

First order
-----------
For a real variable i and class k the per-case sensitivity is the partial derivative of the
class probability, ``d_nik = dp_k / dx_i`` at case n, on the encoded [0, 1] scale (so it is the
change over the variable's training range; divide by the range for raw units). It is computed by
forward-mode autodiff through the whole network, so the softmax Jacobian is the correct one:

    dp_k/dx_i = p_k (J_ki - sum_l p_l J_li),   J = dz/dx,

and for a single sigmoid unit ``dp_1/dx_i = p_1 (1 - p_1) dz/dx_i`` with ``p_0 = 1 - p_1``.
A derivative along a 0/1 or one-hot column is not meaningful, so a binary variable gets the
difference ``p_k(x_{i<-1}) - p_k(x_{i<-0})`` and an enumerated variable the differences between
categories: per case, ``p_k(x_{i<-c}) - p_k(x_{i<-c_0})`` against the first category (see
:meth:`Sensitivity.contrasts`) and, as the variable's single figure, their range
``max_c p_k(x_{i<-c}) - min_c p_k(x_{i<-c})``. A real variable with a missingness indicator
gets the derivative along its value column at each case as it is (a missing case at its fill
value, indicator set); the effect of missingness itself is in the influence measures.

Summaries per variable and class (as in NeuralSens): mean, standard deviation, root mean square
``sqrt(mean_n d^2)``, and the relative sum of squares ``SSD_ik / sum_i SSD_ik``. For an ensemble
the probabilities are the members' mean, so the derivative is the mean of the members'
derivatives; the spread of each member's mean derivative is reported beside it.

Second order
------------
``H_nkij = d^2 p_k / dx_i dx_j`` over the real variables (forward-over-reverse autodiff), with
the mean, standard deviation and root mean square over cases: a large off-diagonal RMS marks an
interaction between variables i and j.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from ..devices import check_devices, replicate, row_mesh
from ..models.layers import PRECISION
from ..results import Result
from ._inputs import check_chunk_size, prepare, select_variables
from .flips import chunk_length, map_chunks, proba_from_preactivation, proba_grid, substitution


def _proba_of_case(params, x_row, activation: str, output: str) -> jax.Array:
    """Probabilities ``(K,)`` of ONE member at ONE encoded case ``(D,)``."""
    first = params[0]
    return proba_from_preactivation(params, jnp.matmul(x_row, first.W, precision=PRECISION) + first.b, activation, output)


def _jacobian_chunk_impl(params, x, activation, output):
    jac = jax.jacfwd(_proba_of_case, argnums=1)
    per_member = jax.vmap(lambda p: jax.vmap(lambda xr: jac(p, xr, activation, output))(x))(params)
    return jnp.moveaxis(per_member, 0, 1)  # (C, M, K, D)


jacobian_chunk = jax.jit(_jacobian_chunk_impl, static_argnames=("activation", "output"))


def _hessian_chunk_impl(params, x, activation, output):
    hess = jax.jacfwd(jax.jacrev(_proba_of_case, argnums=1), argnums=1)
    per_member = jax.vmap(lambda p: jax.vmap(lambda xr: hess(p, xr, activation, output))(x))(params)
    return per_member.mean(axis=0)  # (C, K, D, D)


hessian_chunk = jax.jit(_hessian_chunk_impl, static_argnames=("activation", "output"))


def _statistic(kind: str) -> str:
    return {"real": "derivative", "binary": "difference 1-0", "enumerated": "category range"}[kind]


@dataclass(frozen=True, eq=False, repr=False)
class Sensitivity(Result):
    """Per-case sensitivities of every class probability to every variable.

    Attributes
    ----------
    variables, kinds : tuple of str
    scales : ndarray (V,)
        Raw units per encoded unit (training range for real variables, 1 otherwise).
    classes : ndarray (K,)
    effects : ndarray (N, V, K)
        Real: ``dp_k/dx_i`` (per training range); binary: ``p_k(1) - p_k(0)``; enumerated: the
        range of ``p_k`` over the categories.
    member_means : ndarray (M, V, K)
        Each member's mean effect (spread over members).
    category_proba : dict of str -> ndarray (N, C, K)
        For each enumerated variable, ``p_k`` with the variable set to each category.
    categories : dict of str -> tuple
    regression : bool
        True for a linear (regression) output: ``p_k`` is then the prediction of output k,
        in raw units of the target.
    """

    variables: tuple
    kinds: tuple
    scales: np.ndarray
    classes: np.ndarray
    effects: np.ndarray
    member_means: np.ndarray
    category_proba: dict
    categories: dict
    regression: bool = False

    @property
    def title(self) -> str:
        return f"Sensitivity ({self.effects.shape[0]} cases)"

    @property
    def mean(self) -> np.ndarray:
        """Mean effect, (V, K)."""
        return self.effects.mean(axis=0)

    @property
    def sd(self) -> np.ndarray:
        """Standard deviation of the effect over cases (ddof = 0), (V, K)."""
        return self.effects.std(axis=0)

    @property
    def rms(self) -> np.ndarray:
        """Root mean square of the effect, ``sqrt(mean d^2)``, (V, K)."""
        return np.sqrt((self.effects**2).mean(axis=0))

    @property
    def relative_ssd(self) -> np.ndarray:
        """``SSD_ik / sum_i SSD_ik`` with ``SSD_ik = sum_n d_nik^2``, (V, K)."""
        ssd = (self.effects**2).sum(axis=0)
        total = ssd.sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, ssd / np.where(total > 0, total, 1.0), 0.0)

    def to_frame(self) -> pd.DataFrame:
        """One row per variable and class: statistic, mean, sd, rms, relative SSD, mean per raw
        unit (real variables) and the spread of the mean over members."""
        member_sd = (
            self.member_means.std(axis=0, ddof=1) if self.member_means.shape[0] > 1
            else np.zeros(self.member_means.shape[1:])
        )
        mean, sd, rms, rel = self.mean, self.sd, self.rms, self.relative_ssd
        rows = []
        for j, (v, kind) in enumerate(zip(self.variables, self.kinds)):
            for k, c in enumerate(self.classes):
                rows.append(
                    {
                        "variable": v, "kind": kind, "class": c, "statistic": _statistic(kind),
                        "mean": mean[j, k], "sd": sd[j, k], "rms": rms[j, k],
                        "relative_ssd": rel[j, k],
                        "mean_per_raw_unit": mean[j, k] / self.scales[j] if kind == "real" else np.nan,
                        "member_sd": member_sd[j, k],
                    }
                )
        return pd.DataFrame(rows)

    def contrasts(self, variable: str) -> pd.DataFrame:
        """Between-category differences of an enumerated variable: per category c and class k,
        the mean, sd and RMS over cases of ``p_k(x_{i<-c}) - p_k(x_{i<-c_0})`` (``c_0`` the
        first category), and the mean probability at each category."""
        if variable not in self.category_proba:
            raise ValueError(
                f"`variable` must be an enumerated variable of this result: "
                f"{sorted(self.category_proba)}. Got {variable!r}."
            )
        P = self.category_proba[variable]
        diff = P - P[:, :1, :]
        rows = []
        for c, label in enumerate(self.categories[variable]):
            for k, cls in enumerate(self.classes):
                d = diff[:, c, k]
                rows.append(
                    {
                        "variable": variable, "category": label, "class": cls,
                        "mean_proba": P[:, c, k].mean(), "mean_diff": d.mean(), "sd_diff": d.std(),
                        "rms_diff": np.sqrt((d**2).mean()),
                    }
                )
        return pd.DataFrame(rows)


def sensitivity(
    model: Any, X: Any, *, variables: Any = None, encoded: bool = False, chunk_size: Any = "auto",
    devices: Any = "auto",
) -> Sensitivity:
    """Partial derivatives of every class probability (and category differences) per case.

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier
    X : DataFrame or array (N, n_features)
        Raw cases; with ``encoded=True`` the encoded matrix.
    variables : list of str, optional
    encoded : bool, default False
    chunk_size : "auto" or int
    devices : {"auto", "none", 1}, default "auto"
        "auto" splits each chunk's cases over all visible devices when there are several
        (:mod:`shallownet.devices`); "none" or 1 uses one device. Same numbers either way.

    Returns
    -------
    Sensitivity
        See the module docstring for the definitions.
    """
    chunk_size = check_chunk_size(chunk_size)
    mesh = row_mesh(check_devices(devices))
    net, x, _ = prepare(model, X, None, encoded)
    vars_ = select_variables(net, variables)
    N, M, K = x.shape[0], net.n_members, net.n_classes
    effects = np.zeros((N, len(vars_), K), dtype=np.float64)
    member_means = np.zeros((M, len(vars_), K))
    category_proba, categories = {}, {}
    real = [j for j, v in enumerate(vars_) if v.kind == "real"]
    if real:
        chunk = chunk_length(N, M * K * x.shape[1] * 2, chunk_size)
        fn = partial(jacobian_chunk, replicate(net.params, mesh), activation=net.activation,
                     output=net.output)
        jac = map_chunks(lambda xc: fn(jnp.asarray(xc)), (x,), chunk, mesh)  # (N, M, K, D)
        for j in real:
            col = vars_[j].columns[0]
            effects[:, j, :] = jac[:, :, :, col].mean(axis=1)
            member_means[:, j, :] = jac[:, :, :, col].mean(axis=0)
    for j, v in enumerate(vars_):
        if v.kind == "real":
            continue
        cols, cand = substitution(v, 2)
        mp = proba_grid(net, x, cols, cand, chunk_size, members=True, mesh=mesh)  # (N, M, G, K)
        if v.kind == "binary":
            diff = mp[:, :, 1, :] - mp[:, :, 0, :]
            effects[:, j, :] = diff.mean(axis=1)
            member_means[:, j, :] = diff.mean(axis=0)
        else:
            p = mp.mean(axis=1)
            effects[:, j, :] = p.max(axis=1) - p.min(axis=1)
            member_means[:, j, :] = (mp.max(axis=2) - mp.min(axis=2)).mean(axis=0)
            category_proba[v.name] = p.astype(np.float64)
            categories[v.name] = tuple(v.categories)
    return Sensitivity(
        variables=tuple(v.name for v in vars_), kinds=tuple(v.kind for v in vars_),
        scales=np.array([v.scale for v in vars_]), classes=np.asarray(net.classes),
        effects=effects, member_means=member_means, category_proba=category_proba,
        categories=categories, regression=net.is_regression,
    )


@dataclass(frozen=True, eq=False, repr=False)
class SecondOrder(Result):
    """Second derivatives ``d^2 p_k / dx_i dx_j`` over the real variables.

    Attributes
    ----------
    variables : tuple of str
        The real variables.
    classes : ndarray (K,)
    hessians : ndarray (N, K, V, V)
        Per case, symmetric in the last two axes (ensemble mean).
    """

    variables: tuple
    classes: np.ndarray
    hessians: np.ndarray

    @property
    def title(self) -> str:
        return f"Second-order sensitivity ({self.hessians.shape[0]} cases)"

    @property
    def mean(self) -> np.ndarray:
        """(K, V, V)"""
        return self.hessians.mean(axis=0)

    @property
    def sd(self) -> np.ndarray:
        """(K, V, V), ddof = 0"""
        return self.hessians.std(axis=0)

    @property
    def rms(self) -> np.ndarray:
        """(K, V, V)"""
        return np.sqrt((self.hessians**2).mean(axis=0))

    def to_frame(self) -> pd.DataFrame:
        """One row per class and pair i <= j: mean, sd and RMS over cases."""
        mean, sd, rms = self.mean, self.sd, self.rms
        rows = []
        V = len(self.variables)
        for k, c in enumerate(self.classes):
            for i in range(V):
                for j in range(i, V):
                    rows.append(
                        {
                            "class": c, "variable_i": self.variables[i], "variable_j": self.variables[j],
                            "mean": mean[k, i, j], "sd": sd[k, i, j], "rms": rms[k, i, j],
                        }
                    )
        return pd.DataFrame(rows)


def second_order(
    model: Any, X: Any, *, variables: Any = None, encoded: bool = False, chunk_size: Any = "auto"
) -> SecondOrder:
    """Hessians of every class probability with respect to the real variables, per case.

    Binary and enumerated variables have no derivatives; their interactions show in ICE curves
    per category and in :func:`shallownet.interpret.profiles.decision_surface`. Naming one of
    them in ``variables`` is an error; by default all real variables are used.

    Returns
    -------
    SecondOrder
    """
    chunk_size = check_chunk_size(chunk_size)
    net, x, _ = prepare(model, X, None, encoded)
    if variables is None:
        vars_ = tuple(v for v in net.variables if v.kind == "real")
        if not vars_:
            raise ValueError("Second-order sensitivity needs real variables; this model has none.")
    else:
        vars_ = select_variables(net, variables)
        bad = [v.name for v in vars_ if v.kind != "real"]
        if bad:
            raise ValueError(
                f"`variables` must be real variables for second derivatives. Got non-real {bad}."
            )
    D, K, M = x.shape[1], net.n_classes, net.n_members
    chunk = chunk_length(x.shape[0], M * K * D * D * 3, chunk_size)
    fn = partial(hessian_chunk, net.params, activation=net.activation, output=net.output)
    H = map_chunks(lambda xc: fn(jnp.asarray(xc)), (x,), chunk)  # (N, K, D, D)
    cols = np.array([v.columns[0] for v in vars_])
    H = H[:, :, cols][:, :, :, cols].astype(np.float64)
    return SecondOrder(variables=tuple(v.name for v in vars_), classes=np.asarray(net.classes), hessians=H)
