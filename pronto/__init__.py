"""Pronto: event-sourced customer support for online shops.

This package is the shared kernel every service builds on, and it imports no service and no tooling
(``tests/unit/test_layers.py``): the generated contracts (``pronto.v1``), the CloudEvents envelope,
topic names, event ids, the stream core (folding, journals, snapshots), the Kafka adapters, settings,
metrics, tracing, HTTP limits and the domain pieces more than one service needs (the business
calendar, message kinds, time zones). The tooling (embedded broker, demo, simulator, CLI, deployment
generator) is ``pronto_tools``.
"""
