"""Sphinx configuration for trionet's documentation.

Built by ``nox -s docs`` with ``-n -W`` (every reference must resolve, every warning is an
error), then again with the ``doctest`` builder, which runs every example in the pages.

The build is offline: the intersphinx inventories of Python and Trio are vendored in
``_intersphinx/`` (see ``_intersphinx/README.rst`` for where they come from and how to refresh
them), so no page ever needs the network to build.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The examples' loopback helpers (docs/_lab/doclab.py), shown in the cancellation chapter.
sys.path.insert(0, str(HERE / "_lab"))

project = "trionet"
author = "trionet developers"
copyright = "trionet developers"  # noqa: A001 - Sphinx's name

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "sphinxcontrib_trio",
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

# --- doctest -------------------------------------------------------------------------------
# Every example in every page runs in CI. They talk to loopback only, through the helpers in
# _lab/doclab.py, and most run under Trio's MockClock so that times are exact.
doctest_global_setup = """
import math
import trio
import trio.testing
from trio.testing import MockClock
import trionet
import doclab
from trionet import *
"""
import doctest as _doctest  # noqa: E402

doctest_default_flags = _doctest.ELLIPSIS | _doctest.NORMALIZE_WHITESPACE | _doctest.DONT_ACCEPT_TRUE_FOR_1
doctest_test_doctest_blocks = "default"

exclude_patterns = ["_build", "_lab", "_intersphinx", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
html_theme = "alabaster"
html_title = "trionet"
pygments_style = "sphinx"
