"""Sharded runs end to end, against a real mosquitto: the swarm, and every way it can go wrong.

Each test runs `python -m bench run --workers 2` as its own process, as a user would, and
reads the merged document it writes.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bench.broker import Mosquitto

REPO = Path(__file__).resolve().parents[3]
SWARM = ["--agents", "36", "--transport", "mqtt", "--workers", "2"]


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    out, err = tmp_path / "swarm.json", tmp_path / "stderr.txt"
    with err.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench",
                "run",
                "--mode",
                "shared",
                *SWARM,
                *args,
                "--out",
                str(out),
            ],  # a later --mode wins
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return process, out, err


def wait_until_running(process: subprocess.Popen[bytes], err: Path) -> None:
    deadline = time.monotonic() + 30.0
    while b"workers ready" not in err.read_bytes():
        assert process.poll() is None, err.read_text(errors="replace")
        assert time.monotonic() < deadline, err.read_text(errors="replace")
        time.sleep(0.05)


def finish(process: subprocess.Popen[bytes], timeout: float = 60) -> int:
    try:
        return process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def workers_of(process: subprocess.Popen[bytes]) -> dict[int, psutil.Process]:
    children = psutil.Process(process.pid).children()
    return {
        int(child.cmdline()[child.cmdline().index("--shard") + 1].split("/")[0]): child
        for child in children
        if "--shard" in child.cmdline()
    }


@pytest.mark.parametrize("mode", ["shared", "per_agent", "bare", "raw"])
def test_a_swarm_of_two_workers_runs_through_the_broker_and_merges(tmp_path, mqtt_url, mode):
    process, out, err = start(tmp_path, "--broker", mqtt_url, "--duration", "3", "--mode", mode)

    assert finish(process) == 0, err.read_text()
    document = json.loads(out.read_text())
    metrics = document["metrics"]
    assert document["status"] == "complete"
    assert document["config"]["mode"] == mode
    assert document["config"]["workers"] == 2
    assert [w["shard"] for w in document["workers"]] == [0, 1]
    assert [w["metrics"]["work"]["agents"] for w in document["workers"]] == [18, 18]
    assert metrics["work"]["agents"] == 36
    assert metrics["work"]["flashes"] > 0
    assert metrics["convergence"]["agents_seen_flashing"] > 18  # shard 0 sees both halves
    assert metrics["delivery"]["count"] > 0
    assert metrics["transport"]["lost"] == 0
    assert metrics["broker"]["clients_connected_max"] >= 2
    assert {p.name for p in tmp_path.iterdir()} == {"swarm.json", "stderr.txt"}


def test_broker_auto_starts_a_broker_for_the_run_and_stops_it(tmp_path):
    process, out, err = start(tmp_path, "--broker", "auto", "--duration", "2")

    assert finish(process) == 0, err.read_text()
    said = re.search(r"broker mqtt://127\.0\.0\.1:(\d+) \(started for this run\)", err.read_text())
    assert said is not None, err.read_text()
    document = json.loads(out.read_text())
    assert document["metrics"]["broker"]["cpu_s"] is not None  # its own broker: CPU measured
    with socket.socket() as probe:  # nothing listens there any more: it was stopped
        assert probe.connect_ex(("127.0.0.1", int(said[1]))) != 0


def test_a_crashed_worker_stops_the_others_and_the_run_is_marked_failed(tmp_path, mqtt_url):
    process, out, err = start(tmp_path, "--broker", mqtt_url, "--duration", "30")
    wait_until_running(process, err)
    workers = workers_of(process)
    workers[1].kill()

    assert finish(process) == 1
    stderr = err.read_text()
    assert "error: worker 1: killed by SIGKILL" in stderr
    document = json.loads(out.read_text())
    assert document["status"] == "failed"
    assert document["errors"]["workers"][0]["shard"] == 1
    assert [w["shard"] for w in document["workers"]] == [0]  # the survivor's result is kept
    assert document["workers"][0]["metrics"]["work"]["run_s"] < 20
    assert not workers[0].is_running()


def test_a_broker_lost_mid_run_is_counted_and_the_run_marked_degraded(tmp_path):
    with Mosquitto() as broker:
        process, out, err = start(tmp_path, "--broker", broker.url, "--duration", "4")
        wait_until_running(process, err)
        time.sleep(1.0)
        broker.kill()
        time.sleep(1.0)
        broker.start()  # same port: the workers reconnect

        assert finish(process) == 0, err.read_text()
    assert "warning: the broker connection was lost during the run" in err.read_text()
    document = json.loads(out.read_text())
    transport = document["metrics"]["transport"]
    assert document["status"] == "degraded"
    assert transport["disconnects"] >= 2  # each worker lost it
    assert transport["reconnects"] >= 2
    assert transport["lost"] > 0  # publishes while it was down, counted
    assert document["metrics"]["work"]["flashes"] > 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_stopped_swarm_stops_every_worker_and_keeps_what_they_measured(
    signum, tmp_path, mqtt_url
):
    process, out, err = start(tmp_path, "--broker", mqtt_url, "--duration", "30")
    wait_until_running(process, err)
    workers = workers_of(process)
    time.sleep(1.0)
    os.kill(process.pid, signum)

    assert finish(process) == 130, err.read_text()
    document = json.loads(out.read_text())
    assert document["status"] == "interrupted"
    assert document["interrupted"] is True
    assert [w["shard"] for w in document["workers"]] == [0, 1]
    assert all(w["interrupted"] for w in document["workers"])
    assert 0 < document["metrics"]["work"]["run_s"] < 20
    assert not any(worker.is_running() for worker in workers.values())
