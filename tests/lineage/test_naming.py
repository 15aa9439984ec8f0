"""Dataset names by OpenLineage's naming spec, and the facets made from what Waldo knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from waldo.lineage._datasets import (
    DatasetInfo,
    DatasetName,
    dataset_name,
    output_dataset,
    table_name,
)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("data/01_raw/orders.csv", DatasetName("file", "/project/data/01_raw/orders.csv")),
        ("/srv/data/orders.csv", DatasetName("file", "/srv/data/orders.csv")),
        ("file:///srv/data/orders.csv", DatasetName("file", "/srv/data/orders.csv")),
        ("s3://bucket/raw/orders.csv", DatasetName("s3://bucket", "raw/orders.csv")),
        ("s3a://bucket/raw/orders", DatasetName("s3a://bucket", "raw/orders")),
        ("gs://bucket/raw/orders.parquet", DatasetName("gs://bucket", "raw/orders.parquet")),
        (
            "abfss://container@account.dfs.core.windows.net/raw/orders",
            DatasetName("abfss://container@account.dfs.core.windows.net", "raw/orders"),
        ),
        ("hdfs://namenode:8020/raw/orders", DatasetName("hdfs://namenode:8020", "raw/orders")),
    ],
)
def test_file_locations(location: str, expected: DatasetName) -> None:
    info = DatasetInfo("orders", location=location)
    assert dataset_name(info, "my-project", Path("/project")) == expected


def test_a_postgres_table_is_host_port_and_db_schema_table() -> None:
    entry = {
        "type": "pandas.SQLTableDataset",
        "table_name": "orders",
        "credentials": {"con": "postgresql+psycopg2://me:secret@db.example.com/shop"},
        "save_args": {"schema": "sales"},
    }
    assert table_name(entry) == DatasetName("postgres://db.example.com:5432", "shop.sales.orders")
    entry["save_args"] = {}
    assert table_name(entry) == DatasetName("postgres://db.example.com:5432", "shop.public.orders")
    info = DatasetInfo("orders", table=entry)
    assert dataset_name(info, "my-project", None).namespace == "postgres://db.example.com:5432"


def test_a_dataset_without_location_keeps_its_catalog_name() -> None:
    assert dataset_name(DatasetInfo("model_input"), "my-project", None) == DatasetName(
        "my-project", "model_input"
    )
    assert dataset_name(DatasetInfo("x", location="memory://x"), "p", None) == DatasetName("p", "x")


def test_an_output_carries_its_facets() -> None:
    info = DatasetInfo(
        "clean_orders",
        location="data/clean.parquet",
        version="abc123",
        stats={"rows": 191, "bytes": 5745, "schema": {"order_id": "int64", "amount": "float64"}},
    )
    dataset = output_dataset(info, "demo", "/project")
    assert (dataset.namespace, dataset.name) == ("file", "/project/data/clean.parquet")
    facets = dataset.facets or {}
    assert facets["symlinks"].identifiers[0].name == "clean_orders"
    assert facets["symlinks"].identifiers[0].namespace == "demo"
    assert [(f.name, f.type) for f in facets["schema"].fields] == [
        ("order_id", "int64"),
        ("amount", "float64"),
    ]
    assert facets["version"].datasetVersion == "abc123"
    assert facets["dataSource"].name == "file"
    statistics = (dataset.outputFacets or {})["outputStatistics"]
    assert (statistics.rowCount, statistics.size) == (191, 5745)
