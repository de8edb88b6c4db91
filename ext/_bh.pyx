# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Barnes-Hut approximation of the t-SNE repulsion in 1, 2 or 3 dimensions.

With the kernel w_ij = (1 + d_ij^2 / dof)^(-dof) the repulsion on point i is

    F_i = sum_{j != i} w_ij^(1 + 1/dof) (y_i - y_j),     Z = sum_{i != j} w_ij.

A 2^d-ary space-partitioning tree (a quad-tree in 2-D) groups the points; a node whose
points are compact as seen from y_i (diagonal of the points' bounding box < theta *
distance to their centre of mass) acts as count * kernel(centre of mass). theta = 0 never
summarises and gives the exact sums. The bounding box is the points' own, tighter than
the fixed cell of a classic quad-tree; its diagonal (not its side) makes a given theta
about as accurate as openTSNE's (cell side) criterion on real embeddings.

Layout: the tree lives in flat C arrays owned by a :class:`SpaceTree` and reused from
one build to the next (they only grow, geometrically): one 48-byte ``Node`` record per
node (what a visit reads fits in one cache line) and the points in tree order, zero-padded
to 3 coordinates so distance loops have a fixed length. Building sorts the points so
every node is a contiguous range [start, start + count) of that order, which makes leaf
loops cache-friendly and lets "does this node contain point p" be a range test.

