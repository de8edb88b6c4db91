# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The k-NN graph of the rpforest backend (fasttsne.neighbors.rpforest), on a float32 (N, d)
copy of the searched coordinates: first lists from the trees' leaves, then NN-descent.

1. ``leaf_join``: all pairs within each leaf go into per-point bounded max-heaps. The leaves of
   one tree partition the points, so a thread working on one leaf is the only writer of its
   members' heaps: no locks, and the result does not depend on the thread count.
2. ``sample_candidates`` and ``descent_round``: one round of NN-descent's local join. For every
   hub u, each new x new and new x old pair of u's sampled candidate lists is measured once,
   and queued for a point's heap when it can enter it. The queue is sorted by target and
   applied by the thread owning each target range, in hub order: no locks, and the result
   does not depend on the thread count.

The heaps are ``_rpcommon.pxd``'s: (squared distance, index, new-flag) triples, ties ranked by
index, empty slots (+inf, INT32_MAX).
"""
from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t, INT32_MAX
from libc.stdlib cimport malloc, calloc, realloc, free

from _distances cimport squared_distance_f32
from _heap cimport heap_sort
from _rpcommon cimport knn_push, mix64, rpf_holds, rpf_prefetch

cdef extern from *:
    void __builtin_prefetch(const void* p) noexcept nogil

cdef enum:
    # heap entries the candidate sampling looks ahead to prefetch a reverse list
    SAMPLE_AHEAD = 8


cdef inline uint32_t _priority(uint64_t seed, uint32_t a, uint32_t b) noexcept nogil:
    """A pseudo-random priority of the edge (a, b) in one round (seed includes the round)."""
    return <uint32_t> (mix64(seed ^ ((<uint64_t> a << 32) | b)) >> 32)


def init_heaps(float[:, ::1] dist, int32_t[:, ::1] idx, uint8_t[:, ::1] flag):
    """Empty heaps: (+inf, INT32_MAX, old) in every slot."""
    dist[:, :] = INFINITY
    idx[:, :] = INT32_MAX
    flag[:, :] = 0


def sort_heaps(float[:, ::1] dist, int32_t[:, ::1] idx, int n_jobs=1):
    """Sort every heap in place into increasing (distance, index) order (heap sort)."""
    cdef Py_ssize_t n = dist.shape[0], k = dist.shape[1], i
    for i in prange(n, nogil=True, num_threads=max(1, n_jobs), schedule="static"):
        heap_sort(&dist[i, 0], &idx[i, 0], NULL, k)


def leaf_join(const float[:, ::1] X, const int32_t[::1] perm, const int32_t[:, ::1] leaf_bounds,
              Py_ssize_t n_leaves, float[:, ::1] dist, int32_t[:, ::1] idx, uint8_t[:, ::1] flag,
              bint first=False, int n_jobs=1):
    """Push every pair of points sharing a leaf of one tree into both points' heaps.

    Parameters
    ----------
    X : (N, d) float32
    perm : (N,) int32, leaf_bounds : (>= n_leaves, 2) int32
        One tree (see ``_rptrees.build_forest``).
    dist, idx, flag : (N, K) float32, int32, uint8
        The heaps (squared distances), updated in place.
    first : bool
        The heaps are empty (first tree): no pair can already be there, so the duplicate scan
        of every insertion is skipped.
    """
    cdef Py_ssize_t d = X.shape[1], K = dist.shape[1], leaf, a, b, lo, hi
    cdef int32_t p, q
    cdef float dd
    cdef const float* x0 = &X[0, 0]
    for leaf in prange(n_leaves, nogil=True, num_threads=max(1, n_jobs), schedule="dynamic"):
        lo = leaf_bounds[leaf, 0]
        hi = leaf_bounds[leaf, 1]
        for a in range(lo, hi):
            p = perm[a]
            for b in range(a + 1, hi):
                q = perm[b]
                dd = squared_distance_f32(x0 + p * d, x0 + q * d, d)
                knn_push(&dist[p, 0], &idx[p, 0], &flag[p, 0], K, dd, q, not first)
                knn_push(&dist[q, 0], &idx[q, 0], &flag[q, 0], K, dd, p, not first)


# -- NN-descent -------------------------------------------------------------------------------

cdef inline void _cand_push(int32_t* ci, uint32_t* cp, int32_t* count, Py_ssize_t cap,
                            int32_t j, uint32_t pri) noexcept nogil:
    """Keep the ``cap`` lowest-priority ids in a max-heap on priority.

    An id offered twice (mutual neighbours) may take two slots: checking would cost a scan
    per insertion, and the join measures each distinct candidate once anyway."""
    cdef Py_ssize_t pos, child, n = count[0]
    if n == cap and pri >= cp[0]:
        return
    if n < cap:
        # sift up from the end
        pos = n
        while pos > 0 and cp[(pos - 1) // 2] < pri:
            ci[pos] = ci[(pos - 1) // 2]
            cp[pos] = cp[(pos - 1) // 2]
            pos = (pos - 1) // 2
        ci[pos] = j
        cp[pos] = pri
        count[0] = <int32_t> (n + 1)
        return
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and cp[child + 1] > cp[child]:
            child = child + 1
        if cp[child] <= pri:
            break
        ci[pos] = ci[child]
        cp[pos] = cp[child]
        pos = child
    ci[pos] = j
    cp[pos] = pri


cdef void _sample_range(const int32_t[:, ::1] idx, const uint8_t[:, ::1] flag, int32_t[:, ::1] new_c,
                        int32_t[::1] new_n, uint32_t* new_p, int32_t[:, ::1] old_c, int32_t[::1] old_n,
                        uint32_t* old_p, uint64_t seed, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """The candidate lists of points lo..hi-1: every heap is scanned in order, and an entry
    (i, j) is offered to i's list and to j's, whichever lie in the range.

    Priorities are pseudo-random: sampling the nearest entries instead converged far more
    slowly (docs/neighbors.md)."""
    cdef Py_ssize_t n = idx.shape[0], K = idx.shape[1], S = new_c.shape[1], So = old_c.shape[1]
    cdef Py_ssize_t i, a
    cdef int32_t j
    cdef uint32_t pri
    cdef bint own_i, own_j
    for i in range(lo, hi):
        new_n[i] = 0
        old_n[i] = 0
    for i in range(n):
        own_i = lo <= i < hi
        for a in range(K):
            if a + SAMPLE_AHEAD < K:
                # the reverse offers land in scattered lists: ask for a later one's root now
                j = idx[i, a + SAMPLE_AHEAD]
                if lo <= j < hi:
                    __builtin_prefetch((new_p + j * S) if flag[i, a + SAMPLE_AHEAD] else (old_p + j * So))
            j = idx[i, a]
            own_j = lo <= j < hi
            if j == INT32_MAX or not (own_i or own_j):
                continue
            pri = _priority(seed, <uint32_t> i, <uint32_t> j)
            if flag[i, a]:
                if own_i:
                    _cand_push(&new_c[i, 0], new_p + i * S, &new_n[i], S, j, pri)
                if own_j:
                    _cand_push(&new_c[j, 0], new_p + j * S, &new_n[j], S, <int32_t> i, pri)
            else:
                if own_i:
                    _cand_push(&old_c[i, 0], old_p + i * So, &old_n[i], So, j, pri)
                if own_j:
                    _cand_push(&old_c[j, 0], old_p + j * So, &old_n[j], So, <int32_t> i, pri)


def sample_candidates(const int32_t[:, ::1] idx, const uint8_t[:, ::1] flag, int32_t[:, ::1] new_c,
                      int32_t[::1] new_n, int32_t[:, ::1] old_c, int32_t[::1] old_n, uint64_t seed,
                      int n_jobs=1):
    """Each point's sampled new and old candidates: its heap entries and the points whose heaps
    hold it (reverse neighbours), at most S of each kind, chosen by a pseudo-random edge priority.

    Each thread fills the lists of one range of points, scanning every heap in order (the
    reverse lists gather from every heap): a list receives the same offers in the same order
    whatever the thread count. The scans are sequential reads; the offers, random writes, are
    split between the threads.

    Parameters
    ----------
    idx, flag : (N, K) the heaps' ids and new-flags.
    new_c, old_c : (N, S) int32, new_n, old_n : (N,) int32
        Outputs: candidate ids (unordered) and their counts.
    seed : int
        Differs every round, so different edges are sampled.
    """
    cdef Py_ssize_t n = idx.shape[0], S = new_c.shape[1], S_old = old_c.shape[1], part
    cdef Py_ssize_t n_parts = max(1, min(<Py_ssize_t> max(1, n_jobs), n))
    cdef uint32_t* new_p = <uint32_t*> malloc(max(1, n * S) * sizeof(uint32_t))
    cdef uint32_t* old_p = <uint32_t*> malloc(max(1, n * S_old) * sizeof(uint32_t))
    if new_p == NULL or old_p == NULL:
        free(new_p)
        free(old_p)
        raise MemoryError()
    for part in prange(n_parts, nogil=True, num_threads=n_parts, schedule="static"):
        _sample_range(idx, flag, new_c, new_n, new_p, old_c, old_n, old_p, seed,
                      part * n // n_parts, (part + 1) * n // n_parts)
    free(new_p)
    free(old_p)


# Updates found by the join, applied to the heaps afterwards by the thread owning the target.
cdef packed struct Update:
    int32_t target
    int32_t other
    float d


cdef struct UpdateList:
    Update* data
    Py_ssize_t size
    Py_ssize_t cap


cdef enum:
    # hubs per chunk (one task of the join); chunk boundaries do not depend on the thread
    # count, so neither does the order in which a heap receives its updates
    JOIN_CHUNK = 64
    # chunks per block: the join's updates are held for one block at a time (4096 hubs), so
    # the queue is bounded by the block, not by N (at most ~60 MB twice with 20 + 20 candidates)
    JOIN_BLOCK = 64
    # target ranges of the update step, each applied by one thread
    JOIN_PARTS = 256


cdef inline int _reserve(UpdateList* lst, Py_ssize_t size) noexcept nogil:
    """Room for ``size`` updates; -1 when memory ran out."""
    cdef Py_ssize_t cap
    cdef Update* grown
    if size <= lst.cap:
        return 0
    cap = max(size, max(<Py_ssize_t> 1024, 2 * lst.cap))
    grown = <Update*> realloc(lst.data, cap * sizeof(Update))
    if grown == NULL:
        return -1
    lst.data = grown
    lst.cap = cap
    return 0


cdef inline int _offer(UpdateList* out, const int32_t* idx0, Py_ssize_t K, const float* thr,
                       int32_t target, int32_t other, float dd) noexcept nogil:
    """Queue ``other`` for ``target``'s heap if it can enter: within the heap's worst distance
    at the start of the round (which only shrinks) and not already there. -1: out of memory."""
    if dd > thr[target] or rpf_holds(idx0 + target * K, K, other):
        return 0
    if out.size == out.cap and _reserve(out, out.size + 1) < 0:
        return -1
    out.data[out.size].target = target
    out.data[out.size].other = other
    out.data[out.size].d = dd
    out.size = out.size + 1
    return 0


cdef inline void _prefetch_hub(const float* x0, Py_ssize_t d, const int32_t* cn, Py_ssize_t nn,
                               const int32_t* co, Py_ssize_t no) noexcept nogil:
    cdef Py_ssize_t a
    for a in range(nn):
        rpf_prefetch(x0 + cn[a] * d, d)
    for a in range(no):
        rpf_prefetch(x0 + co[a] * d, d)


cdef inline int _join_member(const float* x0, Py_ssize_t d, const int32_t* idx0, Py_ssize_t K,
                             const float* thr, int32_t p, const int32_t* others, Py_ssize_t count,
                             UpdateList* out) noexcept nogil:
    """Measure p against others[:count] (equal ids skipped: mutual neighbours can take two slots
    of a list), offering each pair to both heaps. -1: out of memory."""
    cdef Py_ssize_t b
    cdef int32_t q
    cdef float dd
    for b in range(count):
        q = others[b]
        if q != p:
            dd = squared_distance_f32(x0 + p * d, x0 + q * d, d)
            if _offer(out, idx0, K, thr, p, q, dd) < 0 or _offer(out, idx0, K, thr, q, p, dd) < 0:
                return -1
    return 0


cdef int _join_hubs(const float* x0, Py_ssize_t d, const int32_t* idx0, Py_ssize_t K,
                    const float* thr, const int32_t* new_c, const int32_t* new_n, Py_ssize_t S,
                    const int32_t* old_c, const int32_t* old_n, Py_ssize_t So, Py_ssize_t u0,
                    Py_ssize_t u1, UpdateList* out) noexcept nogil:
    """The local join of hubs u0..u1-1: every new x new and new x old pair of a hub's candidate
    lists measured once and offered to both heaps. -1: out of memory."""
    cdef Py_ssize_t u, a, nn, no
    cdef const int32_t* cn
    cdef const int32_t* co
    if u0 < u1:
        _prefetch_hub(x0, d, new_c + u0 * S, new_n[u0], old_c + u0 * So, old_n[u0])
    for u in range(u0, u1):
        cn = new_c + u * S
        co = old_c + u * So
        nn = new_n[u]
        no = old_n[u]
        if u + 1 < u1:
            # the lists' members are scattered over X: ask for the next hub's rows now
            _prefetch_hub(x0, d, new_c + (u + 1) * S, new_n[u + 1], old_c + (u + 1) * So,
                          old_n[u + 1])
        for a in range(nn):
            # new x (later) new, then new x old
            if (_join_member(x0, d, idx0, K, thr, cn[a], cn + a + 1, nn - a - 1, out) < 0
                    or _join_member(x0, d, idx0, K, thr, cn[a], co, no, out) < 0):
                return -1
    return 0


cdef inline Py_ssize_t _part(int32_t target, Py_ssize_t n_parts, Py_ssize_t n) noexcept nogil:
    return <Py_ssize_t> ((<int64_t> target * n_parts) // n)


cdef int _bucket(const UpdateList* src, UpdateList* dst, int64_t* off, Py_ssize_t n_parts,
                 Py_ssize_t n) noexcept nogil:
    """Stable counting sort of ``src`` by target range into ``dst``; ``off`` (n_parts + 1)
    receives each range's start. -1: out of memory."""
    cdef Py_ssize_t e, part
    if _reserve(dst, src.size) < 0:
        return -1
    for part in range(n_parts + 1):
        off[part] = 0
    for e in range(src.size):
        off[_part(src.data[e].target, n_parts, n) + 1] += 1
    for part in range(n_parts):
        off[part + 1] += off[part]
    for e in range(src.size):
        part = _part(src.data[e].target, n_parts, n)
        dst.data[off[part]] = src.data[e]
        off[part] += 1
    # the fill advanced each start to the next range's start: shift back
    for part in range(n_parts, 0, -1):
        off[part] = off[part - 1]
    off[0] = 0
    dst.size = src.size
    return 0


