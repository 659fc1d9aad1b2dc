"""Olden & Jackson's randomisation test of connection-weight importance.

The observed statistic is the model's Olden value per variable and target (the mean over
ensemble members). Under the null hypothesis that the inputs carry no information on the
class, the targets can be permuted: each of R replicates permutes y once and trains a network
of the same architecture with the same training settings (an ensemble of the same size, all
members on the same permutation) and records its Olden values. The p-value of variable i and
target t is

    p_it = (1 + #{r : |CW_it^(r)| >= |CW_it|}) / (R + 1)

(an enumerated variable's value is a range, >= 0). For a linear (regression) output the
permuted targets are values: each replicate is trained on them standardised (mean 0, sd 1 per
output, as :class:`~shallownet.ShallowNetRegressor` trains) and its output layer is scaled back
to raw units before its Olden values are taken, so observed and null values share units; a
scikit-learn ``MLPRegressor`` (trained on raw targets) has raw-target replicates. All R x M networks are trained together by
:func:`shallownet.training.loop.train`, which takes one target vector per network, in chunks
of fixed size so that memory stays bounded and nothing is compiled twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import jax
import numpy as np
import optax
import pandas as pd

from .._validation import check_float, check_int, check_random_state
from ..checkpoint import check_checkpoint, fingerprint, read_own_checkpoint, write_checkpoint
from ..devices import check_devices
from ..models import init_params
from ..results import Result
from ..training.estimator import ShallowNetClassifier, _ShallowNetBase
from ..training.estimator import AUTO_LBFGS_MAX_VALUES
from ..training.lbfgs import fit_lbfgs, lbfgs_optimizer
from ..training.loop import named_optimizer, train
from ._layout import Layout, class_indices, encoded_input, network_of
from .importance import Importance, _olden_from_weights, olden

_SETTINGS = ("optimizer", "learning_rate", "alpha", "batch_size", "max_iter", "n_iter_no_change", "tol",
             "gtol", "ftol")
_UNSET = object()


@dataclass(frozen=True, eq=False, repr=False)
class OldenTest(Result):
    """Result of :func:`olden_test`.

    Attributes
    ----------
    observed : Importance
        Olden's importance of the model (per member).
    null : ndarray, shape (R, V, n_targets)
        The statistic (member mean) of every permuted-target replicate.
    p_values : ndarray, shape (V, n_targets)
        ``(1 + #{|null| >= |observed|}) / (R + 1)``.
    settings : dict
        How the replicates were trained.
    """

    observed: Importance
    null: np.ndarray
    p_values: np.ndarray
    settings: dict

    @property
    def title(self) -> str:
        return f"Olden randomisation test ({self.null.shape[0]} permutations)"

    @property
    def statistic(self) -> np.ndarray:
        """The observed statistic (member mean of Olden's values), shape (V, n_targets)."""
        return self.observed.mean

    def to_frame(self) -> pd.DataFrame:
        """One row per variable and target: observed, null mean and sd, null 95% of |.|, p."""
        lay = self.observed.layout
        null_abs_q95 = np.quantile(np.abs(self.null), 0.95, axis=0)
        rows = []
        for t, out in enumerate(self.observed.outputs):
            for i, var in enumerate(lay.variables):
                rows.append({"variable": var, "kind": lay.kinds[i], "output": out,
                             "observed": self.statistic[i, t], "null_mean": self.null[:, i, t].mean(),
                             "null_sd": self.null[:, i, t].std(ddof=1) if len(self.null) > 1 else np.nan,
                             "null_abs_q95": null_abs_q95[i, t], "p_value": self.p_values[i, t]})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """The table plus the training settings of the replicates."""
        out = super().to_dict()
        out["settings"] = dict(self.settings)
        return out


@partial(jax.jit, static_argnames=("sizes", "activation", "dtype"))
def _initial_params(keys, sizes: tuple, activation: str, dtype):
    """Initial parameters of ``len(keys)`` networks, as the estimator draws them (one compile)."""
    return jax.vmap(lambda k: init_params(k, sizes, activation, dtype))(keys)


def permutation_p_values(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """``(1 + #{r : |null_r| >= |observed|}) / (R + 1)`` elementwise; ``null`` has R first."""
    exceed = (np.abs(null) >= np.abs(observed)[None]).sum(axis=0)
    return (1.0 + exceed) / (null.shape[0] + 1.0)


def _raw_target_model(model: Any) -> bool:
    """Whether ``model`` is a scikit-learn ``MLPRegressor`` (trained on raw targets)."""
    from sklearn.neural_network import MLPRegressor

    return isinstance(model, MLPRegressor)


def _settings(model: Any, overrides: dict, n: int, size: int) -> tuple[dict, optax.GradientTransformation | None]:
    """Training settings: explicit arguments, else the model's own, else estimator defaults.
    ``optimizer="auto"`` is resolved as the estimator resolves it for ``size`` encoded values;
    for L-BFGS the returned transformation is None."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    own = {k: v for k, v in ShallowNetClassifier().get_params().items() if k in _SETTINGS}
    source = "defaults of ShallowNetClassifier"
    if isinstance(model, _ShallowNetBase):  # ShallowNetClassifier or ShallowNetRegressor
        own.update({k: v for k, v in model.get_params().items() if k in _SETTINGS})
        source = "the estimator's settings"
    elif isinstance(model, (MLPClassifier, MLPRegressor)):
        batch = min(200, n) if model.batch_size == "auto" else min(int(model.batch_size), n)
        own.update({
            "optimizer": {"sgd": "sgd", "lbfgs": "lbfgs"}.get(model.solver, "adam"),
            "learning_rate": model.learning_rate_init,
            "alpha": model.alpha / batch,  # sklearn adds alpha / (2 n_batch) ||W||^2 to the mean loss
            "batch_size": batch,
            "max_iter": model.max_iter,
            "n_iter_no_change": model.n_iter_no_change,
            "tol": model.tol,
        })
        source = f"the {type(model).__name__}'s settings (solver {model.solver!r} -> {own['optimizer']!r})"
    explicit = {k: v for k, v in overrides.items() if v is not _UNSET}
    own.update(explicit)
    s = dict(own)
    if isinstance(s["optimizer"], str) and s["optimizer"] == "auto":
        s["optimizer"] = "lbfgs" if size <= AUTO_LBFGS_MAX_VALUES else "adam"
    if isinstance(s["optimizer"], str) and s["optimizer"] == "lbfgs":
        optimizer = None
        s["gtol"] = check_float("gtol", s["gtol"], 0.0, open_min=True)
        s["ftol"] = None if s["ftol"] is None else check_float("ftol", s["ftol"], 0.0)
    elif isinstance(s["optimizer"], str):
        optimizer = named_optimizer(s["optimizer"])
    elif isinstance(s["optimizer"], optax.GradientTransformation):
        optimizer, s["optimizer"] = s["optimizer"], type(s["optimizer"]).__name__
    else:
        raise TypeError(
            "`optimizer` must be a name ('adam', 'sgd', ...) or an optax.GradientTransformation. "
            f"Got {s['optimizer']!r}."
        )
    s["learning_rate"] = check_float("learning_rate", s["learning_rate"], 0.0, open_min=True)
    s["alpha"] = check_float("alpha", s["alpha"], 0.0)
    if isinstance(s["batch_size"], str) and s["batch_size"] == "auto":
        s["batch_size"] = min(200, n)
    s["batch_size"] = min(check_int("batch_size", s["batch_size"], 1), n)
    s["max_iter"] = check_int("max_iter", s["max_iter"], 1)
    if s["n_iter_no_change"] is not None:
        s["n_iter_no_change"] = check_int("n_iter_no_change", s["n_iter_no_change"], 1)
    s["tol"] = check_float("tol", s["tol"], 0.0)
    s["source"] = source + (f"; overridden: {sorted(explicit)}" if explicit else "")
    return s, optimizer


def olden_test(
    model: Any,
    X: Any,
    y: Any,
    *,
    n_permutations: int = 999,
    max_iter: Any = _UNSET,
    learning_rate: Any = _UNSET,
    alpha: Any = _UNSET,
    batch_size: Any = _UNSET,
    optimizer: Any = _UNSET,
    n_iter_no_change: Any = _UNSET,
    tol: Any = _UNSET,
    gtol: Any = _UNSET,
    ftol: Any = _UNSET,
    chunk_size: int = 1024,
    random_state: int | None = None,
    encoded: bool = False,
    devices: str | int = "auto",
    checkpoint: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> OldenTest:
    """Olden & Jackson (2002) randomisation test: a p-value for each variable's Olden value.

    Parameters
    ----------
    model : Network, fitted ShallowNetClassifier or fitted sklearn MLPClassifier
        The fitted model; its Olden values (mean over members) are the observed statistic.
    X, y : training data and class labels the model was fitted on (rows without missing
        values; raw, or encoded with ``encoded=True``).
    n_permutations : int, default 999
        Number of replicates R (each an ensemble of the model's size on one permutation).
    max_iter, learning_rate, alpha, batch_size, optimizer, n_iter_no_change, tol :
        Training settings of the replicates. Default: the model's own (a
        ShallowNetClassifier's parameters; an MLPClassifier's ``max_iter``,
        ``learning_rate_init``, ``alpha / batch_size``, solver ``adam``/``sgd``/``lbfgs``), else
        the ShallowNetClassifier defaults; ``optimizer="auto"`` is resolved as the estimator
        resolves it. With a minibatch optimiser each network stops on its own training loss
        (``n_iter_no_change``; None trains exactly ``max_iter`` epochs); with ``"lbfgs"`` each
        replicate is fitted to convergence by full-batch L-BFGS (``gtol``, ``ftol``,
        ``max_iter`` iterations), as the model was.
    gtol, ftol : the L-BFGS tolerances (the model's own by default).
    chunk_size : int, default 1024
        Networks trained per call (memory bound); every call has the same shapes.
    random_state : int or None
        Seed of the permutations, initial weights and minibatch order.
    encoded : bool, default False
        Whether ``X`` is already encoded.
    devices : {"auto", "none", 1}, default "auto"
        Spread the replicate networks over the visible devices (see
        :func:`shallownet.training.loop.train`).
    checkpoint : path or None, default None
        A ``.npz`` file. After every group of ``chunk_size // n_members`` replicates their null
        statistics are written there atomically, and while a group trains its whole training
        state is written to ``checkpoint + ".group"`` every 50 epochs (removed once the group
        is done). Calling again with the same arguments after a crash or a kill skips the
        finished groups (their permutations and keys are drawn again, not trained), resumes
        the group in progress, and ends with exactly the numbers of an uninterrupted call.
        Needs an integer ``random_state``. A file from other settings (training settings,
        ``n_permutations``, ``chunk_size``, architecture, seed) or other data is refused with
        a ``ValueError``; the model's own weights are not part of the null distribution and
        are not checked.
    progress : callable ``(epochs_done, epochs_total)``, optional
        Called after every 50 training epochs and after every group; ``epochs_total`` is
        ``n_groups * max_iter`` (groups whose networks all stop early jump ahead).

    Returns
    -------
    OldenTest
        Observed values, the null statistics of every replicate and the p-values.

    Notes
    -----
    The replicates should be trained as the model was: the statistic's scale depends on the
    number of epochs, the learning rate and the penalty. A model trained with early stopping
    on a validation split is matched only approximately (replicates stop on training loss).
    """
    net = network_of(model, 0, "olden_test")
    lay = Layout.of(net)
    R = check_int("n_permutations", n_permutations, 1)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    checkpoint = check_checkpoint(checkpoint, random_state)
    check_devices(devices)
    seed = check_random_state(random_state)
    Z = encoded_input(net, X, encoded)
    N = Z.shape[0]
    yi = class_indices(net, y, N)
    scale = None  # a regression network's target standardisation (module docstring)
    if net.is_regression and not _raw_target_model(model):
        centre, scale = yi.mean(axis=0), yi.std(axis=0)
        if np.any(scale == 0):
            raise ValueError("`y` is constant; the randomisation test needs a varying target.")
        yi = (yi - centre) / scale
    s, opt = _settings(model, {"max_iter": max_iter, "learning_rate": learning_rate, "alpha": alpha,
                               "batch_size": batch_size, "optimizer": optimizer,
                               "n_iter_no_change": n_iter_no_change, "tol": tol,
                               "gtol": gtol, "ftol": ftol}, N, Z.size)
    M = net.n_members
    per_call = min(R, max(1, chunk_size // M))
    n_calls = -(-R // per_call)
    dtype = net.params[0].W.dtype
    sizes = (net.n_inputs, *net.hidden_sizes, net.n_outputs)
    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    saved = None
    state_of = (lbfgs_optimizer().init if opt is None else opt.init)
    if checkpoint is not None:
        start = jax.tree_util.tree_map(lambda a: a[0], net.params)  # one member's shapes
        stamp = fingerprint(
            {"settings": {k: v for k, v in s.items() if k != "source"}, "n_permutations": R,
             "per_call": per_call, "n_members": M, "sizes": sizes, "activation": net.activation,
             "output": net.output, "dtype": np.dtype(dtype).name, "random_state": seed,
             "optimizer_state": str(jax.tree_util.tree_structure(state_of(start)))},
            [Z, yi, *jax.tree_util.tree_leaves(state_of(start))],
        )
        saved = _read_null(checkpoint, stamp)
    null = [] if saved is None else [saved]
    done_calls = 0 if saved is None else len(saved) // per_call
    total_epochs = n_calls * s["max_iter"]
    for call in range(n_calls):
        perms = np.stack([rng.permutation(N) for _ in range(per_call)])  # (per_call, N)
        key, k_init, k_train = jax.random.split(key, 3)
        if call < done_calls:  # replayed draws of a group the checkpoint already holds
            continue
        targets = np.repeat(yi[perms], M, axis=0)  # (per_call * M, N): members share a permutation
        init = _initial_params(jax.random.split(k_init, per_call * M), sizes, net.activation, dtype)
        report = None if progress is None else partial(_report, progress, call * s["max_iter"], total_epochs)
        group_file = None if checkpoint is None else checkpoint + ".group"
        if opt is None:
            params, _ = fit_lbfgs(
                init, Z, targets, activation=net.activation, output=net.output, alpha=s["alpha"],
                max_iter=s["max_iter"], gtol=s["gtol"], ftol=s["ftol"], dtype=dtype, devices=devices,
                checkpoint=group_file, progress=report,
            )
        else:
            params, _, _ = train(
                init, Z, targets, activation=net.activation, output=net.output, optimizer=opt,
                learning_rate=s["learning_rate"], alpha=s["alpha"], batch_size=s["batch_size"],
                max_epochs=s["max_iter"], key=k_train, tol=s["tol"], patience=s["n_iter_no_change"],
                dtype=dtype, devices=devices, checkpoint=group_file, progress=report,
            )
        Ws = [np.asarray(layer.W, dtype=np.float64) for layer in params]
        if scale is not None:
            Ws[-1] = Ws[-1] * scale
        values = _olden_from_weights(Ws, lay, len(net.hidden_sizes)).values
        null.append(values.reshape(per_call, M, *values.shape[1:]).mean(axis=1))
        if checkpoint is not None:
            # Group file first: a kill between the two steps only repeats this group.
            if os.path.exists(checkpoint + ".group"):
                os.remove(checkpoint + ".group")
            write_checkpoint(checkpoint, {"null": np.concatenate(null)},
                             {"format": "shallownet.olden_test", "version": 1, "fingerprint": stamp})
        if progress is not None:
            progress((call + 1) * s["max_iter"], total_epochs)
    null = np.concatenate(null)[:R]
    observed = olden(net)
    s.update({"n_permutations": R, "n_members": M, "random_state": seed})
    return OldenTest(observed, null, permutation_p_values(observed.mean, null), s)


def _report(progress: Callable[[int, int], None], offset: int, total: int, done: int, _max: int, _loss: float) -> None:
    """Turn the training loop's ``(done, max_epochs, loss)`` into ``(offset + done, total)``."""
    progress(offset + done, total)


def _read_null(path: str, stamp: str) -> np.ndarray | None:
    """Null statistics of the finished groups stored at ``path`` (None when there is no file)."""
    arrays = read_own_checkpoint(path, "olden_test", stamp, "with other settings or data",
                                 remove="the file (and its '.group' file)")
    return None if arrays is None else arrays["null"]
