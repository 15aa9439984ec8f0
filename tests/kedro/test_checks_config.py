"""``checks:`` in waldo.yml: the shapes it takes, and one clear line for each mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from waldo.kedro._checks_config import CheckConfigError, default_on_failure, parse_checks


def parse(text: str, project: Path = Path("/project")):  # type: ignore[no-untyped-def]
    return parse_checks(yaml.safe_load(text), project)


def test_no_checks_is_none() -> None:
    assert parse("store: sqlite:///x.db\n") is None
    assert parse("checks: {}\n") is None


def test_short_and_long_forms() -> None:
    config = parse(
        """
checks:
  companies:
    - expect_column_values_to_not_be_null: {column: id}
    - expect_table_row_count_to_be_between:
  "*_features":
    when: pipeline_end
    on_failure: fail
    parameters:
      n_companies: {rows_of: companies}
      top: {param: max_rating}
    expectations:
      - expect_table_row_count_to_equal: {value: {$PARAMETER: n_companies}}
on_failure: warn
"""
    )
    assert config is not None and config.on_failure == "warn"
    companies, features = config.specs
    assert [(e.type, dict(e.kwargs), e.on_failure) for e in companies.expectations] == [
        ("expect_column_values_to_not_be_null", {"column": "id"}, "warn"),
        ("expect_table_row_count_to_be_between", {}, "warn"),
    ]
    assert features.when == "pipeline_end"
    assert features.expectations[0].on_failure == "fail"
    assert features.expectations[0].parameters() == {"n_companies"}
    assert {k: (v.kind, v.name) for k, v in features.parameters.items()} == {
        "n_companies": ("rows_of", "companies"),
        "top": ("param", "max_rating"),
    }


def test_names_patterns_and_factory_patterns() -> None:
    config = parse(
        """
checks:
  companies: [{expect_column_to_exist: {column: id}}]
  "*_features": [{expect_column_to_exist: {column: id}}]
  "{name}_table": [{expect_column_to_exist: {column: id}}]
"""
    )
    assert config is not None

    def keys(dataset: str) -> list[str]:
        return [spec.key for spec in config.for_dataset(dataset)]

    assert keys("companies") == ["companies"]
    assert keys("company_features") == ["*_features"]
    assert keys("shuttles_table") == ["{name}_table"]
    assert keys("companies_x") == []


def test_a_named_suite_is_read_from_the_gx_folder(tmp_path: Path) -> None:
    folder = tmp_path / "gx" / "expectations"
    folder.mkdir(parents=True)
    suite = {
        "name": "companies_suite",
        "expectations": [
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}, "meta": {}}
        ],
    }
    (folder / "companies_suite.json").write_text(json.dumps(suite))
    config = parse("checks:\n  companies: {suite: companies_suite}\n", tmp_path)
    assert config is not None
    (expectation,) = config.specs[0].expectations
    assert (expectation.type, expectation.suite, expectation.problem) == (
        "expect_column_values_to_be_unique",
        "companies_suite",
        None,
    )
    missing = parse("checks:\n  companies: {suite: nope}\n", tmp_path)
    assert missing is not None
    (problem,) = missing.specs[0].expectations
    assert problem.problem is not None
    assert problem.problem.startswith("suite nope cannot be read from ")
    assert "gx/expectations/nope.json" in problem.problem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("checks: [a, b]\n", "`checks:` in waldo.yml maps dataset names"),
        ("checks: {companies: 3}\n", "`checks.companies` in waldo.yml must be a list"),
        ("checks: {companies: [expect_x]}\n", "`checks.companies` item 1 in waldo.yml must be"),
        ("checks: {companies: [{expect_x: 3}]}\n", "the arguments of expect_x must be a mapping"),
        (
            "checks: {companies: {when: later, expectations: [{expect_x: {}}]}}\n",
            "`checks.companies.when:` in waldo.yml is 'later'; use after_save or pipeline_end.",
        ),
        ("checks: {companies: {suit: x}}\n", "unknown key(s) suit"),
        ("checks: {companies: {when: pipeline_end}}\n", "needs `expectations:` or `suite:`"),
        (
            "checks: {c: [{expect_x: {}}]}\non_failure: stop\n",
            "`on_failure:` in waldo.yml is 'stop'; use warn or fail.",
        ),
        (
            "checks: {c: {expectations: [{e: {}}], parameters: {a-b: {rows_of: x}}}}\n",
            "a suite parameter's name is letters",
        ),
        (
            "checks: {c: {expectations: [{e: {}}], parameters: {n: {count: x}}}}\n",
            "must be `{rows_of: <dataset>}` or `{param: <parameter>}`",
        ),
    ],
)
def test_mistakes_are_one_line(text: str, message: str) -> None:
    with pytest.raises(CheckConfigError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_mistyped_mode_counts_as_fail() -> None:
    assert default_on_failure({}) == "warn"
    assert default_on_failure({"on_failure": "warn"}) == "warn"
    assert default_on_failure({"on_failure": "stop"}) == "fail"
