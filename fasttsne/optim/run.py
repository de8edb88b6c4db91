"""Running a schedule on a model object's own positions.

``Embedding`` and ``PartialEmbedding`` keep their positions read-only and carry an optimiser
state and the KL of their positions; :func:`run_on` runs a list of phases on such an object
(writable only for the run, the KL and an interrupt recorded on it), and
:func:`run_stoppable` turns a callback's stop into openTSNE's result or exception.
"""
from .descent import OptimizationInterrupt, run_phases

__all__ = ["run_on", "run_stoppable"]


def run_on(target, Y, objective, phases, *, n_jobs, **options):
    """Run ``phases`` on ``Y``, the positions of ``target``, in place.

    Parameters
    ----------
    target : Embedding or PartialEmbedding
        Its ``optimizer_state`` advances with the run; its ``kl_divergence`` becomes the KL
        reached (None when an error other than an interrupt stops the run: the positions
        may have moved, so the old KL no longer describes them; after an interrupt, the KL
        the interrupt carries, None after Ctrl-C).
    Y : (N, d) float64 array, read-only, C-contiguous
        ``target``'s positions: writable for the run only, read-only again however it ends.
    objective : FitObjective or PartialObjective
    phases : sequence of Phase
        Each with a numeric learning rate.
    n_jobs : int
        Threads, already resolved (a count >= 1).
    **options
        The other keywords of :func:`~fasttsne.optim.descent.run_phases` (callbacks,
        ``center``, ``verbose``, ``ran``, ``history``).

    Returns
    -------
    kl : float or None
    stopped : bool
        Whether a callback stopped the run (the later phases were then not run).

    Raises
    ------
    OptimizationInterrupt
        On Ctrl-C or from a callback, with ``target`` as its ``embedding``.
    """
    Y.setflags(write=True)
    try:
        kl, stopped, _ = run_phases(Y, objective, target.optimizer_state, phases, n_jobs=n_jobs, **options)
    except OptimizationInterrupt as interrupt:
        target.kl_divergence = interrupt.kl_divergence
        interrupt.embedding = target
        raise
    except BaseException:
        target.kl_divergence = None
        raise
    finally:
        Y.setflags(write=False)
    target.kl_divergence = kl
    return kl, stopped


def run_stoppable(target, run, propagate_exception):
    """``run()`` (which returns (kl, stopped)) on ``target``, callback stops handled as openTSNE does.

    A callback that stops the run (returns True, or raises
    :class:`~fasttsne.OptimizationInterrupt`) ends it with the result reached: ``target`` is
    returned, or, with ``propagate_exception``, an OptimizationInterrupt carrying it is raised.
    Ctrl-C always propagates.
    """
    try:
        kl, stopped = run()
    except OptimizationInterrupt as interrupt:
        if propagate_exception or not interrupt.from_callback:
            raise
        return target
    if stopped and propagate_exception:
        interrupt = OptimizationInterrupt(kl, target)
        interrupt.from_callback = True
        raise interrupt
    return target
