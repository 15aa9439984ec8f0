"""OpenLineage datasets named as the naming spec says, with the facets Waldo knows.

A dataset is named by where its data lives, so that Marquez joins Waldo's events with
those Spark, Airflow or dbt emit for the same files and tables
(https://openlineage.io/docs/spec/naming):

- a local file: namespace ``file``, name its absolute path;
- ``s3://bucket/key`` (also s3a, s3n), ``gs://bucket/key``: namespace ``s3://bucket``,
  name ``key``; ``abfss://container@account...``, ``hdfs://host:port``: the same split;
- a table in PostgreSQL: namespace ``postgres://host:port``, name ``db.schema.table``
  (other databases: ``<scheme>://host:port``, the same name);
- a dataset with no location (in memory, or one Waldo cannot place): the job's
  namespace and the catalog name, as before.

The catalog name stays with the dataset in a ``symlinks`` facet. Each facet is built by
its own small function, so more (a data quality facet) add without touching the rest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.generated import (
    dataset_version_dataset,
    datasource_dataset,
    output_statistics_output_dataset,
    schema_dataset,
    symlinks_dataset,
)

#: Object stores and file systems whose namespace is ``scheme://authority``.
BUCKET_SCHEMES = frozenset({"s3", "s3a", "s3n", "gs", "gcs", "abfss", "abfs", "wasbs", "hdfs"})
#: Database URL schemes and the namespace scheme the naming spec gives them.
DATABASE_SCHEMES = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mssql": "mssql",
    "sqlite": "sqlite",
}
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "mssql": 1433}


@dataclass(frozen=True)
class DatasetName:
    """A dataset's OpenLineage identity."""

    namespace: str
    name: str


@dataclass
class DatasetInfo:
    """What the journal knows of one dataset in one run (or one node's use of it)."""

    catalog_name: str
    location: str | None = None  # a path or URI
    table: Mapping[str, Any] | None = None  # a SQL dataset's catalog entry
    version: str | None = None  # Waldo's content fingerprint
    stats: Mapping[str, Any] | None = None  # rows, schema, bytes (saves only)
    extra: dict[str, Any] = field(default_factory=dict)  # more facets, by name


def file_name(location: str, project_path: str | os.PathLike[str] | None) -> DatasetName | None:
    """A path or URI as (namespace, name); None when it is not a file location."""
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme in BUCKET_SCHEMES:
        return DatasetName(f"{scheme}://{parts.netloc}", parts.path.lstrip("/") or "/")
    if scheme == "file":
        return DatasetName("file", os.path.abspath(parts.path))
    if scheme and len(scheme) > 1:  # http://..., memory://...: not a file
        return None
    path = Path(location)  # a plain path (a one-letter "scheme" is a Windows drive)
    if not path.is_absolute() and project_path is not None:
        path = Path(project_path) / path
    return DatasetName("file", os.path.abspath(path))


def table_name(table: Mapping[str, Any]) -> DatasetName | None:
    """A SQL dataset's catalog entry (``table_name``, ``credentials.con`` or ``con``,
    ``schema`` in ``load_args``/``save_args``) as (namespace, ``db.schema.table``)."""
    name = table.get("table_name")
    credentials = table.get("credentials")
    con = credentials.get("con") if isinstance(credentials, Mapping) else table.get("con")
    if not name or not isinstance(con, str):
        return None
    url = urlsplit(con)
    scheme = DATABASE_SCHEMES.get(url.scheme.split("+")[0].lower())
    if scheme is None or not url.hostname:
        return None
    port = url.port or DEFAULT_PORTS.get(scheme)
    database = url.path.lstrip("/")
    args = {**(table.get("load_args") or {}), **(table.get("save_args") or {})}
    schema = args.get("schema") or ("public" if scheme == "postgres" else None)
    qualified = ".".join(str(p) for p in (database, schema, name) if p)
    return DatasetName(f"{scheme}://{url.hostname}:{port}", qualified)


def dataset_name(info: DatasetInfo, job_namespace: str, project_path: Any) -> DatasetName:
    """Where the dataset lives, by the naming spec; else the catalog name in the job's
    namespace."""
    found = table_name(info.table) if info.table else None
    if found is None and info.location:
        found = file_name(info.location, project_path)
    return found or DatasetName(job_namespace, info.catalog_name)


# -- facets, one function each ------------------------------------------------------------
def symlinks_facet(info: DatasetInfo, job_namespace: str) -> Any:
    """The catalog name, so the dataset is still found by what the project calls it."""
    return symlinks_dataset.SymlinksDatasetFacet(
        identifiers=[
            symlinks_dataset.Identifier(
                namespace=job_namespace, name=info.catalog_name, type="KEDRO_CATALOG"
            )
        ]
    )


def schema_facet(stats: Mapping[str, Any]) -> Any | None:
    columns = stats.get("schema")
    if not isinstance(columns, Mapping) or not columns:
        return None
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(name=str(n), type=str(t), ordinal_position=i)
            for i, (n, t) in enumerate(columns.items(), start=1)
        ]
    )


def data_source_facet(name: DatasetName) -> Any:
    uri = "file:///" if name.namespace == "file" else name.namespace
    return datasource_dataset.DatasourceDatasetFacet(name=name.namespace, uri=uri)


def version_facet(version: str) -> Any:
    return dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version)


def output_statistics_facet(stats: Mapping[str, Any]) -> Any | None:
    rows, size = stats.get("rows"), stats.get("bytes")
    if not isinstance(rows, int) and not isinstance(size, int):
        return None
    return output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
        rowCount=rows if isinstance(rows, int) else None,
        size=size if isinstance(size, int) else None,
    )


def dataset_facets(info: DatasetInfo, name: DatasetName, job_namespace: str) -> dict[str, Any]:
    """The facets every dataset gets from what Waldo recorded of it."""
    facets: dict[str, Any] = {"symlinks": symlinks_facet(info, job_namespace)}
    if name.namespace != job_namespace:
        facets["dataSource"] = data_source_facet(name)
    if info.version:
        facets["version"] = version_facet(info.version)
    schema = schema_facet(info.stats) if info.stats else None
    if schema is not None:
        facets["schema"] = schema
    facets.update(info.extra)
    return facets


def input_dataset(info: DatasetInfo, job_namespace: str, project_path: Any) -> InputDataset:
    name = dataset_name(info, job_namespace, project_path)
    return InputDataset(name.namespace, name.name, facets=dataset_facets(info, name, job_namespace))


def output_dataset(info: DatasetInfo, job_namespace: str, project_path: Any) -> OutputDataset:
    name = dataset_name(info, job_namespace, project_path)
    statistics = output_statistics_facet(info.stats) if info.stats else None
    return OutputDataset(
        name.namespace,
        name.name,
        facets=dataset_facets(info, name, job_namespace),
        outputFacets={"outputStatistics": statistics} if statistics is not None else {},
    )
