"""AnnData helpers with scanpy's conventions: embed a dataset, place a query into it.

``tsne(adata)`` follows ``scanpy.tl.tsne``: the representation is chosen the same way
(``use_rep``, ``n_pcs``), the positions go to ``adata.obsm["X_tsne"]`` and the parameters to
``adata.uns["tsne"]["params"]`` (both keys become ``key_added`` when it is given). It also
keeps the reference map (the whole :class:`fasttsne.Embedding`, as the bytes of
:func:`fasttsne.persist.save`, so it survives ``adata.write_h5ad``) under
``adata.uns["tsne"]["map"]``. ``ingest(adata, adata_ref)`` follows ``scanpy.tl.ingest``: the
query is projected onto the reference's principal components (``adata_ref.varm["PCs"]``),
placed into the map without moving it, and reference labels can be carried over by a
majority of nearest reference cells.

Nothing here imports anndata: any object with AnnData's ``obsm``/``uns``/``obs``/``X``
works, so these helpers add no dependency of their own.
"""
from __future__ import annotations

import io
import numbers
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union, cast

import numpy as np

from ._params import TRANSFORM_PARAMS, check
from .embedding import Embedding
from .persist import load
from .tsne import TSNE

__all__ = ["tsne", "ingest", "load_map"]

#: Reference neighbours voting for each transferred label.
LABEL_TRANSFER_K = 10
#: scanpy's ``settings.N_PCS``: with more variables than this, ``X_pca`` is embedded, not ``X``.
N_PCS = 50


def _keys(key_added: Optional[str]) -> Tuple[str, str]:
    """(obsm key, uns key): ("X_tsne", "tsne") by default, else ``key_added`` for both (as scanpy)."""
    if key_added is None:
        return "X_tsne", "tsne"
    if not isinstance(key_added, str) or not key_added:
        raise TypeError(f"key_added must be None or a non-empty string, got {key_added!r}.")
    return key_added, key_added


def _check_adata(adata: Any, name: str = "adata") -> None:
    if not all(hasattr(adata, a) for a in ("obsm", "uns", "obs", "X")):
        raise TypeError(f"{name} must be an AnnData object, got {type(adata).__name__}.")


def _dense(matrix: Any) -> np.ndarray:
    matrix = matrix.toarray() if hasattr(matrix, "toarray") else matrix
    return np.asarray(matrix.to_numpy() if hasattr(matrix, "to_numpy") else matrix)


def _choose_rep(adata: Any, use_rep: Optional[str], n_pcs: Optional[int]) -> Tuple[str, Any]:
    """(name, matrix) of the representation to embed, chosen as ``scanpy.tl.tsne`` chooses it.

    ``use_rep=None``: ``X`` when ``n_pcs == 0`` or the data have at most :data:`N_PCS`
    variables, else ``obsm["X_pca"]``. ``n_pcs`` keeps the first columns of an ``obsm`` entry.
    """
    if use_rep is not None and not isinstance(use_rep, str):
        raise TypeError(f"use_rep must be None, 'X' or the name of an obsm entry, got {use_rep!r}.")
    if n_pcs is not None and (not isinstance(n_pcs, numbers.Integral) or n_pcs < 0):
        raise ValueError(f"n_pcs must be None or a non-negative integer, got {n_pcs!r}.")
    if use_rep is None:
        n_vars = adata.X.shape[1] if adata.X is not None else 0
        use_rep = "X" if n_pcs == 0 or (adata.X is not None and n_vars <= N_PCS) else "X_pca"
        if use_rep == "X_pca" and use_rep not in adata.obsm:
            raise ValueError(f"adata has {n_vars} variables and no obsm['X_pca']: compute the PCA first "
                             f"(scanpy.pp.pca(adata), which also keeps varm['PCs'] for ingest), or pass "
                             f"use_rep='X' to embed all {n_vars} variables.")
    if use_rep == "X":
        if adata.X is None:
            raise ValueError("adata.X is empty; pass use_rep=<an obsm key>.")
        return use_rep, adata.X
    if use_rep not in adata.obsm:
        have = ", ".join(repr(k) for k in adata.obsm.keys()) or "none"
        raise ValueError(f"adata.obsm has no {use_rep!r} (it has: {have}); compute it first or pass use_rep='X'.")
    rep = _dense(adata.obsm[use_rep])
    if n_pcs:
        if n_pcs > rep.shape[1]:
            raise ValueError(f"n_pcs={n_pcs} but obsm[{use_rep!r}] has {rep.shape[1]} columns.")
        rep = rep[:, :n_pcs]
    return use_rep, rep


def _recordable(params: Dict[str, Any]) -> Dict[str, Any]:
    """The parameters that can be written to an .h5ad file (numbers, strings, booleans; not None)."""
    return {k: v for k, v in params.items()
            if isinstance(v, (str, bool, numbers.Number)) and not isinstance(v, complex)}


