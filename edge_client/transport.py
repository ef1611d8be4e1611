"""HTTP transport of the sync protocol for devices (httpx, MessagePack bodies).

Two kinds of failure, kept apart because the client reacts differently:
- ``Unreachable``: the request may or may not have reached the server (connect error, timeout,
  broken stream). Safe to retry: push is idempotent by sequence, pull and bootstrap are reads.
- ``ServerRefused``: the server answered with a problem detail; ``code`` says what to do.
"""

from __future__ import annotations

from typing import Any, Iterator, TypeVar

import httpx
import msgspec

from protocol import PROTOCOL_VERSION
from protocol.base import MSGPACK, decode, encode
from protocol.bootstrap import BootstrapChunk, BootstrapDone, BootstrapRequest, BootstrapStart, iter_frames
from protocol.checksum import ChecksumRequest, ChecksumResponse
from protocol.enroll import EnrollRequest, EnrollResponse
from protocol.pull import PullRequest, PullResponse
from protocol.push import PushRequest, PushResponse
from sync.schema import SCHEMA_VERSION

T = TypeVar("T")

_VERSIONS = {"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION}


class Unreachable(Exception):
    """The server could not be reached, or the exchange broke off."""


class ServerRefused(Exception):
    def __init__(self, status: int, code: str, detail: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.details = details or {}


def _refusal(response: httpx.Response) -> ServerRefused:
    try:
        body = msgspec.json.decode(response.content)
        return ServerRefused(response.status_code, body.get("code", "http.error"), body.get("detail", ""),
                             body.get("details"))
    except (msgspec.DecodeError, AttributeError):
        return ServerRefused(response.status_code, "http.error", response.text[:200])


class HttpTransport:
    """Talks to one server. ``client`` may be any httpx.Client (tests pass Litestar's TestClient)."""

    def __init__(self, base_url: str | None = None, *, token: str | None = None, client: httpx.Client | None = None,
                 timeout: float = 30.0) -> None:
        self.client = client or httpx.Client(base_url=base_url or "", timeout=timeout)
        self.token = token

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": MSGPACK, "accept": MSGPACK}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        return headers

    def _post(self, path: str, message: Any, reply_type: type[T]) -> T:
        try:
            response = self.client.post(path, content=encode(message), headers=self._headers())
        except httpx.TransportError as error:
            raise Unreachable(str(error) or type(error).__name__) from error
        if response.status_code >= 400:
            raise _refusal(response)
        return decode(response.content, reply_type)

    def enroll(self, request: EnrollRequest) -> EnrollResponse:
        return self._post("/sync/v1/enroll", request, EnrollResponse)

    def push(self, request: PushRequest) -> PushResponse:
        return self._post("/sync/v1/push", request, PushResponse)

    def pull(self, request: PullRequest) -> PullResponse:
        return self._post("/sync/v1/pull", request, PullResponse)

    def checksum(self, request: ChecksumRequest) -> ChecksumResponse:
        return self._post("/sync/v1/checksum", request, ChecksumResponse)

    def bootstrap(self, request: BootstrapRequest) -> Iterator[BootstrapStart | BootstrapChunk | BootstrapDone]:
        try:
            with self.client.stream("POST", "/sync/v1/bootstrap", content=encode(request),
                                    headers=self._headers()) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _refusal(response)
                yield from iter_frames(response.iter_bytes())
        except (httpx.TransportError, ConnectionError) as error:
            raise Unreachable(str(error) or type(error).__name__) from error

    def live_events(self, timeout: float = 60.0) -> Iterator[int]:
        """Yield the newest change version each time the server announces one (SSE)."""
        try:
            with self.client.stream("GET", "/sync/v1/live", headers=self._headers(), params=_VERSIONS,
                                    timeout=httpx.Timeout(10.0, read=timeout)) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _refusal(response)
                event, data = None, ""
                for line in response.iter_lines():
                    if not line:  # a blank line ends one event (comments make events of none)
                        if event in ("hello", "change") and data.strip().isdigit():
                            yield int(data)
                        event, data = None, ""
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
        except httpx.TransportError as error:
            raise Unreachable(str(error) or type(error).__name__) from error

    def close(self) -> None:
        self.client.close()
