"""Interpretation of fitted networks: weights, influence, sensitivity."""
