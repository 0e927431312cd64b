"""`python -m bench report` (what `make report` runs): one suite, or two compared, as a report.

Reads pyperf suites (default `results/latest.json`) and the raw runs behind them; writes
ONE self-contained `report.html` (plots inline) and `report.md` with its plots in
`report_files/`, in `--out-dir`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bench.errors import BenchError
from bench.report.build import Report, build_report
from bench.report.data import load_suite
from bench.report.render_html import render_html
from bench.report.render_markdown import FILES_DIR, plot_path, render_markdown
from bench.result_file import check_writable, write_text_atomic

DEFAULT_SUITE = Path("results/latest.json")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """The command line of `bench report`."""

    suites: list[Path] = field(default_factory=list)
    out_dir: Path = Path("results")
    quiet: bool = False


def report_command(options: ReportOptions) -> int:
    """Write the report; 0 when written (bad input raises BenchError)."""
    paths = options.suites or [DEFAULT_SUITE]
    if len(paths) > 2:
        raise BenchError(f"give one suite, or two to compare (OLD NEW); got {len(paths)}")
    check_writable(options.out_dir / "report.html", "--out-dir")
    report = build_report([load_suite(path) for path in paths])
    write_report(report, options.out_dir)
    console = Console(stderr=True, quiet=options.quiet)
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    console.print(f"report written to {options.out_dir / 'report.html'} (and report.md)")
    return 0


def write_report(report: Report, out_dir: Path) -> None:
    """The PNGs first (stale ones removed), then report.md and report.html, each atomically."""
    files = out_dir / FILES_DIR
    files.mkdir(parents=True, exist_ok=True)
    plots = [
        *report.plots,
        *([report.comparison.plot] if report.comparison and report.comparison.plot else []),
    ]
    wanted = {out_dir / plot_path(plot): plot.png for plot in plots}
    for stale in set(files.glob("*.png")) - set(wanted):
        stale.unlink()
    for path, png in wanted.items():
        path.write_bytes(png)
    write_text_atomic(out_dir / "report.md", render_markdown(report))
    write_text_atomic(out_dir / "report.html", render_html(report))
