"""Mailgun's and SendGrid's inbound e-mail forms as the providers post them, for the e-mail tests.

Mailgun's and SendGrid's inbound e-mail forms as the providers post them, for the e-mail payload
tests: multipart/form-data bodies, Mailgun's signature, SendGrid Parse's fields and credentials, and
attachments' bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from tests.plugins.ingest import CHANNEL_SECRETS


def form_data(*parts: tuple[str, bytes, str | None, str | None]) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578): (name, bytes, filename or None, Content-Type or None)."""
    boundary = f"----pronto{uuid.uuid4().hex}"
    body = b""
    for name, data, filename, content_type in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        head += f"Content-Type: {content_type}\r\n" if content_type else ""
        body += head.encode() + b"\r\n" + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def fields(pairs: dict[str, str]) -> list[tuple[str, bytes, str | None, str | None]]:
    return [(name, value.encode(), None, None) for name, value in pairs.items()]


def mailgun_signature(run: str) -> dict[str, str]:
    """timestamp, token (50 characters) and signature, as Mailgun signs them now."""
    timestamp, token = str(int(time.time())), (run * 5)[:50]
    key = CHANNEL_SECRETS["mailgun_signing_key"]
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 6 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(255, -1, -1)) * 3 + b"\xff\xd9"


def sendgrid_parse(
    run: str, *, header_block: str, envelope_from: str | None, text: bytes
) -> tuple[bytes, str]:
    """SendGrid's Inbound Parse post (default settings, not raw): multipart/form-data, the text in
    the charset ``charsets`` names, one attachment described by ``attachment-info``."""
    return form_data(
        *fields(
            {
                "headers": header_block,
                "dkim": "{@gmail.com : pass}",
                "to": "Assistenza Pronto Shop <assistenza@parse.prontoshop.example>",
                "from": "Giulia Bianchi <giulia.bianchi87@gmail.com>",
                "subject": "Re: Ordine IT-48213 consegnato ma non ricevuto",
                "sender_ip": "209.85.128.41",
                "spam_report": "Spam detection software has NOT identified this incoming email as spam.\n",
                "envelope": json.dumps(
                    {"to": ["assistenza@parse.prontoshop.example"], "from": envelope_from}
                ),
                "attachments": "1",
                "spam_score": "0.011",
                "attachment-info": json.dumps(
                    {
                        "attachment1": {
                            "filename": "ricevuta_corriere.pdf",
                            "name": "ricevuta_corriere.pdf",
                            "type": "application/pdf",
                        }
                    }
                ),
                "charsets": json.dumps(
                    {
                        "to": "UTF-8",
                        "html": "UTF-8",
                        "subject": "UTF-8",
                        "from": "UTF-8",
                        "text": "iso-8859-1",
                    }
                ),
                "SPF": "pass",
            }
        ),
        ("text", text, None, None),
        ("html", '<div dir="ltr">Il numero di tracking è 1Z999AA10123456784.</div>'.encode(), None, None),
        ("attachment1", PDF, "ricevuta_corriere.pdf", "application/pdf"),
    )


def sendgrid_headers(run: str, *extra: str) -> str:
    return (
        "\n".join(
            [
                "Received: by mx0047p1mdw1.sendgrid.net with SMTP id 9Vw3Rk2aQe "
                "Mon, 16 Nov 2026 09:14:09 +0000 (UTC)",
                "MIME-Version: 1.0",
                "From: Giulia Bianchi <giulia.bianchi87@gmail.com>",
                "Date: Mon, 16 Nov 2026 10:37:52 +0100",
                "References: <CAJx7Vq2mN8kR4tYp0sW3bZ1hL9cF6dG5eA2uX7iO0nQ+4vMk3w@mail.gmail.com>",
                "In-Reply-To: <CAJx7Vq2mN8kR4tYp0sW3bZ1hL9cF6dG5eA2uX7iO0nQ+4vMk3w@mail.gmail.com>",
                f"Message-ID: <CAJx7Vq0{run}@mail.gmail.com>",
                "Subject: Re: Ordine IT-48213 consegnato ma non ricevuto",
                "To: Assistenza Pronto Shop <assistenza@parse.prontoshop.example>",
                'Content-Type: multipart/mixed; boundary="0000000000004e7b1f05f2c1a9d3"',
                *extra,
            ]
        )
        + "\n"
    )


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(f"pronto:{token}".encode()).decode()
