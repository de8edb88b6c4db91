"""How the command line ends: exit statuses, and which exceptions are the user's mistakes
(one line on standard error) rather than bugs (a traceback)."""
import os
import sys

#: Exit status for user mistakes (argparse uses the same for bad arguments).
EXIT_USAGE = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

#: fasttsne's own Python sources: a ValueError or TypeError raised there is a checked,
#: worded refusal of the input; raised anywhere else (numpy, a compiled kernel) it is a bug.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class UserError(Exception):
    """A mistake in the command line or the input files; printed as one line."""


def is_user_error(e):
    """Whether ``e`` reports a problem with the user's input or files (one line, status 2)
    rather than a bug (traceback): fasttsne's own errors, files and missing packages, and the
    ValueError/TypeError messages fasttsne's Python code raises itself."""
    if isinstance(e, (UserError, OSError, ImportError)):
        return True
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = os.path.abspath(tb.tb_frame.f_code.co_filename) if tb is not None else ""
    return where.endswith(".py") and os.path.dirname(where).startswith(_PACKAGE_DIR)


def show_warning(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` for the command line: one line per warning, no source line."""
    print(f"fasttsne: warning: {message}", file=sys.stderr if file is None else file, flush=True)


def run_command(func, args):
    """Run ``func(args)``; return its exit status, or the status of the mistake that ended it.

    Ctrl-C gives :data:`EXIT_INTERRUPTED`; a user's mistake (see :func:`is_user_error`) one line
    ``fasttsne: error: ...`` on standard error and :data:`EXIT_USAGE`; anything else propagates
    with its traceback, which is what a bug report needs.
    """
    try:
        return func(args)
    except KeyboardInterrupt:
        print("fasttsne: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UserError, ValueError, TypeError, OSError, ImportError) as e:
        if not is_user_error(e):
            raise
        print(f"fasttsne: error: {e}", file=sys.stderr)
        return EXIT_USAGE
