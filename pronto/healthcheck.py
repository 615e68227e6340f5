"""``pronto-healthcheck``: the container image's health check, one image for five services.

It asks the service named by ``PRONTO_SERVICE`` for ``/healthz`` on its HTTP port (the service's
own ``PRONTO_<SERVICE>_HTTP_PORT``, else its default) and exits 0 when it answers 200.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"ingest": 8080, "routing": 8081, "sla": 8082, "notify": 8083, "query": 8084}


def http_status(url: str) -> int:
    """The HTTP status of a GET, or 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def url(environ: dict[str, str]) -> str:
    service = environ.get("PRONTO_SERVICE", "")
    if service not in DEFAULT_PORTS:
        raise ValueError(f"PRONTO_SERVICE must be one of {', '.join(DEFAULT_PORTS)}, got {service!r}")
    port = environ.get(f"PRONTO_{service.upper()}_HTTP_PORT") or str(DEFAULT_PORTS[service])
    return f"http://127.0.0.1:{port}/healthz"


def main() -> None:
    try:
        target = url(dict(os.environ))
    except ValueError as exc:
        sys.exit(f"pronto-healthcheck: {exc}")
    status = http_status(target)
    if status != 200:
        sys.exit(f"pronto-healthcheck: {target} answered {status or 'nothing'}")


if __name__ == "__main__":
    main()
