"""The Example Lab: build its workspace end to end (`mast demo`).

The lab lives in `examples/example-lab/`: two framework versions, four records files covering
eighteen months, and `lab.yaml`, the plan that says in which order they go into the log and
at which moments the demo shows the assessment. `build_demo` follows the plan with the same
library calls the CLI makes (`Workspace.init`, `Workspace.publish`, `Workspace.add`), so the
demo exercises exactly what a user's workspace would; `demo_assessment` asks the engine.

The story and the finding each event produces are told in docs/example-lab.md.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mast.engine import Assessment, assess
from mast.errors import InvalidInput, Problem
from mast.framework.loader import load_framework
from mast.records.loader import load_batch
from mast.workspace import CONFIG, STATE_DIR, Workspace
from mast.sourcemap import load_file
from mast.vocabulary import ZonedTime

#: Where the Example Lab's files are in a source checkout (the package is installed editable).
EXAMPLE_LAB = Path(__file__).resolve().parents[2] / "examples" / "example-lab"
PLAN_FILE = "lab.yaml"
ASSESSMENT_FILE = "assessment.json"
DEFAULT_DIR = Path("example-lab")
DEMO_FRAMEWORK_ID = "example-lab-rsp"

#: Where `make demo` renders the lab's Risk Reports (`mast report risk ... -o reports/...`).
REPORTS_DIR = "reports"

#: What the demo itself writes into its directory; `replace=True` removes only these.
_OUTPUTS = (CONFIG, STATE_DIR, ASSESSMENT_FILE, REPORTS_DIR)


class _PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublishStep(_PlanModel):
    publish: str = Field(min_length=1)
    at: ZonedTime
    approvals: dict[str, str] = Field(default_factory=dict)


class AddStep(_PlanModel):
    add: str = Field(min_length=1)


class RoadmapStep(_PlanModel):
    """A roadmap version (`roadmap.yaml`), published as of `at` (docs/roadmap.md)."""

    roadmap: str = Field(min_length=1)
    at: ZonedTime


class View(_PlanModel):
    """A moment the demo shows, and what it shows in one line."""

    as_of: ZonedTime
    caption: str


class Plan(_PlanModel):
    build: list[PublishStep | AddStep | RoadmapStep] = Field(min_length=1)
    views: list[View] = Field(min_length=1)


@dataclass(frozen=True)
class Step:
    """One step of the build, resolved against the lab's directory."""

    action: Literal["publish", "add", "roadmap"]
    path: Path
    at: datetime | None = None
    approvals: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{'adding' if self.action == 'add' else 'publishing'} {self.path.name}"


def load_plan(source: Path = EXAMPLE_LAB) -> tuple[list[Step], list[View]]:
    """The build steps and the views of the lab in `source` (its `lab.yaml`)."""
    plan_path = source / PLAN_FILE
    if not plan_path.is_file():
        raise InvalidInput(Problem(str(plan_path), None, None,
                                   "the Example Lab's plan is missing (mast demo runs from a source checkout "
                                   "of mast, where examples/example-lab/ holds the lab)"))
    doc = load_file(plan_path)
    try:
        plan = Plan.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidInput([
            doc.problem(tuple(err["loc"][:2]), f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
            for err in exc.errors(include_url=False)
        ]) from None
    steps = []
    for item in plan.build:
        if isinstance(item, PublishStep):
            steps.append(Step("publish", source / item.publish, item.at, dict(item.approvals)))
        elif isinstance(item, RoadmapStep):
            steps.append(Step("roadmap", source / item.roadmap, item.at))
        else:
            steps.append(Step("add", source / item.add))
    return steps, list(plan.views)


def prepare_directory(directory: Path, *, replace: bool = False) -> bool:
    """Make sure `directory` can take a fresh workspace; True if an earlier demo was cleared.

    A missing or empty directory is fine. A previous demo (a workspace whose log starts with
    the Example Lab's framework, next to its `assessment.json`) is cleared, so that `mast
    demo` can be run again; any other workspace only with `replace`. Only the demo's own
    outputs are ever removed (`mast.toml`, `.mast/`, `assessment.json`): a directory holding
    anything else is refused, so that the demo never deletes a file it did not make.
    """
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(Problem(str(directory), None, None, "not a directory"))
    if not directory.exists():
        return False
    present = {p.name for p in directory.iterdir()}
    if not present:
        return False
    if not ((directory / CONFIG).exists() or (directory / STATE_DIR).exists()):
        raise InvalidInput(Problem(str(directory), None, None,
                                   "is not empty; mast demo builds its workspace in a new or empty directory"))
    others = sorted(present - set(_OUTPUTS))
    if others:
        raise InvalidInput(Problem(str(directory), None, None,
                                   f"holds files the demo did not make ({', '.join(others[:5])}"
                                   f"{', ...' if len(others) > 5 else ''}); choose an empty directory"))
    if not (replace or _is_previous_demo(directory)):
        raise InvalidInput(Problem(str(directory), None, None,
                                   "already holds a mast workspace that is not the demo's; pass --force to "
                                   "replace it (its log is deleted), or choose another directory"))
    for name in _OUTPUTS:
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    return True


def _is_previous_demo(directory: Path) -> bool:
    """Whether `directory` is a workspace `mast demo` built: its assessment.json is there and
    its log opens with the Example Lab's framework."""
    if not (directory / ASSESSMENT_FILE).is_file():
        return False
    try:
        ws = Workspace.open(directory)
    except Exception:
        return False
    try:
        frameworks = ws.frameworks()
        return bool(frameworks) and frameworks[0].id == DEMO_FRAMEWORK_ID
    except Exception:
        return False
    finally:
        ws.close()


def build_demo(directory: Path = DEFAULT_DIR, *, source: Path = EXAMPLE_LAB, replace: bool = False,
               progress: Callable[[Step], None] | None = None) -> Workspace:
    """Create the Example Lab workspace in `directory` and fill its log; return it open.

    A previous demo in `directory` is rebuilt; see `prepare_directory` for what is refused.
    `progress` is called before each step (the CLI draws a Rich progress bar with it). The
    caller closes the workspace.
    """
    directory = Path(directory)
    steps, _ = load_plan(source)
    prepare_directory(directory, replace=replace)
    ws = Workspace.init(directory)
    try:
        for step in steps:
            if progress is not None:
                progress(step)
            if step.action == "publish":
                ws.publish(load_framework(step.path), str(step.path), step.approvals, at=step.at)
            elif step.action == "roadmap":
                from mast.reports.roadmap import load_roadmap, publish_roadmap

                assert step.at is not None
                publish_roadmap(ws, load_roadmap(step.path), step.at, str(step.path))
            else:
                ws.add(load_batch(step.path))
    except BaseException:
        ws.close()
        raise
    return ws


def demo_views(source: Path = EXAMPLE_LAB) -> list[View]:
    """The moments the demo shows, in order; the last is the present."""
    return load_plan(source)[1]


def demo_assessment(ws: Workspace, as_of: datetime, *, history: bool = False) -> Assessment:
    """The engine's assessment of the workspace as of `as_of`."""
    return assess(ws.frameworks(), ws.store.records(), as_of, history=history)


def write_assessment(assessment: Assessment, path: Path) -> Path:
    """Write an assessment as DESIGN §5 JSON."""
    path.write_text(json.dumps(assessment.to_json_data(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
