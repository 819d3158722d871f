"""No English left unmarked where answers are made: a text handed straight to a reply, a message, a
toast or an error for people must come from a translator or a lazy() constant, not be a literal."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Where the words people read are put together.
ANSWERING = [*sorted((ROOT / "bot" / "services" / "commands").glob("*.py")),
             *(ROOT / "bot" / "services" / name for name in ("actions.py", "alerts.py", "digests.py", "feeds.py",
                                                              "pages.py", "pending.py")),
             ROOT / "bot" / "domain" / "digest.py", ROOT / "bot" / "domain" / "matching.py",
             ROOT / "bot" / "domain" / "schedule.py", ROOT / "bot" / "adapters" / "telegram" / "handlers.py",
             ROOT / "bot" / "adapters" / "slack" / "handlers.py", ROOT / "bot" / "adapters" / "slack" / "files.py"]
# Calls whose text arguments people read, and the keywords that carry text.
CALLS = {"reply", "Message", "Reply", "PressResult", "QueryError", "ScheduleError", "SourceProblem", "PageProblem",
         "FileProblem", "Refused", "AttachmentTooLarge"}
TEXT_KEYWORDS = {"text", "heading", "footer", "toast"}
# Literal text that is in no language: the bot's name.
ALLOWED = {"", "\n", "briefbot"}


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _literal_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value not in ALLOWED and any(ch.isalpha() for ch in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_literal_text(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.IfExp):
        return _literal_text(node.body) or _literal_text(node.orelse)
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) or _literal_text(node.right)
    return False


def unmarked(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call) or _name(node) not in CALLS:
            continue
        texts = [arg for arg in node.args[:1]] + [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        if _name(node) == "Message":  # Message(kind="reply", ...): only its text keywords
            texts = [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        found += [f"{path.name}:{node.lineno}" for text in texts if _literal_text(text)]
    return found


def test_no_answer_is_an_unmarked_english_literal():
    assert [problem for path in ANSWERING for problem in unmarked(path)] == []


def test_the_check_finds_a_literal(tmp_path):
    module = tmp_path / "handler.py"
    module.write_text("def answer(tr, n):\n"
                      "    ok = reply(tr.gettext('Done.'))\n"
                      "    return reply(f'Removed {n} alerts.'), Message(kind='reply', heading='Sources')\n")
    assert [line.rsplit(":", 1)[1] for line in unmarked(module)] == ["3", "3"]
