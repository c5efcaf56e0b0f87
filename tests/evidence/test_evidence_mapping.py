"""Mapping files: renaming a source's tasks, scorers, metrics and models."""

from __future__ import annotations

from pathlib import Path

import pytest

from mast.errors import InvalidInput
from mast.evidence.mapping import Mapping, load_mapping


def test_names_are_mapped_or_kept() -> None:
    m = Mapping(tasks={"wmdp_bio_v2": "wmdp_bio"}, scorers={"model_graded_qa": "graded"},
                metrics={"acc": "accuracy", "match/accuracy": "exact"}, models={"openai/gpt-x": "atlas-1"})
    assert m.task("inspect_evals/wmdp_bio_v2") == "wmdp_bio"  # a key without the prefix matches
    assert m.task("inspect_evals/other") == "other"
    assert m.scorer("model_graded_qa") == "graded" and m.scorer("match") == "match"
    assert m.metric("acc") == "accuracy"
    assert m.metric("graded/acc") == "graded/accuracy"  # a bare key keeps the scorer prefix
    assert m.metric("match/accuracy") == "exact"  # a full key renames the whole name
    assert m.metric("f1") == "f1"
    assert m.model("openai/gpt-x") == "atlas-1" and m.model("gpt-y") == "gpt-y"


def test_a_mapping_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("tasks:\n  wmdp_bio_v2: wmdp_bio\nmetrics: {acc: accuracy}\n")
    assert load_mapping(path) == Mapping(tasks={"wmdp_bio_v2": "wmdp_bio"}, metrics={"acc": "accuracy"})
    assert load_mapping(None) == Mapping()


@pytest.mark.parametrize("text, where", [
    ("task:\n  a: b\n", ":1:"),
    ("tasks:\n  a: b\nmetrics:\n  acc: [1]\n", ":4:"),
    ("tasks:\n  a: ''\n", ":2:"),
    ("- a\n", ":1:"),
    ("tasks: {a: b\n", ":"),
])
def test_a_bad_mapping_file_names_the_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as bad:
        load_mapping(path)
    assert str(bad.value).startswith(f"{path}{where}")


def test_cli_uses_the_mapping(ws: Path, tmp_path: Path, mast) -> None:
    (tmp_path / "e.csv").write_text("model,task,metric,value,at\natlas-1,bio,acc,0.6,2025-03-01T00:00:00Z\n")
    (tmp_path / "map.yaml").write_text("tasks: {bio: wmdp_bio}\nmetrics: {acc: accuracy}\n")
    done = mast("-w", str(ws), "evidence", "import", str(tmp_path / "e.csv"), "--model", "atlas-1",
                "--map", str(tmp_path / "map.yaml"))
    assert done.code == 0, done.stderr
    shown = mast("-w", str(ws), "evidence", "show", "atlas-1", "--as-of", "2025-03-02T00:00:00Z", "--json")
    import json
    cbrn = json.loads(shown.stdout)["thresholds"][0]
    assert cbrn["indicators"][0]["scores"][0]["value"] == 0.6
    bad = mast("-w", str(ws), "evidence", "import", str(tmp_path / "e.csv"), "--model", "atlas-1",
               "--map", str(tmp_path / "nope.yaml"))
    assert bad.code == 2 and "nope.yaml" in bad.stderr
