"""Pronto's services: ingest, routing, sla, notify, query; none imports another.

Each is a package with its own wiring, and none imports another (``tests/unit/test_layers.py``): what two
services share lives in ``pronto``."""
