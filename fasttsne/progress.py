"""What fasttsne tells the user while it works: one timing line per phase and a progress bar.

Both are quiet unless asked for (``verbose=True``); the library never writes to standard
output. The lines are ``logging`` records of the logger ``"fasttsne"`` at level INFO (see
:func:`info`): where logging is configured to show them they go to its handlers, otherwise a
verbose run shows them on standard error as ``fasttsne: <message>``. The bar goes to
standard error through tqdm, redraws in place on a terminal and disappears when its phase
ends, leaving the phase's one-line summary. With no standard error (``sys.stderr`` is None,
as in some GUI launchers) both are dropped.

Deep callees (the affinity model, say) do not take a ``verbose`` argument: they time their
steps with :func:`phase`, which reports only inside a :func:`reporting` block that the
public entry point opens with its own ``verbose``.
"""
import contextlib
import contextvars
import logging
import sys
import time

__all__ = ["phase", "reporting", "is_reporting", "info", "IterationProgress", "KL_EVERY", "logger"]

#: The library's logger; a NullHandler keeps Python's last-resort handler from printing records
#: that nobody asked for.
logger = logging.getLogger("fasttsne")
logger.addHandler(logging.NullHandler())

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
        info("%s %.2f s", label, time.perf_counter() - t0)


class _StderrHandler(logging.Handler):
    """Writes to the ``sys.stderr`` of the moment (test runners and notebooks replace it), and
    drops the record when there is none."""

    def emit(self, record):
        stream = sys.stderr
        if stream is None:
            return
        try:
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # a closed or broken stream must not stop the computation
            self.handleError(record)


_STDERR = _StderrHandler()
_STDERR.setFormatter(logging.Formatter("fasttsne: %(message)s"))


def info(message, *args):
    """Log a line a verbose run asked for (``message % args``) on the "fasttsne" logger.

    Where logging is configured to show INFO records of "fasttsne", the record goes to its
    handlers; otherwise it is written to standard error, so ``verbose=True`` works without any
    logging set-up and never prints a line twice.
    """
    if logger.isEnabledFor(logging.INFO):
        logger.info(message, *args)
    else:
        _STDERR.handle(logger.makeRecord(logger.name, logging.INFO, __file__, 0, message, args, None))


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
        file = sys.stderr if file is None else file
        self._bar = tqdm(total=int(total), desc=f"fasttsne: {desc}", unit="it", leave=False, file=file,
                         mininterval=_MIN_REDRAW_S, dynamic_ncols=True, disable=file is None)

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
