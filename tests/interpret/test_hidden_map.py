"""PCA map of a hidden layer against sklearn PCA on activations computed by hand."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

import shallownet as sn
from shallownet.interpret import hidden_map


def _net(rng, sizes, activation="logistic", members=1, output=None):
    Ws = [rng.normal(size=(members, a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(scale=0.3, size=(members, b)) for b in sizes[1:]]
    return sn.Network.from_weights(Ws, bs, activation=activation, output=output), Ws, bs


def _act(a, activation):
    return 1 / (1 + np.exp(-a)) if activation == "logistic" else np.tanh(a)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _same_up_to_sign(a, b, atol):
    for k in range(a.shape[1]):
        s = np.sign(a[:, k] @ b[:, k])
        np.testing.assert_allclose(a[:, k], s * b[:, k], atol=atol)


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_one_layer_coordinates_and_regions(activation):
    rng = np.random.default_rng(0)
    net, Ws, bs = _net(rng, (4, 5, 3), activation)
    x = rng.uniform(size=(60, 4))
    y = rng.integers(0, 3, 60)
    res = hidden_map(net, x, y, encoded=True, n_grid=12)
    h = _act(x @ Ws[0][0] + bs[0][0], activation)
    pca = PCA(2).fit(h)
    _same_up_to_sign(res.coordinates, pca.transform(h), 1e-8)
    np.testing.assert_allclose(res.explained_variance_ratio, pca.explained_variance_ratio_, atol=1e-10)
    _same_up_to_sign(res.loadings, pca.components_.T, 1e-8)
    # masked exactly where the reconstructed vector leaves the activation's range
    lo, hi = (0, 1) if activation == "logistic" else (-1, 1)
    tx, ty = np.meshgrid(res.grid_x, res.grid_y)
    H = res.mean + tx[..., None] * res.loadings[:, 0] + ty[..., None] * res.loadings[:, 1]
    inside = ((H >= lo) & (H <= hi)).all(axis=-1)
    assert np.array_equal(np.isfinite(res.region).all(axis=-1), inside)
    # regions: the forward pass of the reconstructed hidden vector, by hand
    js, is_ = np.nonzero(inside)
    assert len(js) > 10
    np.testing.assert_allclose(res.region[js, is_], _softmax(H[js, is_] @ Ws[1][0] + bs[1][0]), atol=1e-10)
    np.testing.assert_array_equal(res.predicted, _softmax(h @ Ws[1][0] + bs[1][0]).argmax(axis=1))
    np.testing.assert_array_equal(res.misclassified, res.predicted != y)
    assert set(res.points().columns) >= {"pc1", "pc2", "true", "predicted", "misclassified"}
    assert list(res.to_frame()["unit"]) == ["h1", "h2", "h3", "h4", "h5"]


def test_two_layers_first_layer_and_member():
    rng = np.random.default_rng(1)
    net, Ws, bs = _net(rng, (3, 4, 3, 1), "tanh", members=2)
    x = rng.uniform(size=(40, 3))
    res = hidden_map(net, x, layer=0, member=1, encoded=True, n_grid=6)
    h1 = np.tanh(x @ Ws[0][1] + bs[0][1])
    _same_up_to_sign(res.coordinates, PCA(2).fit_transform(h1), 1e-8)
    tx, ty = np.meshgrid(res.grid_x, res.grid_y)
    H = res.mean + tx[..., None] * res.loadings[:, 0] + ty[..., None] * res.loadings[:, 1]
    js, is_ = np.nonzero((np.abs(H) <= 1).all(axis=-1))
    assert len(js) > 3
    z = np.tanh(H[js, is_] @ Ws[1][1] + bs[1][1]) @ Ws[2][1] + bs[2][1]
    p = 1 / (1 + np.exp(-z[:, 0]))
    np.testing.assert_allclose(res.region[js, is_], np.stack([1 - p, p], axis=1), atol=1e-10)
    last = hidden_map(net, x, encoded=True, n_grid=6)
    assert last.layer == 1 and last.units[0] == "h2_1"


def test_regression_and_errors():
    rng = np.random.default_rng(2)
    net, Ws, bs = _net(rng, (3, 4, 1), "logistic", output="linear")
    x = rng.uniform(size=(30, 3))
    res = hidden_map(net, x, rng.normal(size=30), encoded=True, n_grid=5)
    h = 1 / (1 + np.exp(-(x @ Ws[0][0] + bs[0][0])))
    np.testing.assert_allclose(res.predicted, (h @ Ws[1][0] + bs[1][0])[:, 0], atol=1e-10)
    assert res.misclassified is None and "Explained variance" in res.summary()
    with pytest.raises(ValueError, match="layer"):
        hidden_map(net, x, layer=1, encoded=True)
    with pytest.raises(ValueError, match="method"):
        hidden_map(net, x, method="tsne", encoded=True)
    with pytest.raises(ValueError, match="member"):
        hidden_map(net, x, member=3, encoded=True)
    flat = sn.Network.from_weights([np.ones((3, 1))], [np.zeros(1)])
    with pytest.raises(ValueError, match="hidden layer"):
        hidden_map(flat, x, encoded=True)


def test_single_unit_layer_has_one_component_and_no_regions():
    rng = np.random.default_rng(3)
    net, Ws, bs = _net(rng, (3, 1, 2), "logistic")
    x = rng.uniform(size=(20, 3))
    res = hidden_map(net, x, encoded=True)
    h = 1 / (1 + np.exp(-(x @ Ws[0][0] + bs[0][0])))
    np.testing.assert_allclose(np.abs(res.coordinates[:, 0]), np.abs(h[:, 0] - h[:, 0].mean()), atol=1e-10)
    assert res.region.size == 0 and res.grid_x.size == 0
    np.testing.assert_allclose(res.explained_variance_ratio, [1.0])
