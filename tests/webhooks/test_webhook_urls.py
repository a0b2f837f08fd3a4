"""The SSRF guard as a pure function: which URLs may ever receive a webhook."""

import ipaddress

import pytest

from webhooks.transport.urls import UnsafeURL, check_url, is_public, parse


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8030/hook",
        "http://10.0.0.1/hook",
        "http://172.16.5.4/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://100.100.100.200/hook",
        "http://2130706433/hook",  # 127.0.0.1 written as one number
        "http://0x7f.1/hook",
    ],
)
def test_non_public_hosts_are_refused(url):
    with pytest.raises(UnsafeURL, match="non-public"):
        check_url(url, allow_private=False)


def test_a_refusal_names_no_address_it_resolved_to(caplog):
    with caplog.at_level("INFO", logger="webhooks.transport.urls"), pytest.raises(UnsafeURL) as refused:
        check_url("http://localhost:8300/", allow_private=False)
    assert refused.value.detail == "localhost resolves to a non-public address"
    assert "127.0.0.1" in caplog.text


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("ftp://example.com/", "only http and https"),
        ("http:///no-host", "no host"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://example.com:99999/", "invalid port"),
        ("http://example.com/a b", "whitespace"),
        ("http://example.com/" + "a" * 2048, "longer than"),
        ("http://[::1/", "malformed"),
        ("http://[zz]/", "malformed"),
        ("http://[::1]/hook", "IPv4"),
        ("http://[2606:4700:4700::1111]/hook", "IPv4"),
        ("http://a..b/", "http\\(s\\)://host"),
        ("http://-x/", "http\\(s\\)://host"),
        ("http://exämple.com/", "http\\(s\\)://host"),
        ("http://example.com/ä", "http\\(s\\)://host"),
        ("0", "only http and https"),
        ("", "only http and https"),
    ],
)
def test_malformed_urls_are_refused(url, reason):
    with pytest.raises(UnsafeURL, match=reason):
        check_url(url, allow_private=True)


def test_allow_private_lets_loopback_through_but_not_other_schemes():
    assert check_url("http://127.0.0.1:8030/hook", allow_private=True).host == "127.0.0.1"
    with pytest.raises(UnsafeURL):
        check_url("file:///etc/passwd", allow_private=True)


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeURL, match="does not resolve"):
        check_url("http://no-such-host.invalid/hook", allow_private=False)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("192.0.0.192", False),  # Oracle Cloud metadata
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
        ("239.255.255.250", False),
        ("100.64.0.1", False),
        ("198.18.0.1", False),
    ],
)
def test_is_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


def test_parse_keeps_what_the_request_needs():
    target = parse("HTTPS://Example.com:8443/path/x?a=1#fragment")
    assert (target.scheme, target.host, target.port) == ("https", "example.com", 8443)
    assert target.authority == "example.com:8443"
    assert target.path == "/path/x?a=1"
    assert parse("http://example.com").path == "/"