Each node splits at the centre of its points' bounding box (not of a fixed cell), so a
far outlier costs one extra level, not dozens of empty ones, and every split of a node
with a non-zero extent separates its extreme points. Nodes whose points all coincide are
never split: they are summarised exactly (count - self, at their common position).
"""
from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy

from _kernels cimport KernelValue, tsne_kernel

import numpy as np

cdef enum:
    _MAX_DIMS = 3
    _MAX_CHILDREN = 8          # 2 ** _MAX_DIMS
    _LEAF_SIZE = 8             # points a node may hold before it is split (1-8 time alike at
                               # 70k points; 16+ is slower: more exact pairs per leaf)
    _MAX_DEPTH = 64            # a split that stops separating points (float ties) ends here
    _MIN_NODE_CAPACITY = 64

#: A node with at most this many points is a leaf (its points are visited one by one).
LEAF_SIZE = _LEAF_SIZE
#: Depth below which no node is split, whatever its points (guards against float ties).
MAX_DEPTH = _MAX_DEPTH


cdef struct Node:
    # One cache line per visited node: everything the traversal reads about it.
    double com[_MAX_DIMS]      # centre of mass, zero-padded beyond d
    double size2               # squared diagonal of the points' bounding box
    int count                  # points in the node
    int start                  # its first point in tree order
    int first_child            # children are first_child .. first_child + n_children - 1
    int n_children             # 0 for a leaf


cdef inline bint _regrow(void** buf, size_t nbytes) noexcept nogil:
    """Resize the malloc'd block ``buf[0]`` to ``nbytes``; False, the block kept as it was,
    when memory ran out."""
    cdef void* grown = realloc(buf[0], nbytes)
    if grown == NULL:
        return False
    buf[0] = grown
    return True


cdef double _kernel_sums(const Node* nodes, const double* ys, const double* q, int p_self,
                         double theta2, double dof, int* stack, double* f_out,
                         int d) noexcept nogil:
    """Approximate sum_j w(q, y_j) (returned) and sum_j w^(1+1/dof) (q - y_j) (into f_out).

    ``ys`` are the tree's points in tree order and ``q`` the query, both zero-padded to
    _MAX_DIMS coordinates so every distance is one fixed-length (unrolled) loop.
    ``p_self`` is q's own position in tree order (it is left out of the sums) or -1 when q
    is not a tree point. ``stack`` holds at least 1 + depth * (2^d - 1) + 2^d ints. The
    first ``d`` entries of ``f_out`` are written.
    """
    cdef int sp = 1, node, cnt, s, p, c, k, nch
    cdef bint own, cauchy = dof == 1.0
    cdef double d2, diff, wq, mult
    cdef KernelValue kv
    cdef double z = 0.0
    cdef double f[_MAX_DIMS]
    cdef double delta[_MAX_DIMS]
    cdef const double* y
    cdef const Node* nd
    for k in range(_MAX_DIMS):
        f[k] = 0.0
    stack[0] = 0
    while sp > 0:
        sp -= 1
        node = stack[sp]
        nd = nodes + node
        cnt = nd.count
        s = nd.start
        own = s <= p_self < s + cnt
        d2 = 0.0
        for k in range(_MAX_DIMS):
            diff = q[k] - nd.com[k]
            delta[k] = diff
            d2 = d2 + diff * diff
        # A node containing q itself is never summarised (it would add w_ii = 1 and pull
        # q towards the node), except when all its points coincide, where it is exact.
        if nd.size2 == 0.0 or (not own and nd.size2 < theta2 * d2):
            mult = cnt - 1 if own else cnt
            kv = tsne_kernel(d2, dof, cauchy)
            z = z + mult * kv.w
            wq = mult * kv.wq
            for k in range(_MAX_DIMS):
                f[k] += wq * delta[k]
            continue
        nch = nd.n_children
        if nch == 0:
            for p in range(s, s + cnt):
                if p == p_self:
                    continue
                y = ys + p * _MAX_DIMS
                d2 = 0.0
                for k in range(_MAX_DIMS):
                    diff = q[k] - y[k]
                    delta[k] = diff
                    d2 = d2 + diff * diff
                kv = tsne_kernel(d2, dof, cauchy)
                z = z + kv.w
                for k in range(_MAX_DIMS):
                    f[k] += kv.wq * delta[k]
            continue
        # pushed in reverse so children are visited in order (any fixed order is deterministic)
        for c in range(nch - 1, -1, -1):
            stack[sp] = nd.first_child + c
            sp += 1
    for k in range(d):
        f_out[k] = f[k]
    return z


cdef class SpaceTree:
    """A 2^d-ary Barnes-Hut tree over points in 1-3 dimensions, rebuilt in place.

    Parameters
    ----------
    n_components : int in {1, 2, 3}
        Dimension of the points it will hold.

    Attributes
    ----------
    n_points : int
        Points of the last build.
    n_nodes : int
        Nodes of the last build (leaves included).
    max_depth : int
        Depth of the deepest node of the last build (the root is 0).

    Notes
    -----
    One instance is meant to be rebuilt every optimisation step (:meth:`build`); its
    buffers are kept and only grow. It is not thread-safe and not picklable (the Python
    wrappers rebuild it from positions).
    """

    cdef int d
    cdef readonly int n_points, n_nodes, max_depth
    cdef int cap_points, cap_nodes
    cdef Node* nodes
    cdef int* depth       # (cap_nodes,) depth of each node, for the split cap and stack size
    cdef int* perm        # perm[p]: index (in the caller's array) of the p-th point in tree order
    cdef int* code        # scratch: child slot of each point during a split
    cdef int* scratch     # scratch: partitioned indices during a split
    cdef double* ys       # (n_points, _MAX_DIMS) positions in tree order, zero-padded

    def __cinit__(self, int n_components):
        if not 1 <= n_components <= _MAX_DIMS:
            raise ValueError(f"SpaceTree supports 1 to {_MAX_DIMS} dimensions, got {n_components}.")
        self.d = n_components
        self.n_points = self.cap_points = self.n_nodes = self.cap_nodes = self.max_depth = 0
        self.nodes = NULL
        self.ys = NULL
        self.depth = self.perm = self.code = self.scratch = NULL

    def __dealloc__(self):
        free(self.nodes)
        free(self.ys)
        free(self.depth)
        free(self.perm)
        free(self.code)
        free(self.scratch)

    @property
    def n_components(self):
        return self.d

    def node_arrays(self):
        """Copies of the last build's node arrays, for inspection and tests.

        Returns
        -------
        dict with ``count`` (n_nodes,) int, ``start`` (n_nodes,) int, ``first_child``
        (n_nodes,) int, ``n_children`` (n_nodes,) int, ``center_of_mass`` (n_nodes, d)
        float64, ``size`` (n_nodes,) float64 (diagonal of the points' bounding box, in
        embedding units) and ``order`` (n_points,) int (caller's index of each point in
        tree order).
        """
        cdef Py_ssize_t m = self.n_nodes, n = self.n_points, i, k
        out = {name: np.empty(m, dtype=np.intc) for name in ("count", "start", "first_child", "n_children")}
        com = np.empty((m, self.d))
        size = np.empty(m)
        order = np.empty(n, dtype=np.intc)
        for i in range(m):
            out["count"][i] = self.nodes[i].count
            out["start"][i] = self.nodes[i].start
            out["first_child"][i] = self.nodes[i].first_child
            out["n_children"][i] = self.nodes[i].n_children
            size[i] = self.nodes[i].size2 ** 0.5
            for k in range(self.d):
                com[i, k] = self.nodes[i].com[k]
        for i in range(n):
            order[i] = self.perm[i]
        out.update(center_of_mass=com, size=size, order=order)
        return out

    cdef int _reserve_points(self, int n) noexcept nogil:
        if n <= self.cap_points:
            return 0
        # every buffer is tried, so those that grew are kept even when one could not
        cdef bint ok = _regrow(<void**> &self.perm, n * sizeof(int))
        ok = _regrow(<void**> &self.code, n * sizeof(int)) and ok
        ok = _regrow(<void**> &self.scratch, n * sizeof(int)) and ok
        ok = _regrow(<void**> &self.ys, n * _MAX_DIMS * sizeof(double)) and ok
        if not ok:
            return -1
        self.cap_points = n
        return 0

    cdef int _reserve_nodes(self, int n) noexcept nogil:
        if n <= self.cap_nodes:
            return 0
        cdef int cap = max(n, 2 * self.cap_nodes, <int> _MIN_NODE_CAPACITY)
        cdef bint ok = _regrow(<void**> &self.nodes, cap * sizeof(Node))
        ok = _regrow(<void**> &self.depth, cap * sizeof(int)) and ok
        if not ok:
            return -1
        self.cap_nodes = cap
        return 0

    cdef int _build(self, const double[:, ::1] Y) noexcept nogil:
        """Build the tree over the rows of Y; -1 when out of memory."""
        cdef int n = self.n_points, d = self.d, n_slots = 1 << self.d
        cdef int cur, s, cnt, p, j, k, b, c, slot, child
        cdef double v, diag2, extent
        cdef double lo[_MAX_DIMS]
        cdef double hi[_MAX_DIMS]
        cdef double acc[_MAX_DIMS]
        cdef double mid[_MAX_DIMS]
        cdef int filled[_MAX_CHILDREN]
        cdef int offset[_MAX_CHILDREN]
        cdef Node* nd
        for p in range(n):
            self.perm[p] = p
        if self._reserve_nodes(max(<int> _MIN_NODE_CAPACITY, n // 2)) < 0:
            return -1
        self.n_nodes = 1
        self.max_depth = 0
        self.nodes[0].start = 0
        self.nodes[0].count = n
        self.depth[0] = 0
        # Nodes are created in breadth-first order and processed in creation order, so the
        # node array is its own work queue and siblings are contiguous.
        cur = 0
        while cur < self.n_nodes:
            nd = self.nodes + cur
            s = nd.start
            cnt = nd.count
            for k in range(_MAX_DIMS):
                lo[k] = INFINITY
                hi[k] = -INFINITY
                acc[k] = 0.0
                nd.com[k] = 0.0
            for p in range(s, s + cnt):
                j = self.perm[p]
                for k in range(d):
                    v = Y[j, k]
                    acc[k] += v
                    if v < lo[k]:
                        lo[k] = v
                    if v > hi[k]:
                        hi[k] = v
            diag2 = 0.0
            for k in range(d):
                extent = hi[k] - lo[k]
                diag2 += extent * extent
            nd.size2 = diag2
            nd.first_child = self.n_nodes
            nd.n_children = 0
            if diag2 == 0.0:
                # coincident points: their exact common position, not a rounded mean
                for k in range(d):
                    nd.com[k] = Y[self.perm[s], k]
                cur += 1
                continue
            for k in range(d):
                nd.com[k] = acc[k] / cnt
            if cnt <= _LEAF_SIZE or self.depth[cur] >= _MAX_DEPTH:
                cur += 1
                continue
            for k in range(d):
                mid[k] = lo[k] + 0.5 * (hi[k] - lo[k])
            for b in range(n_slots):
                filled[b] = 0
            for p in range(s, s + cnt):
                j = self.perm[p]
                slot = 0
                for k in range(d):
                    if Y[j, k] >= mid[k]:
                        slot = slot | (1 << k)
                self.code[p] = slot
                filled[slot] += 1
            c = 0
            for b in range(n_slots):
                offset[b] = c
                c += filled[b]
            if self._reserve_nodes(self.n_nodes + n_slots) < 0:
                return -1
            nd = self.nodes + cur      # the reservation may have moved the array
            for b in range(n_slots):
                if filled[b] == 0:
                    continue
                child = self.n_nodes
                self.n_nodes += 1
                self.nodes[child].start = s + offset[b]
                self.nodes[child].count = filled[b]
                self.depth[child] = self.depth[cur] + 1
                nd.n_children += 1
                if self.depth[child] > self.max_depth:
                    self.max_depth = self.depth[child]
            # stable counting-sort scatter keeps the order deterministic
            for p in range(s, s + cnt):
                slot = self.code[p]
                self.scratch[s + offset[slot]] = self.perm[p]
                offset[slot] += 1
            memcpy(self.perm + s, self.scratch + s, cnt * sizeof(int))
            cur += 1
        for p in range(n):
            j = self.perm[p]
            for k in range(_MAX_DIMS):
                self.ys[p * _MAX_DIMS + k] = Y[j, k] if k < d else 0.0
        return 0

    def build(self, const double[:, ::1] Y):
        """(Re)build the tree over the rows of ``Y`` (N, d) float64; Y is copied, not kept.

        Raises
        ------
        ValueError
            When Y's width is not this tree's dimension, or it is empty.
        """
        if Y.shape[1] != self.d:
            raise ValueError(f"this tree holds {self.d}-D points, got an array of shape "
                             f"{tuple(Y.shape)[:2]}.")
        if Y.shape[0] < 1:
            raise ValueError("cannot build a Barnes-Hut tree over zero points.")
        if Y.shape[0] >= 2 ** 31 // _MAX_CHILDREN:
            raise ValueError(f"too many points for a Barnes-Hut tree: {Y.shape[0]}.")
        cdef int status
        with nogil:
            status = self._reserve_points(<int> Y.shape[0])
            if status == 0:
                self.n_points = <int> Y.shape[0]
                status = self._build(Y)
        if status < 0:
            self.n_points = self.n_nodes = 0
            raise MemoryError("out of memory while building the Barnes-Hut tree.")

    cdef int* _stacks(self, int n_threads, int* per_thread) except NULL:
        # DFS pushes at most 2^d - 1 net nodes per level below the root.
        per_thread[0] = 1 + (self.max_depth + 1) * ((1 << self.d) - 1) + (1 << self.d)
        cdef int* stacks = <int*> malloc(n_threads * per_thread[0] * sizeof(int))
        if stacks == NULL:
            raise MemoryError("out of memory for the Barnes-Hut traversal stacks.")
        return stacks

    def repulsion(self, double theta, double dof, double[:, ::1] out, double[::1] z_per_point,
                  int n_jobs=1):
        """Approximate forces among the tree's own points; return Z.

        Parameters
        ----------
        theta : float >= 0
            Opening angle: a node is summarised when the diagonal of its points'
            bounding box is below theta times its distance (0: exact).
        dof : float > 0
            Kernel degrees of freedom.
        out : (N, d) float64
            Overwritten with F_i, rows in the order of the array given to :meth:`build`.
        z_per_point : (N,) float64
            Overwritten with sum_{j != i} w_ij; summed serially for an n_jobs-independent Z.
        n_jobs : int
            OpenMP threads.

        Returns
        -------
        Z : float
        """
        cdef int n = self.n_points, d = self.d
        if self.n_nodes == 0:
            raise ValueError("build the tree before computing repulsion.")
        if out.shape[0] != n or out.shape[1] != d or z_per_point.shape[0] != n:
            raise ValueError(f"out must be ({n}, {d}) and z_per_point ({n},), got "
                             f"{tuple(out.shape)[:2]} and {tuple(z_per_point.shape)[:1]}.")
        n_jobs = max(n_jobs, 1)
        cdef int per_thread
        cdef int* stacks = self._stacks(n_jobs, &per_thread)
        cdef double theta2 = theta * theta
        cdef int p, i
        cdef double Z = 0.0
        # iterate in tree order: consecutive points walk nearly the same nodes (cache reuse)
        for p in prange(n, nogil=True, num_threads=n_jobs, schedule="guided"):
            i = self.perm[p]
            z_per_point[i] = _kernel_sums(self.nodes, self.ys, self.ys + p * _MAX_DIMS, p, theta2,
                                          dof, stacks + threadid() * per_thread, &out[i, 0], d)
        free(stacks)
        for i in range(n):
            Z += z_per_point[i]
        return Z

    def repulsion_on(self, const double[:, ::1] Y_new, double theta, double dof,
                     double[:, ::1] out, double[::1] z_out, int n_jobs=1):
        """Forces of the tree's points on other points, which do not interact.

        Parameters
        ----------
        Y_new : (M, d) float64
            Positions of the new points (they are not in the tree and not each other's
            neighbours: row m's result depends on row m and the tree only).
        theta, dof, n_jobs : as in :meth:`repulsion`
        out : (M, d) float64
            Overwritten with sum_j w_mj^(1+1/dof) (y_m - y_j) over the tree's points j.
        z_out : (M,) float64
            Overwritten with sum_j w_mj.
        """
        cdef int m = <int> Y_new.shape[0], d = self.d
        if self.n_nodes == 0:
            raise ValueError("build the tree before computing repulsion.")
        if Y_new.shape[1] != d or out.shape[0] != m or out.shape[1] != d or z_out.shape[0] != m:
            raise ValueError(f"Y_new and out must be (M, {d}) and z_out (M,), got "
                             f"{tuple(Y_new.shape)[:2]}, {tuple(out.shape)[:2]} and "
                             f"{tuple(z_out.shape)[:1]}.")
        if m == 0:
            return
        n_jobs = max(n_jobs, 1)
        cdef int per_thread
        cdef int* stacks = self._stacks(n_jobs, &per_thread)
        # zero-padded copies of the queries, one row of _MAX_DIMS per new point
        cdef double[:, ::1] q = np.zeros((m, _MAX_DIMS))
        q[:, :d] = Y_new
        cdef double theta2 = theta * theta
        cdef int i
        for i in prange(m, nogil=True, num_threads=n_jobs, schedule="guided"):
            z_out[i] = _kernel_sums(self.nodes, self.ys, &q[i, 0], -1, theta2, dof,
                                    stacks + threadid() * per_thread, &out[i, 0], d)
        free(stacks)
