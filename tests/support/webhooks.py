"""Posting signed webhook requests to a real ingest process, as each platform signs them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pronto_tools.simulate import channels
from tests.plugins.ingest import CHANNEL_SECRETS

FIXTURES = Path(__file__).parents[1] / "fixtures" / "channels"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _hex(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


WRONG_SECRETS = dict.fromkeys(CHANNEL_SECRETS, "not-the-secret")


def signed_headers(
    route: str, body: bytes, url: str = "", s: dict[str, str] = CHANNEL_SECRETS
) -> dict[str, str]:
    """The headers the platform behind ``route`` sends with ``body``, signed with the secrets ``s``."""
    return channels.signed_headers(route, body, s, url)


def form_of_json(name: str) -> bytes:
    """A fixture stored as a JSON object of form fields, encoded as the platform posts it."""
    fields: dict[str, Any] = json.loads(fixture(name))
    return urlencode({k: v for k, v in fields.items() if not k.startswith("_")}).encode()


def mailgun_form(name: str, key: str = CHANNEL_SECRETS["mailgun_signing_key"]) -> bytes:
    """Mailgun's form, re-signed with ``key`` now (timestamp + token)."""
    fields: dict[str, Any] = json.loads(fixture(name))
    fields["timestamp"] = str(int(time.time()))
    fields["signature"] = _hex(key, (fields["timestamp"] + fields["token"]).encode())
    return urlencode(fields).encode()


def _send(
    url: str, body: bytes | None, headers: dict[str, str], method: str
) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


async def post(
    base_url: str, path: str, body: bytes, headers: dict[str, str], method: str = "POST"
) -> tuple[int, Any]:
    status, raw, _ = await asyncio.to_thread(_send, base_url + path, body, headers, method)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


async def get(base_url: str, path: str) -> tuple[int, bytes]:
    status, raw, _ = await asyncio.to_thread(_send, base_url + path, None, {}, "GET")
    return status, raw


async def post_raw(
    base_url: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes, dict[str, str]]:
    return await asyncio.to_thread(_send, base_url + path, body, headers, "POST")
