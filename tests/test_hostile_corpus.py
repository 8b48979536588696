"""A generated corpus of hostile input: 2,320 bad (and some good) inputs, 0 tracebacks.

Hypothesis generates scenario files, ``--set`` overrides, command lines, experiment files,
sweep manifests and live-view picker values. Every input goes through the command's own
entry point in this process (``govsim.cli.main``), and must end in a clean error (exit 2,
messages on stderr, no traceback) or a valid run (exit 0). Each test checks it generated at
least its share of inputs (400 + 600 + 400 + 400 + 120 + 400 = 2,320), so the corpus
cannot silently shrink.

Valid inputs stay cheap: the scenarios are tiny (300 consumers, 30 businesses, at most 3
months), and a sweep whose input passes every check has its runs dispatched to a recorder
instead of the model (its planning, sizing, design and folder checks all run).
"""

from __future__ import annotations

import copy
import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govsim.cli import main
from govsim.scenario import Scenario, field_names, resolve

pytestmark = pytest.mark.slow

TINY = {"consumers.count": 300, "businesses.count": 30, "run.months": 2}
FIELDS = field_names()
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def call(argv: list[str]) -> tuple[int, str]:
    """Run the command in-process; return (exit status, stderr). A traceback fails."""
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: usage and one error line, exit 2
            code = exc.code
    text = err.getvalue()
    assert "Traceback" not in text, text
    assert code in (0, 2), (argv, code, text)
    if code == 2:
        assert text.strip(), f"{argv}: exit 2 without a message"
    return code, text


# --- values a careless or hostile user types ---------------------------------------------

junk_text = st.one_of(
    st.sampled_from(["", " ", "../../x", "/etc/passwd", "/proc/self/mem", "a/b", ".", "..",
                     "~", "$HOME", "con", "nul\x00", "é中文", "x" * 300, "1e999", "nan",
                     "inf", "-0", "0x10", "true", "[1,2]", "{a=1}", '"quoted"', "'single'"]),
    st.text(max_size=40))
junk_number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63), 10**18, 1e-300, 1e300]))
toml_scalar = st.one_of(junk_number.filter(lambda v: not (isinstance(v, int)
                                                          and abs(v) >= 2**63)),
                        st.booleans(), junk_text.filter(lambda s: "\x00" not in s))
