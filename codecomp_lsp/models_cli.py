"""`codecomp models list | pull NAME | remove NAME | path NAME` (the command line over modelstore/)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from codecomp_lsp.modelstore.catalog import CatalogEntry, load_catalog
from codecomp_lsp.modelstore.listing import catalog_listing
from codecomp_lsp.modelstore.progress import ProgressBar, human_bytes
from codecomp_lsp.modelstore.resolve import recommended
from codecomp_lsp.modelstore.store import InstallState, ModelStore, ModelStoreError, models_dir


def add_parser(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="list, pull, remove the models the server can use")
    actions = models.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the catalog, and what is installed where")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    pull = actions.add_parser("pull", help="download, verify and convert a catalog model")
    pull.add_argument("name", nargs="?", help="a catalog name (default: the one for this device)")
    pull.add_argument("--device", default="auto", help="the device the conversion targets")
    pull.add_argument("--dtype", default="auto")
    pull.set_defaults(func=_pull)
    remove = actions.add_parser("remove", help="delete a pulled model")
    remove.add_argument("name")
    remove.set_defaults(func=_remove)
    path = actions.add_parser("path", help="print the folder the server loads for NAME")
    path.add_argument("name")
    path.add_argument("--file", action="store_true", help="the verified download (the .gguf)")
    path.set_defaults(func=_path)


def _entry(name: str) -> CatalogEntry:
    entry = load_catalog().get(name)
    if entry is None:
        known = ", ".join(load_catalog().names())
        raise ModelStoreError(f"no model {name!r} in the catalog (known: {known})")
    return entry


def _list(args: argparse.Namespace) -> int:
    from codecomp_lsp.engine.loader import pick_device

    store = ModelStore()
    listing = catalog_listing(pick_device("auto").type, store)
    rows = listing["models"]
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    header = ("NAME", "FAMILY", "PARAMS", "QUANT", "SIZE", "LICENSE", "STATE", "WHERE")
    table = [header]
    for row, entry in zip(rows, load_catalog().entries, strict=True):
        mark = " *" if row["default"] else ""
        table.append(
            (
                row["name"] + mark,
                row["family"],
                entry.parameters_label(),
                row["quantization"],
                human_bytes(row["sizeBytes"]),
                row["license"],
                "not pulled" if row["state"] == "absent" else row["state"],
                row["path"] or "-",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    print(
        f"\n* answers when no model is configured ({listing['defaultReason']}); "
        f"models live in {store.root}"
    )
    return 0


def _pull(args: argparse.Namespace) -> int:
    from codecomp_lsp.engine.loader import pick_device, pick_dtype
    from codecomp_lsp.modelstore.pull import pull

    device = pick_device(args.device)
    name = args.name or recommended(device.type)
    entry = _entry(name or "")
    if entry.embedded:
        print(f"{entry.name} is built in: {ModelStore().embedded_path(entry)}")
        return 0
    store = ModelStore()
    before = store.status(entry).state
    bar = ProgressBar(entry.name)
    started = time.perf_counter()
    folder = pull(entry, pick_dtype(args.dtype, device), store, progress=bar)
    bar.finish_line()
    took = time.perf_counter() - started
    if before is InstallState.INSTALLED:
        print(f"{entry.name} is already installed: {folder}")
    else:
        print(f"{entry.name} installed in {took:.0f} s: {folder}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    entry = _entry(args.name)
    freed = ModelStore().remove(entry)
    print(
        f"removed {entry.name} ({human_bytes(freed)} freed)"
        if freed
        else f"{entry.name} was not pulled"
    )
    return 0


def _path(args: argparse.Namespace) -> int:
    entry = _entry(args.name)
    store = ModelStore()
    status = store.status(entry)
    if args.file and not entry.embedded and store.source_file(entry).exists():
        print(store.source_file(entry))
        return 0
    if status.path is None or args.file and not entry.embedded:
        print(f"{entry.name} is not pulled: `codecomp models pull {entry.name}`", file=sys.stderr)
        return 1
    print(status.path)
    return 0


def run(args: argparse.Namespace) -> int:
    """Errors the user can act on become one line on stderr and exit status 1."""
    try:
        return args.func(args)
    except ModelStoreError as exc:
        print(f"\ncodecomp: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"\ncodecomp: interrupted; `codecomp models pull` resumes ({models_dir()})",
            file=sys.stderr,
        )
        return 130
