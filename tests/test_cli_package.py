"""The command line as a package: output paths checked first, the store's failures, verbosity,
the version, the entry point, serve's folder, missing extras."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import detente
from detente.extras import MissingExtra

from .conftest import ROOT
from .test_cli import IRAN_2018, detente_process
from .test_cli import detente as cli


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1 and "Traceback" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", IRAN_2018, "--plot", "out.txt"],
            "--plot out.txt: expected a .png or .svg or .pdf",
        ),
        (["report", IRAN_2018, "-o", "/proc/x.html"], "-o /proc/x.html: cannot write in /proc"),
        (["report", IRAN_2018, "-o", "r.pdf"], "-o r.pdf: expected a .html or .htm file"),
        (["sweep", IRAN_2018, "--grid", "pressure_scale=0:1:2", "-o", "t.json"], "-o t.json"),
        (["run", IRAN_2018, "--plot", "/no/such/folder/x.png"], "folder /no/such/folder"),
        (["solve", ROOT / "tests/data/eum-example.csv", "--plot", "/proc/r.png"], "cannot write"),
    ],
)
def test_output_paths_are_checked_before_any_work(args: list[str | Path], message: str) -> None:
    store = detente_store_size()
    r = cli(*args)
    assert r.returncode == 2 and message in r.stderr and one_line(r.stderr), r.stderr
    assert r.stdout == "" and detente_store_size() == store  # nothing ran, nothing recorded


def test_an_output_path_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = cli("run", IRAN_2018, "--plot", blocker / "x.png")
    assert r.returncode == 2 and "is not a folder" in r.stderr and one_line(r.stderr)


def detente_store_size() -> int:
    """Runs in the test store (DETENTE_STORE, set by conftest)."""
    import os

    path = Path(os.environ["DETENTE_STORE"])
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        return int(conn.execute("select count(*) from runs").fetchone()[0])


def test_a_run_that_cannot_be_recorded_exits_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = blocker / "runs.sqlite"  # a store under a file: cannot be created
    r = cli("run", IRAN_2018, "--draws", "20", "--store", bad, "--json")
    assert r.returncode == 1, r.stderr
    assert "not recorded in the run store" in r.stderr and one_line(r.stderr)
    assert '"horizons"' in r.stdout  # the answer was printed before the store was tried
    ok = cli("run", IRAN_2018, "--draws", "20", "--store", bad, "--no-store", "--json")
    assert ok.returncode == 0 and ok.stderr == ""


def test_a_recorded_run_says_where_once(tmp_path: Path) -> None:
    store = tmp_path / "runs.sqlite"
    r = cli("run", IRAN_2018, "--draws", "20", "--store", store)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("recorded as run") == 1 and f"in {store}" in r.stderr
    quiet = cli("-q", "run", IRAN_2018, "--draws", "20", "--store", store)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_the_interval_is_said_to_be_parameter_uncertainty() -> None:
    r = cli("run", IRAN_2018, "--draws", "50", "--no-store")
    assert "spread over the parameter uncertainty" in r.stdout
    assert "Monte Carlo standard error" in r.stdout and "+/-" in r.stdout


def test_version_quiet_verbose_and_completion() -> None:
    assert cli("--version").stdout.strip() == f"detente {detente.__version__}"
    assert cli("-q", "-v", "--version").returncode == 0  # --version is eager
    both = cli("-q", "-v", "runs", "list")
    assert both.returncode == 2 and "exclude each other" in both.stderr
    timed = cli("-v", "run", IRAN_2018, "--draws", "10", "--no-store", "--json")
    assert timed.returncode == 0 and "took " in timed.stderr
    assert "simulating: " in timed.stderr and "on the local backend" in timed.stderr
    helptext = cli("--help").stdout
    for option in ("--quiet", "--verbose", "--install-completion", "--show-completion"):
        assert option in helptext


def test_python_m_detente_is_the_command() -> None:
    r = detente_process("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"detente {detente.__version__}"
    bad = detente_process("run", "no-such.yaml")
    assert bad.returncode == 2 and one_line(bad.stderr) and "no-such.yaml" in bad.stderr


def test_serve_outside_a_checkout_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from detente.cli import app

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["serve"])
    assert r.exit_code == 2 and "pass --scenarios FOLDER" in r.stderr and one_line(r.stderr)
    r = CliRunner().invoke(app, ["serve", "--scenarios", "nowhere"])
    assert r.exit_code == 2 and "nowhere: no such folder" in r.stderr


def test_a_missing_extra_names_the_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    f = detente.run(IRAN_2018, draws=10)
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(MissingExtra, match=r"pip install 'detente\[viz\]'"):
        f.to_xarray()
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    r = cli("run", IRAN_2018, "--draws", "10", "--no-store", "--plot", tmp_path / "p.png")
    assert r.returncode == 1 and "pip install 'detente[viz]'" in r.stderr and one_line(r.stderr)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("run", ["run", "examples/cases/iran-2018.yaml", "--draws", "200", "--seed", "3"]),
        ("solve", ["solve", "tests/data/eum-example.csv", "--variant", "scholz-code"]),
        ("tip", ["tip", "examples/cases/iran-2018.yaml", "--param", "leader.legacy_weight",
                 "--draws", "100"]),
        ("sweep", ["sweep", "examples/cases/iran-2018.yaml", "--grid", "pressure_scale=0:2:3",
                   "--draws", "50"]),
        ("backtest-deu", ["backtest", "deu", "examples/deu/deu3-dev.tsv", "--model",
                          "compromise"]),
    ],
)  # fmt: skip
def test_json_output_is_unchanged(
    name: str, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--json prints what main printed before the package (tests/data/contract, made by main at
    66aa77e), plus only the additive mc_se of each horizon."""
    from .test_api import contract, without_mc_se

    monkeypatch.delenv("DETENTE_TIES", raising=False)
    r = cli(*args, "--json", *(["--no-store"] if name != "solve" and name != "tip" else []))
    assert r.returncode == 0, r.stderr
    assert without_mc_se(json.loads(r.stdout)) == contract(name)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", IRAN_2018, "--seed", str(2**63)], "detente run: Invalid value for '--seed'"),
        (["run", IRAN_2018, "--drawz", "5"], "detente run: No such option: --drawz"),
        (["runn"], "detente: No such command 'runn'. Did you mean 'run', 'runs'?"),
        (["run"], "detente run: Missing argument 'scenario'."),
        (
            ["backtest", "deu", "x.tsv", "--cv", "x"],
            "detente backtest deu: Invalid value for '--cv'",
        ),
    ],
)
def test_what_the_parser_refuses_is_one_line(args: list[str | Path], message: str) -> None:
    """A bad option or argument is one line and exit 2, as any other bad input (no usage text,
    no boxed error)."""
    r = cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), r.stderr
    assert r.stdout == ""


