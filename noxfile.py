"""nox sessions for trionet: `nox -l` lists them.

The test matrix needs python3.10 … python3.13 on PATH; on the development machine export
``PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0`` first (see README). A missing interpreter is an
error, never a skip: a matrix that silently shrinks tests nothing.
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "tests", "docs"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)


def _install(session: nox.Session, *groups: str) -> None:
    deps: list[str] = []
    for group in groups:
        deps.extend(nox.project.dependency_groups(PYPROJECT, group))
    session.install("-e", ".", *deps)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite on one interpreter."""
    _install(session, "test")
    # The network lab (marker netlab, ~2-3 min, root) runs once per CI in the README test
    # command; the matrix leaves it out unless asked (`nox -s tests -- -m netlab`).
    args = session.posargs or ["-m", "not netlab"]
    session.run("pytest", "-q", "-p", "no:cacheprovider", *args)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and the import-linter layer contracts (pyproject)."""
    _install(session, "lint")  # lint-imports analyses the installed package
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright (strict) over the package, tests, benchmarks and this file."""
    _install(session, "typecheck", "bench")
    session.run("mypy")
    session.run("pyright")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs with -n -W, then run every example in them as its own program."""
    _install(session, "docs", "test")
    session.run("sphinx-build", "-n", "-W", "--keep-going", "-q", "-b", "html", "docs", "docs/_build/html")
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/test_docs_examples.py")
