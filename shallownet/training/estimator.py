"""``ShallowNetClassifier``: a scikit-learn estimator around the jitted training loop."""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array

from .._validation import (
    check_float,
    check_hidden_layer_sizes,
    check_int,
    check_one_of,
    check_random_state,
)
from .._progress import ProgressBar
from ..checkpoint import check_checkpoint
from ..devices import check_devices, device_mesh, shard_members
from ..data.encoder import DataWarning, Encoder
from ..models.layers import ACTIVATIONS, init_members
from ..models.network import Network
from .convergence import Convergence, objective_and_gradient_norm
from .lbfgs import GTOL, fit_lbfgs
from .loop import named_optimizer, train
from .streaming import STREAM_BYTES, _training_bytes

AUTO_LBFGS_MAX_VALUES = 1_000_000
"""``optimizer="auto"`` fits with L-BFGS while the training matrix has at most this many
encoded values (rows x columns) and is not streamed, with Adam otherwise. Measured with part 3
of ``python -m benchmarks.bench_lbfgs`` (theory/training.md): up to 50,000 x 20 values L-BFGS's
300 iterations took less time than Adam's default epochs and, at 5 of 6 sizes, ended at a lower
objective; at 100,000 x 20 Adam was both faster and lower."""


def check_input(X: Any) -> Any:
    """A DataFrame passes as it is; anything else becomes a dense 2-D array (sparse, complex,
    empty and 1-D inputs are refused with scikit-learn's messages). NaN and infinity are left
    for the encoder, which applies the missing-value policy."""
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0:
            raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
        return X
    return check_array(X, accept_sparse=False, dtype=None, ensure_all_finite=False, input_name="X")


