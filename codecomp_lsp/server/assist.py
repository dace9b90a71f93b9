"""LSP glue for hover, diagnostics, quick fixes and code actions (the handlers in app.py call this).

Conversions live here: code-point positions on "\\n" text <-> client positions, TextChange ->
WorkspaceEdit, problems -> Diagnostics. So do the budgets: model work runs as jobs on the engine's
worker (same thread and KV cache as completion) and is awaited with a timeout, so a slow or absent
model never holds up the structural part of an answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codecomp_lsp.context.languages import LanguageSpec, language_for
from codecomp_lsp.engine.decoder import Cancelled
from codecomp_lsp.engine.engine import EngineUnavailable
from codecomp_lsp.features.actions import EXPLAIN, ActionOutcome, ActionService, Offer
from codecomp_lsp.features.diagnostics import DiagnosticsScheduler, Problem, find_problems
from codecomp_lsp.features.hover import HoverRequest, HoverService, render_hover
from codecomp_lsp.features.modelio import ModelIO, TextChange
from codecomp_lsp.features.quickfix import Fix, QuickFixService
from codecomp_lsp.server.documents import MAX_COMPLETION_CHARS, Document, PositionError

if TYPE_CHECKING:
    from codecomp_lsp.server.app import CodecompServer

log = logging.getLogger(__name__)

SOURCE = "codecomp"
EXPLAIN_COMMAND = "codecomp.explain"
APPLY_COMMAND = "codecomp.applyAction"
CODE_ACTION_KINDS = [
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.RefactorRewrite,
    "refactor.explain",
]
MAX_PROBLEMS_PER_REQUEST = 3
_THREAD_PARSE_CHARS = 200_000  # parse bigger documents off the event loop
_SLACK_S = 0.25  # awaited a little past the decoder's own deadline


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


def _normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned future's exception so asyncio does not log it as lost."""
    if not future.cancelled():
        future.exception()


def _wanted(only: Any, kind: str) -> bool:
    if not only:
        return True
    return any(kind == str(k) or kind.startswith(f"{k}.") for k in only)


