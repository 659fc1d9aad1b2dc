"""Interpretation of fitted networks: what the weights say, and how variables move decisions.

Every function takes ``model``: a :class:`~shallownet.models.Network`, a fitted
:class:`~shallownet.ShallowNetClassifier`, or a fitted scikit-learn ``MLPClassifier``
(see :func:`as_network`), and returns a frozen result object with ``to_frame()`` and
``summary()``.
"""

from ..models import as_network
from .activity import (
    HiddenActivity,
    OutputDeltas,
    WeightFrequency,
    hidden_activity,
    output_deltas,
    weight_frequency,
)
from .importance import Importance, garson, milne, olden
from .logic import HiddenLogic, hidden_logic
from .randomization import OldenTest, olden_test
from .weights import WeightTable, weight_table

__all__ = [
    "as_network",
    "weight_table",
    "garson",
    "olden",
    "milne",
    "olden_test",
    "hidden_activity",
    "weight_frequency",
    "output_deltas",
    "hidden_logic",
    "WeightTable",
    "Importance",
    "OldenTest",
    "HiddenActivity",
    "WeightFrequency",
    "OutputDeltas",
    "HiddenLogic",
]
