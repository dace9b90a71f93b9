"""`codecomp-lsp`: start the language server over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, NoReturn

from codecomp_lsp import __version__

log = logging.getLogger(__name__)

EXIT_GRACE_S = 0.5  # the model thread's time to finish its step at exit


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codecomp-lsp", description=__doc__)
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (default)")
    parser.add_argument("--tcp", action="store_true", help="listen on TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2087)
    parser.add_argument(
        "--model", help="local model directory, .gguf file or hub id (default: codecomp-tiny)"
    )
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", help="auto, float32, bfloat16 or float16")
    parser.add_argument("--log-file", help="write logs here (stderr otherwise)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"codecomp-lsp {__version__}")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    handler: logging.Handler = (
        logging.FileHandler(args.log_file, encoding="utf-8")
        if args.log_file
        else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    # Transformers' progress bars and hub chatter would otherwise land in the LSP client's log as noise.
    logging.getLogger("transformers").setLevel(logging.ERROR)
    if args.log_level.upper() != "DEBUG":
        # pygls logs every message it sends at INFO: each streamed token would land in the log.
        logging.getLogger("pygls").setLevel(logging.WARNING)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from codecomp_lsp.server.app import create_server
    from codecomp_lsp.server.intake import install_log_filter
    from codecomp_lsp.server.reading import serve_stdio
    from codecomp_lsp.server.tcp import is_loopback, serve_tcp

    if args.tcp and not is_loopback(args.host):
        sys.exit(
            f"codecomp-lsp: --host {args.host!r} is not a loopback address; the server listens "
            "only on 127.0.0.1, ::1 or localhost (it reads your files' text)"
        )

    install_log_filter()

    overrides: dict[str, Any] = {
        k: v
        for k, v in {"model": args.model, "device": args.device, "dtype": args.dtype}.items()
        if v
    }
    server = create_server(overrides)
    protocol_out = sys.stdout.buffer
    try:
        if args.tcp:
            serve_tcp(server, args.host, args.port)
        else:
            # Stray prints from any library must not corrupt the protocol stream.
            sys.stdout = sys.stderr
            serve_stdio(server, sys.stdin.buffer, protocol_out)
    finally:
        _finish(server, protocol_out)


def _finish(server: Any, protocol_out: Any) -> NoReturn:
    """End the process within a second of `exit` or of the client going away (stdin closed).

    The model thread is asked to stop and given a moment to finish its current step; then the
    process ends without tearing the interpreter down around a native thread that may still be
    inside a matrix multiply (which aborted with "terminate called without an active exception").
    The exit code is LSP's: 0 after shutdown, 1 without it (exit alone, or the client gone).
    """
    engine = server.state.engine
    engine.worker.shutdown()
    if not engine.worker.join(EXIT_GRACE_S):
        log.info("model thread still busy at exit: leaving without waiting for it")
    for stream in (protocol_out, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(0 if server.state.shut_down else 1)


if __name__ == "__main__":
    main()
