"""TLS for a plant LAN: a private certificate authority and the server certificates it signs.

A plant runs its server on its own network, under names and addresses no public CA will
certify. The administrator makes a CA of the plant's own (``jcerp tls init-ca``), issues the
server a certificate with it (``jcerp tls server-cert``), starts the server with that
certificate (``jcerp server run --tls-cert … --tls-key …``), and enrolls every device with the
CA certificate (``jcerp edge init --ca ca.pem``), which the device then trusts alone.

This module lives in ``jcerp/`` rather than ``server/``: it is the administrator's tool, and
neither tier imports it at run time (the server only hands the files to uvicorn; devices check
certificates with the standard ``ssl`` module).

Invariants:
- The CA's private key never leaves the administrator's machine. ``server-cert`` reads it from
  the CA directory to sign and writes it nowhere else; only ``ca.pem`` (the certificate) is
  copied to the server and to devices.
- Private keys are written at mode 0600 from the moment their file exists: the file is created
  with that mode, filled, then moved into place, so no reader ever sees a looser key file.
- Every server certificate names its hosts in subjectAltName (DNS names and IP addresses); no
  certificate relies on the common name, which TLS clients no longer match.
- A server certificate never outlives the CA that signed it.
- Nothing is overwritten unless the caller asks (``force``), and a refused write leaves every
  existing file as it was.
- Keys are ECDSA P-256, which every TLS client still in use on plant tablets and PCs speaks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sync.errors import JcerpError

DEFAULT_CA_NAME = "江城 ERP 工厂 CA"
CA_DAYS = 3650
SERVER_DAYS = 730
# Certificates start a day in the past: plant devices whose clock runs on local time taken for
# UTC are eight hours off, and a certificate "not yet valid" stops a whole shift.
BACKDATE = dt.timedelta(days=1)

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"

PRIVATE_KEY_MODE = 0o600
CERTIFICATE_MODE = 0o644

_DNS_NAME = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


class TlsError(JcerpError):
    code = "tls.error"


@dataclass(frozen=True)
class KeyAndCertificate:
    """A private key and the certificate for its public key."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def create_ca(name: str = DEFAULT_CA_NAME, *, now: dt.datetime | None = None, days: int = CA_DAYS
              ) -> KeyAndCertificate:
    """A self-signed CA that may sign server certificates but no other CA (path length 0)."""
    if not name.strip():
        raise TlsError("the CA needs a name", code="tls.bad_name")
    now = now or _now()
    key = _new_key()
    try:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name.strip())])
    except ValueError as error:  # e.g. a common name over 64 characters
        raise TlsError(f"unusable CA name {name!r}: {error}", code="tls.bad_name") from None
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyAndCertificate(key, certificate)


def parse_host(text: str) -> x509.IPAddress | x509.DNSName:
    """A ``--host`` as a subjectAltName entry: an IPv4/IPv6 address, or a DNS name (a Chinese
    name is stored in its ASCII form, ``xn--…``, which is what clients compare)."""
    value = text.strip()
    try:
        return x509.IPAddress(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        pass
    name = value.rstrip(".").lower()
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    if not _DNS_NAME.match(ascii_name) or len(ascii_name) > 253:
        raise TlsError(f"{text!r} is neither an IP address nor a DNS name", code="tls.bad_host")
    return x509.DNSName(ascii_name)


def create_server_certificate(ca: KeyAndCertificate, hosts: list[str], *, now: dt.datetime | None = None,
                              days: int = SERVER_DAYS) -> KeyAndCertificate:
    """A TLS server certificate for ``hosts`` (DNS names and IP addresses), signed by ``ca``."""
    names: list[x509.IPAddress | x509.DNSName] = []
    for host in hosts:
        entry = parse_host(host)
        if entry not in names:
            names.append(entry)
    if not names:
        raise TlsError("a server certificate needs at least one host name or IP address", code="tls.no_host")
    now = now or _now()
    not_after = min(now + dt.timedelta(days=days), ca.certificate.not_valid_after_utc)
    key = _new_key()
    ca_key_id = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        # The common name is for people reading the certificate; clients match the SANs only.
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(names[0].value))]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return KeyAndCertificate(key, certificate)


