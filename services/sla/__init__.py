"""SLA: business-time response clocks, warnings and breaches (issue #5; not built yet)."""
