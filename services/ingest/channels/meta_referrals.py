"""The ad, post or link that brought a customer to Meta's Messenger, Instagram or WhatsApp."""

from __future__ import annotations

from pronto.v1 import common_pb2
from services.ingest.channels.meta_kinds import Message
from services.ingest.channels.payload import Obj


def referral_of(referral: Obj) -> common_pb2.Referral:
    """Meta's referral object, of either family, as one shape.

    Messenger and Instagram (``messaging_referrals``, a postback's or a message's ``referral``):
    ``ref``, ``source`` (ADS, SHORTLINK, CUSTOMER_CHAT_PLUGIN...), ``type``, ``ad_id``,
    ``referer_uri`` and ``ads_context_data`` (ad_title, photo_url, video_url, post_id).
    WhatsApp's Click-to-WhatsApp ads and posts: ``source_type``, ``source_id``, ``source_url``,
    ``headline``, ``body``, ``image_url``/``video_url``/``thumbnail_url``, ``ctwa_clid``.
    """
    ads = referral.maybe("ads_context_data")
    context = ads.str if ads is not None else (lambda _key, default="": default)
    media = (
        referral.str("image_url", "")
        or referral.str("video_url", "")
        or referral.str("thumbnail_url", "")
        or context("photo_url", "")
        or context("video_url", "")
    )
    return common_pb2.Referral(
        source=referral.str("source", "") or referral.str("source_type", ""),
        type=referral.str("type", ""),
        ref=referral.str("ref", ""),
        ad_id=referral.str("ad_id", "") or referral.str("source_id", ""),
        post_id=context("post_id", ""),
        url=referral.str("source_url", "") or referral.str("referer_uri", ""),
        headline=referral.str("headline", "") or context("ad_title", ""),
        body=referral.str("body", ""),
        media_url=media,
        click_id=referral.str("ctwa_clid", ""),
    )


def refer(message: Message, referral: Obj | None) -> None:
    if referral is not None:
        message.referral.CopyFrom(referral_of(referral))
