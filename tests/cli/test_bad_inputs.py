"""The pipeline sub-commands (run, sweep, tune, pipeline, rerun): bad input is one `mlnb: ...` line
and exit 2, before any kernel starts. The numeric table is generated from the option
definitions (mlnb.pipeline.options), so a new option is covered when it is defined."""

from __future__ import annotations

import pytest

from mlnb.cli import build_parser, main
from mlnb.pipeline import options
from mlnb.pipeline.loading import installed_kernels

BAD_NUMBERS = ("0", "-1", "nan", "inf", str(2**63))


def _exit(argv, capsys):
    """``mlnb argv`` in-process: (exit status, stderr); argparse's own refusals included."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.err.strip()


def _cases():
    commands = {
        "run": [*options.RUN, *options.PAPERMILL],
        "sweep": options.SWEEP,
        "tune": options.TUNE,
        "pipeline": options.PIPELINE,
    }
    for command, opts in commands.items():
        for option in opts:
            if option.rule is None:
                continue
            test, _ = options.RULES[option.rule]
            for text in BAD_NUMBERS:
                try:
                    value = option.kwargs.get("type", str)(text)
                except ValueError:
                    value = None  # argparse refuses the word itself
                if value is not None and test(value):
                    continue  # a valid value (0 for an option where 0 means "off")
                yield command, option, text, value


CASES = list(_cases())


def test_the_table_covers_every_numeric_option():
    flags = {(c, o.flag) for c, o, _, _ in CASES}
    assert ("run", "--timeout") in flags and ("run", "--execution-timeout") in flags
    assert ("sweep", "--random") in flags and ("tune", "--trials") in flags
    assert ("pipeline", "--jobs") in flags and ("run", "--autosave-cell-every") in flags


@pytest.mark.parametrize(
    ("command", "option", "text", "value"),
    CASES,
    ids=[f"{c}{o.flag}={t}" for c, o, t, _ in CASES],
)
def test_numeric_options_refuse_bad_values_before_a_kernel(
    command, option, text, value, notebook, tmp_path, capsys
):
    path = notebook("t.ipynb", ["pass"], parameters="x = 1")
    space = tmp_path / "space.yaml"
    space.write_text("x: [1, 2]\n")
    spec = tmp_path / "p.yaml"
    spec.write_text("steps:\n  a: {notebook: t.ipynb}\n")
    head = {
        "run": ["run", str(path), str(tmp_path / "o.ipynb")],
        "sweep": ["sweep", str(path), "-p", "x=1,2", "--output-dir", str(tmp_path / "sw")],
        "tune": ["tune", str(path), "--space", str(space), "--metric", "m"],
        "pipeline": ["pipeline", str(spec)],
    }[command]
    code, err = _exit([*head, option.flag, text], capsys)
    assert code == 2
    if value is None:
        assert f"argument {option.flag}" in err and "invalid" in err
    else:
        _, rule_text = options.RULES[option.rule]
        assert err == f"mlnb: {option.flag} must be {rule_text}, got {value!r}."
    assert not (tmp_path / "o.ipynb").exists() and not (tmp_path / "sw").exists()


def test_bad_inputs_are_one_line_and_exit_2(notebook, tmp_path, capsys, cli_err):
    path = notebook("t.ipynb", ["pass"], parameters="lr = 0.1\nepochs = 3")
    missing = tmp_path / "missing.ipynb"
    assert cli_err(["run", str(missing)]) == (2, f"mlnb: notebook {missing} does not exist.")
    assert cli_err(["run", str(path), "-p", "lrr", "1", "--strict"]) == (
        2,
        f"mlnb: {path} has no parameter 'lrr'; its parameters are: epochs, lr (did you mean 'lr'?)",
    )
    assert cli_err(["run", str(path), "-p", "epochs", "0.5", "--strict"]) == (
        2,
        "mlnb: parameter 'epochs' is int (default 3), got float 0.5.",
    )
    kernels = ", ".join(sorted(installed_kernels()))
    assert cli_err(["run", str(path), "--kernel", "nope"]) == (
        2,
        f"mlnb: no kernel named 'nope' is installed; installed kernels: {kernels}.",
    )
    assert cli_err(["sweep", str(path), "-p", "lr"]) == (
        2,
        "mlnb: -p expects name=value[,value...] (e.g. `-p lr=0.1,0.01`), got 'lr'.",
    )
    assert cli_err(["run", str(path), "--seed", "-1"])[1].startswith(
        "mlnb: seed must be a whole number"
    )
    assert cli_err(["run", str(path), "--seed", "3", "--no-seed"]) == (
        2,
        "mlnb: --seed and --no-seed contradict each other — drop one.",
    )
    cyclic = tmp_path / "p.yaml"
    cyclic.write_text("steps:\n  a: {notebook: t.ipynb, upstream: [a]}\n")
    assert cli_err(["pipeline", str(cyclic)]) == (2, "mlnb: p.yaml has a cycle: a → a.")
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), "-p", "lr"])
    assert info.value.code == 2 and "expected 2 arguments" in capsys.readouterr().err


def test_run_refuses_to_overwrite_its_input_and_an_unwritable_output(notebook, tmp_path, cli_err):
    """Issue 14 items 11 (`mlnb run NB NB`) and 10 (output under /proc)."""
    path = notebook("t.ipynb", ["pass"])
    before = path.read_bytes()
    assert cli_err(["run", str(path), str(path)]) == (
        2,
        f"mlnb: the output {path} is the input notebook, which the run would overwrite — name another output.",
    )
    assert path.read_bytes() == before
    code, err = cli_err(["run", str(path), "/proc/nope/out.ipynb"])
    assert code == 2 and err.startswith(
        "mlnb: cannot write the output notebook /proc/nope/out.ipynb ("
    )
    assert err.endswith(") — pick a writable folder.")
    code, err = cli_err(["run", str(path), "/proc/out.ipynb"])
    assert code == 2 and err.startswith("mlnb: cannot write the output notebook /proc/out.ipynb (")
    assert cli_err(
        ["run", str(path), str(tmp_path / "o.ipynb"), "--cwd", str(tmp_path / "no")]
    ) == (
        2,
        f"mlnb: --cwd {tmp_path / 'no'} is not a folder.",
    )


def test_sweep_and_tune_refuse_a_missing_kernel_and_a_bogus_storage_up_front(
    notebook, tmp_path, cli_err
):
    """Issue 14 items 11 (`sweep --kernel ghost`) and 10 (`tune --storage bogus://`)."""
    path = notebook("t.ipynb", ["pass"])
    kernels = ", ".join(sorted(installed_kernels()))
    out = tmp_path / "sw"
    assert cli_err(["sweep", str(path), "-p", "x=1,2", "--kernel", "ghost", "-o", str(out)]) == (
        2,
        f"mlnb: no kernel named 'ghost' is installed; installed kernels: {kernels}.",
    )
    assert not out.exists()
    pytest.importorskip("optuna")
    space = tmp_path / "space.yaml"
    space.write_text("x: [1, 2]\n")
    code, err = cli_err(
        ["tune", str(path), "--space", str(space), "--metric", "m", "--storage", "bogus://"]
    )
    assert code == 2 and err.startswith(
        "mlnb: --storage bogus:// cannot be opened as an Optuna storage ("
    )
    assert err.endswith("use a URL like sqlite:///tune.db.")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("seed: -1", "p.yaml, step 'a': seed must be a whole number from 0 to 4294967295, got -1."),
        (
            "timeout: soon",
            "p.yaml, step 'a': timeout must be a positive number of seconds (at most 10,000,000), got 'soon'.",
        ),
        (
            "timeout: -5",
            "p.yaml, step 'a': timeout must be a positive number of seconds (at most 10,000,000), got -5.",
        ),
        (
            "kernel: ghost",
            "p.yaml, step 'a': no kernel named 'ghost' is installed; installed kernels: KERNELS.",
        ),
    ],
)
def test_pipeline_steps_are_checked_when_the_file_is_read(
    step, message, notebook, tmp_path, cli_err
):
    """Issue 14 item 11: a step's seed/timeout/kernel failed only at run time, or the cache hid it."""
    notebook("t.ipynb", ["pass"])
    spec = tmp_path / "p.yaml"
    spec.write_text(f"steps:\n  a: {{notebook: t.ipynb, {step}}}\n")
    expected = message.replace("KERNELS", ", ".join(sorted(installed_kernels())))
    assert cli_err(["pipeline", str(spec)]) == (2, f"mlnb: {expected}")
    assert cli_err(["pipeline", "status", str(spec)]) == (2, f"mlnb: {expected}")


