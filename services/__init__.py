"""Pronto's services: ingest, routing, sla, notify. Each is a package with its own wiring."""
