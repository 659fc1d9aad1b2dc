"""The "Missing data" part of the report's data section (from :attr:`Analysis.missing`)."""

from __future__ import annotations

import pandas as pd

POLICY_WORDS = {
    "indicator": "every row is kept; a real variable with missing values is filled with its training {fill} "
                 "and gains a missingness indicator (the two columns are one variable in every figure), an "
                 "enumerated one gains the category 'missing'",
    "drop": "training rows with a missing value were dropped",
    "error": "missing values are refused",
}


def missing_words(missing: dict) -> str:
    """One paragraph: the policy and the rows used in each split."""
    rows = missing["rows"]
    policy = POLICY_WORDS[missing["policy"]].format(fill=missing["fill"])
    text = (f"Missing-data policy '{missing['policy']}': {policy}. Rows used: {rows['train_used']} of "
            f"{rows['train']} training rows, {rows['test_used']} of {rows['test']} test rows")
    if rows["test_used"] < rows["test"]:
        text += f" ({rows['test'] - rows['test_used']} left out: the policy cannot encode them)"
    text += "."
    if rows["test_unseen_scored"]:
        text += (f" {rows['test_unseen_scored']} test rows hold a category not seen in training and were "
                 "scored with that variable as an all-zero one-hot row (unknown='ignore').")
    if not missing["columns"]:
        text += " No variable has missing values."
    return text


def missing_table(missing: dict) -> pd.DataFrame:
    """Per variable with missing cells: counts and shares in train and test, tokens read as
    missing, how the model encodes them, the fill value in raw units, and the share of training
    rows whose decision changes when the variable alone is set to missing."""
    return pd.DataFrame(missing["columns"], columns=["variable", "train_missing", "train_share", "test_missing",
                                                     "test_share", "encoded_as", "fill", "tokens",
                                                     "decision_changes_if_missing"])
