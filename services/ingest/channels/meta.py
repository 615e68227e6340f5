"""Meta's webhooks: a delivery's entries, each read by its platform's parser (see below).

One endpoint per app: Messenger, Instagram messaging, WhatsApp Cloud API, and
public comments on Facebook Page posts and Instagram media (``meta_direct``,
``meta_whatsapp``, ``meta_comments``).

The body is signed with X-Hub-Signature-256 (checked by the entry point).
One delivery may batch several entries, each with several events: every
customer message becomes one MessageReceived; what is not a customer
message (echoes of our own replies, deliveries, reads, WhatsApp statuses)
is acknowledged and left out. Timestamps: Messenger and Instagram DMs in
milliseconds, comments and WhatsApp in seconds.

What the operator needs to read a message in its context travels with it: the
message it replies to (``reply_to_message_id``), the message an edit or a
deletion changes (``original_message_id``), and the ad, post or link that
brought the customer (``referral``, see ``meta_referrals.referral_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from pronto.v1 import common_pb2
from services.ingest.channels import signatures
from services.ingest.channels.meta_comments import instagram_change, page_change
from services.ingest.channels.meta_direct import direct
from services.ingest.channels.meta_kinds import Message, Read
from services.ingest.channels.meta_whatsapp import whatsapp_entry
from services.ingest.channels.payload import Obj, Unreadable, each_part, load_json
from services.ingest.errors import MalformedPayload


def parse(tenant: str, raw: bytes) -> list[Message | Unreadable]:
    """Every customer message of the delivery, and the parts that cannot be read as Unreadable.

    A body that is not Meta's shape at all (not JSON, an unknown ``object``, no ``entry`` list) is
    refused whole; past that, each entry, messaging event, change and WhatsApp message is read on
    its own, so one Pronto cannot read does not take the others down with it.
    """
    body = Obj(load_json(raw))
    kind = body.str("object")
    if kind not in _OBJECTS:
        raise MalformedPayload(
            f"body.object {kind!r} is not one Pronto handles (page, instagram, whatsapp_business_account)"
        )
    read, channel = _OBJECTS[kind]
    return list(each_part(body, "entry", channel, partial(read, tenant), required=True))


def _page_entry(tenant: str, entry: Obj) -> Read:
    page = entry.str("id")
    facebook = common_pb2.CHANNEL_FACEBOOK
    yield from each_part(entry, "messaging", facebook, partial(direct, tenant, "facebook", facebook, page))
    yield from each_part(entry, "changes", facebook, partial(page_change, tenant, page))


def _instagram_entry(tenant: str, entry: Obj) -> Read:
    account = entry.str("id")
    instagram = common_pb2.CHANNEL_INSTAGRAM
    yield from each_part(
        entry, "messaging", instagram, partial(direct, tenant, "instagram", instagram, account)
    )
    yield from each_part(entry, "changes", instagram, partial(instagram_change, tenant, account, entry))


_OBJECTS: dict[str, tuple[Callable[[str, Obj], Read], int]] = {
    "page": (_page_entry, common_pb2.CHANNEL_FACEBOOK),
    "instagram": (_instagram_entry, common_pb2.CHANNEL_INSTAGRAM),
    "whatsapp_business_account": (whatsapp_entry, common_pb2.CHANNEL_WHATSAPP),
}


def check_signature(headers: Mapping[str, str], body: bytes, app_secret: str) -> None:
    """Meta signs every webhook with the app secret: ``X-Hub-Signature-256: sha256=<hex>``
    (https://developers.facebook.com/docs/graph-api/webhooks/getting-started)."""
    signatures.check_prefixed_hex(headers.get("x-hub-signature-256"), app_secret, body)
