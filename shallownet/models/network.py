"""The network view: one canonical structure every interpretation method works on.

A :class:`Network` holds the parameters of one network or of an ensemble (every array with a
leading member axis of length M >= 1), the hidden activation, the output kind, the class labels
and the variables the inputs encode. Our estimator, a fitted scikit-learn ``MLPClassifier`` and
raw weight arrays all become this view (see :func:`shallownet.models.as_network`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_2d_numeric, check_one_of
from ..devices import device_mesh, replicate, row_mesh, shard_members, shard_rows, to_host
from ..data.encoder import Encoder
from ..data.variables import Variable, default_variables
from .layers import ACTIVATIONS, OUTPUTS, Dense, layer_outputs, logits, probabilities


@partial(jax.jit, static_argnames=("activation", "output"))
def member_probabilities(params, x, activation: str, output: str) -> jax.Array:
    """Class probabilities of every member, shape ``(M, N, K)``."""
    return jax.vmap(lambda p: probabilities(p, x, activation, output))(params)


@partial(jax.jit, static_argnames=("activation",))
def member_logits(params, x, activation: str) -> jax.Array:
    """Output pre-activations of every member, shape ``(M, N, n_out)``."""
    return jax.vmap(lambda p: logits(p, x, activation))(params)


@partial(jax.jit, static_argnames=("activation", "output"))
def member_layer_outputs(params, x, activation: str, output: str) -> list[jax.Array]:
    """Every layer's output for every member: a list of arrays ``(M, N, width)``."""
    return jax.vmap(lambda p: layer_outputs(p, x, activation, output))(params)


