"""The heavy-tailed t-SNE kernel ``w = (1 + d^2 / dof)^(-dof)`` and the power the forces use."""
from libc.math cimport pow


cdef struct KernelValue:
    double w     # the kernel, (1 + d^2 / dof)^(-dof): the pair's share of Z
    double wq    # w^(1 + 1/dof): the weight of (y_i - y_j) in the repulsive force


cdef inline KernelValue tsne_kernel(double d2, double dof, bint cauchy) noexcept nogil:
    """The kernel and its force power at squared distance ``d2`` (embedding units).

    ``cauchy`` must be ``dof == 1``: the Cauchy kernel of standard t-SNE,
    ``w = 1 / (1 + d2)`` and ``wq = w * w``, with no ``pow``. Returned by value (not through
    a pointer) so that a ``prange`` body assigning the result keeps it thread-private.
    """
    cdef KernelValue k
    cdef double base
    if cauchy:
        k.w = 1.0 / (1.0 + d2)
        k.wq = k.w * k.w
    else:
        base = 1.0 + d2 / dof
        k.w = pow(base, -dof)
        k.wq = k.w / base
    return k
