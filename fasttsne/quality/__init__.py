"""How faithful is a map? The field's standard measures of an embedding, in one report.

Every measure compares data ``X`` (N, D) with its map ``Y`` (N, d), row for row:

- :func:`knn_preservation`: the fraction of each point's k nearest neighbours in X that are
  also among its k nearest neighbours in Y (Kobak & Berens 2019, "kNN").
- :func:`knn_accuracy`: leave-one-out k-NN classification accuracy of the labels in Y.
- :func:`knc`: the fraction of each class mean's k nearest class means in X that are also
  its k nearest class means in Y (Kobak & Berens 2019, "KNC").
- :func:`cpd`: Spearman correlation of the pairwise distances in X and in Y, over pairs of
  points (Kobak & Berens 2019, "CPD").
- :func:`trustworthiness` and :func:`continuity` (Venna & Kaski 2001, 2006): penalties for
  points that are neighbours in Y but not in X (false neighbours), and for neighbours in X
  that are not neighbours in Y (torn neighbourhoods), weighted by how far down the other
  space's ranking they are.
- :func:`report`: all of them, with KL(P || Q) of an Embedding, as a :class:`QualityReport`.

Neighbours and ranks
--------------------
Distances are Euclidean, computed exactly in float64 from the coordinate differences (so
duplicate points are at distance exactly 0). A point is never its own neighbour. Points are
ranked by (distance, index): of two points at the same distance from a query, the one with
the smaller row index is the nearer. That one rule decides every tie (the k-th neighbour,
ranks, duplicates), so results never depend on thread counts or search order.

Large data
----------
The neighbour measures are exact up to :data:`EXACT_MAX_SAMPLES` points and the rank measures
(trustworthiness, continuity) up to :data:`RANK_EXACT_MAX_SAMPLES`. Above that they are the
mean over a seeded random sample of query points, each with its exact neighbours among ALL
points, and come with a standard error (finite-population corrected, so it is 0 when every
point is a query). Wide data is searched one block of queries at a time (a float32 GEMM
ranks candidates, exact float64 distances decide), so memory stays bounded.
"""
from .measures import (CPD_PAIRS, EXACT_MAX_SAMPLES, KNC_K, RANK_EXACT_MAX_SAMPLES, RANK_SAMPLE_SIZE,
                       SAMPLE_SIZE, continuity, cpd, knc, knn_accuracy, knn_preservation, trustworthiness)
from .report import QualityReport, report

__all__ = ["knn_preservation", "knn_accuracy", "knc", "cpd", "trustworthiness", "continuity", "report",
           "QualityReport", "EXACT_MAX_SAMPLES", "RANK_EXACT_MAX_SAMPLES"]
