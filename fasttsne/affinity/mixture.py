"""openTSNE's ``MultiscaleMixture``: one Gaussian-mixture kernel over several perplexities."""
import numpy as np
from scipy.special import logsumexp

from .calibration import conditional_probabilities
from .models import Multiscale

__all__ = ["MultiscaleMixture", "mixture_conditionals"]


def mixture_conditionals(distances, perplexities, n_jobs=1):
    """Each point's conditionals under a mixture of Gaussians, one per perplexity.

    For each perplexity h the precision tau_h = 1 / sigma_h^2 is calibrated as usual; the
    kernel is then the mixture ``sum_h sqrt(tau_h) exp(-tau_h d^2 / 2)`` of the Gaussian
    densities (each scale weighted by its own normalising constant), normalised per row, as
    in openTSNE. :class:`~fasttsne.affinity.Multiscale` instead averages the per-scale
    distributions, each already normalised.

    Parameters
    ----------
    distances : (N, k) array
        Distances (not squared) to each point's neighbours.
    perplexities : sequence of float
    n_jobs : int

    Returns
    -------
    (N, k) float64, rows summing to 1.
    """
    distances = np.asarray(distances, dtype=np.float64)
    d2 = np.square(distances)
    mixed = log_total = None
    for perplexity in perplexities:
        P, betas = conditional_probabilities(distances, perplexity, n_jobs)
        # this scale's total mass, in logs: rows far from every neighbour underflow otherwise
        log_mass = 0.5 * np.log(2.0 * betas) + logsumexp(-betas[:, None] * d2, axis=1)
        if mixed is None:
            mixed, log_total = P, log_mass
            continue
        top = np.maximum(log_total, log_mass)
        keep, add = np.exp(log_total - top), np.exp(log_mass - top)
        mixed = mixed * (keep / (keep + add))[:, None] + P * (add / (keep + add))[:, None]
        log_total = top + np.log(keep + add)
    return mixed


class MultiscaleMixture(Multiscale):
    """Multi-scale affinities from one Gaussian-mixture kernel (openTSNE's ``MultiscaleMixture``).

    Takes the same parameters as :class:`~fasttsne.affinity.Multiscale` (data or
    ``knn_index`` first, ``perplexities``, ``symmetrize``, ...); only the kernel differs:
    see :func:`mixture_conditionals`. openTSNE's ``TSNE`` uses this model for every
    perplexity (with one perplexity it equals :class:`~fasttsne.affinity.PerplexityBasedNN`).
    """

    def _conditionals(self, distances, perplexities, n_jobs=None):
        return mixture_conditionals(distances, perplexities, self._threads(n_jobs))
