"""``waldo results``: model results saved by ``ScoresDataset``, listed and compared."""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

import click
from rich.table import Table

from waldo._errors import InvalidInput
from waldo.cli._context import CliState
from waldo.cli._render import COUNT, FORMAT, console, fmt_time, print_json
from waldo.journal import Comparison, ResultContext, Results

CONTEXT_HELP = (
    "A context is named by its id, by an algorithm (its newest context) or by "
    "RUN:ALGORITHM, where RUN is a run id, a unique prefix or `latest`."
)


def _results(state: CliState) -> Results:
    return Results(state.journal.store)


def _params(value: Any) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@click.group("results", epilog=CONTEXT_HELP)
def results() -> None:
    """Model results (samples, contexts, scores) saved by waldo.kedro.ScoresDataset."""


@results.command("contexts")
@click.option("--run", default=None, help="Only the contexts of this run (`latest` works).")
@click.option("--algorithm", default=None, help="Only this algorithm's contexts.")
@click.option("--limit", type=COUNT, default=20, show_default=True, help="How many, newest first.")
@FORMAT
@click.pass_obj
def results_contexts(
    state: CliState, run: str | None, algorithm: str | None, limit: int, fmt: str
) -> None:
    """The saved contexts: run, algorithm, parameters, samples scored, outliers."""
    found = _results(state).contexts(run=run, algorithm=algorithm, limit=limit)
    if fmt == "json":
        print_json([c.to_dict() for c in found])
        return
    if not found:
        click.echo("No results yet: save some with waldo.kedro.ScoresDataset.")
        return
    grid = Table(
        "id", "run", "algorithm", "parameters", "samples", "outliers", "saved", header_style="bold"
    )
    for c in found:
        grid.add_row(
            str(c.id),
            (c.run_id or "-")[:24],
            c.algorithm,
            _params(c.parameters),
            f"{c.samples:,}",
            f"{c.outliers:,}",
            fmt_time(c.created_at),
        )
    console().print(grid)


@results.command("top", epilog=CONTEXT_HELP)
@click.argument("context")
@click.option("-k", "k", type=COUNT, default=10, show_default=True, help="How many samples.")
@click.option("--ascending", is_flag=True, help="Lowest scores first.")
@FORMAT
@click.pass_obj
def results_top(state: CliState, context: str, k: int, ascending: bool, fmt: str) -> None:
    """The K samples of CONTEXT with the highest scores."""
    api = _results(state)
    found = api.context(context)
    rows = api.top(found.id, k=k, ascending=ascending)
    if fmt == "json":
        print_json({"context": found.to_dict(), "samples": rows})
        return
    title = f"Top {len(rows)} of context {found.id} ({found.algorithm}, run {found.run_id or '-'})"
    grid = Table("rank", "sample", "score", "prediction", "sample data", title=title)
    grid.title_justify = "left"
    for rank, row in enumerate(rows, start=1):
        prediction = row.get("prediction")
        grid.add_row(
            str(rank),
            str(row["sample_id"]),
            _number(row.get("score"), 4),
            "-" if prediction is None else ("outlier" if prediction else "inlier"),
            _params(row.get("data")),
        )
    console().print(grid)


def _comparison_row(c: Comparison) -> list[str]:
    return [
        f"{c.a.id} {c.a.algorithm}",
        f"{c.b.id} {c.b.algorithm}",
        f"{c.common:,}",
        _number(c.spearman),
        _number(c.agreement),
        f"{c.both_outliers:,} / {c.only_a:,} / {c.only_b:,}",
        f"{c.top_overlap} of {c.top_k}",
    ]


def comparison_table(pairs: list[Comparison]) -> Table:
    """Pairs of contexts: shared samples, rank correlation, prediction agreement."""
    grid = Table(
        "context a",
        "context b",
        "common samples",
        "spearman",
        "agreement",
        "outliers both / a only / b only",
        "top-k overlap",
        title="Results compared",
        title_justify="left",
        header_style="bold",
    )
    for pair in pairs:
        grid.add_row(*_comparison_row(pair))
    return grid


@results.command("compare", epilog=CONTEXT_HELP)
@click.argument("contexts", nargs=-1)
@click.option(
    "--run", default=None, help="Compare every context of this run (default: the latest run)."
)
@click.option(
    "--top", "top_k", type=COUNT, default=10, show_default=True, help="Top-k overlap size."
)
@FORMAT
@click.pass_obj
def results_compare(
    state: CliState, contexts: tuple[str, ...], run: str | None, top_k: int, fmt: str
) -> None:
    """How contexts agree: Spearman rank correlation of scores, agreement of predictions.

    Give two or more CONTEXTS to compare them pairwise; with none, every context of
    --run (the latest run by default) is compared with every other.
    """
    api = _results(state)
    chosen: list[ResultContext]
    if contexts:
        if len(contexts) < 2:
            raise InvalidInput("Give at least two contexts to compare (or none, with --run).")
        if run:
            raise InvalidInput("Give either contexts or --run, not both.")
        chosen = [api.context(ref) for ref in contexts]
    else:
        chosen = sorted(api.contexts(run=run or "latest"), key=lambda c: c.id)
        if len(chosen) < 2:
            raise InvalidInput(
                f"Run {run or 'latest'} saved {len(chosen)} results context(s); "
                "comparing needs two. Name contexts instead."
            )
    pairs = [api.compare(a.id, b.id, top_k=top_k) for a, b in combinations(chosen, 2)]
    if fmt == "json":
        print_json([p.to_dict() for p in pairs])
        return
    console().print(comparison_table(pairs))
