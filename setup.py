"""Build the Cython extensions in ``ext/`` into ``fasttsne._ext``.

Every ``ext/*.pyx`` becomes ``fasttsne._ext.<stem>``, compiled with ``-O3`` and OpenMP.
When the compiler cannot build OpenMP code the extensions are still built, single-threaded,
and a warning says so. No ``-march=native`` (wheels must run on other CPUs) and no
``-ffast-math`` (it changes NaN/inf semantics the validation relies on).
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from Cython.Build import cythonize
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


class BuildExt(build_ext):
    def build_extensions(self):
        openmp = sys.platform != "win32" and _has_openmp(self.compiler)
        if not openmp:
            warnings.warn("fasttsne: the C compiler has no OpenMP support; "
                          "building single-threaded extensions (n_jobs will be ignored).")
        for ext in self.extensions:
            ext.extra_compile_args = ["-O3"] + (["-fopenmp"] if openmp else [])
            ext.extra_link_args = ["-fopenmp"] if openmp else []
        super().build_extensions()


def extensions():
    exts = []
    for path in sorted(glob.glob(os.path.join("ext", "*.pyx"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        exts.append(Extension(
            f"fasttsne._ext.{stem}", [path],
            include_dirs=[np.get_include(), "ext"],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        ))
    return cythonize(exts, compiler_directives=COMPILER_DIRECTIVES, include_path=["ext"])


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
