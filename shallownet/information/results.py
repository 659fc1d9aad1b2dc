"""Result objects of the information plane: one estimate, a training run, a whole plane."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..results import Result


@dataclass(frozen=True)
class MutualInformation(Result):
    """I(X; T) and I(T; Y) of one layer, in bits.

    Attributes
    ----------
    estimator : str
        Description of the estimator.
    I_XT, I_TY : float
        The estimates (for KDE, the upper bounds).
    I_XT_lower, I_TY_lower : float
        KDE lower bounds (NaN for other estimators).
    H_X, H_Y : float
        Plug-in entropies of the input rows and of the labels (bits): the ceilings of I(X; T)
        for a deterministic layer and of I(T; Y).
    n_samples : int
    """

    estimator: str
    I_XT: float
    I_TY: float
    I_XT_lower: float
    I_TY_lower: float
    H_X: float
    H_Y: float
    n_samples: int

    @property
    def title(self) -> str:
        return f"Mutual information ({self.estimator}, bits)"

    def to_frame(self) -> pd.DataFrame:
        """One row: the estimates, the lower bounds where defined, and the ceilings."""
        row = {"I_XT": self.I_XT, "I_TY": self.I_TY}
        if np.isfinite(self.I_XT_lower):
            row.update(I_XT_lower=self.I_XT_lower, I_TY_lower=self.I_TY_lower)
        row.update(H_X=self.H_X, H_Y=self.H_Y, n_samples=self.n_samples)
        return pd.DataFrame([row])


@dataclass(frozen=True, eq=False)
class TrainingRun(Result):
    """Networks trained together (one per seed) with their parameters saved at chosen epochs.

    Attributes
    ----------
    epochs : ndarray (E,)
        Snapshot epochs (0 = initialisation, e = after e epochs).
    params : tuple of Dense
        Parameters with leading axes (E, S): snapshot, seed.
    activation, output : str
    classes : ndarray (K,)
    hidden_sizes : tuple of int
    X : ndarray (N, D)
        Encoded inputs of every pattern (training and held-out): the patterns the
        information plane is computed on by default.
    y : ndarray (N,)
        Class indices of every pattern.
    train_index : ndarray
        Rows of ``X`` used for training.
    encoder : Encoder
        Maps raw data to the encoded inputs.
    history : dict of arrays
        Per-epoch ``train_loss``, ``val_loss`` and ``val_accuracy`` (epochs x seeds; the
        validation set is the held-out patterns, NaN when there are none).
    settings : dict
        Optimizer, learning rate, batch size, seeds, epochs.
    """

    epochs: np.ndarray
    params: tuple
    activation: str
    output: str
    classes: np.ndarray
    hidden_sizes: tuple
    X: np.ndarray
    y: np.ndarray
    train_index: np.ndarray
    encoder: object
    history: dict
    settings: dict = field(default_factory=dict)

    @property
    def n_seeds(self) -> int:
        """Number of networks S."""
        return int(self.params[0].W.shape[1])

    @property
    def title(self) -> str:
        sizes = "-".join(str(s) for s in (self.X.shape[1], *self.hidden_sizes, self.params[-1].W.shape[-1]))
        return f"Training run: {sizes} {self.activation}, {self.n_seeds} seed(s), {len(self.epochs)} snapshots"

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch: mean and sd over seeds of the training loss, held-out loss and accuracy."""
        h = self.history
        out = {"epoch": np.arange(1, len(h["train_loss"]) + 1)}
        for name in ("train_loss", "val_loss", "val_accuracy"):
            values = np.asarray(h[name], float)
            with np.errstate(all="ignore"):
                out[f"{name}_mean"] = np.nanmean(values, axis=1) if np.isfinite(values).any() else np.nan
                out[f"{name}_sd"] = np.nanstd(values, axis=1) if np.isfinite(values).any() else np.nan
        return pd.DataFrame(out)

    def summary(self, digits: int = 3) -> str:
        """The title and the last epoch's losses and accuracy."""
        last = self.to_frame().tail(1)
        with pd.option_context("display.width", 120):
            table = last.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
        return f"{self.title}\n{'=' * len(self.title)}\n{table}"


