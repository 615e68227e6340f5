"""What the shop's phone line says: TwiML answers to Twilio's voice requests (issue #19).

Twilio asks the Voice URL what to do when a call comes in, and asks again at the
``action`` URL of a ``<Gather>``, ``<Record>`` or ``<Dial>`` when it ends: those
requests need TwiML, a JSON answer is an "application error" the caller hears.
Pronto's line has no operators to dial, so it answers every call with a small
menu in the shop's language: press 1 to be called back (recorded as a callback
request), or stay on the line to leave a voicemail (recorded, and transcribed
by Twilio). A shop whose own TwiML dials its staff can point the ``<Dial>``'s
action here: a call nobody answered is recorded as missed and the caller gets
the same menu. Status and transcription callbacks expect nothing; they are
answered with JSON like every other webhook.

Pure: what to answer depends only on the request's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree import ElementTree

# The key a caller presses to be called back.
CALLBACK_DIGIT = "1"
# Call states that are the call itself, still going: the Voice URL's request.
_LIVE = {"ringing", "in-progress", "queued"}
_MISSED = {"no-answer", "busy", "failed", "canceled"}
MAX_VOICEMAIL_S = 120


@dataclass(frozen=True)
class Phrases:
    """What the line says, in one language; ``locale`` is ``<Say language>``'s."""

    locale: str
    welcome: str
    menu: str
    leave_message: str
    will_call_back: str
    message_kept: str


PHRASES = {
    "en": Phrases(
        "en-GB",
        "Thank you for calling.",
        "To be called back, press 1. Or stay on the line to leave a message.",
        "Please leave a message after the tone, then hang up.",
        "Thank you. We will call you back as soon as possible. Goodbye.",
        "Thank you for your message. We will get back to you soon. Goodbye.",
    ),
    "it": Phrases(
        "it-IT",
        "Grazie per aver chiamato.",
        "Per essere richiamato, premi 1. Oppure resta in linea per lasciare un messaggio.",
        "Lascia un messaggio dopo il segnale acustico, poi riaggancia.",
        "Grazie. Ti richiameremo il prima possibile. Arrivederci.",
        "Grazie per il messaggio. Ti risponderemo presto. Arrivederci.",
    ),
    "pl": Phrases(
        "pl-PL",
        "Dziękujemy za telefon.",
        "Aby zamówić oddzwonienie, naciśnij 1. Lub pozostań na linii, aby zostawić wiadomość.",
        "Zostaw wiadomość po sygnale, a następnie rozłącz się.",
        "Dziękujemy. Oddzwonimy najszybciej, jak to możliwe. Do widzenia.",
        "Dziękujemy za wiadomość. Wkrótce się odezwiemy. Do widzenia.",
    ),
    "es": Phrases(
        "es-ES",
        "Gracias por llamar.",
        "Para que le devolvamos la llamada, pulse 1. O permanezca en línea para dejar un mensaje.",
        "Deje un mensaje después de la señal y luego cuelgue.",
        "Gracias. Le devolveremos la llamada lo antes posible. Adiós.",
        "Gracias por su mensaje. Le responderemos pronto. Adiós.",
    ),
    "de": Phrases(
        "de-DE",
        "Danke für Ihren Anruf.",
        "Für einen Rückruf drücken Sie die 1. "
        "Oder bleiben Sie in der Leitung, um eine Nachricht zu hinterlassen.",
        "Bitte hinterlassen Sie nach dem Signalton eine Nachricht und legen Sie dann auf.",
        "Danke. Wir rufen Sie so bald wie möglich zurück. Auf Wiederhören.",
        "Danke für Ihre Nachricht. Wir melden uns bald. Auf Wiederhören.",
    ),
    "fr": Phrases(
        "fr-FR",
        "Merci de votre appel.",
        "Pour être rappelé, appuyez sur 1. Ou restez en ligne pour laisser un message.",
        "Laissez un message après le bip, puis raccrochez.",
        "Merci. Nous vous rappellerons dès que possible. Au revoir.",
        "Merci pour votre message. Nous vous répondrons bientôt. Au revoir.",
    ),
    "pt": Phrases(
        "pt-PT",
        "Obrigado pela sua chamada.",
        "Para que lhe liguemos de volta, prima 1. Ou mantenha-se em linha para deixar uma mensagem.",
        "Deixe uma mensagem após o sinal e depois desligue.",
        "Obrigado. Ligaremos de volta o mais breve possível. Adeus.",
        "Obrigado pela sua mensagem. Responderemos em breve. Adeus.",
    ),
    "nl": Phrases(
        "nl-NL",
        "Bedankt voor uw oproep.",
        "Druk op 1 om teruggebeld te worden. Of blijf aan de lijn om een bericht in te spreken.",
        "Spreek na de toon een bericht in en hang daarna op.",
        "Dank u. We bellen u zo snel mogelijk terug. Tot ziens.",
        "Bedankt voor uw bericht. We nemen snel contact met u op. Tot ziens.",
    ),
}


