"""The `viva` command, run as a user would run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fixtures.live import free_port

VIVA = str(Path(sys.executable).with_name("viva"))


def viva(*args: str, db: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIVA_DATABASE_URL": db}
    out = subprocess.run([VIVA, *args], capture_output=True, text=True, env=env, timeout=60)
    if check:
        assert out.returncode == 0, out.stderr + out.stdout
    return out


def test_admin_commands(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    viva("migrate", db=db)
    assert "created workspace acme" in viva("workspaces", "create", "acme", "--name", "Acme", db=db).stdout
    dup = viva("workspaces", "create", "acme", db=db, check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad = viva("workspaces", "create", "Not A Slug", db=db, check=False)
    assert bad.returncode == 1 and "slug" in bad.stderr

    assert "acme: plan unlimited" in viva("workspaces", "credits", "acme", db=db).stdout
    assert (
        "acme: plan credits, 3 credits" in viva("workspaces", "credits", "acme", "--set", "3", db=db).stdout
    )
    assert "acme: plan none" in viva("workspaces", "credits", "acme", "--no-plan", db=db).stdout
    assert "acme: plan unlimited" in viva("workspaces", "credits", "acme", "--unlimited", db=db).stdout
    bad = viva("workspaces", "credits", "acme", "--set", "-1", db=db, check=False)
    assert bad.returncode == 1 and "negative" in bad.stderr

    out = viva("keys", "create", "--workspace", "acme", "--name", "ci", "--scope", "candidates.read", db=db)
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("iv_live_") and " " not in key
    bad = viva("keys", "create", "--workspace", "acme", "--scope", "everything", db=db, check=False)
    assert bad.returncode == 1 and "Unknown scope" in bad.stderr
    missing = viva("keys", "create", "--workspace", "nope", db=db, check=False)
    assert missing.returncode == 1 and "Workspace not found" in missing.stderr

    listed = viva("keys", "list", "--workspace", "acme", db=db).stdout
    assert "active" in listed and key not in listed  # only the prefix is ever shown again
    key_id = listed.split()[0]

    out = viva(
        "users", "create", "--workspace", "acme", "--email", "Rev@Acme.test", "--role", "reviewer", db=db
    )
    assert "rev@acme.test is reviewer of acme" in out.stdout
    password = out.stdout.split("password: ")[1].strip()
    bad = viva(
        "users",
        "create",
        "--workspace",
        "acme",
        "--email",
        "x@acme.test",
        "--role",
        "boss",
        db=db,
        check=False,
    )
    assert bad.returncode == 1 and "role" in bad.stderr

    port = free_port()
    server = _start(["serve", "--port", str(port)], db, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, server)
        assert httpx.get(f"{base}/api/v1/participants", headers={"x-api-key": key}).status_code == 200
        assert httpx.get(f"{base}/api/v1/agent-profiles", headers={"x-api-key": key}).status_code == 403
        r = httpx.post(f"{base}/api/v1/auth/sign-in", json={"email": "rev@acme.test", "password": password})
        assert r.status_code == 200 and r.json()["data"]["workspaces"][0]["role"] == "reviewer"
        assert "revoked" in viva("keys", "revoke", key_id, db=db).stdout
        assert httpx.get(f"{base}/api/v1/participants", headers={"x-api-key": key}).status_code == 401
    finally:
        _stop(server)


def _start(args: list[str], db: str | None, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "VIVA_DATABASE_URL"}
    if db:
        env["VIVA_DATABASE_URL"] = db
    return subprocess.Popen(
        [VIVA, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _wait_ready(base: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become ready")


def _stop(server: subprocess.Popen[str]) -> str:
    server.send_signal(signal.SIGINT)
    try:
        out, _ = server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        out, _ = server.communicate()
    return out


def test_serve_creates_the_first_workspace_once(tmp_path):
    """First start in an empty directory: ./var/viva.db, a default workspace, an owner and
    an all-scopes key, printed once. A second start prints and creates nothing."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(["serve", "--port", str(port)], None, tmp_path)
    try:
        _wait_ready(base, server)
    finally:
        first = _stop(server)
    assert (tmp_path / "var" / "viva.db").exists()
    key = first.split("API key   : ")[1].split()[0]
    email, password = first.split("Sign in   : ")[1].split()[0], first.split(" / ")[1].split()[0]
    assert key.startswith("iv_live_") and email == "owner@viva.local"

    server = _start(["serve", "--port", str(port)], None, tmp_path)
    try:
        _wait_ready(base, server)
        for path in (
            "/api/v1/agent-profiles",
            "/api/v1/participants",
            "/api/v1/evaluation-templates",
            "/api/v1/evaluation-stages",
        ):
            assert httpx.get(base + path, headers={"x-api-key": key}).status_code == 200
        r = httpx.post(f"{base}/api/v1/auth/sign-in", json={"email": email, "password": password})
        assert r.status_code == 200
        assert r.json()["data"]["workspaces"] == [
            {"slug": "default", "name": "Default workspace", "role": "owner"}
        ]
    finally:
        second = _stop(server)
    assert "iv_live_" not in second and password not in second
