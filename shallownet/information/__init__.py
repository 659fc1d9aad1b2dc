"""The information plane: mutual-information estimators, training snapshots, per-layer curves.

* :func:`mutual_information` — I(X; T) and I(T; Y) of one layer's activity (bits).
* Estimators: :class:`Binning` (the original 30-edge rule on [-1, 1], fixed width over an
  unbounded range, adaptive equal-mass bins), :class:`KDE` (upper and lower bounds with noise
  variance s2), :class:`KSG` (k nearest neighbours on a noisy layer).
* :func:`train_with_snapshots` — many seeds trained together, parameters kept on
  :func:`snapshot_schedule` (every epoch at first, then log-spaced).
* :func:`information_plane` — every layer, snapshot and seed of a run, or a fitted model.

Definitions and derivations: ``theory/information.md``.
"""

from .estimators import KDE, KSG, Binning, make_estimator
from .information_plane import information_plane, mutual_information
from .results import InformationPlane, MutualInformation, TrainingRun
from .snapshots import snapshot_schedule, train_with_snapshots

__all__ = [
    "Binning",
    "KDE",
    "KSG",
    "make_estimator",
    "mutual_information",
    "information_plane",
    "snapshot_schedule",
    "train_with_snapshots",
    "InformationPlane",
    "MutualInformation",
    "TrainingRun",
]
