# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""One fused gradient-descent step: gradient assembly, clipping, gains, momentum, move.

Fusing these keeps the optimiser to one pass over the (N, d) arrays per iteration with
no temporaries.
"""
from cython.parallel cimport prange
from libc.math cimport fabs, sqrt


def gradient_step(double[:, ::1] Y, const double[:, ::1] attractive, const double[:, ::1] repulsive,
                  double exaggeration, double inv_z, double[:, ::1] update, double[:, ::1] gains,
                  double learning_rate, double momentum, double min_gain,
                  double max_grad_norm, double max_step_norm, double max_coordinate, int n_jobs=1):
    """Advance ``Y`` in place by one step of delta-bar-delta gradient descent.

    The gradient (divided by 4) of point i is
    ``g_i = exaggeration * attractive_i - inv_z * repulsive_i``.
    ``max_grad_norm`` / ``max_step_norm`` <= 0 disable the per-point clipping of the
    gradient / the step (Euclidean norm over the d coordinates).
    ``update`` and ``gains`` are the optimiser state, updated in place.

    A point whose step would take a coordinate beyond ``max_coordinate`` in magnitude, or
    to NaN (a step that overflowed), is left where it is and its ``update`` row is set to
    0, so ``Y`` and ``update`` stay finite whatever the learning rate.

    Returns
    -------
    int
        The number of points left where they were for that reason (0 in a sound run).
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1]
    cdef Py_ssize_t i, k
    cdef Py_ssize_t blocked = 0
    cdef int inside
    cdef double g, norm, scale, u
    for i in prange(n, nogil=True, num_threads=n_jobs, schedule="static"):
        norm = 0.0
        for k in range(d):
            g = exaggeration * attractive[i, k] - inv_z * repulsive[i, k]
            norm = norm + g * g
        scale = 1.0
        if max_grad_norm > 0 and norm > max_grad_norm * max_grad_norm:
            scale = max_grad_norm / sqrt(norm)
        norm = 0.0
        for k in range(d):
            # recomputed rather than buffered: a per-thread C array is not private in prange
            g = (exaggeration * attractive[i, k] - inv_z * repulsive[i, k]) * scale
            # delta-bar-delta: grow the gain while the gradient keeps pushing the same way
            if (g > 0) != (update[i, k] > 0):
                gains[i, k] = gains[i, k] + 0.2
            else:
                gains[i, k] = gains[i, k] * 0.8
            if gains[i, k] < min_gain:
                gains[i, k] = min_gain
            u = momentum * update[i, k] - learning_rate * gains[i, k] * g
            update[i, k] = u
            norm = norm + u * u
        scale = 1.0
        if max_step_norm > 0 and norm > max_step_norm * max_step_norm:
            scale = max_step_norm / sqrt(norm)
        inside = 1
        for k in range(d):
            if scale != 1.0:
                update[i, k] = update[i, k] * scale
            # negated so that NaN fails it too
            if not (fabs(Y[i, k] + update[i, k]) <= max_coordinate):
                inside = 0
        if inside:
            for k in range(d):
                Y[i, k] = Y[i, k] + update[i, k]
        else:
            blocked += 1
            for k in range(d):
                update[i, k] = 0.0
    return blocked


def center(double[:, ::1] Y):
    """Subtract the mean position from ``Y`` (N, d) in place (any d; nothing for N = 0).

    Serial sums (results do not depend on threads); the numpy version (``Y -= Y.mean(axis=0)``)
    spent 2-3 ms per iteration at 100k points on strided reductions and temporaries.
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1], i, k
    cdef double s
    if n == 0:
        return
    with nogil:
        for k in range(d):
            s = 0.0
            for i in range(n):
                s = s + Y[i, k]
            s = s / n
            for i in range(n):
                Y[i, k] -= s
