"""The plant CA and server certificates (``jcerp.tls``): what the certificates say, that Python's
own TLS accepts them (strict X.509 checks included), how their files are written and read back,
and the ``jcerp tls`` commands' answers to mistakes."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from jcerp.cli import main
from jcerp.tls import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    DEFAULT_CA_NAME,
    SERVER_CERT_FILE,
    SERVER_KEY_FILE,
    TlsError,
    common_name,
    create_ca,
    create_server_certificate,
    load_ca,
    load_pair,
    parse_host,
    subject_alt_names,
    write_pair,
)

NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def ca():
    return create_ca(now=NOW)


@pytest.fixture(scope="module")
def server(ca):
    return create_server_certificate(ca, ["127.0.0.1", "erp.plant.lan", "::1"], now=NOW)


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(Encoding.PEM).decode()


def _extension(certificate: x509.Certificate, kind):
    return certificate.extensions.get_extension_for_class(kind)


def test_the_ca_is_a_self_signed_ca_that_signs_only_server_certificates(ca):
    certificate = ca.certificate
    assert common_name(certificate) == DEFAULT_CA_NAME == "江城 ERP 工厂 CA"
    assert certificate.issuer == certificate.subject
    certificate.verify_directly_issued_by(certificate)
    constraints = _extension(certificate, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = _extension(certificate, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    assert certificate.not_valid_after_utc - NOW == dt.timedelta(days=3650)
    assert certificate.not_valid_before_utc < NOW


def test_a_server_certificate_names_its_hosts_in_subject_alt_names(ca, server):
    certificate = server.certificate
    certificate.verify_directly_issued_by(ca.certificate)
    assert subject_alt_names(certificate) == ["127.0.0.1", "erp.plant.lan", "::1"]
    names = _extension(certificate, x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"),
                                                         ipaddress.ip_address("::1")]
    assert _extension(certificate, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH])
    assert not _extension(certificate, x509.BasicConstraints).value.ca
    assert certificate.not_valid_after_utc - NOW == dt.timedelta(days=730)


def test_hosts_are_ip_addresses_or_dns_names_and_at_least_one_is_required(ca):
    assert parse_host("10.1.2.3") == x509.IPAddress(ipaddress.ip_address("10.1.2.3"))
    assert parse_host("[fe80::1]") == x509.IPAddress(ipaddress.ip_address("fe80::1"))
    assert parse_host("ERP.Plant.LAN.") == x509.DNSName("erp.plant.lan")
    assert parse_host("工厂.lan") == x509.DNSName("xn--fmrp5v.lan")
    assert parse_host("*.plant.lan") == x509.DNSName("*.plant.lan")
    for bad in ("two words", "-lead.lan", "a..b", "", "under_score.lan"):
        with pytest.raises(TlsError) as refused:
            parse_host(bad)
        assert refused.value.code == "tls.bad_host"
    with pytest.raises(TlsError) as refused:
        create_server_certificate(ca, [])
    assert refused.value.code == "tls.no_host"
    repeated = create_server_certificate(ca, ["127.0.0.1", "127.0.0.1", "erp.lan"], now=NOW)
    assert subject_alt_names(repeated.certificate) == ["127.0.0.1", "erp.lan"]


def test_a_server_certificate_never_outlives_its_ca():
    short_ca = create_ca("短期 CA", now=NOW, days=100)
    issued = create_server_certificate(short_ca, ["127.0.0.1"], now=NOW)
    assert issued.certificate.not_valid_after_utc == short_ca.certificate.not_valid_after_utc


def _handshake(server_context: ssl.SSLContext, client_context: ssl.SSLContext, host: str) -> None:
    """A TLS handshake in memory, so no socket or thread is needed to prove the certificates work."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_context.wrap_bio(client_in, client_out, server_hostname=host)
    server = server_context.wrap_bio(server_in, server_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, side, source, target in (("client", client, client_out, server_in),
                                           ("server", server, server_out, client_in)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
            target.write(source.read())
        if all(done.values()):
            return
    raise AssertionError("handshake did not finish")


def test_pythons_tls_accepts_the_chain_under_strict_checks_and_matches_ip_sans(tmp_path, ca, server):
    write_pair(server, tmp_path, SERVER_CERT_FILE, SERVER_KEY_FILE)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / SERVER_CERT_FILE, tmp_path / SERVER_KEY_FILE)
    client_context = ssl.create_default_context(cadata=_pem(ca.certificate))
    # Newer Pythons turn strict X.509 checking on by default; the certificates must pass it now.
    client_context.verify_flags |= ssl.VERIFY_X509_STRICT
    _handshake(server_context, client_context, "127.0.0.1")
    _handshake(server_context, client_context, "erp.plant.lan")
    with pytest.raises(ssl.SSLCertVerificationError, match="[Hh]ostname mismatch|IP address mismatch"):
        _handshake(server_context, client_context, "10.9.9.9")
    stranger = create_ca(now=NOW)  # same name, other key: trust follows the key, not the name
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(server_context, ssl.create_default_context(cadata=_pem(stranger.certificate)), "127.0.0.1")


def test_private_keys_are_written_0600_whatever_the_umask(tmp_path, ca):
    previous = os.umask(0)
    try:
        cert_path, key_path = write_pair(ca, tmp_path / "ca", CA_CERT_FILE, CA_KEY_FILE)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_path.stat().st_mode) == 0o644
    assert b"PRIVATE KEY" in key_path.read_bytes() and b"ENCRYPTED" not in key_path.read_bytes()
    assert sorted(p.name for p in (tmp_path / "ca").iterdir()) == [CA_KEY_FILE, CA_CERT_FILE]  # no staging left
    loaded = load_ca(tmp_path / "ca")
    assert loaded.certificate == ca.certificate
    assert loaded.key.private_numbers() == ca.key.private_numbers()


