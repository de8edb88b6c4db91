"""The documentation cannot rot: every example in README.md and docs/**/*.md runs here.

In each file, the ```python blocks run in order in one namespace (a later block may use the
names of an earlier one), in a fresh temporary folder; in ```console blocks every
``$ fasttsne ...`` line runs through ``fasttsne.cli.main`` and must succeed. ```bash blocks
are installation commands and are not run (CI runs the README's, see .ci/run). Blocks tagged
``{name}`` are MyST directives for Sphinx (contents, API reference), not code.
"""
import glob
import os
import re
import shlex

import pytest

from fasttsne import cli
from markdown_blocks import code_blocks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))
RUNNABLE = {"python", "console"}
#: Languages of blocks that are shown but not run (installation and set-up commands).
SHOWN_ONLY = {"bash", "text"}
#: The README's quick start must stay short enough to read at a glance.
QUICK_START_MAX_LINES = 12


def _id(path):
    return os.path.relpath(path, ROOT)


@pytest.mark.parametrize("path", [p for p in DOCS if any(lang in RUNNABLE for lang, _, _ in code_blocks(p))],
                         ids=_id)
def test_examples_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    namespace = {"__name__": "__docs__"}
    try:
        for language, line, code in code_blocks(path):
            if language == "python":
                # pad so that tracebacks give the line number in the Markdown file
                exec(compile("\n" * (line - 1) + code, path, "exec"), namespace)
            elif language == "console":
                for offset, command in enumerate(code.splitlines()):
                    if not command.startswith("$ "):
                        continue
                    argv = shlex.split(command[2:])
                    assert argv[0] == "fasttsne", f"{_id(path)}:{line + offset}: only fasttsne commands run here"
                    assert cli.main(argv[1:]) == 0, f"{_id(path)}:{line + offset}: {command} failed"
    finally:
        if plt is not None:
            plt.close("all")


@pytest.mark.parametrize("path", DOCS, ids=_id)
def test_no_code_example_escapes_the_runner(path):
    for language, line, code in code_blocks(path):
        # untagged blocks are diagrams; code in one would never run
        looks_like_code = re.search(r"^(import |from \S+ import |>>> |\$ fasttsne)", code, re.M)
        is_directive = language.startswith("{") and language.endswith("}")
        assert language in RUNNABLE | SHOWN_ONLY or is_directive or (language == "" and not looks_like_code), (
            f"{_id(path)}:{line - 1}: code block tagged {language!r}; tag examples python or console "
            f"(run by the tests), set-up commands bash")


def test_readme_keeps_its_two_setup_commands():
    bash = [code for language, _, code in code_blocks(DOCS[0]) if language == "bash"]
    assert "python -m pip install . && python -m fasttsne demo\n" in bash
    assert 'python -m pip install ".[test]" && python -m pytest\n' in bash


def test_readme_quick_start_is_short():
    python = [code for language, _, code in code_blocks(DOCS[0]) if language == "python"]
    assert python and len(python[0].strip().splitlines()) <= QUICK_START_MAX_LINES


@pytest.mark.parametrize("path", DOCS, ids=_id)
def test_pictures_exist(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
        if "://" not in target:
            assert os.path.isfile(os.path.join(os.path.dirname(path), target)), f"{_id(path)}: missing {target}"


#: Modules users never import: implementation details behind the documented ones.
INTERNAL_MODULES = {"fasttsne.progress"}


def public_modules():
    """Every fasttsne module whose name has no leading underscore, except the internal ones,
    and except the submodules of a documented package (its __init__ exports what is public)."""
    import pkgutil
    import fasttsne
    names = {"fasttsne"}
    for info in pkgutil.walk_packages(fasttsne.__path__, "fasttsne."):
        parts = info.name.split(".")
        if not any(p.startswith("_") for p in parts[1:]) and len(parts) == 2:
            names.add(info.name)
    return sorted(names - INTERNAL_MODULES)


def api_reference_modules():
    with open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8") as f:
        return set(re.findall(r"^\.\. automodule:: (\S+)", f.read(), re.M))


@pytest.mark.parametrize("module", public_modules())
def test_every_public_module_is_in_the_api_reference(module):
    assert module in api_reference_modules(), (
        f"docs/api.md has no `.. automodule:: {module}` (in an eval-rst block): add it (autodoc documents its __all__)")


def test_every_top_level_name_is_documented_where_it_is_defined():
    import fasttsne
    documented = api_reference_modules()
    for name in fasttsne.__all__:
        obj = getattr(fasttsne, name)
        home = obj.__name__ if isinstance(obj, type(fasttsne)) else getattr(obj, "__module__", "fasttsne")
        package = ".".join(home.split(".")[:2])
        assert home in documented or package in documented or name in ("__version__", "InvalidParameterError"), (
            f"fasttsne.{name} is defined in {home}, which docs/api.md does not document")


def test_every_name_the_docs_mention_exists():
    import importlib
    with open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8") as f:
        names = set(re.findall(r"\bfasttsne(?:\.[A-Za-z_]\w*)+", f.read()))
    assert len(names) > 10
    for name in sorted(names):
        parts = name.split(".")
        # the longest importable prefix is the module; the rest are attributes
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
                break
            except ImportError:
                continue
        for attr in parts[cut:]:
            assert hasattr(obj, attr), f"docs/api.md names {name}, which does not exist"
            obj = getattr(obj, attr)


def documented_classes():
    """Class -> its documented name, for every class in the ``__all__`` of a module the API
    reference documents (autodoc documents exactly those)."""
    import importlib
    classes = {}
    for module in sorted(api_reference_modules()):
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if isinstance(obj, type):
                classes.setdefault(obj, f"{module}.{name}")
    return classes


def exposed_classes(obj):
    """The fasttsne classes of the values of ``obj``'s public attributes (name -> class), items
    of plain lists and tuples included."""
    found = {}
    for name in dir(obj):
        if name.startswith("_"):
            continue
        value = getattr(obj, name)
        values = value if type(value) in (list, tuple) else [value]
        for v in values:
            if type(v).__module__.startswith("fasttsne"):
                found[name] = type(v)
    return found


def test_every_class_a_fitted_map_exposes_is_in_the_api_reference(digits):
    import fasttsne
    X = digits[0][:120]
    embedding = fasttsne.TSNE(n_iter=10, early_exaggeration_iter=10, random_state=0).fit(X)
    exposed = {**exposed_classes(embedding), **exposed_classes(embedding.prepare_partial(X[:5]))}
    exposed["quality()"] = type(embedding.quality(X))
    assert {"kl_history", "phases_", "optimizer_state", "quality()"} <= set(exposed)
    documented = documented_classes()
    missing = {name: f"{cls.__module__}.{cls.__qualname__}" for name, cls in exposed.items() if cls not in documented}
    assert missing == {}, f"attributes whose class docs/api.md does not document: {missing}"
