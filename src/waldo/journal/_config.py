"""The schema of ``waldo.yml``: one small pydantic model per section.

:func:`check_config` validates the mapping a project's ``waldo.yml`` holds and words
every problem for a person: an unknown key with a "did you mean", a wrong type with the
key and the type expected. A problem never stops a run by itself: the key is left out
(its default applies) and the caller warns, unless the user asked for strict mode.

Each section is its own model with ``extra="forbid"`` (an unknown key is a problem), so
the integration that owns a section can tighten its model without touching the others.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from waldo.journal._config_check import (
    ConfigCheck,
    KeyPath,
    remove_at,
    value_at,
    without_yaml_quirks,
)

_SECTION = ConfigDict(extra="forbid", populate_by_name=True)
# How many rounds of "leave the bad keys out, validate again" a config can need (a
# missing key inside a list item shows only once the item's bad keys are gone).
_MAX_ROUNDS = 10


class PreflightConfig(BaseModel):
    """``preflight: {inputs: bool, commands: [str]}`` (or ``preflight: true``)."""

    model_config = _SECTION
    inputs: bool = True
    commands: str | list[str] = Field(default_factory=list)


class FingerprintsConfig(BaseModel):
    """``fingerprints: {libraries: bool}`` (or ``fingerprints: false``)."""

    model_config = _SECTION
    libraries: bool = True


class StatsConfig(BaseModel):
    """``stats: {max_rows: N}`` (or ``stats: false``)."""

    model_config = _SECTION
    max_rows: int = Field(1_000_000, ge=1)


class WebhookConfig(BaseModel):
    model_config = _SECTION
    url: str | None = None
    credentials: str | None = None


class EmailConfig(BaseModel):
    model_config = _SECTION
    host: str | None = None
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    sender: str | None = Field(None, alias="from")
    to: str | list[str] = Field(default_factory=list)
    credentials: str | None = None


NotifyWhen = Literal["failure", "success"]


class NotifyConfig(BaseModel):
    """``notify: {when: [failure, success], webhook: {...}, email: {...}}``."""

    model_config = _SECTION
    when: NotifyWhen | list[NotifyWhen] = "failure"
    webhook: WebhookConfig | None = None
    email: EmailConfig | None = None


class PathRule(BaseModel):
    """One ``paths:`` rule: ``{from: prefix, to: replacement}``."""

    model_config = _SECTION
    source: str = Field(alias="from")
    to: str = ""


class LineageConfig(BaseModel):
    """``lineage:``: where a run's OpenLineage events go while it runs."""

    model_config = _SECTION
    transport: Literal["http", "file", "console"] = "http"
    url: str | None = None
    endpoint: str | None = None
    path: str | None = None
    api_key: str | None = None
    credentials: str | None = None
    namespace: str | None = None
    timeout: float = Field(5.0, gt=0)
    retries: int = Field(0, ge=0)


class DoltConfig(BaseModel):
    """``dolt: {database: path}``: the Dolt database the Dolt hooks version."""

    model_config = _SECTION
    database: str


class BranchConfig(BaseModel):
    """``branch: {from: git, shared: [datasets]}``: branch-local data."""

    model_config = _SECTION
    source: Literal["git"] | None = Field(None, alias="from")
    shared: list[str] = Field(default_factory=list)


class StaticSiteConfig(BaseModel):
    """``static_site: {path: folder, keep: N}``: the web page written as files."""

    model_config = _SECTION
    path: str | None = None
    keep: int | None = Field(None, ge=0)


# A dataset's checks are validated by the data checks themselves
# (``waldo.kedro._checks_config``): with ``on_failure: fail`` a broken check must stop the
# run, not be dropped here with a warning.
DatasetChecks = Any


class WaldoConfig(BaseModel):
    """The whole of ``waldo.yml``."""

    model_config = _SECTION
    store: str | None = None
    strict: bool = False
    enabled: bool = True
    spool_dir: str | None = None
    heartbeat_seconds: float = Field(10.0, gt=0)
    preflight: bool | PreflightConfig = False
    fingerprints: bool | FingerprintsConfig = True
    stats: bool | StatsConfig = True
    notify: NotifyConfig | None = None
    paths: list[PathRule] = Field(default_factory=list)
    lineage: LineageConfig | None = None
    dolt: DoltConfig | None = None
    branch: BranchConfig | None = None
    checks: dict[str, DatasetChecks] = Field(default_factory=dict)
    on_failure: Literal["warn", "fail"] = "warn"
    static_site: StaticSiteConfig | None = None
    mask: list[str] = Field(default_factory=list)


def check_config(raw: Mapping[str, Any], where: str = "waldo.yml") -> ConfigCheck:
    """Validate ``raw`` against :class:`WaldoConfig`; see the module docstring."""
    usable = without_yaml_quirks(copy.deepcopy(dict(raw)))
    check = ConfigCheck()
    for _round in range(_MAX_ROUNDS):
        try:
            WaldoConfig.model_validate(usable)
            return check
        except ValidationError as exc:
            before = copy.deepcopy(usable)
            for path, message in _problems(exc, usable, where).items():
                check.problems.append(message)
                check.removed.append(path)
                remove_at(usable, path)
            if usable == before:  # pragma: no cover - every error names a key
                break
    check.removed = [()]  # nothing of it can be used
    return check


