"""The driver's end of a device process (``faults.device_process``): start, command, kill.

A reader thread collects the process's events, so a driver can send commands to many devices
and then wait for all of them, and can kill a device while it is in the middle of one.

Invariants:
- Every ``committed`` event a device ever wrote is kept in ``committed``, across kills and
  restarts of its process: the driver's record of what the user was told was saved.
- A half-written line (the process died while writing it) is ignored, never half-parsed.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


class DeviceDied(Exception):
    """The process ended before answering."""


class CommandFailed(Exception):
    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__(event.get("error", "command failed"))
        self.event = event

    @property
    def transient(self) -> bool:
        return bool(self.event.get("transient"))


class DeviceHandle:
    def __init__(self, home: Path, log_path: Path | None = None) -> None:
        self.home = home
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.committed: dict[int, dict[str, Any]] = {}
        self.device_id: str | None = None
        self._next_id = 0
        self.starts = 0

    # -- process -------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> "DeviceHandle":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.events = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "faults.device_process", "--home", str(self.home)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.starts += 1
        threading.Thread(target=self._read, args=(self.process, self.events), daemon=True).start()
        ready = self._next_event(timeout)
        if ready.get("event") != "ready":
            raise DeviceDied(f"unexpected first event {ready}")
        return self

    def _read(self, process: subprocess.Popen, events: queue.Queue) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            if not raw.endswith(b"\n"):
                break  # the process died mid-line
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            event["_received"] = time.monotonic()  # lets a driver tell what happened before a kill
            if event.get("event") == "committed":
                self.committed[event["seq"]] = event
            events.put(event)
        events.put(None)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, no buffer is flushed, the replica is left as the kernel has it."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self._write({"op": "exit"})
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()

    # -- commands ------------------------------------------------------------------------

    def _write(self, command: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write((json.dumps(command, ensure_ascii=False) + "\n").encode())
        self.process.stdin.flush()

    def send(self, op: str, **fields: Any) -> int:
        self._next_id += 1
        self._write({"op": op, "id": self._next_id, **fields})
        return self._next_id

    def _next_event(self, timeout: float) -> dict[str, Any]:
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"device {self.home.name} said nothing for {timeout:.0f}s") from None
        if event is None:
            self.events.put(None)  # keep saying so to later readers
            raise DeviceDied(f"device process {self.home.name} ended")
        return event

    def wait_event(self, command_id: int, kinds: set[str], timeout: float = 120.0) -> dict[str, Any]:
        """The first event of one of ``kinds`` for ``command_id`` (or the command's end)."""
        deadline = time.monotonic() + timeout
        while True:
            event = self._next_event(max(0.01, deadline - time.monotonic()))
            if event.get("id") != command_id:
                continue
            if event["event"] in kinds or event["event"] in ("done", "error"):
                return event

    def finish(self, command_id: int, timeout: float = 300.0) -> dict[str, Any]:
        """Wait for the command's end; returns its answer event (or ``done``); raises on error."""
        deadline = time.monotonic() + timeout
        answer: dict[str, Any] = {}
        while True:
            event = self._next_event(max(0.01, deadline - time.monotonic()))
            if event.get("id") != command_id:
                continue
            if event["event"] == "error":
                raise CommandFailed(event)
            if event["event"] == "done":
                return answer or event
            if event["event"] not in ("committed", "refused", "phase", "phase_end"):
                answer = event

    def call(self, op: str, timeout: float = 300.0, **fields: Any) -> dict[str, Any]:
        return self.finish(self.send(op, **fields), timeout)
