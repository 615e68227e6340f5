"""Pronto: event-sourced customer support for online shops.

This package is the shared kernel every service builds on: the generated
contracts (``pronto.v1``), the CloudEvents envelope, topic names, the embedded
broker and the Kafka adapters.
"""
