"""Mutual-information estimators against hand-worked cases, closed forms and NumPy peers."""

import numpy as np
import pytest
import jax.numpy as jnp
from scipy import integrate
from scipy.special import logsumexp
from scipy.stats import norm

from shallownet.datasets.twelve_bit import twelve_bit_labels, twelve_bit_patterns
from shallownet.information import KDE, KSG, Binning, MutualInformation, mutual_information
from shallownet.information.estimators import discrete_entropies, estimate_layer, pack_layout


def _h(p):
    p = np.asarray(p, float)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log2(p)).sum())


# -- the original algorithm, written out plainly in NumPy (the peer of our binning) -------------
def _entropy_of_rows(rows):
    _, counts = np.unique(rows, axis=0, return_counts=True)
    return _h(counts)


def original_binning(activity, inputs, labels, n_edges=30):
    """Digitise every value against float32 edges, look each index up as ``edges[i - 1]`` (so
    index 0 wraps to the last edge), then I(X;T) = H(T) - H(T|X) with a loop over every distinct
    input pattern, and I(T;Y) = H(T) - sum_y p(y) H(T|Y=y)."""
    edges = np.linspace(-1, 1, n_edges, dtype=np.float32)
    binned = edges[np.digitize(activity, edges) - 1]
    h_t = _entropy_of_rows(binned)
    _, which, counts = np.unique(inputs, axis=0, return_inverse=True, return_counts=True)
    which = which.reshape(-1)
    h_t_x = 0.0
    for i in range(len(counts)):
        h_t_x += counts[i] / len(inputs) * _entropy_of_rows(binned[which == i])
    h_t_y = sum(np.mean(labels == c) * _entropy_of_rows(binned[labels == c]) for c in np.unique(labels))
    return h_t - h_t_x, h_t - h_t_y


