"""What the commands tell the person at the terminal while they work: progress and timings,
shown with ``--verbose``, hidden with ``--quiet``, and by default only on a terminal."""
import contextlib
import sys

from ..progress import phase

__all__ = ["verbose", "say", "timed"]


def verbose(args):
    """--verbose / --quiet, else on when someone watches a terminal."""
    return sys.stderr.isatty() if args.verbose is None else args.verbose


def say(args, message):
    """Print ``fasttsne: message`` when verbose."""
    if verbose(args):
        print(f"fasttsne: {message}", flush=True)


@contextlib.contextmanager
def timed(args, label):
    """Time the block as one phase ``label`` (one line with its seconds when verbose)."""
    with phase(label, verbose(args)):
        yield
