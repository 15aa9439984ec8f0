"""The API wrapper against a real local HTTP server: hooks, pagination, retries, errors."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from waldo import ApiAuthError, ApiError
from waldo.collect import (
    API,
    LinkHeaderPaginator,
    PageNumberPaginator,
    Request,
    Response,
    TokenPaginator,
    request_hook,
    response_hook,
)
from waldo.collect.testing import JsonServer, Reply

TOKEN = "ghp_s3cr3t-t0ken-value"


class TokenAPI(API):
    backoff = 0.01

    def __init__(self, url: str, token: str = TOKEN) -> None:
        self.url = url
        self.token = token

    @request_hook
    def authenticate(self, request: Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.token}"


def test_hooks_run_in_declaration_order_base_class_first(json_server: JsonServer) -> None:
    json_server.route("/x", {"ok": True})
    calls: list[str] = []

    class Base(API):
        @request_hook
        def first(self, request: Request) -> None:
            calls.append("base request")

        @response_hook
        def checked(self, response: Response) -> None:
            calls.append("base response")

    class Child(Base):
        @request_hook
        def second(self, request: Request) -> None:
            calls.append("child request 1")

        @request_hook
        def third(self, request: Request) -> Request:
            calls.append("child request 2")
            request.headers["X-Seen"] = "yes"
            return request

        @response_hook
        def wrap(self, response: Response) -> dict[str, Any]:
            calls.append("child response")
            return {"wrapped": response.json()}

    assert Child().get(json_server.url, "x") == {"wrapped": {"ok": True}}
    assert calls == [
        "base request",
        "child request 1",
        "child request 2",
        "base response",
        "child response",
    ]
    assert json_server.seen("/x")[0].headers["x-seen"] == "yes"


def test_token_paginator_walks_every_page(json_server: JsonServer) -> None:
    json_server.route("/c", {"results": [1, 2], "nextPage": "p2"})
    json_server.route("/c?page=p2", {"results": [3], "nextPage": "p3"})
    json_server.route("/c?page=p3", {"results": [], "nextPage": None})

    class Comments(TokenAPI):
        paginator = TokenPaginator("results", "nextPage", "page")

    assert list(Comments(json_server.url).get(json_server.url, "c")) == [1, 2, 3]
    assert [r.query.get("page") for r in json_server.seen("/c")] == [None, "p2", "p3"]
    # the token went with every page
    assert {r.headers["authorization"] for r in json_server.seen("/c")} == {f"Bearer {TOKEN}"}


def test_page_number_paginator_stops_on_a_short_page(json_server: JsonServer) -> None:
    json_server.route("/n?page=1", [1, 2, 3])
    json_server.route("/n?page=2", [4, 5, 6])
    json_server.route("/n?page=3", [7])

    class Numbers(API):
        paginator = PageNumberPaginator(per_page=3)

    assert list(Numbers().get(json_server.url, "n")) == [1, 2, 3, 4, 5, 6, 7]
    assert len(json_server.seen("/n")) == 3
    assert json_server.seen("/n")[0].query == {"page": "1", "per_page": "3"}


def test_link_header_paginator_follows_rel_next(json_server: JsonServer) -> None:
    json_server.route(
        "/runs",
        Reply(
            {"workflow_runs": [{"id": 1}, {"id": 2}]},
            headers={"Link": '<{url}/runs?page=2>; rel="next", <{url}/runs?page=2>; rel="last"'},
        ),
    )
    json_server.route("/runs?page=2", {"workflow_runs": [{"id": 3}]})

    class Runs(API):
        paginator = LinkHeaderPaginator("workflow_runs")

    assert [r["id"] for r in Runs().get(json_server.url, "runs")] == [1, 2, 3]


def test_429_waits_for_retry_after_then_succeeds(json_server: JsonServer) -> None:
    json_server.route(
        "/limited",
        Reply({"message": "slow down"}, 429, headers={"Retry-After": "1"}),
        Reply({"ok": 1}),
    )
    started = time.monotonic()
    assert TokenAPI(json_server.url).get(json_server.url, "limited").json() == {"ok": 1}
    assert time.monotonic() - started >= 1.0
    assert len(json_server.seen("/limited")) == 2


def test_500_is_retried_then_succeeds(json_server: JsonServer) -> None:
    json_server.route(
        "/flaky", Reply({"error": "boom"}, 500), Reply({"error": "boom"}, 502), {"ok": 2}
    )
    assert TokenAPI(json_server.url).get(json_server.url, "flaky").json() == {"ok": 2}
    assert len(json_server.seen("/flaky")) == 3


def test_tries_are_bounded(json_server: JsonServer) -> None:
    json_server.route("/down", Reply({"error": "down"}, 503))
    with pytest.raises(ApiError, match=r"HTTP 503 \(4 tries\)"):
        TokenAPI(json_server.url).get(json_server.url, "down")
    assert len(json_server.seen("/down")) == TokenAPI.max_tries


def test_a_slow_server_times_out(json_server: JsonServer) -> None:
    json_server.route("/slow", Reply({"late": True}, delay=1.0))

    class Impatient(TokenAPI):
        read_timeout = 0.2
        max_tries = 2

    with pytest.raises(ApiError, match=r"timed out after 0\.2 s"):
        Impatient(json_server.url).get(json_server.url, "slow")


def test_bad_token_is_a_clear_error_and_the_token_is_never_logged(
    json_server: JsonServer, caplog: pytest.LogCaptureFixture
) -> None:
    json_server.require_header("authorization", "Bearer the-right-one")
    json_server.route("/user", {"login": "octocat"})
    json_server.route("/flaky", Reply({}, 500), {"ok": 1})
    caplog.set_level(logging.DEBUG)
    api = TokenAPI(json_server.url)
    with pytest.raises(ApiAuthError) as refused:
        api.get(json_server.url, "user", access_token=TOKEN)
    message = str(refused.value)
    assert "HTTP 401" in message and "token" in message
    assert TOKEN not in message
    assert "access_token=%2A%2A%2A" in message or "access_token=***" in message
    assert len(json_server.seen("/user")) == 1  # a refused token is not retried
    json_server.required_headers.clear()
    api.get(json_server.url, "flaky", access_token=TOKEN)
    assert caplog.records, "the API logs its requests and retries"
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_an_unreachable_server_is_an_api_error() -> None:
    class Quick(API):
        backoff = 0.01

    with pytest.raises(ApiError, match=r"could not connect \(4 tries\)"):
        Quick().get("http://127.0.0.1:9", "nothing")


def test_a_non_json_answer_says_so(json_server: JsonServer) -> None:
    json_server.route("/html", Reply(None))
    with pytest.raises(ApiError, match="did not answer JSON"):
        TokenAPI(json_server.url).get(json_server.url, "html").json()
