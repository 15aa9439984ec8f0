"""Notifications after a run, against real local servers: an HTTP webhook and SMTP."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.helpers.cli import run_waldo
from tests.helpers.projects import chain_project, kedro_run

pytestmark = pytest.mark.slow


class Inbox:
    """What the local servers received."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.mails: list[Any] = []


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int, int]]:
    box = Inbox()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            box.posts.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.mails.append(message_from_bytes(envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    yield box, http.server_address[1], smtp_port
    smtp.stop()
    http.shutdown()


def latest_run(root: Path) -> dict[str, Any]:
    """The newest run of the project's journal, as ``waldo show latest`` gives it."""
    out = run_waldo("-C", str(root), "show", "latest", "--format", "json")
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def notify_yml(http_port: int, smtp_port: int, on: str) -> str:
    return f"""
notify:
  when: {on}
  webhook:
    credentials: team_hook
  email:
    host: 127.0.0.1
    port: {smtp_port}
    from: waldo@example.com
    to: [data-team@example.com]
"""


def test_a_failed_run_notifies_by_webhook_and_email(
    inbox: tuple[Inbox, int, int], tmp_path: Path
) -> None:
    box, http_port, smtp_port = inbox
    root = chain_project(
        tmp_path / "proj",
        nodes=2,
        fail_node=1,
        waldo_yml=notify_yml(http_port, smtp_port, "[failure]"),
        credentials_yml=f"team_hook:\n  url: http://127.0.0.1:{http_port}/hook\n",
    )
    before_posts, before_mails = len(box.posts), len(box.mails)
    result = kedro_run(root)
    assert result.returncode != 0  # the node's failure, nothing else
    run = latest_run(root)
    [post] = box.posts[before_posts:]
    assert post["run_id"] == run["run_id"]
    assert post["status"] == "failed" and post["project"] == "proj"
    assert post["pipelines"] == ["__default__"]
    assert post["error"] == "ValueError: step_1 failed on purpose"
    assert 0 <= post["duration_s"] <= run["duration_s"] + 1
    assert post["text"] == (
        f"Waldo: run {run['run_id']} of proj (__default__) failed after "
        f"{post['duration_s']:.1f} s: ValueError: step_1 failed on purpose"
    )
    [mail] = box.mails[before_mails:]
    assert mail["Subject"] == f"[waldo] proj failed: {run['run_id']}"
    assert mail["From"] == "waldo@example.com" and mail["To"] == "data-team@example.com"
    body = mail.get_payload(decode=True).decode().replace("\r\n", "\n")
    text, payload = body.split("\n\n", 1)
    assert text == post["text"]
    assert json.loads(payload) == post


def test_a_successful_run_is_quiet_unless_asked(
    inbox: tuple[Inbox, int, int], tmp_path: Path
) -> None:
    box, http_port, smtp_port = inbox
    root = chain_project(
        tmp_path / "proj",
        nodes=1,
        waldo_yml=notify_yml(http_port, smtp_port, "[failure]"),
        credentials_yml=f"team_hook:\n  url: http://127.0.0.1:{http_port}/hook\n",
    )
    before = len(box.posts)
    assert kedro_run(root).returncode == 0
    assert len(box.posts) == before


def test_a_failing_notifier_never_fails_the_run(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens there once closed
    root = chain_project(
        tmp_path / "proj",
        nodes=1,
        waldo_yml=(
            "strict: true\nnotify:\n  on: [success]\n  webhook:\n"  # `on:`, the YAML trap
            f"    url: http://127.0.0.1:{closed}/x\n"
        ),
    )
    result = kedro_run(root)
    assert result.returncode == 0, result.stderr[-2000:]
    output = " ".join((result.stdout + result.stderr).split())  # undo rich's line wrapping
    assert output.count("waldo: the webhook notification for") == 1  # one warning, that's all


@pytest.fixture(scope="module")
def tls_mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Inbox, int, list[str]]]:
    """An SMTP server that requires STARTTLS before AUTH, with one account."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Inbox()
    logins: list[str] = []

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.mails.append(message_from_bytes(envelope.content))
            return "250 OK"

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        login, password = auth_data.login.decode(), auth_data.password.decode()
        logins.append(login)
        return AuthResult(success=(login, password) == ("ops", "s3cret-pass"))

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(
        Mailbox(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    smtp.start()
    yield box, port, logins
    smtp.stop()


def test_mail_over_starttls_logs_in_with_the_credentials_entry(
    tls_mailbox: tuple[Inbox, int, list[str]], tmp_path: Path
) -> None:
    box, port, logins = tls_mailbox
    before_logins, before_mails = len(logins), len(box.mails)
    root = chain_project(
        tmp_path / "proj",
        nodes=1,
        waldo_yml=(
            "notify:\n  when: [success]\n  email:\n    host: 127.0.0.1\n"
            f"    port: {port}\n    starttls: true\n    from: waldo@example.com\n"
            "    to: [ops@example.com]\n    credentials: smtp\n"
        ),
        credentials_yml="smtp:\n  username: ops\n  password: s3cret-pass\n",
    )
    result = kedro_run(root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "notification" not in result.stdout + result.stderr  # no warning: it was sent
    assert logins[before_logins:] == ["ops"]
    [mail] = box.mails[before_mails:]
    run = latest_run(root)
    assert mail["Subject"] == f"[waldo] proj success: {run['run_id']}"
    assert mail["To"] == "ops@example.com"


def test_mail_with_wrong_credentials_is_one_warning(
    tls_mailbox: tuple[Inbox, int, list[str]], tmp_path: Path
) -> None:
    box, port, _ = tls_mailbox
    before = len(box.mails)
    root = chain_project(
        tmp_path / "proj",
        nodes=1,
        waldo_yml=(
            "notify:\n  when: [success]\n  email:\n    host: 127.0.0.1\n"
            f"    port: {port}\n    starttls: true\n    to: [ops@example.com]\n"
            "    credentials: smtp\n"
        ),
        credentials_yml="smtp:\n  username: ops\n  password: wrong\n",
    )
    result = kedro_run(root)
    assert result.returncode == 0, result.stderr[-2000:]
    output = " ".join((result.stdout + result.stderr).split())
    assert output.count("waldo: the email notification for") == 1
    assert "wrong" not in output  # the password is never printed
    assert len(box.mails) == before