def _primary(language: str) -> str:
    """As ``language.primary``, which this module does not import: it would load the detector."""
    return language.replace("_", "-").split("-")[0].lower()


def speaks(language: str) -> bool:
    """Whether the line has its words in ``language`` (a BCP 47 tag)."""
    return _primary(language) in PHRASES


def phrases(language: str) -> Phrases:
    """The line's words in ``language`` (a BCP 47 tag), English when Pronto has none in it."""
    return PHRASES.get(_primary(language), PHRASES["en"])


def wants_instructions(params: Mapping[str, str]) -> bool:
    """Whether Twilio is asking what to do next (the Voice URL, or a Gather, Record or Dial action)
    rather than reporting (status and transcription callbacks, whose answer it ignores)."""
    if "TranscriptionSid" in params:
        return False
    return (
        "RecordingUrl" in params
        or "Digits" in params
        or "DialCallStatus" in params
        or params.get("CallStatus", "") in _LIVE
    )


def answer(params: Mapping[str, str], language: str, action_url: str) -> str:
    """The TwiML document for a request that ``wants_instructions``; ``action_url`` is where the
    menu's and the recording's outcomes are posted (this endpoint, as Twilio signs it)."""
    say = phrases(language)
    response = ElementTree.Element("Response")
    if "RecordingUrl" in params:  # the voicemail is kept (the Record's action)
        _say(response, say, say.message_kept)
        ElementTree.SubElement(response, "Hangup")
    elif params.get("Digits") == CALLBACK_DIGIT:  # the menu's choice: call me back
        _say(response, say, say.will_call_back)
        ElementTree.SubElement(response, "Hangup")
    elif "Digits" in params:  # any other key: a voicemail
        _record(response, say, action_url)
    elif params.get("DialCallStatus", "") not in ("", *_MISSED):
        ElementTree.SubElement(response, "Hangup")  # the dialled staff answered; the call is over
    else:  # a new call, or one the shop's staff did not answer
        menu = ElementTree.SubElement(
            response,
            "Gather",
            {"input": "dtmf", "numDigits": "1", "timeout": "6", "action": action_url, "method": "POST"},
        )
        _say(menu, say, f"{say.welcome} {say.menu}")
        _record(response, say, action_url)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ElementTree.tostring(response, encoding="unicode")


def _say(parent: ElementTree.Element, say: Phrases, text: str) -> None:
    ElementTree.SubElement(parent, "Say", {"language": say.locale}).text = text


def _record(parent: ElementTree.Element, say: Phrases, action_url: str) -> None:
    _say(parent, say, say.leave_message)
    ElementTree.SubElement(
        parent,
        "Record",
        {
            "action": action_url,
            "method": "POST",
            "maxLength": str(MAX_VOICEMAIL_S),
            "playBeep": "true",
            "transcribe": "true",
            "transcribeCallback": action_url,
        },
    )
