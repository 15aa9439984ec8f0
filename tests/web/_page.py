"""Reading a served page's data: the JSON each page carries for its script."""

from __future__ import annotations

import json
import re
from typing import Any

_DATA = re.compile(r"<script id='waldo-data' type='application/json'>(.*?)</script>")


def page_data(html: str) -> dict[str, Any]:
    """The data a page carries for its script."""
    found = _DATA.search(html)
    assert found, html[:300]
    data: dict[str, Any] = json.loads(found.group(1))
    return data