def _tanh_layers(seed, scale):
    """Activities of a random tanh 12-10-7-5-4-3 network on the 4096 patterns (float32)."""
    rng = np.random.default_rng(seed)
    h = twelve_bit_patterns().astype(np.float32)
    outs = []
    for n_in, n_out in zip((12, 10, 7, 5, 4), (10, 7, 5, 4, 3)):
        W = (scale * rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
        h = np.tanh(h @ W).astype(np.float32)
        outs.append(h)
    return outs


@pytest.mark.parametrize("scale", [1.0, 6.0])
def test_binning_matches_the_original_algorithm_to_1e_5_bits(scale):
    x = twelve_bit_patterns()
    y = twelve_bit_labels(x)
    for layer in _tanh_layers(0, scale)[1:4]:
        ref_xt, ref_ty = original_binning(layer, x, y)
        ours = mutual_information(layer, y)
        assert ours.I_XT == pytest.approx(ref_xt, abs=1e-5)
        assert ours.I_TY == pytest.approx(ref_ty, abs=1e-5)


def test_binning_edge_semantics_match_the_original_digitize_rule():
    # Exact edges, values on both sides of the range, and the wrap-around of index 0: values
    # below -1 share the symbol of values >= 1.
    rng = np.random.default_rng(1)
    edges = np.linspace(-1, 1, 30, dtype=np.float32)
    values = np.concatenate([edges, np.nextafter(edges, np.float32(-2)), [-5.0, -1.5, 1.5, 7.0]])
    T = rng.choice(values, size=(600, 3)).astype(np.float32)
    y = rng.integers(0, 3, 600)
    ref_xt, ref_ty = original_binning(T, np.arange(600)[:, None], y)
    ours = mutual_information(T, y)
    assert ours.I_XT == pytest.approx(ref_xt, abs=1e-5) and ours.I_TY == pytest.approx(ref_ty, abs=1e-5)
    codes = np.asarray(Binning().codes(jnp.asarray([[-3.0], [1.0], [2.0], [-1.0]], jnp.float32)))
    assert codes.ravel().tolist() == [30, 30, 30, 1]


def test_binning_hand_worked_case():
    # Edges -1 + 2k/29. Symbols: -1.0, -0.99 -> 1; 0.0 -> 15; 0.5 (twice) -> 22;
    # 1.0, 2.0 and -3.0 (wrap) -> 30. Counts 2, 1, 2, 3 of 8:
    # H(T) = 2 * 2/8 * 2 + 1/8 * 3 + 3/8 * log2(8/3) = 1.9056 bits.
    T = np.array([[-1.0], [-0.99], [0.0], [0.5], [1.0], [2.0], [-3.0], [0.5]], np.float32)
    h_t = 1.0 + 3 / 8 + 3 / 8 * np.log2(8 / 3)
    # y determined by T: I(T;Y) = H(Y) = h(1/4).
    r = mutual_information(T, [0, 0, 1, 1, 1, 1, 1, 1])
    assert r.I_XT == pytest.approx(h_t, abs=1e-6)
    assert r.I_TY == pytest.approx(_h([2, 6]), abs=1e-6)
    # y alternating: pairs (1,0) (1,1) (15,0) (22,1)x2 (30,0)x2 (30,1): H(T,Y) = 2.5 bits, H(Y) = 1.
    r = mutual_information(T, [0, 1, 0, 1, 0, 1, 0, 1])
    assert r.I_TY == pytest.approx(h_t + 1.0 - 2.5, abs=1e-6)


def test_fixed_width_and_adaptive_rules_hand_worked():
    # floor(t / 0.5): 0, 0, 1, -1, 2 -> counts 2, 1, 1, 1.
    T = np.array([[0.1], [0.49], [0.5], [-0.01], [1.2]])
    assert mutual_information(T, [0, 1, 0, 1, 0], estimator=Binning("fixed", width=0.5)).I_XT == pytest.approx(
        _h([2, 1, 1, 1]), abs=1e-9)
    # 4 equal-mass bins of 8 values: floor(4 * #{t_j < t} / 8) = 3, 1, 2, 2, 1, 3, 0, 0 -> 2 bits.
    col = np.array([5.0, 1, 3, 3, 2, 4, 0, 0])
    codes = Binning("adaptive", n_bins=4).codes(jnp.asarray(col[:, None]))
    assert np.asarray(codes).ravel().tolist() == [3, 1, 2, 2, 1, 3, 0, 0]
    adaptive = mutual_information(col[:, None], [0] * 4 + [1] * 4, estimator=Binning("adaptive", n_bins=4))
    assert adaptive.I_XT == pytest.approx(2.0)


def test_fixed_width_matches_plain_numpy_floor_binning():
    rng = np.random.default_rng(2)
    T = np.maximum(rng.normal(size=(1000, 4)) * 3, 0)
    y = rng.integers(0, 2, 1000)
    digitised = np.floor(T / 0.07).astype(int)
    h_t = _entropy_of_rows(digitised)
    h_t_y = sum(np.mean(y == c) * _entropy_of_rows(digitised[y == c]) for c in (0, 1))
    r = mutual_information(T, y, estimator=Binning("fixed", width=0.07))
    assert r.I_XT == pytest.approx(h_t, abs=1e-9) and r.I_TY == pytest.approx(h_t - h_t_y, abs=1e-9)


@pytest.mark.parametrize("d, n_classes", [(1, 2), (5, 3), (6, 2), (7, 7), (13, 2)])
def test_packed_rows_give_the_same_entropies_as_the_multi_key_sort(d, n_classes):
    rng = np.random.default_rng(d)
    codes = jnp.asarray(rng.integers(0, 4, (500, d)), jnp.int32)  # few values: many shared rows
    y = jnp.asarray(rng.integers(0, n_classes, 500), jnp.int32)
    packed = discrete_entropies(codes, y, n_classes, 5, jnp.float64)
    plain = discrete_entropies(codes, y, n_classes, None, jnp.float64)
    np.testing.assert_allclose(np.array(packed), np.array(plain), atol=1e-12)


def test_pack_layout():
    words = pack_layout(10, 5, 1)  # label in bits 0, units 0-5 above it; units 6-9 in the next word
    assert words[-1] == [(-1, 0)] + [(j, 1 + 5 * j) for j in range(6)]
    assert words[0] == [(6, 0), (7, 5), (8, 10), (9, 15)]
    assert pack_layout(1, 31, 2) is None


def test_binning_invariants_of_a_deterministic_layer():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 256)
    # Distinct rows: I(X;T) = log2 N and I(T;Y) = H(Y).
    ident = mutual_information(np.linspace(-0.999, 0.999, 256)[:, None] * np.ones((1, 2)), y,
                               estimator=Binning("fixed", width=1e-4))
    assert ident.I_XT == pytest.approx(8.0) and ident.I_TY == pytest.approx(_h(np.bincount(y)))
    # A constant layer carries nothing.
    const = mutual_information(np.full((256, 3), 0.3), y)
    assert const.I_XT == pytest.approx(0.0, abs=1e-12) and const.I_TY == pytest.approx(0.0, abs=1e-12)
    # Any layer: 0 <= I(T;Y) <= min(H(Y), I(X;T)) and I(X;T) = H(T) <= log2 N.
    for layer in _tanh_layers(4, 3.0)[2:]:
        r = mutual_information(layer, twelve_bit_labels())
        assert r.I_XT <= 12 + 1e-9
        assert r.I_XT == pytest.approx(_entropy_of_rows(np.asarray(Binning().codes(jnp.asarray(layer)))), abs=1e-5)
        assert -1e-6 <= r.I_TY <= min(r.H_Y, r.I_XT) + 1e-6