def subject_alt_names(certificate: x509.Certificate) -> list[str]:
    """The hosts a certificate is valid for, as text (IP addresses and DNS names)."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in names]


def common_name(certificate: x509.Certificate) -> str:
    attributes = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attributes[0].value) if attributes else certificate.subject.rfc4514_string()


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate, as people compare it by eye (``AB:CD:…``)."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


# -- files --------------------------------------------------------------------------------------


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` with ``mode`` from the first byte, replacing any file there."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(descriptor, mode)  # the umask may have taken bits away; it must be exactly mode
        os.write(descriptor, data)
        os.fsync(descriptor)
    except BaseException:
        os.close(descriptor)
        staging.unlink(missing_ok=True)
        raise
    os.close(descriptor)
    os.replace(staging, path)


def write_pair(pair: KeyAndCertificate, directory: Path, cert_file: str, key_file: str, *,
               force: bool = False) -> tuple[Path, Path]:
    """Write the certificate and its key (unencrypted PEM, mode 0600) into ``directory``.

    Refuses, writing nothing, when either file exists and ``force`` is false.
    """
    directory = Path(directory)
    cert_path, key_path = directory / cert_file, directory / key_file
    existing = [str(path) for path in (cert_path, key_path) if path.exists()]
    if existing and not force:
        raise TlsError(f"{' and '.join(existing)} already {'exist' if len(existing) > 1 else 'exists'}; "
                       f"pass --force to replace", code="tls.file_exists")
    # A directory holding private keys is the owner's alone when we create it.
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_pem = pair.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    _write_file(key_path, key_pem, PRIVATE_KEY_MODE)
    _write_file(cert_path, pair.certificate.public_bytes(serialization.Encoding.PEM), CERTIFICATE_MODE)
    return cert_path, key_path


def load_pair(directory: Path, cert_file: str, key_file: str) -> KeyAndCertificate:
    """Read back what ``write_pair`` wrote, checking that the key belongs to the certificate."""
    directory = Path(directory)
    cert_path, key_path = directory / cert_file, directory / key_file
    missing = [str(path) for path in (cert_path, key_path) if not path.is_file()]
    if missing:
        raise TlsError(f"{' and '.join(missing)} not found", code="tls.missing_file")
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError as error:
        raise TlsError(f"{cert_path} is not a PEM certificate: {error}", code="tls.bad_file") from None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:  # TypeError: the key is encrypted
        raise TlsError(f"{key_path} is not an unencrypted PEM private key: {error}", code="tls.bad_file") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != certificate.public_key():
        raise TlsError(f"{key_path} is not the key of {cert_path}", code="tls.key_mismatch")
    return KeyAndCertificate(key, certificate)


def load_ca(directory: Path) -> KeyAndCertificate:
    """The CA in ``directory`` (``ca.pem`` and ``ca-key.pem``), checked to be a CA."""
    if not (Path(directory) / CA_CERT_FILE).is_file() or not (Path(directory) / CA_KEY_FILE).is_file():
        raise TlsError(f"no CA in {directory} (it needs {CA_CERT_FILE} and {CA_KEY_FILE}); "
                       f"create one with `jcerp tls init-ca --out {directory}`", code="tls.no_ca")
    ca = load_pair(directory, CA_CERT_FILE, CA_KEY_FILE)
    try:
        is_ca = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise TlsError(f"{Path(directory) / CA_CERT_FILE} is not a CA certificate", code="tls.not_a_ca")
    return ca


# -- jcerp tls ----------------------------------------------------------------------------------


def cmd_init_ca(args: argparse.Namespace) -> int:
    ca = create_ca(args.name)
    cert_path, key_path = write_pair(ca, args.out, CA_CERT_FILE, CA_KEY_FILE, force=args.force)
    print(f"created CA {common_name(ca.certificate)!r}, valid until {ca.certificate.not_valid_after_utc:%Y-%m-%d}")
    print(f"  certificate  {cert_path}   copy it to every device: jcerp edge init … --ca {cert_path.name}")
    print(f"  private key  {key_path}   mode 0600; keep it on this machine, never on the server or a device")
    print(f"  SHA-256      {fingerprint(ca.certificate)}")
    return 0


def cmd_server_cert(args: argparse.Namespace) -> int:
    ca = load_ca(args.ca)
    issued = create_server_certificate(ca, args.host)
    cert_path, key_path = write_pair(issued, args.out, SERVER_CERT_FILE, SERVER_KEY_FILE, force=args.force)
    print(f"issued a server certificate for {', '.join(subject_alt_names(issued.certificate))}, "
          f"signed by {common_name(ca.certificate)!r}, valid until {issued.certificate.not_valid_after_utc:%Y-%m-%d}")
    print(f"  certificate  {cert_path}   jcerp server run --tls-cert {cert_path}")
    print(f"  private key  {key_path}   mode 0600; --tls-key {key_path}")
    return 0


def _reporting_errors(command):
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except TlsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            where = f" ({error.filename})" if error.filename else ""
            print(f"error: {error.strerror or error}{where}", file=sys.stderr)
            return 2

    return run


def add_tls_commands(commands: argparse._SubParsersAction) -> None:
    tls = commands.add_parser("tls", help="a private CA and server certificates for a plant LAN").add_subparsers(
        dest="tls_command", required=True)

    init_ca = tls.add_parser("init-ca", help="create the plant's certificate authority")
    init_ca.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory for ca.pem and ca-key.pem")
    init_ca.add_argument("--name", default=DEFAULT_CA_NAME, metavar="NAME",
                         help=f"the CA's common name (default {DEFAULT_CA_NAME!r})")
    init_ca.add_argument("--force", action="store_true", help="replace an existing CA in --out")
    init_ca.set_defaults(handler=_reporting_errors(cmd_init_ca))

    server_cert = tls.add_parser("server-cert", help="issue the server a certificate signed by the CA")
    server_cert.add_argument("--ca", type=Path, required=True, metavar="DIR",
                             help="directory holding ca.pem and ca-key.pem")
    server_cert.add_argument("--out", type=Path, required=True, metavar="DIR",
                             help="directory for server.pem and server-key.pem")
    server_cert.add_argument("--host", action="append", required=True, metavar="NAME_OR_IP",
                             help="a DNS name or IP address devices use to reach the server (repeat for each)")
    server_cert.add_argument("--force", action="store_true", help="replace an existing certificate in --out")
    server_cert.set_defaults(handler=_reporting_errors(cmd_server_cert))
