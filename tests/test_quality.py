"""fasttsne.quality: every measure against a brute-force reference (ties and duplicates
included), sklearn's trustworthiness, sampled estimates against exact values, the report and
``fasttsne score``."""
import importlib.util
import os
import re

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

import fasttsne
from fasttsne import cli, quality
from fasttsne._params import InvalidParameterError

from conftest import load_shared, pca_reduce


# ------------------------------------------------------------------ brute-force references
def ordered_others(Z):
    """Row i: every other point, nearest first; equal distances in index order."""
    Z = np.asarray(Z, dtype=np.float64)
    sq = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
    n = len(Z)
    rows = []
    for i in range(n):
        others = np.delete(np.arange(n), i)
        rows.append(others[np.lexsort((others, sq[i, others]))])
    return np.array(rows)


def ref_neighbours(Z, k):
    return ordered_others(Z)[:, :k]


def ref_ranks(Z):
    order = ordered_others(Z)
    ranks = np.zeros((len(Z), len(Z)), dtype=int)
    for i, row in enumerate(order):
        ranks[i, row] = np.arange(1, len(Z))
    return ranks


def ref_preservation(X, Y, k):
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(ref_neighbours(X, k), ref_neighbours(Y, k))])


def ref_trustworthiness(X, Y, k):
    n = len(X)
    nx, ny, rx = ref_neighbours(X, k), ref_neighbours(Y, k), ref_ranks(X)
    penalty = sum(rx[i, j] - k for i in range(n) for j in ny[i] if j not in set(nx[i]))
    return 1 - 2 / (n * k * (2 * n - 3 * k - 1)) * penalty


def ref_accuracy(Y, labels, k):
    votes = labels[ref_neighbours(Y, k)]
    return np.mean([np.bincount(v).argmax() == label for v, label in zip(votes, labels)])


def ref_knc(X, Y, labels, k):
    classes = np.unique(labels)
    mx = np.array([X[labels == c].mean(0) for c in classes])
    my = np.array([Y[labels == c].mean(0) for c in classes])
    return ref_preservation(mx, my, k)


@pytest.fixture(scope="module")
def tied():
    """Integer data full of equal distances, with duplicated rows, and an integer map."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, size=(120, 6)).astype(np.float64)
    X[60:80] = X[0]
    Y = rng.integers(0, 4, size=(120, 2)).astype(np.float64)
    Y[90:100] = Y[5]
    labels = rng.integers(0, 6, size=120)
    return X, Y, labels


@pytest.fixture(scope="module")
def smooth():
    """Real-valued data with no ties and a noisy linear map of it."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 12))
    Y = X[:, :2] + 0.5 * rng.normal(size=(200, 2))
    return X, Y


# ----------------------------------------------------------------------- each measure
@pytest.mark.parametrize("k", [1, 5, 10])
@pytest.mark.parametrize("data", ["smooth", "tied"])
def test_knn_preservation_equals_brute_force_ties_broken_by_index(request, data, k):
    X, Y = request.getfixturevalue(data)[:2]
    assert quality.knn_preservation(X, Y, k) == pytest.approx(ref_preservation(X, Y, k), abs=1e-12)


def test_knn_preservation_of_a_wide_map_breaks_ties_by_index(tied):
    # the map has more than 3 dimensions, so its neighbours come from the GEMM search too
    X, Y, _ = tied
    assert quality.knn_preservation(Y, X, 7) == pytest.approx(ref_preservation(Y, X, 7), abs=1e-12)


def test_knn_preservation_over_several_search_tiles_equals_brute_force_with_duplicates():
    # more points than the fused search's tiles and query blocks, with ties and duplicated rows
    rng = np.random.default_rng(5)
    X = rng.integers(0, 3, size=(1100, 5)).astype(np.float64)
    X[500:560] = X[7]
    Y = X[:, :2] + rng.integers(0, 2, size=(1100, 2))
    assert quality.knn_preservation(X, Y, 6, n_jobs=2) == pytest.approx(ref_preservation(X, Y, 6), abs=1e-12)


def test_knn_preservation_is_one_for_a_map_that_is_the_data(smooth):
    X, _ = smooth
    assert quality.knn_preservation(X[:, :3], X[:, :3], 10) == 1.0