def test_a_pipeline_step_notebook_that_is_not_json_is_one_sentence(tmp_path, cli_err):
    """Issue 14 item 10: a raw JSONDecodeError traceback before."""
    (tmp_path / "t.ipynb").write_text("{not json")
    spec = tmp_path / "p.yaml"
    spec.write_text("steps:\n  a: {notebook: t.ipynb}\n")
    message = "mlnb: p.yaml, step 'a': notebook t.ipynb is not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)."
    assert cli_err(["pipeline", str(spec)]) == (2, message)
    assert cli_err(["pipeline", "status", str(spec)]) == (2, message)


def test_parameter_values_are_taken_as_they_are_like_papermill(notebook):
    """Issue 15 item 3: `-p a -1e-3`, `-p a -inf`, `-p msg --x` failed in argparse."""
    path = str(notebook("t.ipynb", ["pass"]))
    args = build_parser().parse_args(
        ["run", path, "-p", "a", "-1e-3", "-p", "msg", "--x", "--parameters_raw", "b", "-inf",
         "-p", "c", "-3", "--start_timeout", "9"]
    )  # fmt: skip
    assert args.parameters == [["a", "-1e-3"], ["msg", "--x"], ["c", "-3"]]
    assert args.parameters_raw == [["b", "-inf"]] and args.start_timeout == 9
