"""Build hook: ship the spec tables (``spec/*.toml``) inside the ``refcodec`` package.

``spec/`` at the top of the repository stays the single source (SPEC.md, the tests and the
conformance tools read it there); a wheel or a non-editable install gets a copy as
``refcodec/spec/*.toml``, which :mod:`refcodec.spec_tables` reads when the source tree is absent.
Everything else is configured in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SPEC = Path(__file__).resolve().parent / "spec"


class BuildPyWithSpecTables(build_py):
    """``build_py`` that also copies ``spec/*.toml`` to ``<build>/refcodec/spec/``."""

    def _tables(self) -> list[tuple[Path, Path]]:
        target = Path(self.build_lib) / "refcodec" / "spec"
        return [(src, target / src.name) for src in sorted(SPEC.glob("*.toml"))]

    def run(self) -> None:
        super().run()
        for src, dst in self._tables():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *(str(dst) for _, dst in self._tables())]


setup(cmdclass={"build_py": BuildPyWithSpecTables})
