"""Build script: compiles the Rust extension ``sketchy._native`` with setuptools-rust.

Metadata, dependencies and tool settings live in pyproject.toml. ``pip install .`` builds the
release profile (LTO, one codegen unit, see Cargo.toml).
"""

from setuptools import setup
from setuptools_rust import Binding, RustExtension

setup(
    rust_extensions=[
        RustExtension("sketchy._native", path="Cargo.toml", binding=Binding.PyO3, debug=False),
    ],
    zip_safe=False,
)
