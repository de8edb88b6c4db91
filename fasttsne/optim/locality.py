"""Renumbering the points of a large fit along a space-filling curve while it optimises.

Every iteration reads ``Y[j]`` for each of P's ~3 * perplexity neighbours ``j`` of every
point, and the FFT repulsion scatters every point onto its grid box and gathers its
potentials back. In the user's order those are random reads over all of ``Y``: once the
positions outgrow the per-core caches the attraction runs several times slower than its
arithmetic. Optimising the points numbered along a Morton curve of their positions makes both
nearly sequential; the numbering is refreshed as the layout moves. The measurements behind this
(and behind ``MIN_SAMPLES``) are in docs/performance.md, item 15, with ``benchmarks/locality.py``.

P's rows must be copied into curve order for the reads to become sequential (renumbering only the
column indices leaves each row starting at a random place), so the optimisation works on a
private copy of P, renumbered (8 bytes per entry of P: float32 values and int32 indices for the
k-NN models), and on private copies of the positions and optimiser state; nothing the caller
holds changes until the run ends and the positions and state are written back. Other threads
and embeddings sharing P are unaffected. The copy is why only fits of at least ``MIN_SAMPLES``
points are renumbered.
"""
import dataclasses
import signal
import threading
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from .._ext import _fft, _order

__all__ = ["SpatialOrder", "MIN_SAMPLES", "REORDER_EVERY"]

#: Fits with fewer points keep the caller's order: their positions fit in a core's cache, so
#: random reads of them are cheap, and the copy of P would cost memory for no gain in a whole
#: fit (docs/performance.md, item 15).
MIN_SAMPLES = 200_000
#: Iterations between two renumberings (the layout moves little in 50 steps).
REORDER_EVERY = 50


class SpatialOrder:
    """The points of one optimisation, numbered along a Morton curve of their positions.

    Parameters
    ----------
    P : (N, N) CSR with int32 indptr and indices
        The affinities (read only).
    n_jobs : int

    Attributes
    ----------
    rows : (N,) int32 or None
        ``rows[i]`` is the caller's index of the point at position ``i``; None outside
        :meth:`enter` / :meth:`leave`.
    P_local : (N, N) CSR or None
        P renumbered: ``P_local[a, b] = P[rows[a], rows[b]]``.
    Y : (N, d) float64 or None
        The positions in curve order, which the optimisation moves.
    state : OptimizerState or None
        The optimiser state in curve order.
    """

    def __init__(self, P, n_jobs=1):
        self.P, self.n_jobs = P, n_jobs
        self.rows = self.P_local = self.Y = self.state = None

    @staticmethod
    def worthwhile(n_samples, n_components):
        """Whether a fit of this size gains from the renumbering."""
        return n_samples >= MIN_SAMPLES and n_components <= 3

    def enter(self, Y, state):
        """Number the points along the curve through ``Y`` (N, d); return the positions and
        the optimiser state in that order (copies: ``Y`` and ``state`` are not modified)."""
        rows = self._curve_order(Y)
        self.Y = Y[rows]
        self.state = dataclasses.replace(state, update=state.update[rows], gains=state.gains[rows])
        self.P_local = self._renumbered(rows)
        self.rows = rows
        return self.Y, self.state

    def refresh(self):
        """Renumber by the current positions: :attr:`Y` and :attr:`state` are permuted in place
        and :attr:`P_local` rebuilt. Ctrl-C is held back until they all agree again."""
        arrays = (self.Y, self.state.update, self.state.gains)
        step = self._curve_order(self.Y)
        moved = [a[step] for a in arrays]
        rows = self.rows[step]
        with _deferred_interrupt():
            for a, b in zip(arrays, moved):
                a[...] = b
            del moved
            # rebuilt from P into its own arrays: no second copy, no fresh pages to fault in
            self.P_local = self._renumbered(rows, out=self.P_local)
            self.rows = rows

    def user_order(self, Y_local):
        """A copy of positions ``Y_local`` (N, d) in the caller's order."""
        out = np.empty_like(Y_local)
        out[self.rows] = Y_local
        return out

    def leave(self, Y, state):
        """Write the positions and the optimiser state back into ``Y`` and ``state`` (the
        caller's order), all or nothing, and free the copies; nothing to do if :meth:`enter`
        did not complete."""
        with _deferred_interrupt():
            if self.rows is None:
                return
            Y[self.rows] = self.Y
            state.update[self.rows] = self.state.update
            state.gains[self.rows] = self.state.gains
            state.n_iter = self.state.n_iter
            self.rows = self.P_local = self.Y = self.state = None

    def _curve_order(self, Y):
        lo, hi = np.empty(Y.shape[1]), np.empty(Y.shape[1])
        _fft.extent(Y, lo, hi)  # non-finite positions only cost locality here; the FFT reports them
        keys = np.empty(Y.shape[0], dtype=np.uint64)
        _order.morton_keys(Y, lo, hi, keys)
        return np.argsort(keys, kind="stable").astype(np.int32)

    def _renumbered(self, rows, out=None):
        """P with its points in the order ``rows``, in the arrays of ``out`` when given."""
        P = self.P
        if out is None:
            indptr = np.empty(P.shape[0] + 1, dtype=np.int32)
            _order.permuted_indptr(P.indptr, rows, indptr)
            out = sp.csr_matrix((np.empty_like(P.data), np.empty_like(P.indices), indptr), shape=P.shape,
                                copy=False)
        else:
            _order.permuted_indptr(P.indptr, rows, out.indptr)
        _order.gather_rows(P.indptr, P.indices, P.data, rows, _inverse(rows), out.indptr, out.indices,
                           out.data, self.n_jobs)
        return out


def _inverse(order):
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0], dtype=order.dtype)
    return rank


@contextmanager
def _deferred_interrupt():
    """Hold back Ctrl-C until the block is done, so the copies (or the caller's arrays being
    written back) are never left half permuted.

    Only the main thread receives signals; elsewhere there is nothing to defer.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        # None: a handler not installed from Python, which cannot be put back from here
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
        if received:
            raise KeyboardInterrupt