class Assist:
    """Hover, diagnostics, quick fixes and code actions for one server."""

    def __init__(self, server: CodecompServer) -> None:
        self.server = server
        self.io = ModelIO(server.engine, lambda: server.settings)
        self.hovers = HoverService(self.io)
        self.quickfixes = QuickFixService(self.io)
        self.actions = ActionService(self.io, self.hovers)
        self.scheduler = DiagnosticsScheduler(self.publish_diagnostics)
        self.markdown = False
        self.resolve_edits = False
        self.literal_actions = True
        self.document_changes = False

    def configure(self, caps: types.ClientCapabilities) -> None:
        text = caps.text_document
        hover = text.hover if text else None
        self.markdown = bool(
            hover and hover.content_format and types.MarkupKind.Markdown in hover.content_format
        )
        action = text.code_action if text else None
        resolve = action.resolve_support if action else None
        self.resolve_edits = bool(resolve and "edit" in (resolve.properties or []))
        # Clients that predate code action literals take Commands only.
        self.literal_actions = action is None or action.code_action_literal_support is not None
        edit = caps.workspace.workspace_edit if caps.workspace else None
        self.document_changes = bool(edit and edit.document_changes)

    # -- documents and positions --------------------------------------------------------------
    def snapshot(self, uri: str) -> tuple[Document, str, LanguageSpec | None]:
        doc = self.server.document(uri)
        spec = language_for(doc.language_id, uri)
        if doc.is_binary() or len(doc.text) > MAX_COMPLETION_CHARS:
            spec = None
        return doc, _normalized(doc.text), spec

    def others(self, uri: str) -> list[tuple[str, str, LanguageSpec]]:
        out = []
        for doc in self.server.documents.docs.values():
            spec = language_for(doc.language_id, doc.uri)
            usable = spec is not None and not doc.is_binary() and len(doc.text) < 1_000_000
            if doc.uri != uri and usable:
                assert spec is not None
                out.append((doc.uri, _normalized(doc.text), spec))
        return out

    @staticmethod
    def position(doc: Document, line: int, col: int) -> types.Position:
        line = max(0, min(line, doc.line_count - 1))
        col = max(0, min(col, len(doc.line_text(line))))
        return doc.position_at(doc.line_starts[line] + col)

    def range(self, doc: Document, sl: int, sc: int, el: int, ec: int) -> types.Range:
        return types.Range(start=self.position(doc, sl, sc), end=self.position(doc, el, ec))

    @staticmethod
    def codepoints(doc: Document, position: types.Position) -> tuple[int, int]:
        try:
            return doc.to_codepoints(position, strict=False)
        except PositionError as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc

    def workspace_edit(self, doc: Document, change: TextChange) -> types.WorkspaceEdit:
        eol = "\r\n" if "\r\n" in doc.text[:10000] else "\n"
        edit = types.TextEdit(
            range=self.range(
                doc, change.start_line, change.start_col, change.end_line, change.end_col
            ),
            new_text=change.new_text.replace("\n", eol),
        )
        if self.document_changes:
            return types.WorkspaceEdit(
                document_changes=[
                    types.TextDocumentEdit(
                        text_document=types.OptionalVersionedTextDocumentIdentifier(
                            uri=doc.uri, version=doc.version
                        ),
                        edits=[edit],
                    )
                ]
            )
        return types.WorkspaceEdit(changes={doc.uri: [edit]})

    # -- model jobs ----------------------------------------------------------------------------
    async def _job(
        self,
        fn: Callable[[], Any],
        *,
        key: str,
        cancel: threading.Event,
        timeout: float | None,
    ) -> Any:
        """Run `fn` on the model worker; TimeoutError when `timeout` passes (the job is cancelled)."""
        job = self.server.engine.submit(fn, key=key, cancel=cancel)
        future = asyncio.wrap_future(job.future)
        future.add_done_callback(_consume)
        try:
            if timeout is None:
                return await asyncio.shield(future)
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except (asyncio.CancelledError, TimeoutError):
            cancel.set()
            raise

    # -- hover ---------------------------------------------------------------------------------
    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        started = time.perf_counter()
        uri = params.text_document.uri
        doc, text, spec = self.snapshot(uri)
        if spec is None:
            return None
        line, col = self.codepoints(doc, params.position)
        others = self.others(uri)
        request = await asyncio.to_thread(self.hovers.locate, uri, text, spec, line, col, others)
        if request is None:
            return None
        explanation = await self.explanation(request)
        value = render_hover(request, explanation, markdown=self.markdown)
        kind = types.MarkupKind.Markdown if self.markdown else types.MarkupKind.PlainText
        self.server.stats.latency("hover", (time.perf_counter() - started) * 1000)
        return types.Hover(
            contents=types.MarkupContent(kind=kind, value=value),
            range=self.range(doc, *request.target.range),
        )

    async def explanation(self, request: HoverRequest) -> str | None:
        budget_ms = self.server.settings.hoverTimeBudgetMs
        if budget_ms <= 0 or not self.io.ready:
            return None
        cached = self.hovers.cached(request)
        if cached is not None:
            return cached or None
        cancel = threading.Event()
        deadline = time.monotonic() + budget_ms / 1000
        try:
            return await self._job(
                lambda: self.hovers.explain(request, deadline=deadline, cancel=cancel),
                key=f"hover:{request.uri}",
                cancel=cancel,
                timeout=budget_ms / 1000 + _SLACK_S,
            )
        except (TimeoutError, Cancelled, EngineUnavailable):
            return None  # the structural part goes out alone
        except asyncio.CancelledError:
            raise
        except Exception:
            self.server.stats.add(errors=1)
            log.exception("hover explanation failed")
            return None

    # -- diagnostics ---------------------------------------------------------------------------
    def schedule(self, uri: str, *, immediate: bool = False) -> None:
        if self.server.settings.diagnostics:
            delay = 0 if immediate else self.server.settings.diagnosticsDelayMs
            self.scheduler.schedule(uri, delay)

    def forget(self, uri: str) -> None:
        self.scheduler.cancel(uri)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def settings_changed(self, before: bool) -> None:
        """Start or stop publishing when the `diagnostics` setting flips."""
        now = self.server.settings.diagnostics
        if now == before:
            return
        for uri in list(self.server.documents.docs):
            if now:
                self.schedule(uri, immediate=True)
            else:
                self.forget(uri)

    async def problems(self, text: str, spec: LanguageSpec) -> list[Problem]:
        if len(text) > _THREAD_PARSE_CHARS:
            return await asyncio.to_thread(find_problems, text, spec)
        return find_problems(text, spec)

    def diagnostic(self, doc: Document, problem: Problem) -> types.Diagnostic:
        return types.Diagnostic(
            range=self.range(
                doc, problem.start_line, problem.start_col, problem.end_line, problem.end_col
            ),
            message=problem.message,
            severity=types.DiagnosticSeverity.Error,
            source=SOURCE,
            code=problem.code,
        )

    async def publish_diagnostics(self, uri: str) -> None:
        doc = self.server.documents.get(uri)
        if doc is None or not self.server.settings.diagnostics:
            return
        _, text, spec = self.snapshot(uri)
        version, raw = doc.version, doc.text
        try:
            problems = await self.problems(text, spec) if spec is not None else []
        except Exception:  # noqa: BLE001 - diagnostics must never take the server down
            log.exception("syntax diagnostics failed for %s", uri)
            return
        current = self.server.documents.get(uri)
        if current is None or current.version != version or current.text is not raw:
            return  # edited (or closed) meanwhile: an edit schedules its own run
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=version,
                diagnostics=[self.diagnostic(current, p) for p in problems],
            )
        )

    # -- code actions --------------------------------------------------------------------------
    async def code_actions(
        self, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        started = time.perf_counter()
        uri = params.text_document.uri
        doc, text, spec = self.snapshot(uri)
        if spec is None:
            return None
        start = self.codepoints(doc, params.range.start)
        end = self.codepoints(doc, params.range.end)
        only = params.context.only
        automatic = params.context.trigger_kind == types.CodeActionTriggerKind.Automatic
        out: list[types.CodeAction | types.Command] = []
        if _wanted(only, types.CodeActionKind.QuickFix):
            problems = await self.problems(text, spec)
            near = [p for p in problems if p.start_line <= end[0] and p.end_line >= start[0]]
            # One budget for the whole list, however many problems are near.
            deadline = time.monotonic() + self.server.settings.quickFixTimeBudgetMs / 1000
            for problem in near[:MAX_PROBLEMS_PER_REQUEST]:
                # The lightbulb asks on every cursor move: the model runs only when invoked.
                fixes = await self.fixes(
                    uri, text, spec, problem, model=not automatic, deadline=deadline
                )
                for rank, fix in enumerate(fixes):
                    out.append(self.fix_action(doc, problem, fix, preferred=rank == 0))
        offers = await asyncio.to_thread(self.actions.offers, uri, text, spec, start, end)
        for offer in offers:
            if _wanted(only, offer.kind):
                out.append(self.offer_action(doc, offer))
        self.server.stats.latency("codeAction", (time.perf_counter() - started) * 1000)
        return out

    async def fixes(
        self,
        uri: str,
        text: str,
        spec: LanguageSpec,
        problem: Problem,
        *,
        model: bool,
        deadline: float,
    ) -> list[Fix]:
        left = deadline - time.monotonic()
        model = model and left > 0 and self.io.ready
        cached = self.quickfixes.cached(uri, text, problem, True)
        if cached is None and not model:
            cached = self.quickfixes.cached(uri, text, problem, False)
        if cached is not None:
            return cached
        if model:
            cancel = threading.Event()
            try:
                return await self._job(
                    lambda: self.quickfixes.fixes(
                        uri, text, spec, problem, model=True, cancel=cancel, deadline=deadline
                    ),
                    key=f"fix:{uri}",
                    cancel=cancel,
                    timeout=left + _SLACK_S,
                )
            except (TimeoutError, Cancelled, EngineUnavailable):
                pass  # parser-derived fixes still apply
            except asyncio.CancelledError:
                raise
            except Exception:
                self.server.stats.add(errors=1)
                log.exception("model quick fixes failed")
        return await asyncio.to_thread(self.quickfixes.fixes, uri, text, spec, problem, model=False)

    def _as_command(self, title: str, data: dict[str, Any]) -> types.Command:
        command = EXPLAIN_COMMAND if data.get("action") == EXPLAIN else APPLY_COMMAND
        return types.Command(title=title, command=command, arguments=[data])

    def fix_action(
        self, doc: Document, problem: Problem, fix: Fix, *, preferred: bool
    ) -> types.CodeAction | types.Command:
        if not self.literal_actions:
            change = fix.change
            data = {
                "action": "fix",
                "uri": doc.uri,
                "version": doc.version,
                "change": [
                    change.start_line,
                    change.start_col,
                    change.end_line,
                    change.end_col,
                    change.new_text,
                ],
            }
            return self._as_command(fix.title, data)
        return types.CodeAction(
            title=fix.title,
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[self.diagnostic(doc, problem)],
            is_preferred=preferred,
            edit=self.workspace_edit(doc, fix.change),
        )

    def offer_action(self, doc: Document, offer: Offer) -> types.CodeAction | types.Command:
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
        if not self.literal_actions:
            return self._as_command(offer.title, data)
        if offer.action == EXPLAIN or not self.resolve_edits:
            return types.CodeAction(
                title=offer.title, kind=offer.kind, command=self._as_command(offer.title, data)
            )
        return types.CodeAction(title=offer.title, kind=offer.kind, data=data)

    @asynccontextmanager
    async def progress(
        self, title: str, cancel: threading.Event
    ) -> AsyncIterator[Callable[[str], None]]:
        """$/progress around long work when the client takes it; its cancel button sets `cancel`."""
        server = self.server
        token: str | None = None
        if server.supports_progress:
            token = f"codecomp-action-{uuid.uuid4().hex}"
            try:
                await asyncio.wait_for(server.work_done_progress.create_async(token), 5)
            except Exception:  # noqa: BLE001 - no progress, the work goes on
                token = None
        if token is None:
            yield lambda message: None
            return
        progress = server.work_done_progress
        loop = asyncio.get_running_loop()
        open_ = [True]
        progress.begin(
            token,
            types.WorkDoneProgressBegin(title=f"codecomp: {title}", cancellable=True),
        )
        registered = progress.tokens.get(token)
        if registered is not None:
            registered.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)

        def report(message: str) -> None:
            def send() -> None:
                if open_[0]:
                    progress.report(token, types.WorkDoneProgressReport(message=message))

            loop.call_soon_threadsafe(send)

        try:
            yield report
        finally:
            open_[0] = False
            done = "cancelled" if cancel.is_set() else "done"
            progress.end(token, types.WorkDoneProgressEnd(message=done))
            progress.tokens.pop(token, None)

    async def run_action(self, data: dict[str, Any]) -> tuple[Document, ActionOutcome]:
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
        doc, text, spec = self.snapshot(uri)
        if spec is None:
            return doc, ActionOutcome(None, "not a supported document")
        if not self.io.ready:
            message = self.server.engine.error or "the model is not loaded"
            return doc, ActionOutcome(None, message)
        budget_ms = self.server.settings.codeActionTimeBudgetMs
        deadline = time.monotonic() + budget_ms / 1000 if budget_ms else None
        cancel = threading.Event()
        started = time.perf_counter()
        async with self.progress(offer.title, cancel) as report:
            try:
                outcome = await self._job(
                    lambda: self.actions.run(
                        offer, uri, text, spec, cancel=cancel, deadline=deadline, report=report
                    ),
                    key=f"action:{uri}",
                    cancel=cancel,
                    timeout=budget_ms / 1000 + 1 if budget_ms else None,
                )
            except (Cancelled, TimeoutError) as exc:
                self.server.stats.add(cancelled=1)
                reason = "cancelled" if isinstance(exc, Cancelled) else "out of time"
                outcome = ActionOutcome(None, reason)
            except EngineUnavailable as exc:
                outcome = ActionOutcome(None, str(exc))
            finally:
                self.server.stats.latency(
                    "action" + offer.action.capitalize(), (time.perf_counter() - started) * 1000
                )
        current = self.server.documents.get(uri)
        if outcome.change is not None and (current is None or _normalized(current.text) != text):
            outcome = ActionOutcome(None, "the document changed while the action ran")
        return doc, outcome

    def tell(self, message: str, *, warning: bool = False) -> None:
        kind = types.MessageType.Warning if warning else types.MessageType.Info
        self.server.window_show_message(
            types.ShowMessageParams(type=kind, message=f"codecomp: {message}")
        )

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        data = plain(action.data)
        if action.edit is not None or not isinstance(data, dict) or "action" not in data:
            return action
        doc, outcome = await self.run_action(data)
        if outcome.change is not None:
            action.edit = self.workspace_edit(doc, outcome.change)
        if outcome.message:
            self.tell(outcome.message, warning=outcome.change is None)
        return action

    async def explain(self, args: tuple[Any, ...]) -> dict[str, Any]:
        data = plain(args[0]) if args else None
        if not isinstance(data, dict):
            raise JsonRpcInvalidParams("codecomp.explain takes the code action's data object")
        data["action"] = EXPLAIN
        _, outcome = await self.run_action(data)
        text = outcome.message or ""
        self.tell(text)
        return {"explanation": text}

    async def apply(self, args: tuple[Any, ...]) -> dict[str, Any]:
        data = plain(args[0]) if args else None
        if not isinstance(data, dict) or "action" not in data:
            raise JsonRpcInvalidParams("codecomp.applyAction takes the code action's data object")
        if data["action"] == EXPLAIN:
            return await self.explain(args)
        if data["action"] == "fix":
            doc, _, _ = self.snapshot(data["uri"])
            if doc.version != data.get("version"):
                self.tell("the document changed; ask for the fix again", warning=True)
                return {"applied": False}
            change = TextChange(*data["change"])
            message = None
        else:
            doc, outcome = await self.run_action(data)
            change, message = outcome.change, outcome.message
        applied = False
        if change is not None:
            result = await self.server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(
                    edit=self.workspace_edit(doc, change), label=data.get("title")
                )
            )
            applied = bool(result and result.applied)
        if message:
            self.tell(message, warning=change is None)
        return {"applied": applied, "message": message}
