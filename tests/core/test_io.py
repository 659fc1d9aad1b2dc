"""Model files: exact round trip, and clear errors for damaged, tampered or foreign files."""

import json
import zipfile

import numpy as np
import pytest

import shallownet as sn

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def fitted():
    X, y = sn.datasets.load_penguins()
    keep = X.notna().all(axis=1)
    X, y = X[keep], y[keep]
    clf = sn.ShallowNetClassifier(hidden_layer_sizes=(5, 3), n_members=2, max_iter=20, random_state=0).fit(X, y)
    return clf, X


def test_estimator_round_trip_is_exact(fitted, tmp_path):
    clf, X = fitted
    path = sn.save(clf, tmp_path / "model")
    assert path.name == "model.npz"
    back = sn.load(path)
    assert isinstance(back, sn.ShallowNetClassifier)
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.get_params() == clf.get_params()
    assert list(back.classes_) == list(clf.classes_)
    assert back.network_.variables == clf.network_.variables
    assert back.loss_curve_ == pytest.approx(clf.loss_curve_)
    assert list(back.feature_names_in_) == list(clf.feature_names_in_)


def test_network_round_trip_with_integer_classes(tmp_path):
    rng = np.random.default_rng(0)
    net = sn.Network.from_weights([rng.normal(size=(3, 4)), rng.normal(size=(4, 1))],
                                  [rng.normal(size=4), rng.normal(size=1)], classes=[3, 7])
    back = sn.load(sn.save(net, tmp_path / "n.npz"))
    assert isinstance(back, sn.Network)
    X = rng.uniform(size=(5, 3))
    np.testing.assert_array_equal(back.predict(X), net.predict(X))
    assert back.classes.dtype == net.classes.dtype


def test_refuses_to_overwrite(fitted, tmp_path):
    clf, _ = fitted
    sn.save(clf, tmp_path / "m.npz")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        sn.save(clf, tmp_path / "m.npz")
    sn.save(clf, tmp_path / "m.npz", overwrite=True)