def test_existing_files_are_kept_unless_forced(tmp_path, ca):
    write_pair(ca, tmp_path, CA_CERT_FILE, CA_KEY_FILE)
    before = (tmp_path / CA_KEY_FILE).read_bytes()
    other = create_ca(now=NOW)
    with pytest.raises(TlsError) as refused:
        write_pair(other, tmp_path, CA_CERT_FILE, CA_KEY_FILE)
    assert refused.value.code == "tls.file_exists"
    assert (tmp_path / CA_KEY_FILE).read_bytes() == before
    (tmp_path / CA_KEY_FILE).chmod(0o644)
    write_pair(other, tmp_path, CA_CERT_FILE, CA_KEY_FILE, force=True)
    assert load_ca(tmp_path).certificate == other.certificate
    assert stat.S_IMODE((tmp_path / CA_KEY_FILE).stat().st_mode) == 0o600


def test_loading_refuses_a_missing_ca_a_foreign_key_and_a_server_certificate_as_ca(tmp_path, ca, server):
    with pytest.raises(TlsError) as refused:
        load_ca(tmp_path / "nowhere")
    assert refused.value.code == "tls.no_ca" and "jcerp tls init-ca" in str(refused.value)
    write_pair(ca, tmp_path / "ca", CA_CERT_FILE, CA_KEY_FILE)
    write_pair(server, tmp_path / "server", SERVER_CERT_FILE, SERVER_KEY_FILE)
    (tmp_path / "ca" / CA_KEY_FILE).write_bytes((tmp_path / "server" / SERVER_KEY_FILE).read_bytes())
    with pytest.raises(TlsError) as refused:
        load_ca(tmp_path / "ca")
    assert refused.value.code == "tls.key_mismatch"
    write_pair(server, tmp_path / "fake-ca", CA_CERT_FILE, CA_KEY_FILE)
    with pytest.raises(TlsError) as refused:
        load_ca(tmp_path / "fake-ca")
    assert refused.value.code == "tls.not_a_ca"
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / SERVER_CERT_FILE).write_text("not a certificate")
    (tmp_path / "garbage" / SERVER_KEY_FILE).write_text("not a key")
    with pytest.raises(TlsError) as refused:
        load_pair(tmp_path / "garbage", SERVER_CERT_FILE, SERVER_KEY_FILE)
    assert refused.value.code == "tls.bad_file"


def test_the_commands_make_a_ca_and_a_server_certificate_and_refuse_mistakes(tmp_path, capsys):
    ca_dir, server_dir = tmp_path / "ca", tmp_path / "server"
    assert main(["tls", "init-ca", "--out", str(ca_dir), "--name", "江城 ERP 汉阳工厂 CA"]) == 0
    out = capsys.readouterr().out
    assert "江城 ERP 汉阳工厂 CA" in out and "SHA-256" in out
    assert main(["tls", "init-ca", "--out", str(ca_dir)]) == 2
    assert "already exist" in capsys.readouterr().err and common_name(load_ca(ca_dir).certificate) == "江城 ERP 汉阳工厂 CA"

    assert main(["tls", "server-cert", "--ca", str(ca_dir), "--out", str(server_dir),
                 "--host", "127.0.0.1", "--host", "erp.plant.lan"]) == 0
    assert "127.0.0.1, erp.plant.lan" in capsys.readouterr().out
    issued = load_pair(server_dir, SERVER_CERT_FILE, SERVER_KEY_FILE)
    assert subject_alt_names(issued.certificate) == ["127.0.0.1", "erp.plant.lan"]
    assert stat.S_IMODE((server_dir / SERVER_KEY_FILE).stat().st_mode) == 0o600
    assert main(["tls", "server-cert", "--ca", str(ca_dir), "--out", str(server_dir), "--host", "x.lan"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["tls", "server-cert", "--ca", str(ca_dir), "--out", str(server_dir), "--host", "x.lan",
                 "--force"]) == 0
    capsys.readouterr()

    assert main(["tls", "server-cert", "--ca", str(tmp_path / "missing"), "--out", str(tmp_path / "s2"),
                 "--host", "127.0.0.1"]) == 2
    assert "no CA in" in capsys.readouterr().err and not (tmp_path / "s2").exists()
    assert main(["tls", "server-cert", "--ca", str(ca_dir), "--out", str(tmp_path / "s3"), "--host", "a b"]) == 2
    assert "neither an IP address nor a DNS name" in capsys.readouterr().err
