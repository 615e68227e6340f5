"""A traffic simulator that drives Pronto only through its public APIs (webhooks and gRPC)."""
