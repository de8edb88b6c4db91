"""The one error type for bad parameter values.

Every front door (``TSNE``, ``Embedding.optimize``/``transform``, the scikit-learn estimator,
``fasttsne.tl``, the command line) reports a bad parameter value with
:class:`InvalidParameterError`, before any expensive work starts.
"""

__all__ = ["InvalidParameterError"]


class InvalidParameterError(ValueError, TypeError):
    """A parameter has a value of the wrong type or outside its allowed range.

    A subclass of both ``ValueError`` and ``TypeError`` (as in scikit-learn), so code that
    catches either keeps working whichever kind of mistake it was.
    """
