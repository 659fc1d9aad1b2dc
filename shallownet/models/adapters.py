"""Adapters: turn any supported model into the canonical :class:`Network` view."""

from __future__ import annotations

from typing import Any

import numpy as np

from .network import Network

_SKLEARN_ACTIVATIONS = {"logistic": "logistic", "tanh": "tanh", "relu": "relu", "identity": "identity"}


def as_network(model: Any) -> Network:
    """Return the network view of ``model``.

    Accepts a :class:`Network`, a fitted shallownet estimator, a fitted scikit-learn
    ``MLPClassifier`` (any depth; binary with its single logistic output unit, or multiclass
    softmax; multilabel models are refused) or a fitted ``MLPRegressor`` (identity output,
    one unit per target: a linear-output view). The view reproduces the model's
    ``predict_proba`` (``predict`` for a regressor) exactly (up to float rounding).
    """
    if isinstance(model, Network):
        return model
    net = getattr(model, "network_", None)
    if isinstance(net, Network):
        return net
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return _from_pipeline(model)
    if isinstance(model, MLPClassifier):
        return _from_sklearn_mlp(model)
    if isinstance(model, MLPRegressor):
        return _from_sklearn_regressor(model)
    if hasattr(model, "fit") and not hasattr(model, "coefs_") and not hasattr(model, "network_"):
        raise ValueError(
            f"This {type(model).__name__} is not fitted yet (or is not a network). Fit it first."
        )
    raise TypeError(
        "`model` must be a shallownet.Network, a fitted ShallowNetClassifier or "
        "ShallowNetRegressor, or a fitted scikit-learn MLPClassifier or MLPRegressor. "
        f"Got {type(model).__name__}."
    )


def _identity_like(step) -> bool:
    """A pipeline step that passes its input through unchanged."""
    from sklearn.preprocessing import FunctionTransformer

    if step is None or (isinstance(step, str) and step == "passthrough"):
        return True
    return (isinstance(step, FunctionTransformer) and step.func is None
            and step.inverse_func is None)


def _from_pipeline(pipe) -> Network:
    """The final step of a fitted scikit-learn ``Pipeline`` whose other steps pass inputs
    through unchanged; any real preprocessing is refused with how to unwrap it (the network's
    inputs are the preprocessed columns, which the view cannot re-create from raw data)."""
    steps = pipe.steps
    final = steps[-1][1]
    before = [name for name, step in steps[:-1] if not _identity_like(step)]
    if before:
        raise ValueError(
            f"This Pipeline transforms its inputs ({', '.join(before)}) before its final step "
            f"{steps[-1][0]!r}, so the network sees other columns than the data. Unwrap it: pass "
            "the fitted final step, pipe[-1], with inputs transformed by the fitted steps before "
            "it, pipe[:-1].transform(X) (or fit a ShallowNetClassifier, whose own encoder does "
            "the scaling)."
        )
    if final is None or (isinstance(final, str) and final == "passthrough"):
        raise TypeError("This Pipeline ends with 'passthrough'; it holds no network.")
    return as_network(final)


def _from_sklearn_mlp(mlp) -> Network:
    if not hasattr(mlp, "coefs_"):
        raise ValueError("This MLPClassifier is not fitted yet. Fit it first.")
    if mlp.out_activation_ not in ("logistic", "softmax"):
        raise ValueError(f"Unsupported MLP output activation {mlp.out_activation_!r}.")
    classes = np.asarray(mlp.classes_)
    if mlp.out_activation_ == "logistic" and mlp.n_outputs_ != 1:
        raise ValueError(
            "Multilabel MLPClassifier models (one sigmoid per label) are not supported; "
            "shallownet reads single-label classifiers."
        )
    output = "sigmoid" if mlp.out_activation_ == "logistic" else "softmax"
    return Network.from_weights(
        mlp.coefs_, mlp.intercepts_, activation=_SKLEARN_ACTIVATIONS[mlp.activation],
        output=output, variables=_named_variables(mlp), classes=classes,
    )


def _named_variables(mlp):
    """Real variables named after ``feature_names_in_`` (inputs taken as given), or None."""
    if not hasattr(mlp, "feature_names_in_"):
        return None
    from ..data.variables import Variable

    return [Variable(str(n), "real", (i,), 0.0, 1.0) for i, n in enumerate(mlp.feature_names_in_)]


def _from_sklearn_regressor(mlp) -> Network:
    """A fitted ``MLPRegressor`` as a linear-output view (its output activation is the
    identity; one unit per target column)."""
    if not hasattr(mlp, "coefs_"):
        raise ValueError("This MLPRegressor is not fitted yet. Fit it first.")
    if mlp.out_activation_ != "identity":
        raise ValueError(f"Unsupported MLPRegressor output activation {mlp.out_activation_!r}.")
    return Network.from_weights(
        mlp.coefs_, mlp.intercepts_, activation=_SKLEARN_ACTIVATIONS[mlp.activation],
        output="linear", variables=_named_variables(mlp),
    )
