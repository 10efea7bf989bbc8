"""Run plumbing that does not need a kernel: run ids, injection, store, CLI errors."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.core.errors import RunError
from helpers.core.export import neutralise, neutralise_frame
from helpers.core.store import RunStore
from helpers.run import chain
from helpers.run.chain import _notebook_index, check_injectable_path, check_run_id
from helpers.run.cli import main


@pytest.mark.parametrize("good", ["2026Q3", "2026Q3-v2", "demo_2026.Q3"])
def test_run_ids_accepted(good):
    assert check_run_id(good) == good


@pytest.mark.parametrize("bad", ["", "../x", "a/b", 'x"; import os', "x\n", ".hidden", "a..b"])
def test_run_ids_refused(bad):
    with pytest.raises(RunError):
        check_run_id(bad)


@pytest.mark.parametrize("bad", ['p"); import os; ("', "p\\", "p'\n", "a\tb"])
def test_paths_that_could_escape_the_parameter_cell_are_refused(bad):
    with pytest.raises(RunError):
        check_injectable_path(bad, "parameter file path")


def test_notebook_names_resolve():
    assert _notebook_index("04_analysis") == 3
    assert _notebook_index("04") == 3
    with pytest.raises(RunError, match="choose one of"):
        _notebook_index("99_nothing")


def test_store_round_trip_and_manifest(tmp_path):
    store = RunStore("t", root=tmp_path)
    df = pd.DataFrame({"account_id": ["a", "b"], "score": [1.0, 2.0]})
    store.write("scored_accounts", df, step="01_setup")
    pd.testing.assert_frame_equal(store.read("scored_accounts"), df)
    entry = store.manifest()["tables"]["scored_accounts"]
    assert entry["rows"] == 2 and len(entry["sha256"]) == 64 and entry["step"] == "01_setup"
    assert entry["producer"] == "helpers.pipeline.step1.scored_accounts"
    store.write_json("charter", {"b": 1, "a": [1, 2]})
    assert store.read_json("charter") == {"a": [1, 2], "b": 1}
    assert store.manifest()["documents"]["charter"]["producer"] == "helpers.pipeline.step1.charter"
    with pytest.raises(RunError, match="no table 'segments'.*04_analysis"):
        store.read("segments")


def test_formula_injection_is_neutralised():
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert neutralise("+1+2") == "'+1+2"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("-5") == "-5" and neutralise("Acme") == "Acme" and neutralise(3) == 3
    out = neutralise_frame(pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "ok"], "n": [1, 2]}))
    assert out["name"].tolist() == ["'=cmd|' /C calc'!A0", "ok"] and out["n"].tolist() == [1, 2]


def test_cli_reports_parameter_errors_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("as_of: 2026-09-30\ninputs: {accounts: {path: a.csv}}\nbogus: 1\n")
    assert main(["check", "--params", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'bogus'" in err and "Traceback" not in err


def test_cli_refuses_bad_run_id_before_anything(capsys):
    assert main(["run", "--params", "params/demo.yaml", "--run-id", "../evil"]) == 2
    assert "invalid run id" in capsys.readouterr().err


def _record(params_hash="p1", accounts_sha="a1"):
    return {"params_hash": params_hash,
            "inputs": {"accounts": {"path": "a.csv", "sha256": accounts_sha},
                       "tickets": {"path": "t.csv", "sha256": "t1"}}}


def _done(upto: int, **record):
    from helpers.core.paths import NOTEBOOKS

    rec = _record(**record)
    return {"notebooks": {nb: {"seconds": 1.0, **rec} for nb in NOTEBOOKS[:upto]}}


def test_resume_is_allowed_only_with_unchanged_parameters_and_inputs():
    from helpers.run.chain import _check_resumable

    _check_resumable(_done(3), _record(), 3, "r")  # unchanged: fine
    with pytest.raises(RunError, match="parameters changed since 01_setup"):
        _check_resumable(_done(3), _record(params_hash="p2"), 3, "r")
    with pytest.raises(RunError, match=r"input file\(s\) changed since 01_setup ran: accounts"):
        _check_resumable(_done(3), _record(accounts_sha="a2"), 3, "r")
    with pytest.raises(RunError, match="03_data_collection has not completed"):
        _check_resumable(_done(2), _record(), 3, "r")
    with pytest.raises(RunError, match="does not exist yet"):
        _check_resumable({}, _record(), 3, "r")


def test_kernel_queue_hands_out_kernels_in_order_and_falls_back_to_papermill(tmp_path):
    """Kernels are started ahead of use; one that cannot start is handed out as None, so
    papermill starts (and explains) it itself."""
    q = chain._KernelQueue("no-such-kernel-xyz", tmp_path, chain.KERNEL_ARGS)
    q.prepare()
    q.prepare()
    assert q.take() is None and q.take() is None
    assert q.take() is None  # nothing prepared: prepared on demand
    q.stop(None)
    q.close()
    assert q.ready == []


def test_cli_version_and_quiet(capsys, monkeypatch):
    import pytest

    from helpers.run import cli

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"workbook {cli.version()}"
    assert cli.version() != "unknown"  # installed by make env
    monkeypatch.setattr("helpers.run.chain.ensure_kernel", lambda: "k")
    assert main(["kernel"]) == 0
    assert "kernel 'k' registered" in capsys.readouterr().out
    assert main(["-q", "kernel"]) == 0
    assert capsys.readouterr() == ("", "")
