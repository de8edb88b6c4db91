"""The quality measures one by one (kNN preservation and accuracy, KNC, CPD, trustworthiness,
continuity; see :mod:`fasttsne.quality`) and the argument checks the report shares."""
import math
import numbers

import numpy as np
import scipy.sparse as sp

from .._params import InvalidParameterError
from .._scale import rescaled, scale_exponent
from .._threads import check_n_jobs, effective_n_jobs
from .._validation import check_data
from .search import BLOCK_ENTRIES, exact_sq, k_smallest, per_point, search_space

#: The kNN measures are exact (every point a query) up to this many points ...
EXACT_MAX_SAMPLES = 100_000
#: ... and computed on this many sampled query points above it.
SAMPLE_SIZE = 5_000
#: Trustworthiness and continuity rank every point for every query (N operations per query and
#: neighbour), so they are exact up to fewer points ...
RANK_EXACT_MAX_SAMPLES = 10_000
#: ... and sampled with fewer queries above that.
RANK_SAMPLE_SIZE = 500
#: Point pairs for CPD (all pairs when there are fewer).
CPD_PAIRS = 100_000
#: Nearest class means for KNC (Kobak & Berens used 4 for the 10 MNIST digits).
KNC_K = 4


class Estimate:
    """The mean of per-point values over a sample of m of N points, and its standard error."""

    def __init__(self, values, n_total):
        values = np.asarray(values, dtype=np.float64)
        m = len(values)
        self.value = float(values.mean())
        self.n = m
        if m >= n_total or m < 2:
            self.se = 0.0
        else:
            # simple random sampling without replacement: finite-population correction
            self.se = float(values.std(ddof=1) / math.sqrt(m) * math.sqrt(1 - m / n_total))


def rank_normaliser(n, k):
    return 2.0 / (k * (2.0 * n - 3.0 * k - 1.0))


def check_pair(X, Y):
    if sp.issparse(X):
        raise TypeError("X is a scipy sparse matrix; the quality measures need dense rows: pass "
                        "X.toarray(), or the principal components the map was made from.")
    Y = check_data(Y, name="Y", dtype=np.float64)
    X = check_data(X, name="X")
    if X.shape[0] != Y.shape[0]:
        raise InvalidParameterError(f"X has {X.shape[0]} rows but the map Y has {Y.shape[0]}; "
                                    "they must describe the same points, row for row.")
    # every measure depends on distances only through their order: data far from unit
    # magnitude (whose squared distances would overflow or underflow) is divided by a power
    # of two, which leaves that order exactly as it is
    return rescaled(X, scale_exponent(X)), rescaled(Y, scale_exponent(Y))


def check_k(k, n, name="k", rank=False):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise InvalidParameterError(f"{name} must be a positive integer, got {k!r}.")
    limit = (n - 1) / 2 if rank else n - 1
    if k > limit or (rank and 2 * k >= n):
        what = "less than half the number of points" if rank else "less than the number of points"
        raise InvalidParameterError(f"{name}={k} is too large for {n} points: it must be {what}.")
    return int(k)


def check_labels(labels, n):
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise InvalidParameterError(f"labels must be one label per point ({n},), got shape {y.shape}.")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise InvalidParameterError("labels contain NaN or infinite values.")
    return np.unique(y, return_inverse=True)[1].ravel()


def query_count(n, size, exact_max, default):
    """How many query points: all of them when ``size`` covers them."""
    if size == "auto":
        size = n if n <= exact_max else default
    elif isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise InvalidParameterError(f"sample sizes must be 'auto' or a positive integer, got {size!r}.")
    return min(int(size), n)


def query_rows(n, sizes, rng):
    """Rows whose first ``m`` are a uniform random sample of size m, for every m in ``sizes``
    (the points in order when all of them are queried)."""
    m = max(sizes)
    if m >= n:
        return np.arange(n, dtype=np.int64) if min(sizes) >= n else rng.permutation(n).astype(np.int64)
    return rng.permutation(n)[:m].astype(np.int64)


def _setup(X, Y, k, n_jobs, rank=False):
    X, Y = check_pair(X, Y)
    k = check_k(k, X.shape[0], rank=rank)
    return X, Y, k, effective_n_jobs(check_n_jobs(n_jobs))


def knn_preservation(X, Y, k=10, *, sample_size="auto", random_state=0, n_jobs=1):
    """Fraction of each point's k nearest neighbours in ``X`` that are also among its k
    nearest in ``Y``, averaged over points.

    Parameters
    ----------
    X : (N, D) array-like
        The data, Euclidean distances.
    Y : (N, d) array-like
        The map, row i placing X's row i.
    k : int, 1 <= k < N
    sample_size : "auto" or int
        Query points: "auto" is all of them up to :data:`EXACT_MAX_SAMPLES` points, else a
        sample of :data:`SAMPLE_SIZE`; an int is that many (all when >= N).
    random_state : None, int or numpy Generator
        Seed of the sample (unused when every point is a query).
    n_jobs : int

    Returns
    -------
    float in [0, 1]; 1 when every neighbourhood is kept.
    """
    return _knn_measure(X, Y, k, None, sample_size, random_state, n_jobs)[0].value


