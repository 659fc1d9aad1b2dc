"""Variables and encoding of user data to the [0, 1] matrix a network sees."""

from .encoder import DataWarning, Encoder, OutOfRangeWarning
from .variables import Variable, default_variables

__all__ = ["Encoder", "Variable", "default_variables", "DataWarning", "OutOfRangeWarning"]
