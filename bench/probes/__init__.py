"""Probes: measure the process and its event loop, knowing nothing of the workload."""
