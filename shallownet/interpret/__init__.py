"""Interpretation of fitted networks: what the weights say, and how variables move decisions.

Every function takes ``model``: a :class:`~shallownet.models.Network`, a fitted
:class:`~shallownet.ShallowNetClassifier`, or a fitted scikit-learn ``MLPClassifier``
(see :func:`as_network`), and returns a frozen result object with ``to_frame()`` and
``summary()``.
"""

from ..models import as_network
from .ale import AccumulatedLocalEffects, ale
from .ale2 import SecondOrderALE, ale2
from .activity import (
    HiddenActivations,
    HiddenActivity,
    OutputDeltas,
    WeightFrequency,
    hidden_activations,
    hidden_activity,
    output_deltas,
    weight_frequency,
)
from .counterfactuals import Counterfactuals, counterfactuals
from .flips import FlipTensor, flip_tensor
from .hidden_map import HiddenMap, hidden_map
from .importance import Importance, garson, milne, olden
from .influence import (
    ExpectedInfluence,
    PotentialInfluence,
    RegressionInfluence,
    expected_influence,
    potential_influence,
)
from .logic import HiddenLogic, hidden_logic
from .permutation import PermutationImportance, permutation_importance
from .perturbation import InputPerturbation, input_perturbation
from .profiles import (
    DecisionSurface,
    LekProfile,
    PartialDependence,
    decision_surface,
    partial_dependence,
    profile,
)
from .randomization import OldenTest, olden_test
from .shapley import Shapley, shapley
from .sensitivity import SecondOrder, Sensitivity, second_order, sensitivity
from .weights import WeightTable, weight_table

__all__ = [
    "potential_influence",
    "expected_influence",
    "flip_tensor",
    "sensitivity",
    "second_order",
    "profile",
    "partial_dependence",
    "decision_surface",
    "permutation_importance",
    "input_perturbation",
    "counterfactuals",
    "ale",
    "ale2",
    "SecondOrderALE",
    "Counterfactuals",
    "AccumulatedLocalEffects",
    "PotentialInfluence",
    "ExpectedInfluence",
    "RegressionInfluence",
    "FlipTensor",
    "Sensitivity",
    "SecondOrder",
    "LekProfile",
    "PartialDependence",
    "DecisionSurface",
    "PermutationImportance",
    "InputPerturbation",
    "as_network",
    "weight_table",
    "garson",
    "olden",
    "milne",
    "olden_test",
    "hidden_activations",
    "hidden_activity",
    "weight_frequency",
    "output_deltas",
    "hidden_logic",
    "WeightTable",
    "Importance",
    "OldenTest",
    "HiddenActivations",
    "HiddenActivity",
    "WeightFrequency",
    "OutputDeltas",
    "HiddenLogic",
    "shapley",
    "Shapley",
    "hidden_map",
    "HiddenMap",
]
