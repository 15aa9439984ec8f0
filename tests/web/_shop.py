"""A Kedro project for the web page's end-to-end tests and screenshots: a shop.

Orders are made up (``params:orders``: how many rows, with an extra ``note`` column or
not), cleaned, split by region in four namespaced modular pipelines
(``regions.east``...), scored, and gathered into a report: 27 nodes. Files in the
project folder steer a run, as a person at the keyboard would:

- ``hold``: ``ingest.hold`` waits there until the file ``release`` exists;
- ``fail``: ``report.check_report`` raises, from inside pandas.
"""

from __future__ import annotations

from pathlib import Path

from waldo.kedro._project import write_project

PACKAGE = "shop"
REGIONS = ("east", "west", "north", "central")

NODES = '''
"""The shop's nodes: small pandas functions."""

import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_orders(orders: dict) -> pd.DataFrame:
    rng = np.random.default_rng(orders.get("seed", 1))
    rows = int(orders["rows"])
    frame = pd.DataFrame(
        {
            "order_id": np.arange(rows),
            "customer": rng.integers(0, max(rows // 4, 1), rows),
            "region": rng.choice(["east", "west", "north", "central"], rows),
            "amount": rng.gamma(2.0, 20.0, rows).round(2),
        }
    )
    if orders.get("with_note"):
        frame["note"] = [None if i % 3 else "gift" for i in range(rows)]
    return frame


def make_customers(orders: dict) -> pd.DataFrame:
    count = max(int(orders["rows"]) // 4, 1)
    return pd.DataFrame({"customer": np.arange(count), "segment": ["retail"] * count})


def hold(orders: pd.DataFrame) -> pd.DataFrame:
    if Path("hold").exists():
        deadline = time.time() + 300
        while not Path("release").exists() and time.time() < deadline:
            time.sleep(0.05)
    return orders


def clean_orders(orders: pd.DataFrame, min_amount: float) -> pd.DataFrame:
    return orders[orders["amount"] >= min_amount].reset_index(drop=True)


def profile(orders: pd.DataFrame) -> pd.DataFrame:
    return orders.describe().reset_index()


def select_region(orders: pd.DataFrame, region: str) -> pd.DataFrame:
    return orders[orders["region"] == region].reset_index(drop=True)


def count_orders(orders: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"orders": [len(orders)], "revenue": [orders["amount"].sum()]})


def features(orders: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    merged = orders.merge(customers, on="customer", how="left")
    return merged.groupby("customer", as_index=False)["amount"].agg(["sum", "count"])


def score(features: pd.DataFrame) -> pd.DataFrame:
    out = features.copy()
    out["score"] = out["sum"] / out["count"].clip(lower=1)
    return out


def combine(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def top_customers(orders: pd.DataFrame, top_n: int) -> pd.DataFrame:
    spent = orders.groupby("customer", as_index=False)["amount"].sum()
    return spent.nlargest(top_n, "amount")


def publish(counts, scores, top, profile) -> pd.DataFrame:
    return pd.DataFrame(
        {"regions": [len(counts)], "scored": [len(scores)], "top": [len(top)],
         "profiled": [len(profile)]}
    )


def check_report(report: pd.DataFrame) -> pd.DataFrame:
    if Path("fail").exists():
        pd.to_numeric(report["regions"].astype(str) + " regions")
    return report
'''

REGISTRY = f"""
from kedro.pipeline import Pipeline, node, pipeline

from {PACKAGE}.nodes import (
    check_report, clean_orders, combine, count_orders, features, hold, make_customers,
    make_orders, profile, publish, score, select_region, top_customers,
)

REGIONS = {REGIONS!r}


def region_pipeline() -> Pipeline:
    return pipeline(
        [
            node(select_region, ["orders", "params:region"], "region_orders", name="select"),
            node(count_orders, "region_orders", "region_counts", name="count"),
            node(features, ["region_orders", "customers"], "region_features", name="features"),
            node(score, "region_features", "region_scores", name="score"),
        ]
    )


def register_pipelines() -> dict[str, Pipeline]:
    ingest = pipeline(
        [
            node(make_orders, "params:orders", "raw_orders", name="make_orders"),
            node(make_customers, "params:orders", "customers", name="make_customers"),
            node(hold, "raw_orders", "held_orders", name="hold"),
            node(clean_orders, ["held_orders", "params:min_amount"], "orders", name="clean"),
            node(profile, "raw_orders", "raw_profile", name="profile"),
        ],
        namespace="ingest",
        inputs=set(),
        outputs={{"orders", "customers", "raw_profile", "raw_orders"}},
        parameters={{"params:orders", "params:min_amount"}},
    )
    regions = sum(
        (
            pipeline(
                region_pipeline(),
                namespace=f"regions.{{r}}",
                inputs={{"orders", "customers"}},
                parameters={{"params:region": f"params:regions.{{r}}"}},
            )
            for r in REGIONS
        ),
        pipeline([]),
    )
    report = pipeline(
        [
            node(combine, [f"regions.{{r}}.region_counts" for r in REGIONS], "counts",
                 name="combine_counts"),
            node(combine, [f"regions.{{r}}.region_scores" for r in REGIONS], "scores",
                 name="combine_scores"),
            node(top_customers, ["orders", "params:top_n"], "top", name="top_customers"),
            node(publish, ["counts", "scores", "top", "raw_profile"], "report", name="publish"),
            node(check_report, "report", "checked_report", name="check_report"),
        ],
        namespace="report",
        inputs={{"orders", "raw_profile"}} | {{f"regions.{{r}}.region_counts" for r in REGIONS}}
        | {{f"regions.{{r}}.region_scores" for r in REGIONS}},
        parameters={{"params:top_n"}},
    )
    everything = ingest + regions + report
    return {{"__default__": everything, "ingest": ingest}}
"""

CATALOG = """
raw_orders:
  type: pandas.CSVDataset
  filepath: data/raw_orders.csv
orders:
  type: pandas.CSVDataset
  filepath: data/orders.csv
customers:
  type: pandas.CSVDataset
  filepath: data/customers.csv
raw_profile:
  type: pandas.CSVDataset
  filepath: data/raw_profile.csv
report.report:
  type: pandas.CSVDataset
  filepath: data/report.csv
"""

PARAMETERS = """
orders:
  rows: 200
  seed: 1
  with_note: false
min_amount: 5
top_n: 5
regions:
  east: east
  west: west
  north: north
  central: central
"""


def shop_project(root: Path) -> Path:
    """Write the shop project at ``root``."""
    return write_project(
        root,
        PACKAGE,
        nodes_py=NODES,
        registry_py=REGISTRY,
        catalog_yml=CATALOG,
        parameters_yml=PARAMETERS,
        local_files={"data/.keep": ""},
    )
