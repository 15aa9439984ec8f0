"""Notifications after a run, against real local servers: an HTTP webhook and SMTP."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

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
    [post] = box.posts[before_posts:]
    assert post["status"] == "failed" and post["project"] == "proj"
    assert "failed" in post["text"] and "step_1 failed on purpose" in post["text"]
    [mail] = box.mails[before_mails:]
    assert "failed" in mail["Subject"] and mail["To"] == "data-team@example.com"


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
