"""shallownet: open up small neural networks on tabular data.

Train one- and two-hidden-layer networks on [0, 1]-encoded inputs, read their weights, measure
how each variable can and probably will change the decision, follow information-plane curves,
and hold it all against logistic regression. JAX underneath; runs unchanged on CPU and GPU.
"""

from . import baselines, data, datasets, information, interpret, models
from .data import Encoder, Variable
from .io import ModelFileError, load, save
from .models import Network, as_network
from .training import ShallowNetClassifier, ShallowNetRegressor

__version__ = "0.1.0"

__all__ = [
    "ShallowNetClassifier",
    "ShallowNetRegressor",
    "Network",
    "Encoder",
    "Variable",
    "as_network",
    "save",
    "load",
    "ModelFileError",
    "baselines",
    "data",
    "datasets",
    "information",
    "interpret",
    "models",
]
