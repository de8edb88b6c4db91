"""AnnData helpers in the style of ``scanpy.tl``: embed a dataset, place a query into it.

``tsne(adata)`` writes the positions to ``adata.obsm["X_tsne"]`` and, under
``adata.uns["tsne"]``, the parameters and the reference map (the whole
:class:`fasttsne.Embedding` as the bytes of :func:`fasttsne.persist.save`, so it survives
``adata.write_h5ad``). ``ingest(query, reference)`` places the query's cells into that map
without moving it and can carry reference labels over to them, as ``scanpy.tl.ingest``
does with UMAP.

Nothing here imports anndata: any object with AnnData's ``obsm``/``uns``/``obs``/``X``
works, so these helpers add no dependency of their own.
"""
import io
import numbers

import numpy as np

from ._params import TRANSFORM_PARAMS, check

__all__ = ["tsne", "ingest", "load_map"]

#: Reference neighbours voting for each transferred label.
LABEL_TRANSFER_K = 10


def _uns_key(key_added):
    """``adata.uns`` key that goes with an ``obsm`` key: "X_tsne" -> "tsne" (scanpy's naming)."""
    return key_added[2:] if key_added.startswith("X_") and len(key_added) > 2 else key_added


def _check_adata(adata, name="adata"):
    if not all(hasattr(adata, a) for a in ("obsm", "uns", "obs", "X")):
        raise TypeError(f"{name} must be an AnnData object, got {type(adata).__name__}.")


def _representation(adata, use_rep, name="adata"):
    """The data matrix to embed: ``adata.X`` for "X", else ``adata.obsm[use_rep]``."""
    if not isinstance(use_rep, str):
        raise TypeError(f"use_rep must be 'X' or the name of an obsm entry, got {use_rep!r}.")
    if use_rep == "X":
        if adata.X is None:
            raise ValueError(f"{name}.X is empty; pass use_rep=<an obsm key>.")
        return adata.X
    if use_rep not in adata.obsm:
        have = ", ".join(repr(k) for k in adata.obsm.keys()) or "none"
        raise ValueError(f"{name}.obsm has no {use_rep!r} (it has: {have}); compute it first "
                         f"(e.g. scanpy.pp.pca) or pass use_rep='X'.")
    rep = adata.obsm[use_rep]
    return rep.to_numpy() if hasattr(rep, "to_numpy") else rep


def _recordable(params):
    """The parameters that can be written to an .h5ad file (numbers, strings, booleans)."""
    return {k: v for k, v in params.items()
            if isinstance(v, (str, bool, numbers.Number)) and not isinstance(v, complex)}


def tsne(adata, use_rep="X_pca", key_added="X_tsne", *, n_components=2, perplexity=30.0,
         metric="euclidean", n_jobs=1, random_state=0, keep_map=True, copy=False, **tsne_params):
    """Embed the cells of ``adata`` with t-SNE.

    Parameters
    ----------
    adata : anndata.AnnData
    use_rep : str, default "X_pca"
        The representation to embed: a key of ``adata.obsm`` or "X" for ``adata.X``.
    key_added : str, default "X_tsne"
        ``adata.obsm`` key of the (n_obs, n_components) positions; the parameters go to
        ``adata.uns[key_added without "X_"]`` ("tsne" by default).
    n_components, perplexity, metric, n_jobs, random_state
        As in :class:`fasttsne.TSNE` (``random_state`` defaults to 0, as in scanpy, so a
        notebook gives the same picture every time).
    keep_map : bool, default True
        Also store the reference map (the :class:`fasttsne.Embedding`, serialised, with
        its affinities and neighbour index: roughly N x (k + D) x 12 bytes) so that
        :func:`ingest` can place new cells into it, even after ``write_h5ad``/``read_h5ad``.
    copy : bool, default False
        Work on a copy and return it instead of modifying ``adata``.
    **tsne_params
        Any other :class:`fasttsne.TSNE` parameter (``n_iter``, ``dof``, ``neighbors``, ...).

    Returns
    -------
    anndata.AnnData or None
        The modified copy when ``copy``, else None.
    """
    from .tsne import TSNE
    _check_adata(adata)
    if not isinstance(key_added, str) or not key_added:
        raise TypeError(f"key_added must be a non-empty string, got {key_added!r}.")
    params = dict(n_components=n_components, perplexity=perplexity, metric=metric, n_jobs=n_jobs,
                  random_state=random_state, **tsne_params)
    estimator = TSNE(**params)
    estimator.check_params()  # a bad value fails before any copy or work
    adata = adata.copy() if copy else adata
    X = _representation(adata, use_rep)
    embedding = estimator.fit(X)
    adata.obsm[key_added] = np.array(embedding)
    entry = {"params": {"use_rep": use_rep, **_recordable(params)},
             "kl_divergence": float(embedding.kl_divergence), "n_iter": int(embedding.n_iter)}
    if keep_map:
        buffer = io.BytesIO()
        embedding.save(buffer)
        entry["map"] = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    adata.uns[_uns_key(key_added)] = entry
    return adata if copy else None


