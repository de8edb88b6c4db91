"""``fasttsne embed``: a data file -> positions, optionally a plot and a reference map."""
import os

import numpy as np

from .._params import TSNE_PARAMS
from .._validation import handed_over
from ..plotting import plot
from ..tsne import TSNE
from .console import say, timed, verbose
from .options import add_input_options, table_value
from .reading import read_data, split_list
from .writing import OUTPUT_FORMATS, check_2d, check_writable, require_matplotlib, save_plot, write_positions

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Add the ``embed`` command to the subparsers ``sub``."""
    embed = sub.add_parser(
        "embed", help="embed a data file and write the positions",
        description="Embed the rows of INPUT with t-SNE and write their positions to OUT.",
        epilog="INPUT: .npy, .npz, .csv/.tsv (a non-numeric first row is a header) or .h5ad (needs anndata). "
               "OUT: .npy, or .csv/.tsv with a header row. Example: fasttsne embed cells.csv --labels "
               "cell_type -o tsne.csv --plot tsne.png --save cells.map")
    embed.add_argument("input", metavar="INPUT", help="data file, one row per point")
    embed.add_argument("-o", "--output", required=True, metavar="OUT", help="positions file (.npy, .csv or .tsv)")
    embed.add_argument("--save", metavar="MAP", help="also save the reference map, for 'fasttsne transform'")
    embed.add_argument("--perplexity", type=float, default=30.0, help="effective number of neighbours (default 30)")
    embed.add_argument("--metric", default="euclidean", help="input distance (default euclidean)")
    embed.add_argument("--neighbors", default="auto", metavar="NAME",
                       help="nearest-neighbour backend: auto, exact, annoy, pynndescent, ... (default auto)")
    embed.add_argument("--method", default="auto", metavar="NAME",
                       help="repulsion (negative gradient) method: auto, exact, bh, fft (default auto)")
    embed.add_argument("--n-components", type=int, default=2, metavar="D", help="embedding dimension (default 2)")
    embed.add_argument("--n-iter", type=table_value(TSNE_PARAMS, "n_iter"), default=TSNE_PARAMS["n_iter"].default,
                       metavar="N", help="iterations after early exaggeration, or 'auto': until KL has converged "
                                         "(see --tol), at most --max-iter (default %(default)s)")
    embed.add_argument("--tol", type=table_value(TSNE_PARAMS, "tol"), default=TSNE_PARAMS["tol"].default,
                       metavar="X", help="with --n-iter auto: stop when KL fell by less than this fraction over "
                                         "the last 50 iterations (default %(default)g)")
    embed.add_argument("--max-iter", type=table_value(TSNE_PARAMS, "max_iter"),
                       default=TSNE_PARAMS["max_iter"].default, metavar="N",
                       help="with --n-iter auto: most iterations after early exaggeration (default %(default)s)")
    embed.add_argument("--early-exaggeration-iter", type=table_value(TSNE_PARAMS, "early_exaggeration_iter"),
                       default=TSNE_PARAMS["early_exaggeration_iter"].default, metavar="N",
                       help="early-exaggeration iterations, or 'auto': until KL stops falling fast "
                            "(default %(default)s)")
    embed.add_argument("--anneal-iter", type=table_value(TSNE_PARAMS, "anneal_iter"),
                       default=TSNE_PARAMS["anneal_iter"].default, metavar="N",
                       help="iterations after early exaggeration over which the exaggeration falls to the "
                            "main phase's, counted in --n-iter (0: at once; 'auto': 100 when --n-iter is at "
                            "least 600, else 0; default %(default)s)")
    embed.add_argument("--exaggeration", type=float, metavar="X",
                       help="exaggeration of the main phase (default none; 2-4 shows coarser structure)")
    embed.add_argument("--dof", type=float, default=1.0,
                       help="degrees of freedom of the output kernel; < 1 gives finer clusters (default 1)")
    embed.add_argument("--initialization", default="pca", choices=("pca", "random"),
                       help="initial positions (default pca)")
    add_input_options(embed)
    embed.set_defaults(func=run)


def run(args):
    """Embed a data file; write the positions (and optionally a plot and a reference map)."""
    check_writable(args.output, OUTPUT_FORMATS, "output")
    if args.save:
        check_writable(args.save, None, "map")
    if args.plot:
        check_writable(args.plot, None, "plot")
        require_matplotlib()
    tsne = TSNE(n_components=args.n_components, perplexity=args.perplexity, n_iter=args.n_iter,
                early_exaggeration_iter=args.early_exaggeration_iter, anneal_iter=args.anneal_iter, tol=args.tol,
                max_iter=args.max_iter,
                exaggeration=args.exaggeration, dof=args.dof, initialization=args.initialization,
                metric=args.metric, neighbors=args.neighbors, negative_gradient_method=args.method,
                n_jobs=args.n_jobs, random_state=args.seed, verbose=verbose(args))
    tsne.check_params()  # a bad option fails before the input is read
    with timed(args, "reading input"):
        X, y = read_data(args.input, labels=args.labels, key=args.key, use_rep=args.use_rep,
                         drop=split_list(args.drop))
    say(args, f"{X.shape[0]} points x {X.shape[1]} features from {args.input}")
    # the array read from the file is this process's alone: the map may keep it without a copy
    with handed_over(X):
        embedding = tsne.fit(X)
    write_positions(args.output, np.asarray(embedding))
    print(f"wrote {embedding.shape[0]} x {embedding.shape[1]} positions to {args.output} "
          f"(KL {embedding.kl_divergence:.4f})")
    if args.save:
        embedding.save(args.save)
        print(f"wrote the reference map to {args.save} (use: fasttsne transform {args.save} NEW_DATA -o OUT)")
    if args.plot:
        check_2d(embedding.shape[1])
        save_plot(args.plot, lambda ax: plot(embedding, y, ax=ax, title=os.path.basename(args.input)))
        print(f"wrote the plot to {args.plot}")
    return 0
