"""`python -m bench soak` (what `make soak` runs): one long run, judged for flat memory.

A harness left running overnight must not grow: the run counts gc-tracked objects every
`objects_interval` seconds beside the memory probe's RSS samples, and `bench.soak` judges
the second half. Writes the run document (results/runs/soak-...) and results/soak.md/.json.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bench.commands.run import RunOptions, run_command
from bench.errors import BenchError
from bench.result_file import check_writable, write_json_atomic, write_text_atomic
from bench.schema import load_result
from bench.soak import SoakLimits, as_markdown, judge


@dataclass(frozen=True, slots=True)
class SoakOptions:
    """The command line of `bench soak`, before it is checked."""

    minutes: float = 30.0
    mode: str = "shared"
    agents: int = 2500
    objects_interval: float = 1.0
    limits: SoakLimits = field(default_factory=SoakLimits)
    results_dir: Path = Path("results")
    quiet: bool = False
    clock: str = "real"
    """Not on the command line: tests soak on the virtual clock, in no time."""


def soak_command(options: SoakOptions, argv: list[str] | None = None) -> int:
    """Run, then judge: 0 flat, 1 grew (or could not be judged), 130/143 stopped early."""
    _check(options)
    check_writable(options.results_dir / "soak.json", "--results-dir")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = options.results_dir / "runs" / f"soak-{stamp}-{options.mode}-{options.agents}.json"
    run = RunOptions(
        mode=options.mode,
        agents=options.agents,
        duration=options.minutes * 60,
        out=out,
        quiet=options.quiet,
        objects_interval=options.objects_interval,
        clock=options.clock,
    )
    status = run_command(run, argv)
    console = Console(stderr=True)
    if status not in (0, 130):
        console.print("the soak's run document was not written where asked: not judged")
        return status
    document = load_result(out)
    verdict = judge(document, options.limits)
    markdown = as_markdown(verdict, document, str(out))
    write_json_atomic(options.results_dir / "soak.json", {"verdict": verdict.as_dict()})
    write_text_atomic(options.results_dir / "soak.md", markdown)
    Console(quiet=options.quiet).print(markdown, markup=False, highlight=False)
    console.print(
        f"soak {'passed' if verdict.passed else 'FAILED'}; written to {out} and "
        f"{options.results_dir / 'soak.md'}"
    )
    if document["interrupted"]:
        return status
    return 0 if verdict.passed else 1


def _check(options: SoakOptions) -> None:
    if not (math.isfinite(options.minutes) and options.minutes > 0):
        raise BenchError(f"--minutes must be a number > 0, got {options.minutes}")
    limits = options.limits
    if not (math.isfinite(limits.rss_slope_bytes_per_s) and limits.rss_slope_bytes_per_s >= 0):
        raise BenchError(
            f"--max-rss-slope must be bytes per second >= 0, got {limits.rss_slope_bytes_per_s}"
        )
    if not (math.isfinite(limits.objects_growth) and limits.objects_growth >= 0):
        raise BenchError(
            f"--max-objects-growth must be a fraction >= 0, got {limits.objects_growth}"
        )
