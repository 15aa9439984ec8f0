"""The static site (``static_site:`` in waldo.yml), brought up to date as a run ends.

It is written from the journal once the run's rows are in it (after the final flush),
in the pipeline's process; a site that cannot be written is one warning, never a
failed run, since the journal itself holds everything the site shows.
"""

from __future__ import annotations

import logging

from waldo._errors import WaldoError
from waldo.journal import History, Recorder

log = logging.getLogger("waldo")


def publish_site(recorder: Recorder, run_id: str) -> None:
    """Write the site's index and the page of ``run_id`` (and any page missing)."""
    raw = recorder.settings.extra.get("static_site")
    if not raw:
        return
    try:
        from waldo.web import site_options, write_site

        options = site_options(raw, recorder.settings.project_path)
        write_site(History(recorder.store), options.path, options.keep, refresh=[run_id])
    except WaldoError as exc:
        log.warning("waldo: the static site was not updated: %s", exc)
    except Exception as exc:  # a site is never worth a failed run
        log.warning("waldo: the static site was not updated (unexpected %r)", exc)
