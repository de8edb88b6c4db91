# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Boxes and Lagrange interpolation on equispaced nodes, shared by the FFT repulsion kernels.

An axis is cut into ``n`` equal intervals ("boxes"); each holds ``p`` nodes at box-local
positions ``(k + 1/2) / p`` of the interval width, so the nodes are equispaced over the whole
axis and each lies strictly inside one box.
"""
from libc.math cimport floor
from libc.stdlib cimport free, malloc


cdef inline Py_ssize_t box_of(double y, double lo, double h, Py_ssize_t n, double *s) noexcept nogil:
    """Interval index of coordinate ``y``, clamped to [0, n); ``s`` receives the position
    inside that interval as a fraction of its width (outside [0, 1) only when clamped)."""
    cdef double t = (y - lo) / h
    cdef Py_ssize_t b = <Py_ssize_t>floor(t)
    if b < 0:
        b = 0
    elif b >= n:
        b = n - 1
    s[0] = t - b
    return b


cdef inline double *lagrange_denominators(int p) noexcept nogil:
    """prod_{m != k} (k - m) for each node k (malloc'd; the caller frees; NULL if out of memory)."""
    cdef double *den = <double *>malloc(max(p, 1) * sizeof(double))
    cdef int k, m
    if den == NULL:
        return NULL
    for k in range(p):
        den[k] = 1.0
        for m in range(p):
            if m != k:
                den[k] = den[k] * (k - m)
    return den


cdef inline void read_axes(int dims, const double[::1] center, const double[::1] lo,
                           const double[::1] h, const Py_ssize_t[::1] n_int, int p, Py_ssize_t *n_out,
                           double *lo_out, double *h_out, double *c_out) except *:
    """Copy the first ``dims`` axes of a grid into a kernel's arrays: intervals per axis
    (``n_int``), lower corner, interval width and centre (embedding units).

    Raises ValueError, before anything is read, when an array is shorter than ``dims`` or
    ``p < 1`` (the kernels index without bounds checks).
    """
    cdef int k
    if center.shape[0] < dims or lo.shape[0] < dims or h.shape[0] < dims or n_int.shape[0] < dims \
            or p < 1:
        raise ValueError(f"a grid of {dims} axes needs ({dims},) center, lo, h and n_int, and p >= 1.")
    for k in range(dims):
        n_out[k] = n_int[k]
        lo_out[k] = lo[k]
        h_out[k] = h[k]
        c_out[k] = center[k]


cdef struct Workspace:
    double *den      # (p,) Lagrange denominators (lagrange_denominators)
    double *scratch  # per-thread weights and sums; each thread slices its own by threadid()


cdef inline Workspace workspace(int p, Py_ssize_t size) except *:
    """The denominators for ``p`` nodes per axis and ``size`` doubles of scratch, malloc'd
    (release with ``free_workspace``). Raises MemoryError, leaving nothing allocated.

    Returned by value: allocated before a ``prange`` and only read inside it.
    """
    cdef Workspace ws
    ws.den = lagrange_denominators(p)
    ws.scratch = <double *>malloc(max(size, 1) * sizeof(double))
    if ws.den == NULL or ws.scratch == NULL:
        free(ws.den)
        free(ws.scratch)
        raise MemoryError()
    return ws


cdef inline void free_workspace(Workspace ws) noexcept nogil:
    free(ws.den)
    free(ws.scratch)


cdef inline void lagrange_weights(double u, int p, const double *den, double *out) noexcept nogil:
    """Weights of the ``p`` Lagrange basis polynomials at ``u`` (box-local, in node units;
    nodes at k + 1/2)."""
    cdef int k, m
    cdef double prod
    for k in range(p):
        prod = 1.0
        for m in range(p):
            if m != k:
                prod = prod * (u - (m + 0.5))
        out[k] = prod / den[k]


cdef inline void pair_sums(const double *w, int p, double *s) noexcept nogil:
    """``s[o] = sum_{|a - a'| = o} w[a] w[a']`` for o in [0, p): one axis's weight products
    grouped by node offset (a point's self-interaction through the grid factorises into these)."""
    cdef int a, o
    cdef double acc
    for o in range(p):
        acc = 0.0
        for a in range(p - o):
            acc = acc + w[a] * w[a + o]
        s[o] = acc if o == 0 else 2.0 * acc


cdef inline void sort_by_box(const int *box_of_point, Py_ssize_t n, Py_ssize_t nb, int *box_start,
                             int *order, int *cursor) noexcept nogil:
    """Counting sort of ``n`` points by box (stable: ascending index within a box).

    ``box_start`` (nb + 1) receives where each box's points start in ``order`` (n); ``cursor``
    (nb) is scratch.
    """
    cdef Py_ssize_t i, b
    for b in range(nb + 1):
        box_start[b] = 0
    for i in range(n):
        box_start[box_of_point[i] + 1] += 1
    for b in range(nb):
        box_start[b + 1] += box_start[b]
        cursor[b] = box_start[b]
    for i in range(n):
        b = box_of_point[i]
        order[cursor[b]] = <int>i
        cursor[b] += 1
