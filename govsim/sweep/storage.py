"""The sweep folder: a Parquet dataset written chunk by chunk, and what it came from.

Layout of a sweep folder (default ``out/sweeps/<name>/``)::

    manifest.json     what the sweep is (design, sizes, fingerprints), written before any run
    experiment.toml   the experiment file, verbatim
    scenario.toml     the base scenario with the experiment's fixed values and months (and
                      the first design values when it is valid only with them)
    design.csv        the run table: run_id, point_id, replicate, seed, parameters (and the
                      unit-cube sample of lhs/sobol/morris designs)
    version.json      versions of govsim, Python and the libraries
    runs/part-*.parquet   one file per finished chunk (a Parquet dataset: read the folder)
    analysis/         written by `govsim analyze`

Every file is written to a temporary name and renamed into place, so a sweep killed at any
moment leaves only whole files; on resume, the finished runs are the run_ids found in the
part files and everything else runs again. The fingerprints in the manifest tell whether
the experiment (or its base scenario, or the design the installed libraries draw from it)
changed since the folder was started.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from govsim.folders import MARKER, write_marker
from govsim.output import atomic_path, write_text
from govsim.provenance import model_code_fingerprint
from govsim.studyfile import as_field_type
from govsim.sweep.design import Design
from govsim.sweep.experiment import ExperimentError, Prepared, SweepError
from govsim.sweep.worker import ChunkTask

FORMAT = 1
MANIFEST, EXPERIMENT, SCENARIO, DESIGN, VERSION = (
    "manifest.json", "experiment.toml", "scenario.toml", "design.csv", "version.json")
RUNS, ANALYSIS, LOCK = "runs", "analysis", ".lock"
_OURS = {MANIFEST, EXPERIMENT, SCENARIO, DESIGN, VERSION, RUNS, ANALYSIS, LOCK, MARKER}
_RUN_KEYS = ("run_id", "point_id", "replicate", "seed")
_LIBRARIES = ("govsim", "mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", "distributed")


class SweepStore:
    """One sweep folder.

    Args:
        root: the folder.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs_dir = self.root / RUNS
        self.schema: pa.Schema | None = None
        self._design: pd.DataFrame | None = None
        self._declared_outputs = False

    # --- starting or resuming ------------------------------------------------------------

    @contextmanager
    def locked(self):
        """Hold the folder's lock, so two sweeps never write into one folder; the lock file
        is removed on every exit (:func:`govsim.folders.locked`)."""
        from govsim.folders import FolderError, locked

        try:
            with locked(self.root, "govsim sweep"):
                yield
        except FolderError as exc:
            raise SweepError(str(exc)) from None

    def begin(self, prepared: Prepared, design: Design, force: bool = False) -> set[int]:
        """Start the folder, or resume it; return the run_ids already finished.

        Raises:
            ExperimentError: the folder holds a sweep of a different experiment (and not
                ``force``).
            SweepError: the folder holds something that is not a sweep.
        """
        self._design = design.runs.set_index("run_id")
        self.schema = _schema(design, prepared)
        self._declared_outputs = prepared.outputs is not None
        prints = fingerprints(prepared, design)
        manifest = self._read_manifest(force)
        if manifest is not None and not force:
            if manifest.get("fingerprint") != prints:
                raise ExperimentError(self._changed_message(prepared, manifest, prints))
            self._refresh(prepared, manifest)
            return self.done_run_ids()
        if manifest is None:
            self._refuse_foreign_content()
        self._clear()
        self._write_metadata(prepared, design, prints)
        return set()

    def done_run_ids(self) -> set[int]:
        """The run_ids in the part files (failed runs included: they are finished too).

        Temporary files left by a killed write are removed; a part file that cannot be read
        is set aside (renamed ``.corrupt-*``), so its runs are simply run again.
        """
        done: set[int] = set()
        if not self.runs_dir.is_dir():
            return done
        for leftover in self.runs_dir.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        for part in part_files(self.root):
            try:
                ids = pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist()
            except (OSError, pa.ArrowException) as exc:
                aside = part.with_name(f".corrupt-{part.name}")
                part.rename(aside)
                print(f"govsim: warning: {part} is unreadable ({exc}); set aside as {aside.name},"
                      " its runs will run again", file=sys.stderr)
                continue
            done.update(ids)
        return done

    # --- writing -------------------------------------------------------------------------

    def write_chunk(self, task: ChunkTask, frame: pd.DataFrame) -> Path:
        """Write one finished chunk as a part file (atomically).

        The worker's frame (run_id, status, error, figures) is joined with the run table
        (point_id, replicate, seed, parameters) and given the folder's schema.
        """
        meta = self._design.loc[frame["run_id"].to_numpy()].reset_index()
        merged = pd.concat([meta, frame.drop(columns="run_id").reset_index(drop=True)], axis=1)
        table = _to_table(merged, self._schema_for(merged))
        path = self.runs_dir / f"part-{task.key}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
        return path

    def _schema_for(self, frame: pd.DataFrame) -> pa.Schema:
        if self._declared_outputs:
            return self.schema
        # a model that does not declare its figures: add the ones this chunk returned
        extra = [pa.field(c, pa.float64()) for c in frame.columns
                 if c not in self.schema.names]
        return pa.schema(list(self.schema) + extra)

    # --- helpers -------------------------------------------------------------------------

    def _read_manifest(self, force: bool = False) -> dict | None:
        path = self.root / MANIFEST
        if not path.is_file():
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError, RecursionError) as exc:
            if force:
                return None  # our folder (it has govsim's marker): start again
            raise SweepError(f"{path}: unreadable manifest ({exc}); use --force to start "
                             "again or choose another --out") from None
        return manifest

    def _changed_message(self, prepared: Prepared, manifest: dict, prints: dict) -> str:
        old = manifest.get("fingerprint", {})
        what = {"experiment": "its settings", "scenario": "its base scenario",
                "model": "the model's code (govsim's model modules or the model function's "
                         "module)",
                "design": _design_change(manifest, prepared)}
        changed = [text for key, text in what.items() if old.get(key) != prints[key]]
        if len(changed) > 1:  # new settings or scenario explain a new design
            changed = changed[:-1] if changed[-1] == what["design"] else changed
        finished = len(self.done_run_ids())
        return (f"{prepared.source} has changed since the sweep in {self.root} began "
                f"(changed: {'; '.join(changed) or 'folder format'}); its {finished} finished "
                "runs belong to the old experiment. Use --force to discard them and start "
                "again, or --out NEWDIR to keep both")

    def _refresh(self, prepared: Prepared, manifest: dict) -> None:
        """Record what may change without touching the runs (the fingerprints agree): the
        name, description and outcomes, in experiment.toml and the manifest alike, so that
        ``analyze`` reports what the experiment now asks."""
        exp = prepared.experiment
        if (self.root / EXPERIMENT).read_text(encoding="utf-8") != exp.text:
            write_text(self.root / EXPERIMENT, exp.text)
        now = {"name": exp.name, "description": exp.description,
               "outcomes": list(prepared.outcomes or [])}
        if any(manifest.get(key) != value for key, value in now.items()):
            write_text(self.root / MANIFEST, json.dumps({**manifest, **now}, indent=2))

    def _refuse_foreign_content(self) -> None:
        if not self.root.is_dir():
            return
        foreign = sorted(p.name for p in self.root.iterdir()
                         if p.name not in _OURS and not p.name.startswith("."))
        if foreign:
            raise SweepError(f"{self.root} is not a govsim sweep folder (it holds "
                             f"{', '.join(foreign[:5])}); choose another --out")

    def _clear(self) -> None:
        """Remove a previous sweep's files (and only those)."""
        for name in (MANIFEST, EXPERIMENT, SCENARIO, DESIGN, VERSION):
            (self.root / name).unlink(missing_ok=True)
        for name in (RUNS, ANALYSIS):
            shutil.rmtree(self.root / name, ignore_errors=True)

    def _write_metadata(self, prepared: Prepared, design: Design, prints: dict) -> None:
        exp = prepared.experiment
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        write_marker(self.root, "sweep")
        write_text(self.root / VERSION, json.dumps(versions(), indent=2))
        write_text(self.root / EXPERIMENT, exp.text)
        if prepared.base is not None:
            write_text(self.root / SCENARIO, prepared.base.to_toml())
        with atomic_path(self.root / DESIGN) as tmp:
            design.table().to_csv(tmp, index=False)
        manifest = {
            "format": FORMAT, "name": exp.name, "description": exp.description,
            "design": exp.design, "parameters": list(prepared.names),
            "parameter_specs": {n: p.model_dump(exclude_none=True)
                                for n, p in exp.parameters.items()},
            "kinds": prepared.kinds, "samples": exp.samples, "n_points": len(design.points),
            "replicates": exp.replicates, "n_runs": len(design.runs),
            "outputs": exp.outputs, "uses_scenario": prepared.base is not None,
            "columns": list(prepared.outputs or []),
            "outcomes": list(prepared.outcomes or []), "model": exp.model,
            "fixed": prepared.fixed_params, "seed": exp.seed,
            "common_random_numbers": exp.common_random_numbers,
            "second_order": exp.second_order, "morris_levels": exp.morris_levels,
            "fingerprint": prints, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_text(self.root / MANIFEST, json.dumps(manifest, indent=2))


def _design_change(manifest: dict, prepared: Prepared) -> str:
    """Why the design differs when the settings do not: the [parameters] were reordered (a
    design's columns and points follow their order), or else the libraries that draw it."""
    before, now = manifest.get("parameters"), list(prepared.names)
    if isinstance(before, list) and before != now and sorted(before) == sorted(now):
        return (f"the order of its [parameters] (was {', '.join(before)}; now "
                f"{', '.join(now)}), which orders the design; restore the old order")
    return "the design drawn from it (another SciPy or SALib version?)"


# --- fingerprints and versions ----------------------------------------------------------


def fingerprints(prepared: Prepared, design: Design) -> dict[str, str]:
    """Hashes of what determines the runs: the experiment's settings (not its name,
    description or outcomes), the base scenario, the design table and the model's code."""
    settings = prepared.experiment.model_dump(exclude={"name", "description", "outcomes"})
    if prepared.base is not None:
        _as_field_types(settings)
    scenario = (prepared.base.model_dump(exclude={"name", "description"})
                if prepared.base is not None else None)
    return {"experiment": _hash(json.dumps(settings, sort_keys=True, default=str)),
            "scenario": _hash(json.dumps(scenario, sort_keys=True, default=str)),
            "design": _hash(design.table().to_csv(index=False)),
            "model": model_code_fingerprint(prepared.model.function)}


def _as_field_types(settings: dict) -> None:
    """Fixed values and levels in their fields' types, so that ``200_000`` and ``200_000.0``
    for a float field are one setting, as they are one value in every run."""
    settings["fixed"] = {n: as_field_type(n, v) for n, v in settings["fixed"].items()}
    for name, spec in settings["parameters"].items():
        if spec.get("levels") is not None:
            spec["levels"] = [as_field_type(name, v) for v in spec["levels"]]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def versions() -> dict[str, Any]:
    """Versions of govsim, Python and the libraries that shape the numbers."""
    found: dict[str, Any] = {}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    found["platform"] = platform.platform()
    return found


# --- schema ----------------------------------------------------------------------------


def _schema(design: Design, prepared: Prepared) -> pa.Schema:
    fields = [pa.field(k, pa.int64()) for k in _RUN_KEYS]
    for name in design.names:
        fields.append(pa.field(name, _arrow_type(design.runs[name])))
    if prepared.experiment.outputs == "series":
        fields.append(pa.field("step", pa.int64()))
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string())]
    fields += [pa.field(c, pa.float64()) for c in prepared.outputs or ()]
    return pa.schema(fields)


