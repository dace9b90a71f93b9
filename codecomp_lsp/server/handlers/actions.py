"""Code actions: quick fixes for syntax errors, and the model's actions (docstring, body, code
from a comment, explain, and the refactorings of a selection), listed cheaply and computed on
resolve or by command."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codecomp_lsp.engine.decoder import Cancelled
from codecomp_lsp.engine.engine import EngineUnavailable
from codecomp_lsp.features.actions import EXPLAIN, ActionOutcome, NewDocument, Offer
from codecomp_lsp.features.diagnostics import Problem
from codecomp_lsp.features.modelio import TextChange
from codecomp_lsp.features.quickfix import Fix
from codecomp_lsp.features.refactor import REFACTORS
from codecomp_lsp.features.testgen import GENERATE_TESTS, KIND_TESTS
from codecomp_lsp.features.translate import KIND_TRANSLATE, TRANSLATE
from codecomp_lsp.server import convert
from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.documents import Document, Snapshot
from codecomp_lsp.server.handlers.diagnostics import problems
from codecomp_lsp.server.handlers.jobs import SLACK_S, model_job
from codecomp_lsp.server.progress import work_progress

log = logging.getLogger(__name__)

EXPLAIN_COMMAND = "codecomp.explain"
APPLY_COMMAND = "codecomp.applyAction"
CODE_ACTION_KINDS = [
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.RefactorRewrite,
    "refactor.explain",
    KIND_TRANSLATE,
    KIND_TESTS,
]
MAX_PROBLEMS_PER_REQUEST = 3


def plain(value: Any) -> Any:
    """Command arguments and `data` may arrive as attribute objects; make them plain JSON."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: plain(v) for k, v in vars(value).items()}
    return value


def _wanted(only: Any, kind: str) -> bool:
    if not only:
        return True
    return any(kind == str(k) or kind.startswith(f"{k}.") for k in only)


def _edit(
    ls: CodecompServer, doc: Document, changes: TextChange | list[TextChange]
) -> types.WorkspaceEdit:
    return convert.workspace_edit(doc, changes, document_changes=ls.state.client.document_changes)


async def fixes(
    ls: CodecompServer, snap: Snapshot, problem: Problem, *, model: bool, deadline: float
) -> list[Fix]:
    uri, text, spec = snap.doc.uri, snap.view.text, snap.spec
    assert spec is not None
    left = deadline - time.monotonic()
    model = model and left > 0 and ls.io.ready
    cached = ls.quickfixes.cached(uri, text, problem, True)
    if cached is None and not model:
        cached = ls.quickfixes.cached(uri, text, problem, False)
    if cached is not None:
        return cached
    if model:
        cancel = threading.Event()
        try:
            return await model_job(
                ls,
                lambda: ls.quickfixes.fixes(
                    uri, text, spec, problem, model=True, cancel=cancel, deadline=deadline
                ),
                key=f"fix:{uri}",
                cancel=cancel,
                timeout=left + SLACK_S,
            )
        except (TimeoutError, Cancelled, EngineUnavailable):
            pass  # parser-derived fixes still apply
        except asyncio.CancelledError:
            raise
        except Exception:
            ls.state.stats.add(errors=1)
            log.exception("model quick fixes failed")
    return await asyncio.to_thread(ls.quickfixes.fixes, uri, text, spec, problem, model=False)


def _as_command(title: str, data: dict[str, Any]) -> types.Command:
    command = EXPLAIN_COMMAND if data.get("action") == EXPLAIN else APPLY_COMMAND
    return types.Command(title=title, command=command, arguments=[data])


def fix_action(
    ls: CodecompServer, doc: Document, problem: Problem, fix: Fix, *, preferred: bool
) -> types.CodeAction | types.Command:
    if not ls.state.client.literal_actions:
        c = fix.change
        data = {
            "action": "fix",
            "uri": doc.uri,
            "version": doc.version,
            "change": [c.start_line, c.start_col, c.end_line, c.end_col, c.new_text],
        }
        return _as_command(fix.title, data)
    return types.CodeAction(
        title=fix.title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[convert.diagnostic(doc, problem)],
        is_preferred=preferred,
        edit=_edit(ls, doc, fix.change),
    )