def load_map(reference, key_added="X_tsne"):
    """The :class:`fasttsne.Embedding` stored in ``reference.uns`` by :func:`tsne`.

    Parameters
    ----------
    reference : anndata.AnnData or fasttsne.Embedding
        An Embedding is returned as it is.
    key_added : str, default "X_tsne"
        The key given to :func:`tsne`.
    """
    from .embedding import Embedding
    from .persist import load
    if isinstance(reference, Embedding):
        return reference
    _check_adata(reference, "reference")
    entry = reference.uns.get(_uns_key(key_added))
    if not isinstance(entry, dict) or "map" not in entry:
        raise ValueError(f"reference.uns[{_uns_key(key_added)!r}] holds no t-SNE map: run "
                         f"fasttsne.tl.tsne(reference, key_added={key_added!r}, keep_map=True) first.")
    return load(io.BytesIO(np.asarray(entry["map"], dtype=np.uint8).tobytes()))


def ingest(adata, reference, *, obs=None, use_rep=None, key_added="X_tsne", k_labels=LABEL_TRANSFER_K,
           n_jobs=None, random_state=0, copy=False, **transform_params):
    """Place the cells of ``adata`` into the reference's t-SNE map (the map does not move).

    The query must be in the same representation as the reference: the same ``obsm`` key
    with the same features (for "X_pca", the query projected onto the reference's
    principal components, not a PCA of its own).

    Parameters
    ----------
    adata : anndata.AnnData
        The query cells.
    reference : anndata.AnnData or fasttsne.Embedding
        An AnnData embedded by :func:`tsne` (with ``keep_map=True``), or the map itself.
    obs : str or list of str, optional
        ``reference.obs`` columns to carry over to ``adata.obs``: each query cell gets the
        most common value among its ``k_labels`` nearest reference cells (in ``use_rep``
        space). Needs an AnnData reference.
    use_rep : str, optional
        Representation of the query; default: the one the reference map was made from.
    key_added : str, default "X_tsne"
        Where the reference's map and positions are, and where the query's go.
    k_labels : int, default 10
    n_jobs : int, optional
        Threads (default: the map's).
    random_state : None, int or Generator, default 0
    copy : bool, default False
    **transform_params
        Passed to :meth:`fasttsne.Embedding.transform` (``perplexity``, ``n_iter``, ...).

    Returns
    -------
    anndata.AnnData or None
        The modified copy when ``copy``, else None.
    """
    _check_adata(adata)
    check(TRANSFORM_PARAMS, dict(n_jobs=n_jobs, random_state=random_state, **transform_params))
    embedding = load_map(reference, key_added)
    is_adata = not hasattr(reference, "positions")
    stored = reference.uns[_uns_key(key_added)]["params"] if is_adata else {}
    if use_rep is None:
        use_rep = stored.get("use_rep", "X_pca")
    labels = [obs] if isinstance(obs, str) else list(obs or [])
    if labels:
        if not is_adata:
            raise ValueError("obs labels can only be carried over from an AnnData reference, not an Embedding.")
        absent = [name for name in labels if name not in reference.obs]
        if absent:
            raise ValueError(f"reference.obs has no column(s) {absent}; it has {list(reference.obs.columns)}.")
    adata = adata.copy() if copy else adata
    X = _representation(adata, use_rep)
    adata.obsm[key_added] = embedding.transform(X, n_jobs=n_jobs, random_state=random_state, **transform_params)
    if labels:
        k = int(min(k_labels, len(embedding)))
        neighbors, _ = embedding.affinities.index.query(X, k, n_jobs=n_jobs)
        for name in labels:
            adata.obs[name] = _majority(reference.obs[name], neighbors)
    adata.uns[_uns_key(key_added)] = {"params": {"use_rep": use_rep, "ingested": True,
                                                 **_recordable(transform_params)}}
    return adata if copy else None


def _majority(column, neighbors):
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
