"""The hosts file: Go's hosts_test.go tables and the 5-second cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trionet._resolver._hosts import CACHE_MAX_AGE, HostsFile, abs_domain_name, parse_hosts

# Go's testdata/hosts, verbatim.
GO_HOSTS = """\
255.255.255.255\tbroadcasthost
127.0.0.2\todin
127.0.0.3\todin  # inline comment\x20
::2             odin
127.1.1.1\tthor
# aliases
127.1.1.2\tullr ullrhost
fe80::1%lo0\tlocalhost
# Bogus entries that must be ignored.
123.123.123\tloki
321.321.321.321
"""


@pytest.fixture
def go_hosts(tmp_path: Path) -> HostsFile:
    path = tmp_path / "hosts"
    path.write_text(GO_HOSTS)
    return HostsFile(str(path))


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("odin", ["127.0.0.2", "127.0.0.3", "::2"]),
        ("thor", ["127.1.1.1"]),
        ("ullr", ["127.1.1.2"]),
        ("ullrhost", ["127.1.1.2"]),
        ("localhost", ["fe80::1%lo0"]),
    ],
)
def test_lookup_static_host(go_hosts: HostsFile, name: str, want: list[str]) -> None:
    # Go's testStaticHost: the name as is, rooted, lower and upper case all match.
    for variant in (name, abs_domain_name(name), name.lower(), name.upper()):
        assert go_hosts.lookup_host(variant, 0.0)[0] == want


def test_bogus_lines_ignored(go_hosts: HostsFile) -> None:
    assert go_hosts.lookup_host("loki", 0.0) == ([], "")
    assert go_hosts.lookup_addr("123.123.123", 0.0) == []


@pytest.mark.parametrize(
    ("addr", "want"),
    [
        ("255.255.255.255", ["broadcasthost"]),
        ("127.0.0.2", ["odin"]),
        ("127.0.0.3", ["odin"]),
        ("::2", ["odin"]),
        ("127.1.1.1", ["thor"]),
        ("127.1.1.2", ["ullr", "ullrhost"]),
        ("fe80::1%lo0", ["localhost"]),
        ("0:0:0:0:0:0:0:2", ["odin"]),  # Go's TestLookupStaticAddr: canonical text
    ],
)
def test_lookup_static_addr(go_hosts: HostsFile, addr: str, want: list[str]) -> None:
    assert go_hosts.lookup_addr(addr, 0.0) == want


def test_case_and_canonical_name() -> None:
    # Go's testdata/case-hosts (golang.org/issue/12806): names keep their case in by_addr.
    table = parse_hosts("127.0.0.1\tPreserveMe\tPreserveMe.local\n::1\tPreserveMe\tPreserveMe.local\n")
    assert table.by_name["preserveme"] == (["127.0.0.1", "::1"], "preserveme")
    assert table.by_name["preserveme.local."] == (["127.0.0.1", "::1"], "preserveme")
    assert table.by_addr["127.0.0.1"] == ["PreserveMe", "PreserveMe.local."]


def test_canonical_is_first_name_rooted(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 Web.Example.test www alias.test\n")
    hosts = HostsFile(str(path))
    assert hosts.lookup_host("www", 0.0) == (["10.0.0.1"], "web.example.test.")
    assert hosts.lookup_host("ALIAS.TEST.", 0.0) == (["10.0.0.1"], "web.example.test.")


def test_missing_file_is_empty(tmp_path: Path) -> None:
    hosts = HostsFile(str(tmp_path / "nope"))
    assert hosts.lookup_host("localhost", 0.0) == ([], "")
    (tmp_path / "nope").write_text("127.0.0.9 late.test\n")  # appears later: read next time
    assert hosts.lookup_host("late.test", 1.0) == (["127.0.0.9"], "late.test.")


def test_a_file_that_disappears_is_an_empty_table(tmp_path: Path) -> None:
    # Go's readHosts: ErrNotExist (or ErrPermission) gives an empty table once the cache expires.
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 a.test\n")
    hosts = HostsFile(str(path))
    assert hosts.lookup_host("a.test", 0.0) == (["127.0.0.1"], "a.test.")
    path.unlink()
    assert hosts.lookup_host("a.test", 1.0) == (["127.0.0.1"], "a.test.")  # within the 5 s cache
    assert hosts.lookup_host("a.test", 10.0) == ([], "")


def test_a_file_that_cannot_be_opened_otherwise_keeps_the_last_table(tmp_path: Path) -> None:
    # Go's readHosts returns early for any other open error: the old entries stay.
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 a.test\n")
    hosts = HostsFile(str(path))
    assert hosts.lookup_host("a.test", 0.0) == (["127.0.0.1"], "a.test.")
    path.unlink()
    path.mkdir()  # open() now fails with IsADirectoryError
    assert hosts.lookup_host("a.test", 10.0) == (["127.0.0.1"], "a.test.")


def test_cache_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 a.test\n")
    hosts = HostsFile(str(path))
    assert hosts.lookup_host("a.test", 100.0)[0] == ["127.0.0.1"]
    path.write_text("127.0.0.22 a.test\n")  # different size
    # Inside the 5-second window the cached table is used without even a stat.
    assert hosts.lookup_host("a.test", 100.0 + CACHE_MAX_AGE - 0.001)[0] == ["127.0.0.1"]
    # After it, a changed size (or mtime) re-reads the file.
    assert hosts.lookup_host("a.test", 100.0 + CACHE_MAX_AGE)[0] == ["127.0.0.22"]


def test_same_size_new_mtime_reloads(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 a.test\n")
    hosts = HostsFile(str(path))
    assert hosts.lookup_host("a.test", 0.0)[0] == ["127.0.0.1"]
    path.write_text("127.0.0.2 a.test\n")  # same size
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert hosts.lookup_host("a.test", 10.0)[0] == ["127.0.0.2"]


def test_unchanged_file_not_reparsed(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 a.test\n")
    hosts = HostsFile(str(path))
    first = hosts.table(0.0)
    assert hosts.table(10.0) is first  # stat says unchanged: same table, new expiry
