"""Routing's pure domain: who may take a conversation, who should, and what waits in which order."""
