"""HTTP transport of the sync protocol (docs/protocol.md): thin handlers over ``SyncService``.

Bodies are decoded here with msgspec, MessagePack by default and JSON when the request says
``Content-Type: application/json``; responses use the request's encoding.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream

from protocol.base import decode, encode, media_type_of
from protocol.bootstrap import BootstrapRequest
from protocol.checksum import ChecksumRequest
from protocol.enroll import EnrollRequest
from protocol.pull import PullRequest
from protocol.push import PushRequest
from protocol.sign_in import SignInRequest
from server.auth.tablet_sign_in import TabletSignIn
from server.live import ChangeFeed
from protocol import PROTOCOL_VERSION
from protocol.signing import SIGNATURE_HEADER
from server.sync_service import Device, SignedRequest, SyncService, check_versions
from sync.schema import SCHEMA_VERSION
from sync.errors import ProtocolError

T = TypeVar("T")

FRAMES = "application/vnd.jcerp.frames"
KEEPALIVE_SECONDS = 15.0


def decode_body(payload: bytes, message_type: type[T], media_type: str) -> T:
    try:
        return decode(payload, message_type, media_type)
    except msgspec.ValidationError as error:
        raise ProtocolError(f"invalid {message_type.__name__}: {error}", code="sync.invalid_message") from error
    except (msgspec.DecodeError, RecursionError) as error:
        raise ProtocolError(f"the body is not valid {media_type}: {error}", code="sync.malformed_body") from error


def reply(message: Any, media_type: str) -> Response[bytes]:
    return Response(encode(message, media_type), media_type=media_type)


async def signed_device(request: Request, sync_service: SyncService) -> Device:
    """The device behind a request, by its bearer token and its request signature."""
    async def signed() -> SignedRequest:
        scope = request.scope
        path = scope.get("raw_path") or scope["path"].encode()
        path = path.partition(b"?")[0]  # some servers put the query into raw_path, some do not
        query = scope.get("query_string") or b""
        target = (path + (b"?" + query if query else b"")).decode("latin-1")
        return SignedRequest(method=request.method, target=target, signature=request.headers.get(SIGNATURE_HEADER),
                             body=await request.body())

    return await sync_service.authenticate(request.headers.get("authorization"), signed)


def provide_service(request: Request) -> SyncService:
    return request.app.state.sync_service


def provide_feed(request: Request) -> ChangeFeed:
    return request.app.state.feed


def provide_tablet_sign_in(request: Request) -> TabletSignIn:
    return request.app.state.tablet_sign_in


class SyncController(Controller):
    path = "/sync/v1"
    tags = ["sync"]
    # Every answer says which protocol and schema this server speaks, errors included.
    response_headers = [
        ResponseHeader(name="Jcerp-Protocol-Version", value=str(PROTOCOL_VERSION)),
        ResponseHeader(name="Jcerp-Schema-Version", value=str(SCHEMA_VERSION)),
    ]
    dependencies = {
        "sync_service": Provide(provide_service, sync_to_thread=False),
        "feed": Provide(provide_feed, sync_to_thread=False),
        "tablet_sign_in": Provide(provide_tablet_sign_in, sync_to_thread=False),
    }

    @post("/enroll", status_code=200, summary="Enroll a device for a site")
    async def enroll(self, request: Request, sync_service: SyncService) -> Response[bytes]:
        media = media_type_of(request.headers.get("content-type"))
        message = decode_body(await request.body(), EnrollRequest, media)
        return reply(await sync_service.enroll(message), media)

    @post("/push", status_code=200, summary="Push pending mutations (contiguous, ascending seq)")
    async def push(self, request: Request, sync_service: SyncService) -> Response[bytes]:
        device = await signed_device(request, sync_service)
        media = media_type_of(request.headers.get("content-type"))
        message = decode_body(await request.body(), PushRequest, media)
        return reply(await sync_service.push(device, message, media), media)

    @post("/pull", status_code=200, summary="Pull changes in the device's scope since a cursor")
    async def pull(self, request: Request, sync_service: SyncService) -> Response[bytes]:
        device = await signed_device(request, sync_service)
        media = media_type_of(request.headers.get("content-type"))
        message = decode_body(await request.body(), PullRequest, media)
        return reply(await sync_service.pull(device, message), media)

    @post("/bootstrap", status_code=200, summary="Stream the device's scope as length-prefixed frames")
    async def bootstrap(self, request: Request, sync_service: SyncService) -> Stream:
        device = await signed_device(request, sync_service)
        media = media_type_of(request.headers.get("content-type"))
        message = decode_body(await request.body(), BootstrapRequest, media)
        position = await sync_service.bootstrap_start(device, message)
        return Stream(sync_service.bootstrap_frames(device, message, position), media_type=FRAMES)

    @post("/checksum", status_code=200, summary="Fingerprints of the device's scope, to verify its replica")
    async def checksum(self, request: Request, sync_service: SyncService) -> Response[bytes]:
        device = await signed_device(request, sync_service)
        media = media_type_of(request.headers.get("content-type"))
        message = decode_body(await request.body(), ChecksumRequest, media)
        return reply(await sync_service.checksum(device, message), media)

    @post("/sign-in", status_code=200, summary="Check a user's password on a shared device (no HQ session)")
    async def sign_in(self, request: Request, sync_service: SyncService,
                      tablet_sign_in: TabletSignIn) -> Response[bytes]:
        device = await signed_device(request, sync_service)
        media = media_type_of(request.headers.get("content-type"))
        message = decode_body(await request.body(), SignInRequest, media)
        return reply(await tablet_sign_in.sign_in(device, message), media)

    @get("/live", summary="Server-sent events: 'change' with the newest version in the device's scope")
    async def live(self, request: Request, sync_service: SyncService, feed: ChangeFeed,
                   protocol_version: int, schema_version: int) -> ServerSentEvent:
        check_versions(protocol_version, schema_version)
        device = await signed_device(request, sync_service)
        subscriber = feed.subscribe(device.site_id, device.id)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            try:
                yield ServerSentEventMessage(event="hello", data=str(subscriber.latest))
                while not feed.closed:
                    try:
                        await asyncio.wait_for(subscriber.wakeup.wait(), KEEPALIVE_SECONDS)
                    except asyncio.TimeoutError:
                        # A comment keeps proxies from closing an idle stream and reveals dead peers.
                        yield ServerSentEventMessage(comment="keep-alive")
                        continue
                    subscriber.wakeup.clear()
                    if not feed.closed:
                        yield ServerSentEventMessage(event="change", data=str(subscriber.latest))
            finally:
                feed.unsubscribe(subscriber)

        return ServerSentEvent(events())
