"""The rule that decides whether a target is classes or a number (shallownet.tasks), at its edges."""

import numpy as np
import pandas as pd
import pytest

from shallownet.tasks import MAX_NUMERIC_CLASSES, detect_task, is_numeric_target


@pytest.mark.parametrize(
    "values, task",
    [
        (list(range(MAX_NUMERIC_CLASSES)) * 3, "classification"),            # 10 integer codes
        (list(range(MAX_NUMERIC_CLASSES + 1)) * 3, "regression"),             # 11 distinct integers
        (np.linspace(0, 1, MAX_NUMERIC_CLASSES).tolist() * 2, "classification"),  # 10 distinct floats
        (np.linspace(0, 1, MAX_NUMERIC_CLASSES + 1).tolist(), "regression"),
        ([0.0, 1.0] * 20, "classification"),
        (list(range(MAX_NUMERIC_CLASSES)) + [np.nan] * 5, "classification"),  # missing values are not values
        (list(range(MAX_NUMERIC_CLASSES + 1)) + [np.nan], "regression"),
        ([True, False] * 10, "classification"),
        ([f"s{i}" for i in range(40)], "classification"),                      # text with many values
    ],
)
def test_the_rule_at_its_edges(values, task):
    assert detect_task(pd.Series(values, name="t"))[0] == task


def test_dtypes_that_are_not_numbers_and_numbers_held_as_objects():
    codes = pd.Series(pd.Categorical(range(30)))
    assert not is_numeric_target(codes)
    assert detect_task(codes)[0] == "classification"
    as_objects = pd.Series(np.arange(30.5, 60.5), dtype=object)
    assert is_numeric_target(as_objects) and detect_task(as_objects)[0] == "regression"
    assert detect_task(np.arange(40))[0] == "regression"  # a plain array works too


def test_the_reason_names_the_count_and_the_override():
    task, reason = detect_task(pd.Series(np.arange(12.0)), name="yield")
    assert task == "regression" and "'yield'" in reason and "12 distinct" in reason
    assert "--task classification" in reason
    task, reason = detect_task(pd.Series([1, 2, 3] * 4), name="grade")
    assert task == "classification" and "3 distinct" in reason and "--task regression" in reason
    assert detect_task(pd.Series(["a", "b"]))[1] == ""  # text: nothing to explain


def test_the_override_wins_both_ways():
    assert detect_task(pd.Series(np.linspace(0, 1, 50)), "classification") == ("classification", "")
    assert detect_task(pd.Series([1, 2, 3] * 5), "regression") == ("regression", "")


@pytest.mark.parametrize(
    "values, message",
    [
        (["a", "b", "c"], "non-numeric value 'a'"),
        ([True, False, True], "non-numeric value True"),
        ([2.0, 2.0, np.nan], "1 distinct value"),
    ],
)
def test_a_regression_is_refused_on_a_target_that_is_not_a_varying_number(values, message):
    with pytest.raises(ValueError, match=message):
        detect_task(pd.Series(values), "regression", name="t")


def test_unknown_task():
    with pytest.raises(ValueError, match=r"`task` must be one of \['auto', 'classification', 'regression'\]"):
        detect_task([1, 2], "numeric")
