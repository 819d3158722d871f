"""Language identification: py3langid's model read from its decompressed copy in the cache folder."""

from __future__ import annotations

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from summarizer import languages

TEXTS = [
    "The council approved the new budget on Monday after a long debate about the bridge and the tunnel.",
    "Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen, das die Mieten in Großstädten begrenzen soll.",
    "Le gouvernement a annoncé mardi une nouvelle réforme des retraites, très contestée par les syndicats.",
    "El ayuntamiento aprobó el lunes un nuevo plan para reducir el tráfico en el centro de la ciudad.",
    "Правительство в среду объявило о новых мерах поддержки для малого бизнеса в регионах страны.",
]


def test_the_cached_model_identifies_as_py3langids_own_loader(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    reference = LanguageIdentifier.from_model_file(MODEL_FILE)
    reference.set_languages(list(languages.NAMES))
    ours = languages._load_identifier()
    ours.set_languages(list(languages.NAMES))
    for text in TEXTS:
        assert ours.classify(text) == reference.classify(text)
    [cached] = (tmp_path / "briefbot").glob("langid-*.npz")
    written = cached.stat().st_mtime_ns
    languages._load_identifier()  # a second start reads the copy, it does not write it again
    assert cached.stat().st_mtime_ns == written
    assert [languages.detect(text) for text in TEXTS] == ["en", "de", "fr", "es", "ru"]


def test_a_cache_folder_that_cannot_be_written_falls_back_to_py3langids_loader(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # its briefbot/ folder cannot be made, even by root
    identifier = languages._load_identifier()
    identifier.set_languages(list(languages.NAMES))
    assert identifier.classify(TEXTS[1])[0] == "de"
