"""Notify: tells customers, operators and supervisors what happened (issue #6; not built yet)."""
