"""A certificate authority made for one run, and the server certificates it signs (HTTPS on
127.0.0.1).

The local servers that stand in for AWS's HTTPS endpoints (CodeCommit's git
endpoint, a provider's REST API in tests) present a certificate of this CA;
the processes that call them trust it through the standard variables
(:meth:`CertificateAuthority.environment`: ``SSL_CERT_FILE`` for Python's
``ssl`` and urllib3, ``GIT_SSL_CAINFO`` for git, ``REQUESTS_CA_BUNDLE``,
``MLFLOW_TRACKING_SERVER_CERT_PATH`` for the MLflow client), so
that code calling them verifies TLS as it would against AWS and needs no
``http://`` allowance. The CA exists only for the run: its key never leaves
the temporary directory it was made in.
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_FOR = timedelta(days=2)
DEFAULT_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class CertificateAuthority:
    """The run's CA: ``certificate_path`` is what clients trust."""

    directory: Path
    certificate_path: Path
    _key_path: Path

    @classmethod
    def create(cls, directory: Path | None = None) -> CertificateAuthority:
        directory = directory or Path(tempfile.mkdtemp(prefix="sandbox-ca-"))
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlops-portfolio sandbox CA")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + VALID_FOR)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        certificate_path = directory / "ca.pem"
        key_path = directory / "ca-key.pem"
        certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(_private_bytes(key))
        key_path.chmod(0o600)
        return cls(directory, certificate_path, key_path)

    def environment(self) -> dict[str, str]:
        """The variables with which Python (ssl, urllib3, requests) and git trust this CA only."""
        path = str(self.certificate_path)
        return {
            "SSL_CERT_FILE": path,
            "REQUESTS_CA_BUNDLE": path,
            "GIT_SSL_CAINFO": path,
            "MLFLOW_TRACKING_SERVER_CERT_PATH": path,  # the MLflow client's own setting
        }

    def server_files(self, hosts: tuple[str, ...] = DEFAULT_HOSTS) -> tuple[Path, Path]:
        """(certificate, key) files of a new certificate of this CA for ``hosts`` (names, IPs
        or ``*.`` wildcards), for a server that reads them itself (uvicorn)."""
        certificate, key = self._issue(hosts)
        stem = "-".join(h.replace(":", "_").replace("*", "any") for h in hosts)[:80]
        certificate_path = self.directory / f"server-{stem}.pem"
        key_path = self.directory / f"server-{stem}-key.pem"
        certificate_path.write_bytes(certificate)
        key_path.write_bytes(key)
        key_path.chmod(0o600)
        return certificate_path, key_path

    def server_context(self, hosts: tuple[str, ...] = DEFAULT_HOSTS) -> ssl.SSLContext:
        """A TLS server context with a certificate of this CA for ``hosts`` (names or IPs)."""
        certificate_path, key_path = self.server_files(hosts)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certificate_path, key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that verifies servers against this CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.certificate_path))

    def _issue(self, hosts: tuple[str, ...]) -> tuple[bytes, bytes]:
        ca_key = serialization.load_pem_private_key(self._key_path.read_bytes(), password=None)
        ca = x509.load_pem_x509_certificate(self.certificate_path.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + VALID_FOR)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        return certificate.public_bytes(serialization.Encoding.PEM), _private_bytes(key)


def _private_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
