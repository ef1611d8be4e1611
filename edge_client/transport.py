"""HTTP transport of the sync protocol for devices (httpx, MessagePack bodies).

Two kinds of failure, kept apart because the client reacts differently:
- ``Unreachable``: the request may or may not have reached the server (connect error, timeout,
  broken stream). Safe to retry: push is idempotent by sequence, pull and bootstrap are reads.
- ``ServerRefused``: the server answered with a problem detail; ``code`` says what to do.

Every request after enrollment is signed with the device key (``signer``); a request refused
for its time (``sync.clock_skew``) is signed again once with the server's time, and one refused
as a replay (``sync.request_replayed``: the network delivered it twice) is signed again once
and, refused so again, reported as ``Unreachable``: the first copy's outcome is unknown.

Whom a device trusts over TLS (``server_verification``):
- a CA pinned at enrollment (``jcerp edge init --ca``): that CA and nothing else, never the
  system store as well, so a certificate from any other CA, public or private, is refused;
- an ``https://`` server without a pinned CA: the system trust store;
- ``http://``: nothing is checked (there is no TLS), and a pinned CA is refused as a mistake.
A certificate that does not verify is ``CertificateRejected``, an ``Unreachable`` (the client
keeps its work and retries, since a server certificate can be fixed without touching devices)
whose message says which check failed and what the device trusts.
"""

from __future__ import annotations

import ssl
import time
from typing import Any, Iterator, TypeVar

import httpx
import msgspec

from edge_client.device_key import DeviceSignature
from protocol import PROTOCOL_VERSION
from protocol.base import MSGPACK, decode, encode
from protocol.bootstrap import BootstrapChunk, BootstrapDone, BootstrapRequest, BootstrapStart, iter_frames
from protocol.checksum import ChecksumRequest, ChecksumResponse
from protocol.enroll import EnrollRequest, EnrollResponse
from protocol.pull import PullRequest, PullResponse
from protocol.push import PushRequest, PushResponse
from protocol.sign_in import SignInRequest, SignInResponse
from sync.schema import SCHEMA_VERSION

T = TypeVar("T")

