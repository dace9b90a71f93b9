"""What the server holds, declared once: the client's features (read at `initialize`) and the
server's state (documents, settings layers, engine, stats)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder

from codecomp_lsp.engine.engine import Engine
from codecomp_lsp.engine.stats import Stats
from codecomp_lsp.remote.model import open_remote
from codecomp_lsp.server.documents import DocumentStore
from codecomp_lsp.server.loopwatch import LoopWatch
from codecomp_lsp.settings import Settings, SettingsLayers


@dataclass(frozen=True)
class ClientFeatures:
    """The client capabilities the features depend on, read once."""

    position_encoding: str = types.PositionEncodingKind.Utf16
    progress: bool = False  # window/workDoneProgress
    configuration: bool = False  # answers workspace/configuration
    streams: bool = False  # experimental.codecompCompletionStream
    hover_markdown: bool = False
    completion_markdown: bool = False  # completion item documentation in Markdown
    resolve_edits: bool = False  # codeAction/resolve fills in `edit`
    literal_actions: bool = True  # CodeAction literals (older clients take Commands only)
    document_changes: bool = False  # versioned WorkspaceEdits
    create_files: bool = False  # WorkspaceEdits may create files (a translation's new file)
    show_document: bool = False  # window/showDocument

    @classmethod
    def from_capabilities(cls, caps: types.ClientCapabilities) -> ClientFeatures:
        text = caps.text_document
        hover = text.hover if text else None
        completion = text.completion if text else None
        item = completion.completion_item if completion else None
        action = text.code_action if text else None
        resolve = action.resolve_support if action else None
        edit = caps.workspace.workspace_edit if caps.workspace else None
        experimental = caps.experimental if isinstance(caps.experimental, dict) else {}
        return cls(
            position_encoding=ServerCapabilitiesBuilder.choose_position_encoding(caps),
            progress=bool(caps.window and caps.window.work_done_progress),
            configuration=bool(caps.workspace and caps.workspace.configuration),
            streams=bool(experimental.get("codecompCompletionStream")),
            hover_markdown=bool(
                hover and hover.content_format and types.MarkupKind.Markdown in hover.content_format
            ),
            completion_markdown=bool(
                item and types.MarkupKind.Markdown in (item.documentation_format or [])
            ),
            resolve_edits=bool(resolve and "edit" in (resolve.properties or [])),
            literal_actions=action is None or action.code_action_literal_support is not None,
            document_changes=bool(edit and edit.document_changes),
            create_files=bool(
                edit
                and edit.document_changes
                and types.ResourceOperationKind.Create in (edit.resource_operations or [])
            ),
            show_document=bool(
                caps.window and caps.window.show_document and caps.window.show_document.support
            ),
        )


@dataclass
class ServerState:
    """Everything a handler may read; the engine's thread owns what is inside `engine`."""

    layers: SettingsLayers
    documents: DocumentStore = field(default_factory=DocumentStore)
    stats: Stats = field(default_factory=Stats)
    client: ClientFeatures = field(default_factory=ClientFeatures)
    initialized: bool = False  # the client's `initialized` came (it is handled once)
    shut_down: bool = False  # `shutdown` was answered: `exit` then ends the process with 0
    loop_watch: LoopWatch = field(default_factory=LoopWatch)  # how late the event loop wakes
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = Engine(self.stats, remote=open_remote)

    @property
    def settings(self) -> Settings:
        return self.layers.settings