def test_a_bare_group_still_shows_its_help() -> None:
    r = cli("backtest")
    assert "Usage: detente backtest" in r.stdout + r.stderr and "error:" not in r.stderr


# --- commands built lazily -----------------------------------------------------------------------


def test_every_command_is_in_the_table_with_its_own_summary() -> None:
    """COMMANDS lists each command once, its summary is the first paragraph of the command's
    own help (so `detente --help` says what `detente CMD --help` says), and each is built from
    the module the table names."""
    import typer.main

    from detente.cli import COMMANDS, app, build_command
    from detente.cli import summary as summary_of

    root = typer.main.get_command(app)
    names = root.list_commands(None)  # type: ignore[arg-type]
    assert names == list(COMMANDS) and len(names) == 16
    for name, (module, summary) in COMMANDS.items():
        built = build_command(name)
        assert built.name == name
        assert summary_of(built.help or "") == summary, name
        assert built.callback is None or built.callback.__module__ == f"detente.cli.{module}"


def test_help_imports_no_command_and_a_command_only_its_own() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['detente', *sys.argv[1:]]\n"
        "from detente.cli import app\n"
        "try:\n"
        "    app()\n"
        "except SystemExit:\n"
        "    pass\n"
        "mods = sorted(m for m in sys.modules if m.startswith('detente.cli.') and m != "
        "'detente.cli.common')\n"
        "sys.stderr.write(repr(mods))\n"
    )

    def loaded(*args: str) -> str:
        r = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
        )
        return r.stderr.strip().splitlines()[-1]

    assert loaded("--help") == "[]"
    assert loaded("schema") == "['detente.cli.scenario']"
    assert loaded("runs", "--help") == "['detente.cli.runs']"


