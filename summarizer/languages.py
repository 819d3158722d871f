"""Which language a text is in (py3langid, offline), and the names the llm backend asks for."""

from __future__ import annotations

import threading

ARTICLE = "article"  # "write in the article's own language"
SAMPLE_CHARS = 3000  # the identifier needs a paragraph, not a whole article
MIN_CHARS = 40  # shorter texts are identified too unreliably to judge

# The languages a brief may be asked for, by ISO 639-1 code (py3langid knows each of them).
NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "no": "Norwegian",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak",
    "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese", "zh": "Chinese",
}
# Identifiers confuse these close pairs on short texts; either answer is the same language to a reader.
_SAME = {"sr": "hr"}

_lock = threading.Lock()
_identifier = None


def check_language(code: str) -> str:
    """`code` as a known language code or "article"; ValueError naming the choices otherwise."""
    value = code.strip().lower()
    if value == ARTICLE or value in NAMES:
        return value
    raise ValueError(f"unknown language {code!r}: use {ARTICLE!r} or one of {', '.join(sorted(NAMES))}")


def name_of(code: str) -> str:
    return NAMES.get(code, code)


def detect(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when the text is too short to tell."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if len(sample) < MIN_CHARS:
        return None
    global _identifier
    with _lock:  # the model loads on first use; one of our own, limited to the languages briefs may be in
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
            _identifier.set_languages(list(NAMES))
        code, _ = _identifier.classify(sample)
    return code


def same_language(first: str | None, second: str | None) -> bool:
    """True when both are known and the same language (or either is unknown: nothing to judge)."""
    if first is None or second is None:
        return True
    return _SAME.get(first, first) == _SAME.get(second, second)