def knn_accuracy(Y, labels, k=10, *, sample_size="auto", random_state=0, n_jobs=1):
    """Leave-one-out k-NN classification accuracy in the map ``Y``.

    Each point gets the label most common among its k nearest other points in ``Y``; a tie
    between labels goes to the label first in sorted order (as ``np.bincount(v).argmax()``
    does for integer labels).

    Parameters
    ----------
    Y : (N, d) array-like
    labels : (N,) array-like of any sortable type
    k, sample_size, random_state, n_jobs : see :func:`knn_preservation`

    Returns
    -------
    float in [0, 1]
    """
    Y = check_data(Y, name="Y", dtype=np.float64)
    codes = check_labels(labels, Y.shape[0])
    k = check_k(k, Y.shape[0])
    m = query_count(Y.shape[0], sample_size, EXACT_MAX_SAMPLES, SAMPLE_SIZE)
    rows = query_rows(Y.shape[0], [m], np.random.default_rng(random_state))
    nbr = search_space(Y, effective_n_jobs(check_n_jobs(n_jobs))).neighbours(rows, k)
    return Estimate(votes(nbr, codes, rows), Y.shape[0]).value


def votes(nbr, codes, rows):
    """1.0 where the majority label of the neighbours is the point's own, else 0.0."""
    n_labels = int(codes.max()) + 1
    flat = (np.arange(len(rows))[:, None] * n_labels + codes[nbr]).ravel()
    counts = np.bincount(flat, minlength=len(rows) * n_labels).reshape(len(rows), n_labels)
    return (counts.argmax(1) == codes[rows]).astype(np.float64)


def _knn_measure(X, Y, k, labels, sample_size, random_state, n_jobs):
    X, Y, k, n_jobs = _setup(X, Y, k, n_jobs)
    m = query_count(X.shape[0], sample_size, EXACT_MAX_SAMPLES, SAMPLE_SIZE)
    rows = query_rows(X.shape[0], [m], np.random.default_rng(random_state))
    nbr_y, shared, _, _ = per_point(X, Y, k, rows, 0, n_jobs)
    accuracy = None if labels is None else Estimate(votes(nbr_y, labels, rows), X.shape[0])
    return Estimate(shared / k, X.shape[0]), accuracy


def _rank_measures(X, Y, k, sample_size, random_state, n_jobs):
    X, Y, k, n_jobs = _setup(X, Y, k, n_jobs, rank=True)
    n = X.shape[0]
    m = query_count(n, sample_size, RANK_EXACT_MAX_SAMPLES, RANK_SAMPLE_SIZE)
    rows = query_rows(n, [m], np.random.default_rng(random_state))
    _, _, trust, cont = per_point(X, Y, k, rows, m, n_jobs)
    scale = rank_normaliser(n, k)
    return Estimate(1 - scale * trust, n), Estimate(1 - scale * cont, n)


def trustworthiness(X, Y, k=10, *, sample_size="auto", random_state=0, n_jobs=1):
    """Trustworthiness of the map (Venna & Kaski): are the map's neighbours true neighbours?

    ``T(k) = 1 - 2 / (N k (2N - 3k - 1)) * sum_i sum_{j in U_k(i)} (r(i, j) - k)``, where
    ``U_k(i)`` are the k nearest neighbours of i in ``Y`` that are not among its k nearest in
    ``X``, and ``r(i, j)`` is j's rank (1 = nearest) among the distances from i in ``X``. The
    same as ``sklearn.manifold.trustworthiness`` (which breaks exact ties in its own way).

    Parameters
    ----------
    X : (N, D) array-like
    Y : (N, d) array-like
    k : int, 1 <= k < N / 2
    sample_size : "auto" or int
        "auto": every point up to :data:`RANK_EXACT_MAX_SAMPLES` points, else a sample of
        :data:`RANK_SAMPLE_SIZE` queries (the sums above then run over the sample, scaled by
        N over its size).
    random_state, n_jobs : see :func:`knn_preservation`

    Returns
    -------
    float, at most 1 (1: no false neighbours).
    """
    return _rank_measures(X, Y, k, sample_size, random_state, n_jobs)[0].value


def continuity(X, Y, k=10, *, sample_size="auto", random_state=0, n_jobs=1):
    """Continuity of the map (Venna & Kaski): are the true neighbours kept together?

    :func:`trustworthiness` with the roles of ``X`` and ``Y`` exchanged: the penalty is the
    rank in ``Y`` of each of the k nearest neighbours in ``X`` that the map moved out of the
    k nearest. Parameters and return value as for :func:`trustworthiness`.
    """
    return _rank_measures(X, Y, k, sample_size, random_state, n_jobs)[1].value