def test_a_misspelt_command_names_the_closest() -> None:
    r = cli("rn", "x")
    assert r.returncode == 2 and one_line(r.stderr)
    assert "No such command 'rn'. Did you mean 'run', 'runs'?" in r.stderr


def test_completion_reaches_the_lazy_commands_and_their_options() -> None:
    from typer.testing import CliRunner

    from detente.cli import app

    def complete(words: str, cword: int) -> list[str]:
        env = {"_DETENTE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        r = CliRunner().invoke(app, [], env=env, prog_name="detente")
        assert r.exit_code == 0, r.output
        return r.stdout.split()

    assert complete("detente ru", 1) == ["run", "runs"]
    assert complete("detente run --dr", 2) == ["--draws"]
    assert complete("detente backtest ", 2) == ["deu", "cases", "ties"]


def test_a_group_lists_its_commands_by_one_line_summaries() -> None:
    """typer's rich help keeps a docstring's line breaks; a group's listing gets each command's
    first paragraph in one line instead (as the root's listing does)."""
    from detente.cli import build_command

    cases = build_command("backtest").commands["cases"]  # type: ignore[attr-defined]
    assert "\n" in (cases.help or "").split("\n\n")[0]  # the docstring's first paragraph wraps
    assert cases.short_help.startswith("Run the coercion model on every case with an outcome")
    assert "\n" not in cases.short_help and "  " not in cases.short_help
    assert "Run the coercion model on every case" in cli("backtest", "--help").stdout


# --- leaving without the interpreter's teardown --------------------------------------------------


def _main_with(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``detente ARGS`` through :func:`detente.cli.main` after ``prelude``, as a process."""
    code = f"import sys\n{prelude}\nsys.argv = ['detente', *sys.argv[1:]]\n"
    code += "from detente.cli import main\nmain()\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_leaving_runs_the_exit_handlers_and_keeps_the_status_and_output() -> None:
    handler = "import atexit\natexit.register(lambda: print('handler ran', file=sys.stderr))"
    ok = _main_with(handler, "run", IRAN_2018, "--draws", "20", "--no-store", "--json")
    assert ok.returncode == 0 and "handler ran" in ok.stderr
    assert json.loads(ok.stdout)["horizons"]  # the whole document, flushed
    bad = _main_with(handler, "run", "no-such.yaml")
    assert bad.returncode == 2 and "handler ran" in bad.stderr and "no-such.yaml" in bad.stderr


def test_a_thread_still_running_gets_the_usual_exit() -> None:
    """A non-daemon thread is waited for, as Python does, instead of being cut off."""
    prelude = (
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.5), print('thread done'))).start()"
    )
    r = _main_with(prelude, "--version")
    assert r.returncode == 0 and "thread done" in r.stdout and "detente" in r.stdout


def test_leave_exits_with_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import detente.cli as cli_module

    left: list[int] = []
    ran: list[bool] = []
    # this test process's own exit handlers must not run, nor the process end
    monkeypatch.setattr(cli_module.os, "_exit", left.append)
    monkeypatch.setattr(cli_module.atexit, "_run_exitfuncs", lambda: ran.append(True))
    monkeypatch.setattr(cli_module.threading, "active_count", lambda: 1)
    cli_module.leave(None)
    cli_module.leave(3)
    assert left == [0, 3] and ran == [True, True]
    with pytest.raises(SystemExit) as exc:
        cli_module.leave("a message")  # sys.exit prints it and exits 1, as usual
    assert exc.value.code == "a message"
