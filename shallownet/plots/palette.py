"""Colours safe for colour-blind readers (Okabe and Ito 2008), shared by the drawings."""

from __future__ import annotations

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Blue, orange, bluish green, reddish purple, sky blue, vermillion, yellow, black."""

DIVERGING = "PuOr_r"
"""A diverging colour map readable with every common colour-vision deficiency (orange-purple)."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def class_colour(k: int) -> str:
    """The colour of class ``k`` (cycling through :data:`OKABE_ITO`)."""
    return OKABE_ITO[k % len(OKABE_ITO)]


def rc_params() -> dict:
    """Matplotlib settings of the report's figures: the Okabe-Ito colour cycle."""
    from cycler import cycler

    return {"axes.prop_cycle": cycler(color=list(OKABE_ITO)), "image.cmap": "cividis"}
