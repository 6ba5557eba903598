"""Every example in the documentation runs, on its own, exactly as shown.

Each example is copied out of its page into a file of its own and run by a fresh ``python``
(:data:`sys.executable`, nothing imported beforehand, no setup the reader cannot see), so what a
reader copies into a file works. The pages are found by globbing: every ``*.rst`` under
``docs/`` (folders starting with ``_`` excepted) and ``README.md``, so a new page is checked
without anyone registering it.

The rule, which every page follows:

* ``.. code-block:: python`` (and ``.. trace-picture::``, the docs' extension that draws the
  program's trace beside it) is a **complete program**. It is run as ``python example.py`` and
  must exit 0 within a minute. In ``README.md`` the same goes for a fenced ``python`` block.
* ``.. code-block:: text`` with ``:caption: Output`` directly after such a block (nothing but
  blank lines between) is **what the program prints**: its standard output must be exactly that
  text (trailing spaces and blank lines at the ends aside). A program without one may print
  anything.
* ``.. code-block:: pycon`` is an **interactive session** started from a fresh interpreter
  (so it shows its own ``>>> import``\\ s). It is run by ``python -m doctest``: every ``>>>``
  line is executed and every output line shown is compared.
* A piece of Python that is *not* meant to run on its own is marked ``:class: fragment`` on its
  ``code-block:: python`` (a fragment must not have an Output block). Nothing else is exempt.
* No line of an example or of its output is wider than :data:`WIDTH` (what the theme shows
  without scrolling).
* Sphinx's doctest directives (``testcode``, ``testsetup``, ``doctest``, ...) are not used: they
  run with hidden setup, which is exactly what made copied examples fail. This test rejects
  them, and ``python`` blocks written as ``py``/``python3``/``code``/``sourcecode`` or bare
  ``>>>`` paragraphs, so no example escapes the rule by its spelling. ``::`` literal blocks are
  plain text (``highlight_language = "text"`` in ``docs/conf.py``): console transcripts, not code.

Examples touch only loopback or :class:`trionet.testing.FakeNet`: they open their own servers and
resolve through their own resolvers.

The docstring examples of the package (``>>>`` in ``trionet/``, shown on the API pages) are run
with :mod:`doctest` in a fresh process too, in their module's namespace.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
TIMEOUT = 60.0
# The code column of the docs' theme (furo) at a 1200 px window shows about 88 characters; a
# longer line scrolls sideways, and half of it is out of sight.
WIDTH = 88

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\.[ \t]+(?P<name>[\w:-]+)::[ \t]*(?P<arg>.*?)[ \t]*$")
_OPTION = re.compile(r"^:(?P<name>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
_PYTHON_ALIASES = {"py", "python3", "py3", "ipython", "ipython3"}
_DOCTEST_DIRECTIVES = {"testcode", "testsetup", "testcleanup", "testoutput", "doctest"}


@dataclasses.dataclass
class Block:
    """One directive of a page: its kind, options, body and where it is."""

    path: Path
    line: int  # 1-based line of the directive
    name: str
    arg: str
    options: dict[str, str]
    body: str
    end: int  # index of the first line after the block (0-based)
    start: int  # index of the directive line (0-based)


@dataclasses.dataclass
class Example:
    """A runnable example: a program (with its expected output, if shown) or a session."""

    where: str
    kind: str  # "program", "session" or "invalid"
    code: str
    output: str | None = None
    problem: str = ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _blocks(path: Path) -> Iterator[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent = len(match["indent"].expandtabs())
        j = i + 1
        options: dict[str, str] = {}
        # Up to the first blank line come the options (a field list; a value may go on over
        # more lines); the body starts after that blank line.
        last = ""
        while j < len(lines) and lines[j].strip() and _indent(lines[j]) > indent:
            option = _OPTION.match(lines[j].strip())
            if option is not None:
                last = option["name"]
                options[last] = option["value"]
            elif last:
                options[last] += " " + lines[j].strip()
            j += 1
        body: list[str] = []
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > indent):
            body.append(lines[j])
            j += 1
        while body and not body[-1].strip():
            body.pop()
        yield Block(
            path=path,
            line=i + 1,
            name=match["name"],
            arg=match["arg"],
            options=options,
            body=textwrap.dedent("\n".join(body)).strip("\n") + "\n",
            end=j,
            start=i,
        )
        # Nested directives (a code block inside a list item) are found by going on line by line.
        i += 1


def _language(block: Block) -> str | None:
    if block.name in ("code-block", "code", "sourcecode"):
        return block.arg.lower() or "default"
    return None


def _only_blank_between(lines: list[str], start: int, end: int) -> bool:
    return all(not line.strip() for line in lines[start:end])


def _rst_examples(path: Path, root: Path = ROOT) -> Iterator[Example]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = list(_blocks(path))
    rel = path.relative_to(root)
    used_as_output: set[int] = set()
    for index, block in enumerate(blocks):
        where = f"{rel}:{block.line}"
        language = _language(block)
        if block.name in _DOCTEST_DIRECTIVES:
            yield Example(where, "invalid", "", problem=f"'.. {block.name}::' runs with hidden setup")
            continue
        if block.name == "literalinclude" and block.arg.endswith(".py"):
            yield Example(where, "invalid", "", problem="show programs inline, as code-block:: python")
            continue
        if language in _PYTHON_ALIASES or (language == "python" and block.name != "code-block"):
            yield Example(
                where, "invalid", "", problem=f"write '.. code-block:: python', not {block.name}::{language}"
            )
            continue
        if language == "text" and block.options.get("caption") == "Output" and index not in used_as_output:
            yield Example(where, "invalid", "", problem="an Output block that follows no program")
            continue
        if language == "pycon":
            yield Example(where, "session", block.body)
            continue
        if not (language == "python" or block.name == "trace-picture"):
            continue
        output: str | None = None
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if (
            following is not None
            and _language(following) == "text"
            and following.options.get("caption") == "Output"
            and _only_blank_between(lines, block.end, following.start)
        ):
            output = following.body
            used_as_output.add(index + 1)
        if "fragment" in block.options.get("class", "").split():
            if output is not None:
                yield Example(where, "invalid", "", problem="a fragment cannot have an Output block")
            continue
        yield Example(where, "program", block.body, output)
    # Bare ">>>" paragraphs are docutils doctest blocks: they would be shown but never run.
    inside: set[int] = set()
    for block in blocks:
        inside.update(range(block.start, block.end))
    for number, line in enumerate(lines):
        if line.lstrip().startswith(">>>") and number not in inside:
            yield Example(
                f"{rel}:{number + 1}", "invalid", "", problem="a '>>>' line outside code-block:: pycon"
            )


def _markdown_examples(path: Path) -> Iterator[Example]:
    lines = path.read_text(encoding="utf-8").splitlines()
    rel = path.relative_to(ROOT)
    i = 0
    while i < len(lines):
        fence = re.match(r"^(`{3,})[ \t]*(\S*)", lines[i])
        if fence is None:
            i += 1
            continue
        language = fence[2].lower()
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence[1]):
            end += 1
        body = "\n".join(lines[i + 1 : end]) + "\n"
        if language == "python":
            yield Example(f"{rel}:{i + 1}", "program", body)
        elif language == "pycon":
            yield Example(f"{rel}:{i + 1}", "session", body)
        elif language in _PYTHON_ALIASES:
            yield Example(f"{rel}:{i + 1}", "invalid", "", problem="write ```python")
        i = end + 1


def _pages() -> list[Path]:
    pages = [
        p for p in DOCS.rglob("*.rst") if not any(part.startswith("_") for part in p.relative_to(DOCS).parts)
    ]
    return [*sorted(pages), README]


def _examples() -> list[Example]:
    found: list[Example] = []
    for page in _pages():
        found.extend(_markdown_examples(page) if page.suffix == ".md" else _rst_examples(page))
    return found


EXAMPLES = _examples()


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


@pytest.mark.loopback
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_example_runs_standalone(example: Example, tmp_path: Path) -> None:
    assert example.kind != "invalid", f"{example.where}: {example.problem} (see this test's docstring)"
    if example.kind == "session":
        script = tmp_path / "session.txt"
        script.write_text(example.code, encoding="utf-8")
        result = _run([sys.executable, "-m", "doctest", str(script)], tmp_path)
        assert result.returncode == 0, f"{example.where}:\n{result.stdout}{result.stderr}"
        return
    script = tmp_path / "example.py"
    script.write_text(example.code, encoding="utf-8")
    result = _run([sys.executable, str(script)], tmp_path)
    assert result.returncode == 0, f"{example.where} exited {result.returncode}:\n{result.stderr}"
    if example.output is not None:
        assert _normalise(result.stdout) == _normalise(example.output), example.where


def test_examples_fit_the_page() -> None:
    too_wide = [
        f"{e.where}: {len(line)} columns: {line}"
        for e in EXAMPLES
        for line in (e.code + (e.output or "")).splitlines()
        if len(line) > WIDTH
    ]
    assert not too_wide, "\n".join(too_wide)


def test_every_page_with_code_is_found() -> None:
    # A parser that silently finds nothing would make the test above pass vacuously.
    where = {e.where.split(":")[0] for e in EXAMPLES}
    for page in (
        "docs/index.rst",
        "docs/quickstart.rst",
        "docs/cancellation.rst",
        "docs/testing.rst",
        "README.md",
    ):
        assert page in where, page
    assert sum(e.output is not None for e in EXAMPLES) >= 20


def test_the_rules_catch_what_they_say(tmp_path: Path) -> None:
    page = tmp_path / "page.rst"
    page.write_text(
        textwrap.dedent(
            """\
            .. code-block:: python

               print("a")

            .. code-block:: text
               :caption: Output

               a

            .. code-block:: python
               :caption: a caption that goes on
                  over two lines
               :class: fragment

               await something()

            .. testcode::

               print(1)

            .. code-block:: text
               :caption: Output

               stray

            >>> 1 + 1
            2

            * a list item:

              .. code-block:: pycon

                 >>> 1 + 1
                 2
            """
        ),
        encoding="utf-8",
    )
    found = [(e.kind, e.code, e.output) for e in _rst_examples(page, root=tmp_path)]
    assert found[0] == ("program", 'print("a")\n', "a\n")
    kinds = [k for k, _, _ in found]
    assert kinds == ["program", "invalid", "invalid", "session", "invalid"], found


_DOCSTRING_RUNNER = """
import ast, doctest, importlib, sys

