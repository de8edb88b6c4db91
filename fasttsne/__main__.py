"""``python -m fasttsne``: the command line (see :mod:`fasttsne.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
