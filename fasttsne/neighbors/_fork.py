"""Row-parallel work in forked processes, for libraries that hold the GIL while they compute.

The annoy wheel (1.17.3) keeps the GIL during ``get_nns_by_item``, so threads give no
speed-up on queries. A forked child inherits the built index copy-on-write (no
serialisation, no files), answers its share of the rows into shared anonymous memory and
leaves with ``os._exit``. Only Linux forks: macOS system libraries are not fork-safe, and
Windows has no fork; there the work runs in the calling process.
"""
import mmap
import os
import signal
import sys
import traceback
import warnings

import numpy as np

__all__ = ["CAN_FORK", "shared_empty", "run_split"]

CAN_FORK = sys.platform.startswith("linux") and hasattr(os, "fork")
#: Fewest rows worth a process of their own: forking a large interpreter has a fixed cost
#: that a smaller share of rows would not repay (docs/neighbors.md, "Figures behind the
#: backends' constants").
MIN_ROWS_PER_PROCESS = 500


def shared_empty(shape, dtype):
    """An uninitialised array in anonymous shared memory (visible to forked children)."""
    count = int(np.prod(shape))
    buf = mmap.mmap(-1, max(1, count * np.dtype(dtype).itemsize))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


def run_split(work, n_rows, n_jobs):
    """Call ``work(start, stop)`` on contiguous ranges covering ``[0, n_rows)``.

    Up to ``n_jobs`` processes share the rows: the caller takes the first range, forked
    children the others. ``work`` must write its results into arrays from
    :func:`shared_empty` (anything else a child writes is lost when it exits).

    Raises
    ------
    RuntimeError
        When a child fails; its traceback has been printed to stderr.
    """
    n_workers = min(max(1, n_jobs), max(1, n_rows // MIN_ROWS_PER_PROCESS))
    if n_workers == 1 or not CAN_FORK:
        work(0, n_rows)
        return
    bounds = np.linspace(0, n_rows, n_workers + 1).astype(np.int64)
    children = []
    try:
        for w in range(1, n_workers):
            with warnings.catch_warnings():
                # Python >= 3.12 warns on fork in a threaded process. Safe here: the child
                # only runs the query code and _exit()s, never a lock another thread held.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # child
                status = 1
                try:
                    work(int(bounds[w]), int(bounds[w + 1]))
                    status = 0
                except BaseException:
                    traceback.print_exc()
                finally:
                    os._exit(status)
            children.append(pid)
        work(int(bounds[0]), int(bounds[1]))
    except BaseException:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        raise
    finally:
        failed = []
        for pid in children:
            _, status = os.waitpid(pid, 0)
            if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                failed.append(pid)
    if failed:
        raise RuntimeError(f"{len(failed)} worker process(es) failed while searching neighbours "
                           "(see the traceback above); retry with n_jobs=1.")
