"""Losses, the jitted training loop, ensembles and the scikit-learn-style estimator."""

from .estimator import ShallowNetClassifier, ShallowNetRegressor
from .epochs import member_loss
from .loop import named_optimizer, train

__all__ = ["ShallowNetClassifier", "ShallowNetRegressor", "train", "member_loss", "named_optimizer"]