def knc(X, Y, labels, k=KNC_K):
    """Fraction of each class mean's k nearest class means in ``X`` that are also its k
    nearest class means in ``Y``, averaged over classes (Kobak & Berens 2019).

    Parameters
    ----------
    X : (N, D) array-like
    Y : (N, d) array-like
    labels : (N,) array-like
        At least k + 1 distinct classes.
    k : int, default 4

    Returns
    -------
    float in [0, 1]
    """
    X, Y = check_pair(X, Y)
    codes = check_labels(labels, X.shape[0])
    return knc_of_classes(X, Y, codes, k)


def _class_means(Z, codes, n_classes):
    members = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_classes, len(codes)))
    sums = np.asarray(members @ Z, dtype=np.float64)
    return sums / np.bincount(codes, minlength=n_classes)[:, None]


def knc_of_classes(X, Y, codes, k):
    n_classes = int(codes.max()) + 1
    k = check_k(k, n_classes, name="knc_k")
    mx, my = _class_means(X, codes, n_classes), _class_means(Y, codes, n_classes)
    nx = _means_neighbours(mx, k)
    ny = _means_neighbours(my, k)
    return float((nx[:, :, None] == ny[:, None, :]).any(2).sum() / (n_classes * k))


def _means_neighbours(M, k):
    """k nearest other rows of a small matrix, exact, (distance, index) order."""
    sq = ((M[:, None, :] - M[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(sq, np.inf)
    return k_smallest(sq, k)


def cpd(X, Y, n_pairs=CPD_PAIRS, *, random_state=0, n_jobs=1):
    """Spearman correlation between the distances of point pairs in ``X`` and in ``Y``.

    Parameters
    ----------
    X : (N, D) array-like
    Y : (N, d) array-like
    n_pairs : int
        Pairs (i, j), i != j, drawn uniformly at random; every pair once when there are at
        most this many (exact). Ties in distance get their average rank.
    random_state : None, int or numpy Generator
    n_jobs : int

    Returns
    -------
    float in [-1, 1]; how well the map keeps the global arrangement.
    """
    X, Y = check_pair(X, Y)
    return cpd_estimate(X, Y, n_pairs, np.random.default_rng(random_state), effective_n_jobs(check_n_jobs(n_jobs)))[0]


def cpd_estimate(X, Y, n_pairs, rng, n_jobs):
    """(rho, standard error, number of pairs); the error is 0 when all pairs were used."""
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, numbers.Integral) or n_pairs < 3:
        raise InvalidParameterError(f"n_pairs must be an integer >= 3, got {n_pairs!r}.")
    n = X.shape[0]
    exact = n * (n - 1) // 2 <= n_pairs
    if exact:
        i, j = np.triu_indices(n, 1)
    else:
        i = rng.integers(0, n, n_pairs)
        j = rng.integers(0, n - 1, n_pairs)
        j += j >= i
    i, j = i.astype(np.int64), j.astype(np.int64)
    rho = _spearman(_pair_sq(X, i, j, n_jobs), _pair_sq(Y, i, j, n_jobs))
    m = len(i)
    # Bonett & Wright (2000) for Spearman's rho, pairs taken as independent
    se = 0.0 if exact else (1 - rho * rho) * math.sqrt((1 + rho * rho / 2) / (m - 3))
    return rho, se, m


def _pair_sq(Z, i, j, n_jobs):
    out = np.empty(len(i))
    step = max(1, BLOCK_ENTRIES // (8 * Z.shape[1]))
    for s in range(0, len(i), step):
        out[s:s + step] = exact_sq(Z, i[s:s + step], j[s:s + step, None], n_jobs)[:, 0]
    return out


def _spearman(a, b):
    ra, rb = _average_ranks(a), _average_ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denom = math.sqrt(float(ra @ ra) * float(rb @ rb))
    return float(ra @ rb / denom) if denom > 0 else float("nan")


def _average_ranks(a):
    """Ranks 1..n of the finite values ``a`` (n,), ties given the mean of the ranks they span.

    The rule of ``scipy.stats.rankdata``; written here because importing ``scipy.stats`` costs
    every process that imports fasttsne tens of megabytes of memory for this one function.
    """
    a = np.asarray(a)
    order = np.argsort(a, kind="stable")
    ordered = a[order]
    starts_group = np.empty(len(a), dtype=bool)
    starts_group[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_group[1:])
    group = np.cumsum(starts_group) - 1
    first = np.flatnonzero(starts_group)
    last = np.append(first[1:], len(a)) - 1
    ranks = np.empty(len(a))
    # a tie spanning positions first..last (0-based) shares the rank (first + last) / 2 + 1
    ranks[order] = ((first + last) / 2.0 + 1.0)[group]
    return ranks
