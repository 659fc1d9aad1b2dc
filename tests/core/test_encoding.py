"""Encoding policies: scaling, one-hot groups, and every bad-input case of issue 2."""

import warnings

import numpy as np
import pandas as pd
import pytest

from shallownet.data import DataWarning, Encoder, OutOfRangeWarning


def frame():
    return pd.DataFrame(
        {
            "age": [20.0, 30.0, 40.0, 60.0],
            "city": ["b", "a", "c", "a"],
            "smoker": [True, False, True, False],
        }
    )


def test_real_columns_scale_to_unit_interval_and_invert():
    enc = Encoder()
    Z = enc.fit_transform(frame())
    age = enc.variables_[0]
    assert (age.kind, age.minimum, age.maximum) == ("real", 20.0, 60.0)
    np.testing.assert_allclose(Z[:, 0], [0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(age.to_raw(Z[:, 0]), [20, 30, 40, 60])
    back = enc.inverse_transform(Z)
    pd.testing.assert_frame_equal(back, frame(), check_dtype=False)


def test_enumerated_column_is_one_group_of_one_hot_columns():
    enc = Encoder()
    Z = enc.fit_transform(frame())
    city = enc.variables_[1]
    assert city.kind == "enumerated" and city.categories == ("a", "b", "c")
    assert city.columns == (1, 2, 3)
    np.testing.assert_array_equal(Z[:, 1:4], [[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]])
    assert Z[:, 1:4].sum(axis=1).tolist() == [1, 1, 1, 1]
    assert enc.column_names_ == ["age", "city=a", "city=b", "city=c", "smoker"]


def test_boolean_is_one_binary_column():
    enc = Encoder()
    Z = enc.fit_transform(frame())
    smoker = enc.variables_[2]
    assert smoker.kind == "binary" and smoker.width == 1
    np.testing.assert_array_equal(Z[:, 4], [1, 0, 1, 0])
    np.testing.assert_array_equal(smoker.candidates(), [[0.0], [1.0]])


def test_declared_categorical_numeric_column_and_plain_arrays():
    X = np.array([[1.0, 2007], [2.0, 2008], [3.0, 2007]])
    enc = Encoder(categorical=[1])
    enc.fit(X)
    assert [v.kind for v in enc.variables_] == ["real", "enumerated"]
    assert enc.variables_[1].categories == (2007.0, 2008.0)
    plain = Encoder().fit(X)
    assert [v.kind for v in plain.variables_] == ["real", "real"]
    assert [v.name for v in plain.variables_] == ["x0", "x1"]


def test_pandas_categorical_keeps_its_category_order():
    X = pd.DataFrame({"size": pd.Categorical(["s", "l", "m"], categories=["s", "m", "l"])})
    enc = Encoder().fit(X)
    assert enc.variables_[0].categories == ("s", "m", "l")


def test_missing_values_error_by_default_naming_columns():
    X = frame()
    X.loc[1, "age"] = np.nan
    with pytest.raises(ValueError, match=r"missing values \(NaN\): \{'age': 1\}.*missing='drop'"):
        Encoder().fit(X)


def test_missing_values_drop_reports_how_many():
    X = frame()
    X.loc[1, "age"] = np.nan
    X.loc[2, "city"] = None
    enc = Encoder(missing="drop")
    with pytest.warns(DataWarning, match="Dropped 2 of 4 rows"):
        Z = enc.fit_transform(X)
    assert enc.n_dropped_rows_ == 2 and Z.shape[0] == 2
    np.testing.assert_array_equal(enc.kept_rows_, [True, False, False, True])


def test_missing_value_at_transform_is_an_error():
    enc = Encoder().fit(frame())
    X = frame()
    X.loc[0, "city"] = None
    with pytest.raises(ValueError, match="missing values"):
        enc.transform(X)


def test_unseen_category_names_column_and_values():
    enc = Encoder().fit(frame())
    X = frame()
    X.loc[0, "city"] = "zz"
    with pytest.raises(ValueError, match=r"Column 'city' has categories not seen in training: \['zz'\]"):
        enc.transform(X)


def test_out_of_range_values_are_kept_counted_and_reported():
    enc = Encoder().fit(frame())
    X = frame()
    X.loc[0, "age"] = 80.0
    X.loc[1, "age"] = 10.0
    with pytest.warns(OutOfRangeWarning, match=r"\{'age': 2\}"):
        Z = enc.transform(X)
    np.testing.assert_allclose(Z[:2, 0], [1.5, -0.25])  # not clipped
    assert enc.out_of_range(X) == {"age": 2}
    np.testing.assert_array_equal(enc.out_of_range_rows(X), [True, True, False, False])


def test_out_of_range_rows_or_over_the_real_variables():
    X = frame().assign(height=[1.5, 1.6, 1.7, 1.8])
    enc = Encoder().fit(X)
    X.loc[1, "age"] = 61.0  # above the maximum
    X.loc[1, "height"] = 1.4  # the same row, below the minimum
    X.loc[3, "height"] = 1.9
    X.loc[2, "age"] = np.nan  # missing is not out of range
    assert enc.out_of_range(X) == {"age": 1, "height": 2}
    np.testing.assert_array_equal(enc.out_of_range_rows(X), [False, True, False, True])
    only_categories = Encoder().fit(frame()[["city", "smoker"]])
    np.testing.assert_array_equal(only_categories.out_of_range_rows(frame()[["city", "smoker"]]), [False] * 4)


def test_constant_column_error_or_reported_drop():
    X = frame().assign(const=5.0)
    with pytest.raises(ValueError, match="Column 'const' is constant"):
        Encoder().fit(X)
    enc = Encoder(constant="drop")
    with pytest.warns(DataWarning, match="Dropped constant column 'const'"):
        enc.fit(X)
    assert enc.dropped_columns_ == ["const"]
    assert "const" not in [v.name for v in enc.variables_]
    enc.transform(X)  # the dropped column may still be present at transform time


def test_non_numeric_garbage_in_real_column_names_column_and_value():
    X = frame()
    X["age"] = ["20", "30", "forty", "60"]
    with pytest.raises(ValueError, match=r"Column 'age' is a real variable but contains non-numeric values \{'forty': 1\}"):
        Encoder(real=["age"]).fit(X)
    X = pd.DataFrame({"w": [str(v) for v in range(20)] + ["xyz"]})
    with pytest.raises(ValueError, match=r"Column 'w' is numeric apart from the values \{'xyz': 1\}.*na_values"):
        Encoder().fit(X)
    # 'n/a' is a missing-value token (issue 18): the missing-value policy applies to it
    X = pd.DataFrame({"w": [str(v) for v in range(20)] + ["n/a"]})
    with pytest.raises(ValueError, match=r"missing values \(NaN\): \{'w': 1\}.*'n/a': 1"):
        Encoder().fit(X)


def test_garbage_at_transform_time_in_a_real_column():
    enc = Encoder().fit(frame())
    X = frame().astype({"age": object})
    X.loc[2, "age"] = "old"
    with pytest.raises(ValueError, match="Column 'age'.*'old'"):
        enc.transform(X)


def test_column_mismatch_errors():
    enc = Encoder().fit(frame())
    with pytest.raises(ValueError, match=r"lacks columns seen in fit: \['city'\]"):
        enc.transform(frame().drop(columns="city"))
    with pytest.raises(ValueError, match=r"not seen in fit: \['extra'\]"):
        enc.transform(frame().assign(extra=1))


def test_bad_policy_arguments():
    with pytest.raises(ValueError, match="`missing` must be one of 'error', 'drop', 'indicator'. Got 'ignore'"):
        Encoder(missing="ignore").fit(frame())
    with pytest.raises(ValueError, match="not in X"):
        Encoder(categorical=["nope"]).fit(frame())
    with pytest.raises(ValueError, match="both real and categorical"):
        Encoder(categorical=["age"], real=["age"]).fit(frame())


def test_transform_before_fit():
    with pytest.raises(RuntimeError, match="not fitted"):
        Encoder().transform(frame())


def test_no_warning_for_training_rows():
    enc = Encoder().fit(frame())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc.transform(frame())
