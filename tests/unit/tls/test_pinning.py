"""Whom a device trusts (``edge_client.transport.server_verification``): a pinned CA alone, the
system store for https without one, nothing for http; and what a pinned CA must be."""

from __future__ import annotations

import ssl

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from edge_client.client import EdgeClient
from edge_client.transport import HttpTransport, pinned_ssl_context, server_verification
from jcerp.tls import create_ca, create_server_certificate
from sync.errors import JcerpError


@pytest.fixture(scope="module")
def ca_pem() -> str:
    return create_ca().certificate.public_bytes(Encoding.PEM).decode()


def test_a_pinned_ca_is_the_only_trust_anchor(ca_pem):
    context = server_verification("https://erp.plant.lan:8443", ca_pem)
    assert isinstance(context, ssl.SSLContext)
    assert context.cert_store_stats()["x509_ca"] == 1
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_https_without_a_pinned_ca_uses_the_system_store_and_http_checks_nothing():
    system = server_verification("https://erp.plant.lan")
    assert isinstance(system, ssl.SSLContext)
    assert system.get_ca_certs() == ssl.create_default_context().get_ca_certs()
    assert server_verification("http://127.0.0.1:8000") is True


def test_a_pinned_ca_must_be_a_ca_certificate_for_an_https_server(ca_pem):
    with pytest.raises(ValueError, match="https://"):
        server_verification("http://127.0.0.1:8000", ca_pem)
    for not_a_ca in ("", "   ", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"):
        with pytest.raises(ValueError):
            pinned_ssl_context(not_a_ca)
    leaf = create_server_certificate(create_ca(), ["127.0.0.1"]).certificate.public_bytes(Encoding.PEM).decode()
    with pytest.raises(ValueError, match="server's certificate"):
        pinned_ssl_context(leaf)


def test_a_transport_verifies_with_the_pinned_ca_and_an_injected_client_keeps_its_own(ca_pem):
    transport = HttpTransport("https://127.0.0.1:1", ca_pem=ca_pem)
    assert transport.ca_pem == ca_pem
    transport.close()
    injected = HttpTransport(client=httpx.Client(base_url="http://testserver.local"), ca_pem=ca_pem)
    assert str(injected.client.base_url) == "http://testserver.local"
    injected.close()


def test_enrollment_refuses_a_bad_ca_before_anything_is_written(tmp_path, ca_pem):
    with pytest.raises(JcerpError) as refused:
        EdgeClient.enroll(tmp_path / "tablet", server_url="http://127.0.0.1:1", site_id="s", device_name="t",
                          ca_pem=ca_pem)
    assert refused.value.code == "edge.bad_ca"
    with pytest.raises(JcerpError) as refused:
        EdgeClient.enroll(tmp_path / "tablet", server_url="https://127.0.0.1:1", site_id="s", device_name="t",
                          ca_pem="not a certificate")
    assert refused.value.code == "edge.bad_ca"
    assert not (tmp_path / "tablet").exists()
