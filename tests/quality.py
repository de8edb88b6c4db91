"""Embedding quality measures used by the tests (numpy/scipy only)."""
import numpy as np
from scipy.spatial import cKDTree


def knn_indices(X, k):
    return cKDTree(X).query(X, k + 1)[1][:, 1:]


def knn_preservation(X, Y, k=10):
    """Fraction of each point's k nearest neighbours in X that are also its k nearest in Y."""
    hi, lo = knn_indices(X, k), knn_indices(Y, k)
    return float(np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(hi, lo)]))


def knn_accuracy(Y, y, k=10):
    """Leave-one-out k-NN label accuracy in the embedding."""
    votes = y[knn_indices(Y, k)]
    pred = np.array([np.bincount(v).argmax() for v in votes])
    return float((pred == y).mean())
