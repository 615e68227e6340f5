"""Random bodies, headers and encodings at every webhook: never a 5xx, never a write for a refusal.

The bodies are sometimes signed correctly (to get past the signature checks
and reach the parsers with arbitrary JSON, forms and e-mails), sometimes not
signed or signed wrongly. What ingest wrote is read from its own counters:
a refused request must not move them, an accepted one moves them by what it
says it accepted.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pronto_tools.services import IngestService
from tests.support.metrics import metric_sum
from tests.support.webhooks import FIXTURES, WRONG_SECRETS, _send, signed_headers

pytestmark = pytest.mark.integration

ROUTES = [
    "chat",
    "contact-form",
    "phone/callback-request",
    "phone",
    "meta",
    "telegram",
    "viber",
    "x",
    "email",
    "email/json",
    "email/mailgun",
    "email/sendgrid",
]
SIGNATURE_HEADERS = [
    "X-Pronto-Signature",
    "X-Hub-Signature-256",
    "X-Telegram-Bot-Api-Secret-Token",
    "X-Viber-Content-Signature",
    "x-twitter-webhooks-signature",
    "X-Twilio-Signature",
    "Authorization",
    "Content-Type",
    "Content-Length",
]
ENCODINGS = ["utf-8", "latin-1", "utf-16", "cp1252", "iso-8859-2", "utf-8-sig"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# Shapes close to the platforms' own, so that parsers are reached past the first key.
shaped = st.fixed_dictionaries(
    {},
    optional={
        "object": st.sampled_from(["page", "instagram", "whatsapp_business_account", "other"]),
        "entry": st.lists(json_values, max_size=3),
        "update_id": json_values,
        "message": json_values,
        "edited_message": json_values,
        "event": st.sampled_from(["message", "seen", "webhook"]) | st.text(max_size=5),
        "sender": json_values,
        "for_user_id": json_values,
        "direct_message_events": st.lists(json_values, max_size=3),
        "session_id": json_values,
        "message_id": json_values,
        "visitor": json_values,
        "text": json_values,
        "submission_id": json_values,
        "email": json_values,
        "From": json_values,
        "Headers": json_values,
    },
)
SAMPLES = [
    p.read_bytes()
    for p in sorted(FIXTURES.glob("*/*"))
    if p.suffix in (".json", ".eml") and p.name != "requests.json"
]


def _replace_a_value(sample: bytes, path_choice: int, value: Any) -> bytes:
    """The sample with one of its JSON values (chosen by index) replaced by ``value``."""
    try:
        document = json.loads(sample)
    except ValueError:
        return sample
    containers: list[Any] = [document]
    slots: list[tuple[Any, Any]] = []
    while containers:
        node = containers.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, child in items:
            slots.append((node, key))
            containers.append(child)
    if slots:
        node, key = slots[path_choice % len(slots)]
        node[key] = value
    return json.dumps(document).encode()


mutated_samples = st.one_of(
    st.builds(_replace_a_value, st.sampled_from(SAMPLES), st.integers(min_value=0), json_values),
    st.builds(
        lambda sample, at, junk: sample[:at] + junk + sample[at + len(junk) :],
        st.sampled_from(SAMPLES),
        st.integers(min_value=0, max_value=2_000),
        st.binary(min_size=1, max_size=8),
    ),
)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)

bodies = st.one_of(
    mutated_samples,
    mutated_samples,
    st.binary(max_size=300),
    st.builds(lambda v: json.dumps(v).encode(), json_values | shaped),
    st.builds(
        lambda t, enc: t.encode(enc, errors="replace"), st.text(max_size=200), st.sampled_from(ENCODINGS)
    ),
    st.builds(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode(),
        st.lists(
            st.tuples(
                st.sampled_from(["From", "CallSid", "CallStatus", "TranscriptionSid", "x"]),
                st.text(max_size=10),
            ),
            max_size=5,
        ),
    ),
    st.builds(
        lambda t: f"From: {t}\r\nSubject: x\r\n\r\n{t}".encode("utf-8", errors="replace"),
        st.text(max_size=80),
    ),
)


def accepted_so_far(ingest: IngestService) -> float:
    return metric_sum(ingest.http_url, "pronto_events_accepted_total")


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    route=st.sampled_from(ROUTES),
    body=bodies,
    signing=st.sampled_from(["right", "wrong", "none", "random"]),
    extra=st.dictionaries(st.sampled_from(SIGNATURE_HEADERS), header_values, max_size=3),
    tenant=st.sampled_from(["shop-fuzz", "shop-fuzz", "shop-fuzz", "shop-b", "nobody"]),
)
def test_no_webhook_answers_5xx_or_writes_what_it_refused(
    ingest: IngestService, route: str, body: bytes, signing: str, extra: dict[str, str], tenant: str
) -> None:
    path = f"/webhooks/{tenant}/{route}"
    url = ingest.http_url + path
    headers: dict[str, Any] = {}
    if signing == "right":
        headers = signed_headers(route, body, url)
    elif signing == "wrong":
        headers = signed_headers(route, body, url, WRONG_SECRETS)
    elif signing == "random":
        headers = dict(extra)
    headers.pop("Content-Length", None)
    before = accepted_so_far(ingest)

    status, raw, _ = _send(url, body, headers, "POST")

    written = accepted_so_far(ingest) - before
    event(f"{status}")
    assert status < 500, (status, raw[:300])
    if status == 200:
        assert written == json.loads(raw)["accepted"]
    else:
        assert written == 0, (status, raw[:300])
        assert json.loads(raw)["detail"], "a refusal says why"


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    query=st.dictionaries(
        st.sampled_from(["hub.mode", "hub.challenge", "hub.verify_token", "crc_token", "x"]),
        header_values,
        max_size=4,
    ),
    route=st.sampled_from(["meta", "x"]),
)
def test_the_verification_handshakes_never_answer_5xx(
    ingest: IngestService, query: dict[str, str], route: str
) -> None:
    from urllib.parse import urlencode

    status, raw, _ = _send(f"{ingest.http_url}/webhooks/shop-a/{route}?{urlencode(query)}", None, {}, "GET")
    assert status < 500, (status, raw[:300])


ROUTE_OF_DIRECTORY = {
    "messenger": "meta",
    "instagram": "meta",
    "whatsapp": "meta",
    "facebook_feed": "meta",
    "telegram": "telegram",
    "viber": "viber",
    "x": "x",
    "email": "email",
    "postmark": "email/json",
}
ROUTED_SAMPLES = [
    (ROUTE_OF_DIRECTORY[p.parent.name], p.read_bytes())
    for p in sorted(FIXTURES.glob("*/*"))
    if p.parent.name in ROUTE_OF_DIRECTORY and p.suffix in (".json", ".eml") and p.name != "requests.json"
]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    sample=st.sampled_from(ROUTED_SAMPLES),
    path_choice=st.integers(min_value=0),
    value=json_values,
    junk=st.binary(min_size=1, max_size=6),
    at=st.integers(min_value=0, max_value=3_000),
    splice=st.booleans(),
)
def test_signed_platform_payloads_with_one_thing_wrong_never_answer_5xx(
    ingest: IngestService,
    sample: tuple[str, bytes],
    path_choice: int,
    value: Any,
    junk: bytes,
    at: int,
    splice: bool,
) -> None:
    """Correctly signed, so every parser is reached, with one value replaced or some bytes spliced in."""
    route, body = sample
    body = body[:at] + junk + body[at + len(junk) :] if splice else _replace_a_value(body, path_choice, value)
    url = f"{ingest.http_url}/webhooks/shop-fuzz/{route}"
    before = accepted_so_far(ingest)

    status, raw, _ = _send(url, body, signed_headers(route, body, url), "POST")

    written = accepted_so_far(ingest) - before
    event(f"{status}")
    assert status in (200, 422), (status, raw[:300])
    if status == 200:
        assert written == json.loads(raw)["accepted"]
    else:
        assert written == 0
