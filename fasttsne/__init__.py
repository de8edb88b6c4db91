"""fasttsne: fast, trustworthy t-SNE with Cython/OpenMP kernels.

>>> import fasttsne
>>> embedding = fasttsne.TSNE(random_state=0).fit(X)        # doctest: +SKIP
>>> Y = np.asarray(embedding)                               # doctest: +SKIP
"""
from ._params import InvalidParameterError
from .affinity import PerplexityBasedNN
from .embedding import Embedding
from .partial import PartialEmbedding
from .persist import load
from .optim import DivergenceError, OptimizationInterrupt
from .plotting import plot
from .tsne import TSNE
from . import tl
from . import nearest_neighbors  # openTSNE code reaches it as an attribute of the package
from ._version import __version__

#: openTSNE's names, so its code runs after changing the import
TSNEEmbedding = Embedding
PartialTSNEEmbedding = PartialEmbedding

__all__ = ["TSNE", "Embedding", "PartialEmbedding", "TSNEEmbedding", "PartialTSNEEmbedding", "PerplexityBasedNN", "load", "OptimizationInterrupt", "DivergenceError",
           "InvalidParameterError",
           "plot", "tl", "__version__"]
