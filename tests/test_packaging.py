"""The distribution as a user gets it: a wheel built from this tree carries the license and the
project's addresses, and the README says how to get the tools it names."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_wheel(out: Path) -> Path:
    # The build backend itself, not pip: pip would fetch hatchling into an isolated environment
    # (network); hatchling is in the test group.
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = out.glob("trionet-*.whl")
    return wheel


def test_the_wheel_carries_the_license_and_the_project_urls(tmp_path: Path) -> None:
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in license_text
    with zipfile.ZipFile(build_wheel(tmp_path)) as wheel:
        names = wheel.namelist()
        (licensed,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(licensed).decode() == license_text
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(wheel.read(meta_name).decode())
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Documentation", "Repository", "Issues"}
    assert all(u.startswith("https://") for u in urls.values())


def test_the_readme_says_how_to_get_nox() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sentence = readme[readme.index("nox -s docs") :][:200]
    assert "pip install nox" in sentence
    assert "--group dev" in sentence
