"""X's Account Activity deliveries are read event by event (issue #19, defect 1).

One that cannot be read is Unreadable, the rest are kept. Fixtures follow
https://developer.x.com/en/docs/x-api/enterprise/account-activity-api/guides/account-activity-data-objects
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import x
from services.ingest.channels.payload import Unreadable
from services.ingest.errors import MalformedPayload
from tests.support.webhooks import fixture


def delivery(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(fixture(f"x/{name}"))
    return body


def test_a_tweet_that_cannot_be_read_is_unreadable_and_the_other_events_are_kept() -> None:
    tweets = delivery("tweet_create_mention.json")
    dms = delivery("dm_message_create.json")
    good = tweets["tweet_create_events"][0]
    body = {
        **tweets,
        "tweet_create_events": [{**good, "id_str": "1", "created_at": "last Monday"}, good],
        "direct_message_events": dms["direct_message_events"],
        "users": dms["users"],
    }

    parts = x.parse("shop-a", json.dumps(body).encode())

    messages = [p for p in parts if isinstance(p, events_pb2.MessageReceived)]
    assert [(m.channel_message_id, m.is_public) for m in messages] == [
        (dms["direct_message_events"][0]["id"], False),
        (good["id_str"], True),
    ]
    assert [p for p in parts if isinstance(p, Unreadable)] == [
        Unreadable(
            "body.tweet_create_events[0]",
            "body.tweet_create_events[0].created_at is not a date: 'last Monday'",
            common_pb2.CHANNEL_X,
        )
    ]


def test_a_direct_message_that_is_not_an_object_is_unreadable() -> None:
    dms = delivery("dm_message_create.json")
    body = {**dms, "direct_message_events": ["hello", *dms["direct_message_events"]]}

    parts = x.parse("shop-a", json.dumps(body).encode())

    assert [type(p) for p in parts] == [Unreadable, events_pb2.MessageReceived]
    assert parts[0] == Unreadable(
        "body.direct_message_events[0]",
        "body.direct_message_events[0] must be an object, got str",
        common_pb2.CHANNEL_X,
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"for_user_id": None}, "body.for_user_id is required"),
        ({"direct_message_events": {"id": "1"}}, "body.direct_message_events must be a list, got dict"),
        ({"users": ["1322081944190853123"]}, "body.users must be an object, got list"),
    ],
    ids=["no account", "events not a list", "users not an object"],
)
def test_a_body_that_is_not_xs_shape_is_refused_whole(change: dict[str, Any], reason: str) -> None:
    body = {**delivery("dm_message_create.json"), **change}

    with pytest.raises(MalformedPayload) as refused:
        x.parse("shop-a", json.dumps(body).encode())

    assert str(refused.value) == reason
