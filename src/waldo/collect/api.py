"""A REST API wrapper with hooks, pagination and polite retries, as in pydevlake.

Subclass :class:`API`, add methods that call ``self.get(...)``, and declare hooks:

- ``@request_hook`` methods see each :class:`Request` before it is sent (to add a token
  header, say); ``@response_hook`` methods see each :class:`Response` (to wrap it,
  check it). Hooks run in declaration order, the base classes' hooks first; a hook
  returns a replacement or ``None`` to keep what it was given.
- Set ``paginator`` to a :class:`Paginator` and ``get`` returns a
  :class:`PagedResponse` whose iteration walks every item of every page.

What every plugin would otherwise get wrong is done here once: a timeout on every
request, a bounded number of tries with exponential backoff on 429, 5xx, timeouts and
refused connections, ``Retry-After`` honoured (seconds or an HTTP date), a clear
:class:`~waldo.ApiAuthError` on 401/403, and no header (where tokens travel) or secret
query value in any log line or error message.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from waldo._errors import ApiAuthError, ApiError

__all__ = [
    "API",
    "LinkHeaderPaginator",
    "PageNumberPaginator",
    "PagedResponse",
    "Paginator",
    "Request",
    "Response",
    "TokenPaginator",
    "request_hook",
    "response_hook",
]

log = logging.getLogger("waldo.collect.api")

F = TypeVar("F", bound=Callable[..., Any])
_SECRET_PARAM = re.compile(r"token|key|secret|password|passwd|signature|auth|sig", re.I)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def request_hook(fn: F) -> F:
    """Mark a method as a request hook: ``hook(self, request) -> Request | None``."""
    fn.__waldo_hook__ = "request"  # type: ignore[attr-defined]
    return fn


def response_hook(fn: F) -> F:
    """Mark a method as a response hook: ``hook(self, response) -> Response | None``."""
    fn.__waldo_hook__ = "response"  # type: ignore[attr-defined]
    return fn


def safe_url(url: str) -> str:
    """The URL with the values of secret-looking query parameters (and any password)
    replaced by ``***``, for logs and error messages."""
    parts = urlsplit(url)
    query = urlencode(
        [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query)],
        safe="*",
    )
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_SECRET_IN_TEXT = re.compile(
    r"(?P<key>[?&][^=&\s\"']*(?:token|key|secret|password|passwd|signature|auth|sig)"
    r"[^=&\s\"']*=)[^&\s\"']+",
    re.I,
)


class _MaskSecrets(logging.Filter):
    """Masks secret query values in urllib3's own debug lines (it logs every URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _SECRET_IN_TEXT.sub(r"\g<key>***", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_MaskSecrets())