toml_value = st.recursive(toml_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def tiny_dict() -> dict:
    return Scenario.load(resolve("baseline")).with_overrides(TINY).model_dump(exclude_none=True)


def set_dotted(data: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def dotted_key():
    return st.one_of(st.sampled_from(FIELDS), st.sampled_from(["name", "description"]),
                     st.text(max_size=20),
                     st.builds(lambda f, t: f"{f}.{t}", st.sampled_from(FIELDS),
                               st.text(max_size=6)))


# --- the corpus ---------------------------------------------------------------------------


def test_scenario_files(tmp_path_factory, monkeypatch):
    """400 scenario files: a tiny valid one with junk in some fields, or junk text.

    A valid file runs for real; only its figure is left out (drawing it costs 20 times the
    run; other tests check it).
    """
    import govsim.output as output

    monkeypatch.setattr(output, "plot_outcomes", lambda result, path, *rest: Path(path))
    root = tmp_path_factory.mktemp("scenarios")
    seen, valid = [], []

    @settings(max_examples=400, **SETTINGS)
    @given(changes=st.lists(st.tuples(dotted_key(), toml_value), min_size=1, max_size=3),
           raw=st.one_of(st.none(), st.binary(max_size=200), st.text(max_size=200)),
           deep=st.sampled_from([0] * 12 + [1, 2]))
    def check(changes, raw, deep):
        seen.append(1)
        folder = Path(tempfile.mkdtemp(dir=root))
        path = folder / "s.toml"
        if raw is not None:
            path.write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8", "replace"))
        elif deep:
            path.write_text("a = " + "[" * (300 * deep) + "]" * (300 * deep))
        else:
            data = tiny_dict()
            for key, value in changes:
                try:
                    set_dotted(data, key, value)
                except (TypeError, AttributeError):
                    data[key] = value
            try:
                path.write_text(tomli_w.dumps(data))
            except (TypeError, ValueError):
                path.write_text(repr(data))
        code, _ = call(["run", path, "--out", folder / "out", "--months", 2])
        if code == 0:
            valid.append(1)
            assert (folder / "out" / "summary.json").exists()

    check()
    assert len(seen) >= 400
    print(f"{len(valid)} of {len(seen)} scenario files were valid and ran")


def test_set_overrides(tmp_path_factory):
    """600 command lines with junk ``--set FIELD=VALUE``."""
    root = tmp_path_factory.mktemp("sets")
    base = [f"--set={k}={v}" for k, v in TINY.items()]
    seen = []

    @settings(max_examples=600, **SETTINGS)
    @given(sets=st.lists(st.tuples(dotted_key(), junk_text), min_size=1, max_size=3),
           raw=st.lists(junk_text, max_size=2))
    def check(sets, raw):
        seen.append(1)
        folder = Path(tempfile.mkdtemp(dir=root))
        args = ["run", *base, *(f"--set={k}={v}" for k, v in sets),
                *(f"--set={r}" for r in raw), "--out", folder / "o", "--months", "2"]
        call(args)

    check()
    assert len(seen) >= 600


def test_command_lines(tmp_path_factory):
    """400 command lines across run, compare, analyze, scenarios and viz."""
    root = tmp_path_factory.mktemp("argv")
    scenario = root / "tiny.toml"
    scenario.write_text(Scenario.load(resolve("baseline")).with_overrides(
        {**TINY, "name": "tiny"}).to_toml())
    numbers = st.one_of(st.sampled_from(["-1", "0", "1", "2", "3", "99999", "65536",
                                         "1000000000", "1e3", "abc", "", "2**8", "-0"]),
                        st.integers(min_value=-(10**12), max_value=10**12).map(str))
    outs = st.one_of(st.sampled_from(["/proc/x", "/sys/kernel/x", "/dev/null", "/dev/full/x",
                                      "", ".", "tiny.toml", "tiny.toml/sub", "a\x00b"]),
                     st.text(max_size=15))
    seen = []

    @settings(max_examples=400, **SETTINGS)
    @given(command=st.sampled_from(["run", "compare", "analyze", "viz", "scenarios"]),
           seed=numbers, months=numbers, reps=numbers, workers=numbers, port=numbers,
           out=outs, extra=st.lists(junk_text, max_size=2))
    def check(command, seed, months, reps, workers, port, out, extra):
        seen.append(1)
        folder = Path(tempfile.mkdtemp(dir=root))
        target = str(folder / out) if out and not out.startswith("/") else out
        if command == "run":
            args = ["run", scenario, "--seed", seed, "--months", months, "--out", target]
        elif command == "compare":
            # valid values stay small: months <= 3, replicates <= 3, one worker
            if months.lstrip("-").isdigit() and int(months) > 3:
                months = "9" * 13  # refused as too many months
            if reps.lstrip("-").isdigit() and 3 < int(reps) <= 10_000:
                reps = "1"
            args = ["compare", scenario, "--baseline", scenario, "--seed", seed,
                    "--months", months, "--replicates", reps, "--workers",
                    workers if workers in ("-1", "0", "abc") else "1", "--out", target]
        elif command == "analyze":
            args = ["analyze", target or folder]
        elif command == "viz":
            if port.isdigit() and 1 <= int(port) <= 65535:
                port = "0"  # never start a server here
            args = ["viz", scenario, "--port", port]
        else:
            args = ["scenarios", *extra[:1]]
        call(args)

    check()
    assert len(seen) >= 400


EXPERIMENT = {
    "scenario": "baseline", "design": "grid", "months": 2, "replicates": 1, "seed": 3,
    "fixed": {"consumers.count": 300, "businesses.count": 30},
    "parameters": {"budget.annual_yuan": {"levels": [2e5, 4e5]}},
}
EXPERIMENT_KEYS = ["name", "description", "scenario", "model", "design", "samples",
                   "replicates", "seed", "months", "outputs", "outcomes", "second_order",
                   "morris_levels", "fixed", "parameters", "nonsense",
                   "parameters.budget.annual_yuan", "parameters.law.enforcement_probability",
                   "fixed.consumers.count", "fixed.run.months"]


def test_experiment_files(tmp_path_factory, monkeypatch):
    """400 experiment files: a tiny valid grid with junk in some fields."""
    import govsim.sweep.runner as runner

    dispatched = []
    monkeypatch.setattr(runner, "_dispatch", lambda *args, **kw: dispatched.append(1))
    root = tmp_path_factory.mktemp("experiments")
    seen = []

    @settings(max_examples=400, **SETTINGS)
    @given(changes=st.lists(st.tuples(st.sampled_from(EXPERIMENT_KEYS),
                                      st.one_of(toml_value, st.sampled_from(
                                          ["sobol", "lhs", "morris", "grid", 1024, 4096,
                                           {"range": [0.0, 1.0]}, {"levels": []},
                                           {"range": [1.0, 0.0]}, {"levels": [1, "a"]}]))),
                            min_size=1, max_size=3))
    def check(changes):
        seen.append(1)
        folder = Path(tempfile.mkdtemp(dir=root))
        data = json.loads(json.dumps(EXPERIMENT))
        for key, value in copy.deepcopy(changes):
            head, _, rest = key.partition(".")
            if rest and isinstance(data.get(head), dict):
                data[head][rest] = value
            else:
                data[key] = value
        path = folder / "exp.toml"
        try:
            path.write_text(tomli_w.dumps(data))
        except (TypeError, ValueError):
            path.write_text(repr(data))
        call(["sweep", path, "--out", folder / "s", "--workers", "1"])

    check()
    assert len(seen) >= 400


def test_sweep_manifests(tmp_path_factory):
    """120 sweep folders whose manifest.json was edited: analyze stays clean."""
    root = tmp_path_factory.mktemp("manifests")
    exp = root / "exp.toml"
    exp.write_text(tomli_w.dumps(EXPERIMENT))
    good = root / "good"
    assert call(["sweep", exp, "--out", good, "--workers", "1"])[0] == 0
    manifest = json.loads((good / "manifest.json").read_text())
    json_value = st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                  st.floats(allow_nan=False)),
        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                st.dictionaries(st.text(max_size=5), inner, max_size=3)),
        max_leaves=5)
    seen = []

    @settings(max_examples=120, **SETTINGS)
    @given(key=st.sampled_from(sorted(manifest)), value=json_value,
           raw=st.one_of(st.none(), st.text(max_size=50)))
    def check(key, value, raw):
        seen.append(1)
        edited = dict(manifest)
        edited[key] = value
        text = raw if raw is not None else json.dumps(edited)
        (good / "manifest.json").write_text(text)
        call(["analyze", good])

    check()
    assert len(seen) >= 120


def test_live_view_picker_values():
    """400 picker values a page script could send: only offered scenarios load."""
    pytest.importorskip("solara")
    from govsim import app
    from govsim.scenario import ScenarioError

    offered = set(app.scenario_choices())
    seen = []

    @settings(max_examples=400, **SETTINGS)
    @given(value=st.one_of(junk_text, st.sampled_from(sorted(offered)),
                           st.sampled_from([str(p) for p in app.scenario_choices().values()]),
                           st.integers(), st.none(), st.lists(st.text(max_size=3))))
    def check(value):
        seen.append(1)
        try:
            scenario = app.load_scenario(value)
        except ScenarioError as exc:
            assert not (isinstance(value, str) and value in offered)
            assert "not one of the scenarios offered" in str(exc)
        else:
            assert isinstance(value, str) and value in offered and scenario.name

    check()
    assert len(seen) >= 400
