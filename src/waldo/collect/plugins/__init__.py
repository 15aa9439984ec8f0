"""Waldo's built-in collectors, each a plugin on :mod:`waldo.collect`: GitHub Actions
(``github``), dbt artifacts (``dbt``) and Waldo's own journal (``waldo``)."""
