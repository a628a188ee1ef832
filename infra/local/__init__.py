"""The embedded local stack: emulator, provisioning, event runtime, persistence."""
