"""What ingest logs of a payload its parsers choke on: the exception's type and where, not what it quotes."""

from __future__ import annotations

import logging

import pytest

from services.ingest.channels.payload import Unreadable, guarded, loggable

SECRET = "Giulia's card 4111 1111 1111 1111"


def test_a_decode_error_is_logged_by_its_encoding_and_position_not_its_bytes() -> None:
    with pytest.raises(UnicodeDecodeError) as caught:
        (SECRET.encode() + b"\xff").decode("utf-8")
    assert loggable(caught.value) == "UnicodeDecodeError (utf-8 at bytes 33-34)"


def test_other_exceptions_are_logged_by_their_type_alone() -> None:
    assert loggable(KeyError(SECRET)) == "KeyError"
    assert loggable(ValueError(SECRET)) == "ValueError"


def test_a_part_that_cannot_be_read_logs_no_part_of_it(caplog: pytest.LogCaptureFixture) -> None:
    def read() -> list[str]:
        raise KeyError(SECRET)

    with caplog.at_level(logging.WARNING):
        [unreadable] = guarded("entry[0].messaging[1]", 0, read)
    assert SECRET not in caplog.text
    assert "entry[0].messaging[1]: KeyError" in caplog.text
    # The dead letter, not the log, keeps what went wrong in full.
    assert isinstance(unreadable, Unreadable)
    assert SECRET in unreadable.reason
