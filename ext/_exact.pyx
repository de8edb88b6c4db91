# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Exact O(N^2) repulsive term of the t-SNE gradient.

For small N and as the reference the approximations are tested against. With the
heavy-tailed kernel w_ij = (1 + d_ij^2 / dof)^(-dof) (dof = 1 is the Cauchy kernel
of standard t-SNE) the repulsive force on point i is

    F_i = sum_{j != i} w_ij^(1 + 1/dof) (y_i - y_j)      (unnormalised)
    Z   = sum_{i != j} w_ij

and the repulsive part of the gradient (divided by 4) is F_i / Z.
"""
from cython.parallel cimport prange

from _kernels cimport KernelValue, tsne_kernel


def negative_gradient(const double[:, ::1] Y, double dof, double[:, ::1] out,
                      double[::1] z_per_point, int n_jobs=1):
    """Write the unnormalised repulsive forces into ``out`` and return Z.

    Parameters
    ----------
    Y : (N, d) float64, C-contiguous
        Positions.
    dof : float
        Degrees of freedom of the kernel (> 0).
    out : (N, d) float64
        Overwritten with F_i.
    z_per_point : (N,) float64
        Scratch: row sums of w, summed serially so Z does not depend on n_jobs.
    n_jobs : int
        OpenMP threads.
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1]
    cdef Py_ssize_t i, j, k
    cdef double d2, diff, zi
    cdef KernelValue kv
    cdef bint cauchy = dof == 1.0
    cdef double Z = 0.0
    for i in prange(n, nogil=True, num_threads=n_jobs, schedule="static"):
        for k in range(d):
            out[i, k] = 0.0
        zi = 0.0
        for j in range(n):
            if j == i:
                continue
            d2 = 0.0
            for k in range(d):
                diff = Y[i, k] - Y[j, k]
                d2 = d2 + diff * diff
            kv = tsne_kernel(d2, dof, cauchy)
            zi = zi + kv.w
            for k in range(d):
                out[i, k] += kv.wq * (Y[i, k] - Y[j, k])
        z_per_point[i] = zi
    for i in range(n):
        Z += z_per_point[i]
    return Z
