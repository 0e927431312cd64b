"""bench: the harness that measures cascade (firefly workload, probes, runners, gate, report)."""
