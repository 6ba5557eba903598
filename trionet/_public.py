"""How public names present themselves: ``trionet.X``, not ``trionet._dial.X``.

Only the helper that ``trionet/__init__.py`` and ``trionet/testing.py`` call after their imports
lives here; it imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["claim_names"]


def claim_names(namespace: Mapping[str, object], names: Iterable[str], module: str) -> None:
    """Set ``__module__`` to *module* on each of *names* defined in a private ``trionet._x``
    module, so reprs, tracebacks, pickle and the docs show the public path (as trio does).
    Objects that cannot take the attribute (instances, some aliases) are left alone."""
    for name in names:
        obj = namespace[name]
        if getattr(obj, "__module__", "").startswith("trionet._"):
            try:
                obj.__module__ = module
            except (AttributeError, TypeError):  # pragma: no cover - e.g. instances
                pass
