"""Real nodes as a city runs them: `townsquare serve` processes configured from
deploy/townsquare.env, and Debian's nginx in front of them with deploy/nginx/townsquare.conf."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.server import free_port
from tests.support.waiting import wait_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def documented_env(**overrides: str) -> dict[str, str]:
    """The settings of deploy/townsquare.env (commented lines skipped), with `overrides`."""
    env = {}
    for line in (DEPLOY / "townsquare.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env | {f"TOWNSQUARE_{k.upper()}": v for k, v in overrides.items()}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`townsquare ARGS` in its own process, as an operator types it."""
    return subprocess.run(
        [sys.executable, "-m", "townsquare.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def nodes(
    envs: list[dict[str, str]],
    logs: list[Path],
    command: list[str] | None = None,
    serve_args: tuple[str, ...] = (),
) -> Iterator[list[str]]:
    """`townsquare serve` processes started together; yields their base URLs once ready.

    `command` is how `townsquare` is run: by default this interpreter's module; `serve_args`
    are added to `serve` (`--workers 2`).
    """
    program = command or [sys.executable, "-m", "townsquare.cli"]
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for env, log in zip(envs, logs, strict=True):
            port = free_port()
            with log.open("w") as out:
                process = subprocess.Popen(
                    [*program, "serve", "--port", str(port), *serve_args],
                    env={**os.environ, **env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append((process, f"http://127.0.0.1:{port}", log))
        for process, base, log in started:
            wait_for(lambda p=process, b=base, g=log: _ready(p, b, g), timeout=90, what=base)
        yield [base for _, base, _ in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ready(process: subprocess.Popen[bytes], base: str, log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"node exited: {log.read_text()[-2000:]}")
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def node(env: dict[str, str], log: Path) -> Iterator[str]:
    """One `townsquare serve` process; yields its base URL once it is ready."""
    with nodes([env], [log]) as (base,):
        yield base


def self_signed(folder: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A certificate for `host` and its key, as PEM files (the test's Let's Encrypt)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def site_config(upstreams: list[str], https_port: int, http_port: int, certs: Path) -> str:
    """deploy/nginx/townsquare.conf pointed at these nodes, ports and certificate."""
    text = (DEPLOY / "nginx" / "townsquare.conf").read_text()
    documented = ["10.0.0.11:8000", "10.0.0.12:8000"]
    for old, new in zip(documented, upstreams, strict=True):
        text = text.replace(f"server {old}", f"server {new.removeprefix('http://')}")
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "townsquare.example.org": "localhost",
        "/etc/letsencrypt/live/localhost": str(certs),
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx/townsquare.conf no longer says {old!r}"
        text = text.replace(old, new)
    return text


@contextmanager
def nginx(
    upstreams: list[str], folder: Path, *, https_port: int | None = None
) -> Iterator[tuple[str, ssl.SSLContext]]:
    """Debian's nginx in front of `upstreams`; yields its HTTPS base URL and a TLS context
    that trusts its certificate."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: apt-get install -y nginx (.ci/run installs it)")
    folder.mkdir(parents=True, exist_ok=True)
    cert, _ = self_signed(folder)
    https_port, http_port = https_port or free_port(), free_port()
    (folder / "site.conf").write_text(site_config(upstreams, https_port, http_port, folder))
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the test's folder
    (folder / "nginx.conf").write_text(
        f"""{user}
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log {folder / "access.log"};
{temp}
    uwsgi_temp_path {folder / "uwsgi"};
    scgi_temp_path {folder / "scgi"};
    include {folder / "site.conf"};
}}
"""
    )
    with (folder / "stderr.log").open("w") as errors:
        process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    base = f"https://localhost:{https_port}"
    trust = ssl.create_default_context(cafile=str(cert))

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError((folder / "stderr.log").read_text()[-2000:])
        try:
            return httpx.get(f"{base}/readyz", verify=trust, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=30, what="nginx in front of the nodes")
        yield base, trust
    finally:
        process.terminate()
        process.wait(timeout=15)
