"""Personal data at rest on a device (``sync/personal.py``, ``edge_client/replica.py``): values
round-trip through AES-GCM, 4-byte characters and decimals included; a wrong key, a value moved
to another column and an altered value are refused; every write path of the replica stores
ciphertext, and the rebase journal copies it without encrypting it twice."""

from __future__ import annotations

import os
import stat
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, update

from edge_client.journal import Journal, revert_all
from edge_client.local_tables import edge_outbox
from edge_client.rebase import DeviceIdentity, open_args, run_local
from edge_client.replica import DATA_KEY_FILE, Replica, replace_rows
from erp.hr.employee import CreateEmployee, UpdateEmployee, hr_employees
from sync.context import Edit
from sync.personal import (
    KEY_BYTES, PREFIX, FieldCipher, PersonalDataUnreadable, attach_cipher, cipher_of, load_or_create_key,
)
from sync.registry import discover

KEY = bytes(range(KEY_BYTES))
OTHER_KEY = bytes(reversed(range(KEY_BYTES)))
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_a_value_round_trips_and_never_shows_in_its_ciphertext(text):
    cipher = FieldCipher(KEY)
    sealed = cipher.encrypt(text, "hr_employees.phone")
    assert sealed.startswith(PREFIX) and sealed.isascii()
    assert cipher.decrypt(sealed, "hr_employees.phone") == text
    assert cipher.encrypt(text, "hr_employees.phone") != sealed  # a fresh nonce every time
    if len(text) >= 4:
        assert text not in sealed


def test_four_byte_characters_round_trip():
    cipher = FieldCipher(KEY)
    for text in ("𠮷", "王𡈼 𠀋", "\U0010ffff", ""):
        assert cipher.decrypt(cipher.encrypt(text, "t.c"), "t.c") == text


def test_a_wrong_key_a_moved_value_and_an_altered_value_are_refused():
    cipher = FieldCipher(KEY)
    sealed = cipher.encrypt("13800000000", "hr_employees.phone")
    with pytest.raises(PersonalDataUnreadable):
        FieldCipher(OTHER_KEY).decrypt(sealed, "hr_employees.phone")
    with pytest.raises(PersonalDataUnreadable):
        cipher.decrypt(sealed, "hr_employees.bank_account")  # same table, other column
    with pytest.raises(PersonalDataUnreadable):
        cipher.decrypt(sealed, "other_table.phone")
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    with pytest.raises(PersonalDataUnreadable):
        cipher.decrypt(flipped, "hr_employees.phone")
    for junk in ("13800000000", "enc1:", "enc1:!!!", "enc1:" + "A" * 8):
        with pytest.raises(PersonalDataUnreadable):
            cipher.decrypt(junk, "hr_employees.phone")
    with pytest.raises(ValueError):
        FieldCipher(b"short")


def test_the_data_key_file_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / DATA_KEY_FILE
    key = load_or_create_key(path)
    assert len(key) == KEY_BYTES and load_or_create_key(path) == key
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(b"bm90IGEga2V5\n")
    with pytest.raises(PersonalDataUnreadable):
        load_or_create_key(path)


# -- the replica ---------------------------------------------------------------------------------

IDENTITY = DeviceIdentity("device-1", "site-1")
COLUMNS = ["id", "site_id", "employee_no", "name", "id_number", "phone", "bank_account", "monthly_salary", "active",
           "_version", "_fv"]


@pytest.fixture
def replica(tmp_path):
    replica = Replica(tmp_path / "tablet", discover())
    yield replica
    replica.close()


def raw(replica, employee_id: str = "e-1") -> dict:
    with replica.engine.begin() as conn:
        row = conn.exec_driver_sql("SELECT * FROM hr_employees WHERE id = ?", (employee_id,)).mappings().one()
    return dict(row)


def typed(replica, employee_id: str = "e-1"):
    with replica.engine.begin() as conn:
        return conn.execute(select(hr_employees).where(hr_employees.c.id == employee_id)).one()


def file_bytes(replica) -> bytes:
    return b"".join(path.read_bytes() for path in replica.home.glob("replica.db*") if path.is_file())


