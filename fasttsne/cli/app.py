"""The ``fasttsne`` parser, made of each command's own, and the entry point that runs one."""
import warnings

from .._version import __version__
from . import demo, embed, score, transform
from .errors import run_command, show_warning
from .options import Parser

__all__ = ["build_parser", "main"]

#: The commands, in the order ``fasttsne --help`` lists them; each module adds its parser.
COMMANDS = (embed, transform, score, demo)


def build_parser():
    """The ``fasttsne`` argument parser."""
    parser = Parser(prog="fasttsne", description="Fast t-SNE embeddings.",
                    epilog="Run 'fasttsne COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"fasttsne {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = show_warning  # one line per warning, no source line
        return run_command(args.func, args)
