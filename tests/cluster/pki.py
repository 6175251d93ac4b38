"""The control plane's certificates, keys and kubeconfigs, made fresh for each start.

One CA signs everything: the API server's serving certificate and one client certificate per
identity (the test's admin, the controller manager, the scheduler, the kubelet, kube-proxy, and the
API server itself when it calls the kubelet). The Node authorizer and NodeRestriction recognise the
kubelet by its name, ``system:node:<node>`` in group ``system:nodes``; the others map to the
ClusterRoleBindings the API server creates for them at start-up.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=2)


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, as PEM files."""

    certificate: Path
    key: Path


@dataclass(frozen=True)
class Identity:
    """A client of the API server: its user name and groups, as its certificate states them."""

    file_stem: str
    user: str
    groups: tuple[str, ...] = ()


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(pair: KeyPair, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> KeyPair:
    pair.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pair.key.write_bytes(_pem_key(key))
    pair.key.chmod(0o600)
    return pair


class Pki:
    """A CA in ``directory`` and the certificates it signs."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gce-test-cluster-ca")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self._ca_name = name
        self._ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
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
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca = _write(KeyPair(directory / "ca.crt", directory / "ca.key"), self._ca_cert, self._ca_key)

    def _issue(
        self,
        stem: str,
        common_name: str,
        organizations: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
        dns_names: tuple[str, ...] = (),
        server: bool = False,
    ) -> KeyPair:
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        now = datetime.datetime.now(datetime.timezone.utc)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(self._ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        names += [x509.DNSName(name) for name in dns_names]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(self._ca_key, hashes.SHA256())
        return _write(KeyPair(self.directory / f"{stem}.crt", self.directory / f"{stem}.key"), certificate, key)

    def serving(self, stem: str, ips: tuple[str, ...], dns_names: tuple[str, ...]) -> KeyPair:
        """A server certificate for these addresses and names."""
        return self._issue(stem, stem, ips=ips, dns_names=dns_names, server=True)

    def client(self, identity: Identity) -> KeyPair:
        """A client certificate: CN is the user, O the groups (how the API server reads them)."""
        return self._issue(identity.file_stem, identity.user, identity.groups)

    def service_account_key(self) -> KeyPair:
        """The key the API server signs service-account tokens with (``certificate`` holds its public half)."""
        key = ec.generate_private_key(ec.SECP256R1())
        pair = KeyPair(self.directory / "sa.pub", self.directory / "sa.key")
        pair.certificate.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        pair.key.write_bytes(_pem_key(key))
        pair.key.chmod(0o600)
        return pair

    def kubeconfig(self, path: Path, server: str, identity: Identity) -> Path:
        """A kubeconfig for ``identity`` at ``server``, certificates embedded (one file, easy to hand over)."""
        pair = self.client(identity)

        def data(file: Path) -> str:
            return base64.b64encode(file.read_bytes()).decode()

        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "gce-test",
                    "cluster": {"server": server, "certificate-authority-data": data(self.ca.certificate)},
                }
            ],
            "users": [
                {
                    "name": identity.user,
                    "user": {"client-certificate-data": data(pair.certificate), "client-key-data": data(pair.key)},
                }
            ],
            "contexts": [{"name": "gce-test", "context": {"cluster": "gce-test", "user": identity.user}}],
            "current-context": "gce-test",
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        path.chmod(0o600)
        return path