def test_minimal_model_peaks_near_4_83_bits_at_w_1():
    # h = tanh(w x), x ~ N(0, 1), the original 30 edges on [-1, 1]. Population entropy of the
    # binned value: the bin probabilities are Phi(artanh(e_k) / w) differences.
    x = np.random.default_rng(5).standard_normal(40_000)
    edges = np.linspace(-1, 1, 30)

    def closed_form(w):
        cdf = np.concatenate([[0.0], norm.cdf(np.arctanh(edges[1:-1]) / w), [1.0]])
        return _h(np.diff(cdf))

    ws = np.array([0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0, 5.0, 20.0, 1000.0])
    est = np.array([mutual_information(np.tanh(w * x)[:, None], x > 0).I_XT for w in ws])
    # (For large w the floating-point tanh returns exactly +-1 for many x, a symbol of its own
    # that the real-valued closed form lacks, so the comparison stops at w = 5.)
    np.testing.assert_allclose(est[:8], [closed_form(w) for w in ws[:8]], atol=0.01)
    assert est[3] == pytest.approx(4.83, abs=0.01)
    assert 4.80 <= est.max() <= 4.87 and 0.7 <= ws[est.argmax()] <= 1.2
    assert np.all(np.diff(est[2:]) < 0) and 1.0 < est[-1] < 1.1
    # relu with width-0.07 bins over an unbounded range keeps rising with w.
    relu = [mutual_information(np.maximum(w * x, 0)[:, None], x > 0, estimator=Binning("fixed", width=0.07)).I_XT
            for w in ws[:-1]]
    assert np.all(np.diff(relu) > 0)


# -- KDE ----------------------------------------------------------------------------------------
def kde_numpy(T, y, s2):
    """The KDE bounds of Kolchinsky & Tracey written out with scipy's logsumexp (nats)."""
    D = ((T[:, None, :] - T[None, :, :]) ** 2).sum(-1)
    n = len(T)
    out = []
    for scale in (2, 8):
        a = -D / (scale * s2)
        i_xt = np.log(n) - logsumexp(a, axis=1).mean()
        h_cond = sum(np.mean(y == c) * (np.log((y == c).sum()) - logsumexp(a[np.ix_(y == c, y == c)], axis=1).mean())
                     for c in np.unique(y))
        out += [i_xt, i_xt - h_cond]
    return np.array(out) / np.log(2)  # upper XT, upper TY, lower XT, lower TY


