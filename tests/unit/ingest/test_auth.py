"""Bearer tokens: each belongs to one tenant and publishes for that tenant only."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from pronto.auth import TokenAuthenticator, resolve_tenant
from pronto.errors import PermissionDenied, Unauthenticated

TOKEN_A = "token-a-0123456789abcdefgh"
TOKEN_B = "token-b-0123456789abcdefgh"


@pytest.fixture
def authenticator() -> TokenAuthenticator:
    return TokenAuthenticator({"shop-a": SecretStr(TOKEN_A), "shop-b": SecretStr(TOKEN_B)})


def test_a_known_token_gives_its_tenant(authenticator: TokenAuthenticator) -> None:
    assert authenticator.tenant_for(f"Bearer {TOKEN_A}") == "shop-a"
    assert authenticator.tenant_for(f"Bearer {TOKEN_B}") == "shop-b"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_scheme_is_case_insensitive(authenticator: TokenAuthenticator, scheme: str) -> None:
    assert authenticator.tenant_for(f"{scheme} {TOKEN_A}") == "shop-a"


@pytest.mark.parametrize(
    "authorization", [f"Bearer  {TOKEN_A}", f"Bearer {TOKEN_A} ", f"Bearer   {TOKEN_A}\t"]
)
def test_spaces_around_the_token_are_ignored(authenticator: TokenAuthenticator, authorization: str) -> None:
    assert authenticator.tenant_for(authorization) == "shop-a"


@pytest.mark.parametrize("authorization", [None, ""])
def test_a_missing_header_says_how_to_authenticate(
    authenticator: TokenAuthenticator, authorization: str | None
) -> None:
    with pytest.raises(
        Unauthenticated, match=r"^missing authorization: send 'authorization: Bearer <token>'$"
    ):
        authenticator.tenant_for(authorization)


@pytest.mark.parametrize(
    "authorization",
    [f"Basic {TOKEN_A}", f"Token {TOKEN_A}", TOKEN_A, f"Bearer{TOKEN_A}", f" Bearer {TOKEN_A}"],
)
def test_a_wrong_scheme_is_refused(authenticator: TokenAuthenticator, authorization: str) -> None:
    with pytest.raises(Unauthenticated, match=r"^authorization must be 'Bearer <token>'$"):
        authenticator.tenant_for(authorization)


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer ", "Bearer    ", "Bearer \t"])
def test_an_empty_token_is_refused(authenticator: TokenAuthenticator, authorization: str) -> None:
    with pytest.raises(Unauthenticated, match=r"^authorization must be 'Bearer <token>'$"):
        authenticator.tenant_for(authorization)


@pytest.mark.parametrize(
    "token", ["token-c-0123456789abcdefgh", TOKEN_A.upper(), TOKEN_A[:-1], TOKEN_A + "x", "shop-a"]
)
def test_an_unknown_token_is_refused(authenticator: TokenAuthenticator, token: str) -> None:
    with pytest.raises(Unauthenticated, match=r"^unknown token$"):
        authenticator.tenant_for(f"Bearer {token}")


def test_no_configured_tokens_refuse_everyone() -> None:
    with pytest.raises(Unauthenticated, match="unknown token"):
        TokenAuthenticator({}).tenant_for(f"Bearer {TOKEN_A}")


def test_an_empty_requested_tenant_means_the_tokens_own() -> None:
    assert resolve_tenant("shop-a", "") == "shop-a"


def test_the_tokens_own_tenant_may_be_named() -> None:
    assert resolve_tenant("shop-a", "shop-a") == "shop-a"


@pytest.mark.parametrize("requested", ["shop-b", "SHOP-A", "shop-a "])
def test_another_tenant_is_denied_naming_both(requested: str) -> None:
    with pytest.raises(PermissionDenied) as denied:
        resolve_tenant("shop-a", requested)

    assert str(denied.value) == f"this token publishes for tenant 'shop-a', not {requested!r}"
