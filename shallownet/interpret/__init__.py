"""Interpretation of fitted networks: what the weights say, and how variables move decisions.

Every function takes ``model``: a :class:`~shallownet.models.Network`, a fitted
:class:`~shallownet.ShallowNetClassifier`, or a fitted scikit-learn ``MLPClassifier``
(see :func:`as_network`), and returns a frozen result object with ``to_frame()`` and
``summary()``.
"""

from ..models import as_network
from .importance import Importance, garson, milne, olden
from .weights import WeightTable, weight_table

__all__ = [
    "as_network",
    "garson",
    "olden",
    "milne",
    "weight_table",
    "Importance",
    "WeightTable",
]
