"""nsswitch.conf and the pure-resolver-or-libc choice (Go's nss_test.go and conf_test.go)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trionet._resolver._conf import (
    NSSConf,
    NSSCriterion,
    NSSSource,
    NSSwitch,
    Order,
    env_prefers_libc,
    host_lookup_order,
    is_localhost,
    mdns_allow_exists,
    parse_nss_conf,
    read_nss_conf,
)
from trionet._resolver._dnsconfig import DEFAULT_NS, DNSConfig


# -- nsswitch.conf (Go's nss.go, nss_test.go) ---------------------------------------------------
def test_parse_nss_conf_sources_and_criteria() -> None:
    conf = parse_nss_conf(
        "# comment\npasswd: files\n"
        "hosts:   files mdns4_minimal [NOTFOUND=return] dns [!UNAVAIL=Return success=continue] # x\n"
    )
    assert conf.err is None
    assert conf.sources["passwd"] == [NSSSource("files")]
    assert conf.sources["hosts"] == [
        NSSSource("files"),
        NSSSource("mdns4_minimal", (NSSCriterion(False, "notfound", "return"),)),
        NSSSource(
            "dns", (NSSCriterion(True, "unavail", "return"), NSSCriterion(False, "success", "continue"))
        ),
    ]


@pytest.mark.parametrize(
    ("text", "err"),
    [
        ("hosts files dns\n", "no colon on line"),
        ("hosts: files [NOTFOUND=return dns\n", "unclosed criterion bracket"),
        ("hosts: files [NOTFOUND] dns\n", "invalid criteria: NOTFOUND"),
        ("hosts: files [=a] dns\n", "invalid criteria: =a"),
    ],
)
def test_parse_nss_conf_errors(text: str, err: str) -> None:
    conf = parse_nss_conf(text)
    assert str(conf.err) == err


def test_read_nss_conf_missing_and_empty(tmp_path: Path) -> None:
    assert isinstance(read_nss_conf(str(tmp_path / "none")).err, FileNotFoundError)
    (tmp_path / "nsswitch.conf").write_text("passwd: files\n")
    conf = read_nss_conf(str(tmp_path / "nsswitch.conf"))
    assert conf.err is None
    assert "hosts" not in conf.sources
    assert conf.mtime_ns is not None


@pytest.mark.parametrize(
    ("criteria", "standard"),
    [
        # Go's standardCriteria: each status's default action, "return" allowed last.
        ("", True),
        ("[success=return notfound=continue unavail=continue tryagain=continue]", True),
        ("[notfound=return]", True),
        ("[NOTFOUND=return unavail=continue]", False),
        ("[!UNAVAIL=return]", False),
        ("[success=continue]", False),
        ("[bogus=continue]", False),
    ],
)
def test_standard_criteria(criteria: str, standard: bool) -> None:
    (src,) = parse_nss_conf(f"hosts: dns {criteria}\n").sources["hosts"]
    assert src.standard_criteria() is standard


def test_nsswitch_cache_reload(tmp_path: Path) -> None:
    path = tmp_path / "nsswitch.conf"
    path.write_text("hosts: files dns\n")
    nss = NSSwitch(str(path))
    first = nss.get(0.0)
    assert [s.source for s in first.sources["hosts"]] == ["files", "dns"]
    path.write_text("hosts: dns files\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert nss.get(4.9) is first  # Go re-checks at most every 5 seconds
    assert [s.source for s in nss.get(5.0).sources["hosts"]] == ["dns", "files"]
    assert nss.get(20.0) is nss.get(20.0)  # unchanged mtime: the parsed file is kept


# -- conf.go: pure resolver or libc ------------------------------------------------------------
# Go's defaultResolvConf in conf_test.go: what a missing resolv.conf parses to.
MISSING_RESOLV_CONF = DNSConfig(servers=list(DEFAULT_NS), err=FileNotFoundError(2, "missing"))


def _order(
    nss: str | NSSConf,
    host: str,
    localhost: str = "myhostname",
    *,
    conf: DNSConfig = MISSING_RESOLV_CONF,
    prefer_go: bool = False,
    prefer_libc: bool = False,
    mdns_allow: bool = False,
) -> Order:
    return host_lookup_order(
        host,
        conf,
        parse_nss_conf(nss) if isinstance(nss, str) else nss,
        prefer_go=prefer_go,
        prefer_libc=prefer_libc,
        hostname=lambda: localhost,
        mdns_allow=lambda: mdns_allow,
    )


UBUNTU_TRUSTY_AVAHI = "hosts: files mdns4_minimal [NOTFOUND=return] dns mdns4"
UBUNTU_14 = "hosts: files myhostname mdns4_minimal [NOTFOUND=return] dns mdns4"
DEBIAN_SQUEEZE = (
    "hosts: dns [success=return notfound=continue unavail=continue tryagain=continue] files [notfound=return]"
)
MYHOSTNAME = "hosts: files dns myhostname"

# Go's TestConfHostLookupOrder (conf_test.go), the rows that apply to Linux, in Go's order:
# (Go's case name, nsswitch.conf, options, host, the machine's host name, order). "system" is
# Go's hostLookupCgo; prefer_go is Go's netgo / PreferGo, prefer_libc Go's netcgo / preferCgo.
GO_CONF_TESTS: list[tuple[str, str, dict[str, bool], str, str, Order]] = [
    ("force", "foo: bar", {"prefer_libc": True}, "foo.local", "myhostname", "system"),
    ("force", "foo: bar", {"prefer_libc": True}, "google.com", "myhostname", "system"),
    ("netgo_dns_before_files", "hosts: dns files", {"prefer_go": True}, "x.com", "myhostname", "dns,files"),
    ("netgo_fallback_on_cgo", "hosts: dns files something_custom", {"prefer_go": True}, "x.com", "myhostname", "dns,files"),
    *[("ubuntu_trusty_avahi", UBUNTU_TRUSTY_AVAHI, {}, h, "myhostname", "system") for h in ("foo.local", "foo.local.", "foo.LOCAL", "foo.LOCAL.")],
    ("ubuntu_trusty_avahi", UBUNTU_TRUSTY_AVAHI, {}, "google.com", "myhostname", "files,dns"),
    ("freebsdlinux_no_resolv_conf", "foo: bar", {}, "google.com", "myhostname", "files,dns"),
    ("linux_empty_nsswitch.conf", "", {}, "google.com", "myhostname", "files,dns"),
    ("files_mdns_dns", "hosts: files mdns dns", {}, "x.com", "myhostname", "files,dns"),
    ("files_mdns_dns", "hosts: files mdns dns", {}, "x.local", "myhostname", "system"),
    ("dns_special_hostnames", "hosts: dns", {}, "x.com", "myhostname", "dns"),
    ("dns_special_hostnames", "hosts: dns", {}, "x\\.com", "myhostname", "system"),
    ("dns_special_hostnames", "hosts: dns", {}, "foo.com%en0", "myhostname", "system"),
    ("mdns_allow", "hosts: files mdns dns", {"mdns_allow": True}, "x.com", "myhostname", "system"),
    ("mdns_allow", "hosts: files mdns dns", {"mdns_allow": True}, "x.local", "myhostname", "system"),
    *[("files_dns", "hosts: files dns", {}, h, "myhostname", "files,dns") for h in ("x.com", "x", "x.local")],
    *[("dns_files", "hosts: dns files", {}, h, "myhostname", "dns,files") for h in ("x.com", "x", "x.local")],
    ("something_custom", "hosts: dns files something_custom", {}, "x.com", "myhostname", "system"),
    ("myhostname", MYHOSTNAME, {}, "x.com", "myhostname", "files,dns"),
    ("myhostname", MYHOSTNAME, {}, "myhostname", "myhostname", "system"),
    ("myhostname", MYHOSTNAME, {}, "myHostname", "myhostname", "system"),
    ("myhostname", MYHOSTNAME, {}, "myhostname.dot", "myhostname.dot", "system"),
    ("myhostname", MYHOSTNAME, {}, "myHostname.dot", "myhostname.dot", "system"),
    *[
        ("myhostname", MYHOSTNAME, {}, h, "myhostname", "system")
        for h in (
            "_gateway", "_Gateway", "_outbound", "_Outbound",
            "localhost", "Localhost", "anything.localhost", "Anything.localhost",
            "localhost.localdomain", "Localhost.Localdomain",
            "anything.localhost.localdomain", "Anything.Localhost.Localdomain",
        )
    ],
    ("myhostname", MYHOSTNAME, {}, "somehostname", "myhostname", "files,dns"),
    ("ubuntu14.04.02", UBUNTU_14, {}, "x.com", "myhostname", "files,dns"),
    ("ubuntu14.04.02", UBUNTU_14, {}, "somehostname", "myhostname", "files,dns"),
    ("ubuntu14.04.02", UBUNTU_14, {}, "myhostname", "myhostname", "system"),
    ("debian_squeeze", DEBIAN_SQUEEZE, {}, "x.com", "myhostname", "dns,files"),
    ("debian_squeeze", DEBIAN_SQUEEZE, {}, "somehostname", "myhostname", "dns,files"),
    ("resolver-prefergo", "", {"prefer_go": True, "prefer_libc": True}, "localhost", "myhostname", "files,dns"),
    ("unknown-source", "hosts: resolve files", {"prefer_go": True}, "x.com", "myhostname", "dns,files"),
    ("dns-among-unknown-sources", "hosts: mymachines files dns", {"prefer_go": True}, "x.com", "myhostname", "files,dns"),
    ("dns-among-unknown-sources-2", "hosts: dns mymachines files", {"prefer_go": True}, "x.com", "myhostname", "dns,files"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nss", "kw", "host", "localhost", "want"),
    [row[1:] for row in GO_CONF_TESTS],
    ids=[f"{row[0]}-{row[3]}" for row in GO_CONF_TESTS],
)
def test_go_conf_host_lookup_order(
    nss: str, kw: dict[str, bool], host: str, localhost: str, want: Order
) -> None:
    flags = {"prefer_go": False, "prefer_libc": False, "mdns_allow": False, **kw}
    got = _order(
        nss,
        host,
        localhost,
        prefer_go=flags["prefer_go"],
        prefer_libc=flags["prefer_libc"],
        mdns_allow=flags["mdns_allow"],
    )
    assert got == want


def test_go_conf_missing_nsswitch_and_unknown_resolv_option() -> None:
    # Go's linux_no_nsswitch.conf and resolv.conf-unknown cases.
    assert _order(NSSConf(err=FileNotFoundError(2, "missing")), "google.com") == "files,dns"
    unknown = DNSConfig(servers=list(DEFAULT_NS), unknown_opt=True)
    assert _order("foo: bar", "google.com", conf=unknown) == "system"
    assert _order("foo: bar", "google.com", conf=unknown, prefer_go=True) == "files,dns"


@pytest.mark.parametrize("nss", ["hosts: files myhostname dns", "hosts: files mdns4 dns"])
def test_go_addr_lookup_order(nss: str) -> None:
    # Go's TestAddrLookupOrder: address lookups ask with host "", so myhostname and mdns
    # sources (which answer reverse lookups too) send them to libc.
    assert _order(nss, "") == "system"
    assert _order("hosts: files dns", "") == "files,dns"


@pytest.mark.parametrize(
    ("resolv_err", "dynamic", "go"),
    [
        # conf.go: a missing or forbidden resolv.conf is fine; any other read error sends the
        # default resolver to libc, while PreferGo carries on with nsswitch.conf's order.
        (FileNotFoundError(2, "missing"), "dns,files", "dns,files"),
        (PermissionError(13, "denied"), "dns,files", "dns,files"),
        (IsADirectoryError(21, "is a directory"), "system", "dns,files"),
    ],
)
def test_go_conf_resolv_conf_errors(resolv_err: OSError, dynamic: Order, go: Order) -> None:
    conf = DNSConfig(servers=list(DEFAULT_NS), err=resolv_err)
    assert _order("hosts: dns files", "google.com", conf=conf) == dynamic
    assert _order("hosts: dns files", "google.com", conf=conf, prefer_go=True) == go


@pytest.mark.parametrize(
    ("nss", "dynamic", "go"),
    [
        # Go's TestConfHostLookupOrderNsswitch rows for desktop systems with systemd-resolved,
        # and a file that does not parse.
        ("hosts: mymachines resolve [!UNAVAIL=return] files myhostname dns", "system", "files,dns"),
        ("hosts: resolve [!UNAVAIL=return] files dns", "system", "files,dns"),
        ("hosts: files", "files", "files"),
        ("hosts:", "files,dns", "files,dns"),
        ("hosts files dns", "system", "files,dns"),
    ],
)
def test_go_conf_nsswitch(nss: str, dynamic: Order, go: Order) -> None:
    assert _order(nss, "google.com") == dynamic
    assert _order(nss, "google.com", prefer_go=True) == go


def test_myhostname_when_the_host_name_is_unknown() -> None:
    def broken() -> str:
        raise OSError("no host name")

    nss = parse_nss_conf(MYHOSTNAME)
    assert host_lookup_order("x.com", MISSING_RESOLV_CONF, nss, hostname=broken) == "system"


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("a.b.localhost", True),
        ("localhost.localdomain", True),
        ("x.localhost.localdomain", True),
        ("localhost.example", False),
        ("mylocalhost", False),
        ("localdomain", False),
    ],
)
def test_is_localhost(name: str, want: bool) -> None:
    assert is_localhost(name) is want


@pytest.mark.parametrize(
    ("environ", "want"),
    [
        ({}, False),
        ({"LOCALDOMAIN": ""}, True),  # Go: defined, even empty
        ({"RES_OPTIONS": ""}, False),
        ({"RES_OPTIONS": "ndots:2"}, True),
        ({"HOSTALIASES": "/tmp/aliases"}, True),
    ],
)
def test_env_prefers_libc(environ: dict[str, str], want: bool) -> None:
    assert env_prefers_libc(environ) is want


def test_mdns_allow_exists(tmp_path: Path) -> None:
    assert mdns_allow_exists(str(tmp_path / "mdns.allow")) is False
    (tmp_path / "mdns.allow").write_text(".local\n")
    assert mdns_allow_exists(str(tmp_path / "mdns.allow")) is True
    (tmp_path / "file").write_text("")
    assert mdns_allow_exists(str(tmp_path / "file" / "mdns.allow")) is None  # ENOTDIR
