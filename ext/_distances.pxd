"""Distance and dot-product kernels on raw rows, compiled into each module that cimports them.

Long reductions are split over independent lanes: one running sum would chain every addition
on the previous one and leave the loop bound by the adder's latency, where several lanes keep
the vector units busy. The lane count and the order of the final folding fix the result
bitwise (no fast-math, no contraction), whatever the compiler vectorises and whichever
instruction set's copy of a sum runs.
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


cdef extern from *:
    """
    /* The sums of squares below exist once per instruction set and the fastest one the CPU has
       is picked when the module loads: the extensions are compiled for baseline x86-64 (SSE2),
       where a 16-lane float sum takes four registers and one AVX-512 register holds it. The
       lanes and the order of their folding are written out, and no copy contracts a multiply
       and an add into one rounding (setup.py compiles with -ffp-contract=off), so every copy
       returns bitwise the same value. Elsewhere (other compilers, CPUs, systems without
       ifunc) there is one copy, the same arithmetic. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    #define FASTTSNE_CLONES __attribute__((target_clones("avx512f", "avx2", "default"), unused))
    #else
    #define FASTTSNE_CLONES __attribute__((unused))
    #endif

    /* sum_f (a[f] - b[f])^2 in ACC precision over LANES lanes: lane j sums the features
       f = j (mod LANES) of the whole blocks, the tail is summed apart, then the lanes are
       folded in halves down to four and added pairwise. */
    #define FASTTSNE_SUM_OF_SQUARES(NAME, IN, ACC, LANES)                                  \\
    FASTTSNE_CLONES static ACC NAME(const IN* a, const IN* b, Py_ssize_t d) {             \\
        ACC acc[LANES], s = 0, t;                                                          \\
        Py_ssize_t f = 0;                                                                  \\
        int j, lanes = LANES;                                                              \\
        for (j = 0; j < LANES; j++) acc[j] = 0;                                            \\
        for (; f + LANES <= d; f += LANES)                                                 \\
            for (j = 0; j < LANES; j++) {                                                  \\
                t = (ACC) a[f + j] - (ACC) b[f + j];                                       \\
                acc[j] = acc[j] + t * t;                                                   \\
            }                                                                              \\
        for (; f < d; f++) {                                                               \\
            t = (ACC) a[f] - (ACC) b[f];                                                   \\
            s = s + t * t;                                                                 \\
        }                                                                                  \\
        while (lanes > 4) {                                                                \\
            lanes /= 2;                                                                    \\
            for (j = 0; j < lanes; j++) acc[j] = acc[j] + acc[j + lanes];                  \\
        }                                                                                  \\
        return s + ((acc[0] + acc[1]) + (acc[2] + acc[3]));                                \\
    }

    /* four SSE registers of lanes: 16 in float32, 8 in float64 */
    FASTTSNE_SUM_OF_SQUARES(fasttsne_sq_f32_in_f64, float, double, 8)
    FASTTSNE_SUM_OF_SQUARES(fasttsne_sq_f64_in_f64, double, double, 8)
    FASTTSNE_SUM_OF_SQUARES(fasttsne_sq_f32_in_f32, float, float, 16)
    """
    double _sq_f32_in_f64 "fasttsne_sq_f32_in_f64" (const float* a, const float* b, Py_ssize_t d) noexcept nogil
    double _sq_f64_in_f64 "fasttsne_sq_f64_in_f64" (const double* a, const double* b, Py_ssize_t d) noexcept nogil
    float _sq_f32_in_f32 "fasttsne_sq_f32_in_f32" (const float* a, const float* b, Py_ssize_t d) noexcept nogil


cdef inline double squared_distance(const real_t* a, const real_t* b, Py_ssize_t d) noexcept nogil:
    """Exact ``|a - b|^2`` of two rows of ``d`` values, summed in float64 from the differences
    (float32 inputs are widened first), so duplicates give exactly 0."""
    if real_t is float:
        return _sq_f32_in_f64(a, b, d)
    else:
        return _sq_f64_in_f64(a, b, d)


cdef inline float squared_distance_f32(const float* a, const float* b, Py_ssize_t d) noexcept nogil:
    """``|a - b|^2`` in float32 arithmetic: the ranking distance of the approximate search,
    where float32 rounding only reorders near-ties."""
    return _sq_f32_in_f32(a, b, d)