def test_wire_rows_are_stored_encrypted_and_read_back_plain(replica):
    assert (replica.home / DATA_KEY_FILE).exists()
    with replica.engine.begin() as conn:
        replace_rows(conn, "hr_employees", COLUMNS, [
            ["e-1", "site-1", "E-1", "张 𠮷", "X12345678", "13812345678", "6222020000000000", "9000.1", 1, 7, "{}"]])
    stored = raw(replica)
    assert all(stored[name].startswith(PREFIX) for name in ("id_number", "phone", "bank_account", "monthly_salary"))
    assert stored["name"] == "张 𠮷" and stored["employee_no"] == "E-1"  # not personal: plain
    row = typed(replica)
    assert (row.id_number, row.phone, row.bank_account, row.monthly_salary) == (
        "X12345678", "13812345678", "6222020000000000", Decimal("9000.1"))
    for secret in (b"X12345678", b"13812345678", b"6222020000000000", b"9000.1"):
        assert secret not in file_bytes(replica)


def test_a_value_moved_to_another_column_does_not_read(replica):
    with replica.engine.begin() as conn:
        replace_rows(conn, "hr_employees", COLUMNS, [
            ["e-1", "site-1", "E-1", "张三", None, "13812345678", None, None, 1, 7, "{}"]])
        conn.exec_driver_sql("UPDATE hr_employees SET bank_account = phone")
    with pytest.raises(PersonalDataUnreadable):
        typed(replica)


def test_a_replica_opened_with_another_key_does_not_read(replica, tmp_path):
    with replica.engine.begin() as conn:
        replace_rows(conn, "hr_employees", COLUMNS, [
            ["e-1", "site-1", "E-1", "张三", None, "13812345678", None, None, 1, 7, "{}"]])
    engine = create_engine(f"sqlite:///{replica.home / 'replica.db'}")
    attach_cipher(engine, FieldCipher(OTHER_KEY))
    with engine.connect() as conn, pytest.raises(PersonalDataUnreadable):
        conn.execute(select(hr_employees)).all()
    engine.dispose()


def test_local_mutations_encrypt_and_the_journal_restores_ciphertext_as_it_was(replica):
    registry = discover()
    with replica.engine.begin() as conn:
        replace_rows(conn, "sites", ["id", "code", "name", "kind", "_version", "_fv"],
                     [["site-1", "S1", "一厂", "factory", 1, "{}"]])
        replace_rows(conn, "hr_employees", COLUMNS, [
            ["e-1", "site-1", "E-1", "张三", None, "13812345678", None, "5000", 1, 2, '{"phone": 2}']])
    before = raw(replica)
    with replica.engine.begin() as conn:
        run_local(conn, registry, IDENTITY, registry.resolve_latest("hr.update_employee"),
                  UpdateEmployee(employee_id="e-1", phone=Edit("13999999999", 2),
                                 monthly_salary=Edit(Decimal("5200.5"), 0)), hlc="1-0-x", user=None)
        run_local(conn, registry, IDENTITY, registry.resolve_latest("hr.create_employee"),
                  CreateEmployee(employee_id="e-2", site_id="site-1", employee_no="E-2", name="李𠀋",
                                 id_number="G12345678", phone="13700000000"), hlc="1-1-x", user=None)
    assert typed(replica).phone == "13999999999" and typed(replica).monthly_salary == Decimal("5200.5")
    assert typed(replica, "e-2").id_number == "G12345678"
    assert raw(replica)["phone"].startswith(PREFIX) and raw(replica, "e-2")["id_number"].startswith(PREFIX)
    with replica.engine.begin() as conn:
        outbox = conn.execute(select(edge_outbox.c.seq, edge_outbox.c.args).order_by(edge_outbox.c.seq)).all()
        assert all(bytes(entry.args).startswith(PREFIX.encode()) for entry in outbox)  # queued sealed
        assert b"13999999999" in open_args(conn.dialect, outbox[0].seq, outbox[0].args)
        with pytest.raises(PersonalDataUnreadable):
            open_args(conn.dialect, outbox[1].seq, outbox[0].args)  # sealed to its own entry
    for secret in (b"13999999999", b"G12345678", b"13700000000", b"5200.5"):
        assert secret not in file_bytes(replica), secret
    with replica.engine.begin() as conn:
        assert revert_all(conn, registry) == 2
    assert raw(replica) == before  # the very same ciphertext: restored, not encrypted again
    assert typed(replica).phone == "13812345678"


def test_the_journal_copies_stored_values_raw(replica):
    registry = discover()
    with replica.engine.begin() as conn:
        replace_rows(conn, "hr_employees", COLUMNS, [
            ["e-1", "site-1", "E-1", "张三", None, "13812345678", None, None, 1, 2, "{}"]])
        Journal().before_write(conn, registry.spec("hr_employees"), ("e-1",))
        conn.execute(update(hr_employees).where(hr_employees.c.id == "e-1").values(phone="13000000000"))
        revert_all(conn, registry)
        assert cipher_of(conn.dialect) is not None
    assert typed(replica).phone == "13812345678"
