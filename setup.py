"""Build the Cython extensions in ``ext/`` into ``fasttsne._ext``.

Every ``ext/*.pyx`` becomes ``fasttsne._ext.<stem>``, compiled with ``-O3`` and OpenMP.
When the compiler cannot build OpenMP code the extensions are still built, single-threaded,
and a warning says so. No ``-march=native`` (wheels must run on other CPUs) and no
``-ffast-math`` (it changes NaN/inf semantics the validation relies on), and no contraction of
multiplies and adds (``-ffp-contract=off``), so a kernel compiled once per instruction set
(``ext/_distances.pxd``) rounds alike in every copy. No debug
information and stripped symbols: the extensions are a fifth of the size.

Every build also leaves the compiled extensions in the source tree (``fasttsne/_ext/``),
as ``build_ext --inplace`` does. Two reasons: ``python -m fasttsne`` and ``python -m pytest``
run from the clone's root put the source tree first on ``sys.path``, so it must be
importable; and a later ``pip install .`` (e.g. with the ``test`` extra) finds the
extensions there, newer than every source file, and copies them instead of compiling
again. ``python setup.py build_ext --inplace --force`` rebuilds regardless. The
extensions are cythonized and compiled in parallel, one per core.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
}


def _has_openmp(compiler):
    """True when ``compiler`` compiles and links a trivial OpenMP program."""
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "omp_check.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n")
        try:
            objs = compiler.compile([src], output_dir=tmp, extra_postargs=["-fopenmp"])
            compiler.link_executable(objs, os.path.join(tmp, "omp_check"),
                                     extra_postargs=["-fopenmp"])
        except Exception:  # any compile or link failure means: no OpenMP
            return False
        return True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _newest_source_mtime():
    """Modification time of the newest file an extension is built from (this script included)."""
    paths = [os.path.abspath(__file__)]
    for pattern in ("*.pyx", "*.pxd", "*.h"):
        paths += glob.glob(os.path.join(HERE, "ext", pattern))
    return max(os.path.getmtime(p) for p in paths)


def _flags(openmp):
    """(compile, link) flags: optimised, OpenMP when available, no debug information, stripped."""
    if sys.platform == "win32":  # MSVC: /O2 is the default of a release build; no OpenMP here
        return [], []
    # no contraction of a multiply and an add into one rounding: sums that several instruction
    # sets' copies compute (ext/_distances.pxd) must round alike in each
    compile_args = ["-O3", "-g0", "-ffp-contract=off"] + (["-fopenmp"] if openmp else [])
    link_args = ["-fopenmp"] if openmp else []
    # strip symbols at link time; macOS's linker spells it differently
    link_args += ["-Wl,-x"] if sys.platform == "darwin" else ["-s"]
    return compile_args, link_args


class BuildExt(build_ext):
    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:  # one compiler per core unless -j says otherwise
            self.parallel = os.cpu_count() or 1

    def _source_tree_path(self, ext):
        """Where ``build_ext --inplace`` puts ``ext``: next to its package in the source tree."""
        filename = self.get_ext_filename(ext.name.split(".")[-1])
        return os.path.join(HERE, *ext.name.split(".")[:-1], filename)

    def _up_to_date_in_source_tree(self, ext):
        path = self._source_tree_path(ext)
        return (not self.force and os.path.exists(path)
                and os.path.getmtime(path) >= _newest_source_mtime())

    def build_extensions(self):
        from Cython.Build import cythonize

        stale = [ext for ext in self.extensions if not self._up_to_date_in_source_tree(ext)]
        fresh = [ext for ext in self.extensions if ext not in stale]
        for ext in fresh:
            print(f"fasttsne: {ext.name} is up to date in the source tree; not compiling it again")
            if not self.inplace:
                target = self.get_ext_fullpath(ext.name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(self._source_tree_path(ext), target)
        if not stale:
            return
        openmp = sys.platform != "win32" and _has_openmp(self.compiler)
        if not openmp:
            warnings.warn("fasttsne: the C compiler has no OpenMP support; "
                          "building single-threaded extensions (n_jobs will be ignored).")
        compile_args, link_args = _flags(openmp)
        print(f"fasttsne: compiling {len(stale)} extension(s) with {self.parallel} parallel job(s)",
              flush=True)
        built = cythonize(stale, compiler_directives=COMPILER_DIRECTIVES, include_path=["ext"],
                          nthreads=self.parallel if self.parallel > 1 else 0, force=self.force)
        c_sources = {ext.name: ext.sources for ext in built}
        for ext in stale:  # keep the Extension objects setuptools has prepared; swap .pyx for .c
            ext.sources = c_sources[ext.name]
            ext.extra_compile_args = compile_args
            ext.extra_link_args = link_args
        self.extensions = stale
        super().build_extensions()
        if not self.inplace:
            self._copy_to_source_tree(stale)

    def _copy_to_source_tree(self, built):
        """Leave a copy of each extension in the source tree (skipped, with a note, when read-only)."""
        for ext in built:
            target = self._source_tree_path(ext)
            try:
                shutil.copy2(self.get_ext_fullpath(ext.name), target)
            except OSError as e:
                print(f"fasttsne: could not copy {ext.name} into the source tree ({e}); "
                      f"'python -m fasttsne' works from outside the clone only")
                return


def extensions():
    exts = []
    for path in sorted(glob.glob(os.path.join("ext", "*.pyx"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        exts.append(Extension(
            f"fasttsne._ext.{stem}", [path],
            include_dirs=[np.get_include(), "ext"],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        ))
    return exts


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
