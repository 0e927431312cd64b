"""`bench run --instructions`: refused before any work without valgrind or on another
workload; after the run, the count lands in `metrics.instructions` (faked, but one real)."""

import json
import shutil

import pytest

import bench.commands.run
from bench.cli import main
from bench.commands.run import RunOptions, check_instructions
from bench.cost.measure import Cost
from bench.cost.segments import Figures
from bench.cost.valgrind import INSTALL_HINT
from bench.errors import BenchError
from bench.schema import SCHEMA_VERSION
from bench.suite.instructions import Counted, instruction_agents

VIRTUAL = ["run", "--mode", "raw", "--agents", "16", "--duration", "1", "--clock", "virtual"]


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a run would start: every check must come before any work."""

    def execute(*args, **kwargs):
        pytest.fail("the run started although the input was bad")

    monkeypatch.setattr(bench.commands.run, "execute", execute)


@pytest.fixture
def counts(monkeypatch):
    """Instant fake counts; the list records each child measured."""
    children = []

    def measure_each(found, valgrind):
        children.extend(found)
        figures = Figures(612_345.6, 650_000.0, 100_000.0)
        return [
            Counted(c, "2026-12-06T00:00:00+00:00", cost=Cost(c, figures, [], [], ["vg"]))
            for c in found
        ]

    monkeypatch.setattr(bench.commands.run, "find_valgrind", lambda: "/usr/bin/valgrind")
    monkeypatch.setattr(bench.commands.run, "valgrind_version", lambda path: "valgrind-3.19.0")
    monkeypatch.setattr(bench.commands.run, "measure_each", measure_each)
    return children


def test_without_valgrind_it_is_refused_before_any_work(monkeypatch, tmp_path, capsys, no_work):
    def missing():
        raise BenchError(f"valgrind is not installed: `{INSTALL_HINT}` (Debian/Ubuntu)")

    monkeypatch.setattr(bench.commands.run, "find_valgrind", missing)
    out = tmp_path / "runs" / "x.json"
    assert main([*VIRTUAL, "--instructions", "--quiet", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error: --instructions: valgrind is not installed: `sudo apt-get install valgrind` "
        "(Debian/Ubuntu)\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            RunOptions(transport="mqtt", broker="auto"),
            "--instructions counts one process over the in-memory broker: drop --transport mqtt "
            "(and --workers, --shard), or --instructions",
        ),
        (
            RunOptions(loop="uvloop"),
            "--instructions counts the asyncio loop: drop --loop, or --instructions",
        ),
        (
            RunOptions(period=2.0),
            "--instructions counts the default period (5 s) and nudge (0.2 s): drop --period "
            "and --nudge, or --instructions",
        ),
    ],
)
def test_another_workload_than_the_count_is_refused(options, message):
    with pytest.raises(BenchError) as refused:
        check_instructions(options)
    assert str(refused.value) == message


def test_a_non_default_nudge_is_refused_before_any_work(tmp_path, capsys, no_work, counts):
    assert main([*VIRTUAL, "--nudge", "0.3", "--instructions", "--quiet"]) == 2
    assert "error: --instructions counts the default period" in capsys.readouterr().err
    assert counts == []


@pytest.mark.parametrize(
    ("agents", "cap", "counted"),
    [(9, 400, 9), (16, 400, 16), (400, 400, 400), (900, 400, 400), (2500, 400, 400),
     (2500, 100, 100), (400, 50, 49), (16, 4, 9)],
)  # fmt: skip
def test_the_count_has_the_runs_agents_up_to_a_square_cap(agents, cap, counted):
    assert instruction_agents(agents, cap) == counted


def test_after_the_run_the_count_is_in_the_document_and_the_table(tmp_path, capsys, counts):
    out = tmp_path / "x.json"
    assert main([*VIRTUAL, "--seed", "7", "--instructions", "--out", str(out)]) == 0
    (child,) = counts
    assert (child.mode, child.agents, child.seed) == ("raw", 16, 7)
    assert (child.warmup, child.duration) == (1.0, 2.0)
    document = json.loads(out.read_text())
    assert document["metrics"]["instructions"] == {
        "per_generation": 612_345.6,
        "per_message": 650_000.0,
        "per_agent_setup": 100_000.0,
        "agents": 16,
        "warmup_s": 1.0,
        "duration_s": 2.0,
        "valgrind": "valgrind-3.19.0",
    }
    assert document["schema"] == SCHEMA_VERSION and document["errors"]["probes"] == {}
    captured = capsys.readouterr()
    assert "instructions per generation (16 agents, valgrind)" in captured.out
    assert "612,345.6" in captured.out
    assert "counting instructions per generation under valgrind: raw, 16 agents" in captured.err


def test_a_failed_count_is_noted_as_a_failed_probe_and_the_run_kept(tmp_path, monkeypatch, counts):
    def measure_each(found, valgrind):
        return [
            Counted(c, "2026-12-06T00:00:00+00:00", error="the measured run failed") for c in found
        ]

    monkeypatch.setattr(bench.commands.run, "measure_each", measure_each)
    out = tmp_path / "x.json"
    assert main([*VIRTUAL, "--instructions", "--quiet", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert "instructions" not in document["metrics"]
    assert document["errors"]["probes"] == {
        "instructions": "measure: BenchError: the measured run failed"
    }


def test_ctrl_c_while_counting_keeps_the_run_with_exit_130(tmp_path, monkeypatch, counts):
    def measure_each(found, valgrind):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench.commands.run, "measure_each", measure_each)
    out = tmp_path / "x.json"
    assert main([*VIRTUAL, "--instructions", "--quiet", "--out", str(out)]) == 130
    document = json.loads(out.read_text())
    assert document["metrics"]["work"]["flashes"] > 0
    assert document["errors"]["probes"]["instructions"].startswith("measure: KeyboardInterrupt")


@pytest.mark.skipif(
    shutil.which("valgrind") is None, reason=f"valgrind is not installed: {INSTALL_HINT}"
)
def test_one_real_count_of_a_tiny_swarm(tmp_path):
    """One real valgrind run (raw, 9 agents: about 5 s), end to end through the command."""
    out = tmp_path / "x.json"
    args = ["run", "--mode", "raw", "--agents", "9", "--duration", "1", "--clock", "virtual"]
    assert main([*args, "--instructions", "--quiet", "--out", str(out)]) == 0
    counted = json.loads(out.read_text())["metrics"]["instructions"]
    assert counted["agents"] == 9 and counted["valgrind"].startswith("valgrind-")
    assert counted["per_generation"] > 10_000 and counted["per_agent_setup"] > 0
