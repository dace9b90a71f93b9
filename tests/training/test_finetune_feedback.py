"""`codecomp finetune --feedback LOG`: accepted suggestions from the local log are trained on,
rejected ones measured; a real (2–3 step) run on the fixture model."""

from __future__ import annotations

from pathlib import Path

from codecomp_lsp.cli import build_parser
from codecomp_lsp.features.feedback import AcceptKind, FeedbackService, Report
from codecomp_lsp.settings import Settings
from codecomp_lsp.training.data.feedback import FeedbackExample, load_feedback
from codecomp_lsp.training.finetune import finetune
from codecomp_lsp.training.recipes import FineTune

PREFIX = "def total_price(items):\n    return "


def _log(path: Path) -> Path:
    """A log written the way the server writes it: two accepted, one dismissed, one rejected
    that was accepted in part before (so it counts as accepted)."""
    service = FeedbackService(lambda: Settings(feedbackLog=True, feedbackLogPath=str(path)))

    def issue(text: str, uri: str, prefix: str = PREFIX) -> str:
        item = service.issue(
            uri=uri,
            language="python",
            text=text,
            prefix=prefix,
            suffix="\n\n\ndef main():\n    pass\n",
            model=lambda: "codecomp-tiny",
            score=-1.0,
            automatic=True,
        )
        service.shown("codecomp/didShow", Report(item))
        return item

    service.accepted("codecomp/didAccept", Report(issue("sum(i.price for i in items)", "a")))
    partly = issue("len(items) * 2", "b", "def count(items):\n    return ")
    service.accepted("codecomp/didAccept", Report(partly, AcceptKind.WORD, "len"))
    service.dismissed("codecomp/didDismiss", Report(issue("None  # TODO", "c")))
    service.forget("b")
    return path


def test_load_feedback_keeps_the_last_acceptance_and_the_refusals(tmp_path) -> None:
    examples = load_feedback(_log(tmp_path / "feedback.jsonl"))
    assert [e.middle for e in examples.accepted] == ["sum(i.price for i in items)", "len"]
    assert examples.rejected == [
        FeedbackExample(PREFIX, "None  # TODO", "\n\n\ndef main():\n    pass\n")
    ]


def test_the_cli_takes_a_feedback_log() -> None:
    args = build_parser().parse_args(["finetune", "repo", "--feedback", "~/f.jsonl"])
    assert args.feedback == "~/f.jsonl"


def test_finetune_learns_the_accepted_and_measures_the_rejected(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    repo = tmp_path / "repo"
    for i in range(4):
        (repo / f"shop_{i}.py").parent.mkdir(parents=True, exist_ok=True)
        (repo / f"shop_{i}.py").write_text(
            "".join(f"def price_{i}_{j}(item):\n    return item.price * {j}\n\n" for j in range(6))
        )
    log = _log(tmp_path / "feedback.jsonl")
    recipe = FineTune(minutes=1.0, max_epochs=1.0, context=128, batch_size=2, heldout_fraction=0.0)
    report = finetune(
        repo, tiny_model_dir, tmp_path / "out", recipe, log=lambda _: None, feedback=log
    )
    assert 1 <= report["steps"] <= 4, report
    feedback = report["feedback"]
    assert (feedback["accepted"], feedback["rejected"]) == (2, 1)
    # Every step had an accepted example in its batch: the model learnt them.
    assert feedback["accepted_loss"]["after"] < feedback["accepted_loss"]["before"]
    assert all(isinstance(v, float) for v in feedback["rejected_loss"].values())
