"""openTSNE's ``nearest_neighbors`` module: k-NN index classes made for one data set.

``index = nearest_neighbors.Sklearn(x, k=90)`` searches ``x`` once when ``index.build()`` is
first called; an affinity model given ``knn_index=index`` computes its affinities from that
graph with no search of its own, and places new points through ``index.query``. A graph
computed elsewhere comes in as :class:`PrecomputedNeighbors`, a square distance matrix as
:class:`PrecomputedDistanceMatrix`.

Each class is a fasttsne neighbour backend (:class:`fasttsne.neighbors.NeighborBackend`), so
it also works as ``TSNE(neighbors=...)``. Where openTSNE and fasttsne differ the class says
so: :class:`Sklearn` (and its older name :class:`BallTree`) is fasttsne's exact blocked
search, not a scikit-learn ball tree; :class:`Annoy` and :class:`NNDescent` keep fasttsne's
own defaults. :class:`HNSW` needs the optional hnswlib package, as in openTSNE.
"""
from .neighbors.opentsne import (HNSW, Annoy, BallTree, KNNIndex, NNDescent, PrecomputedDistanceMatrix,
                                 PrecomputedNeighbors, Sklearn, check_graph)

__all__ = ["KNNIndex", "Sklearn", "BallTree", "Annoy", "NNDescent", "HNSW", "PrecomputedDistanceMatrix",
           "PrecomputedNeighbors", "check_graph"]
