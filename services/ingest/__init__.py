"""Ingest: turns what customers and integrators send into events on Kafka.

Domain rules (validation, event ids, deduplication) are plain modules; the
gRPC servicers and HTTP routes only translate and delegate to ``application``.
"""
