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
    with pytest.raises(sn.ModelFileError, match="does not match its checksum"):
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
