"""Sharding and transport options: refused before any work, with the problem and the fix."""

import pytest

import bench.commands.run
from bench.broker import free_port
from bench.cli import main
from bench.commands.run import RunOptions, build_spec


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a run would start: every check must come before any work."""

    def start(*args, **kwargs):
        pytest.fail("the run started although the input was bad")

    monkeypatch.setattr(bench.commands.run, "execute", start)
    monkeypatch.setattr(bench.commands.run, "run_swarm", start)


MQTT = ["--transport", "mqtt", "--broker", "mqtt://127.0.0.1:1883"]

BAD_INPUT = [
    pytest.param(
        ["--transport", "zeromq"],
        "unknown transport 'zeromq'; choose one of: local, mqtt",
        id="unknown-transport",
    ),
    pytest.param(
        ["--transport", "mqtt"],
        "--transport mqtt needs a broker: give --broker auto or mqtt://host:port",
        id="mqtt-without-broker",
    ),
    pytest.param(
        ["--broker", "auto"],
        "--broker is for --transport mqtt; add --transport mqtt",
        id="broker-without-mqtt",
    ),
    pytest.param(
        ["--transport", "mqtt", "--broker", "http://127.0.0.1:1883"],
        "--broker 'http://127.0.0.1:1883': unsupported scheme",
        id="wrong-scheme",
    ),
    pytest.param(
        ["--workers", "2"],
        "--workers needs --transport mqtt: processes talk through a broker",
        id="workers-without-mqtt",
    ),
    pytest.param(
        [*MQTT, "--agents", "100", "--workers", "11"],
        "--workers must be between 1 and the grid's 10 rows (each worker carries whole rows), "
        "got 11",
        id="more-workers-than-rows",
    ),
    pytest.param(
        [*MQTT, "--workers", "0"],
        "--workers must be between 1 and the grid's 50 rows",
        id="no-workers",
    ),
    pytest.param(
        [*MQTT, "--workers", "2", "--clock", "virtual"],
        "--workers needs the real clock: a virtual clock cannot be shared across processes",
        id="workers-on-the-virtual-clock",
    ),
    pytest.param(
        [*MQTT, "--workers", "2", "--shard", "0/2"],
        "give --workers (run the whole swarm here) or --shard (one part), not both",
        id="workers-and-shard",
    ),
    pytest.param(
        [*MQTT, "--shard", "2/2"],
        "--shard must be i/n with 0 <= i < n, e.g. 0/2, got '2/2'",
        id="shard-out-of-range",
    ),
    pytest.param(
        [*MQTT, "--shard", "half"],
        "--shard must be i/n with 0 <= i < n, e.g. 0/2, got 'half'",
        id="shard-not-a-fraction",
    ),
    pytest.param(
        ["--transport", "mqtt", "--broker", "auto", "--shard", "0/2"],
        "--shard joins a swarm's broker, which every shard must share: "
        "give --broker mqtt://host:port",
        id="shard-on-its-own-broker",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_refused_before_any_work(args, message, tmp_path, capsys, no_work):
    out = tmp_path / "runs" / "x.json"

    status = main(["run", *args, "--quiet", "--out", str(out)])

    assert status == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {message}")
    assert captured.err.count("\n") == 1
    assert not out.parent.exists()


def test_missing_mosquitto_is_refused_with_the_install_command(monkeypatch, capsys, no_work):
    monkeypatch.setattr("shutil.which", lambda *args, **kwargs: None)

    status = main(["run", "--transport", "mqtt", "--broker", "auto", "--quiet"])

    assert status == 2
    err = capsys.readouterr().err
    assert "--broker auto needs mosquitto, which is not installed" in err
    assert "apt-get install mosquitto" in err


def test_a_broker_that_does_not_answer_is_refused_before_any_work(capsys, no_work):
    url = f"mqtt://127.0.0.1:{free_port()}"

    status = main(["run", "--transport", "mqtt", "--broker", url, "--workers", "2", "--quiet"])

    assert status == 2
    assert capsys.readouterr().err == (
        f"error: cannot reach the MQTT broker at {url}: Connection refused; "
        "start it, or give --broker auto\n"
    )


def test_a_shard_carries_its_zone_and_the_grid_is_cut_into_as_many(mqtt_url):
    spec = build_spec(RunOptions(agents=100, transport="mqtt", broker=mqtt_url, shard="1/3"))
    assert spec.shard == (1, 3)
    assert spec.config.zones == 3
    assert spec.delivery  # on by default over MQTT
    assert spec.as_config()["shard"] == [1, 3]


def test_delivery_is_off_by_default_on_the_local_transport_and_can_be_asked_for():
    assert not build_spec(RunOptions(agents=100)).delivery
    assert build_spec(RunOptions(agents=100, delivery=True)).delivery