def tsne(adata: Any, n_pcs: Optional[int] = None, *, n_components: int = 2, use_rep: Optional[str] = None,
         perplexity: float = 30.0, metric: str = "euclidean", early_exaggeration: float = 12.0,
         learning_rate: Union[float, str] = "auto", random_state: Any = 0, n_jobs: Optional[int] = None,
         key_added: Optional[str] = None, keep_map: bool = True, copy: bool = False,
         **tsne_params: Any) -> Optional[Any]:
    """Embed the cells of ``adata`` with t-SNE, as ``scanpy.tl.tsne`` does.

    Parameters
    ----------
    adata : anndata.AnnData
    n_pcs : int, optional
        Embed the first ``n_pcs`` columns of the representation; 0 means ``adata.X`` when
        ``use_rep`` is None.
    n_components : int, default 2
        Dimension of the map.
    use_rep : str, optional
        "X" or a key of ``adata.obsm``. Default, as scanpy: ``adata.X`` when it has at most 50
        variables, else ``adata.obsm["X_pca"]`` (an error says how to make it when absent;
        unlike scanpy, the PCA is not computed here).
    perplexity, metric, early_exaggeration, random_state
        As in :class:`fasttsne.TSNE`; the defaults are scanpy's (``random_state=0``, so a
        notebook gives the same picture every time).
    learning_rate : float or "auto", default "auto"
        ``"auto"`` is N / exaggeration (Belkina et al. 2019), which converges where scanpy's
        fixed 1000 (scikit-learn's old default) is too small for large N.
    n_jobs : int, optional
        Threads (None: 1; -1: all cores).
    key_added : str, optional
        Default: positions in ``adata.obsm["X_tsne"]``, parameters and map in
        ``adata.uns["tsne"]``; when given, both are stored under ``key_added``.
    keep_map : bool, default True
        Also store the reference map (the :class:`fasttsne.Embedding`, serialised, with its
        affinities and neighbour index: roughly N x (k + D) x 12 bytes) in
        ``adata.uns[...]["map"]`` so that :func:`ingest` can place new cells into it, even
        after ``write_h5ad``/``read_h5ad``.
    copy : bool, default False
        Work on a copy and return it instead of modifying ``adata``.
    **tsne_params
        Any other :class:`fasttsne.TSNE` parameter (``n_iter``, ``dof``, ``neighbors``, ...).

    Returns
    -------
    anndata.AnnData or None
        The modified copy when ``copy``, else None. Written: ``obsm[key]`` (n_obs,
        n_components) float64 positions; ``uns[key]["params"]`` (``use_rep``, ``n_pcs``,
        ``perplexity``, ``early_exaggeration``, ``learning_rate``, ``metric``, ``n_jobs``,
        and any other parameter given), ``uns[key]["kl_divergence"]``, ``uns[key]["n_iter"]``
        and, with ``keep_map``, ``uns[key]["map"]``.
    """
    _check_adata(adata)
    obsm_key, uns_key = _keys(key_added)
    params = dict(n_components=n_components, perplexity=perplexity, metric=metric,
                  early_exaggeration=early_exaggeration, learning_rate=learning_rate,
                  random_state=random_state, **tsne_params)
    if n_jobs is not None:  # None: TSNE's own default (one thread)
        params["n_jobs"] = n_jobs
    estimator = TSNE(**params)
    estimator.check_params()  # a bad value fails before any copy or work
    adata = adata.copy() if copy else adata
    rep_name, X = _choose_rep(adata, use_rep, n_pcs)
    embedding = estimator.fit(X)
    adata.obsm[obsm_key] = np.array(embedding)
    recorded = {"use_rep": rep_name, **({"n_pcs": int(n_pcs)} if n_pcs else {}), **_recordable(params)}
    entry: Dict[str, Any] = {"params": recorded, "kl_divergence": float(cast(float, embedding.kl_divergence)),
                             "n_iter": int(embedding.n_iter)}
    if keep_map:
        buffer = io.BytesIO()
        embedding.save(buffer)
        entry["map"] = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    adata.uns[uns_key] = entry
    return adata if copy else None


