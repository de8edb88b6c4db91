"""Sphinx configuration: Markdown pages (MyST) and an API reference from the numpy-style docstrings.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (``pip install ".[docs]"`` first;
CI runs it with warnings as errors).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import fasttsne  # noqa: E402

project = "fasttsne"
author = "fasttsne developers"
copyright = "2026, fasttsne developers"
release = version = fasttsne.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_typehints = "description"
autodoc_mock_imports = ["annoy", "pynndescent", "anndata"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# attributes as fields of their class: a property documented under Attributes would otherwise be described twice
napoleon_use_ivar = True

# The index's last toctree entry is a glob that picks up any page not listed yet, so that a new
# page is in the contents from the start; when every page is listed, that glob matching nothing
# is expected, not an error.
suppress_warnings = ["toc.empty_glob"]
# Pages that other work in progress adds (the large-data and quality guides): until they exist,
# links to them cannot resolve; once they do, this adds nothing.
_PENDING_PAGES = ("large_data.md", "quality.md")
if not all(os.path.exists(os.path.join(os.path.dirname(__file__), p)) for p in _PENDING_PAGES):
    suppress_warnings.append("myst.xref_missing")

html_theme = "alabaster"
html_title = f"fasttsne {release}"
