"""Embedding and PartialEmbedding read like read-only ndarrays (openTSNE's embeddings are ndarrays)."""
import numpy as np
import pytest

from fasttsne import TSNE, Embedding
from fasttsne.partial import PartialEmbedding


@pytest.fixture(scope="module")
def embedding():
    X = np.random.default_rng(0).normal(size=(80, 4))
    return TSNE(n_iter=5, early_exaggeration_iter=5, perplexity=10, random_state=0).fit(X)


@pytest.fixture(scope="module")
def Y(embedding):
    return np.asarray(embedding)


def test_indexing_and_slicing_return_plain_arrays(embedding, Y):
    col = embedding[:, 0]
    assert type(col) is np.ndarray and np.array_equal(col, Y[:, 0])
    assert np.array_equal(embedding[3], Y[3]) and embedding[3, 1] == Y[3, 1]
    assert np.array_equal(embedding[np.arange(5)], Y[:5])
    assert np.array_equal(embedding[Y[:, 0] > 0], Y[Y[:, 0] > 0])


def test_slices_are_views_of_the_positions_not_copies(embedding):
    assert np.shares_memory(embedding[:, 0], embedding.positions)
    assert np.shares_memory(embedding.T, embedding.positions)


def test_arithmetic_and_ufuncs_return_plain_arrays(embedding, Y):
    for result, expected in [(embedding + 1, Y + 1), (1 + embedding, 1 + Y), (embedding * 2, Y * 2),
                             (-embedding, -Y), (embedding - Y, Y - Y), (Y - embedding, Y - Y),
                             (np.sin(embedding), np.sin(Y)), (embedding ** 2, Y ** 2),
                             (embedding > 0, Y > 0), (embedding @ np.eye(2), Y)]:
        assert type(result) is np.ndarray
        assert np.array_equal(result, expected)


def test_reductions_and_attributes(embedding, Y):
    assert np.array_equal(embedding.mean(axis=0), Y.mean(axis=0))
    assert embedding.min() == Y.min() and embedding.max() == Y.max()
    assert np.array_equal(embedding.std(axis=0), Y.std(axis=0))
    assert np.array_equal(np.mean(embedding, axis=0), Y.mean(axis=0))
    assert np.array_equal(np.concatenate([embedding, embedding]), np.concatenate([Y, Y]))
    assert embedding.ndim == 2 and embedding.dtype == np.float64 and len(embedding) == Y.shape[0]
    assert embedding.T.shape == (2, Y.shape[0])
    assert np.array_equal(np.array(list(embedding)), Y)


def test_copy_is_a_writable_plain_array(embedding, Y):
    c = embedding.copy()
    assert type(c) is np.ndarray and not np.shares_memory(c, Y)
    c[0, 0] = 99.0
    assert Y[0, 0] != 99.0


@pytest.mark.parametrize("write", [
    lambda e: e.__setitem__((0, 0), 1.0),
    lambda e: e.__iadd__(1.0),
    lambda e: np.add(e, 1, out=e),
    lambda e: np.add(e, 1, out=(e,)),
    lambda e: e[:, 0].__setitem__(0, 1.0),
])
def test_writes_are_refused(embedding, write):
    before = np.array(embedding)
    with pytest.raises(ValueError):
        write(embedding)
    assert np.array_equal(np.asarray(embedding), before)


def test_embedding_is_not_an_ndarray_subclass_and_hashes_by_identity(embedding):
    assert not isinstance(embedding, np.ndarray)
    assert {embedding: 1}[embedding] == 1


def test_partial_embedding_reads_like_an_array(embedding):
    partial = embedding.prepare_partial(np.random.default_rng(1).normal(size=(6, 4)))
    assert isinstance(partial, PartialEmbedding) and isinstance(embedding, Embedding)
    P = np.asarray(partial)
    assert np.array_equal(partial[:, 1], P[:, 1]) and np.array_equal(partial + 1, P + 1)
    assert np.array_equal(partial.mean(axis=0), P.mean(axis=0))
