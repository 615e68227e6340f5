"""Automatic e-mails (auto-replies, delivery reports, bulk and list mail), told by their headers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Precedence values of mail nobody should answer (RFC 3834 section 2 names bulk, list and junk;
# auto_reply is the one some auto-responders write on their own replies).
_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply", "auto-reply"})
# Exchange's X-Auto-Response-Suppress tokens that ask for no automatic answer.
_SUPPRESS = frozenset({"all", "oof", "autoreply"})


def automatic(headers: Iterable[tuple[str, Any]], return_path: str | None = None) -> str | None:
    """What shows that a machine wrote the message, or None for a person's message.

    The headers: ``Auto-Submitted`` other than ``no`` (RFC 3834), ``X-Autoreply`` and
    ``X-Autorespond`` (auto-responders that predate it), ``Precedence: bulk | list | junk |
    auto_reply``, ``X-Auto-Response-Suppress: All | OOF | AutoReply`` (Exchange), a null
    ``Return-Path: <>`` or ``X-Envelope-From: <>``, and a ``multipart/report`` (delivery-status
    reports, read receipts; RFC 6522). ``return_path`` is the envelope sender when the provider
    reports it apart from the headers: empty or ``<>`` is the null return path of bounces and
    auto-replies (RFC 5321 section 4.5.5).
    """
    for name, raw in headers:
        key, value = str(name).strip().lower(), " ".join(str(raw).split())
        low = value.lower()
        shown = f"{str(name).strip()}: {value[:80]}"
        if key == "auto-submitted" and low.split(";")[0].strip() not in ("", "no"):
            return shown
        if key in ("x-autoreply", "x-autorespond") and low not in ("no", "false", "0"):
            return shown
        if key == "precedence" and low in _PRECEDENCE:
            return shown
        if key == "x-auto-response-suppress" and _SUPPRESS & {t.strip() for t in low.split(",")}:
            return shown
        if key in ("return-path", "x-envelope-from") and value.replace(" ", "") == "<>":
            return f"{shown} (a null return path)"
        if key == "content-type" and low.startswith("multipart/report"):
            report = re.search(r'report-type="?([\w.-]+)', low)
            kind = f"; report-type={report.group(1)}" if report else ""
            return f"Content-Type: multipart/report{kind} (a delivery-status or disposition report)"
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "a null return path (MAIL FROM:<>)"
    return None


def automatic_note(reason: str) -> str:
    return f"an automatic e-mail ({reason}): recorded only; it opens no conversation and is not acknowledged"
