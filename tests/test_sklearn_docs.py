"""docs/sklearn.md ("Coming from scikit-learn") cannot rot: its Python examples run here, in order,
in one namespace, in a fresh temporary folder."""
import os
import re

import pytest

pytest.importorskip("sklearn", minversion="1.6")

PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "sklearn.md")
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def python_blocks(path):
    """[(line number of the first code line, code)] of the ```python blocks of ``path``."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_page_has_examples():
    assert len(python_blocks(PAGE)) >= 3


def test_the_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for line, code in python_blocks(PAGE):
        # padded so that a traceback names the line in the Markdown file
        exec(compile("\n" * (line - 1) + code, PAGE, "exec"), namespace)
    assert namespace["X_embedded"].shape == (4, 2)
    assert namespace["Y_new"].shape == (100, 2)
    assert list(namespace["frame"].columns) == ["tsne0", "tsne1"]
