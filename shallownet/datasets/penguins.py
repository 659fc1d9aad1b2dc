"""The Palmer penguins data, shipped inside the package."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from ._dataset import Dataset

DESCRIPTION = """\
Palmer penguins (Gorman, Williams & Fraser 2014; packaged by Horst, Hill & Gorman 2020, CC0).
344 penguins of three species (Adelie, Chinstrap, Gentoo) from three islands of the Palmer
Archipelago, Antarctica, 2007-2009. Inputs: island (enumerated, 3 categories), bill length and
depth (mm), flipper length (mm), body mass (g) (real), sex (enumerated, 2 categories). Target:
species. 11 rows have missing values (2 have no measurements at all); pass missing='drop' to a
model to drop them (reported). The study year is in `frame_with_year` only: it describes the
sampling, not the bird.
"""

FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]


def _read() -> pd.DataFrame:
    with resources.files("shallownet.datasets").joinpath("penguins.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, na_values=["NA"], keep_default_na=False)


def load_penguins() -> Dataset:
    """Load the Palmer penguins data (344 rows, 6 input variables, 3 classes).

    Returns
    -------
    Dataset
        ``X`` with island and sex as text (enumerated) and four real measurements, ``y`` the
        species. Missing values are kept as NaN; see ``DESCRIPTION``.

    Examples
    --------
    >>> X, y = load_penguins()
    >>> X.shape, sorted(y.unique())
    ((344, 6), ['Adelie', 'Chinstrap', 'Gentoo'])
    """
    frame = _read()
    return Dataset(X=frame[FEATURES].copy(), y=frame["species"].rename("species"), description=DESCRIPTION)


def frame_with_year() -> pd.DataFrame:
    """The whole table, study year included."""
    return _read()
