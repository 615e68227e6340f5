"""The HTTP fuzz's channel webhook cases: each platform's body, signed as it signs, and what it wrote.

The webhook operations declare no body in the schemas: each gets its platform's media type; a case
is signed as the platform signs it, over the exact bytes sent, with the shop's secrets; and a share
of the cases is the platform's own request for a customer message (pronto_tools.simulate.channels),
as it is or with one value changed, removed or added. A 200's answer says what ingest wrote.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests
from hypothesis import strategies as st

from pronto import event_ids
from pronto.channels import channel_name
from pronto_tools.simulate import channels
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from services.ingest.channels import phone
from services.ingest.channels.signatures import hmac_sha256_hex
from services.ingest.channels.telegram import CALLBACK_PREFIX
from tests.integration.fuzz.conftest import TENANT
from tests.integration.fuzz.http_outcomes import Outcomes

# The channel webhooks (``POST /webhooks/{tenant}/<route>``). Their operations declare no body (each
# reads the raw bytes its platform posts), so the fuzz gives each the media type its platform sends;
# a JSON route gets any JSON object, a form route any form. Every other case is signed as the
# platform signs it, over the exact bytes sent, with the shop's secrets: past the signature check it
# reaches the parser (mostly a 422 for a random body, and a dead letter for a batch's unreadable part).
WEBHOOKS = "/webhooks/{tenant}/"
WEBHOOK_MEDIA_TYPES = {
    "chat": "application/json",
    "contact-form": "application/json",
    "phone/callback-request": "application/json",
    "meta": "application/json",
    "telegram": "application/json",
    "viber": "application/json",
    "x": "application/json",
    "email/json": "application/json",
    "email": "text/plain",  # a raw message (message/rfc822 to the platform; the route reads any)
    "phone": "application/x-www-form-urlencoded",  # Twilio signs the URL and the form's fields
    "email/mailgun": "application/x-www-form-urlencoded",  # the signature is in the form's fields
    "email/sendgrid": "multipart/form-data",
}
# And so that signed cases are accepted too, not only refused as malformed: a share of each route's
# cases is the request its platform would send for a customer message (pronto_tools.simulate.channels,
# signed there) with a fuzzed sender, text, ids and time. Mailgun and SendGrid have no such builder:
# their signed cases are the generated forms only.
REAL_CHANNELS = {
    "chat": ("web_chat",),
    "contact-form": ("contact_form",),
    "phone": ("phone",),
    "meta": ("facebook", "instagram", "whatsapp"),
    "telegram": ("telegram",),
    "viber": ("viber",),
    "x": ("x",),
    "email": ("email",),
}


def with_webhook_bodies(schema: dict[str, Any]) -> None:
    """Gives each channel webhook's POST the body its platform sends (see ``WEBHOOK_MEDIA_TYPES``)."""
    for path, operations in schema.get("paths", {}).items():
        route = path.removeprefix(WEBHOOKS)
        if path.startswith(WEBHOOKS) and "post" in operations:
            media_type = WEBHOOK_MEDIA_TYPES[route]  # a new route: say what its platform posts
            body = {"type": "string"} if media_type == "text/plain" else {"type": "object"}
            operations["post"]["requestBody"] = {"required": True, "content": {media_type: {"schema": body}}}


def real_requests(names: tuple[str, ...], base_url: str) -> st.SearchStrategy[channels.WebhookRequest]:
    """The signed request a platform sends for a customer message on one of ``names``' channels,
    with a fuzzed customer, name, text, message id and time."""
    # What a platform can carry: no lone surrogates (not UTF-8), no line breaks in a name (a header).
    any_text = st.characters(exclude_categories=["Cs"])
    one_line = st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"])
    message = st.builds(
        channels.CustomerMessage,
        channel=st.sampled_from(names),
        customer_id=st.text(any_text, min_size=1, max_size=12),
        name=st.text(one_line, max_size=30),
        text=st.text(any_text, min_size=1, max_size=200),
        message_id=st.text(any_text, min_size=1, max_size=12),
        sent_at=st.floats(1.5e9, 2.0e9),
    )
    return message.map(lambda m: channels.webhook_request(TENANT, m, DEMO_CHANNEL_SECRETS, base_url))


