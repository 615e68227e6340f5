"""The demo: the whole system on the embedded broker, with traffic, in one command."""