@pytest.mark.parametrize("k", [1, 5, 10])
def test_trustworthiness_and_continuity_equal_brute_force_with_ties_and_duplicates(tied, k):
    X, Y, _ = tied
    assert quality.trustworthiness(X, Y, k) == pytest.approx(ref_trustworthiness(X, Y, k), abs=1e-12)
    # continuity is trustworthiness with the two spaces exchanged
    assert quality.continuity(X, Y, k) == pytest.approx(ref_trustworthiness(Y, X, k), abs=1e-12)


def test_trustworthiness_and_continuity_agree_with_sklearn_to_1e6(digits):
    # sklearn orders exactly equal distances as its unstable argsort happens to, so the digits'
    # integer pixels are jittered far below their spacing to leave no exact ties
    sklearn_manifold = pytest.importorskip("sklearn.manifold")
    X = digits[0][:1000]
    rng = np.random.default_rng(0)
    X = X + rng.uniform(-1e-3, 1e-3, size=X.shape)
    Y = pca_reduce(X, 2) + rng.normal(scale=2.0, size=(len(X), 2))
    for k in (5, 30):
        assert abs(quality.trustworthiness(X, Y, k) - sklearn_manifold.trustworthiness(X, Y, n_neighbors=k)) < 1e-6
        assert abs(quality.continuity(X, Y, k) - sklearn_manifold.trustworthiness(Y, X, n_neighbors=k)) < 1e-6


def test_knn_accuracy_equals_a_majority_vote_with_ties_to_the_smaller_label(tied):
    _, Y, labels = tied
    for k in (1, 4, 10):
        assert quality.knn_accuracy(Y, labels, k) == pytest.approx(ref_accuracy(Y, labels, k), abs=1e-12)


def test_knn_accuracy_takes_string_labels_as_their_sorted_codes(tied):
    _, Y, labels = tied
    names = np.array(["a", "b", "c", "d", "e", "f"])[labels]
    assert quality.knn_accuracy(Y, names, 4) == quality.knn_accuracy(Y, labels, 4)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_knc_equals_brute_force_on_class_means(smooth, k):
    X, Y = smooth
    labels = np.random.default_rng(5).integers(0, 7, size=len(X))
    assert quality.knc(X, Y, labels, k) == pytest.approx(ref_knc(X, Y, labels, k), abs=1e-12)


@pytest.mark.parametrize("values", [[3.0, 1.0, 2.0], [1.0, 1.0, 1.0], [5.0], [2.0, 0.0, 2.0, 1.0, 0.0, 2.0]],
                         ids=["distinct", "all-tied", "one", "groups"])
def test_average_ranks_are_scipy_rankdata(values):
    np.testing.assert_array_equal(quality.measures._average_ranks(np.array(values)), rankdata(values))


def test_cpd_with_every_pair_is_spearmans_rho_of_all_distances(tied):
    from scipy.spatial.distance import pdist
    X, Y, _ = tied
    expected = spearmanr(pdist(X), pdist(Y)).correlation
    assert quality.cpd(X, Y, n_pairs=len(X) ** 2) == pytest.approx(expected, abs=1e-12)


# ------------------------------------------------------------------ sampled estimates
@pytest.fixture(scope="module")
def mnist_map():
    """All 10,000 MNIST test digits (50 principal components), their map and labels.

    The map is cached in tests/data/mnist_test_map.npy (float32), made by
    ``fasttsne.TSNE(random_state=0, n_jobs=2).fit(pca_reduce(X, 50))`` on these digits.
    """
    X, y = load_shared("mnist_test")
    Y = np.load(os.path.join(os.path.dirname(__file__), "data", "mnist_test_map.npy")).astype(np.float64)
    return principal_components(X, 50), Y, y


def principal_components(X, n):
    """X projected on its n leading principal axes (float32; the same distances as
    conftest.pca_reduce up to rounding, from the covariance matrix, which is faster)."""
    Xc = X.astype(np.float32)
    Xc -= Xc.mean(axis=0)
    _, vectors = np.linalg.eigh((Xc.T @ Xc).astype(np.float64))
    return Xc @ vectors[:, ::-1][:, :n].astype(np.float32)


