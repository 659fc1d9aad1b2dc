"""The analysis pipeline on a multiclass table with a real, a binary and an enumerated variable."""

import numpy as np
import pandas as pd
import pytest

from shallownet.analysis import analyze, side_by_side_importances, usable_rows


@pytest.fixture(scope="module")
def analysis():
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["u", "v", "w"], n), "flag": rng.integers(0, 2, n).astype(bool)})
    z = np.stack([np.zeros(n), X.a + 0.5 * rng.normal(size=n), X.b + (X.c == "u") + 0.5 * rng.normal(size=n)], 1)
    y = np.array(["p", "q", "r"])[z.argmax(1)]
    return analyze(X, y, n_members=2, max_iter=100, n_bootstrap=50)


def test_variable_table_matches_each_result(analysis):
    table = analysis.variable_table().set_index("variable")
    ei = analysis.results["expected"].to_frame().set_index("variable")
    np.testing.assert_allclose(table["expected"], ei.loc[table.index, "expected"])
    np.testing.assert_allclose(table["garson"].sum(), 1.0, rtol=1e-5)
    assert list(table["kind"]) == ["real", "real", "enumerated", "binary"]
    # flag is pure noise: it should hardly ever change the decision
    assert table.loc["flag", "expected"] < table.loc["a", "expected"]


def test_side_by_side_has_overall_and_per_contrast_rows(analysis):
    long = side_by_side_importances(analysis)
    assert set(long["contrast"]) == {"all", "q vs p", "r vs p"}
    olden = analysis.results["olden"].to_frame()
    got = long[(long["method"] == "olden CW") & (long["contrast"] == "q vs p")].set_index("variable")["value"]
    want = olden[olden["output"] == "q vs p"].set_index("variable")["mean"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
    frame = analysis.results["side_by_side"].to_frame()
    assert {"lr_coef", "olden CW"} <= set(frame.columns)  # the MLE exists here: LR columns present


def test_usable_rows_under_the_default_policies(analysis):
    # missing="indicator", unknown="ignore": an unseen category is scored as an all-zero row,
    # a real value missing only after training is filled; a binary one cannot be encoded.
    X = analysis.X_test.head(4).copy().astype({"flag": object})
    X.loc[X.index[0], "c"] = "zz"
    X.loc[X.index[1], "a"] = np.nan
    X.loc[X.index[2], "flag"] = None
    assert usable_rows(analysis.model, X).tolist() == [True, True, False, True]
    assert analysis.missing["rows"]["test_used"] == len(analysis.X_test)
    assert analysis.settings["missing"] == "indicator" and analysis.settings["unknown"] == "ignore"


def test_bad_arguments():
    with pytest.raises(TypeError, match="`X` must be a pandas DataFrame"):
        analyze(np.ones((5, 2)), [0, 1, 0, 1, 0])
    with pytest.raises(ValueError, match="`test_size` must be between 0 and 1"):
        analyze(pd.DataFrame({"a": range(10)}), [0, 1] * 5, test_size=2.0)


def test_information_plane_section_of_the_analysis():
    import shallownet as sn

    X, y = sn.datasets.load_penguins()
    a = analyze(X, y, n_members=2, max_iter=30, n_bootstrap=20, information_plane=True)
    plane = a.results["information_plane"].to_frame()
    assert set(plane["layer"]) == {"h1", "output"}
    n = int(a.y_train.shape[0])
    # a deterministic layer on N equally likely rows: I(X;T) <= log2 N, I(T;Y) <= H(Y) <= log2 3
    assert (plane["I_XT_mean"] <= np.log2(n) + 1e-9).all()
    assert (plane["I_TY_mean"] <= np.log2(3) + 1e-9).all()


def test_quality_section_states_calibration_and_cases_outside_the_training_range(analysis):
    import dataclasses

    from shallownet.report.build import _calibration_words, _out_of_range_words, held_out

    ece = analysis.results["comparison"].to_frame().set_index("metric").loc["calibration_error"]
    words = _calibration_words(analysis.results["comparison"])
    assert f"by {ece['network']:.3f} on average" in words and f"logistic regression {ece['logistic']:.3f}" in words
    # Cases outside the training range, counted here from the training columns themselves.
    X_test = analysis.X_test.copy()
    X_test.iloc[0, X_test.columns.get_loc("a")] = 100.0
    X_test.iloc[1, X_test.columns.get_loc("b")] = -100.0
    moved = dataclasses.replace(analysis, X_test=X_test)
    X_te, _ = held_out(moved)
    lo, hi = analysis.X_train[["a", "b"]].min(), analysis.X_train[["a", "b"]].max()
    outside = ((X_te[["a", "b"]] < lo) | (X_te[["a", "b"]] > hi))
    rows = int(outside.any(axis=1).sum())
    assert rows >= 2
    text = _out_of_range_words(moved)
    assert text.startswith(f"{rows} of {len(X_te)} held-out cases")
    assert f"a: {int(outside['a'].sum())}" in text and f"b: {int(outside['b'].sum())}" in text
    keep = ~((X_test[["a", "b"]] < lo) | (X_test[["a", "b"]] > hi)).any(axis=1)
    inside = dataclasses.replace(analysis, X_test=X_test[keep], y_test=analysis.y_test[keep.to_numpy()])
    assert _out_of_range_words(inside) == ""
