"""Which adapter reaches a request's recipient, chosen from the shop's configuration.

A customer is answered on their channel's own API when the shop gave its
credentials, else through the shop's customer webhook for that channel; an
operator or the supervisors through their contact (e-mail, webhook, Slack).
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from pronto.channels import channel_name
from pronto.v1 import events_pb2
from services.notify.delivery.adapters import Adapter, Email, Slack, Smtp, Webhook
from services.notify.delivery.partition_state import Request
from services.notify.delivery.platforms.mail import ThreadedEmail
from services.notify.delivery.platforms.meta import SendApi, WhatsApp
from services.notify.delivery.platforms.telegram import Telegram
from services.notify.delivery.platforms.viber import Viber
from services.notify.delivery.platforms.webchat import WebChat, WebChatHub
from services.notify.delivery.platforms.x import X
from services.notify.settings import Contact, NotifySettings, ShopConfig


class AdapterChoice:
    def __init__(
        self,
        settings: NotifySettings,
        session: Callable[[], aiohttp.ClientSession | None],
        webchat: WebChatHub,
    ) -> None:
        """``session``: the deliverer's HTTP session, which exists while it runs."""
        self.settings = settings
        self.webchat = webchat
        self._session = session
        self._smtp = Smtp(
            settings.notify_smtp_host,
            settings.notify_smtp_port,
            settings.notify_smtp_from,
            settings.notify_timeout_s,
            settings.notify_smtp_username,
            settings.notify_smtp_password.get_secret_value() if settings.notify_smtp_password else None,
            settings.notify_smtp_starttls,
        )

    def for_request(self, request: Request) -> Adapter | None:
        """None: the shop configured no way to reach this recipient."""
        session = self._session()
        assert session is not None
        shop = self.settings.shop(request.event.tenant)
        kind = request.request.recipient_kind
        if kind == events_pb2.RECIPIENT_KIND_CUSTOMER:
            channel = channel_name(request.request.channel)
            own = self._outbound(session, shop, channel)
            if own is not None:
                return own
            target = shop.customer_webhook(channel)
            return Webhook(session, target.url, target.secret.get_secret_value()) if target else None
        contact = (
            shop.operator(request.request.recipient)
            if kind == events_pb2.RECIPIENT_KIND_OPERATOR
            else shop.supervisors
        )
        return self._by_contact(session, contact)

    def _outbound(self, session: aiohttp.ClientSession, shop: ShopConfig, channel: str) -> Adapter | None:
        """The channel's own API when the shop gave its credentials (README, Replies)."""
        out = shop.outbound
        if channel == "telegram" and out.telegram:
            return Telegram(session, out.telegram.bot_token.get_secret_value(), out.telegram.api_base)
        if channel == "whatsapp" and out.whatsapp:
            w = out.whatsapp
            template = w.template.template() if w.template else None
            return WhatsApp(
                session, w.phone_number_id, w.access_token.get_secret_value(), template, w.api_base
            )
        if channel in ("facebook", "instagram") and (send_api := getattr(out, channel)):
            return SendApi(
                session,
                send_api.access_token.get_secret_value(),
                channel,
                send_api.human_agent,
                send_api.api_base,
            )
        if channel == "viber" and out.viber:
            return Viber(
                session, out.viber.auth_token.get_secret_value(), out.viber.sender_name, out.viber.api_base
            )
        if channel == "x" and out.x:
            return X(session, out.x.access_token.get_secret_value(), out.x.api_base)
        email = ThreadedEmail(self._smtp, out.email.sender) if out.email else None
        if channel in ("email", "contact_form") and email is not None:
            return email
        if channel == "web_chat" and out.web_chat:
            return WebChat(self.webchat, email, out.web_chat.email_after_s)
        return None

    def _by_contact(self, session: aiohttp.ClientSession, contact: Contact | None) -> Adapter | None:
        if contact is None:
            return None
        if contact.email:
            return Email(self._smtp, contact.email)
        if contact.webhook:
            return Webhook(session, contact.webhook.url, contact.webhook.secret.get_secret_value())
        if contact.slack:
            return Slack(session, contact.slack.get_secret_value())
        return None
