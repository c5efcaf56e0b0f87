"""An offline Inspect model and small tasks, for tests and benchmarks that need real logs.

Inspect writes its logs only from real runs. This module lets a run happen without a network:
`mast_offline/NAME` is a `ModelAPI` that answers every prompt with canned text, and counts
tokens by words (Inspect's default token counting downloads an encoding, which an offline
machine cannot fetch). Import it, then `inspect_ai.eval(task, model="mast_offline/test")`.

`offline_environment(directory)` returns the environment variables that keep Inspect's
files (logs, caches, settings) inside `directory`; set them before importing inspect_ai.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import Sample
from inspect_ai.model import GenerateConfig, ModelAPI, ModelOutput, modelapi
from inspect_ai.scorer import CORRECT, INCORRECT, Score, accuracy, match, mean, scorer, stderr
from inspect_ai.solver import generate, solver

MODEL_API = "mast_offline"


def offline_environment(directory: str | Path) -> dict[str, str]:
    """Variables that keep Inspect offline and its files under `directory`."""
    d = Path(directory)
    return {
        "HOME": str(d / "home"),
        "INSPECT_LOG_DIR": str(d / "logs"),
        "INSPECT_DISPLAY": "none",
        "XDG_CACHE_HOME": str(d / "cache"),
        "XDG_CONFIG_HOME": str(d / "config"),
        "XDG_DATA_HOME": str(d / "data"),
        "XDG_STATE_HOME": str(d / "state"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "NO_PROXY": "*",
    }


@modelapi(name=MODEL_API)
class OfflineModel(ModelAPI):
    """Answers every prompt with `answer` (default "A"); no network, no tokenizer download."""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), answer: str = "A", **_: Any) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.answer = answer

    async def generate(self, input: Any, tools: Any, tool_choice: Any, config: GenerateConfig) -> ModelOutput:
        return ModelOutput.from_content(model=self.model_name, content=self.answer)

    async def count_text_tokens(self, text: str) -> int:
        return len(text.split())

    def max_connections(self) -> int:
        return 64


@solver
def explode():  # type: ignore[no-untyped-def]
    """A solver that raises: the run ends with status `error`."""

    async def solve(state: Any, generate: Any) -> Any:
        raise RuntimeError("the solver exploded (on purpose)")

    return solve


@scorer(metrics=[accuracy(), stderr(), mean()])
def graded():  # type: ignore[no-untyped-def]
    """A second scorer with three metrics: exact answer, like `match`."""

    async def score(state: Any, target: Any) -> Score:
        return Score(value=CORRECT if state.output.completion.strip() == target.text else INCORRECT)

    return score


def quiz(name: str, samples: int, correct: int, *, scorers: int = 1, fail: bool = False) -> Task:
    """A task of `samples` multiple-choice questions of which the offline model (always "A")
    gets `correct` right; `scorers=2` adds a second scorer with three metrics; `fail` makes
    the solver raise."""
    dataset = [Sample(id=i + 1, input=f"Question {i + 1}: A or B?", target="A" if i < correct else "B")
               for i in range(samples)]
    chosen = [match(), graded()] if scorers == 2 else match()
    return Task(name=name, dataset=dataset, solver=explode() if fail else generate(), scorer=chosen)