_VERSIONS = {"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION}


class Unreachable(Exception):
    """The server could not be reached, or the exchange broke off."""


class CertificateRejected(Unreachable):
    """TLS was refused because the server's certificate did not verify (wrong CA, expired,
    or not issued for the host name the device uses)."""


def pinned_ssl_context(ca_pem: str) -> ssl.SSLContext:
    """A client context that trusts the CA certificate(s) in ``ca_pem`` only.

    Raises ValueError when ``ca_pem`` holds no CA certificate: an empty ``cadata`` would
    silently mean "the system store", and a server certificate given by mistake as the CA
    would fail every handshake later with a less helpful message.
    """
    if "-----BEGIN CERTIFICATE-----" not in (ca_pem or ""):
        raise ValueError("the CA file holds no PEM certificate")
    try:
        context = ssl.create_default_context(cadata=ca_pem)
    except ssl.SSLError as error:
        raise ValueError(f"the CA file is not a readable PEM certificate: {error}") from None
    if context.cert_store_stats()["x509_ca"] == 0:
        raise ValueError("the CA file holds no CA certificate (was it the server's certificate?)")
    return context


def server_verification(server_url: str, ca_pem: str | None = None) -> ssl.SSLContext | bool:
    """What a device checks ``server_url``'s certificate against (see the module docstring)."""
    if ca_pem is not None:
        if not server_url.lower().startswith("https://"):
            raise ValueError(f"a pinned CA needs an https:// server, not {server_url}")
        return pinned_ssl_context(ca_pem)
    if server_url.lower().startswith("https://"):
        return ssl.create_default_context()
    return True  # plain http: httpx's default, which no request uses


def as_unreachable(error: BaseException, *, pinned: bool) -> Unreachable:
    """The ``Unreachable`` for a failed exchange, naming a certificate failure as such."""
    cause: BaseException | None = error
    for _ in range(8):  # the ssl error sits a few causes down under httpx's and httpcore's wrappers
        if cause is None or isinstance(cause, ssl.SSLCertVerificationError):
            break
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        trusted = "only the CA pinned at enrollment (--ca)" if pinned else "the system trust store"
        return CertificateRejected(f"the server's TLS certificate failed verification "
                                   f"({cause.verify_message or cause.reason}); this device trusts {trusted}")
    return Unreachable(str(error) or type(error).__name__)


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


def _unless_duplicated(refusal: ServerRefused) -> Exception:
    """A request refused as a replay reached the server before, by a copy the network made; what
    became of that copy is unknown here, exactly as after a lost answer: ``Unreachable``, so the
    caller retries as it does for any broken exchange."""
    if refusal.code == "sync.request_replayed":
        error = Unreachable(f"the network delivered this request twice and the answer to the first "
                            f"copy was lost ({refusal.detail})")
        error.__cause__ = refusal
        return error
    return refusal


class HttpTransport:
    """Talks to one server. ``client`` may be any httpx.Client (tests pass Litestar's TestClient);
    an injected client checks certificates its own way, and ``ca_pem`` then only shapes messages."""

    def __init__(self, base_url: str | None = None, *, token: str | None = None, client: httpx.Client | None = None,
                 timeout: float = 30.0, ca_pem: str | None = None, signer: DeviceSignature | None = None) -> None:
        self.ca_pem = ca_pem  # the CA this device pinned at enrollment, PEM; None: see server_verification
        self.client = client or httpx.Client(base_url=base_url or "", timeout=timeout,
                                             verify=server_verification(base_url or "", ca_pem))
        self.token = token
        self.signer = signer  # signs every request once the device has a key (edge_client/device_key.py)

    @property
    def _auth(self) -> Any:
        # Per request, not on the httpx client: tests share one client between several devices.
        return self.signer if self.signer is not None else httpx.USE_CLIENT_DEFAULT

    def _sign_again(self, refusal: ServerRefused) -> bool:
        """Whether a refused request is worth one more try with a fresh signature: the server
        refused its time (and told its own), or saw its nonce before, which a network that
        duplicates packets or a proxy that retries causes. The request was the device's own, so
        sending it again is as safe as any retry (push is idempotent by sequence)."""
        return self._learned_server_clock(refusal) or (self.signer is not None
                                                       and refusal.code == "sync.request_replayed")

    def _learned_server_clock(self, refusal: ServerRefused) -> bool:
        """True when the server refused the request's time and told its own: sign again with it."""
        server_time = refusal.details.get("server_time") if refusal.code == "sync.clock_skew" else None
        if self.signer is None or not isinstance(server_time, int):
            return False
        self.signer.clock_offset = server_time - int(time.time())
        return True

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": MSGPACK, "accept": MSGPACK}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        return headers

    def _post(self, path: str, message: Any, reply_type: type[T]) -> T:
        body = encode(message)
        for attempt in (1, 2):
            try:
                response = self.client.post(path, content=body, headers=self._headers(), auth=self._auth)
            except httpx.TransportError as error:
                raise as_unreachable(error, pinned=self.ca_pem is not None) from error
            if response.status_code < 400:
                return decode(response.content, reply_type)
            refusal = _refusal(response)
            if attempt == 2 or not self._sign_again(refusal):
                raise _unless_duplicated(refusal)
        raise AssertionError("unreachable")

    def enroll(self, request: EnrollRequest) -> EnrollResponse:
        return self._post("/sync/v1/enroll", request, EnrollResponse)

    def push(self, request: PushRequest) -> PushResponse:
        return self._post("/sync/v1/push", request, PushResponse)

    def pull(self, request: PullRequest) -> PullResponse:
        return self._post("/sync/v1/pull", request, PullResponse)

    def checksum(self, request: ChecksumRequest) -> ChecksumResponse:
        return self._post("/sync/v1/checksum", request, ChecksumResponse)

    def sign_in(self, request: SignInRequest) -> SignInResponse:
        return self._post("/sync/v1/sign-in", request, SignInResponse)

    def bootstrap(self, request: BootstrapRequest) -> Iterator[BootstrapStart | BootstrapChunk | BootstrapDone]:
        try:
            for attempt in (1, 2):
                with self.client.stream("POST", "/sync/v1/bootstrap", content=encode(request),
                                        headers=self._headers(), auth=self._auth) as response:
                    if response.status_code >= 400:
                        response.read()
                        refusal = _refusal(response)
                        if attempt == 1 and self._sign_again(refusal):
                            continue
                        raise _unless_duplicated(refusal)
                    yield from iter_frames(response.iter_bytes())
                    return
        except (httpx.TransportError, ConnectionError) as error:
            raise as_unreachable(error, pinned=self.ca_pem is not None) from error

    def live_events(self, timeout: float = 60.0) -> Iterator[int]:
        """Yield the newest change version each time the server announces one (SSE)."""
        try:
            with self.client.stream("GET", "/sync/v1/live", headers=self._headers(), params=_VERSIONS,
                                    timeout=httpx.Timeout(10.0, read=timeout), auth=self._auth) as response:
                if response.status_code >= 400:
                    response.read()
                    refusal = _refusal(response)
                    self._learned_server_clock(refusal)  # the next connection signs with the server's time
                    raise refusal
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
            raise as_unreachable(error, pinned=self.ca_pem is not None) from error

    def close(self) -> None:
        self.client.close()