def _arrow_type(column: pd.Series) -> pa.DataType:
    if pd.api.types.is_bool_dtype(column):
        return pa.bool_()
    if pd.api.types.is_integer_dtype(column):
        return pa.int64()
    if pd.api.types.is_float_dtype(column):
        return pa.float64()
    return pa.string()


def _to_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Columns in schema order and type; a figure a failed run lacks is null."""
    arrays = []
    for field in schema:
        if field.name in frame:
            arrays.append(pa.array(frame[field.name], type=field.type, from_pandas=True))
        else:
            arrays.append(pa.nulls(len(frame), type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


# --- reading ---------------------------------------------------------------------------


def part_files(root: str | Path) -> list[Path]:
    """The finished chunk files of a sweep folder, by name."""
    return sorted((Path(root) / RUNS).glob("part-*.parquet"))


def read_manifest(root: str | Path) -> dict:
    """The manifest of a sweep folder.

    Raises:
        ExperimentError: the folder is not a sweep folder.
    """
    path = Path(root) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExperimentError(f"{root}: not a sweep folder (no {MANIFEST}); run "
                              "`govsim sweep EXPERIMENT --out DIR` first") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise ExperimentError(f"{path}: unreadable ({exc})") from None
    wrong = [key for key, types in _MANIFEST_KEYS.items() if not isinstance(manifest, dict)
             or not isinstance(manifest.get(key), types)]
    if not wrong:
        wrong = _manifest_values_wrong(manifest)
    if wrong:
        raise ExperimentError(f"{path}: not a govsim sweep manifest (missing or wrong: "
                              f"{', '.join(wrong[:5])}); was it edited by hand?")
    return manifest


#: What ``analyze`` reads from a manifest, with the types it needs.
_MANIFEST_KEYS: dict[str, type | tuple[type, ...]] = {
    "format": int, "name": str, "description": str, "design": str, "parameters": list,
    "parameter_specs": dict, "samples": (int, type(None)), "n_points": int, "replicates": int,
    "n_runs": int, "outputs": str, "model": str, "seed": int, "fingerprint": dict,
    "morris_levels": (int, type(None)), "second_order": (bool, type(None)),
    "columns": list, "outcomes": list}


def _manifest_values_wrong(m: dict) -> list[str]:
    """Keys whose values no sweep writes (a hand-edited or damaged manifest)."""
    def names(value) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    def count(value, low: int = 1) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= low

    checks = {
        "parameters": names(m["parameters"]) and len(m["parameters"]) > 0,
        "outcomes": names(m["outcomes"]), "columns": names(m["columns"]),
        "design": m["design"] in ("grid", "lhs", "sobol", "morris"),
        "outputs": m["outputs"] in ("summary", "series"),
        "samples": m["samples"] is None or count(m["samples"]),
        "morris_levels": m["morris_levels"] is None or count(m["morris_levels"], 2),
        "n_points": count(m["n_points"]), "replicates": count(m["replicates"]),
        "n_runs": count(m["n_runs"]), "seed": count(m["seed"], 0),
        "parameter_specs": isinstance(m["parameter_specs"], dict)
        and names(m["parameters"])
        and set(m["parameter_specs"]) == set(m["parameters"])
        and all(isinstance(v, dict) for v in m["parameter_specs"].values()),
    }
    return [key for key, ok in checks.items() if not ok]


def is_sweep_folder(root: str | Path) -> bool:
    """Whether ``root`` holds a sweep written before folders carried govsim's marker."""
    try:
        read_manifest(root)
    except ExperimentError:
        return False
    return True


