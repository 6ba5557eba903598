"""Sphinx configuration for trionet's documentation.

Built by ``nox -s docs`` with ``-n -W`` (every reference must resolve, every warning is an
error). The examples in the pages are complete programs, run one by one in a fresh ``python``
by ``tests/test_docs_examples.py`` (its docstring states the rule every page follows). The
pictures are drawn at build time by ``_ext/trace_pictures.py`` (``.. trace-picture::``) from the
traces of the programs beside them; the build fails if one cannot be drawn. The theme is furo.

The build is offline: the intersphinx inventories of Python and Trio are vendored in
``_intersphinx/`` (see ``_intersphinx/README.rst`` for where they come from and how to refresh
them), so no page ever needs the network to build.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# trace_pictures: the ``.. trace-picture::`` directive (an example and the SVG of its trace);
# lab_report: ``.. lab-report::``, the Happy Eyeballs lab's tables and chart from a recorded run.
sys.path.insert(0, str(HERE / "_ext"))

project = "trionet"
author = "trionet developers"
copyright = "trionet developers"  # noqa: A001 - Sphinx's name

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinxcontrib_trio",
    "trace_pictures",
    "lab_report",
]

nitpicky = True
default_role = "obj"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

nitpick_ignore = [
    # Private type aliases and typing helpers that show up in autodoc signatures. They are
    # described in prose on the API page (``local_addr``, ``control``) rather than as objects.
    ("py:class", "trionet.Addr"),
    ("py:class", "trionet.Control"),
    ("py:class", "Addr"),
    ("py:class", "Control"),
    ("py:class", "StreamNetwork"),
    ("py:class", "PacketNetwork"),
    ("py:class", "IP"),
    ("py:class", "Role"),
    ("py:class", "trionet.trace.Role"),
    ("py:class", "Tracer"),
    ("py:class", "_InetAddr"),
    ("py:class", "trionet._address._InetAddr"),
    ("py:class", "trionet._errors._NetError"),
    ("py:class", "_NetError"),
    # The stdlib documents AF_* constants but has no entry for their enum class.
    ("py:class", "socket.AddressFamily"),
]
nitpick_ignore_regex = [
    # typing.Literal arguments render as bare strings ("tcp", "udp", ...).
    ("py:class", r"['\"].*['\"]"),
    ("py:class", r"trionet\._[a-z_]+\..*"),
    ("py:class", r"trionet\.testing\._[a-z_]+\..*"),
]

# Offline intersphinx: (published base URL, vendored inventory file).
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", str(HERE / "_intersphinx" / "python.inv")),
    "trio": ("https://trio.readthedocs.io/en/stable", str(HERE / "_intersphinx" / "trio.inv")),
}

exclude_patterns = ["_build", "_intersphinx", "_ext", "_static", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
html_theme = "furo"
html_title = "trionet"
html_static_path = ["_static"]
html_css_files = ["trionet.css"]  # pictures, and code in table cells that wraps
# ``::`` literal blocks are console transcripts and output, never code: only
# ``code-block:: python`` / ``pycon`` are shown (and run) as Python.
highlight_language = "text"
