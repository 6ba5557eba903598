"""resolv.conf and nsswitch rules (Go's dnsconfig_unix_test.go, dnsname_test.go, conf.go)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trionet._dnsconfig import (
    DEFAULT_NS,
    DNSConfig,
    NSSConf,
    NSSCriterion,
    NSSSource,
    NSSwitch,
    Order,
    ResolvConf,
    avoid_dns,
    env_prefers_libc,
    host_lookup_order,
    is_domain_name,
    is_localhost,
    mdns_allow_exists,
    parse_dns_config,
    parse_nss_conf,
    read_dns_config,
    read_nss_conf,
)

# Go's testdata/resolv.conf (abridged to what Linux accepts).
GO_RESOLV_CONF = """\
# /etc/resolv.conf

domain localdomain
nameserver 8.8.8.8
nameserver 2001:4860:4860::8888
nameserver fe80::1%lo0
options ndots:5 timeout:10 attempts:3 rotate
options attempts 3
"""


def test_go_resolv_conf() -> None:
    conf = parse_dns_config(GO_RESOLV_CONF, "host.example.com")
    assert conf.servers == ["8.8.8.8:53", "[2001:4860:4860::8888]:53", "[fe80::1%lo0]:53"]
    assert conf.search == ["localdomain."]
    assert (conf.ndots, conf.timeout, conf.attempts, conf.rotate) == (5, 10.0, 3, True)
    assert conf.unknown_opt  # "attempts" without a colon


def test_defaults_when_empty() -> None:
    conf = parse_dns_config("", "host.domain.test")
    assert conf.servers == list(DEFAULT_NS) == ["127.0.0.1:53", "[::1]:53"]
    assert conf.search == ["domain.test."]  # Go's dnsDefaultSearch: the host name's domain
    assert (conf.ndots, conf.timeout, conf.attempts) == (1, 5.0, 2)
    assert [conf.rotate, conf.single_request, conf.use_tcp, conf.trust_ad, conf.unknown_opt] == [False] * 5
    assert parse_dns_config("", "host").search == []
    assert parse_dns_config("", "host.").search == []


def test_missing_file(tmp_path: Path) -> None:
    conf = read_dns_config(str(tmp_path / "nope"), hostname="h")
    assert isinstance(conf.err, FileNotFoundError)
    assert conf.servers == list(DEFAULT_NS)


@pytest.mark.parametrize(
    ("options", "field", "want"),
    [
        ("ndots:-1", "ndots", 0),  # Go's negative-ndots: dtoi stops at '-' → 0
        ("ndots:16", "ndots", 15),  # large-ndots: clamped
        ("ndots:", "ndots", 0),  # invalid-ndots
        ("ndots:3", "ndots", 3),
        ("timeout:0", "timeout", 1.0),
        ("timeout:30", "timeout", 30.0),
        ("attempts:0", "attempts", 1),
        ("attempts:5", "attempts", 5),
        ("single-request", "single_request", True),
        ("single-request-reopen", "single_request", True),
        ("use-vc", "use_tcp", True),
        ("usevc", "use_tcp", True),
        ("tcp", "use_tcp", True),
        ("trust-ad", "trust_ad", True),
        ("no-reload", "no_reload", True),
        ("edns0", "unknown_opt", False),
        ("inet6", "unknown_opt", True),
    ],
)
def test_options(options: str, field: str, want: object) -> None:
    conf = parse_dns_config(f"nameserver 127.0.0.1\noptions {options}\n")
    assert getattr(conf, field) == want


def test_servers_limit_and_literals() -> None:
    text = "".join(f"nameserver 127.0.0.{i}\n" for i in range(1, 6)) + "nameserver not-an-ip\n"
    assert parse_dns_config(text).servers == ["127.0.0.1:53", "127.0.0.2:53", "127.0.0.3:53"]
    assert parse_dns_config("nameserver bogus\n").servers == list(DEFAULT_NS)


def test_search_and_domain() -> None:
    assert parse_dns_config("search a.test b.test.\n").search == ["a.test.", "b.test."]
    # Go's search-single-dot-resolv.conf: "." is dropped, then the default search applies.
    assert parse_dns_config("search .\n", "h.dom.test").search == ["dom.test."]
    assert parse_dns_config("domain x.test\nsearch y.test\n").search == ["y.test."]
    assert parse_dns_config("search y.test\ndomain x.test\n").search == ["x.test."]


@pytest.mark.parametrize(
    ("name", "ndots", "search", "want"),
    [
        ("www", 1, ["a.test."], ["www.a.test.", "www."]),
        ("www.example", 1, ["a.test."], ["www.example.", "www.example.a.test."]),
        ("www.example", 2, ["a.test."], ["www.example.a.test.", "www.example."]),
        ("www.example.", 1, ["a.test."], ["www.example."]),
        ("x.onion", 1, ["a.test."], ["x.onion.a.test."]),
        ("x.onion.", 1, [], []),
        ("x.ONION", 0, [], []),
    ],
)
def test_name_list(name: str, ndots: int, search: list[str], want: list[str]) -> None:
    assert DNSConfig(ndots=ndots, search=search).name_list(name) == want


def test_name_list_length() -> None:
    conf = DNSConfig(search=["a.test."])
    assert conf.name_list("a" * 254) == []
    assert conf.name_list("a" * 253 + ".") == ["a" * 253 + "."]


def test_rotate_offset() -> None:
    conf = DNSConfig(rotate=True)
    assert [conf.server_offset() for _ in range(3)] == [0, 1, 2]
    assert [DNSConfig().server_offset() for _ in range(2)] == [0, 0]


_C63 = "a" * 63
_LONG = (_C63 + ".") * 5 + "example"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        # Go's dnsNameTests (RFC 2181 §11) and emitDNSNameTest.
        ("_xmpp-server._tcp.google.com", True),
        ("foo.com", True),
        ("1foo.com", True),
        ("26.0.0.73.com", True),
        ("10-0-0-1", True),
        ("fo-o.com", True),
        ("fo1o.com", True),
        ("foo1.com", True),
        ("a.b..com", False),
        ("a.b-.com", False),
        ("a.b.com-", False),
        ("a.b..", False),
        ("b.com.", True),
        (_C63 + ".com", True),
        ("a" + _C63 + ".com", False),
        (_LONG[-253:], True),
        (_LONG[-253:] + ".", True),
        (_LONG[-254:], False),
        ("", False),
        (".", True),
        ("127.0.0.1", False),  # all-numeric
        ("-a.com", False),
        ("a b.com", False),
        ("ünï.com", False),
    ],
)
def test_is_domain_name(name: str, ok: bool) -> None:
    assert is_domain_name(name) is ok


def test_avoid_dns() -> None:
    assert [avoid_dns(n) for n in ("", "x.onion", "x.onion.", "X.Onion")] == [True] * 4
    assert [avoid_dns(n) for n in ("onion", "x.test")] == [False, False]


def test_resolv_conf_reload(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 127.0.0.1\n")
    rc = ResolvConf(str(path))
    assert rc.get(0.0).servers == ["127.0.0.1:53"]
    path.write_text("nameserver 127.0.0.2\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert rc.get(4.9).servers == ["127.0.0.1:53"]  # checked at most every 5 s
    assert rc.get(5.0).servers == ["127.0.0.2:53"]


def test_resolv_conf_no_reload(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 127.0.0.1\noptions no-reload\n")
    rc = ResolvConf(str(path))
    first = rc.get(0.0)
    path.write_text("nameserver 127.0.0.2\n")
    assert rc.get(100.0) is first


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
