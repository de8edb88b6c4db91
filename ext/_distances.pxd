"""Distance and dot-product kernels on raw rows, inlined into each module that cimports them.

Long reductions are split over independent lanes: one running sum would chain every addition
on the previous one and leave the loop bound by the adder's latency, where several lanes keep
the vector units busy. The lane count and the order of the final folding fix the result
bitwise (no fast-math), whatever the compiler vectorises.
"""
from _common cimport real_t

cdef extern from *:
    """
    /* The compiler may reorder this sum into vector lanes (the pragma allows it; the order
       it picks is fixed at compile time, so results stay deterministic). */
    static inline float fasttsne_dot_f32(const float* a, const float* b, Py_ssize_t d) {
        float s = 0.0f;
        #pragma omp simd reduction(+:s)
        for (Py_ssize_t f = 0; f < d; f++) { s += a[f] * b[f]; }
        return s;
    }
    """
    float dot_f32 "fasttsne_dot_f32" (const float* a, const float* b, Py_ssize_t d) noexcept nogil


ctypedef fused lane_t:
    float
    double


cdef inline lane_t _sum_of_squares(const real_t* a, const real_t* b, Py_ssize_t d,
                                   lane_t zero) noexcept nogil:
    """``sum_f (a[f] - b[f])^2`` in the precision of ``zero`` (its type picks the specialisation).

    Four SSE registers of lanes: 16 in float32, 8 in float64. Lane j sums the features
    f = j (mod lanes) of the whole blocks, the tail is summed apart, then the lanes are
    folded in halves down to four and added pairwise.
    """
    cdef lane_t acc[16]
    cdef lane_t s = zero, t
    cdef Py_ssize_t f = 0
    cdef int j, lanes = 16 if lane_t is float else 8
    for j in range(lanes):
        acc[j] = zero
    while f + lanes <= d:
        for j in range(lanes):
            t = <lane_t> a[f + j] - <lane_t> b[f + j]
            acc[j] = acc[j] + t * t
        f = f + lanes
    while f < d:
        t = <lane_t> a[f] - <lane_t> b[f]
        s = s + t * t
        f = f + 1
    while lanes > 4:
        lanes = lanes // 2
        for j in range(lanes):
            acc[j] = acc[j] + acc[j + lanes]
    return s + ((acc[0] + acc[1]) + (acc[2] + acc[3]))


cdef inline double squared_distance(const real_t* a, const real_t* b, Py_ssize_t d) noexcept nogil:
    """Exact ``|a - b|^2`` of two rows of ``d`` values, summed in float64 from the differences
    (float32 inputs are widened first), so duplicates give exactly 0."""
    return _sum_of_squares(a, b, d, <double> 0.0)


cdef inline float squared_distance_f32(const float* a, const float* b, Py_ssize_t d) noexcept nogil:
    """``|a - b|^2`` in float32 arithmetic: the ranking distance of the approximate search,
    where float32 rounding only reorders near-ties."""
    return _sum_of_squares(a, b, d, <float> 0.0)
