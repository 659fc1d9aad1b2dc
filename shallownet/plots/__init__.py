"""Matplotlib drawings of result objects. matplotlib is imported only when a plot is drawn."""
