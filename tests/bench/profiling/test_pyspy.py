"""The py-spy shell: finding it, ptrace checks, its command line, its failures (exact text)."""

import stat
import sys
from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.profiling.pyspy import (
    Sampling,
    check_ptrace,
    find_py_spy,
    ptrace_refusal,
    pyspy_failure,
    record,
    record_command,
)

PERMISSION = (
    "py-spy was not permitted to trace the run (ptrace refused); grant it by running as root, "
    "by giving the CAP_SYS_PTRACE capability (docker: --cap-add SYS_PTRACE), "
    "or with `sysctl kernel.yama.ptrace_scope=0`"
)
PY_SPY_SAYS_PERMISSION = (
    "Permission Denied: Try running again with elevated permissions by going "
    "'sudo env \"PATH=$PATH\" !!'"
)


def fake_tool(folder: Path, name: str, script: str) -> Path:
    """An executable shell script standing in for a tool."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_py_spy_next_to_the_interpreter_comes_first(tmp_path):
    beside = fake_tool(tmp_path / "bin", "py-spy", "exit 0")

    assert find_py_spy(tmp_path / "bin" / "python", which=lambda name: "/usr/bin/py-spy") == beside


def test_py_spy_on_path_is_the_fallback(tmp_path):
    assert find_py_spy(tmp_path / "python", which=lambda name: "/opt/py-spy") == Path("/opt/py-spy")


def test_missing_py_spy_says_where_it_looked_and_how_to_install_it(tmp_path):
    python = tmp_path / "bin" / "python"

    with pytest.raises(BenchError) as error:
        find_py_spy(python, which=lambda name: None)

    assert str(error.value) == (
        f"py-spy is not installed: it is neither next to {python} nor on PATH; install the "
        "project's dependencies (make setup) or `pip install 'py-spy>=0.3.14,<0.5'`"
    )


def test_this_environment_has_py_spy():
    assert find_py_spy().name == "py-spy"


@pytest.mark.parametrize(
    ("scope", "can_ptrace", "message"),
    [
        (None, False, None),
        (0, False, None),
        (1, False, None),  # py-spy starts the run itself: a parent may trace its child
        (2, True, None),
        (
            2,
            False,
            "py-spy cannot sample: kernel.yama.ptrace_scope is 2 (only CAP_SYS_PTRACE may "
            "ptrace); grant it by running as root, by giving the CAP_SYS_PTRACE capability "
            "(docker: --cap-add SYS_PTRACE), or with `sysctl kernel.yama.ptrace_scope=0`",
        ),
        (
            3,
            True,
            "py-spy cannot sample: kernel.yama.ptrace_scope is 3 (ptrace disabled until the "
            "next boot); boot with kernel.yama.ptrace_scope=0 or 1",
        ),
    ],
)
def test_ptrace_refusal(scope, can_ptrace, message):
    assert ptrace_refusal(scope, can_ptrace) == message


def fake_proc(tmp_path: Path, scope: str | None, cap_eff: str) -> Path:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "status").write_text(f"Name:\tpython\nCapEff:\t{cap_eff}\n")
    if scope is not None:
        (proc / "sys/kernel/yama").mkdir(parents=True)
        (proc / "sys/kernel/yama/ptrace_scope").write_text(f"{scope}\n")
    return proc


def test_check_ptrace_reads_yama_and_the_capability(tmp_path):
    without_cap = fake_proc(tmp_path / "a", "2", "0000000000000000")
    with_cap = fake_proc(tmp_path / "b", "2", f"{1 << 19:016x}")
    no_yama = fake_proc(tmp_path / "c", None, "0000000000000000")

    with pytest.raises(BenchError, match=r"ptrace_scope is 2 \(only CAP_SYS_PTRACE"):
        check_ptrace(without_cap)
    check_ptrace(with_cap)
    check_ptrace(no_yama)


def test_record_command():
    command = record_command(
        Path("/bin/py-spy"), "speedscope", Path("/o/x.json"), Sampling(250, idle=True), ["p", "-m"]
    )

    assert command == [
        "/bin/py-spy", "record", "--format", "speedscope", "--output", "/o/x.json",
        "--rate", "250", "--idle", "--", "p", "-m",
    ]  # fmt: skip
    assert "--native" in record_command(Path("s"), "raw", Path("o"), Sampling(native=True), [])
    assert "--gil" in record_command(Path("s"), "raw", Path("o"), Sampling(gil=True), [])
    assert record_command(Path("s"), "raw", Path("o"), Sampling(), []) == [
        "s", "record", "--format", "raw", "--output", "o", "--rate", "100", "--",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "output",
    [
        PY_SPY_SAYS_PERMISSION,
        "Permission Denied\n\nIt looks like you are running in a docker container. Please make "
        "sure you started your container with the SYS_PTRACE capability.",
        "Error: Failed to attach\nReason: Operation not permitted (os error 1)",
    ],
)
def test_a_permission_failure_says_what_grants_ptrace(output):
    assert pyspy_failure(1, output) == PERMISSION


def test_another_failure_shows_the_end_of_py_spy_output():
    output = "\n".join(f"line {i}" for i in range(30)) + "\n\n"

    assert pyspy_failure(1, output) == (
        "py-spy failed (exit status 1):\n" + "\n".join(f"line {i}" for i in range(15, 30))
    )


def test_record_turns_a_refused_attach_into_the_advice(tmp_path):
    fake = fake_tool(tmp_path, "py-spy", f"echo '{PY_SPY_SAYS_PERMISSION}' >&2\nexit 1")
    command = record_command(fake, "speedscope", tmp_path / "x.json", Sampling(), [sys.executable])

    with pytest.raises(BenchError) as error:
        record(command, tmp_path)

    assert str(error.value) == PERMISSION


def test_record_returns_the_output_of_a_successful_recording(tmp_path):
    fake = fake_tool(tmp_path, "py-spy", "echo 'py-spy> Samples: 3 Errors: 0'")

    finished = record([str(fake)], tmp_path)

    assert (finished.returncode, finished.output, finished.interrupted) == (
        0,
        "py-spy> Samples: 3 Errors: 0\n",
        False,
    )
