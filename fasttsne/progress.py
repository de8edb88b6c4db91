"""What fasttsne tells the user while it works: one timing line per phase and a progress bar.

Both are quiet unless asked for (``verbose=True``). The phase lines go to standard output
(they are the run's log); the bar goes to standard error through tqdm, redraws in place on
a terminal and disappears when its phase ends, leaving the phase's one-line summary.

Deep callees (the affinity model, say) do not take a ``verbose`` argument: they time their
steps with :func:`phase`, which reports only inside a :func:`reporting` block that the
public entry point opens with its own ``verbose``.
"""
import contextlib
import contextvars
import sys
import time

__all__ = ["phase", "reporting", "is_reporting", "IterationProgress", "KL_EVERY"]

#: Iterations between two KL evaluations shown on the bar (KL costs a pass over P).
KL_EVERY = 50
#: Shortest time between two redraws of the bar, seconds (keeps logs and pipes small).
_MIN_REDRAW_S = 0.2

_REPORTING = contextvars.ContextVar("fasttsne_reporting", default=False)


@contextlib.contextmanager
def reporting(verbose):
    """Make the :func:`phase` blocks inside print their timing when ``verbose`` is true.

    Nested blocks inherit the outer setting unless they ask for verbosity themselves, so a
    quiet inner call cannot silence an outer verbose run.
    """
    token = _REPORTING.set(bool(verbose) or _REPORTING.get())
    try:
        yield
    finally:
        _REPORTING.reset(token)


def is_reporting():
    """True inside a ``reporting(True)`` block."""
    return _REPORTING.get()


@contextlib.contextmanager
def phase(label, verbose=None):
    """Time the block and print ``fasttsne: <label> <seconds> s`` when reporting.

    Parameters
    ----------
    label : str
        What the phase does, e.g. "neighbours".
    verbose : bool, optional
        Print regardless of the enclosing :func:`reporting` block (True) or never (False).
    """
    t0 = time.perf_counter()
    yield
    if is_reporting() if verbose is None else verbose:
        print(f"fasttsne: {label} {time.perf_counter() - t0:.2f} s", flush=True)


class IterationProgress:
    """A tqdm bar over optimisation iterations showing the latest KL and the ETA.

    The optimiser calls :meth:`update` once per iteration, with the KL divergence on the
    iterations where it was computed (every :attr:`kl_every`) and None otherwise.

    Parameters
    ----------
    total : int
        Iterations in this phase.
    desc : str
        Shown before the bar, e.g. "exaggeration 12".
    file : writable text stream, optional
        Where the bar is drawn (default: standard error at the time of the call).
    kl_every : int, default KL_EVERY
    """

    def __init__(self, total, desc, file=None, kl_every=KL_EVERY):
        # plain tqdm, not tqdm.auto: the notebook widget fails without ipywidgets
        from tqdm import tqdm
        self.kl_every = int(kl_every)
        self._bar = tqdm(total=int(total), desc=f"fasttsne: {desc}", unit="it", leave=False,
                         file=sys.stderr if file is None else file, mininterval=_MIN_REDRAW_S,
                         dynamic_ncols=True)

    def update(self, kl=None):
        """One more iteration done; ``kl`` (nats) when it was computed."""
        if kl is not None:
            self._bar.set_postfix_str(f"KL {kl:.4f}", refresh=False)
        self._bar.update(1)

    def close(self):
        self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
