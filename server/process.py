"""Run the server as a real OS process on 127.0.0.1 (demo, integration tests, benchmarks).

With ``tls_cert`` and ``tls_key`` the process serves HTTPS; ``url`` says so, and the wait for
``/health`` checks the certificate against ``ca`` only (the system store when ``ca`` is None),
so a start that returns has proved the certificate verifies, not merely that a port is open.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server.rate_limits import RateLimits


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _certificate_refused(error: BaseException) -> bool:
    seen: BaseException | None = error
    for _ in range(8):  # the TLS error sits a few causes down under httpx's and httpcore's wrappers
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class ServerProcess:
    """``jcerp server run`` in a child process. ``start`` waits until /health answers."""

    def __init__(self, db_url: str, *, port: int | None = None, workers: int = 1, log_path: Path | None = None,
                 graceful_seconds: float = 1.0, tls_cert: Path | None = None, tls_key: Path | None = None,
                 ca: Path | None = None, admin_password: str | None = None,
                 rate_limits: str | None = None) -> None:
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        self.db_url = db_url
        # The first HQ administrator of an empty database (user ``admin``); tools sign in with it
        # through ``hq_client``. A fresh random password unless one is given.
        self.admin_password = admin_password or secrets.token_urlsafe(16)
        self._admin_token: str | None = None
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.ca = ca
        # What clients of this process check its certificate with (pass it as httpx's ``verify``):
        # ``ca`` alone when given, else the system trust store. Unused over plain http.
        self.verify = ssl.create_default_context(cafile=str(ca) if ca else None)
        self.port = port or free_port()
        self.workers = workers
        self.log_path = log_path
        self.graceful_seconds = graceful_seconds
        # One setting for every limit of server/rate_limits.py ("off" for load tools that enroll
        # hundreds of devices from one address); None keeps the server's own (its environment's).
        self.rate_limits = rate_limits
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls_cert else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        tls = ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)] if self.tls_cert else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jcerp.cli", "server", "run", "--db", self.db_url, "--port", str(self.port),
             "--workers", str(self.workers), "--graceful-seconds", str(self.graceful_seconds), *tls],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "JCERP_ADMIN_USER": "admin",
                 "JCERP_ADMIN_PASSWORD": self.admin_password,
                 **({variable: self.rate_limits for variable in RateLimits.ENV.values()} if self.rate_limits else {})},
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode} (see {self.log_path})")
            try:
                if httpx.get(f"{self.url}/health", timeout=1, verify=self.verify).status_code == 200:
                    return self
            except httpx.TransportError as error:
                if _certificate_refused(error):  # waiting longer cannot fix a certificate
                    self.stop()
                    raise RuntimeError(f"server on {self.url} answered with a certificate that does not verify: "
                                       f"{error}") from error
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"server did not answer on {self.url} within {timeout}s")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def hq_client(self, timeout: float = 60.0) -> httpx.Client:
        """An HTTP client for the HQ API, signed in as the bootstrap administrator."""
        if self._admin_token is None:
            answer = httpx.post(f"{self.url}/api/v1/auth/login", json={"username": "admin", "password": self.admin_password},
                                timeout=timeout, verify=self.verify)
            answer.raise_for_status()
            self._admin_token = answer.json()["token"]
        return httpx.Client(base_url=self.url, timeout=timeout, verify=self.verify,
                            headers={"authorization": f"Bearer {self._admin_token}"})

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
