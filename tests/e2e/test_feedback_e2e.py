"""The feedback loop through the real server and the fixture model: an inline item's id comes back
in didShow and didAccept, `codecomp/stats` counts it, the opt-in log has its line; bad reports
are ignored quietly; minConfidence hides what the model doubts when typing, not when asked."""

from __future__ import annotations

import json

import pytest

from tests.e2e.lsp_helpers import inline, lsp_session, open_doc, stats

URI = "file:///work/demo/feedback.py"
SOURCE = "import os\n\n\ndef list_files(root):\n    names = []\n    for name in "
CURSOR = (5, len("    for name in "))


async def test_shown_and_accepted_suggestions_are_counted_and_logged(tiny_model_dir, tmp_path):
    path = tmp_path / "data" / "feedback.jsonl"
    options = {
        "feedbackLog": True,
        "feedbackLogPath": str(path),
        "multiline": "never",
        "maxNewTokens": 8,
        "backgroundPrefill": False,
    }
    async with lsp_session(tiny_model_dir, options=options) as client:
        open_doc(client, URI, SOURCE)
        result = await inline(client, URI, *CURSOR, invoked=True)
        assert result is not None and result.items, "the fixture model suggested nothing"
        item = result.items[0]
        assert item.command is not None and item.command.command == "codecomp.didAcceptInline"
        (argument,) = item.command.arguments
        item_id = argument["id"]
        assert argument["length"] == len(item.insert_text)
        ids = [i.command.arguments[0]["id"] for i in result.items]
        assert len(set(ids)) == len(ids)

        # A client's mistakes: an unknown id, no id, a bad kind. One log line each, nothing else.
        client.protocol.notify("codecomp/didShow", {"id": "not-ours"})
        client.protocol.notify("codecomp/didAccept", {"kind": "full"})
        client.protocol.notify("codecomp/didAccept", {"id": item_id, "kind": "everything"})
        client.protocol.notify("codecomp/didDismiss", [1, 2])

        client.protocol.notify("codecomp/didShow", {"id": item_id})
        client.protocol.notify(
            "codecomp/didAccept", {"id": item_id, "kind": "full", "length": argument["length"]}
        )
        acceptance = (await stats(client))["acceptance"]
        assert acceptance["shown"] == 1
        assert acceptance["accepted"] == 1
        assert acceptance["acceptedByKind"] == {"full": 1, "word": 0, "line": 0}
        assert acceptance["acceptanceRate"] == 1.0
        assert acceptance["acceptedChars"] == len(item.insert_text)
        assert acceptance["unknownIds"] == 1
        assert acceptance["languages"]["python"]["accepted"] == 1
        assert client.messages == [], "a bad report must not be shown to the user"

        (record,) = [json.loads(line) for line in path.read_text().splitlines()]
        assert record["outcome"] == "accepted" and record["kind"] == "full"
        assert record["id"] == item_id and record["uri"] == URI
        assert record["suggestion"] == item.insert_text == record["accepted"]
        assert record["prefix"] == SOURCE and record["suffix"] == ""
        assert record["language"] == "python"
        assert record["model"]

        # The next suggestion shown and then dismissed; a reset clears the counts.
        again = await inline(client, URI, *CURSOR, invoked=True)
        other = again.items[0].command.arguments[0]["id"]
        assert other != item_id
        client.protocol.notify("codecomp/didShow", {"id": other})
        client.protocol.notify("codecomp/didDismiss", {"id": other})
        acceptance = (await stats(client))["acceptance"]
        assert (acceptance["shown"], acceptance["dismissed"]) == (2, 1)
        assert acceptance["acceptanceRate"] == 0.5
        assert [json.loads(line)["outcome"] for line in path.read_text().splitlines()] == [
            "accepted",
            "dismissed",
        ]
        await client.protocol.send_request_async("codecomp/stats", {"reset": True})
        assert (await stats(client))["acceptance"]["shown"] == 0


ADD_URI = "file:///work/demo/add.py"
ADD = "def add(a, b):\n    return "


@pytest.mark.parametrize("threshold", [-100, 0])
async def test_min_confidence_hides_automatic_suggestions_only(tiny_model_dir, threshold):
    # 0 is the highest threshold: only a suggestion the model is certain of (log p = 0) passes;
    # -100 hides nothing. The fixture model's guesses use names nothing defines, which the
    # reference check would hold back on its own: it is off here.
    options = {
        "minConfidence": threshold,
        "multiline": "never",
        "maxNewTokens": 8,
        "disabledStages": ["reference-check"],
    }
    async with lsp_session(tiny_model_dir, options=options) as client:
        open_doc(client, ADD_URI, ADD)
        automatic = await inline(client, ADD_URI, 1, len("    return "))
        assert automatic is not None and bool(automatic.items) == (threshold == -100)
        info = await stats(client)
        assert (info["lowConfidence"] >= 1) == (threshold == 0)
        invoked = await inline(client, ADD_URI, 1, len("    return "), invoked=True)
        assert invoked is not None and invoked.items
