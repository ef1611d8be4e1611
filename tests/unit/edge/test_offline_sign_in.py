"""Signing in on a shared device without the network (``edge_client.sign_in``): the cached
verifier, the offline lockout, the 14-day expiry, and what a refusal from HQ does to the cache.
The clock is the test's, so a lockout or an expiry is a step of the clock, not a wait."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from edge_client.replica import Replica
from edge_client.sign_in import (
    MAX_OFFLINE_FAILURES, OFFLINE_LOCKOUT, OFFLINE_VALIDITY, NeedsNetwork, OfflineLocked, OfflineWrongPassword,
    SignInExpired, UserForbidden, UserSessions, acting_user,
)
from erp.access.passwords import verify_password
from protocol.sign_in import SignInResponse
from sync.registry import discover

PASSWORD = "仓库-口令-2026"
START = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions(tmp_path, clock):
    replica = Replica(tmp_path / "tablet", discover())
    yield UserSessions(replica.engine, now=clock)
    replica.close()


CLERK_GRANTS = ("inventory.receive", "inventory.issue", "sync.resolve_rejection")


def answer(username: str = "zhangsan", *, at: datetime = START, valid_for: timedelta = OFFLINE_VALIDITY,
           grants: tuple[str, ...] = CLERK_GRANTS) -> SignInResponse:
    """What HQ answers at ``at`` for a right password."""
    return SignInResponse(user_id=f"id-{username}", username=username, display_name="张三", site_id="site-1",
                          roles=["warehouse_clerk"], permissions=list(grants), valid_until=at + valid_for)


def test_a_user_who_signed_in_online_signs_in_offline_with_the_same_password(sessions):
    online = sessions.accept_online(answer(), PASSWORD)
    assert not online.offline and sessions.current() == online
    assert sessions.sign_out() == "zhangsan" and sessions.current() is None

    offline = sessions.check_offline("zhangsan", PASSWORD)
    assert offline.offline and offline.display_name == "张三" and offline.may("inventory.receive")
    assert sessions.current() == offline


def test_the_verifier_is_a_salted_scrypt_hash_made_on_the_device(sessions):
    sessions.accept_online(answer(), PASSWORD)
    with sessions.engine.begin() as conn:
        first = conn.exec_driver_sql("SELECT verifier FROM edge_user_verifiers").scalar_one()
    sessions.accept_online(answer(), PASSWORD)  # signing in online again makes a new one
    with sessions.engine.begin() as conn:
        second = conn.exec_driver_sql("SELECT verifier FROM edge_user_verifiers").scalar_one()
    assert first.startswith("scrypt$") and PASSWORD not in first and first != second
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)


def test_the_first_sign_in_on_a_device_needs_the_network(sessions):
    with pytest.raises(NeedsNetwork) as refused:
        sessions.check_offline("lisi", PASSWORD)
    assert refused.value.code == "edge.sign_in_needs_network"
    assert "first sign-in on this tablet needs the network" in refused.value.message


def test_five_wrong_passwords_offline_lock_the_user_on_this_device_for_fifteen_minutes(sessions, clock):
    sessions.accept_online(answer(), PASSWORD)
    for attempt in range(1, MAX_OFFLINE_FAILURES):
        with pytest.raises(OfflineWrongPassword) as wrong:
            sessions.check_offline("zhangsan", f"猜-{attempt}-错了")
        assert wrong.value.details["attempts_left"] == MAX_OFFLINE_FAILURES - attempt
    with pytest.raises(OfflineLocked) as locked:
        sessions.check_offline("zhangsan", "第五次-错了")
    assert locked.value.details["locked_until"] == (START + OFFLINE_LOCKOUT).isoformat(timespec="microseconds")
    # Locked: even the right password is refused, without being checked.
    with pytest.raises(OfflineLocked):
        sessions.check_offline("zhangsan", PASSWORD)
    clock.advance(OFFLINE_LOCKOUT - timedelta(seconds=1))
    with pytest.raises(OfflineLocked):
        sessions.check_offline("zhangsan", PASSWORD)
    clock.advance(timedelta(seconds=1))
    assert sessions.check_offline("zhangsan", PASSWORD).offline
    # The count starts again after the lock.
    with pytest.raises(OfflineWrongPassword) as wrong:
        sessions.check_offline("zhangsan", "又-错了-一次")
    assert wrong.value.details["attempts_left"] == MAX_OFFLINE_FAILURES - 1


def test_a_right_password_resets_the_count_of_wrong_ones(sessions):
    sessions.accept_online(answer(), PASSWORD)
    for _ in range(2):
        for attempt in range(MAX_OFFLINE_FAILURES - 1):
            with pytest.raises(OfflineWrongPassword):
                sessions.check_offline("zhangsan", f"错-{attempt}-口令")
        sessions.check_offline("zhangsan", PASSWORD)


def test_the_lock_is_per_user(sessions):
    sessions.accept_online(answer("zhangsan"), PASSWORD)
    sessions.accept_online(answer("lisi"), PASSWORD)
    for attempt in range(MAX_OFFLINE_FAILURES):
        with pytest.raises((OfflineWrongPassword, OfflineLocked)):
            sessions.check_offline("zhangsan", f"错-{attempt}-口令")
    assert sessions.check_offline("lisi", PASSWORD).username == "lisi"


def test_offline_sign_in_expires_fourteen_days_after_the_last_online_one(sessions, clock):
    sessions.accept_online(answer(), PASSWORD)
    clock.advance(OFFLINE_VALIDITY - timedelta(seconds=1))
    assert sessions.check_offline("zhangsan", PASSWORD).offline
    clock.advance(timedelta(seconds=1))
    assert sessions.current() is None  # the signed-in user's time is up as well
    with pytest.raises(SignInExpired) as expired:
        sessions.check_offline("zhangsan", PASSWORD)
    assert expired.value.code == "edge.sign_in_expired" and isinstance(expired.value, NeedsNetwork)
    assert sessions.cached_usernames() == []  # an expired verifier is deleted, not kept


def test_an_online_sign_in_restarts_the_fourteen_days(sessions, clock):
    sessions.accept_online(answer(), PASSWORD)
    clock.advance(timedelta(days=10))
    sessions.accept_online(answer(at=clock.at), PASSWORD)
    clock.advance(timedelta(days=10))
    assert sessions.check_offline("zhangsan", PASSWORD).offline


def test_the_device_keeps_a_shorter_validity_from_hq_and_caps_a_longer_one(sessions, clock):
    sessions.accept_online(answer("short", valid_for=timedelta(days=1)), PASSWORD)
    sessions.accept_online(answer("long", valid_for=timedelta(days=90)), PASSWORD)
    clock.advance(timedelta(days=1))
    with pytest.raises(SignInExpired):
        sessions.check_offline("short", PASSWORD)
    clock.advance(OFFLINE_VALIDITY - timedelta(days=1))
    with pytest.raises(SignInExpired):
        sessions.check_offline("long", PASSWORD)


def test_hq_refusing_a_password_the_device_accepts_drops_the_cache(sessions):
    """The password changed at HQ, or the user was disabled: HQ says only 'invalid credentials',
    and the device knows its verifier is out of date because it accepts what HQ refused."""
    sessions.accept_online(answer(), PASSWORD)
    sessions.refused_online("zhangsan", PASSWORD, "auth.invalid_credentials", {})
    assert sessions.cached_usernames() == [] and sessions.current() is None
    with pytest.raises(NeedsNetwork):
        sessions.check_offline("zhangsan", PASSWORD)


def test_a_mistyped_password_online_keeps_the_cache(sessions):
    sessions.accept_online(answer(), PASSWORD)
    sessions.refused_online("zhangsan", "打错了-口令", "auth.invalid_credentials", {})
    assert sessions.cached_usernames() == ["zhangsan"]
    assert sessions.current() is not None  # nobody else signed in: the signed-in user stays
    assert sessions.check_offline("zhangsan", PASSWORD).offline


def test_a_lock_at_hq_is_copied_to_the_device(sessions, clock):
    sessions.accept_online(answer(), PASSWORD)
    until = START + timedelta(minutes=15)
    sessions.refused_online("zhangsan", "打错了-口令", "auth.account_locked", {"locked_until": until.isoformat()})
    with pytest.raises(OfflineLocked):
        sessions.check_offline("zhangsan", PASSWORD)
    clock.advance(timedelta(minutes=15))
    assert sessions.check_offline("zhangsan", PASSWORD).offline


@pytest.mark.parametrize("code", ["auth.user_out_of_site", "auth.no_usable_permission"])
def test_a_user_hq_refuses_on_this_device_is_dropped_and_signed_out(sessions, code):
    sessions.accept_online(answer(), PASSWORD)
    sessions.refused_online("zhangsan", PASSWORD, code, {})
    assert sessions.cached_usernames() == [] and sessions.current() is None


def test_other_refusals_leave_the_cache_alone(sessions):
    sessions.accept_online(answer(), PASSWORD)
    sessions.refused_online("zhangsan", PASSWORD, "sync.client_outdated", {})
    assert sessions.cached_usernames() == ["zhangsan"]


def test_work_records_the_signed_in_user_and_refuses_what_their_roles_do_not_allow(sessions):
    assert acting_user(None, None, "inventory.adjust") is None
    assert acting_user(None, "wangwu", "inventory.adjust") == "wangwu"
    clerk = sessions.accept_online(answer(), PASSWORD)
    assert acting_user(clerk, None, "inventory.receive") == "zhangsan"
    assert acting_user(clerk, "zhangsan", "inventory.receive") == "zhangsan"
    with pytest.raises(UserForbidden) as forbidden:
        acting_user(clerk, None, "inventory.adjust")
    assert forbidden.value.code == "auth.user_forbidden"
    assert forbidden.value.details == {"user": "zhangsan", "permission": "inventory.adjust"}
    # Someone else named explicitly: the server checks them, it knows their roles.
    assert acting_user(clerk, "wangwu", "inventory.adjust") == "wangwu"
    manager = sessions.accept_online(answer("manager", grants=("inventory.*",)), PASSWORD)
    assert acting_user(manager, None, "inventory.adjust") == "manager"
