"""422 answers that can always be written, naming the field and never echoing what was sent.

FastAPI's own 422 repeats each refused value. Python's ``json`` reads the non-standard ``NaN`` and
``Infinity``, so a body with ``"minutes": NaN`` was refused with a detail holding NaN, which the JSON
response cannot encode: the client got a 500 instead (issue #26). Echoing bodies back is also how a
large or hostile input gets amplified into logs and proxies. ``PlainErrorsRoute`` answers the same
422 with each error's ``type``, ``loc`` (the field) and ``msg`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


def plain(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Each error as field and message; the refused input and its context are left out."""
    return [
        {
            "type": str(e.get("type", "")),
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
        }
        for e in errors
    ]


class PlainErrorsRoute(APIRoute):
    """A route whose request validation errors are answered by ``plain`` (``APIRouter(route_class=...)``):
    routers are added to apps built elsewhere (``pronto.folding``), so an app-wide handler is not ours
    to install."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return JSONResponse({"detail": plain(exc.errors())}, status_code=422)

        return handle
