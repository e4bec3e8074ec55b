"""Client addresses behind proxies: forwarded headers count only from PRIVET_TRUSTED_PROXIES."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from privet.kit.proxies import TrustedProxies, parse_address
from privet.settings import Settings

PUBLIC = "/api/v1/consent/receipts/public-key"  # a public, rate-limited route that needs no data


def _scope(peer: str, *headers: tuple[str, str]) -> dict:
    return {
        "type": "http",
        "client": (peer, 5000),
        "scheme": "http",
        "headers": [(k.encode(), v.encode()) for k, v in headers],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        (" 198.51.100.7:4711 ", "198.51.100.7"),
        ('"[2001:db8::17]:4711"', "2001:db8::17"),
        ("2001:db8::17", "2001:db8::17"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("unknown", None),
        ("_hidden", None),
        ("", None),
        ("1.2.3.4.5", None),
    ],
)
def test_addresses_are_read_from_header_entries(text: str, expected: str | None) -> None:
    found = parse_address(text)
    assert (str(found) if found else None) == expected


def test_forwarded_headers_are_ignored_from_an_untrusted_peer() -> None:
    proxies = TrustedProxies(None, ["10.0.0.0/8"])
    assert proxies.resolve(_scope("203.0.113.9", ("x-forwarded-for", "198.51.100.7"))) is None
    assert TrustedProxies(None, []).resolve(_scope("127.0.0.1", ("x-forwarded-for", "198.51.100.7"))) is None


def test_the_client_is_the_first_untrusted_hop_from_the_right() -> None:
    proxies = TrustedProxies(None, ["10.0.0.0/8", "192.0.2.1"])
    spoofed = _scope("10.0.0.2", ("x-forwarded-for", "1.1.1.1, 198.51.100.7"), ("x-forwarded-for", "192.0.2.1"))
    assert proxies.resolve(spoofed) == ("198.51.100.7", None)  # what the client wrote itself is never reached
    assert proxies.resolve(_scope("10.0.0.2", ("x-forwarded-for", "10.0.0.5, 10.0.0.3"))) == ("10.0.0.5", None)
    assert proxies.resolve(_scope("10.0.0.2", ("x-forwarded-for", "garbage"))) is None  # the peer stays the client
    assert proxies.resolve(_scope("10.0.0.2", ("x-forwarded-for", "198.51.100.7"), ("x-forwarded-proto", "https"))) == (
        "198.51.100.7",
        "https",
    )


def test_only_the_configured_header_is_read() -> None:
    rfc = TrustedProxies(None, ["10.0.0.0/8"], header="forwarded")
    both = _scope(
        "10.0.0.2",
        ("x-forwarded-for", "6.6.6.6"),
        ("forwarded", 'for=1.1.1.1, for="[2001:db8::17]:4711";proto=https;by=10.0.0.2'),
    )
    assert rfc.resolve(both) == ("2001:db8::17", "https")
    assert TrustedProxies(None, ["10.0.0.0/8"]).resolve(both) == ("6.6.6.6", None)
    assert rfc.resolve(_scope("10.0.0.2", ("x-forwarded-for", "6.6.6.6"))) is None


def test_the_middleware_rewrites_the_client_and_scheme() -> None:
    import asyncio

    seen = {}

    async def app(scope, receive, send) -> None:
        seen.update(client=scope["client"], scheme=scope["scheme"])

    middleware = TrustedProxies(app, ["127.0.0.1"])
    asyncio.run(
        middleware(_scope("127.0.0.1", ("x-forwarded-for", "198.51.100.7"), ("x-forwarded-proto", "https")), None, None)
    )
    assert seen == {"client": ("198.51.100.7", 0), "scheme": "https"}
    asyncio.run(
        middleware(
            _scope("127.0.0.1", ("x-forwarded-for", "198.51.100.8"), ("x-forwarded-proto", "gopher")), None, None
        )
    )
    assert seen == {"client": ("198.51.100.8", 0), "scheme": "http"}  # only http or https is taken
    asyncio.run(middleware(_scope("127.0.0.1"), None, None))
    assert seen == {"client": ("127.0.0.1", 5000), "scheme": "http"}


# ---- through the app: rate limits keyed by the right address --------------------------------------------------
@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789abcdef",
        trusted_proxies=["10.0.0.0/8"],
        public_rate_limit_per_minute=2,
    )


@pytest.fixture
def peer(app):
    """`peer(address)`: a client connecting from `address`."""
    clients: list[TestClient] = []

    def connect(address: str) -> TestClient:
        client = TestClient(app, client=(address, 40000))
        client.__enter__()
        app.state.sessionmaker = app.state.test_sessionmaker
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.__exit__(None, None, None)


def _statuses(client: TestClient, forwarded: list[str]) -> list[int]:
    return [client.get(PUBLIC, headers={"X-Forwarded-For": value}).status_code for value in forwarded]


def test_an_untrusted_peer_cannot_dodge_the_limit_by_varying_the_header(peer) -> None:
    attacker = peer("203.0.113.9")
    assert _statuses(attacker, ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]) == [200, 200, 429, 429]


def test_a_trusted_proxy_gives_each_forwarded_client_its_own_budget(peer) -> None:
    proxy = peer("10.0.0.2")
    assert _statuses(proxy, ["198.51.100.1", "198.51.100.1", "198.51.100.1"]) == [200, 200, 429]
    assert _statuses(proxy, ["198.51.100.2"]) == [200]
    # a client prepending addresses to the header it sends through the proxy is still itself
    assert _statuses(proxy, ["9.9.9.9, 198.51.100.1", "8.8.8.8, 198.51.100.1"]) == [429, 429]


def test_privet_serve_turns_uvicorn_s_own_proxy_handling_off(privet, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.update(kwargs))
    result = privet("serve")
    assert result.exit_code == 0, result.output
    assert started["proxy_headers"] is False and "forwarded_allow_ips" not in started
