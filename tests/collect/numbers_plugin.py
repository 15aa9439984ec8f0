"""A small plugin for the tests: numbers from a paged API, with an exact cursor state.

Each record's state is ``{"after": n}``: a resumed collection asks for the numbers
after the last one committed, so a crash can cause neither a gap nor a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Field

from waldo.collect import (
    API,
    Connection,
    Context,
    DomainModel,
    DomainType,
    PageNumberPaginator,
    Plugin,
    Stream,
)
from waldo.collect.domain_layer import devops
from waldo.collect.model import ToolModel
from waldo.collect.stream import Records


class NumbersConnection(Connection):
    url: str


class Number(ToolModel, table=True):
    __tablename__ = "_tool_numbers_numbers"

    n: int = Field(primary_key=True)
    square: int


class NumbersAPI(API):
    paginator = PageNumberPaginator(items_attr="items", per_page=10)
    backoff = 0.01


class Numbers(Stream):
    tool_model = Number
    domain_types = [DomainType.CICD]

    def collect(self, state: dict[str, Any], context: Context) -> Records:
        url = context.connection.url  # type: ignore[attr-defined]
        for item in NumbersAPI().get(url, "numbers", after=state.get("after", -1)):
            yield item, {"after": item["n"]}

    def convert(self, number: Number, context: Context) -> Iterable[DomainModel]:
        yield devops.CICDPipeline(
            id=self.domain_id(number.n, context=context),
            name=f"n{number.n}",
            result=devops.SUCCESS,
            status=devops.DONE,
            duration_sec=float(number.square),
        )


class NumbersPlugin(Plugin):
    """Numbers, for the tests."""

    name = "numbers"

    @property
    def connection_type(self) -> type[NumbersConnection]:
        return NumbersConnection

    @property
    def streams(self) -> list[type[Stream]]:
        return [Numbers]


def numbers_handler(
    total: int, delay: float = 0.0, hold_from: int | None = None, release: Any = None
) -> Any:
    """A JsonServer handler: ``/numbers?after=A&page=P&per_page=K``.

    With ``hold_from``, a page starting at or after that number waits until ``release``
    (a ``threading.Event``) is set: a collection stalls there, however fast it runs.
    """
    from waldo.collect.testing import Reply, SeenRequest

    def handler(request: SeenRequest) -> Reply:
        after = int(request.query.get("after", -1))
        page = int(request.query.get("page", 1))
        per_page = int(request.query.get("per_page", 10))
        start = after + 1 + (page - 1) * per_page
        if hold_from is not None and start >= hold_from:
            release.wait(timeout=300)
        items = [{"n": n, "square": n * n} for n in range(start, min(total, start + per_page))]
        return Reply({"items": items}, delay=delay)

    return handler
