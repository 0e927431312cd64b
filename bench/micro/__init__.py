"""Micro-benchmarks of the engine's primitives (pytest-benchmark): `make micro`, not `make test`."""
