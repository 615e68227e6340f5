"""Pronto's tooling: the embedded broker, the demo, the simulator, the process runner, the CLI and the
deployment generator. It may import anything; nothing in ``pronto`` (the kernel) or ``services``
imports it."""
