"""The ``checks:`` and ``on_failure:`` keys of ``waldo.yml``, read and validated.

::

    checks:
      companies:                        # a dataset of the catalog (factories too)
        - expect_column_values_to_not_be_null: {column: id}
      "*_features":                     # a pattern (fnmatch; `{name}` counts as `*`)
        - expect_table_row_count_to_be_between: {min_value: 1}
      model_input_table:                # the long form
        suite: model_input              # a GX suite: gx/expectations/model_input.json
        expectations: [...]             # inline ones too, if any
        when: pipeline_end              # after_save (default) or pipeline_end
        on_failure: fail                # this dataset's checks only
        parameters:                     # GX suite parameters: {$PARAMETER: name}
          companies_rows: {rows_of: companies}   # or {param: <a Kedro parameter>}
    on_failure: warn                    # warn (default) | fail

Mistakes in the shape are a :class:`CheckConfigError` with one line naming the key.
What only Great Expectations can tell (an unknown expectation, a missing column) is
not checked here: those become check errors when the checks run. Nothing here imports
Great Expectations.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waldo._errors import ConfigError

WHEN = ("after_save", "pipeline_end")
ON_FAILURE = ("warn", "fail")
PARAMETER = "$PARAMETER"
PARAMETER_SOURCES = ("rows_of", "param")
#: Where a GX file context keeps its suites; a suite is named relative to the project.
SUITES_DIR = Path("gx") / "expectations"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FACTORY_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class CheckConfigError(ConfigError):
    """The ``checks:`` section of waldo.yml has the wrong shape."""


@dataclass(frozen=True)
class Expectation:
    """One expectation as configured: its GX name and arguments, the suite it came from
    (None: inline), what its failure does (``warn`` or ``fail``), and why it cannot be
    known (a suite file that cannot be read), if so."""

    type: str
    kwargs: Mapping[str, Any]
    suite: str | None = None
    on_failure: str = "warn"
    problem: str | None = None

    def parameters(self) -> set[str]:
        """The suite parameters its arguments refer to (``{$PARAMETER: name}``)."""
        return set(_parameter_names(self.kwargs))


@dataclass(frozen=True)
class ParameterSource:
    """Where a suite parameter's value comes from: a dataset's row count (``rows_of``)
    or a Kedro parameter (``param``)."""

    kind: str
    name: str


@dataclass(frozen=True)
class CheckSpec:
    """The checks of one ``checks:`` key (a dataset name or a pattern)."""

    key: str
    expectations: tuple[Expectation, ...]
    when: str = "after_save"
    parameters: Mapping[str, ParameterSource] = field(default_factory=dict)

    def matches(self, dataset: str) -> bool:
        """Whether this key names ``dataset`` or matches it as a pattern."""
        pattern = _FACTORY_PLACEHOLDER.sub("*", self.key)
        return self.key == dataset or fnmatch.fnmatchcase(dataset, pattern)


@dataclass(frozen=True)
class ChecksConfig:
    """Every check of waldo.yml, and the default ``on_failure``."""

    specs: tuple[CheckSpec, ...]
    on_failure: str = "warn"

    def for_dataset(self, dataset: str) -> list[CheckSpec]:
        """The specs whose key names or matches ``dataset``, in waldo.yml's order."""
        return [spec for spec in self.specs if spec.matches(dataset)]


def default_on_failure(extra: Mapping[str, Any]) -> str:
    """``on_failure:`` as given; anything but ``warn`` counts as ``fail`` here, so that
    a mistyped mode never turns checks the user meant to stop runs into warnings."""
    return "warn" if extra.get("on_failure", "warn") == "warn" else "fail"


def parse_checks(extra: Mapping[str, Any], project_path: Path) -> ChecksConfig | None:
    """The checks of waldo.yml's raw settings, or None when there are none."""
    raw = extra.get("checks")
    on_failure = _choice(extra.get("on_failure", "warn"), ON_FAILURE, "on_failure")
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise CheckConfigError(
            "`checks:` in waldo.yml maps dataset names (or patterns) to expectations."
        )
    specs = tuple(_spec(str(key), value, on_failure, project_path) for key, value in raw.items())
    return ChecksConfig(specs, on_failure)


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise CheckConfigError(f"`{where}:` in waldo.yml is {value!r}; use {' or '.join(allowed)}.")
    return str(value)


