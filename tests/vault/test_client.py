"""Vault access: address and auth from config or environment (token, AppRole, JWT incl. GitHub's OIDC
endpoint), TLS verified unless explicitly disabled, and one-line errors naming the address."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from components.vault import (
    VaultAuthError,
    VaultClient,
    VaultConfigError,
    VaultConnection,
    VaultPermissionDenied,
    VaultUnreachable,
)
from components.vault.connection import forget_logins, resolve
from ops.openbao_server import free_port
from tests.support.leaks import assert_no_leak
from tests.vault.conftest import Authority


def test_explicit_address_wins_and_credentials_come_from_the_environment() -> None:
    env = {"VAULT_ADDR": "http://env:1", "VAULT_TOKEN": "t-env"}
    assert resolve(VaultConnection(address="http://cfg:2"), env).address == "http://cfg:2"
    assert resolve(VaultConnection(), env).address == "http://env:1"
    assert resolve(VaultConnection(), {**env, "VAULT_SERVER_URL": "http://srv:3"}).address == "http://srv:3"
    r = resolve(VaultConnection(), {**env, "VAULT_SERVER_TOKEN": "t-srv"})
    assert (r.method, r.credential) == ("token", "t-srv")
    assert "t-srv" not in repr(r)
    assert (
        resolve(VaultConnection(), {"VAULT_ADDR": "http://a", "VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"}).method
        == "approle"
    )
    assert resolve(VaultConnection(role="ci"), {"VAULT_ADDR": "http://a", "VAULT_JWT": "x.y.z"}).method == "jwt"


def test_token_file(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("from-file\n")
    assert resolve(None, {"VAULT_ADDR": "http://a", "VAULT_TOKEN_FILE": str(tmp_path / "t")}).credential == "from-file"


def test_tls_is_verified_unless_explicitly_disabled() -> None:
    assert resolve(None, {"VAULT_ADDR": "https://a", "VAULT_TOKEN": "t"}).verify is True
    assert resolve(None, {"VAULT_ADDR": "https://a", "VAULT_TOKEN": "t", "VAULT_SKIP_VERIFY": "false"}).verify is True
    assert resolve(None, {"VAULT_ADDR": "https://a", "VAULT_TOKEN": "t", "VAULT_SKIP_VERIFY": "true"}).verify is False
    assert resolve(VaultConnection(skip_verify=True), {"VAULT_ADDR": "https://a", "VAULT_TOKEN": "t"}).verify is False
    assert resolve(None, {"VAULT_ADDR": "https://a", "VAULT_TOKEN": "t", "VAULT_CACERT": "/ca.pem"}).verify == "/ca.pem"
    cfg = VaultConnection.from_config({"address": "https://v", "skipVerify": "false", "authMethod": "jwt", "role": "r"})
    assert cfg.skip_verify is False and cfg.auth_method == "jwt" and cfg.role == "r"


@pytest.mark.parametrize(
    ("conn", "env", "needle"),
    [
        (VaultConnection(), {}, "no Vault address"),
        (VaultConnection(address="http://a"), {}, "no Vault credentials"),
        (VaultConnection(address="http://a", auth_method="jwt"), {}, "VAULT_JWT_ROLE"),
        (VaultConnection(address="http://a", auth_method="approle"), {"VAULT_ROLE_ID": "r"}, "VAULT_SECRET_ID"),
    ],
)
def test_missing_settings_are_one_line(conn: VaultConnection, env: dict[str, str], needle: str) -> None:
    with pytest.raises(VaultConfigError) as info:
        resolve(conn, env)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_unreachable_address_is_one_line_naming_it() -> None:
    address = f"http://127.0.0.1:{free_port()}"
    client = VaultClient.connect(VaultConnection(address=address, timeout=3), {"VAULT_TOKEN": "t"})
    with pytest.raises(VaultUnreachable) as info:
        client.health()
    assert address in str(info.value) and "\n" not in str(info.value)


@pytest.fixture
def self_signed_https(tmp_path: Path) -> Iterator[str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"initialized": True, "sealed": False}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
def test_untrusted_certificate_is_refused_by_default(self_signed_https: str, tmp_path: Path) -> None:
    client = VaultClient.connect(VaultConnection(address=self_signed_https), {"VAULT_TOKEN": "t"})
    with pytest.raises(VaultUnreachable, match="TLS certificate verification failed") as info:
        client.health()
    assert self_signed_https in str(info.value)
    # trusted through its CA, or (explicitly) not verified: the same server answers
    VaultClient.connect(
        VaultConnection(address=self_signed_https, ca_cert=str(tmp_path / "c.pem")), {"VAULT_TOKEN": "t"}
    ).health()
    VaultClient.connect(
        VaultConnection(address=self_signed_https), {"VAULT_TOKEN": "t", "VAULT_SKIP_VERIFY": "true"}
    ).health()


def test_approle_login(authority: Authority) -> None:
    admin = authority.admin()
    if "approle/" not in admin.sys.list_auth_methods()["data"]:
        admin.sys.enable_auth_method("approle")
    admin.write_data("auth/approle/role/stack-staging", data={"token_policies": ["finance_report-stack-staging"]})
    role_id = admin.read("auth/approle/role/stack-staging/role-id")["data"]["role_id"]
    secret_id = admin.write_data("auth/approle/role/stack-staging/secret-id", data={})["data"]["secret_id"]
    env = {"VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id}
    client = VaultClient.connect(VaultConnection(address=authority.address), env)
    assert "finance_report-stack-staging" in client.lookup_self()["policies"]
    forget_logins()
    with pytest.raises(VaultAuthError) as info:
        VaultClient.connect(VaultConnection(address=authority.address), {**env, "VAULT_SECRET_ID": "wrong"})
    assert authority.address in str(info.value) and "\n" not in str(info.value)
    assert_no_leak(str(info.value), [secret_id])


def test_jwt_login_from_env_and_from_github_oidc(authority: Authority) -> None:
    conn = VaultConnection(address=authority.address, auth_method="jwt", role="finance_report-staging")
    jwt = authority.signer.sign(environment="staging")
    client = VaultClient.connect(conn, {"VAULT_JWT": jwt})
    assert "finance_report-stack-staging" in client.lookup_self()["policies"]

    seen: dict[str, str] = {}

    class Oidc(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen["auth"], seen["path"] = self.headers["Authorization"], self.path
            body = json.dumps({"value": authority.signer.sign(environment="staging")}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Oidc)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gh = {"ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_address[1]}/token?x=1",
              "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-bearer"}  # fmt: skip
        client = VaultClient.connect(conn, gh)
        assert "finance_report-stack-staging" in client.lookup_self()["policies"]
    finally:
        server.shutdown()
    assert seen["auth"] == "Bearer runner-bearer" and "audience=finance-report-vault" in seen["path"]

    with pytest.raises(VaultAuthError) as info:  # the staging claim cannot use the production role
        VaultClient.connect(
            VaultConnection(address=authority.address, auth_method="jwt", role="finance_report-production"),
            {"VAULT_JWT": jwt},
        )
    assert "finance_report-production" in str(info.value) and "\n" not in str(info.value)


def test_permission_denied_names_address_and_path(authority: Authority) -> None:
    client = authority.as_token(authority.identity("staging"))
    with pytest.raises(VaultPermissionDenied) as info:
        client.kv_read("secret", "finance_report/production/app")
    msg = str(info.value)
    assert authority.address in msg and "secret/finance_report/production/app" in msg and "\n" not in msg


def test_invalid_token_is_an_auth_error(authority: Authority) -> None:
    with pytest.raises(VaultAuthError, match="invalid, expired or revoked"):
        authority.as_token("s.not-a-token").lookup_self()
