"""Missing values, unseen categories, missing-value tokens and identifiers in the encoder, the
estimator, model files and the logistic baseline (issues 15 and 18).

Oracles: scikit-learn's SimpleImputer(add_indicator=True) and OneHotEncoder with an explicit
missing category (the encoded design, column for column), pandas' median and mean (the fill
values), hand-built indicator columns, and statsmodels' Logit on a hand-built design.
"""

import json
import warnings
import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.analysis import drop_identifiers, unseen_rows, usable_rows
from shallownet.baselines import fit_logistic
from shallownet.data import DataWarning, Encoder
from shallownet.data.screening import NA_VALUES, identifier_columns
from shallownet.interpret._layout import Layout


def _fit(X, y, **kw):
    """A small network; every fit in this module has the same shapes, so one compilation serves."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sn.ShallowNetClassifier(hidden_layer_sizes=(3,), max_iter=30, random_state=0, **kw).fit(X, y)


def holes(n=40, seed=0):
    """A table with a real column with NaN, a complete real column, a text column with None
    and a complete text column."""
    rng = np.random.default_rng(seed)
    a = rng.normal(10, 3, n)
    a[rng.choice(n, 7, replace=False)] = np.nan
    c = rng.choice(["x", "y", "z"], n).astype(object)
    c[rng.choice(n, 5, replace=False)] = None
    return pd.DataFrame({"a": a, "b": rng.uniform(0, 5, n), "c": c, "d": rng.choice(["p", "q"], n)})


def peer_design(X, strategy):
    """The encoded design built with scikit-learn, in the encoder's column order."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    imp = SimpleImputer(strategy=strategy, add_indicator=True).fit(X[["a", "b"]])
    real = imp.transform(X[["a", "b"]])  # a, b, indicator of a (b has none)
    lo, hi = X["a"].min(), X["a"].max()  # pandas skips NaN: the range of the known values
    a_scaled = (real[:, 0] - lo) / (hi - lo)
    b_scaled = (real[:, 1] - X["b"].min()) / (X["b"].max() - X["b"].min())
    cats = sorted(X["c"].dropna().unique()) + ["missing"]
    c = OneHotEncoder(categories=[cats]).fit_transform(X[["c"]].fillna("missing")).toarray()
    d = OneHotEncoder(categories=[["p", "q"]]).fit_transform(X[["d"]]).toarray()
    return np.column_stack([a_scaled, real[:, 2], b_scaled, c, d])


@pytest.mark.parametrize("strategy", ["median", "mean"])
def test_indicator_design_equals_the_scikit_learn_design(strategy):
    X = holes()
    enc = Encoder(missing="indicator", fill=strategy)
    Z = enc.fit_transform(X)
    np.testing.assert_allclose(Z, peer_design(X, strategy), rtol=0, atol=1e-12)
    assert enc.column_names_ == ["a", "a=missing", "b", "c=x", "c=y", "c=z", "c=missing", "d=p", "d=q"]
    np.testing.assert_array_equal(enc.transform(X), Z)  # applied identically at transform time
    assert enc.kept_rows_.all() and enc.n_dropped_rows_ == 0


def test_fill_values_indicator_and_missing_counts_by_hand():
    X = holes()
    enc = Encoder(missing="indicator").fit(X)
    assert enc.fill_values_["a"] == X["a"].median() and enc.fill_values_["b"] == X["b"].median()
    assert Encoder(missing="indicator", fill="mean").fit(X).fill_values_["a"] == pytest.approx(X["a"].mean())
    a = next(v for v in enc.variables_ if v.name == "a")
    assert a.has_indicator and a.fill == X["a"].median() and a.columns == (0, 1)
    assert not next(v for v in enc.variables_ if v.name == "b").has_indicator
    Z = enc.transform(X)
    np.testing.assert_array_equal(Z[:, 1], X["a"].isna().to_numpy().astype(float))
    assert enc.missing_counts_ == {"a": 7, "c": 5}
    assert enc.missing_categories_ == {"c": "missing"}
    back = enc.inverse_transform(Z)
    assert back["a"].isna().equals(X["a"].isna()) and back["c"].isna().equals(X["c"].isna())
    np.testing.assert_allclose(back["a"].dropna(), X["a"].dropna())


