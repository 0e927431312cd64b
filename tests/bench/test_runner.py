"""The runner: a run stopped during set-up records, and divides by, the agents set up."""

import gc
import io
import signal

import pytest
from rich.console import Console

from bench.commands.run import _LineReporter, summary_table
from bench.probes.frame import FrameProbe
from bench.runner import RunSpec, execute
from bench.workload import make_config


class _StopAfterFirstBatch:
    """Presses Ctrl-C (a real SIGINT) when the first 500 agents are set up."""

    def __init__(self) -> None:
        self.reports: list[tuple[int, int]] = []

    def setup(self, done: int, total: int) -> None:
        self.reports.append((done, total))
        if done == 500:
            signal.raise_signal(signal.SIGINT)

    def running(self, elapsed: float, duration: float, flashes: int) -> None:
        pytest.fail("the agents ran although set-up was stopped")


@pytest.fixture(scope="module")
def stopped_in_set_up() -> tuple[dict, list[tuple[int, int]]]:
    reporter = _StopAfterFirstBatch()
    config = make_config(agents=10_000, duration=30.0)
    gc.collect()  # other tests' garbage must not be freed between the census checkpoints
    document = execute(RunSpec("shared", config, clock="virtual"), reporter)
    return document, reporter.reports


def test_a_run_stopped_in_set_up_records_the_agents_set_up(stopped_in_set_up):
    document, reports = stopped_in_set_up
    set_up = reports[-1][0]

    assert document["interrupted"] is True
    assert document["config"]["agents"] == 10_000  # what was asked for
    assert document["metrics"]["work"]["agents"] == set_up
    assert 500 <= set_up < 10_000
    assert reports[-1] == (set_up, 10_000)


def test_per_agent_memory_and_objects_divide_by_the_agents_set_up(stopped_in_set_up):
    document, _ = stopped_in_set_up
    memory, objects = document["metrics"]["memory"], document["metrics"]["objects"]
    agents = document["metrics"]["work"]["agents"]

    rss_growth = memory["rss_after_setup_bytes"] - memory["rss_baseline_bytes"]
    assert memory["rss_per_agent_bytes"] == rss_growth / agents
    object_growth = objects["objects_after_setup"] - objects["objects_baseline"]
    assert objects["objects_per_agent"] == object_growth / agents
    assert objects["objects_per_agent"] > 3  # each agent holds a few objects: not diluted


def test_the_summary_says_how_many_of_the_agents_asked_for_were_set_up(stopped_in_set_up):
    document, reports = stopped_in_set_up

    assert summary_table(document).title == f"shared · {reports[-1][0]:,} of 10,000 agents"


def test_a_complete_set_up_records_every_agent():
    document = execute(RunSpec("raw", make_config(agents=25, duration=2.0), clock="virtual"))

    assert document["metrics"]["work"]["agents"] == 25
    assert document["interrupted"] is False
    assert summary_table(document).title == "raw · 25 agents"


def test_on_the_virtual_clock_flashes_are_not_queued_for_a_frame_loop_that_never_runs(
    monkeypatch,
):
    marked: list[int] = []
    monkeypatch.setattr(FrameProbe, "mark", lambda self, cell: marked.append(cell))

    document = execute(RunSpec("raw", make_config(agents=25, duration=20.0), clock="virtual"))

    assert document["metrics"]["work"]["flashes"] > 50
    assert marked == []  # before, every flash of the run piled up in the probe's queue


def test_plain_progress_says_once_that_set_up_is_complete():
    console = Console(file=io.StringIO(), width=80)
    reporter = _LineReporter(console)

    for done in (500, 1000, 1000):  # the runner reports after its last batch, then again
        reporter.setup(done, 1000)

    assert console.file.getvalue() == "set up 1,000 agents\n"
