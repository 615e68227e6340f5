"""Channel adapters: each platform's webhook payload, verified and normalised into MessageReceived.

Every module here is pure (bytes and headers in, events out, no I/O), so that
the platforms' documented payloads can be tested directly; ``webhooks`` is the
thin HTTP entry point around them.
"""