def test_sampled_estimates_lie_within_three_standard_errors_of_the_exact_values(mnist_map):
    X, Y, y = mnist_map
    exact = quality.report(X, Y, y, cpd_pairs=1000, n_jobs=2)
    sampled = quality.report(X, Y, y, sample_size=1500, rank_sample_size=400, cpd_pairs=1000,
                             random_state=1, n_jobs=2)
    assert (exact.sample_size, exact.rank_sample_size) == (10_000, 10_000)
    assert (sampled.sample_size, sampled.rank_sample_size) == (1500, 400)
    for measure in ("knn_preservation", "knn_accuracy", "trustworthiness", "continuity"):
        se = getattr(sampled, measure + "_se")
        assert getattr(exact, measure + "_se") == 0
        assert 0 < se < 0.02
        assert abs(getattr(sampled, measure) - getattr(exact, measure)) <= 3 * se, measure


def test_sampled_cpd_lies_within_three_standard_errors_of_all_pairs(mnist_map):
    X, Y, _ = mnist_map
    X, Y = X[:1500], Y[:1500]
    exact, exact_se, n_all = quality.measures.cpd_estimate(X, Y, 1500 * 1499 // 2, None, 2)
    rho, se, n = quality.measures.cpd_estimate(X, Y, 20_000, np.random.default_rng(0), 2)
    assert (exact_se, n_all, n) == (0.0, 1500 * 1499 // 2, 20_000)
    assert abs(rho - exact) <= 3 * se


def test_report_agrees_with_tsnebench_on_the_same_map(mnist_map, tmp_path, monkeypatch):
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "bench",
                        "tsnebench.py")
    if not os.path.exists(path):
        pytest.skip("../shared/bench/tsnebench.py not found")
    monkeypatch.setenv("TSNEBENCH_CACHE", str(tmp_path))  # its neighbour cache goes there
    spec = importlib.util.spec_from_file_location("tsnebench_for_test", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    X, Y, y = mnist_map
    report = quality.report(X, Y, y, rank_sample_size=100, cpd_pairs=1000, n_jobs=2)
    assert abs(report.knn_preservation - bench.knn_preservation(X, Y)) <= 0.002
    assert abs(report.knn_accuracy - bench.knn_accuracy(Y, y)) <= 0.002


def test_the_same_seed_gives_the_same_sampled_report(smooth):
    X, Y = smooth
    a = quality.report(X, Y, sample_size=50, rank_sample_size=30, cpd_pairs=500, random_state=7)
    b = quality.report(X, Y, sample_size=50, rank_sample_size=30, cpd_pairs=500, random_state=7)
    assert a.to_dict() == b.to_dict()


# ------------------------------------------------------------------------- the report
def test_report_holds_each_measure_as_its_function_computes_it(tied):
    X, Y, labels = tied
    r = quality.report(X, Y, labels, k=5)
    assert r.knn_preservation == quality.knn_preservation(X, Y, 5)
    assert r.trustworthiness == quality.trustworthiness(X, Y, 5)
    assert r.continuity == quality.continuity(X, Y, 5)
    assert r.knn_accuracy == quality.knn_accuracy(Y, labels, 5)
    assert r.knc == quality.knc(X, Y, labels, 4)
    assert r.cpd == quality.cpd(X, Y)
    assert (r.n_samples, r.k, r.sample_size, r.kl_divergence) == (120, 5, 120, None)


def test_report_str_is_a_table_of_the_measures(tied):
    X, Y, labels = tied
    text = str(quality.report(X, Y, labels))
    assert text.splitlines()[0] == "fasttsne quality report: 120 points, k = 10"
    for label in ("kNN preservation", "kNN accuracy", "trustworthiness", "continuity", "KNC", "CPD"):
        assert re.search(rf"^{label} +[-0-9.]+ +exact ", text, re.M), label
    assert "KL divergence" not in text  # a plain array has no P


def test_report_without_labels_leaves_out_accuracy_and_knc(smooth):
    X, Y = smooth
    r = quality.report(X, Y)
    assert r.knn_accuracy is None and r.knc is None
    assert "KNC" not in str(r) and "accuracy" not in str(r)


def test_report_to_dict_and_to_pandas_give_one_row_of_the_fields(tied):
    pd = pytest.importorskip("pandas")
    X, Y, labels = tied
    r = quality.report(X, Y, labels)
    d = r.to_dict()
    assert d["knn_preservation"] == r.knn_preservation and d["k"] == 10
    frame = r.to_pandas()
    assert isinstance(frame, pd.DataFrame) and frame.shape == (1, len(d))
    assert list(frame.columns) == list(d)


def test_embedding_quality_reports_the_embeddings_own_kl(digits):
    X, y = digits
    emb = fasttsne.TSNE(n_iter=30, early_exaggeration_iter=20, random_state=0).fit(X[:300])
    r = emb.quality(X[:300], y[:300])
    assert r.kl_divergence == emb.kl_divergence
    assert r.knn_preservation == quality.knn_preservation(X[:300], np.asarray(emb))
    assert "KL divergence" in str(r)


def test_the_inputs_are_not_modified(tied):
    X, Y, labels = tied
    X32, Yc, lc = X.astype(np.float32), Y.copy(), labels.copy()
    before = X32.copy()
    quality.report(X32, Yc, lc)
    np.testing.assert_array_equal(X32, before)
    np.testing.assert_array_equal(Yc, Y)
    np.testing.assert_array_equal(lc, labels)


# ---------------------------------------------------------------------------- errors
def test_data_and_map_of_different_lengths_are_refused(smooth):
    X, Y = smooth
    with pytest.raises(InvalidParameterError, match="200 rows but the map Y has 199"):
        quality.report(X, Y[:-1])


@pytest.mark.parametrize("params, message", [
    ({"k": 0}, "k must be a positive integer"), ({"k": 2.5}, "k must be a positive integer"),
    ({"k": True}, "k must be a positive integer"), ({"k": 100}, "less than half the number of points"),
    ({"labels": np.zeros(10)}, r"one label per point \(200,\)"),
    ({"sample_size": 0}, "sample sizes"), ({"sample_size": -5}, "sample sizes"),
    ({"rank_sample_size": "all"}, "sample sizes"), ({"sample_size": 1.5}, "sample sizes"),
    ({"cpd_pairs": 2}, "n_pairs must be an integer >= 3"),
])
def test_bad_parameter_values_are_refused(smooth, params, message):
    X, Y = smooth
    with pytest.raises(InvalidParameterError, match=message):
        quality.report(X, Y, **params)


def test_sparse_data_is_refused_with_a_way_out(smooth):
    import scipy.sparse as sp
    X, Y = smooth
    with pytest.raises(TypeError, match="toarray"):
        quality.report(sp.csr_matrix(X), Y)


def test_non_finite_data_is_refused(smooth):
    X, Y = smooth
    Y = Y.copy()
    Y[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        quality.report(X, Y)


# ------------------------------------------------------------------ fasttsne score
@pytest.fixture(scope="module")
def saved_map(tmp_path_factory, digits):
    X, y = digits
    d = tmp_path_factory.mktemp("score")
    emb = fasttsne.TSNE(n_iter=30, early_exaggeration_iter=20, random_state=0).fit(X[:300])
    emb.save(d / "digits.map")
    np.save(d / "X.npy", X[:300])
    np.save(d / "y.npy", y[:300])
    np.save(d / "short.npy", X[:200])
    np.save(d / "narrow.npy", X[:300, :10])
    return d, emb, X[:300], y[:300]


def score(argv, capsys):
    rc = cli.main(["score"] + [str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_score_prints_the_report_of_the_saved_map(saved_map, capsys):
    d, emb, X, y = saved_map
    rc, out, err = score([d / "digits.map", d / "X.npy", "--labels", d / "y.npy", "-q"], capsys)
    assert rc == 0 and err == ""
    assert out.strip() == str(emb.quality(X, y))


def test_score_passes_k_through(saved_map, capsys):
    d, emb, X, _ = saved_map
    rc, out, _ = score([d / "digits.map", d / "X.npy", "-k", "5", "-q"], capsys)
    assert rc == 0 and out.strip() == str(emb.quality(X, k=5))


@pytest.mark.parametrize("args, message", [
    (["X.npy", "X.npy"], "not a fasttsne embedding file"),
    (["missing.map", "X.npy"], "does not exist"),
    (["digits.map", "short.npy"], "has 200 rows but the map .* places 300 points"),
    (["digits.map", "narrow.npy"], "has 10 features but the map .* with 64"),
    (["digits.map", "X.npy", "-k", "200"], "k=200 is too large"),
])
def test_score_of_a_bad_map_or_mismatched_data_is_a_one_line_error(saved_map, capsys, args, message):
    d = saved_map[0]
    rc, out, err = score([d / args[0], d / args[1], *args[2:], "-q"], capsys)
    assert rc == cli.EXIT_USAGE and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fasttsne: error: ") and "Traceback" not in err
    assert re.search(message, lines[0]), lines[0]
