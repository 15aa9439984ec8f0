"""The README's screenshots of the web page, from real ``kedro run``s of a 26-node project.

Builds the shop project of the web tests (``tests/web/_shop.py``) in a temporary folder,
runs it the ways a team does (plain runs, an incremental run, a run writing far fewer
rows, a failing run, a killed run, a run watched while it goes), then photographs each
page in headless Chromium at 1440 x 900:

    python docs/screenshots.py            # writes docs/screenshots/*.png (about 2 minutes)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.browser import chromium
from tests.helpers.postgres import wait_for
from tests.kedro._e2e import journal_at, kedro_argv, run_kedro, subprocess_env
from tests.web._shop import shop_project
from waldo.cli._web import kedro_status_source
from waldo.web import make_server

OUT = Path(__file__).with_name("screenshots")
VIEWPORT = {"width": 1440, "height": 900}


def kedro(project: Path, *args: str, ok: bool = True) -> str:
    result = run_kedro(project, *args)
    if ok and result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return journal_at(project).history.resolve_run_id("latest")


def held(project: Path) -> subprocess.Popen[bytes]:
    """A ``kedro run`` waiting in ``ingest.hold`` (until the file ``release`` exists)."""
    (project / "hold").write_text("")
    (project / "release").unlink(missing_ok=True)
    proc = subprocess.Popen(
        kedro_argv("run"),
        cwd=project,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def holding() -> bool:
        try:
            detail = journal_at(project).history.run_detail("latest")
        except Exception:
            return False
        return any(n.node_name == "ingest.hold" and n.status == "running" for n in detail.nodes)

    if not wait_for(holding, timeout=300):
        raise SystemExit("the held run did not start")
    return proc


def shoot(page: Any, url: str, name: str, *actions: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-drawn='1']", timeout=60_000)
    for action in actions:
        kind, _, target = action.partition(":")
        if kind == "click":
            page.click(target)
        elif kind == "check":
            page.check(target)
        elif kind == "scroll":
            page.locator(target).scroll_into_view_if_needed()
        page.wait_for_timeout(400)  # let the graph settle after a toggle (no test here)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"{path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="waldo-shots-") as tmp:
        project = shop_project(Path(tmp) / "shop")
        first = kedro(project, "run")
        kedro(project, "run", "--params", "orders.rows=220")
        kedro(project, "run", "--runner=waldo.kedro.IncrementalRunner")
        dropped = kedro(project, "run", "--params", "orders.rows=40,orders.with_note=true")
        (project / "fail").write_text("")
        failed = kedro(project, "run", ok=False)
        (project / "fail").unlink()
        killed = held(project)
        killed.kill()
        killed.wait()
        going = held(project)
        history = journal_at(project).history
        running = history.resolve_run_id("latest")
        server = make_server(history, port=0, status=kedro_status_source(project, None))
        server.start_in_thread()
        base = server.url
        try:
            with chromium() as browser:
                page = browser.new_page(viewport=VIEWPORT)
                shoot(page, base, "runs")
                shoot(page, base + f"runs/{running}", "run-live", "click:text=expand all")
                (project / "release").write_text("")
                going.wait()
                (project / "hold").unlink()
                shoot(page, base + f"runs/{failed}", "run-failed", "click:text=expand all")
                shoot(
                    page,
                    base + f"runs/{dropped}",
                    "run-datasets",
                    "click:#datasets-table tr[data-dataset='raw_orders']",
                    "scroll:#dataset-chart",
                )
                shoot(page, base + f"diff?a={first}&b={dropped}", "diff", "click:text=expand all")
                runs = ",".join(r.run_id for r in reversed(history.runs(limit=5)))
                shoot(page, base + f"compare?runs={runs}", "compare")
                parameters = project / "conf" / "base" / "parameters.yml"
                parameters.write_text(parameters.read_text().replace("top_n: 5", "top_n: 8"))
                shoot(page, base + "status", "status", "click:text=expand all")
                dark = browser.new_page(viewport=VIEWPORT, color_scheme="dark")
                shoot(dark, base + f"runs/{failed}", "run-failed-dark", "click:text=expand all")
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
