"""The catalogs: complete, with the placeholders of their English, and holding every message the code marks."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.i18n.catalogs import LOCALES_DIR, catalog_path, placeholders, translator
from bot.i18n.languages import DEFAULT_LANGUAGE, SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in SUPPORTED if code != DEFAULT_LANGUAGE]


def read(path: Path, locale: str | None = None):
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def template():
    return read(LOCALES_DIR / "briefbot.pot")


def msgid_key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def extraction_config() -> tuple[list[tuple[str, str]], dict]:
    """The method map and keywords of pyproject's [tool.babel], which `pybabel extract -F pyproject.toml` reads."""
    mappings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["babel"]["mappings"]
    keywords = dict(DEFAULT_KEYWORDS)
    for mapping in mappings:
        keywords.update(parse_keywords(mapping.get("keywords", "").split()))
    return [(mapping["pattern"], mapping["method"]) for mapping in mappings], keywords


def extracted(directory: Path) -> dict[str, str]:
    """Every message marked in the Python files under `directory` -> where."""
    method_map, keywords = extraction_config()
    found = {}
    for filename, lineno, message, _, _ in extract_from_dir(str(directory), method_map, keywords=keywords):
        found[message if isinstance(message, str) else message[0]] = f"{filename}:{lineno}"
    return found


def missing_from_catalogs(directory: Path) -> dict[str, list[str]]:
    """Marked messages some catalog (or the template) lacks -> the catalogs lacking it."""
    catalogs = {"template": template(), **{code: read(catalog_path(code), code) for code in TRANSLATED}}
    missing: dict[str, list[str]] = {}
    for message, where in extracted(directory).items():
        lacking = [name for name, catalog in catalogs.items()
                   if catalog.get(message) is None and not any(msgid_key(m) == message for m in catalog if m.id)]
        if lacking:
            missing[f"{message!r} ({where})"] = lacking
    return missing


def test_the_template_holds_messages_and_each_language_has_a_catalog():
    assert len([m for m in template() if m.id]) >= 20
    for code in TRANSLATED:
        assert catalog_path(code).is_file(), code


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(code):
    catalog = read(catalog_path(code), code)
    assert catalog.num_plurals == get_plural(code).num_plurals
    problems = []
    for message in template():
        if not message.id:
            continue
        translated = catalog.get(message.id)
        if translated is None or translated.fuzzy:
            problems.append(f"untranslated: {msgid_key(message)!r}")
            continue
        if isinstance(message.id, str):
            forms, expected = [translated.string], placeholders(message.id)
        else:
            forms, expected = list(translated.string), placeholders(message.id[1])
            assert placeholders(message.id[0]) == expected, message.id
            if len(forms) != catalog.num_plurals:
                problems.append(f"{len(forms)} plural forms, not {catalog.num_plurals}: {msgid_key(message)!r}")
        for form in forms:
            if not form:
                problems.append(f"empty: {msgid_key(message)!r}")
            elif placeholders(form) != expected:
                problems.append(f"placeholders {sorted(placeholders(form))} for {sorted(expected)}: {form!r}")
    assert problems == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_catalog_holds_a_message_the_template_lacks(code):
    ids = {msgid_key(m) for m in template() if m.id}
    assert sorted(msgid_key(m) for m in read(catalog_path(code), code) if m.id and msgid_key(m) not in ids) == []


def test_every_message_marked_in_the_code_is_in_every_catalog():
    marked = extracted(ROOT / "bot")
    assert "Sorry, something went wrong on my side. Please try again in a minute." in marked  # the keywords work
    assert "From now on I write in {language} here." in marked  # lazy(), from pyproject's [tool.babel]
    assert missing_from_catalogs(ROOT / "bot") == {}


def test_a_marked_message_no_catalog_holds_is_found(tmp_path):
    (tmp_path / "reply.py").write_text(
        "from bot.i18n import lazy, translator\n"
        "GREETING = lazy('Hello from a module nobody translated')\n"
        "def answer(lang, n):\n"
        "    return translator(lang).ngettext('{n} new feed', '{n} new feeds', n)\n"
        "KNOWN = lazy('Sorry, something went wrong on my side. Please try again in a minute.')\n")
    missing = missing_from_catalogs(tmp_path)
    assert sorted(missing) == ["'Hello from a module nobody translated' (reply.py:2)", "'{n} new feed' (reply.py:4)"]
    assert missing["'{n} new feed' (reply.py:4)"] == ["template", *TRANSLATED]


@pytest.mark.parametrize(("count", "expected"), [
    (1, "Ещё 1 новость не показана"), (21, "Ещё 21 новость не показана"), (2, "Ещё 2 новости не показаны"),
    (4, "Ещё 4 новости не показаны"), (22, "Ещё 22 новости не показаны"), (5, "Ещё 5 новостей не показано"),
    (11, "Ещё 11 новостей не показано"), (12, "Ещё 12 новостей не показано"), (111, "Ещё 111 новостей не показано"),
])
def test_russian_takes_the_plural_form_its_grammar_asks_for(count, expected):
    text = translator("ru").ngettext("{n} more story not shown; /summary lists the latest.",
                                     "{n} more stories not shown; /summary lists the latest.", count)
    assert text == expected + "; /summary покажет последние."


@pytest.mark.parametrize(("code", "one", "two"), [
    ("en", "1 more story not shown", "2 more stories not shown"),
    ("de", "1 weitere Meldung nicht angezeigt", "2 weitere Meldungen nicht angezeigt"),
    ("es", "1 noticia más sin mostrar", "2 noticias más sin mostrar"),
    ("fr", "1 autre actualité non affichée", "2 autres actualités non affichées"),
    ("pt", "Mais 1 notícia não exibida", "Mais 2 notícias não exibidas"),
])
def test_each_language_has_a_singular_and_a_plural(code, one, two):
    tr = translator(code)
    forms = [tr.ngettext("{n} more story not shown; /summary lists the latest.",
                         "{n} more stories not shown; /summary lists the latest.", n) for n in (1, 2)]
    assert forms[0].startswith(one) and forms[1].startswith(two)