@dataclass(frozen=True, eq=False)
class InformationPlane(Result):
    """I(X; T) and I(T; Y) per layer, per snapshot epoch and per seed, in bits.

    Attributes
    ----------
    epochs : ndarray (E,)
    layers : tuple of str
        Layer names, hidden layers first (``"h1"``, ...), the output layer last (``"output"``).
    widths : tuple of int
        Units per layer.
    I_XT, I_TY : ndarray (S, E, L)
        Estimates per seed, epoch and layer (for KDE, the upper bounds).
    I_XT_lower, I_TY_lower : ndarray (S, E, L) or None
        KDE lower bounds.
    H_X, H_Y : float
        Entropy of the input patterns and of the labels (bits).
    estimator : str
    activation : str
    """

    epochs: np.ndarray
    layers: tuple
    widths: tuple
    I_XT: np.ndarray
    I_TY: np.ndarray
    I_XT_lower: np.ndarray | None
    I_TY_lower: np.ndarray | None
    H_X: float
    H_Y: float
    estimator: str
    activation: str

    @property
    def n_seeds(self) -> int:
        """Number of networks S the estimates are averaged over."""
        return int(self.I_XT.shape[0])

    @property
    def title(self) -> str:
        return (f"Information plane ({self.estimator}; {self.activation}; {self.n_seeds} seed(s); "
                f"bits; H(X) = {self.H_X:.3f}, H(Y) = {self.H_Y:.4f})")

    def mean(self, quantity: str = "I_XT") -> np.ndarray:
        """Mean over seeds of ``quantity`` ("I_XT", "I_TY", "I_XT_lower", "I_TY_lower"): (E, L)."""
        return np.mean(self._get(quantity), axis=0)

    def std(self, quantity: str = "I_XT") -> np.ndarray:
        """Standard deviation over seeds (0 for one seed): (E, L)."""
        return np.std(self._get(quantity), axis=0)

    def _get(self, quantity: str) -> np.ndarray:
        values = getattr(self, quantity, None) if quantity in ("I_XT", "I_TY", "I_XT_lower", "I_TY_lower") else None
        if values is None:
            raise ValueError(
                f"`quantity` must be 'I_XT' or 'I_TY' (or a KDE lower bound). Got {quantity!r}."
            )
        return values

    def to_frame(self) -> pd.DataFrame:
        """One row per (epoch, layer): mean and sd over seeds of each quantity."""
        E, L = len(self.epochs), len(self.layers)
        out = {
            "epoch": np.repeat(self.epochs, L),
            "layer": np.tile(np.asarray(self.layers, dtype=object), E),
            "width": np.tile(np.asarray(self.widths), E),
        }
        for q in ("I_XT", "I_TY", "I_XT_lower", "I_TY_lower"):
            if getattr(self, q) is None:
                continue
            out[f"{q}_mean"] = self.mean(q).reshape(-1)
            out[f"{q}_sd"] = self.std(q).reshape(-1)
        return pd.DataFrame(out)

    def compression(self) -> pd.DataFrame:
        """Per layer: how I(X; T) rose and fell over training.

        ``I_XT_start``, ``I_XT_peak`` (at ``peak_epoch``) and ``I_XT_final`` describe the curve
        of the mean over seeds. ``compression`` is the mean over seeds of each seed's own drop
        ``max_e I_XT[s, e] - I_XT[s, last]``, ``compression_sd`` its standard deviation over
        seeds and ``compression_se`` its standard error (``sd / sqrt(S)``): a mean drop well
        above its standard error is the "compression phase" of the information-bottleneck
        account. ``I_TY_final`` shows whether the layer kept the labels.
        """
        ixt, ity = self.mean("I_XT"), self.mean("I_TY")
        peak = np.argmax(ixt, axis=0)
        cols = np.arange(len(self.layers))
        drops = self.I_XT.max(axis=1) - self.I_XT[:, -1, :]  # (S, L)
        sd = drops.std(axis=0, ddof=1) if self.n_seeds > 1 else np.zeros(len(self.layers))
        return pd.DataFrame({
            "layer": list(self.layers),
            "width": list(self.widths),
            "I_XT_start": ixt[0],
            "I_XT_peak": ixt[peak, cols],
            "peak_epoch": self.epochs[peak],
            "I_XT_final": ixt[-1],
            "compression": drops.mean(axis=0),
            "compression_sd": sd,
            "compression_se": sd / np.sqrt(self.n_seeds),
            "I_TY_peak": ity.max(axis=0),
            "I_TY_final": ity[-1],
        })

    def summary(self, digits: int = 3) -> str:
        """The title and, per layer, start, peak and final values (:meth:`compression`)."""
        table = self.compression()
        with pd.option_context("display.width", 140, "display.max_columns", 20):
            text = table.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
        return f"{self.title}\n{'=' * len(self.title)}\n{text}"

    def to_dict(self) -> dict:
        """JSON-ready: title, estimator, ceilings, the per-(epoch, layer) table and the per-layer summary."""
        from ..results import to_jsonable

        return {
            "title": self.title,
            "estimator": self.estimator,
            "activation": self.activation,
            "n_seeds": self.n_seeds,
            "H_X": self.H_X,
            "H_Y": self.H_Y,
            "table": to_jsonable(self.to_frame()),
            "compression": to_jsonable(self.compression()),
        }
