"""`python -m bench`: the project's main job (for now, the engine smoke demonstration)."""

from __future__ import annotations

import argparse
import sys

from bench.smoke import LAYOUTS, format_table, run_smoke


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the smoke demonstration and print its table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--agents", type=_positive, default=400)
    parser.add_argument("--generations", type=_positive, default=50)
    parser.add_argument("--layouts", nargs="+", choices=list(LAYOUTS), default=list(LAYOUTS))
    args = parser.parse_args(argv)
    print(
        f"cascade smoke demonstration: {args.agents} agents x {args.generations} tail-call "
        "generations per layout (one run each, this machine, not a benchmark suite)"
    )
    print(format_table(run_smoke(args.agents, args.generations, args.layouts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
