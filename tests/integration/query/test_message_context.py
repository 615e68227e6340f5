"""A customer message's context through the query service on the real broker (issue #19).

The message it replies to, the one an edit changes and the ad that brought the customer are in the
conversation's timeline and on the conversation in the query API, and the operator's console shows them.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import QueryService
from tests.integration.query.publishing import publish
from tests.support.browser import chromium, screenshot
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration
TENANT = "context-shop"
SUPERVISOR_TOKEN = "context-shop-supervisor-0123"
OPERATOR, OPERATOR_TOKEN = "lea", "context-shop-operator-0123"
CONVERSATION = "conv-context"
AD = common_pb2.Referral(
    source="ad",
    ad_id="120208123456789",
    url="https://fb.me/3cr4Wqqkv",
    headline="Saldi d'inverno: -30%",
    body="Solo questa settimana",
    media_url="https://scontent.xx.fbcdn.net/ad.jpg",
    click_id="ARAkLkA8rmlFeiCktEJQ",
)


def history(start: datetime) -> list[Envelope]:
    """A WhatsApp customer who came from an ad, answers their own first message, then edits that answer,
    replies to a message of the shop's (one the read model does not hold), asks about a product of the
    catalogue and forwards a courier's message; Lea has it."""
    sender = common_pb2.Sender(id="393471234567", display_name="Giulia Rossi")

    def message(n: int, text: str, **fields: Any) -> Envelope:
        payload = events_pb2.MessageReceived(
            conversation_id=CONVERSATION,
            channel=common_pb2.CHANNEL_WHATSAPP,
            sender=sender,
            text=text,
            language="it",
            **fields,
        )
        return Envelope(f"{TENANT}-m{n}", "/test", TENANT, payload, start + timedelta(seconds=n))

    assigned = events_pb2.ConversationAssigned(
        conversation_id=CONVERSATION,
        operator_id=OPERATOR,
        operator_display_name="Lea",
        channel=common_pb2.CHANNEL_WHATSAPP,
        reason="best match",
    )
    return [
        message(1, "Vorrei lo sconto dell'annuncio", channel_message_id="wamid.1", referral=AD),
        Envelope(f"{TENANT}-assigned", "/test", TENANT, assigned, start + timedelta(seconds=1.5)),
        message(2, "Per il cappotto blu", channel_message_id="wamid.2", reply_to_message_id="wamid.1"),
        message(
            3,
            "Per il cappotto nero",
            channel_message_id="wamid.2#edit",
            kind=events_pb2.MESSAGE_KIND_EDITED,
            original_message_id="wamid.2",
        ),
        message(4, "Sì, grazie", channel_message_id="wamid.4", reply_to_message_id="wamid.shop-99"),
        message(
            5,
            "C'è la taglia M?",
            channel_message_id="wamid.5",
            referred_product=events_pb2.ProductReference(
                catalog_id="1728903746521", product_retailer_id="CAPP-M"
            ),
        ),
        message(6, "Il pacco è in consegna oggi", channel_message_id="wamid.6", forwarded=True),
    ]


def get(url: str, token: str = SUPERVISOR_TOKEN) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.fixture(scope="module")
def query(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueryService]:
    asyncio.run(publish(broker.bootstrap_servers, history(datetime.now(UTC) - timedelta(minutes=5))))
    service = QueryService(
        broker.bootstrap_servers,
        tmp_path_factory.mktemp("context") / "query.log",
        env={
            "PRONTO_QUERY_TOKENS": json.dumps({TENANT: SUPERVISOR_TOKEN}),
            "PRONTO_QUERY_OPERATOR_TOKENS": json.dumps({TENANT: {OPERATOR: OPERATOR_TOKEN}}),
        },
    )
    service.start().wait_ready(timeout=60)
    wait_until(
        lambda: get(f"{service.http_url}/v1/conversations/{CONVERSATION}")[1].get("messages") == 6,
        timeout=30,
        what="the conversation's six messages in the query API",
    )
    yield service
    service.stop()


def test_the_query_api_shows_replies_edits_and_the_referral(query: QueryService) -> None:
    referral = {field.name: getattr(AD, field.name) for field in AD.DESCRIPTOR.fields}

    status, one = get(f"{query.http_url}/v1/conversations/{CONVERSATION}")

    assert status == 200, one
    assert one["referral"] == referral
    messages = [e for e in one["timeline"] if e["type"] == "message"]
    assert [
        (
            m["channel_message_id"],
            m["reply_to_message_id"],
            m["original_message_id"],
            m["kind"],
            m["referral"],
            m["forwarded"],
            m["referred_product"],
        )
        for m in messages
    ] == [
        ("wamid.1", "", "", "unspecified", referral, False, None),
        ("wamid.2", "wamid.1", "", "unspecified", None, False, None),
        ("wamid.2#edit", "", "wamid.2", "edited", None, False, None),
        ("wamid.4", "wamid.shop-99", "", "unspecified", None, False, None),
        (
            "wamid.5",
            "",
            "",
            "unspecified",
            None,
            False,
            {"catalog_id": "1728903746521", "product_retailer_id": "CAPP-M"},
        ),
        ("wamid.6", "", "", "unspecified", None, True, None),
    ]
    status, page = get(f"{query.http_url}/v1/conversations?channel=whatsapp")
    assert status == 200, page
    (summary,) = [c for c in page["items"] if c["conversation_id"] == CONVERSATION]
    assert summary["referral"] == referral
    _, schema = get(f"{query.http_url}/openapi.json")
    assert set(schema["components"]["schemas"]["Referral"]["properties"]) == set(referral)


def test_the_console_shows_what_a_message_answers_or_changes_and_the_ad(query: QueryService) -> None:
    with chromium() as driver:
        driver.get(f"{query.http_url}/console/")
        field = WebDriverWait(driver, 15).until(ready.element_to_be_clickable((By.ID, "token")))
        field.send_keys(OPERATOR_TOKEN, Keys.ENTER)
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".conversation li")) == 6)
        card = driver.find_element(By.CSS_SELECTOR, ".conversation")
        assert card.find_element(By.CSS_SELECTOR, ".referral").text == "from ad: Saldi d'inverno: -30%"
        lines = [li.text.splitlines() for li in card.find_elements(By.CSS_SELECTOR, "li")]
        assert [line[:-1] for line in lines] == [
            [],
            ["↩ in reply to “Vorrei lo sconto dell'annuncio”"],
            ["✎ changes “Per il cappotto blu”"],
            ["↩ in reply to wamid.shop-99"],
            ["🛍 about product CAPP-M"],
            ["⤷ forwarded"],
        ]
        texts = ["annuncio", "blu", "nero", "grazie", "M?", "oggi"]
        assert all(line[-1].endswith(text) for line, text in zip(lines, texts, strict=True)), lines
        screenshot(driver, "operator-message-context")