def _spec(key: str, value: Any, on_failure: str, project_path: Path) -> CheckSpec:
    where = f"checks.{key}"
    if isinstance(value, list):
        value = {"expectations": value}
    if not isinstance(value, Mapping):
        raise CheckConfigError(
            f"`{where}` in waldo.yml must be a list of expectations or a mapping "
            "with `expectations:` and/or `suite:`."
        )
    unknown = set(value) - {"expectations", "suite", "when", "on_failure", "parameters"}
    if unknown:
        raise CheckConfigError(
            f"`{where}` in waldo.yml has unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
            "use expectations, suite, when, on_failure, parameters."
        )
    if not value.get("expectations") and not value.get("suite"):
        raise CheckConfigError(f"`{where}` in waldo.yml needs `expectations:` or `suite:`.")
    mode = _choice(value.get("on_failure", on_failure), ON_FAILURE, f"{where}.on_failure")
    expectations: list[Expectation] = []
    if value.get("suite"):
        expectations += _suite(value["suite"], mode, project_path, where)
    expectations += _inline(value.get("expectations") or [], mode, where)
    return CheckSpec(
        key=key,
        expectations=tuple(expectations),
        when=_choice(value.get("when", "after_save"), WHEN, f"{where}.when"),
        parameters=_parameters(value.get("parameters") or {}, where),
    )


def _inline(items: Any, on_failure: str, where: str) -> list[Expectation]:
    if not isinstance(items, list):
        raise CheckConfigError(f"`{where}.expectations` in waldo.yml must be a list.")
    out = []
    for index, item in enumerate(items):
        if not (isinstance(item, Mapping) and len(item) == 1):
            raise CheckConfigError(
                f"`{where}` item {index + 1} in waldo.yml must be one expectation, like "
                "`- expect_column_values_to_not_be_null: {column: id}`."
            )
        ((name, kwargs),) = item.items()
        if kwargs is None:
            kwargs = {}
        if not isinstance(kwargs, Mapping):
            raise CheckConfigError(
                f"`{where}` item {index + 1} in waldo.yml: the arguments of {name} must be "
                "a mapping, like `{column: id}`."
            )
        out.append(Expectation(str(name), dict(kwargs), None, on_failure))
    return out


def _suite(name: Any, on_failure: str, project_path: Path, where: str) -> list[Expectation]:
    """The expectations of a suite saved by GX (a file context's JSON). A suite that
    cannot be read is one expectation with a problem: a check error when it runs."""
    if not isinstance(name, str):
        raise CheckConfigError(f"`{where}.suite` in waldo.yml must be a suite name or a path.")
    path = suite_path(name, project_path)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        items = content["expectations"]
        return [
            Expectation(str(item["type"]), dict(item.get("kwargs") or {}), name, on_failure)
            for item in items
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problem = f"suite {name} cannot be read from {path}: {_reason(exc)}"
        return [Expectation(f"suite {name}", {}, name, on_failure, problem)]


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, KeyError):
        return f"no {exc} in it"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def suite_path(name: str, project_path: Path) -> Path:
    """A suite's file: a path (with ``/`` or ending ``.json``) relative to the project,
    or the name of a suite in the project's GX folder (``gx/expectations/NAME.json``)."""
    if "/" in name or name.endswith(".json"):
        path = Path(name)
        return path if path.is_absolute() else project_path / path
    return project_path / SUITES_DIR / f"{name}.json"


def _parameters(raw: Any, where: str) -> dict[str, ParameterSource]:
    if not isinstance(raw, Mapping):
        raise CheckConfigError(f"`{where}.parameters` in waldo.yml must be a mapping.")
    out: dict[str, ParameterSource] = {}
    for name, source in raw.items():
        if not _IDENTIFIER.match(str(name)):
            raise CheckConfigError(
                f"`{where}.parameters.{name}` in waldo.yml: a suite parameter's name is "
                "letters, digits and underscores (GX reads it as an expression)."
            )
        if not (
            isinstance(source, Mapping)
            and len(source) == 1
            and next(iter(source)) in PARAMETER_SOURCES
        ):
            raise CheckConfigError(
                f"`{where}.parameters.{name}` in waldo.yml must be `{{rows_of: <dataset>}}` "
                "or `{param: <parameter>}`."
            )
        ((kind, target),) = source.items()
        out[str(name)] = ParameterSource(str(kind), str(target))
    return out


def _parameter_names(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        if set(value) == {PARAMETER}:
            yield str(value[PARAMETER])
            return
        for item in value.values():
            yield from _parameter_names(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _parameter_names(item)
