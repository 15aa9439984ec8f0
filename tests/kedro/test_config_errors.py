"""A bad Waldo configuration costs one clear warning, never the pipeline (unless strict).

One project, one Kedro environment per mistake: ``conf/<env>/waldo.yml``. A runtime
parameter JSON cannot hold cannot come from the ``kedro run`` command line, but the
Python API (``KedroSession.create(runtime_params=...)``) passes any value OmegaConf takes,
such as a ``pathlib.Path``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers.projects import chain_project
from tests.kedro._e2e import journal_at, output_of, run_kedro, subprocess_env, waldo_warnings
from waldo.store import Spool

pytestmark = pytest.mark.slow

NODES = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = chain_project(tmp_path_factory.mktemp("config") / "proj", nodes=NODES)
    envs = {
        "notaurl": "store: notaurl\n",
        "mysql": "store: mysql://x/y\n",
        "unreachable": f"store: postgresql://postgres@127.0.0.1:{_free_port()}/nowhere\n",
        "strict": "store: notaurl\nstrict: true\n",
        "strict_unreachable": (
            f"store: postgresql://postgres@127.0.0.1:{_free_port()}/nowhere\nstrict: true\n"
        ),
    }
    for env, text in envs.items():
        (root / "conf" / env).mkdir()
        (root / "conf" / env / "waldo.yml").write_text(text)
    return root


def _run(root: Path, env: str) -> subprocess.CompletedProcess[str]:
    shutil.rmtree(root / ".waldo", ignore_errors=True)
    for output in (root / "data").glob("d*.csv"):
        output.unlink()
    return run_kedro(root, "run", "--env", env)


def _finished(root: Path) -> bool:
    return all((root / "data" / f"d{i}.csv").is_file() for i in range(NODES))


def test_missing_credentials_entry(project: Path) -> None:
    result = _run(project, "notaurl")
    assert result.returncode == 0, output_of(result)
    assert _finished(project)
    [warning] = waldo_warnings(output_of(result))
    assert warning.startswith("not recording this run:")
    assert "credentials entry 'notaurl'" in warning
    assert not (project / ".waldo" / "waldo.db").exists()


def test_unsupported_database(project: Path) -> None:
    result = _run(project, "mysql")
    assert result.returncode == 0, output_of(result)
    assert _finished(project)
    [warning] = waldo_warnings(output_of(result))
    assert "SQLite or PostgreSQL, not 'mysql'" in warning
    assert not (project / ".waldo").exists()


def test_unreachable_store(project: Path) -> None:
    result = _run(project, "unreachable")
    assert result.returncode == 0, output_of(result)
    assert _finished(project)
    [warning] = waldo_warnings(output_of(result))
    assert "Cannot reach the Waldo store" in warning
    assert "waldo sync" in warning
    assert Spool(project / ".waldo" / "spool").count_pending_records() > 0


def test_strict_mode_fails_the_run(project: Path) -> None:
    result = _run(project, "strict")
    assert result.returncode != 0
    output = output_of(result)
    assert "ConfigError: waldo.yml names the credentials entry 'notaurl'" in output
    assert not _finished(project)


def test_strict_mode_with_an_unreachable_store_fails_before_any_node(project: Path) -> None:
    result = _run(project, "strict_unreachable")
    assert result.returncode != 0
    output = " ".join(output_of(result).split())
    assert "Cannot reach the Waldo store at postgresql://postgres@127.0.0.1:" in output
    assert not any((project / "data" / f"d{i}.csv").exists() for i in range(NODES))


SESSION_SCRIPT = """
import sys
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

root = Path(sys.argv[1])
bootstrap_project(root)
params = {"factor": 2, "out_dir": Path("/srv/out")}
with KedroSession.create(project_path=root, runtime_params=params) as session:
    session.run()
    print("SESSION_ID", session.session_id)
"""


def test_runtime_param_json_cannot_hold(project: Path) -> None:
    shutil.rmtree(project / ".waldo", ignore_errors=True)
    script = project.parent / "session_run.py"
    script.write_text(textwrap.dedent(SESSION_SCRIPT))
    result = subprocess.run(
        [sys.executable, str(script), str(project)],
        cwd=project,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, output_of(result)
    [warning] = waldo_warnings(output_of(result))
    assert "runtime parameter 'out_dir' is a PosixPath" in warning
    detail = journal_at(project).history.run_detail("latest")
    assert f"SESSION_ID {detail.summary.run_id}\n" in result.stdout  # run id = session id
    assert detail.summary.status == "success"
    assert detail.runtime_params == {"factor": 2, "out_dir": "PosixPath('/srv/out')"}
