"""Customer messages through each platform's own API, with the shop's credentials.

Each module builds its platform's request (pure functions, unit-tested) and
reads its answers: the platform's message id on success; on failure a
``DeliveryError`` with the platform's own code and text, transient (429, 5xx,
the platform's rate limits; ``Retry-After`` or the platform's equivalent
honoured) or permanent (other 4xx: a blocked bot, an unknown chat, a closed window).
"""
