"""`python -m bench cost`: deterministic instruction counts per generation under valgrind.

Pure parts: `callgrind` (the callgrind.out parser, per-function figures, top movers) and
`difference` (steady state by difference). Process-running parts: `valgrind` (the command
line, running it) and `child` (the workload run in the measured process).
"""
