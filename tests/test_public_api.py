"""The public surface: every name in ``trionet.__all__`` is documented, in code and in the docs.

ruff's D1xx rules treat members of underscore modules as private, so they cannot catch an
undocumented ``trionet._dial.Dialer``; this test does it instead, in the manner of trio's
``test_exports.py``. It also keeps the docs honest: a public name that no page documents with a
Sphinx directive fails here, before a user finds the gap.
"""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import pytest

import trionet
import trionet.testing

DOCS = Path(__file__).resolve().parent.parent / "docs"
PUBLIC = sorted(trionet.__all__)
# Classes, functions and modules: the objects whose __module__ / __name__ a user sees in reprs,
# tracebacks and the docs (instances such as default_resolver have none of their own).
DEFINITIONS = [
    name
    for name in PUBLIC
    # isinstance(..., types.GenericAlias): on Python 3.10 inspect.isclass() is true for a
    # parametrised alias such as trionet.Control (Callable[...]); an alias is not a definition.
    if (inspect.isclass(obj := getattr(trionet, name)) and not isinstance(obj, types.GenericAlias))
    or inspect.isfunction(obj)
    or isinstance(obj, types.ModuleType)
]
# The rest are instances: inspect.getdoc() gives their class's docstring, which says nothing about
# the instance, so the docs must describe them instead.
INSTANCES = [name for name in PUBLIC if name not in DEFINITIONS]


def _rst_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.rst")))


def _documenting_directive(name: str) -> re.Pattern[str]:
    """A Sphinx directive that describes *name*: ``.. autoclass:: Dialer``,
    ``.. autofunction:: trionet.dial``, ``.. py:data:: default_resolver``,
    ``.. automodule:: trionet.trace`` and so on."""
    kinds = r"(?:auto(?:class|function|exception|data|module|attribute|method)|py:(?:class|function|exception|data|module|attribute|method)|module)"
    return re.compile(rf"^\s*\.\. {kinds}::\s+(?:trionet\.)?{re.escape(name)}\s*(?:\(.*)?$", re.MULTILINE)


def _directive_body(name: str, text: str) -> str:
    """The prose under the first directive documenting *name* in *text*: its indented lines,
    without the ``:option:`` lines, joined; "" when there is no directive or no prose."""
    match = _documenting_directive(name).search(text)
    if match is None:
        return ""
    body: list[str] = []
    for line in text[match.end() :].splitlines()[1:]:
        if line.strip() and not line.startswith((" ", "\t")):
            break
        if not re.match(r":[\w-]+:(?:\s|$)", line.strip()):  # ":type: X" is an option, not prose
            body.append(line.strip())
    return " ".join(" ".join(body).split())


def test_all_names_are_unique_and_exist() -> None:
    assert len(set(trionet.__all__)) == len(trionet.__all__)
    for name in trionet.__all__:
        assert hasattr(trionet, name), name
    assert "Dialer" in DEFINITIONS
    assert "default_resolver" not in DEFINITIONS
    # Addr and Control are type aliases (issue 10: used in public signatures, so exported).
    assert INSTANCES == ["Addr", "Control", "default_resolver"]


def own_doc(obj: object) -> str:
    """*obj*'s own docstring: for a class, not one inherited from a base class (inspect.getdoc
    falls back to those), and not the signature a dataclass writes when it has none."""
    if inspect.isclass(obj):
        doc = inspect.cleandoc(vars(obj).get("__doc__") or "")
        return "" if doc.startswith(f"{obj.__name__}(") else doc
    return inspect.getdoc(obj) or ""


@pytest.mark.parametrize("name", DEFINITIONS)
def test_public_name_has_a_docstring(name: str) -> None:
    obj = getattr(trionet, name)
    doc = own_doc(obj)
    assert doc, f"trionet.{name} has no docstring"
    assert len(doc.strip()) >= 20, f"trionet.{name}'s docstring is too short to say anything: {doc!r}"


@pytest.mark.parametrize("name", DEFINITIONS)
def test_public_class_or_function_claims_module_trionet(name: str) -> None:
    obj = getattr(trionet, name)
    if isinstance(obj, types.ModuleType):
        assert obj.__name__ == f"trionet.{name}"
        return
    assert obj.__module__ == "trionet", (
        f"trionet.{name}.__module__ is {obj.__module__!r}: reprs, tracebacks and the docs would show "
        "a private module"
    )


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_is_documented_in_the_docs(name: str) -> None:
    text = _rst_text()
    assert _documenting_directive(name).search(text), (
        f"trionet.{name} is public but no page in docs/ documents it with a directive "
        f"(autoclass/autofunction/autoexception/autodata/automodule or py:*)"
    )


@pytest.mark.parametrize("name", INSTANCES)
def test_public_instance_is_described_in_the_docs(name: str) -> None:
    # An instance's own docstring is its class's: the words about it live under its directive.
    body = _directive_body(name, _rst_text())
    assert len(body) >= 20, f"trionet.{name}'s directive in docs/ says too little about it: {body!r}"


def test_the_directive_check_can_fail() -> None:
    # Guard against a pattern that matches everything: a made-up name is not documented.
    assert not _documenting_directive("no_such_public_name").search(_rst_text())
    assert _documenting_directive("Dialer").search(".. autoclass:: Dialer\n")
    assert _documenting_directive("dial").search(".. autofunction:: trionet.dial\n")
    assert not _documenting_directive("dial").search(".. autofunction:: dial_timeout\n")
    assert (
        _directive_body("x", ".. py:data:: x\n   :type: int\n\n   The x.\n   Two.\n\nafter\n")
        == "The x. Two."
    )
    assert _directive_body("x", ".. py:data:: x\n\n   Of every\n   :class:`Y` and more.\n") == (
        "Of every :class:`Y` and more."
    )
    assert _directive_body("x", ".. py:data:: x\n   :type: int\n\nafter\n") == ""
    assert _directive_body("x", ".. py:data:: y\n\n   The y.\n") == ""


# The public submodules follow the same rules for their own __all__.
SUBMODULES = [trionet.testing, trionet.trace, trionet.tls]
SUB_DEFINITIONS = [
    (module, name)
    for module in SUBMODULES
    for name in sorted(module.__all__)
    if inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name))
]


@pytest.mark.parametrize(
    ("module", "name"), SUB_DEFINITIONS, ids=[f"{m.__name__}.{n}" for m, n in SUB_DEFINITIONS]
)
def test_submodule_names_are_documented_and_claim_their_module(module: types.ModuleType, name: str) -> None:
    obj = getattr(module, name)
    doc = own_doc(obj)
    assert doc, f"{module.__name__}.{name} has no docstring"
    assert len(doc.strip()) >= 20, f"{module.__name__}.{name}'s docstring is too short: {doc!r}"
    assert obj.__module__ == module.__name__, (
        f"{module.__name__}.{name}.__module__ is {obj.__module__!r}: a private module would show"
    )


def test_submodule_tables_are_not_empty() -> None:
    assert "FakeSocket" in {n for m, n in SUB_DEFINITIONS if m is trionet.testing}
    assert "Event" in {n for m, n in SUB_DEFINITIONS if m is trionet.trace}
