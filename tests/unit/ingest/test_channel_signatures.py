"""The platforms' published signature examples, checked against our implementation."""

from __future__ import annotations

import json

from services.ingest.channels.signatures import twilio_signature
from tests.support.webhooks import FIXTURES


def test_twilio_signature_matches_twilios_published_example() -> None:
    # From Twilio's security documentation (recorded in tests/fixtures/channels/NOTES.md).
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    signature = twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params.items())
    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_recorded_twilio_requests_verify() -> None:
    recorded = json.loads((FIXTURES / "twilio" / "requests.json").read_text())["requests"]
    checked = 0
    for request in recorded:
        if "X-Twilio-Signature" not in request.get("headers", {}) or "url" not in request:
            continue
        fields = json.loads((FIXTURES / "twilio" / request["body_file"]).read_text())
        params = [(k, str(v)) for k, v in fields.items() if not k.startswith("_")]
        matches = (
            twilio_signature(request["secret"], request["url"], params)
            == request["headers"]["X-Twilio-Signature"]
        )
        assert matches is (request.get("expected_status", 200) < 400), request["name"]
        checked += 1
    assert checked, "the recorded requests carry Twilio signatures"
