"""``fasttsne transform``: place new points into a saved map, in process or chunk by chunk with
Dask (``--scheduler``, ``.zarr`` files)."""
import os

from .._params import TRANSFORM_PARAMS, check
from ..persist import load
from ..plotting import plot, point_size
from .console import timed
from .errors import UserError
from .options import add_input_options
from .reading import check_readable, extension, read_data, split_list
from .writing import OUTPUT_FORMATS, check_2d, check_writable, require_matplotlib, save_plot, write_positions

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Add the ``transform`` command to the subparsers ``sub``."""
    transform = sub.add_parser(
        "transform", help="place new points into a saved map",
        description="Place the rows of INPUT into the map saved by 'fasttsne embed --save MAP' (the map does "
                    "not move) and write their positions to OUT.",
        epilog="INPUT must have the same features as the data the map was made from. With --scheduler, or "
               "a .zarr INPUT or OUT, INPUT is read and OUT (.npy or .zarr) written chunk by chunk with Dask: "
               "fasttsne transform cells.map atlas.zarr -o atlas_tsne.zarr --scheduler tcp://host:8786")
    transform.add_argument("map", metavar="MAP", help="map file written by 'fasttsne embed --save'")
    transform.add_argument("input", metavar="INPUT", help="data file, one row per point (formats as for embed)")
    transform.add_argument("-o", "--output", required=True, metavar="OUT", help="positions file (.npy, .csv or .tsv)")
    transform.add_argument("--perplexity", type=float, default=None,
                           help="perplexity of the new points' affinities to the map (default: the "
                                "map's affinity model's, 5 for the perplexity model)")
    transform.add_argument("--n-iter", type=int, default=250, metavar="N", help="iterations (default 250)")
    transform.add_argument("--scheduler", metavar="ADDRESS",
                           help="place the points on this Dask cluster (e.g. tcp://host:8786), chunk by chunk; "
                                "INPUT (.npy or .zarr) is read lazily by the workers, which also load MAP, so "
                                "both must be on storage they read (needs fasttsne[dask])")
    transform.add_argument("--chunk-rows", type=int, metavar="N",
                           help="with --scheduler or .zarr: rows per chunk (default: the .zarr array's own, "
                                "50000 for .npy); --n-jobs is then the threads of each chunk")
    add_input_options(transform)
    transform.set_defaults(func=run)


def run(args):
    """Place the points of a data file into a saved map; write their positions."""
    check_readable(args.map, "map file")
    if args.scheduler or ".zarr" in (extension(args.input), extension(args.output)):
        return _run_in_chunks(args)
    if args.chunk_rows is not None:
        raise UserError("--chunk-rows applies with --scheduler or .zarr files only.")
    check_writable(args.output, OUTPUT_FORMATS, "output")
    if args.plot:
        check_writable(args.plot, None, "plot")
        require_matplotlib()
    options = dict(perplexity=args.perplexity, n_iter=args.n_iter, n_jobs=args.n_jobs, random_state=args.seed)
    check(TRANSFORM_PARAMS, options)  # a bad option fails before the map and the input are read
    with timed(args, "loading the map"):
        reference = load(args.map)
    with timed(args, "reading input"):
        X, y = read_data(args.input, labels=args.labels, key=args.key, use_rep=args.use_rep,
                         drop=split_list(args.drop))
    with timed(args, f"placing {X.shape[0]} points into the map of {len(reference)}"):
        Y = reference.transform(X, **options)
    write_positions(args.output, Y)
    print(f"wrote {Y.shape[0]} x {Y.shape[1]} positions to {args.output}")
    if args.plot:
        check_2d(Y.shape[1])

        def draw(ax):
            plot(reference, ax=ax, color="#d0d0d0", legend=False)
            plot(Y, y, ax=ax, s=max(4.0, 2 * point_size(len(reference))), alpha=1.0,
                 title=f"{os.path.basename(args.input)} in {os.path.basename(args.map)}")
        save_plot(args.plot, draw)
        print(f"wrote the plot to {args.plot}")
    return 0


def _run_in_chunks(args):
    """``transform`` with Dask: INPUT read lazily, placed chunk by chunk, OUT written chunk by chunk."""
    for option in ("labels", "plot", "use_rep", "drop"):
        if getattr(args, option):
            raise UserError(f"--{option.replace('_', '-')} is not available with --scheduler or .zarr files "
                            "(draw the positions afterwards with fasttsne.plot).")
    try:
        from .. import dask as chunked  # an optional dependency
    except ImportError:
        raise UserError("--scheduler and .zarr files need dask: pip install 'fasttsne[dask]'.") from None
    if extension(args.input) not in chunked.ON_DISK_FORMATS:
        raise UserError(f"with --scheduler INPUT must be {' or '.join(chunked.ON_DISK_FORMATS)} (read lazily, "
                        f"chunk by chunk), got {args.input!r}.")
    if not os.path.exists(args.input):
        raise UserError(f"input file {args.input!r} does not exist.")
    check_writable(args.output, OUTPUT_FORMATS + (".zarr",), "output")
    if args.key is not None and extension(args.input) != ".zarr":
        raise UserError("--key applies to .npz and .zarr input only.")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise UserError(f"--chunk-rows must be a positive integer, got {args.chunk_rows}.")
    client = _connect(args.scheduler) if args.scheduler else None
    try:
        X = chunked.read_array(args.input, chunk_rows=args.chunk_rows, component=args.key)
        # the workers load the map from its path (each once), so it must be on storage they read
        Y = chunked.transform(os.path.abspath(args.map), X, perplexity=args.perplexity, n_iter=args.n_iter,
                              n_jobs=args.n_jobs, random_state=args.seed, client=client)
        where = f" on {args.scheduler}" if args.scheduler else ""
        with timed(args, f"placing {Y.shape[0]} points in {Y.numblocks[0]} chunks{where}"):
            if extension(args.output) in chunked.ON_DISK_FORMATS:
                chunked.write_array(Y, args.output, client=client)
            else:
                write_positions(args.output, Y.compute() if client is None else client.compute(Y).result())
    finally:
        if client is not None:
            client.close()
    print(f"wrote {Y.shape[0]} x {Y.shape[1]} positions to {args.output}")
    return 0


def _connect(address):
    try:
        from distributed import Client
    except ImportError:
        raise UserError("--scheduler needs distributed: pip install distributed (or pip install "
                        "'fasttsne[dask]').") from None
    try:
        return Client(address, timeout=30, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise UserError(f"cannot reach the Dask scheduler at {address!r} ({e}).") from None
