# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Perplexity calibration: per-point Gaussian precisions found by binary search.

For each point i with neighbour distances d_ij, find beta_i such that the conditional
distribution p_j|i ∝ exp(-beta_i d_ij^2) has entropy log(perplexity) (natural log), to
within ``tol``. Distances are shifted by the row's smallest squared distance before the
exponential; that leaves p_j|i unchanged and keeps duplicates (zero distances) and very
large scales free of underflow, so no row can produce NaN or an infinite precision.
"""
from cython.parallel cimport prange
from libc.math cimport exp, log, INFINITY


def calibrate_perplexity(const double[:, ::1] distances, const double[::1] perplexities,
                         double[:, ::1] P, double[::1] betas, double tol=1e-5,
                         int max_iter=200, int n_jobs=1):
    """Fill ``P`` (N, k) with the calibrated conditional probabilities (rows sum to 1).

    Parameters
    ----------
    distances : (N, k) float64
        Distances (not squared) from each point to its k neighbours.
    perplexities : (N,) float64
        Target perplexity of each row (usually all equal).
    P : (N, k) float64
        Output.
    betas : (N,) float64
        Output: the precision 1 / (2 sigma^2) of each row, in units of 1 / distance^2,
        relative to the row's squared distances shifted by their minimum.
    tol : float
        Tolerance on the entropy, in nats.
    max_iter : int
        Binary-search steps per row.
    """
    cdef Py_ssize_t n = distances.shape[0], k = distances.shape[1]
    cdef Py_ssize_t i, j, it
    cdef double beta, lo, hi, dmin, dmean, s, sd, H, target, w, d2
    for i in prange(n, nogil=True, num_threads=n_jobs, schedule="static"):
        target = log(perplexities[i])
        dmin = INFINITY
        dmean = 0.0
        for j in range(k):
            d2 = distances[i, j] * distances[i, j]
            if d2 < dmin:
                dmin = d2
            dmean = dmean + d2
        dmean = dmean / k - dmin
        # start near the right scale so the search is short for data of any magnitude
        beta = 1.0 / dmean if dmean > 0 else 1.0
        lo = 0.0
        hi = INFINITY
        for it in range(max_iter):
            s = 0.0
            sd = 0.0
            for j in range(k):
                d2 = distances[i, j] * distances[i, j] - dmin
                w = exp(-beta * d2)
                P[i, j] = w
                s = s + w
                sd = sd + d2 * w
            H = log(s) + beta * sd / s
            betas[i] = beta  # the precision P was evaluated at, even if the search runs out
            if H - target < tol and target - H < tol:
                break
            if H > target:
                lo = beta
                if hi == INFINITY:
                    beta = beta * 2.0
                else:
                    beta = (lo + hi) / 2.0
            else:
                hi = beta
                beta = (lo + hi) / 2.0
        s = 0.0
        for j in range(k):
            s = s + P[i, j]
        for j in range(k):
            P[i, j] = P[i, j] / s