@dataclass(frozen=True, eq=False)
class Network:
    """A fitted feed-forward classifier or regression network (or ensemble of identical
    architecture).

    Attributes
    ----------
    params : tuple of Dense
        Layer parameters; ``W`` of shape ``(M, n_in, n_out)``, ``b`` of shape ``(M, n_out)``.
    activation : {"logistic", "tanh", "relu", "identity"}
        Hidden-layer activation.
    output : {"softmax", "sigmoid", "linear"}
        Softmax over K >= 2 units, a single sigmoid unit for a binary problem, or ``"linear"``:
        a regression network whose n_out >= 1 output units are its predictions, in the
        target's raw units (identity output activation, as nnet's ``linout = TRUE`` and
        scikit-learn's ``MLPRegressor``).
    classes : ndarray of shape (K,)
        Class labels in output order (for a sigmoid output, ``classes[1]`` is the positive
        class). For a linear output: the names of the n_out targets (default ``"y"`` for one
        unit, ``"y0", "y1", ...`` for several), which label every per-output result.
    variables : tuple of Variable
        The input variables and their encoded columns.
    encoder : Encoder or None
        Maps raw user data to the encoded matrix; None when inputs are given already encoded.
    """

    params: tuple
    activation: str
    output: str
    classes: np.ndarray
    variables: tuple[Variable, ...]
    encoder: Encoder | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        check_one_of("activation", self.activation, ACTIVATIONS)
        check_one_of("output", self.output, OUTPUTS)
        n_out = self.params[-1].W.shape[-1]
        if self.output == "linear":
            if len(self.classes) != n_out:
                raise ValueError(
                    f"`classes` of a linear output must name its {n_out} target(s). "
                    f"Got {len(self.classes)} names."
                )
        elif self.output == "sigmoid" and n_out != 1:
            raise ValueError(f"A sigmoid output has one unit; the last layer has {n_out}.")
        if self.output == "softmax" and n_out < 2:
            raise ValueError("A softmax output needs K >= 2 units; use output='sigmoid' for one unit.")
        if self.output != "linear" and len(self.classes) != max(n_out, 2):
            raise ValueError(
                f"`classes` must have {max(n_out, 2)} labels for this output layer. "
                f"Got {len(self.classes)}."
            )
        width = sum(v.width for v in self.variables)
        if width != self.n_inputs:
            raise ValueError(
                f"The variables cover {width} encoded columns but the network has {self.n_inputs} inputs."
            )

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_weights(
        cls,
        weights: Sequence[Any],
        biases: Sequence[Any],
        activation: str = "logistic",
        output: str | None = None,
        variables: Sequence[Variable] | Encoder | None = None,
        classes: Sequence[Any] | None = None,
    ) -> "Network":
        """Build the view from raw arrays.

        Parameters
        ----------
        weights : list of arrays
            ``W_l`` of shape ``(n_in, n_out)``, or ``(M, n_in, n_out)`` for an ensemble.
        biases : list of arrays
            ``b_l`` of shape ``(n_out,)``, or ``(M, n_out)``.
        activation : str
            Hidden activation.
        output : {"softmax", "sigmoid", "linear"}, optional
            Default: sigmoid for a single output unit, softmax otherwise. ``"linear"`` builds a
            regression network (identity output, one unit per target).
        variables : Encoder or sequence of Variable, optional
            How raw inputs are encoded. Default: inputs are taken as given (already scaled),
            each column a real variable ``x0, x1, ...``.
        classes : sequence, optional
            Class labels; default ``0 .. K-1``. For a linear output, the target names;
            default ``["y"]`` for one unit, ``["y0", "y1", ...]`` for several.
        """
        if len(weights) != len(biases) or len(weights) == 0:
            raise ValueError(
                "`weights` and `biases` must be non-empty lists of the same length. "
                f"Got {len(weights)} and {len(biases)}."
            )
        Ws = [np.asarray(w, dtype=float) for w in weights]
        bs = [np.asarray(b, dtype=float) for b in biases]
        ensemble = Ws[0].ndim == 3
        for i, (W, b) in enumerate(zip(Ws, bs)):
            if W.ndim != (3 if ensemble else 2) or b.ndim != W.ndim - 1:
                raise ValueError(
                    f"Layer {i}: W must be 2-D (n_in, n_out) (3-D with a member axis) and b one "
                    f"dimension less. Got W {W.shape}, b {b.shape}."
                )
            if b.shape[-1] != W.shape[-1] or (ensemble and b.shape[0] != W.shape[0]):
                raise ValueError(f"Layer {i}: b has shape {b.shape}, W has shape {W.shape}.")
            if i and W.shape[-2] != Ws[i - 1].shape[-1]:
                raise ValueError(
                    f"Layer {i} takes {W.shape[-2]} inputs but layer {i - 1} gives {Ws[i - 1].shape[-1]}."
                )
        if not ensemble:
            Ws = [W[None] for W in Ws]
            bs = [b[None] for b in bs]
        n_out = Ws[-1].shape[-1]
        if output is None:
            output = "sigmoid" if n_out == 1 else "softmax"
        check_one_of("output", output, OUTPUTS)
        if classes is None and output == "linear":
            classes = ["y"] if n_out == 1 else [f"y{k}" for k in range(n_out)]
        elif classes is None:
            classes = np.arange(max(n_out, 2))
        encoder = None
        if isinstance(variables, Encoder):
            encoder = variables
            variables = variables.variables_
        elif variables is None:
            variables = default_variables(Ws[0].shape[1])
        dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
        params = tuple(Dense(jnp.asarray(W, dtype), jnp.asarray(b, dtype)) for W, b in zip(Ws, bs))
        return cls(params, activation, output, np.asarray(classes), tuple(variables), encoder)

    # -- shape -----------------------------------------------------------------------------
    @property
    def n_members(self) -> int:
        """Number of ensemble members M."""
        return int(self.params[0].W.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of encoded input columns."""
        return int(self.params[0].W.shape[1])

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        """Sizes of the hidden layers (empty for logistic regression)."""
        return tuple(int(layer.W.shape[-1]) for layer in self.params[:-1])

    @property
    def n_outputs(self) -> int:
        """Units in the output layer (1 for a sigmoid output)."""
        return int(self.params[-1].W.shape[-1])

    @property
    def n_classes(self) -> int:
        """Number of classes K (for a linear output: the number of targets n_out)."""
        return len(self.classes)

    @property
    def is_regression(self) -> bool:
        """True for a linear (regression) output."""
        return self.output == "linear"

    @property
    def column_names(self) -> list[str]:
        """Names of the encoded input columns."""
        return [n for v in self.variables for n in v.column_names]

    def weights(self, member: int | None = None) -> list[np.ndarray]:
        """The weight matrices as NumPy arrays, ``(M, n_in, n_out)`` each, or one member's."""
        Ws = [to_host(layer.W) for layer in self.params]
        return Ws if member is None else [W[member] for W in Ws]

    def biases(self, member: int | None = None) -> list[np.ndarray]:
        """The bias vectors as NumPy arrays, ``(M, n_out)`` each, or one member's."""
        bs = [to_host(layer.b) for layer in self.params]
        return bs if member is None else [b[member] for b in bs]

    def member(self, m: int) -> "Network":
        """The view of member ``m`` alone (an ensemble of one)."""
        if not -self.n_members <= m < self.n_members:
            raise IndexError(f"member {m} out of range for {self.n_members} members.")
        m = m % self.n_members
        params = jax.tree_util.tree_map(lambda a: a[m : m + 1], self.params)
        return Network(params, self.activation, self.output, self.classes, self.variables, self.encoder, self.meta)

    # -- data ------------------------------------------------------------------------------
    def encode(self, X: Any, report: bool = True) -> np.ndarray:
        """Raw data to the encoded matrix (as given when the network has no encoder)."""
        if self.encoder is not None:
            return self.encoder.transform(X, report=report)
        arr = check_2d_numeric("X", X)
        if arr.shape[1] != self.n_inputs:
            raise ValueError(f"`X` has {arr.shape[1]} columns, but the network takes {self.n_inputs}.")
        return arr

    def _as_input(self, X: Any, encoded: bool) -> jax.Array:
        arr = check_2d_numeric("X", X) if encoded else self.encode(X)
        if arr.shape[1] != self.n_inputs:
            raise ValueError(f"`X` has {arr.shape[1]} encoded columns; the network takes {self.n_inputs}.")
        return jnp.asarray(arr, dtype=self.params[0].W.dtype)

    # -- prediction ------------------------------------------------------------------------
    def member_proba(self, X: Any, encoded: bool = False, devices: str | int = "auto") -> np.ndarray:
        """Probabilities of every member, shape ``(M, N, K)``; for a linear output each
        member's predictions ``(M, N, n_out)`` (the values every interpretation works on).

        ``devices="auto"`` spreads the work over all visible devices when there are several
        (:mod:`shallownet.devices`): the members when their number M is a multiple of the
        device count D, otherwise the cases (rows padded to a multiple of D, parameters
        replicated, padding dropped). "none" or 1 computes on one device. Same numbers
        either way.
        """
        mesh = device_mesh(devices)
        x = self._as_input(X, encoded)
        n = x.shape[0]
        if mesh is None or self.n_members % mesh.devices.size == 0:
            params = shard_members(self.params, mesh)
        else:
            rows = row_mesh(devices)
            params, x = replicate(self.params, rows), shard_rows(x, rows)
        return self.refuse_non_finite(to_host(member_probabilities(params, x, self.activation, self.output))[:, :n])

    def predict_proba(self, X: Any, encoded: bool = False, devices: str | int = "auto") -> np.ndarray:
        """Ensemble probabilities (mean over members), shape ``(N, K)``; ``devices`` as in
        :meth:`member_proba`. Not defined for a linear output (use :meth:`predict`)."""
        if self.is_regression:
            raise AttributeError("A linear-output (regression) network has no predict_proba; use predict.")
        return self.member_proba(X, encoded, devices).mean(axis=0)

    def predict(self, X: Any, encoded: bool = False, devices: str | int = "auto") -> np.ndarray:
        """Predicted class labels (argmax of the ensemble probabilities); for a linear output
        the ensemble's predictions (the members' mean), shape ``(N,)`` for one target and
        ``(N, n_out)`` for several."""
        if self.is_regression:
            values = self.member_proba(X, encoded, devices).mean(axis=0)
            return values[:, 0] if self.n_outputs == 1 else values
        return self.classes[self.predict_proba(X, encoded, devices).argmax(axis=1)]

    def layer_outputs(self, X: Any, encoded: bool = False) -> list[np.ndarray]:
        """Every layer's output for every member: arrays ``(M, N, width)``, output layer last."""
        x = self._as_input(X, encoded)
        outs = member_layer_outputs(self.params, x, self.activation, self.output)
        return [self.refuse_non_finite(to_host(o)) for o in outs]

    def refuse_non_finite(self, values: np.ndarray) -> np.ndarray:
        """Return ``values`` (member axis first) if every entry is finite; else raise a
        ``ValueError`` naming the members whose outputs are NaN or infinite.

        Weights near the float32 limit (|w| ~ 1e38) make a forward pass overflow to
        infinity and the probabilities NaN; every method that reads the network's outputs
        checks them here rather than returning figures computed from NaN."""
        bad = ~np.isfinite(values).reshape(values.shape[0], -1).all(axis=1)
        if bad.any():
            dtype = np.dtype(self.params[0].W.dtype).name
            largest = max(float(np.max(np.abs(W))) for W in self.weights())
            raise ValueError(
                f"The network's outputs are NaN or infinite for member(s) "
                f"{np.flatnonzero(bad).tolist()} (largest |weight| {largest:.3g}): its weights "
                f"are too large for {dtype} arithmetic, so its probabilities, influences and "
                "sensitivities cannot be computed. Refit with a larger alpha or smaller "
                "learning_rate, or rescale the weights."
            )
        return values