def offer_action(
    ls: CodecompServer, doc: Document, offer: Offer
) -> types.CodeAction | types.Command:
    data = {
        "action": offer.action,
        "uri": doc.uri,
        "version": doc.version,
        "line": offer.line,
        "character": offer.character,
        "endLine": offer.end_line,
        "endCharacter": offer.end_character,
        "title": offer.title,
    }
    client = ls.state.client
    if not client.literal_actions:
        return _as_command(offer.title, data)
    # Translations and tests write another file (and show it): the server applies it, as a command.
    writes = offer.action.partition(":")[0] in (TRANSLATE, GENERATE_TESTS)
    if offer.action == EXPLAIN or writes or not client.resolve_edits:
        return types.CodeAction(
            title=offer.title, kind=offer.kind, command=_as_command(offer.title, data)
        )
    return types.CodeAction(title=offer.title, kind=offer.kind, data=data)


async def code_actions(
    ls: CodecompServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command] | None:
    started = time.perf_counter()
    snap = ls.snapshot(params.text_document.uri)
    if snap.spec is None:
        return None
    doc = snap.doc
    start = convert.codepoints(doc, params.range.start)
    end = convert.codepoints(doc, params.range.end)
    only = params.context.only
    automatic = params.context.trigger_kind == types.CodeActionTriggerKind.Automatic
    out: list[types.CodeAction | types.Command] = []
    if _wanted(only, types.CodeActionKind.QuickFix):
        found = await problems(snap.view.text, snap.spec, snap.view.uri)
        near = [p for p in found if p.start_line <= end[0] and p.end_line >= start[0]]
        # One budget for the whole list, however many problems are near.
        deadline = time.monotonic() + ls.settings.quickFixTimeBudgetMs / 1000
        for problem in near[:MAX_PROBLEMS_PER_REQUEST]:
            # The lightbulb asks on every cursor move: the model runs only when invoked.
            found_fixes = await fixes(ls, snap, problem, model=not automatic, deadline=deadline)
            for rank, fix in enumerate(found_fixes):
                out.append(fix_action(ls, doc, problem, fix, preferred=rank == 0))
    offers = await asyncio.to_thread(
        ls.actions.offers, doc.uri, snap.view.text, snap.spec, start, end
    )
    if _wanted(only, types.CodeActionKind.RefactorRewrite):
        offers += await asyncio.to_thread(
            ls.refactors.offers, snap.view.text, snap.spec, start, end
        )
    if _wanted(only, KIND_TRANSLATE):
        targets = ls.settings.translateTargets
        offers += await asyncio.to_thread(
            ls.translations.offers, doc.uri, snap.view.text, snap.spec, start, end, targets
        )
    if _wanted(only, KIND_TESTS):
        offers += await asyncio.to_thread(
            ls.testgen.offers, doc.uri, snap.view.text, snap.spec, start
        )
    out.extend(offer_action(ls, doc, offer) for offer in offers if _wanted(only, offer.kind))
    ls.state.stats.latency("codeAction", (time.perf_counter() - started) * 1000)
    return out


