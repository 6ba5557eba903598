"""``.. trace-picture::`` — a docs example and the picture of what its dials did.

The directive's content is a complete program (it follows the rule of
``tests/test_docs_examples.py``, which runs it like any other example). At build time the
program is run in a fresh Python by ``trace_runner.py``, which collects the
:mod:`trionet.trace` events of every dial it makes and draws them with
:func:`trionet.trace.render_svg`. The page shows the picture, then the program that drew it.
Programs run over :class:`trionet.testing.FakeNet` under Trio's ``MockClock`` give exact,
reproducible pictures; programs on real loopback show real timings.

If the program fails, or makes no traced dial, the build stops with an error: a page never
goes out without its picture, or with a picture of something else.

Options:

``:caption:`` (reST inline text)
    the figure caption, under the picture.
``:title:``
    a heading drawn in the picture (:func:`~trionet.trace.render_svg`'s ``title``).
``:width:``
    the picture's width in pixels (default 720; it shrinks with the page).
``:span:``
    the time axis in seconds (default: chosen by the renderer).
``:each-dial:``
    one picture per dial, each from its own 0 ms, on a shared time axis: for comparing dials
    the program makes one after the other.
``:titles:``
    with ``:each-dial:``, a heading for each picture, separated by ``;``.
``:own-axis:``
    with ``:each-dial:``, each picture gets the time axis that fits it (when one dial takes
    seconds and another milliseconds, a shared axis would hide the short ones).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

RUNNER = Path(__file__).resolve().parent / "trace_runner.py"
TIMEOUT = 120.0


def draw(program: str, options: dict[str, object], where: str) -> list[str]:
    """Run *program* in a fresh Python and return the SVG pictures of its dials."""
    with tempfile.TemporaryDirectory(prefix="docs-trace-picture-") as tmp:
        script = Path(tmp) / "example.py"
        script.write_text(program, encoding="utf-8")
        out = Path(tmp) / "pictures.json"
        try:
            result = subprocess.run(
                [sys.executable, str(RUNNER), str(script), str(out), json.dumps(options)],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ExtensionError(f"{where}: trace-picture: the example ran over {TIMEOUT:g} s") from exc
        if result.returncode != 0:
            raise ExtensionError(f"{where}: trace-picture: cannot draw the picture:\n{result.stderr.strip()}")
        pictures: list[str] = json.loads(out.read_text(encoding="utf-8"))
    return pictures


class TracePicture(SphinxDirective):
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "caption": directives.unchanged,
        "title": directives.unchanged,
        "width": directives.positive_int,
        "span": float,
        "each-dial": directives.flag,
        "titles": directives.unchanged,
        "own-axis": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        program = "\n".join(self.content) + "\n"
        where = f"{self.env.docname}.rst:{self.lineno}"
        options: dict[str, object] = {
            "width": self.options.get("width", 720),
            "title": self.options.get("title"),
            "span": self.options.get("span"),
            "each_dial": "each-dial" in self.options,
            "own_axis": "own-axis" in self.options,
            "titles": [t.strip() for t in self.options.get("titles", "").split(";") if t.strip()],
        }
        figure = nodes.figure(classes=["trace-picture"])
        for svg in draw(program, options, where):
            figure += nodes.raw("", f'<div class="trace-picture-svg">{svg}</div>', format="html")
        if "caption" in self.options:
            text, messages = self.parse_inline(self.options["caption"], lineno=self.lineno)
            figure += nodes.caption("", "", *text)
            figure += messages
        code = nodes.literal_block(program, program, language="python", classes=["trace-picture-code"])
        self.set_source_info(code)
        return [figure, code]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("trace-picture", TracePicture)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
