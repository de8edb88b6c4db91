"""A stand-in third-party package that ships a fasttsne neighbour backend and gradient method.

The tests put this folder on ``sys.path``; the ``.dist-info`` next to this file declares the
entry points, exactly as ``pip install`` of a real plugin would.
"""
from fasttsne.gradients import ExactGradient
from fasttsne.neighbors import Exact


class DemoBackend(Exact):
    """Exact search under another name (what the plugin adds does not matter to the test)."""

    name = "demo-plugin"


class DemoGradient(ExactGradient):
    """The exact repulsion under another name."""

    name = "demo-gradient"
