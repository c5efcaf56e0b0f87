"""Mapping files: how an evaluation's own names become the framework's (DESIGN §4).

Imported evidence is named after its source — an Inspect log's task (without a package
prefix) and each scorer's metrics, an lm-eval result's task key and metric — unless a
mapping file renames it:

```yaml
tasks:    {inspect_evals/wmdp_bio: wmdp_bio, wmdp_bio_v2: wmdp_bio}
scorers:  {model_graded_qa: graded}          # Inspect: the `<scorer>/` prefix of a metric
metrics:  {acc: accuracy, match/accuracy: accuracy}
models:   {openai/gpt-4o-2024-08-06: atlas-1} # the source's model name -> mast model id
```

A `tasks` or `models` key may be written with or without the package / provider prefix;
a `metrics` key is matched against the full metric name (`match/accuracy`) first, then the
bare one (`accuracy`, which keeps the scorer prefix: `match/acc` -> `match/accuracy`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mast.errors import InvalidInput
from mast.sourcemap import load_file, problems_from_validation

Name = str


class Mapping(BaseModel):
    """Renames; an empty mapping keeps every name as the source gives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tasks: dict[str, Name] = Field(default_factory=dict)
    scorers: dict[str, Name] = Field(default_factory=dict)
    metrics: dict[str, Name] = Field(default_factory=dict)
    models: dict[str, Name] = Field(default_factory=dict)

    def task(self, name: str) -> str:
        """The framework's name for a source task: mapped, else without package prefix."""
        short = strip_prefix(name)
        return self.tasks.get(name) or self.tasks.get(short) or short

    def scorer(self, name: str) -> str:
        return self.scorers.get(name) or name

    def metric(self, name: str) -> str:
        """A full name (`match/accuracy`) maps as written; otherwise its bare metric maps and
        keeps the scorer prefix (`{acc: accuracy}` turns `match/acc` into `match/accuracy`)."""
        if name in self.metrics:
            return self.metrics[name]
        scorer, sep, bare = name.rpartition("/")
        if bare in self.metrics:
            return f"{scorer}{sep}{self.metrics[bare]}"
        return name

    def model(self, name: str) -> str:
        return self.models.get(name) or self.models.get(strip_prefix(name)) or name


def strip_prefix(name: str) -> str:
    """`inspect_evals/wmdp_bio` -> `wmdp_bio`."""
    return name.rsplit("/", 1)[-1]


def load_mapping(path: str | Path | None) -> Mapping:
    """Read a mapping file (YAML or JSON); problems are reported as FILE:LINE:COL (exit 2)."""
    if path is None:
        return Mapping()
    doc = load_file(path)
    if doc.data is None:
        return Mapping()
    if not isinstance(doc.data, dict):
        raise InvalidInput(doc.problem((), "expected a mapping with tasks:, scorers:, metrics: and/or models:"))
    try:
        mapping = Mapping.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidInput(problems_from_validation(doc, exc)) from None
    problems = [doc.problem((section, key), f"{section}.{key}: expected a non-empty name")
                for section in ("tasks", "scorers", "metrics", "models")
                for key, value in getattr(mapping, section).items() if not value.strip()]
    if problems:
        raise InvalidInput(problems)
    return mapping