def check_target(y: Any, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate class labels; return ``(classes, y_index)`` with ``classes`` sorted."""
    if y is None:
        raise ValueError(
            "ShallowNetClassifier requires y to be passed, but the target y is None."
        )
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"`y` must be 1-D. Got a DataFrame with {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it was flattened "
            "(pass y.ravel()).",
            DataConversionWarning,
            stacklevel=3,
        )
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"`y` must be 1-D (n_samples,). Got shape {arr.shape} instead.")
    if len(arr) != n_rows:
        raise ValueError(f"`X` has {n_rows} rows but `y` has {len(arr)}; they must match.")
    if pd.isna(pd.Series(arr)).any():
        raise ValueError("`y` has missing values; every row needs a class label.")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError("`y` contains infinity.")
    if arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
        raise ValueError(
            "Unknown label type: `y` holds continuous values. A classifier needs class labels."
        )
    if arr.dtype == object:
        kinds = {("number" if isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                  else type(v).__name__) for v in arr}
        if len(kinds) > 1:
            examples = {}
            for v in arr:
                examples.setdefault(type(v).__name__, v)
            raise ValueError(
                f"`y` mixes label types ({', '.join(f'{k} e.g. {v!r}' for k, v in examples.items())}); "
                "class labels must all be strings or all be numbers. Convert them first, e.g. "
                "y.astype(str)."
            )
    classes, y_index = np.unique(arr, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"`y` has a single class ({classes[0]!r}); a classifier needs at least 2 classes."
        )
    return classes, y_index.astype(np.int32)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python scalar (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _check_validation_split(n: int, fraction: float, stratify: np.ndarray | None) -> None:
    """Refuse an ``early_stopping`` split that leaves too little on either side: at least
    2 training rows and 1 validation row, and with a stratified split one row of each class
    on both sides (scikit-learn's message would quote row counts, not the fraction)."""
    n_val = int(np.ceil(fraction * n))
    n_train = n - n_val
    K = 1 if stratify is None else len(np.unique(stratify))
    if n_train < max(2, K) or n_val < K:
        raise ValueError(
            f"early_stopping holds out validation_fraction={fraction:g} of the {n} training rows: "
            f"{n_val} for validation and {n_train} for training"
            + (f", but a stratified split needs one row of each of the {K} classes on both sides"
               if K > 1 else ", but training needs at least 2")
            + ". Use early_stopping=False on so few rows, or change validation_fraction."
        )


class _ShallowNetBase(BaseEstimator):
    """What the classifier and the regressor share: argument checks, the training of the
    members on encoded inputs, input encoding at predict time and scikit-learn tags. A
    subclass supplies ``__init__`` (scikit-learn reads the parameters from its signature),
    :meth:`_check_output` and ``fit`` (the target's checks and the output layer)."""

    def _check_output(self) -> None:
        """Validate the ``output`` parameter (subclasses without one do nothing)."""

    # -- validation ------------------------------------------------------------------------
    def _validated(self) -> dict:
        p = {}
        p["hidden"] = check_hidden_layer_sizes(self.hidden_layer_sizes)
        p["activation"] = check_one_of("activation", self.activation, ACTIVATIONS)
        self._check_output()
        p["n_members"] = check_int("n_members", self.n_members, 1)
        if not isinstance(self.bootstrap, (bool, np.bool_)):
            raise TypeError(f"`bootstrap` must be True or False. Got {self.bootstrap!r}.")
        p["alpha"] = check_float("alpha", self.alpha, 0.0)
        if isinstance(self.optimizer, str) and self.optimizer in ("auto", "lbfgs"):
            p["optimizer"] = self.optimizer
        elif isinstance(self.optimizer, str):
            p["optimizer"] = named_optimizer(self.optimizer)
        elif isinstance(self.optimizer, optax.GradientTransformation):
            p["optimizer"] = self.optimizer
        else:
            raise TypeError(
                "`optimizer` must be 'auto', 'lbfgs', a minibatch optimizer's name ('adam', "
                f"'sgd', ...) or an optax.GradientTransformation. Got {self.optimizer!r}."
            )
        p["n_init"] = check_int("n_init", self.n_init, 1)
        p["gtol"] = check_float("gtol", self.gtol, 0.0, open_min=True)
        p["ftol"] = None if self.ftol is None else check_float("ftol", self.ftol, 0.0)
        p["learning_rate"] = check_float("learning_rate", self.learning_rate, 0.0, open_min=True)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_int("batch_size", self.batch_size, 1)
        p["max_iter"] = check_int("max_iter", self.max_iter, 1)
        if not isinstance(self.early_stopping, (bool, np.bool_)):
            raise TypeError(f"`early_stopping` must be True or False. Got {self.early_stopping!r}.")
        p["validation_fraction"] = check_float(
            "validation_fraction", self.validation_fraction, 0.0, 1.0, open_min=True, open_max=True
        )
        p["patience"] = None if self.n_iter_no_change is None else check_int(
            "n_iter_no_change", self.n_iter_no_change, 1
        )
        p["tol"] = check_float("tol", self.tol, 0.0)
        check_one_of("dtype", self.dtype, ("float32", "float64"))
        if self.dtype == "float64" and not jax.config.jax_enable_x64:
            raise ValueError(
                "`dtype='float64'` needs 64-bit JAX: call "
                "jax.config.update('jax_enable_x64', True) before fitting, or use dtype='float32'."
            )
        p["dtype"] = jnp.float64 if self.dtype == "float64" else jnp.float32
        p["seed"] = check_random_state(self.random_state)
        p["devices"] = check_devices(self.devices)
        p["checkpoint"] = check_checkpoint(self.checkpoint, self.random_state)
        if not (isinstance(self.stream, (bool, np.bool_)) or (isinstance(self.stream, str) and self.stream == "auto")):
            raise ValueError(f"`stream` must be 'auto', True or False. Got {self.stream!r}.")
        p["stream"] = self.stream if isinstance(self.stream, str) else bool(self.stream)
        return p

    # -- fitting ---------------------------------------------------------------------------
    @staticmethod
    def _training_input(X: Any) -> Any:
        """:func:`check_input` and at least two rows."""
        X = check_input(X)
        if X.shape[0] < 2:
            raise ValueError(f"`X` has n_samples={X.shape[0]}; at least 2 rows are needed to fit.")
        return X

    def _encode_training(self, X: Any) -> tuple[Encoder, np.ndarray]:
        """Encode the (checked) training inputs: ``(encoder, Z)`` (rows the missing-value
        policy keeps are ``encoder.kept_rows_``)."""
        encoder = Encoder(self.categorical, self.real, self.missing, self.constant, fill=self.fill,
                          unknown=self.unknown, na_values=self.na_values)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            Z = encoder.fit_transform(X)
        return encoder, Z

    def _optimizer_name(self, p: dict, Z: np.ndarray, n_targets: int) -> str:
        """Resolve ``optimizer``: "lbfgs", or the name of a minibatch optimiser ("custom"
        for an optax transformation). "auto" picks L-BFGS for training matrices of at most
        :data:`AUTO_LBFGS_MAX_VALUES` encoded values that are not streamed."""
        opt = p["optimizer"]
        streamed = p["stream"] is True or (
            p["stream"] == "auto" and _training_bytes(Z, np.empty(n_targets), None, None, None, p["dtype"]) > STREAM_BYTES
        )
        if opt == "lbfgs" and p["stream"] is True:
            raise ValueError(
                "`optimizer='lbfgs'` takes full-batch steps and needs the training data on the "
                "device; it cannot be combined with stream=True. Use optimizer='adam' to stream."
            )
        if opt == "auto":
            return "lbfgs" if (Z.size <= AUTO_LBFGS_MAX_VALUES and not streamed) else "adam"
        if opt == "lbfgs":
            return opt
        return self.optimizer if isinstance(self.optimizer, str) else "custom"

    def _train_members(self, p: dict, Z: np.ndarray, targets: np.ndarray, output: str, n_out: int,
                       stratify: np.ndarray | None = None):
        """Split off the validation rows (with ``early_stopping``; stratified by ``stratify``
        when given), initialise every member ``n_init`` times, draw the bootstrap weights,
        train all ``n_members * n_init`` networks together and keep, per member, the start
        with the lowest penalised objective. Returns ``(params, history, convergence)``."""
        key = jax.random.PRNGKey(p["seed"])
        key_init, key_shuffle, key_split = jax.random.split(key, 3)
        X_val = y_val = None
        if self.early_stopping:
            _check_validation_split(Z.shape[0], p["validation_fraction"], stratify)
            idx = np.arange(Z.shape[0])
            tr, va = train_test_split(
                idx, test_size=p["validation_fraction"], random_state=int(jax.random.randint(key_split, (), 0, 2**31 - 1)),
                stratify=stratify,
            )
            Z, X_val, targets, y_val = Z[tr], Z[va], targets[tr], targets[va]
        n = Z.shape[0]
        name = self._optimizer_name(p, Z, targets.size)
        M, R = p["n_members"], p["n_init"]
        sizes = (Z.shape[1], *p["hidden"], n_out)
        # Start r of member m is network m * R + r; with R = 1 the keys are those of before.
        params = init_members(jax.random.split(key_init, M * R), sizes, p["activation"], p["dtype"])
        unit = "iterations" if name == "lbfgs" else "epochs"
        progress = (
            ProgressBar(p["max_iter"], f"{type(self).__name__} {unit}").callback() if self.verbose else None
        )
        weights = None
        if self.bootstrap:
            rng = np.random.default_rng(p["seed"])
            weights = rng.multinomial(n, np.full(n, 1.0 / n), size=M).astype(float)
            weights = np.repeat(weights, R, axis=0)
        common = dict(
            sample_weight=weights, activation=p["activation"], output=output, alpha=p["alpha"],
            X_val=X_val, y_val=y_val, early_stopping=bool(self.early_stopping), tol=p["tol"],
            patience=p["patience"], progress=progress, dtype=p["dtype"], devices=p["devices"],
            checkpoint=p["checkpoint"],
        )
        if name == "lbfgs":
            params, history = fit_lbfgs(
                params, Z, targets, max_iter=p["max_iter"], gtol=p["gtol"], ftol=p["ftol"], **common
            )
            objective, grad_norm = history.pop("objective"), history.pop("grad_norm")
            n_iter, reason, converged = history.pop("n_iter"), history.pop("reason"), history.pop("converged")
        else:
            batch = min(200, -(-n // 8)) if self.batch_size == "auto" else min(int(self.batch_size), n)
            optimizer = named_optimizer(name) if p["optimizer"] == "auto" else p["optimizer"]
            params, history = train(
                params, Z, targets, optimizer=optimizer, learning_rate=p["learning_rate"],
                batch_size=batch, max_epochs=p["max_iter"], key=key_shuffle, stream=p["stream"], **common,
            )[:2]
            objective, grad_norm = objective_and_gradient_norm(
                params, Z, targets, weights, p["alpha"], activation=p["activation"], output=output
            )
            n_iter, converged = history.pop("epochs_run"), history.pop("stopped")
            settled = "validation" if self.early_stopping else "loss settled"
            reason = np.where(converged, settled, "max_iter")
        keep = np.arange(M) * R + np.argmin(np.asarray(objective).reshape(M, R), axis=1)
        if R > 1:  # the selection gathers onto one device: placed over the members again
            params = shard_members(jax.tree_util.tree_map(lambda a: a[keep], params), device_mesh(p["devices"]))
            history = {k: v[:, keep] for k, v in history.items()}
            # the iterations after the last kept start stopped (others ran on) hold only NaN
            ran = np.flatnonzero(~np.all(np.isnan(history["train_loss"]), axis=1))
            history = {k: v[: ran[-1] + 1 if ran.size else 0] for k, v in history.items()}
        convergence = Convergence(
            optimizer=name, n_iter=np.asarray(n_iter)[keep].astype(int), reason=np.asarray(reason)[keep],
            converged=np.asarray(converged)[keep].astype(bool), objective=np.asarray(objective)[keep],
            grad_norm=np.asarray(grad_norm)[keep], max_iter=p["max_iter"], gtol=p["gtol"],
        )
        return params, history, convergence

    def _finish_fit(self, p: dict, X: Any, encoder: Encoder, network: Network, history: dict,
                    convergence: Convergence) -> None:
        """Set the fitted attributes every estimator has, and warn when a member did not
        converge (except for a minibatch fit asked to run exactly ``max_iter`` epochs)."""
        self.encoder_ = encoder
        self.network_ = network
        self.history_ = history
        self.loss_curve_ = list(np.nanmean(history["train_loss"], axis=1)) if history["train_loss"].size else []
        self.optimizer_ = convergence.optimizer
        self.convergence_ = convergence
        self.n_iter_ = convergence.n_iter
        self.converged_ = convergence.converged
        self.objective_ = convergence.objective
        self.grad_norm_ = convergence.grad_norm
        self.n_features_in_ = len(encoder.feature_names_in_)
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = encoder.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        fixed_epochs = convergence.optimizer != "lbfgs" and p["patience"] is None
        message = convergence.warning()
        if message is not None and not fixed_epochs:
            warnings.warn(message, ConvergenceWarning, stacklevel=3)

    # -- prediction ------------------------------------------------------------------------
    def _check_is_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def summary(self, digits: int = 6) -> str:
        """The fitted model in a few lines: its layout, the optimiser and every member's
        convergence evidence (stop reason, iterations, final objective and gradient norm; a
        member that did not converge is marked)."""
        self._check_is_fitted()
        net = self.network_
        sizes = " -> ".join(str(k) for k in (net.n_inputs, *net.hidden_sizes, net.n_outputs))
        head = (f"{type(self).__name__}: {sizes} units, activation {net.activation}, output "
                f"{net.output}, {net.n_members} member(s), alpha {self.alpha:g}")
        table = self.convergence_.to_frame()
        table["converged"] = np.where(table["converged"], "yes", "NO")
        with pd.option_context("display.width", 120):
            body = table.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
        return f"{head}\n{self.convergence_.title}\n{body}"

    def _encode(self, X: Any) -> np.ndarray:
        """Encode ``X`` with the fitted encoder. A DataFrame is matched to the training
        columns by name; an array by position, with scikit-learn's warning when the model was
        fitted on a DataFrame (an array cannot say which column is which)."""
        self._check_is_fitted()
        X = check_input(X)
        if not isinstance(X, pd.DataFrame) and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        if not isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            names = [str(c) for c in self.feature_names_in_]
            warnings.warn(
                f"X does not have valid feature names, but {type(self).__name__} was fitted with "
                f"feature names; its columns are taken by position as {names}. Pass a DataFrame "
                "with these column names to match them by name.",
                UserWarning,
                stacklevel=3,
            )
            X = pd.DataFrame(X, columns=names)
        return self.encoder_.transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags


class ShallowNetClassifier(ClassifierMixin, _ShallowNetBase):
    """A small feed-forward classifier (or ensemble) on [0, 1]-encoded tabular inputs.

    Real columns are scaled to [0, 1] with the training range; object, categorical and boolean
    columns become one-hot groups (see :class:`shallownet.data.Encoder`). The network is
    ``x -> s(x W1 + b1) -> ... -> softmax`` (or one sigmoid unit for two classes), trained by
    minimising ``mean NLL + alpha/2 * sum ||W||^2`` with an optax optimizer.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (8,)
        Units per hidden layer; ``()`` gives logistic regression.
    activation : {"logistic", "tanh", "relu", "identity"}, default "logistic"
    output : {"auto", "softmax", "sigmoid"}, default "auto"
        "auto": one sigmoid unit for two classes, softmax otherwise.
    n_members : int, default 1
        Networks trained together from different initial weights; predictions average their
        probabilities and every member stays available in ``network_``.
    bootstrap : bool, default False
        Train each member on its own bootstrap resample of the training rows (multinomial
        counts used as row weights): a bagged ensemble whose spread over members reflects
        sampling variability, not only the initial weights.
    alpha : float, default 1e-4
        L2 penalty on weights (not biases). ``alpha = 1 / (C n)`` matches scikit-learn's
        ``LogisticRegression(C=C)``; ``alpha = a / batch_size`` matches ``MLPClassifier(alpha=a)``.
    optimizer : str or optax.GradientTransformation, default "auto"
        "lbfgs": full-batch L-BFGS with a line search (:mod:`shallownet.training.lbfgs`),
        every member stopping on its own when the gradient's largest entry is at most
        ``gtol`` or the objective's relative decrease at most ``ftol``; it fits to the
        optimum of the penalised objective (a zero-hidden-layer network gives the
        maximum-likelihood logistic regression to the last digit). "adam", "adamw", "sgd",
        "rmsprop", "adagrad" or any optax transformation: minibatch training for ``max_iter``
        epochs (then ``learning_rate`` of a transformation is ignored). "auto": "lbfgs" while
        the encoded training matrix has at most ``AUTO_LBFGS_MAX_VALUES`` (1,000,000) values
        and is not streamed, "adam" beyond (the measured rule of theory/training.md).
    learning_rate : float, default 0.01
        Minibatch optimisers only.
    batch_size : int or "auto", default "auto"
        ``min(200, ceil(n_samples / 8))``: scikit-learn's 200 on large data, and at least 8
        steps per epoch on small data, so that an epoch makes real progress and the
        ``n_iter_no_change`` rule does not stop training on its initial plateau (with one
        full-batch step per epoch it often did). A value >= n_samples trains full batch.
    max_iter : int, default 300
        Maximum number of L-BFGS iterations, or of minibatch epochs.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified) and keep the
        parameters with the best validation loss; stop after ``n_iter_no_change`` epochs
        without an improvement of ``tol``. Without it the training loss is monitored the same
        way (as scikit-learn does).
    validation_fraction : float, default 0.1
    n_iter_no_change : int or None, default 10
        None trains for exactly ``max_iter`` epochs.
    tol : float, default 1e-4
    n_init : int, default 1
        Starts per member: each member is trained from ``n_init`` initial weights (all
        ``n_members * n_init`` networks together) and keeps the one with the lowest penalised
        objective on its training rows (what nnet users do by hand against local optima).
    gtol : float, default 1e-5
        L-BFGS: a member has converged when ``max |gradient| <= gtol`` (scipy's L-BFGS-B
        ``gtol``).
    ftol : float or None, default None
        L-BFGS: a member has converged when the objective's relative decrease in one iteration
        is at most ``ftol`` (scipy's ``factr * eps``; nnet's ``reltol``). None: 2.2e-9 in
        float64, 1e-6 in float32 (about the objective's rounding).
    categorical, real, missing, fill, unknown, na_values, constant :
        Passed to :class:`shallownet.data.Encoder`: columns declared enumerated or real, the
        missing-value policy (``"error"``, ``"drop"`` or ``"indicator"``: fill plus a
        missingness indicator, one variable with its value), the fill statistic
        (``"median"`` or ``"mean"``), unseen categories at predict time (``"error"`` or
        ``"ignore"``: an all-zero one-hot row, reported), the text tokens read as missing,
        and constant columns. ``missing="error"`` stays the default: imputing is a modelling
        choice to make and state (``theory/missing-data.md``).
    dtype : {"float32", "float64"}, default "float32"
        float64 needs ``jax.config.update("jax_enable_x64", True)``.
    random_state : int or None
        Seed of the initial weights and the minibatch order.
    verbose : bool, default False
        Print progress to stderr.
    devices : {"auto", "none", 1}, default "auto"
        "auto" spreads the members over all visible JAX devices during training when there are
        several (see :mod:`shallownet.devices`), and so do predictions; "none" or 1 uses one
        device. The fitted parameters agree up to float rounding (~1e-15 in float64).
    checkpoint : path or None, default None
        A ``.npz`` file where training writes its whole state every 50 epochs (atomically);
        a later ``fit`` with the same settings, data and ``random_state`` resumes from it and
        ends with the numbers of an uninterrupted fit (see
        :func:`shallownet.training.loop.train`). Needs an integer ``random_state``; a file
        from other settings or data is refused with a ``ValueError``.
    stream : {"auto", True, False}, default "auto"
        True keeps the training data in host memory and sends minibatches to the device block
        by block (device memory bounded by a block, not by N); False puts all of it on the
        device; "auto" streams when the training arrays exceed 1 GiB. The fitted network is
        the same either way (see :func:`shallownet.training.loop.train`).

    Attributes
    ----------
    classes_ : ndarray (K,)
    network_ : Network
        Parameters (member axis first), activation, output, variables and encoder.
    encoder_ : Encoder
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when fitted on a DataFrame)
        Later DataFrames are matched to these columns by name; a NumPy array is matched by
        position (and warned about, as scikit-learn does).
    history_ : dict of arrays
        Per-epoch ``train_loss``, ``val_loss``, ``val_accuracy`` (epochs x members).
    loss_curve_ : list of float
        Mean training loss over members per epoch.
    optimizer_ : str
        The optimiser used ("lbfgs", "adam", ...; "custom" for an optax transformation).
    n_iter_ : ndarray of int (n_members,)
        Iterations (L-BFGS) or epochs run by each member.
    converged_ : ndarray of bool (n_members,)
        L-BFGS: stopped by the gradient, objective or validation rule. Minibatch: stopped by
        the ``n_iter_no_change`` rule before ``max_iter``. A fit with members that did not
        converge raises a ``ConvergenceWarning`` naming them (not for a minibatch fit with
        ``n_iter_no_change=None``, which asks for exactly ``max_iter`` epochs).
    objective_, grad_norm_ : ndarray (n_members,)
        Final penalised objective (mean loss + alpha/2 ||W||^2) on each member's training rows
        and the infinity norm of its gradient, whatever the optimiser.
    convergence_ : Convergence
        The same evidence as a table (``convergence_.summary()``), with each member's stop
        reason.
    """

    def __init__(
        self,
        hidden_layer_sizes=(8,),
        activation="logistic",
        output="auto",
        n_members=1,
        bootstrap=False,
        alpha=1e-4,
        optimizer="auto",
        learning_rate=0.01,
        batch_size="auto",
        max_iter=300,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_init=1,
        gtol=GTOL,
        ftol=None,
        categorical=None,
        real=None,
        missing="error",
        fill="median",
        unknown="error",
        na_values=None,
        constant="error",
        dtype="float32",
        random_state=None,
        verbose=False,
        devices="auto",
        checkpoint=None,
        stream="auto",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output = output
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.alpha = alpha
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.n_init = n_init
        self.gtol = gtol
        self.ftol = ftol
        self.categorical = categorical
        self.real = real
        self.missing = missing
        self.fill = fill
        self.unknown = unknown
        self.na_values = na_values
        self.constant = constant
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.devices = devices
        self.checkpoint = checkpoint
        self.stream = stream

    def _check_output(self) -> None:
        check_one_of("output", self.output, ("auto", "softmax", "sigmoid"))

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> "ShallowNetClassifier":
        """Encode ``X``, train every member on ``y``, and return ``self``."""
        p = self._validated()
        X = self._training_input(X)
        classes, y_index = check_target(y, X.shape[0])
        encoder, Z = self._encode_training(X)
        y_index = y_index[encoder.kept_rows_]
        K = len(classes)
        counts = np.bincount(y_index, minlength=K)
        if np.any(counts == 0):
            lost = [_plain(classes[k]) for k in np.flatnonzero(counts == 0)]
            raise ValueError(
                f"missing='drop' dropped every row of class(es) {lost}: an output unit would be "
                "kept with no training rows. Fill the missing values of those rows, drop the "
                "class from `y`, or drop the columns that are missing in them."
            )
        thin = [_plain(classes[k]) for k in np.flatnonzero(counts == 1)]
        if thin:
            warnings.warn(
                f"Class(es) {thin} have a single training row: the network cannot learn them "
                "reliably and no held-out check of them is possible. Add rows of those classes "
                "or merge them with others.",
                DataWarning,
                stacklevel=2,
            )
        output = self.output
        if output == "auto":
            output = "sigmoid" if K == 2 else "softmax"
        if output == "sigmoid" and K != 2:
            raise ValueError(f"`output='sigmoid'` is for two classes; `y` has {K}. Use 'softmax'.")
        n_out = 1 if output == "sigmoid" else K
        stratify = y_index if counts[counts > 0].min() >= 2 else None
        params, history, convergence = self._train_members(p, Z, y_index, output, n_out, stratify)
        self.classes_ = classes
        network = Network(params, p["activation"], output, classes, encoder.variables_, encoder)
        self._finish_fit(p, X, encoder, network, history, convergence)
        return self

    # -- prediction ------------------------------------------------------------------------
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities averaged over members, shape ``(n_samples, n_classes)``."""
        Z = self._encode(X)
        return self.network_.predict_proba(Z, encoded=True, devices=self.devices)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def member_proba(self, X: Any) -> np.ndarray:
        """Every member's probabilities, shape ``(n_members, n_samples, n_classes)``."""
        Z = self._encode(X)
        return self.network_.member_proba(Z, encoded=True, devices=self.devices)


def check_regression_target(y: Any, n_rows: int) -> np.ndarray:
    """Validate a numeric target: float64 ``(n,)`` or ``(n, T)``, finite, one row per case."""
    if y is None:
        raise ValueError("ShallowNetRegressor requires y to be passed, but the target y is None.")
    arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    if arr.ndim not in (1, 2):
        raise ValueError(f"`y` must be 1-D (n_samples,) or 2-D (n_samples, n_targets). Got shape {arr.shape}.")
    if arr.shape[0] != n_rows:
        raise ValueError(f"`X` has {n_rows} rows but `y` has {arr.shape[0]}; they must match.")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError("`y` has no target columns.")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"`y` must be numeric for a regressor. Got dtype {arr.dtype}; use "
                "ShallowNetClassifier for class labels."
            ) from None
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("`y` contains NaN or infinity; every row needs a finite target.")
    return arr


class ShallowNetRegressor(RegressorMixin, _ShallowNetBase):
    """A small feed-forward regression network (or ensemble) on [0, 1]-encoded tabular inputs.

    The inputs are encoded as for :class:`ShallowNetClassifier`; the network is
    ``x -> s(x W1 + b1) -> ... -> z`` with a linear output, one unit per target column. The
    target is standardised for training, ``u = (y - mean) / sd`` per column (the training
    rows' mean and sd, ddof 0; a constant column keeps sd 1), and the network minimises

        mean_n sum_t (z_nt - u_nt)^2 / (2 T) + alpha / 2 * sum_l ||W_l||^2

    (:mod:`shallownet.training.loop`). After training the standardisation is folded into the
    output layer (``V <- V sd``, ``c <- c sd + mean``), so ``network_`` and every
    interpretation of it speak in the target's raw units. ``history_`` and ``loss_curve_``
    are on the standardised scale (1/2 the mean squared error in sds squared).

    Parameters
    ----------
    hidden_layer_sizes, activation, n_members, bootstrap, alpha, optimizer, learning_rate,
    batch_size, max_iter, early_stopping, validation_fraction, n_iter_no_change, tol, n_init,
    gtol, ftol, categorical, real, missing, fill, unknown, na_values, constant, dtype, random_state, verbose, devices, checkpoint, stream :
        As for :class:`ShallowNetClassifier` (the validation split is not stratified). The
        penalty ``alpha`` acts on the standardised problem.

    Attributes
    ----------
    network_ : Network
        Linear output, raw target units; ``network_.classes`` holds the target names.
    target_mean_, target_scale_ : ndarray (T,)
        The standardisation of the training target.
    n_targets_ : int
    encoder_, n_features_in_, feature_names_in_, history_, loss_curve_, optimizer_, n_iter_,
    converged_, objective_, grad_norm_, convergence_ :
        As for :class:`ShallowNetClassifier` (the objective on the standardised scale).
    """

    def __init__(
        self,
        hidden_layer_sizes=(8,),
        activation="logistic",
        n_members=1,
        bootstrap=False,
        alpha=1e-4,
        optimizer="auto",
        learning_rate=0.01,
        batch_size="auto",
        max_iter=300,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_init=1,
        gtol=GTOL,
        ftol=None,
        categorical=None,
        real=None,
        missing="error",
        fill="median",
        unknown="error",
        na_values=None,
        constant="error",
        dtype="float32",
        random_state=None,
        verbose=False,
        devices="auto",
        checkpoint=None,
        stream="auto",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.alpha = alpha
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.n_init = n_init
        self.gtol = gtol
        self.ftol = ftol
        self.categorical = categorical
        self.real = real
        self.missing = missing
        self.fill = fill
        self.unknown = unknown
        self.na_values = na_values
        self.constant = constant
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.devices = devices
        self.checkpoint = checkpoint
        self.stream = stream

    def fit(self, X: Any, y: Any) -> "ShallowNetRegressor":
        """Encode ``X``, standardise ``y``, train every member and return ``self``."""
        p = self._validated()
        X = self._training_input(X)
        target = check_regression_target(y, X.shape[0])
        names = (
            [str(c) for c in y.columns] if isinstance(y, pd.DataFrame)
            else [str(y.name)] if isinstance(y, pd.Series) and y.name is not None
            else None
        )
        one = target.ndim == 1
        Y = target[:, None] if one else target
        encoder, Z = self._encode_training(X)
        Y = Y[encoder.kept_rows_]
        mean = Y.mean(axis=0)
        scale = Y.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        params, history, convergence = self._train_members(p, Z, (Y - mean) / scale, "linear", Y.shape[1])
        last = params[-1]
        dtype = last.W.dtype
        s, m = jnp.asarray(scale, dtype), jnp.asarray(mean, dtype)
        params = params[:-1] + (type(last)(last.W * s[None, None, :], last.b * s[None, :] + m[None, :]),)
        if names is None:
            names = ["y"] if Y.shape[1] == 1 else [f"y{t}" for t in range(Y.shape[1])]
        self.target_mean_, self.target_scale_ = mean, scale
        self.n_targets_ = Y.shape[1]
        self._single_target = one
        network = Network(params, p["activation"], "linear", np.asarray(names), encoder.variables_, encoder)
        self._finish_fit(p, X, encoder, network, history, convergence)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions averaged over members, raw target units: ``(n_samples,)`` for a 1-D
        training target, ``(n_samples, n_targets)`` otherwise."""
        Z = self._encode(X)
        values = self.network_.member_proba(Z, encoded=True, devices=self.devices).mean(axis=0)
        values = values.astype(np.float64)
        return values[:, 0] if getattr(self, "_single_target", values.shape[1] == 1) else values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # one linear unit per target column
        return tags

    def member_predict(self, X: Any) -> np.ndarray:
        """Every member's predictions, shape ``(n_members, n_samples, n_targets)``."""
        Z = self._encode(X)
        return self.network_.member_proba(Z, encoded=True, devices=self.devices)