path, name = sys.argv[1:]
module = importlib.import_module(name)
parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
    if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        doc = ast.get_docstring(node)
        if doc and ">>>" in doc:
            where = f"{name}.{getattr(node, 'name', '')}"
            runner.run(parser.get_doctest(doc, dict(vars(module)), where, path, 0))
failed, tried = runner.summarize(verbose=False)
print(tried)
sys.exit(1 if failed else 0)
"""


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "trionet").rglob("*.py") if ">>> " in p.read_text(encoding="utf-8")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_docstring_examples(path: Path, tmp_path: Path) -> None:
    # Docstrings run in their module's namespace (the API pages show them beside the names).
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    result = _run([sys.executable, "-c", _DOCSTRING_RUNNER, str(path), name], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


RUNNER = DOCS / "_ext" / "trace_runner.py"
_TRACED = """
import trio, trio.testing, trionet, trionet.testing

async def main():
    net = trionet.testing.FakeNet()
    net.add_host("dual.test", ["::1", "127.0.0.1"])
    net.blackhole("::1")
    with net.install():
        stream = await trionet.Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")
    await stream.aclose()

trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
"""


def _draw(program: str, tmp_path: Path, **options: object) -> tuple[subprocess.CompletedProcess[str], Path]:
    script = tmp_path / "example.py"
    script.write_text(program, encoding="utf-8")
    out = tmp_path / "pictures.json"
    return _run([sys.executable, str(RUNNER), str(script), str(out), json.dumps(options)], tmp_path), out


def test_picture_runner_draws_the_examples_dials(tmp_path: Path) -> None:
    # What the docs' trace-picture directive runs: the program's own dials, drawn as SVG.
    result, out = _draw(_TRACED, tmp_path, width=600)
    assert result.returncode == 0, result.stderr
    (svg,) = json.loads(out.read_text(encoding="utf-8"))
    root = ElementTree.fromstring(svg)
    bars = [e for e in root.iter() if "data-outcome" in e.attrib]
    assert sorted((b.get("data-outcome"), b.get("data-start-ms"), b.get("data-end-ms")) for b in bars) == [
        ("cancelled", "0", "300"),
        ("won", "300", "300"),
    ]


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ("raise SystemExit(3)\n", "exited with status 3"),
        ("1 / 0\n", "ZeroDivisionError"),
        ("print('no dial')\n", "no traced dial"),
    ],
)
def test_picture_runner_fails_the_build_without_a_picture(program: str, message: str, tmp_path: Path) -> None:
    result, out = _draw(program, tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert not out.exists()
