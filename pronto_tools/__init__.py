"""Pronto's tooling: embedded broker, demo, simulator, process runner, CLI and deployment generator.

It may import anything; nothing in ``pronto`` (the kernel) or ``services`` imports it."""
