"""The command lines (``lstm-course grade``, ``python -m lstm_course.autograde``) and what the
sandbox imports: the grading runs themselves are tested in test_corpus and test_integrity."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_course.autograde import cli


def _options(parser) -> dict[str, tuple]:
    """Every option of a parser: its flags -> (default, type, action class)."""
    return {
        tuple(a.option_strings): (a.default, a.type, type(a).__name__)
        for a in parser._actions
        if a.option_strings
    }


def _grade_subparser():
    (commands,) = [a for a in cli.build_course_parser()._actions if a.dest == "command"]
    return commands.choices["grade"]


def test_lstm_course_grade_takes_the_options_of_python_m():
    ours, module = _options(_grade_subparser()), _options(cli.build_parser())
    assert ours == module
    assert ("--course-dir",) in ours and ("--jobs", "-j") in ours


def test_both_command_lines_parse_the_same_arguments_alike():
    argv = ["--course-dir", "c", "--assignment", "a", "--student", "s", "-j", "3", "--force"]
    via_script = cli.build_course_parser().parse_args(["grade", *argv])
    via_module = cli.build_parser().parse_args(argv)
    assert {k: v for k, v in vars(via_script).items() if k != "command"} == vars(via_module)


def test_lstm_course_needs_a_subcommand(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert "grade" in capsys.readouterr().err


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd="/")


def test_console_script_lists_its_subcommands():
    script = Path(sys.executable).parent / "lstm-course"
    if not script.exists():
        pytest.fail(f"{script} is missing: pip install --no-deps --no-build-isolation -e .")
    out = _run(str(script), "--help")
    assert out.returncode == 0, out.stderr
    assert "grade" in out.stdout


def test_python_m_keeps_its_usage():
    out = _run(sys.executable, "-m", "lstm_course.autograde", "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: python -m lstm_course.autograde")


@functools.cache
def _imported(*modules: str) -> set[str]:
    """Top-level packages that importing ``modules`` adds to a fresh interpreter's."""
    code = "import sys; print(' '.join(sys.modules))"
    if modules:
        code = f"import {', '.join(modules)}; " + code
    out = _run(sys.executable, "-I", "-c", code)
    assert out.returncode == 0, out.stderr
    found = {name.split(".")[0] for name in out.stdout.split()}
    return found - _imported() if modules else found


def test_policy_imports_the_standard_library_only():
    third_party = _imported("lstm_course.autograde.policy") - set(sys.stdlib_module_names)
    assert third_party <= {"lstm_course"}, third_party


def test_the_answer_process_imports_neither_nbgrader_nor_the_reference():
    """A (the student's sandbox) starts on its own side of the grader alone (policy.ANSWER_FILES)."""
    found = _imported("lstm_course.autograde._answer")
    assert not found & {"nbgrader", "nbformat", "lstm_ref", "torch", "IPython"}, found
