"""Affinity models: the high-dimensional similarities P that t-SNE preserves.

Each model, once fitted on the reference data, holds

- ``P``: the symmetric, non-negative (N, N) CSR matrix (int32 indices) whose entries sum to 1;
- ``index``: the fitted neighbour backend that places new points (None for
  :class:`Precomputed`);

and answers for new points through one protocol: ``neighbors_needed(k=None, **params)`` (how
many reference neighbours) and ``to_new(X_new, *, k=None, neighbors=None, **params)`` (the
(M, N) CSR affinities of new points to the reference, each row summing to 1; not
symmetrised: new points do not attract the reference). ``params`` are the model's
``new_point_params``.

Models:

- :class:`PerplexityBasedNN` (default): Gaussian kernel calibrated to a perplexity on the
  k = 3 * perplexity nearest neighbours;
- :class:`Multiscale`: the average of several such kernels (e.g. perplexities 30 and N / 100);
- :class:`MultiscaleMixture`: one Gaussian-mixture kernel over several perplexities (openTSNE's);
- :class:`FixedSigmaNN`: one Gaussian bandwidth for every point;
- :class:`Uniform`: equal weights on the k nearest neighbours;
- :class:`Precomputed`: a P the user computed, validated and normalised.

Each neighbour-based model is fitted on data (``fit(X)``, or openTSNE's
``PerplexityBasedNN(X, perplexity=30)``), or on the graph of a k-NN index with no search of
its own (``knn_index=``, e.g. :class:`fasttsne.nearest_neighbors.PrecomputedNeighbors`);
``symmetrize`` chooses how P is made from the conditionals, and ``set_perplexity`` /
``set_perplexities`` recalibrate on the kept graph.

A perplexity (or k) larger than the data allows is lowered with a ``UserWarning`` that
says so. The models are registered (kind "affinity", by class name) so that a saved
embedding names its model through :mod:`fasttsne.registry`.
"""
from .. import registry
from .._sparse import SUM_BLOCK, joint_probabilities, sum_p_log_p, to_csr, to_csr_sorted
from .base import AffinityModel, NeighborModel
from .calibration import (NEIGHBORS_PER_PERPLEXITY, PERPLEXITY_MAX_ITER, PERPLEXITY_TOL, conditional_probabilities,
                          fixed_sigma_probabilities, joint_from_neighbors, lowered_perplexity)
from .models import DEFAULT_K, NEW_POINT_PERPLEXITY, FixedSigmaNN, Multiscale, PerplexityBasedNN, Uniform
from .mixture import MultiscaleMixture, mixture_conditionals
from .precomputed import Precomputed, PrecomputedAffinities
from .symmetrize import SYMMETRIZE_CHOICES, joint_from_graph

__all__ = ["AffinityModel", "NeighborModel", "PerplexityBasedNN", "Multiscale", "MultiscaleMixture", "FixedSigmaNN",
           "Uniform", "Precomputed", "PrecomputedAffinities", "joint_from_graph", "mixture_conditionals", "SYMMETRIZE_CHOICES", "joint_probabilities", "joint_from_neighbors", "conditional_probabilities",
           "fixed_sigma_probabilities", "lowered_perplexity", "sum_p_log_p", "to_csr", "to_csr_sorted",
           "SUM_BLOCK", "NEIGHBORS_PER_PERPLEXITY", "PERPLEXITY_TOL", "PERPLEXITY_MAX_ITER", "DEFAULT_K",
           "NEW_POINT_PERPLEXITY", "KIND"]

KIND = "affinity"

registry.declare(KIND, AffinityModel, label="affinity model")
for _cls in (PerplexityBasedNN, Multiscale, MultiscaleMixture, FixedSigmaNN, Uniform, Precomputed, PrecomputedAffinities):
    registry.register(KIND, _cls.__name__, _cls)