async def run_action(ls: CodecompServer, data: dict[str, Any]) -> tuple[Document, ActionOutcome]:
    """Run a listed action (from its `data`) on the model worker with progress."""
    try:
        uri = data["uri"]
        offer = Offer(
            str(data["action"]),
            str(data.get("title") or data["action"]),
            "",
            int(data["line"]),
            int(data["character"]),
            int(data.get("endLine", data["line"])),
            int(data.get("endCharacter", data["character"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise JsonRpcInvalidParams(f"malformed code action data: {exc}") from exc
    snap = ls.snapshot(uri)
    doc, text, spec = snap.doc, snap.view.text, snap.spec
    if spec is None:
        return doc, ActionOutcome(None, "not a supported document")
    if not ls.io.ready:
        return doc, ActionOutcome(None, ls.state.engine.error or "the model is not loaded")
    budget_ms = ls.settings.codeActionTimeBudgetMs
    deadline = time.monotonic() + budget_ms / 1000 if budget_ms else None
    cancel = threading.Event()
    started = time.perf_counter()
    title = f"codecomp: {offer.title}"
    writes_tests = offer.action.startswith(f"{GENERATE_TESTS}:")
    # Only tests read the other open documents (an open test file is appended to as it stands).
    others = ls.state.documents.others(uri) if writes_tests else []
    open_texts = {s.doc.uri: s.text for s in others}

    def work() -> ActionOutcome:
        if writes_tests:
            report("writing tests")
            return ls.testgen.run(
                offer,
                uri,
                text,
                spec,
                open_texts=open_texts,
                run_tests=ls.settings.runGeneratedTests,
                cancel=cancel,
                deadline=deadline,
            )
        if offer.action.startswith(f"{TRANSLATE}:"):
            report("translating")
            return ls.translations.run(offer, uri, text, spec, cancel=cancel, deadline=deadline)
        if offer.action in REFACTORS:
            return ls.refactors.run(
                offer, text, spec, cancel=cancel, deadline=deadline, report=report
            )
        return ls.actions.run(
            offer, uri, text, spec, cancel=cancel, deadline=deadline, report=report
        )

    async with work_progress(ls, title, enabled=ls.state.client.progress, cancel=cancel) as report:
        try:
            outcome = await model_job(
                ls,
                work,
                key=f"action:{uri}",
                cancel=cancel,
                timeout=budget_ms / 1000 + 1 if budget_ms else None,
            )
        except (Cancelled, TimeoutError) as exc:
            ls.state.stats.add(cancelled=1)
            reason = "cancelled" if isinstance(exc, Cancelled) else "out of time"
            outcome = ActionOutcome(None, reason)
        except EngineUnavailable as exc:
            outcome = ActionOutcome(None, str(exc))
        finally:
            ls.state.stats.latency(
                "action" + offer.action.partition(":")[0].capitalize(),
                (time.perf_counter() - started) * 1000,
            )
    current = ls.state.documents.get(uri)
    if outcome.change is not None and (current is None or current.snapshot().view.text != text):
        outcome = ActionOutcome(None, "the document changed while the action ran")
    return doc, outcome


def _tell(ls: CodecompServer, message: str, *, warning: bool = False) -> None:
    kind = types.MessageType.Warning if warning else types.MessageType.Info
    ls.tell(f"codecomp: {message}", kind)


async def explain(ls: CodecompServer, args: tuple[Any, ...]) -> dict[str, Any]:
    data = plain(args[0]) if args else None
    if not isinstance(data, dict):
        raise JsonRpcInvalidParams("codecomp.explain takes the code action's data object")
    data["action"] = EXPLAIN
    _, outcome = await run_action(ls, data)
    text = outcome.message or ""
    _tell(ls, text)
    return {"explanation": text}


async def apply(ls: CodecompServer, args: tuple[Any, ...]) -> dict[str, Any]:
    data = plain(args[0]) if args else None
    if not isinstance(data, dict) or "action" not in data:
        raise JsonRpcInvalidParams("codecomp.applyAction takes the code action's data object")
    if data["action"] == EXPLAIN:
        return await explain(ls, args)
    if data["action"] == "fix":
        doc = ls.document(data["uri"])
        if doc.version != data.get("version"):
            _tell(ls, "the document changed; ask for the fix again", warning=True)
            return {"applied": False}
        changes, message = [TextChange(*data["change"])], None
    else:
        doc, outcome = await run_action(ls, data)
        changes, message = outcome.changes, outcome.message
        if outcome.document is not None:
            return await write_document(ls, outcome.document, data.get("title"), outcome.message)
    applied = False
    if changes:
        result = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=_edit(ls, doc, changes), label=data.get("title"))
        )
        applied = bool(result and result.applied)
    if message:
        _tell(ls, message, warning=not changes)
    return {"applied": applied, "message": message}


async def write_document(
    ls: CodecompServer, new: NewDocument, label: Any, message: str | None = None
) -> dict[str, Any]:
    """Create the new file (or add to it) and show it where the client can; else show its text."""
    if not ls.state.client.create_files:
        _tell(ls, f"{label}:\n\n{new.text}")
        return {"applied": False, "uri": None, "text": new.text}
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(
            edit=convert.new_file_edit(new.uri, new.text, new.insert_at), label=label
        )
    )
    applied = bool(result and result.applied)
    if applied and message:
        _tell(ls, message)
    if applied and ls.state.client.show_document:
        await ls.window_show_document_async(types.ShowDocumentParams(uri=new.uri, take_focus=True))
    if not applied:
        _tell(ls, f"{label}: the editor did not create {new.uri}", warning=True)
    return {"applied": applied, "uri": new.uri, "text": new.text}


def register(server: CodecompServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS, resolve_provider=True),
    )
    async def code_action(
        ls: CodecompServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        return await code_actions(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: CodecompServer, action: types.CodeAction) -> types.CodeAction:
        data = plain(action.data)
        if action.edit is not None or not isinstance(data, dict) or "action" not in data:
            return action
        doc, outcome = await run_action(ls, data)
        if outcome.change is not None:
            action.edit = _edit(ls, doc, outcome.changes)
        if outcome.message:
            _tell(ls, outcome.message, warning=outcome.change is None)
        return action

    @server.command(EXPLAIN_COMMAND)
    async def explain_command(ls: CodecompServer, *args: Any) -> dict[str, Any]:
        return await explain(ls, args)

    @server.command(APPLY_COMMAND)
    async def apply_command(ls: CodecompServer, *args: Any) -> dict[str, Any]:
        return await apply(ls, args)
