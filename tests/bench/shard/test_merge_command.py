"""The multi-host recipe on loopback: shards run by hand (`--shard i/n --start-at T`), merged."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.cli import main
from bench.commands.merge import check_shards
from bench.errors import BenchError

REPO = Path(__file__).resolve().parents[3]


def test_shards_run_by_hand_start_together_and_merge_into_one_swarm(tmp_path, mqtt_url, capsys):
    start_at = time.time() + 3.0  # time for both interpreters to start and set up
    processes = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "bench", "run", "--mode", "raw", "--agents", "36"),
                *("--duration", "2", "--transport", "mqtt", "--broker", mqtt_url),
                *("--shard", f"{shard}/2", "--start-at", repr(start_at), "--quiet"),
                *("--out", str(tmp_path / f"shard-{shard}.json")),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for shard in (0, 1)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()
    out = tmp_path / "swarm.json"

    assert main(["merge", str(tmp_path / "shard-1.json"), str(tmp_path / "shard-0.json"),
                 "--out", str(out)]) == 0  # fmt: skip
    document = json.loads(out.read_text())
    assert document["status"] == "complete"
    assert document["config"]["workers"] == 2
    assert document["metrics"]["work"]["agents"] == 36
    assert [w["shard"] for w in document["workers"]] == [0, 1]
    assert document["metrics"]["convergence"]["agents_seen_flashing"] > 18
    for shard in (0, 1):  # each started at the given time, not when it was ready
        started = json.loads((tmp_path / f"shard-{shard}.json").read_text())
        assert started["metrics"]["work"]["run_s"] == pytest.approx(2.0, abs=0.5)
    assert "2 shards merged (complete)" in capsys.readouterr().err


def shard(index, count, **config):
    return {"config": {"mode": "raw", "agents": 36, "shard": [index, count], **config}}


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ([], "give the result files of every shard of one swarm"),
        ([{"config": {"shard": None}}], "a.json is not a shard's result: run it with --shard i/n"),
        ([shard(0, 2), shard(0, 3)], "the files are shards of swarms of [2, 3] shards, not of one"),
        ([shard(0, 2), shard(1, 2, seed=7)], "the shards differ in config.seed: 7, None"),
        ([shard(0, 2), shard(0, 2)], "shard 0/2 is given twice: a.json and b.json"),
        ([shard(0, 3), shard(2, 3)], "shard 1/3 is missing: give every shard's result file"),
    ],
    ids=["none", "not-a-shard", "two-swarms", "different-seeds", "twice", "missing"],
)
def test_files_that_are_not_one_whole_swarm_are_refused(documents, message):
    paths = [Path(name) for name in ("a.json", "b.json")][: len(documents)]
    with pytest.raises(BenchError) as raised:
        check_shards(documents, paths)
    assert str(raised.value) == message
