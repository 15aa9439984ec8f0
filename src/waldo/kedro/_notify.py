"""Notifications after a run: a webhook (JSON, Slack-compatible) and email by SMTP.

Configured in ``waldo.yml``; secrets come from ``credentials.yml``::

    notify:
      when: [failure]                # failure (default), success, or both
      webhook:
        url: https://hooks.slack.com/services/...    # or `credentials: slack`
      email:
        host: smtp.example.com
        port: 587
        starttls: true
        from: waldo@example.com
        to: [data-team@example.com]
        credentials: smtp            # entry with `username` and `password`

A notifier that fails (a server down, a bad address) logs one warning and never fails
the run, strict mode or not: the run already happened, and its record is safe.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

log = logging.getLogger("waldo")
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunOutcome:
    """What a notification says about a run."""

    run_id: str
    project: str | None
    pipelines: list[str]
    status: str
    duration_s: float | None
    error: str | None = None

    @property
    def text(self) -> str:
        took = f" after {self.duration_s:.1f} s" if self.duration_s is not None else ""
        head = (
            f"Waldo: run {self.run_id} of {self.project or 'a project'} "
            f"({', '.join(self.pipelines) or '__default__'}) {self.status}{took}"
        )
        return f"{head}: {self.error}" if self.error else head

    def payload(self) -> dict[str, Any]:
        return {
            "text": self.text,  # what Slack (and most chat webhooks) display
            "run_id": self.run_id,
            "project": self.project,
            "pipelines": self.pipelines,
            "status": self.status,
            "duration_s": self.duration_s,
            "error": self.error,
        }


def _secret(entry: Any, credentials: Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(entry, str):
        found = credentials.get(entry)
        if isinstance(found, Mapping):
            return found
        if isinstance(found, str):
            return {"url": found}
        raise ValueError(f"credentials.yml has no entry '{entry}'")
    return {}


def send_webhook(
    config: Mapping[str, Any], outcome: RunOutcome, credentials: Mapping[str, Any]
) -> None:
    url = config.get("url") or _secret(config.get("credentials"), credentials).get("url")
    if not url:
        raise ValueError("the webhook has no `url` (or `credentials` entry with one)")
    request = urllib.request.Request(
        str(url),
        data=json.dumps(outcome.payload()).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        if response.status >= 300:
            raise ValueError(f"the webhook answered HTTP {response.status}")


def send_email(
    config: Mapping[str, Any], outcome: RunOutcome, credentials: Mapping[str, Any]
) -> None:
    recipients = config.get("to") or []
    if isinstance(recipients, str):
        recipients = [recipients]
    if not config.get("host") or not recipients:
        raise ValueError("email needs `host` and `to`")
    message = EmailMessage()
    message["Subject"] = f"[waldo] {outcome.project or 'run'} {outcome.status}: {outcome.run_id}"
    message["From"] = str(config.get("from") or "waldo@localhost")
    message["To"] = ", ".join(recipients)
    message.set_content(outcome.text + "\n\n" + json.dumps(outcome.payload(), indent=2))
    secret = _secret(config.get("credentials"), credentials)
    with smtplib.SMTP(str(config["host"]), int(config.get("port", 25)), timeout=TIMEOUT_S) as smtp:
        if config.get("starttls"):
            smtp.starttls()
        if secret.get("username"):
            smtp.login(str(secret["username"]), str(secret.get("password", "")))
        smtp.send_message(message)


SENDERS = {"webhook": send_webhook, "email": send_email}


def notify(
    config: Mapping[str, Any] | None, outcome: RunOutcome, credentials: Mapping[str, Any]
) -> list[str]:
    """Send the configured notifications for a run; return the channels that worked."""
    if not config:
        return []
    # ``on:`` is a YAML 1.1 boolean key (it loads as True), hence ``when:``; both work.
    when = config.get("when", config.get("on", config.get(True, ["failure"])))  # type: ignore[call-overload]
    when = [when] if isinstance(when, str) else list(when)
    wanted = "failure" if outcome.status == "failed" else "success"
    if wanted not in when:
        return []
    sent = []
    for channel, sender in SENDERS.items():
        if channel not in config:
            continue
        try:
            sender(config[channel] or {}, outcome, credentials)
            sent.append(channel)
        except (OSError, ValueError, smtplib.SMTPException, urllib.error.URLError) as exc:
            log.warning(
                "waldo: the %s notification for run %s failed: %s", channel, outcome.run_id, exc
            )
        except Exception as exc:  # a notifier must never fail the run
            log.warning(
                "waldo: the %s notification for run %s failed: %r", channel, outcome.run_id, exc
            )
    return sent
