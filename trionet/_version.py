"""``trionet.__version__``: the installed distribution's version, read from its metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    #: The version of the installed ``trionet`` distribution (``pyproject.toml``'s, once built
    #: or installed); ``"0+unknown"`` when the package is imported from a bare source tree.
    __version__: str = version("trionet")
except PackageNotFoundError:  # pragma: no cover - a source tree on sys.path, never installed
    __version__ = "0+unknown"