cdef void _free_lists(UpdateList* lists, Py_ssize_t count) noexcept nogil:
    cdef Py_ssize_t a
    if lists == NULL:
        return
    for a in range(count):
        free(lists[a].data)
    free(lists)


def descent_round(const float[:, ::1] X, float[:, ::1] dist, int32_t[:, ::1] idx, uint8_t[:, ::1] flag,
                  const int32_t[:, ::1] new_c, const int32_t[::1] new_n, const int32_t[:, ::1] old_c,
                  const int32_t[::1] old_n, int n_jobs=1):
    """One round of NN-descent's local join; returns the insertions into the heaps.

    New entries of each point's heap that were sampled as its candidates this round are marked
    old first. Then, for every hub u, each new x new and new x old pair of u's candidate lists
    is measured once; a pair that can enter a heap (closer than the heap's worst at the start of
    the round, not already in it) is queued for it. The queue of 4096 hubs at a time is sorted
    by target range and applied range by range, each range by one thread, in hub order: the
    heaps receive the same updates in the same order whatever the thread count.

    Parameters
    ----------
    X : (N, d) float32
    dist, idx, flag : (N, K) heaps, updated in place.
    new_c, new_n, old_c, old_n : from :func:`sample_candidates`.
    n_jobs : int
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], K = dist.shape[1]
    cdef Py_ssize_t S = new_c.shape[1], So = old_c.shape[1]
    cdef Py_ssize_t n_parts = min(<Py_ssize_t> JOIN_PARTS, max(<Py_ssize_t> 1, n))
    cdef Py_ssize_t n_chunks = (n + JOIN_CHUNK - 1) // JOIN_CHUNK
    cdef Py_ssize_t v, a, b, c, c0, nb, part, e, u0, u1
    cdef int n_threads = max(1, n_jobs)
    cdef int32_t w
    cdef int64_t cnt, total = 0
    cdef float* thr = <float*> malloc(max(1, n) * sizeof(float))
    cdef UpdateList* scratch = <UpdateList*> calloc(n_threads, sizeof(UpdateList))
    cdef UpdateList* slots = <UpdateList*> calloc(JOIN_BLOCK, sizeof(UpdateList))
    cdef int64_t* offs = <int64_t*> malloc(JOIN_BLOCK * (n_parts + 1) * sizeof(int64_t))
    cdef int64_t* counts = <int64_t*> calloc(n_parts, sizeof(int64_t))
    cdef uint8_t* failed = <uint8_t*> calloc(JOIN_BLOCK, 1)
    cdef UpdateList* scr
    cdef Update* up
    cdef const float* x0 = &X[0, 0] if n > 0 else NULL
    cdef const int32_t* idx0 = &idx[0, 0] if n > 0 else NULL
    try:
        if thr == NULL or scratch == NULL or slots == NULL or offs == NULL or counts == NULL or failed == NULL:
            raise MemoryError()
        if n == 0 or K == 0:
            return 0
        for v in prange(n, nogil=True, num_threads=n_threads, schedule="static"):
            for a in range(K):
                if flag[v, a]:
                    w = idx[v, a]
                    for b in range(new_n[v]):
                        if new_c[v, b] == w:
                            flag[v, a] = 0
                            break
            thr[v] = dist[v, 0]
        for c0 in range(0, n_chunks, JOIN_BLOCK):
            nb = min(<Py_ssize_t> JOIN_BLOCK, n_chunks - c0)
            for c in prange(nb, nogil=True, num_threads=n_threads, schedule="dynamic"):
                scr = scratch + threadid()
                scr.size = 0
                u0 = (c0 + c) * JOIN_CHUNK
                u1 = min(n, u0 + JOIN_CHUNK)
                if (_join_hubs(x0, d, idx0, K, thr, &new_c[0, 0], &new_n[0], S, &old_c[0, 0],
                               &old_n[0], So, u0, u1, scr) < 0
                        or _bucket(scr, slots + c, offs + c * (n_parts + 1), n_parts, n) < 0):
                    failed[c] = 1
            for c in range(nb):
                if failed[c]:
                    raise MemoryError()
            for part in prange(n_parts, nogil=True, num_threads=n_threads, schedule="dynamic"):
                cnt = 0
                for c in range(nb):
                    for e in range(offs[c * (n_parts + 1) + part], offs[c * (n_parts + 1) + part + 1]):
                        up = slots[c].data + e
                        cnt = cnt + knn_push(&dist[up.target, 0], &idx[up.target, 0],
                                             &flag[up.target, 0], K, up.d, up.other)
                counts[part] += cnt
        for part in range(n_parts):
            total += counts[part]
        return total
    finally:
        free(thr)
        _free_lists(scratch, n_threads)
        _free_lists(slots, JOIN_BLOCK)
        free(offs)
        free(counts)
        free(failed)
