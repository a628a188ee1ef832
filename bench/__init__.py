"""Benchmarks: `make bench` runs them and writes BENCHMARKS.md. Measured, never asserted in tests.

They run on the local stage's settings (table and bucket names), as the functions do locally.
"""

import os

from infra.local.environment import stage_environment

for _name, _value in stage_environment("local").items():
    os.environ.setdefault(_name, _value)