@pytest.mark.parametrize("s2, block", [(0.1, 256), (1e-3, 7)])
def test_kde_matches_numpy_formula(s2, block):
    rng = np.random.default_rng(6)
    T = np.tanh(rng.normal(size=(300, 4)))
    y = rng.integers(0, 3, 300)
    r = mutual_information(T, y, estimator=KDE(noise_variance=s2, block_size=block))
    np.testing.assert_allclose([r.I_XT, r.I_TY, r.I_XT_lower, r.I_TY_lower], kde_numpy(T, y, s2), atol=1e-8)


def test_kde_two_points_closed_form():
    # Two patterns at distance a, one per class: I_XT = log 2 - log(1 + exp(-a^2 / (2 s2))), and
    # each class holds one point, so I_TY = I_XT.
    a, s2 = 0.3, 0.05
    r = mutual_information(np.array([[0.0], [a]]), [0, 1], estimator=KDE(noise_variance=s2))
    upper = (np.log(2) - np.log1p(np.exp(-(a**2) / (2 * s2)))) / np.log(2)
    lower = (np.log(2) - np.log1p(np.exp(-(a**2) / (8 * s2)))) / np.log(2)
    assert r.I_XT == pytest.approx(upper) and r.I_TY == pytest.approx(upper)
    assert r.I_XT_lower == pytest.approx(lower) and r.I_TY_lower == pytest.approx(lower)


def test_kde_gaussian_limits_and_invariants():
    # Centres h ~ N(0, 1), noise s2: as N grows the bounds tend to
    #   upper = 1/2 log(1 + 1/s2) + 1/(2 (1 + s2)),  lower = the same with 4 s2 for s2,
    # and the true I(h; h + noise) = 1/2 log(1 + 1/s2) lies between them.
    s2 = 0.1
    h = np.random.default_rng(7).standard_normal(3000)[:, None]
    y = (h[:, 0] > 0.3).astype(int)
    r = mutual_information(h, y, estimator=KDE(noise_variance=s2))
    upper = (0.5 * np.log(1 + 1 / s2) + 0.5 / (1 + s2)) / np.log(2)
    lower = (0.5 * np.log(1 + 1 / (4 * s2)) + 0.5 / (1 + 4 * s2)) / np.log(2)
    assert r.I_XT == pytest.approx(upper, abs=0.05) and r.I_XT_lower == pytest.approx(lower, abs=0.05)
    assert r.I_XT_lower < 0.5 * np.log2(1 + 1 / s2) < r.I_XT
    assert r.I_XT <= np.log2(3000) and r.I_TY <= r.H_Y + 1e-9 and r.I_TY_lower <= r.I_TY + 1e-9
    # Tiny noise on distinct points: every pattern is recoverable.
    grid = np.linspace(-3, 3, 3000)[:, None]  # spacing 0.002, squared 4e-6 >> s2
    tiny = mutual_information(grid, y, estimator=KDE(noise_variance=1e-8))
    assert tiny.I_XT == pytest.approx(np.log2(3000), abs=1e-9) and tiny.I_TY == pytest.approx(r.H_Y, abs=1e-9)


# -- kNN ----------------------------------------------------------------------------------------
def _gaussian_pair(n, rho, seed):
    z = np.random.default_rng(seed).standard_normal((n, 2))
    return z[:, :1], rho * z[:, :1] + np.sqrt(1 - rho**2) * z[:, 1:]


