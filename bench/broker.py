"""A broker the harness can start: mosquitto on 127.0.0.1 at a free port, in its own process.

`--broker auto` starts one for the run (generated config and log in a temp folder, the
folder removed at the end unless the broker failed, when its log is kept and named);
`--broker mqtt://host:port` uses an existing broker, which the harness never stops.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.errors import BenchError

INSTALL_HINT = (
    "install it with `sudo apt-get install mosquitto` (Debian/Ubuntu) "
    "or `brew install mosquitto` (macOS)"
)
AUTO = "auto"
_READY_TIMEOUT_S = 10.0
_STOP_GRACE_S = 3.0
_REACH_TIMEOUT_S = 5.0

CONFIG = """\
# Written by bench/broker.py for one run; see docs/scaling.md.
listener {port} 127.0.0.1
allow_anonymous true
persistence false
log_dest file {log}
log_type error
log_type warning
log_type notice
# $SYS/broker/... counters every second: the harness reads the broker's message rates there.
sys_interval 1
# Send each message at once: with Nagle's algorithm a lone small message can wait for the
# client's delayed ACK, 40 ms on Linux (measured here: delivery p99 44 ms at 400 agents).
set_tcp_nodelay true
"""


def parse_url(url: str, option: str = "--broker") -> tuple[str, int]:
    """Split `mqtt://host[:port]` into (host, port); BenchError naming `option` otherwise."""
    from cascade.connectors.mqtt import parse_url as parse

    try:
        return parse(url)
    except ValueError as error:
        raise BenchError(f"{option} {url!r}: {error}; or give {option} auto") from None


def check_broker_option(value: str) -> None:
    """Refuse, before any work, a --broker that is neither `auto` (with mosquitto installed)
    nor the URL of a broker that accepts connections."""
    if value == AUTO:
        mosquitto_path()
        return
    host, port = parse_url(value)
    try:
        socket.create_connection((host, port), timeout=_REACH_TIMEOUT_S).close()
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise BenchError(
            f"cannot reach the MQTT broker at {value}: {reason}; start it, or give --broker auto"
        ) from None


def mosquitto_path() -> str:
    """The mosquitto executable (PATH, then /usr/sbin), or a BenchError with the install command."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise BenchError(f"--broker auto needs mosquitto, which is not installed: {INSTALL_HINT}")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mosquitto:
    """One mosquitto process on 127.0.0.1: `start()`, `url`, `stop()`; also a context manager.

    `kill()` and `start()` again (same port) let tests take the broker away mid-run.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="bench-mosquitto-"))
        self.config = self.folder / "mosquitto.conf"
        self.log = self.folder / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.failed = False

    @property
    def url(self) -> str:
        """Where clients connect: mqtt://127.0.0.1:<port>."""
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return None if self._process is None else self._process.pid

    def running(self) -> bool:
        """Tell whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Mosquitto:
        """Start the broker and wait until it accepts connections; BenchError if it cannot."""
        self.config.write_text(CONFIG.format(port=self.port, log=self.log), encoding="utf-8")
        with open(self.folder / "stderr.log", "ab") as stderr:
            self._process = subprocess.Popen(
                [mosquitto_path(), "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # Ctrl-C in the terminal is the harness's to handle
            )
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while not _accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.failed = True
                self.stop()
                raise BenchError(
                    f"mosquitto did not start on port {self.port}: {self.log_tail()} "
                    f"(config and log kept in {self.folder})"
                )
            time.sleep(0.02)
        return self

    def kill(self) -> None:
        """Kill the broker at once (SIGKILL), as a crash would; `start()` brings it back."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL); remove its folder unless it failed."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(_STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            elif process.returncode not in (0, -signal.SIGKILL):
                self.failed = True
        if not self.failed:
            shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the broker's log and stderr, for error messages."""
        text = ""
        for path in (self.log, self.folder / "stderr.log"):
            with contextlib.suppress(OSError):
                text += path.read_text(encoding="utf-8", errors="replace")
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(tail) if tail else "no output"

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Mosquitto {self.url} {'running' if self.running() else 'stopped'}>"


@contextlib.contextmanager
def broker_for(option: str) -> Iterator[tuple[str, Mosquitto | None]]:
    """(URL, the broker started for it) for `--broker option`: a new mosquitto for `auto`,
    stopped on the way out; an existing broker's URL as it is, with None."""
    if option != AUTO:
        yield option, None
        return
    with Mosquitto() as mosquitto:
        yield mosquitto.url, mosquitto


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