def load_map(reference: Any, key_added: Optional[str] = None) -> Any:
    """The :class:`fasttsne.Embedding` stored in ``reference.uns`` by :func:`tsne`.

    Parameters
    ----------
    reference : anndata.AnnData or fasttsne.Embedding
        An Embedding is returned as it is.
    key_added : str, optional
        The key given to :func:`tsne` (default: ``uns["tsne"]``).

    Returns
    -------
    fasttsne.Embedding
    """
    if isinstance(reference, Embedding):
        return reference
    _check_adata(reference, "adata_ref")
    _, uns_key = _keys(key_added)
    entry = reference.uns.get(uns_key)
    if not isinstance(entry, dict) or "map" not in entry:
        raise ValueError(f"adata_ref.uns[{uns_key!r}] holds no t-SNE map: run fasttsne.tl.tsne(adata_ref"
                         + (f", key_added={key_added!r}" if key_added is not None else "") + ") first "
                         "(keep_map=True is the default).")
    return load(io.BytesIO(np.asarray(entry["map"], dtype=np.uint8).tobytes()))


def _project_on_reference_pcs(adata: Any, adata_ref: Any, n_cols: int) -> np.ndarray:
    """The query in the reference's PCA space, as ``scanpy.tl.ingest`` computes it.

    ``adata.X`` (restricted to the reference's highly variable genes when its PCA used them)
    is centred on its own mean when the reference's PCA was zero-centred, then multiplied by
    the first ``n_cols`` columns of ``adata_ref.varm["PCs"]``.
    """
    if "PCs" not in getattr(adata_ref, "varm", {}):
        raise ValueError(
            "adata_ref.varm has no 'PCs', so the query cannot be projected onto the principal components "
            "the map was made from (a PCA of the query itself would have other axes). Run scanpy.pp.pca("
            "adata_ref), which keeps varm['PCs'], then fasttsne.tl.tsne(adata_ref) again; or, when "
            "adata.obsm already holds the query in the reference's PCA space, pass use_rep='X_pca'.")
    settings = adata_ref.uns.get("pca", {}).get("params", {})
    if adata.X is None or adata.X.shape[1] != adata_ref.n_vars:
        raise ValueError(f"the query has {0 if adata.X is None else adata.X.shape[1]} variables but the "
                         f"reference has {adata_ref.n_vars}; subset both to the same genes, in the same order.")
    if hasattr(adata, "var_names") and not np.array_equal(np.asarray(adata.var_names, dtype=str),
                                                          np.asarray(adata_ref.var_names, dtype=str)):
        raise ValueError("the query's var_names differ from the reference's; subset and order the query's "
                         "genes as the reference's (adata[:, adata_ref.var_names]).")
    X = _dense(adata.X).astype(np.float64)
    basis = _dense(adata_ref.varm["PCs"]).astype(np.float64)
    if settings.get("use_highly_variable", False):
        mask = np.asarray(adata_ref.var["highly_variable"], dtype=bool)
        X = X[:, mask]
        basis = basis[mask] if basis.shape[0] == adata_ref.n_vars else basis
    if settings.get("zero_center", True):
        X = X - X.mean(axis=0)
    if n_cols > basis.shape[1]:
        raise ValueError(f"the map was made from {n_cols} principal components but adata_ref.varm['PCs'] "
                         f"has {basis.shape[1]}.")
    return X @ basis[:, :n_cols]


def _query_rep(adata: Any, adata_ref: Any, use_rep: Optional[str],
               stored: Dict[str, Any]) -> Tuple[str, np.ndarray]:
    """(name, matrix) of the query in the space the reference map was made from.

    ``stored`` is the reference's ``uns[key]["params"]`` (empty for a bare Embedding).
    """
    if use_rep is not None:  # the caller says the query already is in that space
        return _choose_rep(adata, use_rep, None)
    if adata_ref is None:
        raise ValueError("with a fasttsne.Embedding as the reference, say where the query's representation "
                         "is: use_rep='X' or the obsm key that holds it in the map's space.")
    rep = stored.get("use_rep", "X")
    n_pcs = stored.get("n_pcs")
    if rep == "X":
        return _choose_rep(adata, "X", None)
    if rep == "X_pca":
        n_cols = int(n_pcs) if n_pcs else _dense(adata_ref.obsm["X_pca"]).shape[1]
        projected = _project_on_reference_pcs(adata, adata_ref, n_cols)
        adata.obsm["X_pca"] = projected
        return rep, projected
    if rep not in adata.obsm:
        raise ValueError(f"the reference map was made from obsm[{rep!r}], which the query lacks: compute it "
                         f"with the reference's model and store it in adata.obsm[{rep!r}].")
    return _choose_rep(adata, rep, n_pcs)