def test_ksg_recovers_the_gaussian_mutual_information():
    rho = 0.6
    x1, x2 = _gaussian_pair(2000, rho, 8)
    r = mutual_information(x2, x1[:, 0] > 0, estimator=KSG(k=3, noise_variance=0.0), X=x1)
    assert r.I_XT == pytest.approx(-0.5 * np.log2(1 - rho**2), abs=0.04)
    # I(x2; 1[x1 > 0]) = H(Y) - E h(P(Y = 1 | x2)), P(Y = 1 | x2) = Phi(rho x2 / sqrt(1 - rho^2)).
    def integrand(v):
        p = norm.cdf(rho * v / np.sqrt(1 - rho**2))
        return norm.pdf(v) * (-(p * np.log2(p) + (1 - p) * np.log2(1 - p)) if 0 < p < 1 else 0.0)
    truth = 1.0 - integrate.quad(integrand, -10, 10)[0]
    assert r.I_TY == pytest.approx(truth, abs=0.04)


def test_knn_estimators_equal_scikit_learn_on_one_dimension():
    mi = pytest.importorskip("sklearn.feature_selection._mutual_info")
    x1, x2 = _gaussian_pair(500, 0.5, 9)
    y = (x1[:, 0] + 0.5 * np.random.default_rng(10).standard_normal(500) > 0).astype(int)
    r = mutual_information(x2, y, estimator=KSG(k=4, noise_variance=0.0, block_size=37), X=x1)
    assert r.I_XT * np.log(2) == pytest.approx(mi._compute_mi_cc(x1[:, 0], x2[:, 0], 4), abs=1e-9)
    assert r.I_TY * np.log(2) == pytest.approx(mi._compute_mi_cd(x2[:, 0], y, 4), abs=1e-9)


# -- the public entry point ---------------------------------------------------------------------
def test_result_object_and_no_recompilation():
    rng = np.random.default_rng(11)
    T, y = np.tanh(rng.normal(size=(200, 3))).astype(np.float32), rng.integers(0, 2, 200)
    first = mutual_information(T, y)
    mutual_information(T, y, estimator=KDE(noise_variance=0.1))
    size = estimate_layer._cache_size()
    again = mutual_information(T * 0.5, 1 - y)
    mutual_information(T, y, estimator=KDE(noise_variance=1e-3))  # s2 is traced, not static
    assert estimate_layer._cache_size() == size
    assert isinstance(first, MutualInformation) and first.to_frame().shape == (1, 5)
    assert "binning" in first.summary() and again.n_samples == 200
    assert set(mutual_information(T, y, estimator="kde").to_frame().columns) >= {"I_XT_lower", "I_TY_lower"}


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(T=np.ones(5), y=[0, 1, 0, 1, 0]), ValueError, "must be 2-D"),
        (dict(T=np.ones((5, 1)), y=[0, 1]), ValueError, "`y` has 2 labels"),
        (dict(T=np.ones((5, 1)), y=[0, 1, 0, 1, 0], estimator="mine"), ValueError, "`estimator` must be"),
        (dict(T=np.ones((5, 1)), y=[0, 1, 0, 1, 0], estimator="ksg"), ValueError, "needs the inputs"),
        (dict(T=np.ones((5, 1)), y=[0, 1, 0, 1, 0], estimator="ksg", X=np.eye(5)), ValueError, "continuous inputs"),
        (dict(T=np.ones((5, 1)), y=[0, 1, 0, 1, 0], estimator="ksg", X=np.arange(5.0)[:, None] / 7), ValueError,
         "more than k rows"),
        (dict(T=np.full((5, 1), np.nan), y=[0, 1, 0, 1, 0]), ValueError, "NaN"),
    ],
)
def test_bad_input_is_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        mutual_information(**kwargs)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Binning(rule="equal"), "`rule` must be one of"),
        (lambda: Binning(n_bins=1), "`n_bins` must be >= 2"),
        (lambda: Binning(width=0.0), "`width` must be > 0"),
        (lambda: Binning(low=1.0, high=-1.0), "`high` must be > `low`"),
        (lambda: KDE(noise_variance=0.0), "`noise_variance` must be > 0"),
        (lambda: KSG(k=0), "`k` must be >= 1"),
    ],
)
def test_bad_estimator_settings_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()
