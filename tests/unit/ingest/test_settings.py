"""Ingest's configuration from PRONTO_* variables: tokens, and what production refuses."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError

from pronto.auth import MIN_TOKEN_LENGTH
from services.ingest.channels import twiml
from services.ingest.main import main
from services.ingest.settings import DEVELOPMENT_TOKENS, IngestSettings

STRONG_A = "a" * MIN_TOKEN_LENGTH
STRONG_B = "token-b-0123456789abcdefgh"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PRONTO_* variable of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.upper().startswith("PRONTO_"):
            monkeypatch.delenv(name)


def tokens(monkeypatch: pytest.MonkeyPatch, value: dict[str, str]) -> None:
    monkeypatch.setenv("PRONTO_INGEST_TOKENS", json.dumps(value))


def secrets(settings: IngestSettings) -> dict[str, str]:
    return {tenant: secret.get_secret_value() for tenant, secret in settings.ingest_tokens.items()}


def test_tokens_are_read_as_json_from_pronto_ingest_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens(monkeypatch, {"shop-a": STRONG_A, "shop-b": STRONG_B})

    settings = IngestSettings()

    assert secrets(settings) == {"shop-a": STRONG_A, "shop-b": STRONG_B}
    assert all(isinstance(secret, SecretStr) for secret in settings.ingest_tokens.values())


def test_tokens_are_hidden_from_repr_and_str(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens(monkeypatch, {"shop-a": STRONG_A, "shop-b": STRONG_B})

    settings = IngestSettings()

    for shown in (repr(settings), str(settings), repr(settings.ingest_tokens), settings.model_dump_json()):
        assert STRONG_A not in shown
        assert STRONG_B not in shown
    assert "shop-a" in repr(settings)


def test_development_uses_the_demo_token_by_default() -> None:
    settings = IngestSettings()

    assert settings.environment == "development"
    assert secrets(settings) == {"demo-shop": "demo-token"}


def test_the_default_tokens_are_a_copy_of_the_demo_tokens() -> None:
    IngestSettings().ingest_tokens["other"] = SecretStr("x")

    assert set(DEVELOPMENT_TOKENS) == {"demo-shop"}
    assert set(IngestSettings().ingest_tokens) == {"demo-shop"}


def test_development_accepts_short_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens(monkeypatch, {"shop-a": "short"})

    assert secrets(IngestSettings()) == {"shop-a": "short"}


def test_production_accepts_tokens_of_the_minimum_length(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRONTO_ENVIRONMENT", "production")
    tokens(monkeypatch, {"shop-a": STRONG_A, "shop-b": STRONG_B})

    assert secrets(IngestSettings()) == {"shop-a": STRONG_A, "shop-b": STRONG_B}


def test_production_refuses_a_short_token_naming_its_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRONTO_ENVIRONMENT", "production")
    short = "b" * (MIN_TOKEN_LENGTH - 1)
    tokens(monkeypatch, {"shop-a": STRONG_A, "shop-b": short})

    with pytest.raises(ValidationError, match="PRONTO_INGEST_TOKENS") as refused:
        IngestSettings()

    message = str(refused.value)
    assert f"at least {MIN_TOKEN_LENGTH} characters in production; weak: shop-b" in message
    assert short not in message


def test_production_refuses_the_demo_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRONTO_ENVIRONMENT", "production")

    with pytest.raises(ValidationError, match=r"PRONTO_INGEST_TOKENS .*weak: demo-shop"):
        IngestSettings()


def test_production_refuses_no_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRONTO_ENVIRONMENT", "production")
    tokens(monkeypatch, {})

    with pytest.raises(ValidationError, match=r"PRONTO_INGEST_TOKENS .*no tokens set"):
        IngestSettings()


def test_tokens_that_are_not_json_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRONTO_INGEST_TOKENS", "shop-a=secret")

    with pytest.raises(SettingsError, match='"ingest_tokens"'):
        IngestSettings()


def test_two_tenants_cannot_share_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRONTO_INGEST_TOKENS", '{"shop-a": "same-token", "shop-b": "same-token"}')

    with pytest.raises(ValidationError, match="'shop-a' and 'shop-b' the same token"):
        IngestSettings()


def test_an_invalid_configuration_ends_the_service_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRONTO_INGEST_TOKENS", "{not json")

    with pytest.raises(SystemExit) as ended:
        main()

    message = str(ended.value.code)
    assert message.startswith("pronto-ingest: invalid configuration: ")
    assert '"ingest_tokens"' in message
    assert "Expecting property name" in message


def test_a_shop_phone_line_in_a_language_without_a_menu_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRONTO_INGEST_PHONE_LANGUAGES", json.dumps({"shop-pl": "pl-PL", "shop-jp": "ja"}))
    with pytest.raises(
        ValidationError, match=r"no phone menu in \{'shop-jp': 'ja'\}; the line speaks de, en"
    ):
        IngestSettings()
    monkeypatch.setenv("PRONTO_INGEST_PHONE_LANGUAGES", json.dumps({"shop-pl": "pl-PL"}))
    assert IngestSettings().ingest_phone_languages == {"shop-pl": "pl-PL"}


def test_every_language_ingest_detects_by_default_has_a_phone_menu() -> None:
    """A shop whose line is set to any of the default languages greets callers in it, not in English."""
    languages = IngestSettings().ingest_languages
    assert [lang for lang in languages if not twiml.speaks(lang)] == []
    assert {twiml.phrases(lang).locale for lang in languages} >= {"pt-PT", "nl-NL"}
