"""Parameter pytrees, the forward pass, and the canonical network view."""

from .adapters import as_network
from .layers import ACTIVATIONS, OUTPUTS, Dense, init_params, init_truncated_normal
from .network import Network

__all__ = ["Dense", "Network", "as_network", "init_params", "init_truncated_normal", "ACTIVATIONS", "OUTPUTS"]
