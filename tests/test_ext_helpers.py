"""The shared Cython helpers of ext/*.pxd, through the kernels that use them.

``_distances.pxd`` (lane sums with a tail), ``_heap.pxd`` (bounded max-heap, build, sort, also
through the fused GEMM selection of ``_topk``): each is checked against a numpy reference on
sizes that exercise the lane tails and ties.
``_lagrange.pxd``'s ``read_axes``: the FFT kernels refuse a grid description too short for
their axes before reading it (they index without bounds checks).
"""
import numpy as np
import pytest

from fasttsne._ext import _fft, _fft3d, _knn, _nndescent, _topk

# widths around the 8 float64 / 16 float32 lanes, and an MNIST row
WIDTHS = [1, 3, 7, 8, 9, 15, 16, 17, 50, 784]


def reference_squared(Q, R, cand):
    diff = Q.astype(np.float64)[:, None, :] - R.astype(np.float64)[cand]
    return (diff * diff).sum(-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", WIDTHS)
def test_squared_distances_match_float64_differences(d, dtype):
    rng = np.random.default_rng(d)
    R = rng.standard_normal((40, d)).astype(dtype)
    Q = rng.standard_normal((12, d)).astype(dtype)
    cand = rng.integers(0, 40, size=(12, 9))
    out = np.empty(cand.shape)
    _knn.squared_distances(Q, R, cand, out, 2)
    np.testing.assert_allclose(out, reference_squared(Q, R, cand), rtol=1e-13)


@pytest.mark.parametrize("d", [9, 784])
def test_squared_distance_of_a_duplicate_row_is_exactly_zero(d):
    rng = np.random.default_rng(0)
    R = (rng.standard_normal((5, d)) * 1e3 + 1e6).astype(np.float32)
    cand = np.arange(5, dtype=np.int64)[:, None]
    out = np.empty((5, 1))
    _knn.squared_distances(R, R, cand, out, 1)
    assert np.all(out == 0.0)


@pytest.mark.parametrize("k", [1, 2, 5, 16])
def test_smallest_k_keeps_what_a_stable_sort_keeps_ties_by_index(k):
    rng = np.random.default_rng(k)
    keys = rng.integers(0, 6, size=(30, 40)).astype(np.float32)  # many ties
    out = np.empty((30, k), dtype=np.int64)
    _knn.smallest_k(keys, -1, out, 2)
    expected = np.argsort(keys, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(np.sort(out, axis=1), np.sort(expected, axis=1))


def test_smallest_k_never_selects_the_excluded_diagonal():
    rng = np.random.default_rng(1)
    keys = rng.random((20, 20))
    np.fill_diagonal(keys, -1.0)  # the point itself would always win
    out = np.empty((20, 4), dtype=np.int64)
    _knn.smallest_k(keys, 0, out, 1)
    assert not np.any(out == np.arange(20)[:, None])
    masked = keys.copy()
    np.fill_diagonal(masked, np.inf)
    expected = np.argsort(masked, axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(np.sort(out, axis=1), np.sort(expected, axis=1))


def points_with_norms(n, d, seed):
    """Small-integer points with their squared norms as a last column: every key is exact in
    float32, so equal distances give equal keys (ties)."""
    R = np.random.default_rng(seed).integers(0, 3, size=(n, d + 1)).astype(np.float32)
    R[n // 2:n // 2 + 40] = R[0]  # duplicates of point 0, across a query block's edge
    R[:, d] = (R[:, :d].astype(np.float64) ** 2).sum(1)
    return R


def stable_smallest(R, rows, c):
    """The c smallest keys of each query (j != rows[i]) as a stable sort keeps them: ties by index."""
    Q = np.hstack([-2.0 * R[rows, :-1].astype(np.float64), np.ones((len(rows), 1))])
    keys = Q @ R.astype(np.float64).T
    keys[np.arange(len(rows)), rows] = np.inf
    return np.argsort(keys, axis=1, kind="stable")[:, :c]


@pytest.mark.parametrize("n_jobs", [1, 3])
@pytest.mark.parametrize("c", [1, 7, 26])
def test_fused_smallest_keys_keep_what_a_stable_sort_keeps_over_several_tiles(c, n_jobs):
    # more points than two tiles and more queries than two blocks, neither a multiple of them
    R = points_with_norms(1300, 6, c)
    rows = np.random.default_rng(c).permutation(1300)[:150].astype(np.int64)
    out = np.empty((150, c), dtype=np.int64)
    _topk.smallest_keys(R, rows, out, n_jobs)
    np.testing.assert_array_equal(np.sort(out, axis=1), np.sort(stable_smallest(R, rows, c), axis=1))


def test_fused_smallest_keys_can_select_every_other_point_never_the_query():
    R = points_with_norms(70, 4, 0)
    rows = np.arange(70, dtype=np.int64)
    out = np.empty((70, 69), dtype=np.int64)
    _topk.smallest_keys(R, rows, out, 2)
    np.testing.assert_array_equal(np.sort(out, axis=1), np.sort(stable_smallest(R, rows, 69), axis=1))


def test_fused_smallest_keys_refuse_more_candidates_than_other_points():
    with pytest.raises(ValueError, match="cannot select 70 of 69"):
        _topk.smallest_keys(points_with_norms(70, 4, 0), np.arange(3, dtype=np.int64),
                            np.empty((3, 70), dtype=np.int64), 1)


def test_fused_smallest_keys_refuse_a_query_that_is_not_a_point():
    with pytest.raises(IndexError, match="query row 70 is not a point"):
        _topk.smallest_keys(points_with_norms(70, 4, 0), np.array([0, 70], dtype=np.int64),
                            np.empty((2, 5), dtype=np.int64), 1)


def test_sort_heaps_orders_each_heap_by_distance_then_index():
    rng = np.random.default_rng(2)
    n, k = 25, 11
    dist = rng.integers(0, 4, size=(n, k)).astype(np.float32)
    idx = np.stack([rng.permutation(100)[:k] for _ in range(n)]).astype(np.int32)
    # a row in decreasing (distance, index) order is a valid max-heap
    order = np.lexsort((-idx, -dist), axis=1)
    dist, idx = np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1)
    expected = np.lexsort((idx, dist), axis=1)
    expected_dist, expected_idx = np.take_along_axis(dist, expected, 1), np.take_along_axis(idx, expected, 1)
    _nndescent.sort_heaps(dist, idx, 2)
    np.testing.assert_array_equal(dist, expected_dist)
    np.testing.assert_array_equal(idx, expected_idx)


def test_sort_rows_inplace_orders_by_distance_then_index():
    rng = np.random.default_rng(3)
    distances = rng.integers(0, 3, size=(15, 9)).astype(np.float64)
    indices = rng.integers(0, 50, size=(15, 9)).astype(np.int64)
    order = np.lexsort((indices, distances), axis=1)
    expected = np.take_along_axis(distances, order, 1), np.take_along_axis(indices, order, 1)
    _knn.sort_rows_inplace(indices, distances, 2)
    np.testing.assert_array_equal(distances, expected[0])
    np.testing.assert_array_equal(indices, expected[1])


def _grid_call(module, axes, short):
    """charges_to_grid of ``module`` on one point, one box per axis, p = 1; the grid's
    description arrays (centre, corner, widths, intervals) are ``short`` entries long."""
    Y = np.zeros((1, axes))
    box_start = np.array([0, 1], dtype=np.int32)
    charges = np.zeros((1 + axes,) + (1,) * axes)
    module.charges_to_grid(Y, np.zeros(short), np.zeros(short), np.ones(short),
                           np.ones(short, dtype=np.intp), 1, box_start, charges, 1)
    return charges


@pytest.mark.parametrize("module, axes", [(_fft, 2), (_fft3d, 3)])
def test_fft_kernels_refuse_a_grid_description_shorter_than_their_axes(module, axes):
    _grid_call(module, axes, axes)  # the full length is accepted
    with pytest.raises(ValueError, match=f"grid of {axes} axes"):
        _grid_call(module, axes, axes - 1)
