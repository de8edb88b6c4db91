"""``fasttsne score``: the quality report of a saved map against the data it was made from."""
from ..persist import load
from ..quality import report
from .console import timed
from .errors import UserError
from .options import add_verbosity, sample_size
from .reading import check_readable, read_data, split_list

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Add the ``score`` command to the subparsers ``sub``."""
    score = sub.add_parser(
        "score", help="print the quality report of a saved map",
        description="Compare the map saved by 'fasttsne embed --save MAP' with the data INPUT it was made "
                    "from: kNN preservation, trustworthiness, continuity, CPD, KL divergence, and with "
                    "labels kNN accuracy and KNC (see docs/quality.md).",
        epilog="INPUT (formats as for embed) must hold the map's points, in the same order. Example: "
               "fasttsne score cells.map cells.csv --labels cell_type")
    score.add_argument("map", metavar="MAP", help="map file written by 'fasttsne embed --save'")
    score.add_argument("input", metavar="INPUT", help="the data the map was made from, one row per point")
    score.add_argument("-k", type=int, default=10, help="neighbours per point (default 10)")
    score.add_argument("--sample-size", type=sample_size, default="auto", metavar="N",
                       help="query points of the neighbour measures: 'auto' (exact on small data, sampled "
                            "on large) or a number (default auto)")
    score.add_argument("--labels", metavar="LABELS",
                       help="class labels, for kNN accuracy and KNC: a file or a column of INPUT, as for embed")
    score.add_argument("--key", metavar="NAME", help=".npz input: the array to use")
    score.add_argument("--use-rep", metavar="NAME", help=".h5ad input: obsm key to use, or 'X'")
    score.add_argument("--drop", metavar="COLS", help=".csv/.tsv input: comma-separated columns that are not features")
    score.add_argument("--n-jobs", type=int, default=1, metavar="N", help="threads; -1 for all cores (default 1)")
    score.add_argument("--seed", type=int, default=0, help="seed of the sampled points and pairs (default 0)")
    add_verbosity(score, "timing per phase", "no timings")
    score.set_defaults(func=run)


def run(args):
    """Print the quality report of a saved map against the data it was made from."""
    check_readable(args.map, "map file")
    with timed(args, "loading the map"):
        embedding = load(args.map)
    with timed(args, "reading input"):
        X, y = read_data(args.input, labels=args.labels, key=args.key, use_rep=args.use_rep,
                         drop=split_list(args.drop))
    if X.shape[0] != len(embedding):
        raise UserError(f"{args.input!r} has {X.shape[0]} rows but the map {args.map!r} places "
                        f"{len(embedding)} points; give the data the map was made from.")
    if embedding.n_features is not None and X.shape[1] != embedding.n_features:
        raise UserError(f"{args.input!r} has {X.shape[1]} features but the map {args.map!r} was made "
                        f"from data with {embedding.n_features}.")
    with timed(args, "scoring the map"):
        result = report(X, embedding, labels=y, k=args.k, sample_size=args.sample_size,
                        rank_sample_size=args.sample_size, random_state=args.seed, n_jobs=args.n_jobs)
    print(result)
    return 0
