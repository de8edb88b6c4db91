"""Bounded max-heaps of (key, index) pairs: the k best candidates of one row.

The root holds the worst pair kept, so a candidate is tested against it in one comparison
and, when better, replaces it and sinks. Ties rank by index (the larger index is worse),
which makes the kept set, and a heap sort of it, the same as a stable sort by key would give.
An optional byte per entry (``flags``, or NULL) travels with its pair.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t

ctypedef fused heap_key_t:
    float
    double

ctypedef fused heap_index_t:
    int32_t
    int64_t


cdef inline bint heap_worse(heap_key_t key_a, heap_index_t idx_a, heap_key_t key_b,
                            heap_index_t idx_b) noexcept nogil:
    """(key_a, idx_a) > (key_b, idx_b) lexicographically."""
    return key_a > key_b or (key_a == key_b and idx_a > idx_b)


cdef inline void heap_sift_down(heap_key_t* keys, heap_index_t* idx, uint8_t* flags, Py_ssize_t size,
                                Py_ssize_t pos) noexcept nogil:
    """Restore the max-heap property of the first ``size`` entries below ``pos``."""
    cdef heap_key_t k0 = keys[pos]
    cdef heap_index_t i0 = idx[pos]
    cdef uint8_t f0 = flags[pos] if flags != NULL else 0
    cdef Py_ssize_t child
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and heap_worse(keys[child + 1], idx[child + 1], keys[child], idx[child]):
            child = child + 1
        if not heap_worse(keys[child], idx[child], k0, i0):
            break
        keys[pos] = keys[child]
        idx[pos] = idx[child]
        if flags != NULL:
            flags[pos] = flags[child]
        pos = child
    keys[pos] = k0
    idx[pos] = i0
    if flags != NULL:
        flags[pos] = f0


cdef inline void heap_build(heap_key_t* keys, heap_index_t* idx, uint8_t* flags,
                            Py_ssize_t size) noexcept nogil:
    """Turn ``size`` arbitrary entries into a max-heap (Floyd's bottom-up construction)."""
    cdef Py_ssize_t pos = size // 2
    while pos > 0:
        pos = pos - 1
        heap_sift_down(keys, idx, flags, size, pos)


cdef inline void heap_sort(heap_key_t* keys, heap_index_t* idx, uint8_t* flags,
                           Py_ssize_t size) noexcept nogil:
    """Sort a max-heap of ``size`` entries in place into increasing (key, index) order."""
    cdef Py_ssize_t end = size - 1
    cdef heap_key_t tk
    cdef heap_index_t ti
    cdef uint8_t tf
    while end > 0:
        tk = keys[0]
        ti = idx[0]
        keys[0] = keys[end]
        idx[0] = idx[end]
        keys[end] = tk
        idx[end] = ti
        if flags != NULL:
            tf = flags[0]
            flags[0] = flags[end]
            flags[end] = tf
        heap_sift_down(keys, idx, flags, end, 0)
        end = end - 1
