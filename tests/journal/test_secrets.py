"""Catalog snapshots never store a secret, and keep references to credentials entries."""

from __future__ import annotations

from waldo.journal import mask_secrets

CREDENTIALS = {
    "db_creds": {"con": "postgresql://app:hunter22@db:5432/sales", "user": "app"},
    "s3": {"key": "AKIAEXAMPLE", "secret": "wJalrXUtnFEMI"},
    "plain": "tok-123456",
}


def test_password_keys_are_masked_at_any_depth() -> None:
    catalog = {
        "companies": {
            "type": "pandas.SQLTableDataset",
            "load_args": {"password": "pw1", "api_key": "k-1", "Token": "t-1", "timeout": 30},
            "save_args": [{"secret": "s-1"}, {"index": False}],
        }
    }
    masked = mask_secrets(catalog)
    assert masked == {
        "companies": {
            "type": "pandas.SQLTableDataset",
            "load_args": {"password": "***", "api_key": "***", "Token": "***", "timeout": 30},
            "save_args": [{"secret": "***"}, {"index": False}],
        }
    }
    assert catalog["companies"]["load_args"]["password"] == "pw1"  # the input is untouched


def test_url_passwords_are_masked_and_the_rest_of_the_url_kept() -> None:
    masked = mask_secrets(
        {"ds": {"filepath": "s3://user:abc123@bucket/path/x.csv", "table": "postgresql://u@h/d"}}
    )
    assert masked == {
        "ds": {"filepath": "s3://user:***@bucket/path/x.csv", "table": "postgresql://u@h/d"}
    }


def test_values_equal_to_credentials_are_masked() -> None:
    catalog = {
        "a": {"type": "x", "filepath": "AKIAEXAMPLE"},
        "b": {"options": ["tok-123456", "keep-me"]},
        "c": {"user": "app"},  # shorter than 4 characters is not treated as a secret
    }
    assert mask_secrets(catalog, CREDENTIALS) == {
        "a": {"type": "x", "filepath": "***"},
        "b": {"options": ["***", "keep-me"]},
        "c": {"user": "app"},
    }


def test_credentials_references_are_kept() -> None:
    catalog = {
        "sales": {"type": "pandas.SQLTableDataset", "credentials": "db_creds", "table_name": "t"},
        "inline": {"type": "x", "credentials": {"password": "pw", "user": "u"}},
    }
    masked = mask_secrets(catalog, CREDENTIALS)
    assert masked["sales"] == catalog["sales"]
    # inline credentials are walked like any mapping: the password goes, the user stays
    assert masked["inline"]["credentials"] == {"password": "***", "user": "u"}


def test_empty_and_boolean_values_under_secret_keys_stay_readable() -> None:
    assert mask_secrets({"password": "", "token": None, "auth": True}) == {
        "password": "",
        "token": None,
        "auth": True,
    }
