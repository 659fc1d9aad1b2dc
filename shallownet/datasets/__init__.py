"""Bundled and synthetic datasets."""

from ._dataset import Dataset
from .penguins import load_penguins
from .synthetic import correlated_predictors, gaussian_pair, logistic_model
from .twelve_bit import TwelveBitTask, twelve_bit_task

__all__ = ["Dataset", "load_penguins", "gaussian_pair", "logistic_model", "correlated_predictors",
           "TwelveBitTask", "twelve_bit_task"]
