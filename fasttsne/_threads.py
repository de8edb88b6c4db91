"""Threads: the user's ``n_jobs`` request is kept as given and resolved at each call.

A map saved with ``n_jobs=-1`` on a large server and loaded on a laptop then runs with the
laptop's cores: only :func:`effective_n_jobs` turns a request into a thread count, at the
moment the threads are used.
"""
import math
import numbers
import os

from threadpoolctl import threadpool_limits

from ._params import InvalidParameterError

__all__ = ["check_n_jobs", "effective_n_jobs", "available_cpus", "one_blas_thread", "MAX_N_JOBS"]

#: Largest |n_jobs| accepted: a larger request is a mistake, and libgomp would try to
#: allocate stacks for that many threads.
MAX_N_JOBS = 4096


def check_n_jobs(n_jobs, name="n_jobs"):
    """Validate a thread request without resolving it.

    Parameters
    ----------
    n_jobs : None or int
        None means 1; a positive value is that many threads; a negative value counts back
        from the usable cores (-1: all of them, -2: all but one, ...). 0 is refused.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    None or int
        The request as given (numpy integers become ``int``).

    Raises
    ------
    InvalidParameterError
    """
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise InvalidParameterError(f"{name} must be None or a non-zero integer, got {n_jobs!r}.")
    n_jobs = int(n_jobs)
    if n_jobs == 0 or abs(n_jobs) > MAX_N_JOBS:
        raise InvalidParameterError(
            f"{name} must be a non-zero integer between -{MAX_N_JOBS} and {MAX_N_JOBS} "
            f"(-1: all usable cores), got {n_jobs!r}.")
    return n_jobs


def effective_n_jobs(n_jobs):
    """The number of threads to use now for the request ``n_jobs`` (see :func:`check_n_jobs`).

    Negative requests count back from :func:`available_cpus`, so they follow the machine the
    code runs on, its CPU affinity, cgroup quota and ``OMP_NUM_THREADS``; at least 1.
    """
    n_jobs = check_n_jobs(n_jobs)
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, available_cpus() + 1 + n_jobs)
    return n_jobs


def available_cpus():
    """Cores this process may use: CPU affinity, capped by a cgroup CPU quota and by a
    positive ``OMP_NUM_THREADS`` (the conventional cap for OpenMP code); at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    if quota is not None:
        n = min(n, quota)
    omp = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if omp.isdigit() and int(omp) > 0:
        n = min(n, int(omp))
    return max(1, n)


def _cgroup_cpu_quota():
    """Whole CPUs allowed by a cgroup v2 or v1 quota, or None when there is none."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        if quota > 0 and period > 0:
            return max(1, math.ceil(quota / period))
    except (OSError, ValueError):
        pass
    return None


def one_blas_thread():
    """A context in which BLAS calls (numpy's, scipy's, a kernel's ``cython_blas``) run on one
    thread each: for kernels whose own threads each call BLAS, where BLAS threads on top of
    them would compete for the same cores."""
    return threadpool_limits(limits=1, user_api="blas")