# What a mutation puts into a platform's JSON: any value.
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _places(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path to every value inside ``doc`` (keys and indexes), the root's children first."""
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    places = []
    for key, value in children:
        places += [(*at, key), *_places(value, (*at, key))]
    return places


def mutated_requests(
    real: st.SearchStrategy[channels.WebhookRequest], route: str, base_url: str
) -> st.SearchStrategy[channels.WebhookRequest]:
    """A platform's request with one value replaced, removed or (in a list: a batch's entries,
    messages, changes) one more added, signed again: mostly readable, so that a batch's part that
    is not is dead-lettered next to the rest. Viber's also turned into delivery reports."""

    @st.composite
    def mutate(draw: st.DrawFn) -> channels.WebhookRequest:
        request = draw(real)
        doc = json.loads(request.body)
        at = draw(st.sampled_from(_places(doc)))
        parent = doc
        for key in at[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(("replace", "remove", "add")))
        if action == "replace":
            parent[at[-1]] = draw(JSON_VALUES)
        elif action == "remove":
            del parent[at[-1]]
        elif isinstance(parent, list):
            parent.append(draw(JSON_VALUES))
        else:
            parent[at[-1]] = [parent[at[-1]], draw(JSON_VALUES)]
        return _signed(route, request.path, doc, base_url)

    @st.composite
    def viber_report(draw: st.DrawFn) -> channels.WebhookRequest:
        """Viber's delivery report on the message of a callback, as the same bot receives it."""
        request = draw(real)
        doc = json.loads(request.body)
        report = {
            "event": draw(st.sampled_from(("delivered", "seen", "failed"))),
            "timestamp": doc["timestamp"],
            "chat_hostname": "SN-CHAT-01_",
            "message_token": doc["message_token"],
            "user_id": doc["sender"]["id"],
        }
        return _signed(route, request.path, report, base_url)

    return st.one_of(mutate(), viber_report()) if route == "viber" else mutate()


def _signed(route: str, path: str, doc: Any, base_url: str) -> channels.WebhookRequest:
    body = json.dumps(doc).encode()
    headers = channels.signed_headers(route, body, DEMO_CHANNEL_SECRETS, base_url + path)
    return channels.WebhookRequest(path, body, headers)


MAILGUN_TOKENS = iter(range(10**9))


def _send_signed(case: Any, route: str, base_url: str, headers: dict[str, str], outcomes: Outcomes) -> None:
    """Sends a webhook case signed as its platform signs it, over the exact bytes sent (Twilio:
    the URL and form; Mailgun: a fresh timestamp and token in the form), and counts what its answer
    says was written."""
    if isinstance(case, channels.WebhookRequest):  # signed where it was built
        prepared = requests.Request("POST", base_url + case.path, data=case.body, headers=case.headers)
        label = f"POST {case.path} (a platform's request)"
    else:
        if route == "email/mailgun" and isinstance(case.body, dict):
            stamp, mailgun_token = str(int(time.time())), f"fuzz-{next(MAILGUN_TOKENS):08d}"
            key = DEMO_CHANNEL_SECRETS["mailgun_signing_key"]
            signature = hmac_sha256_hex(key, (stamp + mailgun_token).encode())
            case.body = {**case.body, "timestamp": stamp, "token": mailgun_token, "signature": signature}
        kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
        kwargs = {k: v for k, v in kwargs.items() if k in REQUEST_FIELDS}
        prepared = requests.Request(**kwargs)
        label = case.operation.label
    request = prepared.prepare()
    raw = request.body or b""
    assert isinstance(raw, str | bytes), type(raw)  # prepared: the bytes themselves
    body = raw.encode() if isinstance(raw, str) else raw
    signed = channels.signed_headers(route, body, DEMO_CHANNEL_SECRETS, str(request.url))
    for name, value in signed.items():
        if name.lower() != "content-type":  # the case's own (multipart: its boundary)
            request.headers[name] = value
    with requests.Session() as session:
        response = session.send(request, timeout=15)
    outcomes.answers += 1
    outcomes.signed[f"{route} {response.status_code}"] += 1
    if response.status_code >= 500:
        curl = case.as_curl_command() if not isinstance(case, channels.WebhookRequest) else repr(body[:300])
        outcomes.server_errors.append(f"{response.status_code} signed {label}: {curl}\n{response.text[:300]}")
    elif response.status_code == 200:
        _count_webhook_answer(route, body, response, outcomes)


REQUEST_FIELDS = ("method", "url", "headers", "files", "data", "json", "params", "auth", "cookies")


def _count_webhook_answer(route: str, body: bytes, response: requests.Response, outcomes: Outcomes) -> None:
    """What a webhook's 200 says it wrote: the customer messages' ids (accepted ones), how many events
    it wrote (with the delivery reports), and how many parts it dead-lettered. Two answers say more
    in another form, the ids then follow from what was sent: Telegram's answerCallbackQuery (a button
    press was written) and Twilio's TwiML (whatever the voice request said was)."""
    first = (route, body) not in outcomes.signed_bodies
    outcomes.signed_bodies.add((route, body))
    ids = outcomes.webhook_ids.setdefault(route, set())
    if response.headers.get("content-type", "").startswith("application/xml"):
        assert route == "phone", response.text[:300]
        for message in phone.parse_voice(TENANT, phone.form_params(body), "en"):
            written = event_ids.from_channel_message(
                TENANT, channel_name(message.channel), message.channel_message_id
            )
            ids.add(written)
            outcomes.implied.add(written)
        outcomes.accepted |= ids
        return
    answer = response.json()
    if answer.get("method") == "answerCallbackQuery":
        assert route == "telegram", answer
        press = CALLBACK_PREFIX + answer["callback_query_id"]
        ids.add(event_ids.from_channel_message(TENANT, "telegram", press))
        outcomes.implied.add(event_ids.from_channel_message(TENANT, "telegram", press))
        outcomes.accepted |= ids
        return
    assert isinstance(answer["event_ids"], list), answer
    ids.update(answer["event_ids"])
    outcomes.accepted |= ids
    outcomes.webhook_written += answer["accepted"]
    if first:
        outcomes.dead_lettered += answer["dead_lettered"]