def test_binary_with_missing_values_gains_a_missing_category():
    X = pd.DataFrame({"flag": pd.array([True, False, None, True, False, True], dtype="boolean"),
                      "x": [1.0, 2, 3, 4, 5, 6]})
    enc = Encoder(missing="indicator").fit(X)
    flag = enc.variables_[0]
    assert flag.kind == "enumerated" and flag.categories == (False, True, "missing")
    np.testing.assert_array_equal(enc.transform(X)[:, :3].argmax(axis=1), [1, 0, 2, 1, 0, 1])


def test_a_real_category_named_missing_is_not_merged_silently():
    X = pd.DataFrame({"c": ["missing", "a", None, "a"], "x": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match="Column 'c' has missing values and already a category 'missing'"):
        Encoder(missing="indicator").fit(X)


def test_a_column_missing_only_after_training():
    X = holes()
    enc = Encoder(missing="indicator").fit(X)
    new = X.iloc[:3].copy()
    new["b"] = [np.nan, 1.0, np.nan]
    with pytest.warns(DataWarning, match=r"no indicator.*\{'b': 2\}"):
        Z = enc.transform(new)
    b = next(v for v in enc.variables_ if v.name == "b")
    np.testing.assert_allclose(Z[[0, 2], b.columns[0]], b.to_scaled(X["b"].median()))
    assert enc.audit(new)["unmodelled"] == {"b": 2}
    # An enumerated column without a missing category: missing is an unseen category.
    new = X.iloc[:2].copy()
    new["d"] = [None, "p"]
    with pytest.raises(ValueError, match=r"Column 'd' has categories not seen in training: \['<missing>'\]"):
        enc.transform(new)
    # A binary column has no all-zero code: an error naming it.
    Xb = holes().assign(flag=[True, False] * 20)
    encb = Encoder(missing="indicator").fit(Xb)
    with pytest.raises(ValueError, match="Column 'flag' is binary and had no missing values in training"):
        encb.transform(Xb.iloc[:2].assign(flag=[None, True]))
    # Under missing='error' or 'drop', a missing value at transform time is an error.
    with pytest.warns(DataWarning, match="Dropped 12 of 40 rows"):
        enc_drop = Encoder(missing="drop").fit(X)
    with pytest.raises(ValueError, match=r"missing values \(NaN\): \{'a': 7, 'c': 5\}.*refit with missing='indicator'"):
        enc_drop.transform(X)


def test_unknown_ignore_gives_all_zero_rows_counted_and_reported():
    X = holes()
    enc = Encoder(missing="indicator", unknown="ignore").fit(X)
    new = X.iloc[:4].copy()
    new["d"] = ["p", "new1", "q", "new2"]
    with pytest.warns(DataWarning, match=r"all-zero one-hot rows.*\{'d': 2\}"):
        Z = enc.transform(new)
    d = [i for i, n in enumerate(enc.column_names_) if n.startswith("d=")]
    np.testing.assert_array_equal(Z[:, d], [[1, 0], [0, 0], [0, 1], [0, 0]])
    keep = [i for i in range(Z.shape[1]) if i not in d]
    np.testing.assert_array_equal(Z[:, keep], enc.transform(X.iloc[:4])[:, keep])
    assert enc.audit(new)["unknown"] == {"d": 2}
    with pytest.raises(ValueError, match=r"Column 'd' has categories not seen in training: \['new1', 'new2'\] \(2 rows\)"):
        Encoder(missing="indicator").fit(X).transform(new)


def test_missing_value_tokens_are_missing_and_counted():
    rng = np.random.default_rng(1)
    values = [f"{v:.2f}" for v in rng.normal(size=60)]
    for i, t in zip(range(0, 60, 5), ["?", "NA", " n/a ", "-", ".", "null", "None", "NaN", "N/A", "", "?", "?"]):
        values[i] = t
    X = pd.DataFrame({"v": values, "k": rng.choice(["a", "b"], 60)})
    enc = Encoder(missing="indicator").fit(X)
    v = enc.variables_[0]
    assert v.kind == "real" and v.has_indicator and enc.n_features_out_ == 4  # not 50 one-hot columns
    assert enc.missing_counts_ == {"v": 12}
    assert enc.missing_tokens_["v"] == {"?": 3, "NA": 1, "n/a": 1, "-": 1, ".": 1, "null": 1, "None": 1,
                                        "NaN": 1, "N/A": 1, "": 1}
    assert set(NA_VALUES) == {"", "NA", "N/A", "n/a", "NaN", "?", ".", "-", "null", "None"}
    with pytest.raises(ValueError, match=r"missing values \(NaN\): \{'v': 12\}.*Tokens read as missing"):
        Encoder().fit(X)
    # Without tokens, the column is numeric apart from a few values: listed, with the fix.
    with pytest.raises(ValueError, match=r"Column 'v' is numeric apart from the values \{'\?': 3.*na_values"):
        Encoder(na_values=[]).fit(X)
    # Configurable: a token of the user's own.
    Y = pd.DataFrame({"v": ["1", "2", "unknown", "4"] * 5, "k": ["a", "b"] * 10})
    assert Encoder(missing="indicator", na_values=["unknown"]).fit(Y).missing_tokens_ == {"v": {"unknown": 5}}


def test_numbers_stored_as_text_are_real():
    X = pd.DataFrame({"n": [str(v) for v in np.linspace(0, 1, 60)], "k": ["a", "b"] * 30})
    enc = Encoder().fit(X)
    assert enc.variables_[0].kind == "real" and enc.n_features_out_ == 3


def test_classifier_accepts_the_real_override_and_the_tokens():
    X = holes()
    X["a"] = [("?" if np.isnan(v) else f"{v:.6f}") for v in X["a"]]  # numbers as text, '?' for missing
    y = (X["b"] > 2.5).astype(int).to_numpy()
    clf = _fit(X, y, real=["a"], missing="indicator")
    a = clf.encoder_.variables_[0]
    assert a.kind == "real" and a.has_indicator and clf.encoder_.missing_tokens_ == {"a": {"?": 7}}
    with pytest.raises(ValueError, match=r"Column 'a' is a real variable but contains non-numeric values \{'x': 1\}"):
        Encoder(real=["a"], missing="indicator").fit(X.assign(a=["x"] + list(X["a"][1:])))


def test_identifier_like_columns_are_found_warned_and_dropped_on_request():
    rng = np.random.default_rng(0)
    n = 40
    X = pd.DataFrame({
        "name": [f"person{i}" for i in range(n)],  # a distinct string per row
        "row": rng.permutation(n) + 100,  # dense distinct integers
        "income": rng.integers(10_000, 90_000, n),  # distinct integers, not dense: a variable
        "height": rng.normal(170, 10, n),  # distinct floats: a measurement
        "group": rng.choice(["a", "b", "c"], n),
        "idtext": [str(1000 + i) for i in range(n)],  # an integer id stored as text
    })
    found = identifier_columns(X)
    assert set(found) == {"name", "row", "idtext"}
    assert "40 distinct values in 40 rows" in found["name"]
    with pytest.warns(DataWarning, match="Column 'name' looks like an identifier"):
        enc = Encoder().fit(X)
    assert set(enc.identifier_columns_) == {"name", "row", "idtext"}
    kept, notes = drop_identifiers(X, keep=["row"])
    assert list(kept.columns) == ["row", "income", "height", "group"]
    assert len(notes) == 2 and "--keep name" in notes[0]
    assert identifier_columns(X.iloc[:19]) == {}  # too few rows to tell
    # A declared column is the user's choice: not warned.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Encoder(categorical=["name", "row", "idtext"]).fit(X)


def test_layout_groups_the_value_with_its_indicator():
    X = holes()
    y = (X["b"] > 2.5).astype(int).to_numpy()
    clf = _fit(X, y, missing="indicator")
    lay = Layout.of(clf.network_)
    assert lay.variables == ("a", "b", "c", "d")
    np.testing.assert_array_equal(lay.groups[0], [0, 1])
    assert lay.column_category[:2] == ("", "missing") and lay.indicator[:3].tolist() == [False, True, False]
    # The spread is the range of x_block @ w over the vertices (0,0), (1,0), (fill',1).
    f = clf.encoder_.variables_[0].fill_scaled
    W = np.zeros((lay.columns.__len__(), 2))
    W[0], W[1] = [2.0, -1.0], [0.5, 3.0]
    by_hand = [np.ptp([0.0, 2.0, 2.0 * f + 0.5]), np.ptp([0.0, -1.0, -1.0 * f + 3.0])]
    np.testing.assert_allclose(lay.spread(W)[0], by_hand)
    np.testing.assert_allclose(lay.variable_values(W)[0], by_hand)
    assert lay.column_scales[1] == 1.0 and lay.column_scales[0] == pytest.approx(clf.encoder_.variables_[0].scale)
    for method in (sn.interpret.garson, sn.interpret.olden, sn.interpret.milne):
        frame = method(clf).to_frame()
        assert sorted(set(frame["variable"])) == ["a", "b", "c", "d"]


def test_model_file_round_trip_with_missing_values_and_unseen_categories(tmp_path):
    X = holes()
    y = (X["b"] + X["a"].fillna(10) / 5 > 4.5).astype(int).to_numpy()
    clf = _fit(X, y, missing="indicator", unknown="ignore", fill="mean")
    new = X.iloc[:6].copy()
    new.loc[new.index[0], "d"] = "never seen"
    new.loc[new.index[1], "a"] = np.nan
    new.loc[new.index[2], "c"] = "NA"  # a token
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = clf.predict_proba(new)
        path = sn.save(clf, tmp_path / "m.npz")
        loaded = sn.load(path)
        after = loaded.predict_proba(new)
    np.testing.assert_array_equal(before, after)
    assert loaded.encoder_.fill_values_ == clf.encoder_.fill_values_
    assert loaded.encoder_.missing_categories_ == {"c": "missing"}
    assert loaded.encoder_.unknown == "ignore" and loaded.fill == "mean"
    assert loaded.network_.variables == clf.network_.variables
    # The encoder state is covered by the file's digest: a file with it edited is refused.
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(arrays.pop("meta").tobytes())
    meta["encoder"]["fill_values"] = {k: v + 1.0 for k, v in meta["encoder"]["fill_values"].items()}
    edited = tmp_path / "edited.npz"
    np.savez(edited, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    assert zipfile.is_zipfile(edited)
    with pytest.raises(sn.ModelFileError, match="digest"):
        sn.load(edited)


def test_usable_and_unseen_rows_follow_the_policies():
    X = holes()
    y = (X["b"] > 2.5).astype(int).to_numpy()
    test = X.iloc[:5].copy()
    test.loc[test.index[0], "d"] = "never seen"
    test.loc[test.index[1], "b"] = np.nan  # no missing value in training
    test["a"] = test["a"].astype(object)
    test.loc[test.index[2], "a"] = "?"
    ind = _fit(X, y, missing="indicator", unknown="ignore")
    np.testing.assert_array_equal(usable_rows(ind, test), [True] * 5)
    np.testing.assert_array_equal(unseen_rows(ind, test), [True, False, False, False, False])
    strict = _fit(X, y, missing="indicator", unknown="error")
    assert usable_rows(strict, test)[0] == np.False_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drop = SimpleNamespace(encoder_=Encoder(missing="drop").fit(X))  # usable_rows reads the encoder
    expected = test[["a", "b", "c"]].replace("?", np.nan).notna().all(axis=1).to_numpy() & (test["d"] != "never seen").to_numpy()
    np.testing.assert_array_equal(usable_rows(drop, test), expected)


def test_fit_logistic_with_indicator_equals_statsmodels_on_a_hand_built_design():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 300
    a = rng.normal(size=n)
    g = rng.choice(["u", "v", "w"], n).astype(object)
    y = (a + (g == "u") + rng.normal(size=n) > 0.3).astype(int)
    a[rng.random(n) < 0.2] = np.nan
    g[rng.random(n) < 0.15] = None
    X = pd.DataFrame({"a": a, "g": g})
    fit = fit_logistic(X, y, missing="indicator")
    s = pd.Series(a)
    miss = s.isna().to_numpy().astype(float)
    filled = s.fillna(s.median()).to_numpy()
    gs = pd.Series(g).fillna("missing")
    D = np.column_stack([np.ones(n), (filled - s.min()) / (s.max() - s.min()), miss,
                         gs == "v", gs == "w", gs == "missing"]).astype(float)  # reference 'u' dropped
    ref = sm.Logit(y.astype(float), D).fit(disp=0, method="newton")
    table = fit.coefficients.to_frame()
    assert table["column"].tolist() == ["const", "a", "a=missing", "g=v", "g=w", "g=missing"]
    np.testing.assert_allclose(table["coef"], ref.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(table["se"], ref.bse, rtol=1e-6)
    assert table["raw_unit"].tolist()[2] == 1.0  # the indicator's unit is the switch
    # The rank check covers the indicator: a column missing exactly where another is 'w'.
    X2 = X.assign(g=np.where(np.isnan(a), "w", np.where(g == "w", "u", g)))
    with pytest.raises(ValueError, match=r"singular: column\(s\) \['g=w'\]"):
        fit_logistic(X2, y, missing="indicator")
