"""A stand-in third-party package that ships a fasttsne neighbour backend.

``tests/test_neighbors.py`` puts this folder on ``sys.path``; the ``.dist-info`` next to this
file declares the entry point, exactly as ``pip install`` of a real plugin would.
"""
from fasttsne.neighbors import Exact


class DemoBackend(Exact):
    """Exact search under another name (what the plugin adds does not matter to the test)."""

    name = "demo-plugin"