def iter_results(root: str | Path, columns: list[str] | None = None):
    """The dataset one part file at a time (DataFrames), for folders too large to load."""
    for part in part_files(root):
        table = pq.read_table(part)
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        yield table.to_pandas()


def read_results(root: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The whole dataset of a sweep folder, sorted by run_id (and step).

    Args:
        root: the sweep folder.
        columns: the columns to read (default: all).

    ``pandas.read_parquet(root / "runs")`` reads it too; this also orders the rows and
    unifies the columns of chunks whose runs all failed.
    """
    read_manifest(root)
    tables = []
    for part in part_files(root):
        table = pq.read_table(part)
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        tables.append(table)
    if not tables:
        return pd.DataFrame(columns=columns or list(_RUN_KEYS))
    frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    order = [c for c in ("run_id", "step") if c in frame]
    return frame.sort_values(order, kind="stable").reset_index(drop=True) if order else frame


def read_design(root: str | Path) -> pd.DataFrame:
    """design.csv of a sweep folder (one row per run); the run keys, seeds included, as
    exact 64-bit integers."""
    return pd.read_csv(Path(root) / DESIGN, dtype=dict.fromkeys(_RUN_KEYS, "int64"))


def design_row(design: pd.DataFrame, run_id: int) -> dict[str, Any]:
    """One run of a design table as ``{column: value}``, each value of its column's own type.

    ``design.loc[run_id]`` would give a Series of one common dtype: with only float
    parameters that is float64, which rounds a 63-bit seed (6013742632928770979 becomes
    6013742632928771072) and so re-runs another run.
    """
    table = design.reset_index() if "run_id" not in design.columns else design
    match = table[table["run_id"] == run_id]
    if match.empty:
        raise KeyError(run_id)
    return {column: _native(match[column].iloc[0]) for column in match.columns}


def reproduce(root: str | Path, run_id: int):
    """Run one run of a sweep again, alone, from its folder.

    Returns:
        What the model returned: govsim's summary dict (or monthly DataFrame for a series
        sweep), equal to the stored row.
    """
    from govsim.scenario import Scenario
    from govsim.sweep.models import load_model

    root = Path(root)
    manifest = read_manifest(root)
    design = read_design(root)
    try:
        row = design_row(design, run_id)
    except KeyError:
        raise ExperimentError(f"{root}: no run {run_id} (runs 0..{len(design) - 1})") from None
    params = {name: row[name] for name in manifest["parameters"]}
    base = Scenario.load(root / SCENARIO) if (root / SCENARIO).is_file() else None
    model = load_model(manifest["model"])
    return model.function({**manifest.get("fixed", {}), **params}, row["seed"], base,
                          manifest["outputs"] == "series")


def _native(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value