def ingest(adata: Any, adata_ref: Any, *, obs: Union[str, Iterable[str], None] = None,
           use_rep: Optional[str] = None, key_added: Optional[str] = None, k_labels: int = LABEL_TRANSFER_K,
           n_jobs: Optional[int] = None, random_state: Any = 0, inplace: bool = True,
           **transform_params: Any) -> Optional[Any]:
    """Place the cells of ``adata`` into the reference's t-SNE map, as ``scanpy.tl.ingest`` does for UMAP.

    The reference map does not move. The query is put into the representation the map was
    made from: for ``X_pca`` (the default of :func:`tsne` on more than 50 genes) it is
    projected onto the reference's principal components, ``adata_ref.varm["PCs"]``, exactly
    as scanpy projects it (restricted to the reference's highly variable genes when its PCA
    used them; centred on the query's own mean when that PCA was zero-centred), and the
    projection is written to ``adata.obsm["X_pca"]``. For ``X`` the query's ``X`` is used; for
    another ``obsm`` key the query must already hold it (from the same model).

    Parameters
    ----------
    adata : anndata.AnnData
        The query cells, with the reference's genes (``var_names``) in the same order.
    adata_ref : anndata.AnnData or fasttsne.Embedding
        An AnnData embedded by :func:`tsne` (which keeps the map), or the map itself.
    obs : str or list of str, optional
        ``adata_ref.obs`` columns to carry over to ``adata.obs``: each query cell gets the
        most common value among its ``k_labels`` nearest reference cells (in the
        representation's space; ties go to the nearest). Needs an AnnData reference.
    use_rep : str, optional
        Take the query's representation from ``adata.obsm[use_rep]`` (or ``X``) as it is,
        instead of projecting it: for a query that is already in the reference's space, and
        for an Embedding as the reference.
    key_added : str, optional
        The ``key_added`` given to :func:`tsne` (default: the map in ``uns["tsne"]``, the
        positions in ``obsm["X_tsne"]``); the query's positions are stored under the same key.
    k_labels : int, default 10
        Reference neighbours voting for each transferred label.
    n_jobs : int, optional
        Threads (default: the map's).
    random_state : None, int or Generator, default 0
    inplace : bool, default True
        Modify ``adata``; when False, leave it alone and return a modified copy (scanpy's convention).
    **transform_params
        Passed to :meth:`fasttsne.Embedding.transform` (``perplexity``, ``n_iter``, ...).

    Returns
    -------
    anndata.AnnData or None
        The modified copy when ``inplace`` is False, else None. Written: ``obsm[key]`` (n_obs,
        d) positions, ``obsm["X_pca"]`` when the query was projected, the ``obs`` columns,
        and ``uns[key]["params"]``.
    """
    _check_adata(adata)
    if "copy" in transform_params:
        raise TypeError("ingest takes inplace=False (scanpy's name) to return a modified copy, not copy=.")
    check(TRANSFORM_PARAMS, dict(n_jobs=n_jobs, random_state=random_state, **transform_params))
    embedding = load_map(adata_ref, key_added)
    obsm_key, uns_key = _keys(key_added)
    ref_adata = None if hasattr(adata_ref, "positions") else adata_ref
    labels: List[str] = [obs] if isinstance(obs, str) else list(obs or [])
    if labels:
        if ref_adata is None:
            raise ValueError("obs labels can only be carried over from an AnnData reference, not an Embedding.")
        absent = [name for name in labels if name not in ref_adata.obs]
        if absent:
            raise ValueError(f"adata_ref.obs has no column(s) {absent}; it has {list(ref_adata.obs.columns)}.")
    adata = adata if inplace else adata.copy()
    stored = ref_adata.uns[uns_key]["params"] if ref_adata is not None else {}
    rep_name, X = _query_rep(adata, ref_adata, use_rep, stored)
    adata.obsm[obsm_key] = embedding.transform(X, n_jobs=n_jobs, random_state=random_state, **transform_params)
    if labels:
        k = int(min(k_labels, len(embedding)))
        neighbors, _ = embedding.affinities.neighbors_of(X, k, n_jobs=n_jobs)
        for name in labels:
            adata.obs[name] = _majority(adata_ref.obs[name], neighbors)
    adata.uns[uns_key] = {"params": {"use_rep": rep_name, "ingested": True, **_recordable(transform_params)}}
    return None if inplace else adata


def _majority(column: Any, neighbors: np.ndarray) -> Any:
    """Most common value of ``column`` among each row of ``neighbors`` (ties: the nearest wins)."""
    values = np.asarray(column)
    _, inverse = np.unique(values.astype(str), return_inverse=True)
    _, first = np.unique(inverse, return_index=True)  # a row holding each label, to return its value
    votes = inverse[neighbors]
    rows = np.arange(votes.shape[0])
    counts = np.zeros((votes.shape[0], len(first)), dtype=np.int64)
    np.add.at(counts, (rows[:, None], votes), 1)
    is_best = counts[rows[:, None], votes] == counts.max(axis=1)[:, None]
    winner = votes[rows, is_best.argmax(axis=1)]  # neighbours are sorted by distance
    result = values[first[winner]]
    categories = getattr(getattr(column, "cat", None), "categories", None)
    if categories is not None:
        import pandas as pd
        return pd.Categorical(result, categories=categories)
    return result
