"""Logistic regression beside a network: the same variables, the same test data, side by side."""

from .logistic import LogisticFit, LogisticFitError, SeparationError, fit_logistic

__all__ = ["fit_logistic", "LogisticFit", "SeparationError", "LogisticFitError"]
