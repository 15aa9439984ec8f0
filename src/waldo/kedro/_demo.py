"""``waldo demo``: an example Kedro project, created offline, run and shown.

The project sells things: raw orders (CSV) are cleaned with a minimum amount parameter
(Parquet), summarised per country and per customer (CSV), and joined into a report.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

from waldo._errors import ConfigError, WaldoError
from waldo.journal import Journal
from waldo.kedro._config import settings_for_project
from waldo.kedro._project import kedro_run, write_project

PACKAGE = "waldo_demo"

NODES = '''
"""Nodes of the Waldo demo: plain pandas functions."""

import pandas as pd


def clean_orders(raw_orders: pd.DataFrame, min_amount: float) -> pd.DataFrame:
    """Drop small and malformed orders."""
    orders = raw_orders.dropna(subset=["customer", "amount"])
    return orders[orders["amount"] >= min_amount].reset_index(drop=True)


def summarise_countries(orders: pd.DataFrame) -> pd.DataFrame:
    """Revenue and order count per country."""
    grouped = orders.groupby("country")["amount"]
    return grouped.agg(revenue="sum", orders="count").reset_index()


def top_customers(orders: pd.DataFrame, top_n: int) -> pd.DataFrame:
    """The customers who spent most."""
    spent = orders.groupby("customer")["amount"].sum().sort_values(ascending=False)
    return spent.head(top_n).rename("spent").reset_index()


def build_report(countries: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """One table with the headline numbers."""
    return pd.DataFrame(
        {
            "metric": ["countries", "revenue", "best_customer"],
            "value": [
                str(len(countries)),
                f"{countries['revenue'].sum():.2f}",
                str(customers["customer"].iloc[0]) if len(customers) else "",
            ],
        }
    )
'''

REGISTRY = '''
"""Pipelines of the Waldo demo."""

from kedro.pipeline import Pipeline, node, pipeline

from waldo_demo.nodes import build_report, clean_orders, summarise_countries, top_customers


def register_pipelines() -> dict[str, Pipeline]:
    sales = pipeline(
        [
            node(
                clean_orders,
                ["raw_orders", "params:min_amount"],
                "clean_orders",
                name="clean_orders",
            ),
            node(
                summarise_countries,
                "clean_orders",
                "country_summary",
                name="summarise_countries",
            ),
            node(
                top_customers,
                ["clean_orders", "params:top_n"],
                "top_customers",
                name="top_customers",
            ),
            node(
                build_report,
                ["country_summary", "top_customers"],
                "report",
                name="build_report",
            ),
        ]
    )
    return {"__default__": sales, "sales": sales}
'''

CATALOG = """
raw_orders:
  type: pandas.CSVDataset
  filepath: data/01_raw/orders.csv

clean_orders:
  type: pandas.ParquetDataset
  filepath: data/02_intermediate/clean_orders.parquet

country_summary:
  type: pandas.CSVDataset
  filepath: data/03_primary/country_summary.csv

top_customers:
  type: pandas.CSVDataset
  filepath: data/03_primary/top_customers.csv

report:
  type: pandas.CSVDataset
  filepath: data/08_reporting/report.csv
"""

PARAMETERS = """
min_amount: 10.0
top_n: 5
"""


def _orders_csv(rows: int = 200, seed: int = 7) -> str:
    rng = random.Random(seed)
    customers = [f"customer_{i:02d}" for i in range(25)]
    countries = ["NL", "DE", "FR", "BE", "ES"]
    lines = ["order_id,customer,country,amount"]
    for order_id in range(1, rows + 1):
        lines.append(
            f"{order_id},{rng.choice(customers)},{rng.choice(countries)},{rng.uniform(1, 250):.2f}"
        )
    return "\n".join(lines) + "\n"


def make_room(path: Path, force: bool) -> None:
    """An example project goes to a new folder; an existing one only with ``force``."""
    if path.exists():
        if not force:
            raise ConfigError(f"{path} already exists; pass --force to replace it.")
        shutil.rmtree(path)


def run_example(root: Path, *args: str, what: str = "the demo project") -> None:
    """``kedro run ARGS`` in an example project; a failure shows the end of its output."""
    result = kedro_run(root, *args)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise WaldoError(f"`kedro run` failed in {what}:\n{tail}")


def create_demo_project(path: Path, force: bool = False) -> Path:
    """Write the demo project to ``path`` (which must not exist unless ``force``)."""
    make_room(path, force)
    return write_project(
        path,
        PACKAGE,
        nodes_py=NODES,
        registry_py=REGISTRY,
        catalog_yml=CATALOG,
        parameters_yml=PARAMETERS,
        local_files={"data/01_raw/orders.csv": _orders_csv()},
    )


def run_demo(
    path: Path, force: bool = False, run_count: int = 2, echo: Callable[[str], None] = print
) -> Journal:
    """Create the project, run it ``run_count`` times and print the recorded runs."""
    from waldo.cli._render import console, runs_table

    root = create_demo_project(path, force=force)
    echo(f"Created a demo Kedro project in {root}")
    params = ["", "--params=top_n=3"]
    for index in range(run_count):
        extra = params[index % len(params)]
        command = f"kedro run {extra}".rstrip()
        echo(f"Running `{command}` ({index + 1}/{run_count}) ...")
        run_example(root, *([extra] if extra else []))
    journal = Journal(settings_for_project(root.resolve()))
    console().print(runs_table(journal.history.runs(limit=run_count)))
    echo(f"Journal: {journal.store.display_url}")
    echo(f"Next: cd {path} && waldo show latest")
    return journal
