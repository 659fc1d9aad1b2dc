"""Convergence evidence of a fit: every member's final objective, gradient norm and why it stopped.

Whatever optimiser produced the parameters, the evidence is computed the same way, on the
training rows and weights the member was fitted to::

    L_m(theta) = sum_n w_mn loss_n(theta) / sum_n w_mn + alpha/2 sum_l ||W_l||^2
    g_m        = max |dL_m / dtheta|   (infinity norm over every weight and bias)

The data term is accumulated over fixed-size row blocks (one compiled block shape, rows padded
with zero weight), so memory is bounded by a block whatever N is; the gradient of the weighted
mean is the sum of the blocks' gradients divided by ``sum_n w_mn``.

:class:`Convergence` holds the per-member table (``to_frame()``, ``summary()``) and writes the
:class:`~sklearn.exceptions.ConvergenceWarning` text that names the members that did not
converge and what to change.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from ..models.layers import logits
from ..results import Result
from .epochs import has_member_axis, row_losses

BLOCK_ROWS = 65536
"""Rows per block of the evidence pass."""


@partial(jax.jit, static_argnames=("activation", "output"))
def _block_sums(params, X, y, w, *, activation: str, output: str):
    """Per member ``sum_n w_n loss_n`` over one block of rows and its gradient."""
    y_axis = 0 if has_member_axis(y, output) else None
    w_axis = 0 if w.ndim == 2 else None

    def one(p, yy, ww):
        return jax.value_and_grad(
            lambda q: jnp.sum(ww * row_losses(logits(q, X, activation), yy, output))
        )(p)

    return jax.vmap(one, in_axes=(0, y_axis, w_axis))(params, y, w)


def objective_and_gradient_norm(params, X, y, w, alpha: float, *, activation: str, output: str,
                                block_rows: int = BLOCK_ROWS):
    """Every member's penalised objective and the infinity norm of its gradient.

    Parameters
    ----------
    params : tuple of Dense with a leading member axis M
    X : array (N, D) of encoded inputs (host or device)
    y : class indices (N,) or (M, N); for a linear output values (N, T) or (M, N, T)
    w : row weights (N,) or (M, N), or None for ones
    alpha : float, the L2 penalty on weights

    Returns
    -------
    objective, grad_norm : ndarray (M,) each, float64 on the host.
    """
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    X = np.asarray(X)
    n = X.shape[0]
    y = np.asarray(y)
    w = np.ones((n,)) if w is None else np.asarray(w)
    rows = min(block_rows, n)
    member_y = has_member_axis(y, output)
    total_value, total_grad = None, None
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        pad = rows - (stop - start)
        xb = np.pad(X[start:stop], ((0, pad), (0, 0)))
        row_axis = 1 if member_y else 0
        yb = np.take(y, np.arange(start, stop), axis=row_axis)
        widths = [(0, 0)] * yb.ndim
        widths[row_axis] = (0, pad)
        yb = np.pad(yb, widths)
        wb = np.pad(w[..., start:stop], [(0, 0)] * (w.ndim - 1) + [(0, pad)])
        value, grad = _block_sums(
            params, jnp.asarray(xb, dtype), jnp.asarray(yb, dtype if output == "linear" else jnp.int32),
            jnp.asarray(wb, dtype), activation=activation, output=output,
        )
        if total_value is None:
            total_value, total_grad = value, grad
        else:
            total_value = total_value + value
            total_grad = jax.tree_util.tree_map(jnp.add, total_grad, grad)
    weight = np.sum(w, axis=-1) * np.ones(total_value.shape[0])
    weight = jnp.asarray(np.where(weight > 0, weight, 1.0), dtype)
    scale = lambda a: a / weight.reshape((-1,) + (1,) * (a.ndim - 1))  # noqa: E731
    grads = [
        (scale(gl.W) + alpha * pl.W, scale(gl.b)) for gl, pl in zip(total_grad, params)
    ]
    penalty = 0.5 * alpha * sum(jnp.sum(pl.W**2, axis=tuple(range(1, pl.W.ndim))) for pl in params)
    objective = total_value / weight + penalty
    norm = jnp.max(jnp.stack([
        jnp.max(jnp.abs(a).reshape(a.shape[0], -1), axis=1) for pair in grads for a in pair
    ]), axis=0)
    return np.asarray(objective, np.float64), np.asarray(norm, np.float64)


@dataclasses.dataclass(frozen=True, repr=False)
class Convergence(Result):
    """Per-member convergence evidence of a fitted estimator.

    Attributes
    ----------
    optimizer : str
        "lbfgs" or the name of the minibatch optimiser.
    n_iter : ndarray (M,)
        Iterations (L-BFGS) or epochs (minibatch) run.
    reason : ndarray (M,) of str
        Why each member stopped: "gradient", "objective", "validation", "loss settled",
        "max_iter", "line search".
    converged : ndarray (M,) of bool
    objective : ndarray (M,)
        Final penalised objective (per-row mean loss + penalty) on the member's training rows.
    grad_norm : ndarray (M,)
        Infinity norm of the objective's gradient at the final parameters.
    max_iter : int
    gtol : float
        The gradient tolerance of the L-BFGS rule (also the yardstick quoted for minibatch fits).
    """

    optimizer: str
    n_iter: np.ndarray
    reason: np.ndarray
    converged: np.ndarray
    objective: np.ndarray
    grad_norm: np.ndarray
    max_iter: int
    gtol: float

    @property
    def title(self) -> str:
        done = int(np.sum(self.converged))
        return f"Convergence ({self.optimizer}): {done} of {len(self.converged)} members converged"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "member": np.arange(len(self.n_iter)),
            "converged": self.converged,
            "reason": self.reason,
            "n_iter": self.n_iter,
            "objective": self.objective,
            "grad_norm": self.grad_norm,
        })

    def to_json(self) -> dict:
        """Plain JSON types (for model files); :meth:`from_json` reads them back."""
        return {f.name: (getattr(self, f.name).tolist() if isinstance(getattr(self, f.name), np.ndarray)
                         else getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: dict) -> "Convergence":
        arrays = {"n_iter": int, "reason": str, "converged": bool, "objective": float, "grad_norm": float}
        return cls(
            optimizer=str(data["optimizer"]), max_iter=int(data["max_iter"]), gtol=float(data["gtol"]),
            **{k: np.asarray(data[k], dtype=t) for k, t in arrays.items()},
        )

    def warning(self) -> str | None:
        """The ConvergenceWarning text, or None when every member converged."""
        bad = np.flatnonzero(~self.converged)
        if bad.size == 0:
            return None
        shown = ", ".join(str(int(i)) for i in bad[:10]) + (", ..." if bad.size > 10 else "")
        reasons = sorted(set(self.reason[bad]))
        worst = float(np.max(self.grad_norm[bad]))
        unit = "iterations" if self.optimizer == "lbfgs" else "epochs"
        advice = []
        if "max_iter" in reasons:
            advice.append(f"raise max_iter (now {self.max_iter} {unit})")
        if "line search" in reasons:
            advice.append("the line search could not lower the objective further: in float32 use "
                          "dtype='float64'; in float64 gtol is below what the objective resolves, "
                          "so raise it")
        if self.optimizer != "lbfgs":
            advice.append("or use optimizer='lbfgs' for a full-batch fit to the optimum")
        return (
            f"{bad.size} of {len(self.converged)} members did not converge (members {shown}; "
            f"stopped by: {', '.join(reasons)}; largest gradient norm {worst:.3g}, gtol "
            f"{self.gtol:g}): " + "; ".join(advice) + ". The interpretations read the weights "
            "where training stopped."
        )
