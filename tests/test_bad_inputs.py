"""Bad input never gives a traceback: one line naming the problem, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from h2h_opt.cli import main

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED = json.loads((BAD / "expected.json").read_text())


def test_corpus_is_large_enough():
    assert len(EXPECTED) >= 15
    on_disk = {p.name for p in BAD.glob("*.json")} - {"expected.json"}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_instance_gives_one_clear_line(name, capsys):
    rc = main(["validate", str(BAD / name)])
    err = capsys.readouterr().err
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert EXPECTED[name] in lines[0]
    assert name in lines[0]  # names the file


@pytest.mark.parametrize("command", ["info", "validate"])
def test_missing_file(command, capsys, tmp_path):
    rc = main([command, str(tmp_path / "nope.json")])
    err = capsys.readouterr().err
    assert rc == 1 and "no such file" in err and len(err.strip().splitlines()) == 1


def test_bad_schedule_file(capsys, tmp_path):
    good = Path(__file__).parent / "data" / "good_small.json"
    bad = tmp_path / "s.json"
    bad.write_text(json.dumps({"format_version": 1, "instance": "bad",
                               "layers": [{"id": "A", "accelerator": "acc0", "start_s": "zero"}]}))
    rc = main(["evaluate", str(good), str(bad)])
    err = capsys.readouterr().err
    assert rc == 1 and "$.layers[0].start_s" in err and len(err.strip().splitlines()) == 1


def test_bad_stg_file(capsys, tmp_path):
    f = tmp_path / "x.stg"
    f.write_text("2\n0 0 0\n1 3 1 0\n2 x 1 1\n3 0 1 2\n")
    rc = main(["import", "stg", str(f), "--procs", "2", "-o", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert rc == 1 and "STG line 4" in err and len(err.strip().splitlines()) == 1


def test_usage_error_exit_2(capsys):
    assert main(["solve-nothing"]) == 2
    assert main(["import", "stg", "f.stg"]) == 2  # --procs missing
    capsys.readouterr()
