"""One JSON request to a platform, and what its answer means for retrying."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from services.notify.delivery.adapters import USER_AGENT, _seconds
from services.notify.errors import DeliveryError

Json = dict[str, Any]


async def call(
    session: aiohttp.ClientSession, url: str, body: Json, headers: Mapping[str, str], platform: str
) -> tuple[int, Json, Mapping[str, str]]:
    """POST ``body``; the status, the JSON answer ({} when it is not JSON) and the headers.
    A request that got no answer is a transient failure."""
    try:
        async with session.post(
            url,
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        ) as response:
            text = await response.text(errors="replace")
            try:
                answer = json.loads(text) if text else {}
            except ValueError:
                answer = {"raw": text[:200]}
            return response.status, answer if isinstance(answer, dict) else {"raw": answer}, response.headers
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryError(f"{platform}: {type(exc).__name__}", permanent=False) from exc


def transient(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


def retry_after(headers: Mapping[str, str]) -> float | None:
    return _seconds(headers.get("Retry-After"))
