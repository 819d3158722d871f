"""Which language a text is in (py3langid, offline), and the names the llm backend asks for."""

from __future__ import annotations

import lzma
import os
import shutil
import tempfile
import threading
from pathlib import Path

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
            _identifier = _load_identifier()
            _identifier.set_languages(list(NAMES))
        code, _ = _identifier.classify(sample)
    return code


def _load_identifier():
    """py3langid's identifier. Its model ships LZMA-compressed, and decompressing it takes about half a
    second at every start: the decompressed file is kept in the cache folder and read from there."""
    import numpy as np
    from py3langid import modelio
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    to_array = getattr(modelio, "_to_array", None)
    try:
        copy = _decompressed(MODEL_DIR / MODEL_FILE) if to_array is not None else None
    except OSError:  # a read-only or full cache folder
        copy = None
    if copy is None:  # py3langid's own (slower) loader
        return LanguageIdentifier.from_model_file(MODEL_FILE)
    with np.load(copy, allow_pickle=False) as data:
        return LanguageIdentifier(np.asarray(data["ptc"]), np.asarray(data["pc"]), data["classes"].tolist(),
                                  to_array(data["nextmove"]), data["out_feat"].tolist(),
                                  tk_row=to_array(data["nextmove_row"]))


def _decompressed(model: Path) -> Path:
    from summarizer.encoder import default_cache_dir

    stat = model.stat()
    target = default_cache_dir() / f"langid-{stat.st_size}-{int(stat.st_mtime)}.npz"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".tmp", delete=False) as tmp:
            with lzma.open(model) as source:
                shutil.copyfileobj(source, tmp, length=1 << 20)
        os.replace(tmp.name, target)  # whole or not at all, even with two processes starting at once
    return target


def same_language(first: str | None, second: str | None) -> bool:
    """True when both are known and the same language (or either is unknown: nothing to judge)."""
    if first is None or second is None:
        return True
    return _SAME.get(first, first) == _SAME.get(second, second)
