"""Checks operators' status changes and replies, that every problem is raised at once, and any input."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pronto.v1 import operator_pb2
from services.ingest.errors import InvalidEvent
from services.ingest.validation import (
    MAX_ID_LENGTH,
    MAX_TEXT_BYTES,
    check,
    publish_problems,
    reply_problems,
    status_problems,
)
from tests.unit.ingest.validation_requests import (
    NOW,
    attachment,
    only_problem,
    publish,
    reply,
    sender,
    status,
)

BCP47 = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


# ---------------------------------------------------------------- operator status


def test_a_valid_status_change_has_no_problems() -> None:
    assert status_problems(status(reason="pausa pranzo", idempotency_key="s-1")) == []


def test_a_status_change_needs_an_operator_and_a_status() -> None:
    request = operator_pb2.SetOperatorStatusRequest()

    assert status_problems(request) == [
        "operator_id is required",
        "status is required (a OperatorStatus other than UNSPECIFIED)",
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"status": 12}, "status has unknown OperatorStatus value 12"),
        ({"operator_id": "op\n7"}, "operator_id must not contain control characters or surrounding spaces"),
        ({"operator_id": "o" * 201}, "operator_id is 201 characters long, at most 200 allowed"),
        ({"idempotency_key": "k" * 201}, "idempotency_key is 201 characters long, at most 200 allowed"),
        ({"reason": "r" * (MAX_TEXT_BYTES + 1)}, "reason is 65537 bytes, at most 65536 allowed"),
    ],
)
def test_a_bad_status_change_names_its_field(fields: dict[str, Any], problem: str) -> None:
    assert only_problem(status_problems(status(**fields))) == problem


# ---------------------------------------------------------------- replies


def test_a_valid_reply_has_no_problems() -> None:
    assert reply_problems(reply()) == []


def test_a_reply_needs_a_conversation_an_operator_and_content() -> None:
    assert reply_problems(operator_pb2.PostReplyRequest()) == [
        "conversation_id is required",
        "operator_id is required",
        "text is empty and there are no attachments: a reply needs content",
    ]


def test_a_reply_of_attachments_only_is_accepted() -> None:
    assert reply_problems(reply(text="", attachments=[attachment()])) == []


def test_a_reply_of_blank_text_is_refused() -> None:
    problem = only_problem(reply_problems(reply(text="  \n")))

    assert problem == "text is empty and there are no attachments: a reply needs content"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"conversation_id": "conv-1 "},
            "conversation_id must not contain control characters or surrounding spaces",
        ),
        ({"operator_id": "o" * 201}, "operator_id is 201 characters long, at most 200 allowed"),
        (
            {"idempotency_key": "\x00"},
            "idempotency_key must not contain control characters or surrounding spaces",
        ),
        ({"text": "t" * (MAX_TEXT_BYTES + 1)}, "text is 65537 bytes, at most 65536 allowed"),
        ({"attachments": [attachment()] * 51}, "attachments has 51 entries, at most 50 allowed"),
        ({"attachments": [attachment(size_bytes=-5)]}, "attachments[0].size_bytes must not be negative"),
    ],
)
def test_a_bad_reply_names_its_field(fields: dict[str, Any], problem: str) -> None:
    assert only_problem(reply_problems(reply(**fields))) == problem


# ---------------------------------------------------------------- check


def test_check_raises_every_problem_at_once() -> None:
    with pytest.raises(InvalidEvent, match=r"^operator_id is required; status is required") as raised:
        check(status_problems(operator_pb2.SetOperatorStatusRequest()))

    assert raised.value.problems == [
        "operator_id is required",
        "status is required (a OperatorStatus other than UNSPECIFIED)",
    ]


def test_check_accepts_no_problems() -> None:
    check([])


# ---------------------------------------------------------------- any input


def obeys_identifier_limits(value: str) -> bool:
    return 0 < len(value) <= MAX_ID_LENGTH and value.isprintable() and value == value.strip()


@settings(database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    conversation_id=st.text(max_size=250),
    sender_id=st.text(max_size=250),
    text=st.text(),
    language=st.one_of(st.text(max_size=20), st.from_regex(BCP47, fullmatch=True)),
)
def test_any_strings_give_a_list_of_problems_and_no_problems_means_within_limits(
    conversation_id: str, sender_id: str, text: str, language: str
) -> None:
    request = publish(
        idempotency_key="k-1",
        conversation_id=conversation_id,
        sender=sender(id=sender_id),
        text=text,
        language=language,
    )

    problems = publish_problems(request, NOW)

    assert isinstance(problems, list)
    assert all(isinstance(p, str) for p in problems)
    if not problems:
        assert obeys_identifier_limits(conversation_id)
        assert obeys_identifier_limits(sender_id)
        assert text.strip()
        assert len(text.encode()) <= MAX_TEXT_BYTES
        assert language == "" or BCP47.fullmatch(language)
