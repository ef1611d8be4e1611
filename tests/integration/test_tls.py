"""TLS on a plant LAN, end to end: a CA and a server certificate made with ``jcerp tls``, a real
server process serving HTTPS with them, and devices that pin the CA (through ``EdgeClient`` and
through ``jcerp edge init --ca``) syncing receipts; a device pinned to another CA, or trusting
only the system store, is refused with a certificate message; plain http to the TLS port fails.
One server process serves the whole module, so the file stays fast."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from edge_client.client import EdgeClient
from edge_client.transport import CertificateRejected, HttpTransport, Unreachable
from jcerp.cli import main
from jcerp.tls import SERVER_CERT_FILE, SERVER_KEY_FILE, load_pair, subject_alt_names
from protocol import PROTOCOL_VERSION
from protocol.enroll import EnrollRequest
from server.process import ServerProcess
from sync.schema import SCHEMA_VERSION
from tests.support import World, build_world, enrollment_code, receive


@dataclass
class Plant:
    ca_pem: Path  # the plant CA's certificate, as devices receive it
    other_ca_pem: Path  # another plant's CA, with the same default name
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def plant(tmp_path_factory) -> Plant:
    root = tmp_path_factory.mktemp("pki")
    assert main(["tls", "init-ca", "--out", str(root / "ca")]) == 0
    assert main(["tls", "init-ca", "--out", str(root / "other-ca")]) == 0
    assert main(["tls", "server-cert", "--ca", str(root / "ca"), "--out", str(root / "server"),
                 "--host", "127.0.0.1", "--host", "erp.plant.lan"]) == 0
    return Plant(root / "ca" / "ca.pem", root / "other-ca" / "ca.pem", root / "server" / SERVER_CERT_FILE,
                 root / "server" / SERVER_KEY_FILE)


@pytest.fixture(scope="module")
def tls_server(plant: Plant, tmp_path_factory):
    work = tmp_path_factory.mktemp("server")
    with ServerProcess(f"sqlite+aiosqlite:///{work / 'server.db'}", log_path=work / "server.log",
                       tls_cert=plant.cert, tls_key=plant.key, ca=plant.ca_pem) as server:
        yield server


@pytest.fixture(scope="module")
def hq(tls_server: ServerProcess):
    with tls_server.hq_client(timeout=30) as client:  # verifies the server with the plant CA
        yield client


@pytest.fixture(scope="module")
def world(hq: httpx.Client) -> World:
    return build_world(hq)


def _on_hand(hq: httpx.Client, world: World) -> Decimal:
    rows = hq.get("/api/v1/on-hand", params={"item_id": world.item}).json()
    return sum((Decimal(row["quantity"]) for row in rows), Decimal(0))


def test_the_server_certificate_names_the_hosts_asked_for_and_its_keys_are_private(plant):
    issued = load_pair(plant.key.parent, SERVER_CERT_FILE, SERVER_KEY_FILE)
    assert subject_alt_names(issued.certificate) == ["127.0.0.1", "erp.plant.lan"]
    for key in (plant.key, plant.ca_pem.parent / "ca-key.pem", plant.other_ca_pem.parent / "ca-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.slow
def test_a_device_pinned_to_the_plant_ca_syncs_and_keeps_the_pin(tls_server, hq, world, plant, tmp_path):
    assert tls_server.url.startswith("https://127.0.0.1:")
    ca_pem = plant.ca_pem.read_text()
    edge = EdgeClient.enroll(tmp_path / "tablet", server_url=tls_server.url, site_id=world.site,
                             device_name="平板A", ca_pem=ca_pem, enrollment_code=enrollment_code(hq, world.site))
    edge.sync_once()
    before = _on_hand(hq, world)
    receive(edge, world, "5")
    assert edge.sync_once().applied == 1
    edge.close()
    assert _on_hand(hq, world) == before + 5

    reopened = EdgeClient(tmp_path / "tablet")  # as every later `jcerp edge …` command opens it
    assert reopened.transport.ca_pem == ca_pem
    receive(reopened, world, "2")
    assert reopened.sync_once().applied == 1
    reopened.close()
    assert _on_hand(hq, world) == before + 7


@pytest.mark.slow
def test_a_clerk_enrolls_with_the_ca_from_the_command_line(tls_server, hq, world, plant, tmp_path, capsys):
    home = str(tmp_path / "tablet")
    before = _on_hand(hq, world)
    assert main(["edge", "--home", home, "init", "--server", tls_server.url, "--site", "WH1", "--name", "平板B",
                 "--code", enrollment_code(hq, world.site), "--ca", str(plant.ca_pem)]) == 0, capsys.readouterr().err
    assert "enrolled device" in capsys.readouterr().out
    assert main(["edge", "--home", home, "receive", "--item", "SKU-1", "--location", "A-01", "--qty", "3"]) == 0
    assert main(["edge", "--home", home, "sync"]) == 0
    assert "applied 1" in capsys.readouterr().out
    assert _on_hand(hq, world) == before + 3


@pytest.mark.slow
def test_a_device_pinned_to_another_ca_is_refused_with_a_certificate_message(tls_server, world, plant, tmp_path,
                                                                             capsys):
    with pytest.raises(CertificateRejected) as refused:
        EdgeClient.enroll(tmp_path / "stranger", server_url=tls_server.url, site_id=world.site,
                          device_name="外来", ca_pem=plant.other_ca_pem.read_text())
    assert isinstance(refused.value, Unreachable)
    assert "certificate failed verification" in str(refused.value)
    assert "pinned at enrollment" in str(refused.value)

    home = str(tmp_path / "stranger-cli")
    assert main(["edge", "--home", home, "init", "--server", tls_server.url, "--site", "WH1", "--name", "外来",
                 "--code", "NOT-NEEDED", "--ca", str(plant.other_ca_pem)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the server's TLS certificate failed verification") and "Traceback" not in err


@pytest.mark.slow
def test_a_device_pinned_to_a_bundle_of_the_old_and_the_new_ca_accepts_the_server(tls_server, hq, world, plant,
                                                                                  tmp_path):
    both = plant.other_ca_pem.read_text() + plant.ca_pem.read_text()  # as for a planned CA rollover
    edge = EdgeClient.enroll(tmp_path / "rollover", server_url=tls_server.url, site_id=world.site,
                             device_name="换证", ca_pem=both, enrollment_code=enrollment_code(hq, world.site))
    assert edge.sync_once().bootstrapped_rows > 0
    edge.close()


@pytest.mark.slow
def test_without_a_pinned_ca_the_system_store_decides_and_refuses_a_private_ca(tls_server, world, tmp_path):
    with pytest.raises(CertificateRejected, match="system trust store"):
        EdgeClient.enroll(tmp_path / "unpinned", server_url=tls_server.url, site_id=world.site, device_name="x")


@pytest.mark.slow
def test_plain_http_to_the_tls_port_fails(tls_server):
    plain = tls_server.url.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{plain}/health", timeout=5)
    transport = HttpTransport(plain, timeout=5)
    with pytest.raises(Unreachable) as refused:
        transport.enroll(EnrollRequest(protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                                       site_id="s", device_name="x"))
    assert not isinstance(refused.value, CertificateRejected)
    transport.close()


def test_a_pinned_ca_over_plain_http_is_refused_before_enrolling(plant, tmp_path, capsys):
    assert main(["edge", "--home", str(tmp_path / "t"), "init", "--server", "http://127.0.0.1:1", "--site", "WH1",
                 "--name", "t", "--code", "X", "--ca", str(plant.ca_pem)]) == 2
    assert "needs an https:// server" in capsys.readouterr().err
    assert main(["edge", "--home", str(tmp_path / "t"), "init", "--server", "https://127.0.0.1:1", "--site", "WH1",
                 "--name", "t", "--code", "X", "--ca", str(tmp_path / "missing.pem")]) == 2
    assert "cannot read the CA certificate" in capsys.readouterr().err


def test_tls_cert_without_tls_key_and_a_foreign_key_are_refused_before_serving(plant, tmp_path, capsys):
    db = f"sqlite+aiosqlite:///{tmp_path / 'never.db'}"
    assert main(["server", "run", "--db", db, "--tls-cert", str(plant.cert)]) == 2
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err
    assert main(["server", "run", "--db", db, "--tls-key", str(plant.key)]) == 2
    assert "go together" in capsys.readouterr().err
    foreign_key = plant.other_ca_pem.parent / "ca-key.pem"
    assert main(["server", "run", "--db", db, "--tls-cert", str(plant.cert), "--tls-key", str(foreign_key)]) == 2
    assert f"cannot use {plant.cert}" in capsys.readouterr().err
    assert main(["server", "run", "--db", db, "--tls-cert", str(tmp_path / "none.pem"),
                 "--tls-key", str(plant.key)]) == 2
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()
