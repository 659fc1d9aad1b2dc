"""Fixtures of the baselines tests."""

import pytest

from ._data import simulate


@pytest.fixture(scope="module")
def binary_data():
    return simulate(400, 2, 0)


@pytest.fixture(scope="module")
def multiclass_data():
    return simulate(450, 3, 1)