class Request:
    """One HTTP request; hooks may change any attribute."""

    def __init__(
        self,
        url: str,
        method: str = "GET",
        query_args: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        self.url = url
        self.method = method
        self.query_args: dict[str, Any] = dict(query_args or {})
        self.headers: dict[str, str] = dict(headers or {})
        self.body = body
        #: True for the follow-up requests a paginator makes.
        self.is_next_page = False

    def copy(self, url: str | None = None, query_args: dict[str, Any] | None = None) -> Request:
        """A copy for the next page: another URL, or more query arguments."""
        more = query_args or {}
        clone = Request(
            url or self.url, self.method, {**self.query_args, **more}, self.headers, self.body
        )
        if url is not None and urlsplit(url).query:
            clone.query_args = dict(more)  # the URL carries its own query (a Link header)
        clone.is_next_page = True
        return clone

    @property
    def full_url(self) -> str:
        """The URL with the query arguments, as sent."""
        if not self.query_args:
            return self.url
        joiner = "&" if urlsplit(self.url).query else "?"
        return f"{self.url}{joiner}{urlencode(self.query_args, doseq=True)}"

    def __repr__(self) -> str:
        return f"Request({self.method} {safe_url(self.full_url)})"


class Response:
    """An HTTP response: status, headers, body, and the request that produced it."""

    def __init__(self, request: Request, raw: requests.Response) -> None:
        self.request = request
        self.raw = raw
        self.status = raw.status_code
        self.headers = raw.headers
        self.url = raw.url

    def json(self) -> Any:
        try:
            return self.raw.json()
        except ValueError as exc:
            raise ApiError(
                f"{self.request.method} {safe_url(self.url)} did not answer JSON "
                f"(HTTP {self.status}, {self.headers.get('Content-Type', 'no content type')})."
            ) from exc

    @property
    def text(self) -> str:
        return self.raw.text

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The parsed ``Link`` header (``{"next": {"url": ...}}``)."""
        return dict(self.raw.links)

    def __repr__(self) -> str:
        return f"Response({self.status} {safe_url(self.url)})"


class Paginator(ABC):
    """How an API splits results into pages: the items of a page, and the next page."""

    @abstractmethod
    def get_items(self, response: Response) -> list[Any]:
        """The items on this page."""

    @abstractmethod
    def get_next_page_request(self, response: Response, request: Request) -> Request | None:
        """The request for the page after ``response``, or None on the last page."""


def _items(body: Any, items_attr: str | None) -> list[Any]:
    if items_attr is None:
        return list(body) if isinstance(body, list) else []
    if not isinstance(body, dict):
        return []
    value: Any = body
    for part in items_attr.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return list(value or [])


class TokenPaginator(Paginator):
    """Pages are JSON objects with the items in ``items_attr`` and the next page's token
    in ``next_page_token_attr``, sent back as the ``next_page_token_param`` query arg."""

    def __init__(self, items_attr: str, next_page_token_attr: str, next_page_token_param: str):
        self.items_attr = items_attr
        self.next_page_token_attr = next_page_token_attr
        self.next_page_token_param = next_page_token_param

    def get_items(self, response: Response) -> list[Any]:
        return _items(response.json(), self.items_attr)

    def get_next_page_request(self, response: Response, request: Request) -> Request | None:
        body = response.json()
        token = body.get(self.next_page_token_attr) if isinstance(body, dict) else None
        if token in (None, ""):
            return None
        return request.copy(query_args={self.next_page_token_param: token})


class PageNumberPaginator(Paginator):
    """Numbered pages (``?page=2&per_page=100``); the last page is short or empty."""

    def __init__(
        self,
        items_attr: str | None = None,
        page_param: str = "page",
        per_page_param: str | None = "per_page",
        per_page: int = 100,
        first_page: int = 1,
    ) -> None:
        self.items_attr = items_attr
        self.page_param = page_param
        self.per_page_param = per_page_param
        self.per_page = per_page
        self.first_page = first_page

    def first_request(self, request: Request) -> None:
        request.query_args.setdefault(self.page_param, self.first_page)
        if self.per_page_param:
            request.query_args.setdefault(self.per_page_param, self.per_page)

    def get_items(self, response: Response) -> list[Any]:
        return _items(response.json(), self.items_attr)

    def get_next_page_request(self, response: Response, request: Request) -> Request | None:
        if len(self.get_items(response)) < self.per_page:
            return None
        page = int(request.query_args.get(self.page_param, self.first_page))
        return request.copy(query_args={self.page_param: page + 1})


class LinkHeaderPaginator(Paginator):
    """RFC 8288 ``Link: <...>; rel="next"`` pagination, as GitHub and GitLab do it."""

    def __init__(self, items_attr: str | None = None) -> None:
        self.items_attr = items_attr

    def get_items(self, response: Response) -> list[Any]:
        return _items(response.json(), self.items_attr)

    def get_next_page_request(self, response: Response, request: Request) -> Request | None:
        nxt = response.links.get("next", {}).get("url")
        return request.copy(url=nxt) if nxt else None


class PagedResponse:
    """The first page of a paginated result; iterating yields every item of every page."""

    def __init__(self, api: API, first: Response, paginator: Paginator) -> None:
        self.api = api
        self.first = first
        self.paginator = paginator

    @property
    def status(self) -> int:
        return self.first.status

    def json(self) -> Any:
        return self.first.json()

    def pages(self) -> Iterator[Response]:
        response: Response | None = self.first
        while response is not None:
            yield response
            following = self.paginator.get_next_page_request(response, response.request)
            response = self.api.send(following) if following is not None else None
            if isinstance(response, PagedResponse):
                response = response.first

    def __iter__(self) -> Iterator[Any]:
        for page in self.pages():
            yield from self.paginator.get_items(page)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class API:
    """Base of a tool's API wrapper.

    Subclasses need not call ``__init__``: the HTTP session is made on first use (the
    seed's example sets its own attributes in its own ``__init__``). Tune the class
    attributes per API.
    """

    #: The pagination of every ``get`` (None: plain responses).
    paginator: Paginator | None = None
    #: Seconds to connect and to wait for each read.
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    #: Tries per request, counting the first; waits double from ``backoff`` seconds.
    max_tries: int = 4
    backoff: float = 0.25
    #: The longest wait between tries, also for a ``Retry-After`` (seconds).
    max_wait: float = 60.0

    @property
    def session(self) -> requests.Session:
        session: requests.Session | None = self.__dict__.get("_session")
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "waldo-collect"
            self.__dict__["_session"] = session
        return session

    # -- hooks -----------------------------------------------------------------------
    @classmethod
    def _hooks(cls, kind: str) -> list[Callable[..., Any]]:
        """Hooks of ``kind`` in declaration order, base classes first; an override
        keeps the place of the method it overrides."""
        order: list[str] = []
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if getattr(value, "__waldo_hook__", None) == kind and name not in order:
                    order.append(name)
        return [getattr(cls, name) for name in order]

    @response_hook
    def paginate(self, response: Response) -> PagedResponse | None:
        """Wrap a first page in a PagedResponse when the API declares a paginator."""
        if self.paginator is None or response.request.is_next_page:
            return None
        return PagedResponse(self, response, self.paginator)

    # -- requests --------------------------------------------------------------------
    def get(self, *path: str | int, **query_args: Any) -> Any:
        """GET the URL made of ``path`` parts joined with ``/``; returns a Response, or a
        PagedResponse when the API has a paginator."""
        url = "/".join(str(p).strip("/") if i else str(p).rstrip("/") for i, p in enumerate(path))
        request = Request(url, query_args=query_args)
        if isinstance(self.paginator, PageNumberPaginator):
            self.paginator.first_request(request)
        return self.send(request)

    def send(self, request: Request) -> Any:
        """Run the request hooks, send with retries, check the status, run response hooks."""
        for hook in self._hooks("request"):
            request = hook(self, request) or request
        result: Any = self._send_with_retries(request)
        for hook in self._hooks("response"):
            result = hook(self, result) or result
        return result

    def _send_with_retries(self, request: Request) -> Response:
        where = f"{request.method} {safe_url(request.full_url)}"
        problem = ""
        for attempt in range(1, max(1, self.max_tries) + 1):
            wait = min(self.max_wait, self.backoff * 2 ** (attempt - 1)) * (
                1 + random.random() / 10
            )
            started = time.monotonic()
            try:
                raw = self.session.request(
                    request.method,
                    request.url,
                    params=request.query_args or None,
                    headers=request.headers,
                    json=request.body,
                    timeout=(self.connect_timeout, self.read_timeout),
                )
            except requests.Timeout:
                problem = f"timed out after {self.read_timeout:g} s"
            except requests.ConnectionError:
                problem = "could not connect"
            except requests.RequestException as exc:
                raise ApiError(f"{where} failed: {type(exc).__name__}") from None
            else:
                response = Response(request, raw)
                log.debug(
                    "%s %s -> %s in %.3f s",
                    request.method,
                    safe_url(raw.url),
                    raw.status_code,
                    time.monotonic() - started,
                )
                if raw.status_code < 400:
                    return response
                if raw.status_code in (401, 403):
                    if raw.status_code == 403 and raw.headers.get("Retry-After"):
                        problem = "HTTP 403 (rate limited)"  # GitHub's secondary limit
                        wait = min(self.max_wait, _retry_after(raw.headers["Retry-After"]) or 0)
                    else:
                        raise ApiAuthError(
                            f"{where} was refused (HTTP {raw.status_code}): check the "
                            "connection's token or credentials."
                        )
                elif raw.status_code not in RETRY_STATUSES:
                    raise ApiError(f"{where} failed with HTTP {raw.status_code}.")
                else:
                    problem = f"HTTP {raw.status_code}"
                    after = _retry_after(raw.headers.get("Retry-After"))
                    if after is not None:
                        wait = min(self.max_wait, after)
            if attempt < self.max_tries:
                log.info(
                    "%s: %s; try %d of %d in %.1f s",
                    where,
                    problem,
                    attempt + 1,
                    self.max_tries,
                    wait,
                )
                time.sleep(wait)
        raise ApiError(f"{where} {problem} ({self.max_tries} tries).")
