"""`earshot app` as a supervisor runs it: a real server process, stopped with a real SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LISTEN = "0A"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as the kernel lists them) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == LISTEN and int(port_hex, 16) == port:
                found.add(address)
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_the_app_and_its_server_and_it_listens_on_loopback_only(tmp_path: Path) -> None:
    port = _free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "earshot", "--data-dir", str(tmp_path), "app", "--port", str(port)],
        start_new_session=True,  # its own process group: whatever it starts is found by the group id
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert launcher.poll() is None, "the app exited on its own"
            assert time.monotonic() < deadline, "the app never answered"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        assert _listening_addresses(port) == {LOOPBACK}

        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=15)
        deadline = time.monotonic() + 10
        while _group_alive(launcher.pid):
            assert time.monotonic() < deadline, "a process of the app outlived SIGTERM"
            time.sleep(0.1)
        assert _listening_addresses(port) == set()
    finally:
        if _group_alive(launcher.pid):
            os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait(timeout=10)
