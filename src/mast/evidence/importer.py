"""The import flow shared by every format: find the files, read each, name its evidence,
choose its model, and append every eval record in one atomic batch.

```python
from mast.evidence.importer import import_evidence
result = import_evidence(ws, ["logs/"], model="atlas-1")
result.entries      # the appended log entries
result.skipped      # files already imported (same sha256), with the reason
```

Rules (issue 4): a file whose sha256 some stored eval record's `source.sha256` already
carries adds nothing; an Inspect log that did not end in `success` is refused unless
`partial`; evidence for another model than `model` is refused unless `model_from_log`, in
which case the model is the one the source names (mapped by the mapping file's `models:`),
and it must be a `model` record of the workspace. Any problem anywhere means nothing is
written, and every problem is reported.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from pydantic import ValidationError

from mast.errors import InvalidInput, Problem
from mast.evidence import csv_import, inspect_logs, lm_eval
from mast.evidence.mapping import Mapping, strip_prefix
from mast.evidence.results import Result
from mast.records.kinds import Audience, EvalRecord, ModelRecord
from mast.records.loader import Batch
from mast.records.store import Entry
from mast.workspace import Workspace

FORMATS = (inspect_logs.FORMAT, lm_eval.FORMAT, csv_import.FORMAT)

#: (files done, files in all) after each file
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str
    #: found by walking a directory argument (not named on the command line)
    found: bool = False


@dataclass
class ImportResult:
    files: list[SourceFile] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    #: (file, why it added nothing)
    skipped: list[tuple[SourceFile, str]] = field(default_factory=list)

    @property
    def imported(self) -> list[SourceFile]:
        skipped = {id(s) for s, _ in self.skipped}
        return [f for f in self.files if id(f) not in skipped]


def format_of(path: Path, forced: str | None = None) -> str | None:
    """The format of a file by its name (or `forced`); None for a file that is no evidence."""
    if forced is not None:
        return forced
    if path.suffix == ".csv":
        return csv_import.FORMAT
    if lm_eval.is_results_file(path):
        return lm_eval.FORMAT
    if path.suffix in inspect_logs.SUFFIXES and path.name not in inspect_logs.NOT_LOGS:
        return inspect_logs.FORMAT
    return None


def discover(paths: Iterable[str | Path], forced: str | None = None) -> list[SourceFile]:
    """The evidence files named by `paths`: files as given, and every evidence file under a
    directory (sorted, hidden ones skipped). A missing path or a file of no known format is
    invalid input."""
    if forced is not None and forced not in FORMATS:
        raise InvalidInput(f"--format {forced!r}: expected one of {', '.join(FORMATS)}")
    out: list[SourceFile] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for found in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = found.relative_to(path)
                if any(part.startswith(".") for part in relative.parts):
                    continue
                fmt = _walked_format(found, forced)
                if fmt is not None:
                    out.append(SourceFile(found, fmt, found=True))
        elif path.is_file():
            fmt = format_of(path, forced)
            if fmt is None:
                problems.append(Problem(str(path), None, None,
                                        "not a known evidence file: expected an Inspect log (.eval, .json), an "
                                        "lm-eval results_*.json or a .csv (or give --format)"))
            else:
                out.append(SourceFile(path, fmt))
        else:
            problems.append(Problem(str(path), None, None, "no such file or directory"))
    if problems:
        raise InvalidInput(problems)
    return out


_SUFFIXES: dict[str, tuple[str, ...]] = {
    inspect_logs.FORMAT: inspect_logs.SUFFIXES, lm_eval.FORMAT: (".json",), csv_import.FORMAT: (".csv",),
}


def _walked_format(path: Path, forced: str | None) -> str | None:
    """A file met while walking a directory: by its name, or with `forced`, any file with a
    suffix of that format (Inspect's own listing files excepted)."""
    if forced is None:
        return format_of(path)
    if path.suffix in _SUFFIXES[forced] and path.name not in inspect_logs.NOT_LOGS:
        return forced
    return None


def read_file(source: SourceFile, *, partial: bool) -> list[Result]:
    """The results of one file (raises InvalidInput for a bad one)."""
    if source.format == inspect_logs.FORMAT:
        return inspect_logs.read_inspect(source.path, partial=partial)
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        raise InvalidInput(Problem(str(source.path), None, None, f"cannot read: {exc.strerror or exc}")) from None
    if source.format == lm_eval.FORMAT:
        return lm_eval.read_lm_eval(source.path, data)
    return csv_import.read_csv(source.path, data)


def imported_hashes(ws: Workspace) -> set[str]:
    """The `source.sha256` of every stored eval record: the files already imported."""
    hashes: set[str] = set()
    for _index, raw in ws.store.bodies_of("eval"):
        if b'"sha256"' not in raw:
            continue
        source = json.loads(raw).get("source") or {}
        if isinstance(source.get("sha256"), str):
            hashes.add(source["sha256"])
    return hashes


class ModelChooser:
    """Which mast model a result is about (see the module's rules)."""

    def __init__(self, models: Sequence[ModelRecord], model: str | None, from_log: bool, mapping: Mapping):
        self.models = {m.id: m for m in models}
        self.model, self.from_log, self.mapping = model, from_log, mapping
        if model is None and not from_log:
            raise InvalidInput("give --model ID (the mast model this evidence is about), or --model-from-log "
                               "to take each file's model from the file")
        if model is not None and model not in self.models:
            known = ", ".join(sorted(self.models)) or "none yet"
            raise InvalidInput(f"--model {model!r}: no such model in this workspace (models: {known}); "
                               "define it first with a `model` record")

    def _names(self, named: str) -> set[str]:
        mapped = self.mapping.model(named)
        return {named, strip_prefix(named), mapped, strip_prefix(mapped)}

    def is_for(self, named: str, model_id: str) -> bool:
        names = self._names(named)
        return model_id in names or self.models[model_id].name in names

    def choose(self, named: str | None) -> str:
        """The model id for evidence that names `named`; ValueError says why there is none."""
        if self.model is not None and (named is None or self.is_for(named, self.model)):
            return self.model
        if named is None:
            raise ValueError("the file names no model; give --model ID")
        if not self.from_log:
            raise ValueError(f"the evidence is for model {named!r}, not {self.model!r} (named "
                             f"{self.models[self.model].name!r}); pass --model-from-log to take the model from "
                             "the file, or map its name with `models:` in a --map file")
        mapped = self.mapping.model(named)
        for candidate in (mapped, strip_prefix(mapped)):
            if candidate in self.models:
                return candidate
        by_name = [m.id for m in self.models.values() if m.name in self._names(named)]
        if len(by_name) == 1:
            return by_name[0]
        raise ValueError(f"the file's model {named!r} is not a model of this workspace: define it with a "
                         "`model` record, or map it to one with `models:` in a --map file")


def eval_record(result: Result, source: SourceFile, sha256: str, model: str, mapping: Mapping,
                 audience: Audience) -> EvalRecord:
    """The eval record of one result: names per DESIGN §4 and the mapping; when two source
    metrics get one name, the higher value is kept (best elicitation counts)."""
    metrics: dict[str, float] = {}
    for score in result.scores:
        name = score.metric
        if result.prefixed and score.scorer is not None:
            name = f"{mapping.scorer(score.scorer)}/{name}"
        name = mapping.metric(name)
        if name not in metrics or score.value > metrics[name]:
            metrics[name] = score.value
    provenance: dict[str, Any] = {"format": source.format, "sha256": sha256, "path": str(source.path)}
    provenance.update({k: v for k, v in result.extra.items() if v is not None})
    return EvalRecord(kind="eval", at=result.at, model=model, task=mapping.task(result.task),
                      metrics=metrics, source=provenance, audience=audience)


def import_evidence(ws: Workspace, paths: Iterable[str | Path], *, model: str | None = None,
                    model_from_log: bool = False, partial: bool = False, mapping: Mapping | None = None,
                    format: str | None = None, audience: Audience | str = Audience.public,
                    progress: Progress | None = None) -> ImportResult:
    """Import the evidence files under `paths` into `ws` as one atomic batch of eval records."""
    mapping = mapping or Mapping()
    audience = Audience(audience)
    files = discover(paths, format)
    chooser = ModelChooser([e.record for e in ws.store.entries(kind="model")  # type: ignore[misc]
                            if isinstance(e.record, ModelRecord)], model, model_from_log, mapping)
    run = _Run(ImportResult(files=files), imported_hashes(ws), chooser, mapping, audience, partial)
    # Files are hashed on a second thread while this one parses them: hashlib and file reads
    # release the GIL, so on two cores hashing hides behind inspect_ai's parsing.
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashes = pool.map(_sha256, [f.path for f in files])
        for done, (source, sha256) in enumerate(zip(files, hashes), 1):
            if isinstance(sha256, OSError):
                run.problems.append(Problem(str(source.path), None, None,
                                            f"cannot read: {sha256.strerror or sha256}"))
            else:
                run.read(source, sha256)
            if progress is not None:
                progress(done, len(files))
    if run.problems:
        raise InvalidInput(run.problems)
    if run.records:
        run.result.entries = ws.add(Batch.of(run.records, name="<evidence>"))
    return run.result


def _sha256(path: Path) -> str | OSError:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return exc


@dataclass
class _Run:
    """The state of one import: what is read so far, and every problem met."""

    result: ImportResult
    known: set[str]
    chooser: ModelChooser
    mapping: Mapping
    audience: Audience
    partial: bool
    records: list[EvalRecord] = field(default_factory=list)
    problems: list[Problem | str] = field(default_factory=list)
    seen: dict[str, SourceFile] = field(default_factory=dict)

    def read(self, source: SourceFile, sha256: str) -> None:
        """Read one file into `records` (or `problems`), unless its content was imported before."""
        if sha256 in self.known:
            self.result.skipped.append((source, "already imported (same sha256)"))
            return
        if sha256 in self.seen:
            self.result.skipped.append((source, f"the same file as {self.seen[sha256].path}"))
            return
        self.seen[sha256] = source
        try:
            items = read_file(source, partial=self.partial)
        except InvalidInput as exc:
            self.problems.extend(exc.problems)
            return
        for item in items:
            try:
                self.records.append(_record(item, source, sha256, self.chooser, self.mapping, self.audience))
            except InvalidInput as exc:
                self.problems.extend(exc.problems)


def _record(item: Result, source: SourceFile, sha256: str, chooser: ModelChooser, mapping: Mapping,
            audience: Audience) -> EvalRecord:
    where = Problem(str(source.path), item.line, None, "")
    try:
        model = chooser.choose(item.model)
    except ValueError as exc:
        raise InvalidInput(Problem(where.file, where.line, None, str(exc))) from None
    try:
        return eval_record(item, source, sha256, model, mapping, audience)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise InvalidInput(Problem(where.file, where.line, None, f"cannot make an eval record: {detail}")) from None