# -- wording pydantic's errors ---------------------------------------------------------


def _problems(exc: ValidationError, raw: Mapping[str, Any], where: str) -> dict[KeyPath, str]:
    """One message per bad key, the innermost one when a union reports several."""
    by_path: dict[KeyPath, dict[str, Any]] = {}
    for error in exc.errors():
        path, owner = _field_path(tuple(error["loc"]))
        if error["type"] == "missing":
            message = f"{where}: `{_dotted(path[:-1])}` needs `{path[-1]}:`; ignored"
            by_path.setdefault(path[:-1], {"message": message})
        elif error["type"] == "extra_forbidden":
            by_path.setdefault(path, {"message": _unknown_key(path, owner, where)})
        else:
            limit = error["msg"] if error["type"] in _LIMITS else None
            by_path.setdefault(path, {"message": _wrong_type(path, raw, where, limit)})
    innermost = {
        path: item["message"]
        for path, item in by_path.items()
        if not any(other[: len(path)] == path and other != path for other in by_path)
    }
    return innermost


def _unknown_key(path: KeyPath, owner: type[BaseModel] | None, where: str) -> str:
    key = str(path[-1])
    known = sorted(_names(owner)) if owner is not None else []
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    inside = f" in `{_dotted(path[:-1])}`" if path[:-1] else ""
    hint = f" (did you mean `{close[0]}`?)" if close else f" (known: {', '.join(known)})"
    return f"{where}: unknown key `{key}`{inside}{hint}; ignored"


# Errors of a value of the right type beyond a limit: pydantic's words say which.
_LIMITS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def _wrong_type(path: KeyPath, raw: Mapping[str, Any], where: str, limit: str | None) -> str:
    if limit is not None:
        expected = limit.removeprefix("Input should be ")
    else:
        expected = _describe(_annotation_at(path))
    value = value_at(raw, path)
    return f"{where}: `{_dotted(path)}` must be {expected}, not {value!r}; ignored"


def _names(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _field(model: type[BaseModel], key: Any) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _members(kind: Any) -> tuple[Any, ...]:
    """The members of a union (without None), or the type itself."""
    if typing.get_origin(kind) in (Union, types.UnionType):
        return tuple(k for k in typing.get_args(kind) if k is not type(None))
    return (kind,)


def _field_path(loc: KeyPath) -> tuple[KeyPath, type[BaseModel] | None]:
    """The keys of an error's location (without pydantic's union member tags) and the
    model that owns the last key."""
    path: list[Any] = []
    kinds: tuple[Any, ...] = (WaldoConfig,)
    owner: type[BaseModel] | None = WaldoConfig
    for part in loc:
        if len(kinds) > 1 and isinstance(part, str):  # a union member's tag
            tagged = [k for k in kinds if _is_model(k) and k.__name__ == part]
            if not tagged:
                break  # a member that is no model failed: the error is the union's
            kinds = (tagged[0],)
            continue
        kind = kinds[0]
        path.append(part)
        if _is_model(kind):
            owner, info = kind, _field(kind, part)
            if info is None:
                break  # an unknown key
            kinds = _members(info.annotation)
        elif typing.get_origin(kind) in (list, dict):
            kinds = _members(typing.get_args(kind)[-1])
        else:
            break
    return tuple(path), owner


def _annotation_at(path: KeyPath) -> Any:
    kinds: tuple[Any, ...] = (WaldoConfig,)
    annotation: Any = WaldoConfig
    for part in path:
        info = next((_field(k, part) for k in kinds if _is_model(k) and _field(k, part)), None)
        if info is not None:
            annotation = info.annotation
        else:
            containers = [k for k in kinds if typing.get_origin(k) in (list, dict)]
            if not containers:
                break
            annotation = typing.get_args(containers[0])[-1]
        kinds = _members(annotation)
    return annotation


def _describe(kind: Any) -> str:
    """A type as a person reads it: ``true or false``, ``a whole number``..."""
    members = _members(kind)
    if len(members) > 1:
        return " or ".join(_describe(m) for m in members)
    kind = members[0] if members else kind
    origin = typing.get_origin(kind)
    if origin is Literal:
        return "one of " + ", ".join(str(v) for v in typing.get_args(kind))
    if origin is list:
        item = typing.get_args(kind)[0]
        if typing.get_origin(item) is Literal:
            return "a list of " + ", ".join(str(v) for v in typing.get_args(item))
        return f"a list of {_plural(_describe(item))}"
    if origin is dict or _is_model(kind):
        return "a mapping" + (f" ({', '.join(sorted(_names(kind)))})" if _is_model(kind) else "")
    return {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "a string",
    }.get(kind, getattr(kind, "__name__", str(kind)))


def _plural(text: str) -> str:
    """``a mapping (from, to)`` -> ``mappings (from, to)``."""
    for article in ("a ", "an "):
        if text.startswith(article):
            word, space, rest = text[len(article) :].partition(" ")
            return f"{word}s{space}{rest}"
    return text


def _dotted(path: KeyPath) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
