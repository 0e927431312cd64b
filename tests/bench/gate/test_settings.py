"""[tool.bench.gate] and command-line overrides: checked before anything runs."""

from pathlib import Path

import pytest

import bench
from bench.errors import BenchError
from bench.gate.settings import (
    COUNT_METRICS,
    PER_AGENT_METRICS,
    TIMING_METRICS,
    GateSettings,
    load_settings,
    settings_from,
)
from bench.metrics import BY_PATH

REPO = Path(bench.__file__).resolve().parents[1]

TABLE = """
[project]
name = "x"

[tool.bench.gate]
agents = 400
duration = 2
pairs = 7
modes = ["raw", "shared"]
threshold = 0.2
confidence = 0.9
virtual_agents = 49
virtual_duration = 5.0
tolerance = 0.02
shared_vs_raw = 3

[tool.bench.gate.thresholds]
"loop_lag.p99_ms" = 0.15
"""


@pytest.fixture
def pyproject(tmp_path):
    def write(text=TABLE):
        path = tmp_path / "pyproject.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_every_value_is_read_from_the_table(pyproject):
    settings = load_settings(pyproject())
    assert settings == GateSettings(
        agents=400,
        duration=2.0,
        pairs=7,
        modes=("raw", "shared"),
        threshold=0.2,
        confidence=0.9,
        virtual_agents=49,
        virtual_duration=5.0,
        tolerance=0.02,
        shared_vs_raw=3.0,
        thresholds={"loop_lag.p99_ms": 0.15, "frame.flush_p99_ms": 0.25},
    )
    assert isinstance(settings.duration, float) and isinstance(settings.shared_vs_raw, float)
    assert settings.threshold_for("loop_lag.p99_ms") == 0.15
    assert settings.threshold_for("work.cpu_us_per_generation") == 0.2


def test_overrides_win_and_none_is_ignored(pyproject):
    overrides = {"agents": 16, "modes": ["shared"], "pairs": None, "threshold": None}
    settings = load_settings(pyproject(), overrides)
    assert settings.agents == 16 and settings.modes == ("shared",)
    assert settings.pairs == 7 and settings.threshold == 0.2


def test_a_missing_file_gives_the_defaults(tmp_path):
    assert load_settings(tmp_path / "nope.toml") == GateSettings()
    assert load_settings(tmp_path / "nope.toml", {"pairs": 6}).pairs == 6


def test_a_file_without_the_table_gives_the_defaults(pyproject):
    assert load_settings(pyproject('[project]\nname = "x"\n')) == GateSettings()


def test_defaults_are_every_mode_and_the_documented_values():
    settings = GateSettings()
    assert settings.modes == ("per_agent", "shared", "raw")
    assert (settings.pairs, settings.threshold) == (7, 0.10)
    assert settings.as_dict()["modes"] == ["per_agent", "shared", "raw"]
    # Tail latencies are judged at 25% unless a table says otherwise.
    assert settings.as_dict()["thresholds"] == {"loop_lag.p99_ms": 0.25, "frame.flush_p99_ms": 0.25}
    assert settings.threshold_for("work.cpu_us_per_generation") == 0.10


def test_modes_as_text_are_split_and_deduplicated():
    assert settings_from({"modes": "raw, shared raw"}).modes == ("raw", "shared")


def test_an_unknown_key_is_named(pyproject):
    with pytest.raises(BenchError, match=r"unknown key\(s\) agnets, paris") as error:
        load_settings(pyproject("[tool.bench.gate]\nagnets = 400\nparis = 5\n"))
    assert "pyproject.toml [tool.bench.gate]" in str(error.value)


def test_an_unknown_override_is_named(tmp_path):
    with pytest.raises(BenchError, match="unknown key"):
        load_settings(tmp_path / "nope.toml", {"agentz": 4})


