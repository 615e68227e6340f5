"""``GET /v1/webchat/{tenant}/{visitor}/events``: the web chat widget's server-sent event stream."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from pronto.validation_errors import PlainErrorsRoute
from services.notify.delivery.platforms.webchat import WebChatHub, events, token
from services.notify.settings import NotifySettings


def webchat_router(hub: WebChatHub, settings: NotifySettings) -> APIRouter:
    router = APIRouter(prefix="/v1/webchat", tags=["web chat"], route_class=PlainErrorsRoute)

    @router.get(
        "/{tenant}/{visitor}/events",
        response_class=StreamingResponse,
        responses={401: {"description": "wrong token"}, 404: {"description": "web chat not configured"}},
    )
    async def stream(
        request: Request,
        tenant: str,
        visitor: str,
        token_: Annotated[str, Query(alias="token", description="the widget's token")],
    ) -> StreamingResponse:
        """Answers and notifications for the visitor as they come (``event: message``, JSON data with
        id, kind, text, operator, language, at); what came while the widget was closed comes first."""
        config = settings.shop(tenant).outbound.web_chat
        if config is None:
            raise HTTPException(404, f"web chat answers are not configured for {tenant!r}")
        expected = token(config.secret.get_secret_value(), tenant, visitor)
        if not hmac.compare_digest(expected.encode(), token_.encode()):
            raise HTTPException(401, "wrong token for this visitor")
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        origin = request.headers.get("origin")
        if origin and origin in config.allowed_origins:
            headers |= {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return StreamingResponse(
            events(hub, tenant, visitor), media_type="text/event-stream", headers=headers
        )

    return router
