"""Command-line interface: ``fasttsne <command>`` or ``python -m fasttsne <command>``.

Commands: ``embed`` (data file -> positions, optionally a plot and a reference map),
``transform`` (place new points into a saved map; on a Dask cluster with ``--scheduler``),
``score`` (the quality report of a saved map) and ``demo``. Mistakes a user can make
(a missing file, a wrong column, a bad value) end with one line on standard error,
``fasttsne: error: ...``, and exit status 2; never a traceback.

One module per job: ``app`` (the parser and the entry point), one module per command
(``embed``, ``transform``, ``score``, ``demo``: its options and what it does), ``options``
(parsing shared by the commands), ``reading`` (input files), ``writing`` (positions and
pictures), ``console`` (progress and timings) and ``errors`` (exit statuses, user mistakes
versus bugs).
"""
from .errors import EXIT_INTERRUPTED, EXIT_USAGE, UserError
from .app import build_parser, main
from .reading import read_data
from .writing import write_positions

__all__ = ["main", "build_parser", "read_data", "write_positions", "UserError", "EXIT_USAGE", "EXIT_INTERRUPTED"]
