"""All the quality measures of one map in a :class:`QualityReport` (see :mod:`fasttsne.quality`)."""
import numpy as np

from .._params import InvalidParameterError
from .._threads import check_n_jobs, effective_n_jobs
from .measures import (CPD_PAIRS, EXACT_MAX_SAMPLES, KNC_K, RANK_EXACT_MAX_SAMPLES, RANK_SAMPLE_SIZE, SAMPLE_SIZE,
                       Estimate, check_k, check_labels, check_pair, cpd_estimate, knc_of_classes, query_count,
                       query_rows, rank_normaliser, votes)
from .search import per_point

#: The report's measures in table order: (field, label).
_ROWS = (("knn_preservation", "kNN preservation"), ("knn_accuracy", "kNN accuracy"),
         ("trustworthiness", "trustworthiness"), ("continuity", "continuity"), ("knc", "KNC"),
         ("cpd", "CPD"), ("kl_divergence", "KL divergence"))


class QualityReport:
    """The quality measures of one map, with what each was computed on.

    ``str(report)`` is a table; :meth:`to_dict` and :meth:`to_pandas` give the fields.

    Attributes
    ----------
    n_samples, k : int
    knn_preservation, trustworthiness, continuity, cpd : float
    knn_accuracy, knc : float or None
        None without labels (KNC also with fewer than 3 classes).
    kl_divergence : float or None
        KL(P || Q) of an Embedding with its own P (None for a plain array).
    knn_preservation_se, knn_accuracy_se, trustworthiness_se, continuity_se, cpd_se : float or None
        Standard errors of the sampled estimates; 0 when exact.
    sample_size : int
        Query points of kNN preservation and accuracy (N when exact).
    rank_sample_size : int
        Query points of trustworthiness and continuity.
    cpd_pairs : int
        Point pairs of CPD.
    knc_k : int or None
        Nearest class means of KNC.
    n_classes : int or None
    """

    _FIELDS = ("n_samples", "k", "knn_preservation", "knn_preservation_se", "knn_accuracy", "knn_accuracy_se",
               "trustworthiness", "trustworthiness_se", "continuity", "continuity_se", "knc", "knc_k",
               "n_classes", "cpd", "cpd_se", "cpd_pairs", "kl_divergence", "sample_size", "rank_sample_size")

    def __init__(self, **fields):
        unknown = set(fields) - set(self._FIELDS)
        if unknown:
            raise TypeError(f"unknown report fields {sorted(unknown)}.")
        for name in self._FIELDS:
            setattr(self, name, fields.get(name))

    def to_dict(self):
        """All fields as a plain dict (floats, ints and None), in a fixed order."""
        return {name: getattr(self, name) for name in self._FIELDS}

    def to_pandas(self):
        """A one-row ``pandas.DataFrame`` of :meth:`to_dict` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("QualityReport.to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame([self.to_dict()])

    def _basis(self, field):
        n = self.n_samples
        if field in ("knn_preservation", "knn_accuracy"):
            return _points(self.sample_size, n)
        if field in ("trustworthiness", "continuity"):
            return _points(self.rank_sample_size, n)
        if field == "knc":
            return f"{self.n_classes} class means, k = {self.knc_k}"
        if field == "cpd":
            return f"{'all' if self.cpd_se == 0 else 'sampled'} {self.cpd_pairs:,} pairs"
        return "the map's own P"

    def __str__(self):
        lines = [f"fasttsne quality report: {self.n_samples:,} points, k = {self.k}",
                 f"{'measure':<18} {'value':>8}  {'std. error':>10}  computed on"]
        for field, label in _ROWS:
            value = getattr(self, field)
            if value is None:
                continue
            se = getattr(self, field + "_se", 0.0 if field == "knc" else None)
            error = "-" if se is None else ("exact" if se == 0 else f"{se:.4f}")
            lines.append(f"{label:<18} {value:>8.4f}  {error:>10}  {self._basis(field)}")
        return "\n".join(lines)

    def __repr__(self):
        shown = ", ".join(f"{f}={getattr(self, f):.4f}" for f, _ in _ROWS if getattr(self, f) is not None)
        return f"QualityReport(n_samples={self.n_samples}, k={self.k}, {shown})"


def _points(m, n):
    return f"all {n:,} points" if m >= n else f"{m:,} sampled points"


def report(X, Y, labels=None, k=10, *, sample_size="auto", rank_sample_size="auto", cpd_pairs=CPD_PAIRS,
           knc_k=KNC_K, random_state=0, n_jobs=1):
    """Every quality measure of the map ``Y`` of data ``X``, as a :class:`QualityReport`.

    Parameters
    ----------
    X : (N, D) array-like
        The data the map was made from (Euclidean distances), row for row.
    Y : (N, d) array-like or Embedding
        The map. For an Embedding the report also gives its KL divergence with its own P
        (recomputed at its positions when the Embedding does not know it).
    labels : (N,) array-like, optional
        Class labels: adds kNN accuracy and KNC.
    k : int, default 10
        Neighbours of kNN preservation, kNN accuracy, trustworthiness and continuity
        (1 <= k < N / 2).
    sample_size : "auto" or int
        Query points of kNN preservation and accuracy: "auto" is every point up to
        :data:`EXACT_MAX_SAMPLES` points, else a random :data:`SAMPLE_SIZE`.
    rank_sample_size : "auto" or int
        Query points of trustworthiness and continuity: "auto" is every point up to
        :data:`RANK_EXACT_MAX_SAMPLES` points, else a random :data:`RANK_SAMPLE_SIZE`.
    cpd_pairs : int, default 100,000
        Point pairs of CPD.
    knc_k : int, default 4
        Nearest class means of KNC (lowered to the number of classes minus 2 when there are
        fewer than ``knc_k + 2``; KNC is left out below 3 classes).
    random_state : None, int or numpy Generator, default 0
        Seed of every sample (the same seed gives the same report).
    n_jobs : int, default 1

    Returns
    -------
    QualityReport
    """
    kl = getattr(Y, "kl_divergence", None) if hasattr(Y, "optimize") else None
    if hasattr(Y, "optimize") and kl is None:
        kl = Y.optimize(0).kl_divergence  # evaluates KL at the positions without moving them
    X, Y_arr = check_pair(X, Y)
    n_features = getattr(Y, "n_features", None)
    if n_features is not None and X.shape[1] != n_features:
        raise InvalidParameterError(f"X has {X.shape[1]} features but the map was made from data with "
                                    f"{n_features}.")
    n = X.shape[0]
    k = check_k(k, n, rank=True)
    n_jobs = effective_n_jobs(check_n_jobs(n_jobs))
    codes = None if labels is None else check_labels(labels, n)
    rng = np.random.default_rng(random_state)
    m = query_count(n, sample_size, EXACT_MAX_SAMPLES, SAMPLE_SIZE)
    m_rank = query_count(n, rank_sample_size, RANK_EXACT_MAX_SAMPLES, RANK_SAMPLE_SIZE)
    rows = query_rows(n, [m, m_rank], rng)
    nbr_y, shared, trust, cont = per_point(X, Y_arr, k, rows, m_rank, n_jobs)
    nbr_y, shared, rows = nbr_y[:m], shared[:m], rows[:m]
    scale = rank_normaliser(n, k)
    preservation = Estimate(shared / k, n)
    trust, cont = Estimate(1 - scale * trust, n), Estimate(1 - scale * cont, n)
    rho, rho_se, pairs = cpd_estimate(X, Y_arr, cpd_pairs, rng, n_jobs)
    fields = dict(n_samples=n, k=k, knn_preservation=preservation.value, knn_preservation_se=preservation.se,
                  trustworthiness=trust.value, trustworthiness_se=trust.se, continuity=cont.value,
                  continuity_se=cont.se, cpd=rho, cpd_se=rho_se, cpd_pairs=pairs, kl_divergence=kl,
                  sample_size=m, rank_sample_size=m_rank)
    if codes is not None:
        accuracy = Estimate(votes(nbr_y, codes, rows), n)
        n_classes = int(codes.max()) + 1
        fields.update(knn_accuracy=accuracy.value, knn_accuracy_se=accuracy.se, n_classes=n_classes)
        if n_classes >= 3:
            fields.update(knc_k=min(knc_k, n_classes - 2))
            fields.update(knc=knc_of_classes(X, Y_arr, codes, fields["knc_k"]))
    return QualityReport(**fields)
