"""The guarded HTTP client: allowed hosts, refused addresses, pinned connections, no redirects, bounded waits."""

from __future__ import annotations

import re

import pytest

from scanner.net.address import classify
from scanner.net.endpoints import EndpointPolicy, parse_endpoint
from scanner.net.http import (
    AddressRefused,
    GuardedClient,
    HostNotAllowed,
    Limits,
    RequestTimeout,
    Response,
    TLSFailed,
)
from tests.providerserver import Reply, by_path, serving

DOCUMENTED = ("https://api.example-provider.com",)
OK = Reply(200, {"Content-Type": "application/json"}, b'{"ok":true}')


def resolving_to(*answers: list[str]):  # type: ignore[no-untyped-def]
    """A resolver giving answers[0] on its first call, answers[1] on its second... and counting calls."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def client_for(server_url: str, resolver, *, allow_internal: bool, **limits: float) -> GuardedClient:  # type: ignore[no-untyped-def]
    port = server_url.rsplit(":", 1)[1]
    policy = EndpointPolicy.parse([f"acme=http://acme.test:{port}"], allow_internal=allow_internal)
    return GuardedClient(policy, resolver=resolver, limits=Limits(**limits))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "address, category",
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.5", "private"),
        ("169.254.169.254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.64.0.1", "cgnat"),
        ("169.254.1.1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
    ],
)
def test_classify_refuses_internal_addresses(address: str, category: str) -> None:
    assert classify(address).category == category


@pytest.mark.parametrize("address", ["140.82.112.6", "2606:4700::6810:84e5", "8.8.8.8"])
def test_classify_allows_global_addresses(address: str) -> None:
    assert classify(address).allowed


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "100.64.0.1", "::ffff:127.0.0.1", "fc00::1"])
def test_classify_allow_internal_lifts_internal_ranges(address: str) -> None:
    assert classify(address, allow_internal=True).allowed


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "100.100.100.200", "fd00:ec2::254", "::ffff:169.254.169.254", "0.0.0.0", "224.0.0.1"]
)
def test_classify_allow_internal_never_lifts_metadata_or_unspecified(address: str) -> None:
    assert not classify(address, allow_internal=True).allowed


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "100.100.100.200", "::ffff:127.0.0.1"])
def test_internal_resolution_is_refused_and_nothing_is_sent(address: str) -> None:
    with serving(by_path({"/user": OK})) as server:
        client = client_for(server.url, resolving_to([address]), allow_internal=False)
        with pytest.raises(AddressRefused) as refused:
            client.request("GET", f"http://acme.test:{server.port}/user", provider="acme", documented=DOCUMENTED)
    assert address.split(":")[-1] in refused.value.reason
    assert server.requests == []


def test_one_internal_answer_among_public_ones_is_refused() -> None:
    with serving(by_path({"/user": OK})) as server:
        client = client_for(server.url, resolving_to(["8.8.8.8", "127.0.0.1"]), allow_internal=False)
        with pytest.raises(AddressRefused):
            client.request("GET", f"http://acme.test:{server.port}/user", provider="acme", documented=DOCUMENTED)
    assert server.requests == []


def test_allow_internal_reaches_loopback_with_host_header_the_name() -> None:
    with serving(by_path({"/user": OK})) as server:
        client = client_for(server.url, resolving_to(["127.0.0.1"]), allow_internal=True)
        response = client.request("GET", f"http://acme.test:{server.port}/user", provider="acme", documented=DOCUMENTED)
    assert isinstance(response, Response) and response.status == 200 and response.body == b'{"ok":true}'
    assert server.requests[0].header("Host") == f"acme.test:{server.port}"
    assert response.address == "127.0.0.1"


def test_changed_dns_answer_cannot_move_the_connection() -> None:
    """The second answer points to another loopback server: the request still goes to the first one only."""
    with (
        serving(by_path({"/user": OK}), host="127.0.0.1") as first,
        serving(by_path({"/user": OK}), host="127.0.0.2", port=first.port) as second,
    ):
        resolver = resolving_to(["127.0.0.1"], ["127.0.0.2"])
        client = client_for(first.url, resolver, allow_internal=True)
        client.request("GET", f"http://acme.test:{first.port}/user", provider="acme", documented=DOCUMENTED)
    assert len(first.requests) == 1 and second.requests == []
    assert resolver.calls == ["acme.test"]


def test_host_not_documented_nor_configured_is_refused_before_resolving() -> None:
    resolver = resolving_to(["8.8.8.8"])
    client = GuardedClient(EndpointPolicy(), resolver=resolver)
    with pytest.raises(HostNotAllowed):
        client.request("GET", "https://evil.example.net/user", provider="acme", documented=DOCUMENTED)
    with pytest.raises(HostNotAllowed):
        client.request("GET", "http://api.example-provider.com/user", provider="acme", documented=DOCUMENTED)
    assert resolver.calls == []


def test_configured_endpoint_of_another_provider_is_not_allowed() -> None:
    policy = EndpointPolicy.parse(["other=https://other.test"])
    client = GuardedClient(policy, resolver=resolving_to(["8.8.8.8"]))
    with pytest.raises(HostNotAllowed):
        client.request("GET", "https://other.test/user", provider="acme", documented=DOCUMENTED)


def test_wildcard_documented_origin_allows_one_tenant_label() -> None:
    policy = EndpointPolicy()
    shop = ("https://*.myshopify.com",)
    assert policy.allows("shopify", "https://acme.myshopify.com/admin/api/shop.json", shop)
    assert not policy.allows("shopify", "https://a.b.myshopify.com/x", shop)
    assert not policy.allows("shopify", "https://myshopify.com.evil.net/x", shop)
    assert not policy.allows("shopify", "https://evilmyshopify.com/x", shop)


def test_redirect_is_returned_not_followed() -> None:
    moved = Reply(302, {"Location": "http://127.0.0.1:1/elsewhere"}, b"")
    with serving(by_path({"/user": moved, "/elsewhere": OK})) as server:
        client = client_for(server.url, resolving_to(["127.0.0.1"]), allow_internal=True)
        response = client.request("GET", f"http://acme.test:{server.port}/user", provider="acme", documented=DOCUMENTED)
    assert response.status == 302 and response.header("location") == "http://127.0.0.1:1/elsewhere"
    assert [r.path for r in server.requests] == ["/user"]


def test_slow_answer_times_out() -> None:
    with serving(by_path({"/user": Reply(200, {}, b"{}", delay=0.5)})) as server:
        client = client_for(server.url, resolving_to(["127.0.0.1"]), allow_internal=True, read_timeout=0.1)
        with pytest.raises(RequestTimeout):
            client.request("GET", f"http://acme.test:{server.port}/user", provider="acme", documented=DOCUMENTED)


def test_body_is_capped() -> None:
    with serving(by_path({"/big": Reply(200, {}, b"x" * 5000)})) as server:
        client = client_for(server.url, resolving_to(["127.0.0.1"]), allow_internal=True, max_body=1000)
        response = client.request("GET", f"http://acme.test:{server.port}/big", provider="acme", documented=DOCUMENTED)
    assert len(response.body) == 1000 and response.truncated


def test_tls_is_verified_against_the_host_name() -> None:
    """A plain-HTTP loopback server spoken to over https fails in TLS: nothing is read as an answer."""
    with serving(by_path({"/user": OK})) as server:
        policy = EndpointPolicy.parse([f"acme=https://acme.test:{server.port}"], allow_internal=True)
        client = GuardedClient(policy, resolver=resolving_to(["127.0.0.1"]), limits=Limits(read_timeout=1.0))
        with pytest.raises(TLSFailed):
            client.request("GET", f"https://acme.test:{server.port}/user", provider="acme", documented=DOCUMENTED)
    assert client.tls_context.check_hostname


@pytest.mark.parametrize(
    "spec, message",
    [
        ("github", "expected PROVIDER=URL"),
        ("=https://x.test", "bad provider name"),
        ("git hub=https://x.test", "bad provider name"),
        ("github=", "empty URL"),
        ("github=ftp://x.test", "not an http(s) URL"),
        ("github=https://user:pw@x.test", "credentials"),
        ("github=https://x.test/api?x=1", "no query or fragment"),
        ("github=https://", "no host"),
        ("github=https://x.test:99999", "bad port"),
    ],
)
def test_parse_endpoint_rejects_bad_input(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_endpoint(spec)


def test_parse_endpoint_accepts_enterprise_base_urls() -> None:
    assert parse_endpoint("GitHub=https://ghe.example.com/api/v3/") == ("github", "https://ghe.example.com/api/v3")
    policy = EndpointPolicy.parse(["github=https://ghe.example.com/api/v3", "gitlab=http://127.0.0.1:8080"])
    assert policy.base_url("github", "https://api.github.com") == "https://ghe.example.com/api/v3"
    assert policy.base_url("npm", "https://registry.npmjs.org") == "https://registry.npmjs.org"
    with pytest.raises(ValueError, match="given twice"):
        EndpointPolicy.parse(["github=https://a.test", "github=https://b.test"])


def _tls_pair(tmp_path, name: str):  # type: ignore[no-untyped-def]
    """A throwaway CA and a server certificate for `name`: (server context recording SNI, client context, snis)."""
    import datetime as dt
    import ssl

    pytest.importorskip("cryptography", reason="the throwaway CA needs the cryptography dependency")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    snis: list[str | None] = []
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.sni_callback = lambda sock, server_name, context: snis.append(server_name)  # type: ignore[assignment]
    client = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    return server, client, snis


def test_tls_sends_the_host_name_as_sni_and_accepts_its_certificate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server_tls, client_tls, snis = _tls_pair(tmp_path, "acme.test")
    with serving(by_path({"/user": OK}), tls=server_tls) as server:
        policy = EndpointPolicy.parse([f"acme=https://acme.test:{server.port}"], allow_internal=True)
        client = GuardedClient(policy, resolver=resolving_to(["127.0.0.1"]), tls_context=client_tls)
        response = client.request("GET", f"https://acme.test:{server.port}/user", provider="acme",
                                  documented=DOCUMENTED)
    assert response.status == 200 and snis == ["acme.test"]


def test_tls_refuses_a_certificate_for_another_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server_tls, client_tls, _ = _tls_pair(tmp_path, "acme.test")
    with serving(by_path({"/user": OK}), tls=server_tls) as server:
        policy = EndpointPolicy.parse([f"other=https://other.test:{server.port}"], allow_internal=True)
        client = GuardedClient(policy, resolver=resolving_to(["127.0.0.1"]), tls_context=client_tls)
        with pytest.raises(TLSFailed):
            client.request("GET", f"https://other.test:{server.port}/user", provider="other", documented=())
    assert server.requests == []


def test_a_callers_host_header_is_ignored() -> None:
    with serving(by_path({"/user": OK})) as server:
        client = client_for(server.url, resolving_to(["127.0.0.1"]), allow_internal=True)
        client.request("GET", f"http://acme.test:{server.port}/user", provider="acme", documented=DOCUMENTED,
                       headers={"Host": "169.254.169.254"})
    assert server.requests[0].header("Host") == f"acme.test:{server.port}"