def test_a_broken_file_is_a_bench_error(pyproject):
    with pytest.raises(BenchError, match="cannot read"):
        load_settings(pyproject("[tool.bench.gate\n"))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"pairs": 4}, "pairs must be at least 5, got 4"),
        ({"pairs": 5.0}, "pairs must be an integer, got 5.0"),
        ({"agents": True}, "agents must be an integer"),
        ({"confidence": 1.5}, "confidence must be between 0 and 1, got 1.5"),
        ({"confidence": 0}, "confidence must be between 0 and 1"),
        ({"threshold": -0.1}, r"threshold must be a fraction in \[0, 1\), got -0.1"),
        ({"threshold": "10%"}, "threshold must be a finite number, got '10%'"),
        ({"tolerance": 1.0}, "tolerance must be a fraction"),
        ({"shared_vs_raw": 0.5}, "shared_vs_raw must be at least 1"),
        (
            {"modes": ["shared", "fast"]},
            "unknown mode 'fast'; choose from per_agent, shared, bare, raw",
        ),
        ({"modes": []}, "modes must be a non-empty list"),
        ({"agents": 10}, "agents must be a square number"),
        ({"virtual_agents": 50}, "virtual_agents must be a square number"),
        ({"duration": 0}, "duration must be > 0"),
        ({"virtual_duration": -1.0}, "virtual_duration must be > 0"),
        ({"thresholds": {"work.generations": 0.1}}, "thresholds.work.generations: not a timing"),
        (
            {"thresholds": {"loop_lag.p99_ms": 1.5}},
            r"thresholds.loop_lag.p99_ms must be a fraction",
        ),
        ({"thresholds": 0.1}, "thresholds must be a table"),
        ({"instructions": "yes"}, "instructions must be true or false"),
        ({"instruction_threshold": 1.0}, "instruction_threshold must be a fraction"),
        ({"instruction_duration": 0}, "instruction_duration must be > 0"),
        ({"instruction_warmup": -1.0}, "instruction_warmup must be at least 0 seconds"),
    ],
)
def test_bad_values_are_refused_with_a_useful_message(table, message):
    with pytest.raises(BenchError, match=message) as error:
        settings_from(table, where="here")
    assert str(error.value).startswith("here: ")


def test_a_bad_value_in_the_file_names_the_file(pyproject):
    with pytest.raises(BenchError, match=r"pyproject.toml \[tool.bench.gate\]: pairs must"):
        load_settings(pyproject("[tool.bench.gate]\npairs = 3\n"))


def test_a_bad_override_is_refused(pyproject):
    with pytest.raises(BenchError, match="pairs must be at least 5, got 3"):
        load_settings(pyproject(), {"pairs": 3})


SQUARE = "must be a square number (agents sit on a square grid), got 10: the nearest are 9 (3x3) "
SQUARE += "and 16 (4x4)"
UNKNOWN = "unknown mode 'nope'; choose from per_agent, shared, bare, raw"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pairs": 3}, "--pairs must be at least 5, got 3"),
        ({"threshold": 2.0}, "--threshold must be a fraction in [0, 1), got 2.0"),
        ({"threshold": float("nan")}, "--threshold must be a finite number, got nan"),
        ({"confidence": 1.5}, "--confidence must be between 0 and 1, got 1.5"),
        (
            {"modes": ["nope"]},
            f"--modes: {UNKNOWN}",
        ),
        ({"agents": 10}, f"--agents {SQUARE}"),
        ({"agents": 4}, "--agents must be at least 9 (a 3x3 grid), got 4"),
        ({"duration": 0.0}, "--duration must be > 0 seconds, got 0.0"),
    ],
)
def test_a_bad_override_names_its_option_not_the_file(pyproject, overrides, message):
    with pytest.raises(BenchError) as error:
        load_settings(pyproject(), overrides)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("pairs = 3", "pairs must be at least 5, got 3"),
        ("threshold = 2", "threshold must be a fraction in [0, 1), got 2.0"),
        ('modes = ["nope"]', f"modes: {UNKNOWN}"),
        ("agents = 10", f"agents {SQUARE}"),
        ("virtual_agents = 10", f"virtual_agents {SQUARE}"),
        ("virtual_duration = 0", "virtual_duration must be > 0 seconds, got 0.0"),
    ],
)
def test_a_bad_value_in_the_file_names_the_file_and_key(pyproject, table, message):
    path = pyproject(f"[tool.bench.gate]\n{table}\n")
    with pytest.raises(BenchError) as error:
        load_settings(path, {"pairs": None, "modes": None})  # None: not given
    assert str(error.value) == f"{path} [tool.bench.gate]: {message}"


def test_an_override_replaces_a_bad_value_in_the_file(pyproject):
    path = pyproject("[tool.bench.gate]\npairs = 3\n")
    assert load_settings(path, {"pairs": 6}).pairs == 6


def test_the_repositorys_own_settings_load():
    settings = load_settings(REPO / "pyproject.toml")
    assert settings.pairs >= 5
    assert set(settings.modes) == {"per_agent", "shared", "raw"}
    assert 0 < settings.threshold < 1 and 0 < settings.confidence < 1


def test_the_defaults_are_the_repositorys_settings():
    # A checkout without [tool.bench.gate] (or a copy of bench/ alone) judges the same way.
    assert load_settings(REPO / "pyproject.toml") == GateSettings()


def test_every_gate_metric_is_a_known_metric():
    for path in (*TIMING_METRICS, *COUNT_METRICS, *PER_AGENT_METRICS):
        assert path in BY_PATH, path
    assert all(BY_PATH[path].deterministic for path in COUNT_METRICS)


def test_a_nan_factor_is_refused():
    with pytest.raises(BenchError, match="shared_vs_raw"):
        settings_from({"shared_vs_raw": float("nan")})


def test_a_nested_modes_list_is_a_bench_error():
    with pytest.raises(BenchError, match="mode"):
        settings_from({"modes": [["raw"]]})
