"""Routing: assigns conversations to operators by skill and availability (issue #4; not built yet)."""
