"""Every example of docs/adapters.rst runs as a standalone program, exactly as shown, and prints
exactly the output block that follows it on the page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "adapters.rst"
_BLOCK = re.compile(r"^\.\. code-block:: (\w+)\n\n((?:(?:   .*)?\n)+)", re.MULTILINE)


def _dedent(body: str) -> str:
    return "\n".join(line[3:] for line in body.splitlines()).strip("\n") + "\n"


def examples() -> list[tuple[str, str]]:
    """(program, expected output) for each python block followed by a text block."""
    blocks = [(m.group(1), _dedent(m.group(2))) for m in _BLOCK.finditer(PAGE.read_text(encoding="utf-8"))]
    found: list[tuple[str, str]] = []
    for (kind, body), (next_kind, next_body) in zip(blocks, [*blocks[1:], ("", "")], strict=True):
        if kind == "python":
            assert next_kind == "text", f"a python example without its output block:\n{body}"
            found.append((body, next_body))
    return found


EXAMPLES = examples()


def test_the_page_has_its_examples() -> None:
    assert len(EXAMPLES) == 5
    assert _dedent("   a\n\n   b\n") == "a\n\nb\n"


@pytest.mark.loopback
@pytest.mark.parametrize(
    ("program", "expected"), EXAMPLES, ids=["open_tcp_stream", "tls", "httpx", "httpcore", "websocket"]
)
def test_example_runs_as_shown(program: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "example.py"
    path.write_text(program, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-W", "error", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