def test_truncated_file(fitted, tmp_path):
    clf, _ = fitted
    path = sn.save(clf, tmp_path / "m.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(sn.ModelFileError, match="not a readable shallownet model file"):
        sn.load(path)


def test_tampered_weights_are_detected(fitted, tmp_path):
    clf, _ = fitted
    path = sn.save(clf, tmp_path / "m.npz")
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    arrays["W0"] = arrays["W0"] + 1.0
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(sn.ModelFileError, match="does not match its SHA-256 digest"):
        sn.load(path)


def test_foreign_files(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(sn.ModelFileError, match="no metadata"):
        sn.load(other)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, meta=np.frombuffer(json.dumps({"format": "else"}).encode(), dtype=np.uint8))
    with pytest.raises(sn.ModelFileError, match="not a shallownet model file"):
        sn.load(wrong)
    text = tmp_path / "t.npz"
    text.write_text("hello")
    with pytest.raises(sn.ModelFileError):
        sn.load(text)
    with pytest.raises(FileNotFoundError):
        sn.load(tmp_path / "absent.npz")


def test_pickled_object_arrays_are_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("meta.npy", "w") as fh:
            np.save(fh, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(sn.ModelFileError):
        sn.load(path)


# -- issue 18, item 2: the digest covers the metadata; every field is checked ----------------

def _rewrite(path, edit, resign=False, extra_member=None):
    """Rewrite the model file at ``path`` with ``edit(meta)`` applied to its metadata;
    ``resign`` recomputes the digest (as a deliberate editor could), so that the field checks
    behind it are reached."""
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(arrays.pop("meta").tobytes())
    edit(meta)
    if resign:
        try:
            from shallownet._modelfile import digest
        except ImportError:  # a shallownet without a metadata digest: nothing to recompute
            pass
        else:
            meta["sha256"] = digest(meta, arrays)
    with open(path, "wb") as fh:
        np.savez(fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    if extra_member is not None:
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(extra_member, b"not an array")
    return path


def _reverse_classes(meta):
    meta["classes"]["values"] = meta["classes"]["values"][::-1]


def _swap_variables(meta):
    a, b = meta["variables"][0], meta["variables"][1]
    a["columns"], b["columns"] = b["columns"], a["columns"]


def _set(*keys, value):
    def edit(meta):
        target = meta
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
    return edit


NAIVE_EDITS = {
    "reversed classes": _reverse_classes,
    "activation": _set("activation", value="tanh"),
    "variable range": _set("variables", 0, "maximum", value=1e6),
    "swapped variable columns": _swap_variables,
    "hidden_layer_sizes": _set("estimator_params", "hidden_layer_sizes", value=[3, 5]),
    "injected checkpoint": _set("estimator_params", "checkpoint", value="/tmp/elsewhere.npz"),
}


@pytest.mark.parametrize("edit", list(NAIVE_EDITS), ids=list(NAIVE_EDITS))
def test_a_naive_metadata_edit_is_refused_by_the_digest(fitted, tmp_path, edit):
    clf, _ = fitted
    path = _rewrite(sn.save(clf, tmp_path / "m.npz"), NAIVE_EDITS[edit])
    with pytest.raises(sn.ModelFileError, match="digest"):
        sn.load(path)


RESIGNED_EDITS = {
    "no kind": (lambda m: m.pop("kind"), "missing"),
    "no extra": (lambda m: m.pop("extra"), "missing"),
    "unknown estimator parameter": (_set("estimator_params", "colour", value="red"), "unknown"),
    "estimator without encoder": (_set("has_encoder", value=False), "encoder"),
    "reversed classes": (_reverse_classes, "sorted"),
    "swapped variable columns": (_swap_variables, "in order"),
    "hidden sizes": (_set("estimator_params", "hidden_layer_sizes", value=[3, 5]), "hidden_layer_sizes"),
    "activation name": (_set("activation", value="swish"), "activation"),
    "class dtype": (_set("classes", "dtype", value="object; rm -rf"), "dtype"),
    "variable kind": (_set("variables", 0, "kind", value="ordinal"), "kind"),
    "loss curve": (_set("extra", "loss_curve", value="lots"), "loss_curve"),
    "members": (_set("estimator_params", "n_members", value=5), "n_members"),
}


@pytest.mark.parametrize("edit", list(RESIGNED_EDITS), ids=list(RESIGNED_EDITS))
def test_every_field_is_checked_behind_the_digest(fitted, tmp_path, edit):
    clf, _ = fitted
    fn, message = RESIGNED_EDITS[edit]
    path = _rewrite(sn.save(clf, tmp_path / "m.npz"), fn, resign=True)
    with pytest.raises(sn.ModelFileError, match=message):
        sn.load(path)


def test_a_member_that_is_not_an_array_is_refused(fitted, tmp_path):
    clf, _ = fitted
    path = _rewrite(sn.save(clf, tmp_path / "m.npz"), lambda m: None, extra_member="notes.txt")
    with pytest.raises(sn.ModelFileError, match="notes.txt"):
        sn.load(path)


def test_a_new_metadata_field_is_covered_without_code_changes(fitted, tmp_path):
    """The digest is over the whole canonical document, so whatever is added to it later is
    covered: here a field written and then edited without re-signing."""
    from shallownet._modelfile import canonical_json, digest

    clf, _ = fitted
    path = sn.save(clf, tmp_path / "m.npz")
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(arrays.pop("meta").tobytes())
    assert meta["sha256"] == digest(meta, arrays)
    meta["encoder_policy"] = {"na_values": ["?"]}
    assert digest(meta, arrays) != meta["sha256"]
    # canonical form: key order and spacing do not matter
    shuffled = dict(reversed(list(meta.items())))
    assert canonical_json(shuffled) == canonical_json(meta)


def test_regressor_and_network_files_pass_the_field_checks(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(30, 2))
    reg = sn.ShallowNetRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, X @ [1.0, -2.0])
    back = sn.load(sn.save(reg, tmp_path / "r.npz"))
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    net = sn.Network.from_weights([rng.normal(size=(2, 3)), rng.normal(size=(3, 3))],
                                  [np.zeros(3), np.zeros(3)], classes=["c", "a", "b"])
    assert list(sn.load(sn.save(net, tmp_path / "n.npz")).classes) == ["c", "a", "b"]
