"""Languages of the dashboard: the catalogues, choosing one per request, translating.

Every string a person reads goes through `Translator`; templates call `t("key", name=...)`.
The language is the `sendmako_lang` cookie when set (the switcher), else the best match
of the browser's Accept-Language, else English.
"""

from __future__ import annotations

from collections.abc import Mapping

from sendmako.dashboard.locales import en, fr

CATALOGUES: Mapping[str, Mapping[str, str]] = {"en": en.MESSAGES, "fr": fr.MESSAGES}
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in CATALOGUES else DEFAULT_LANGUAGE
        self._messages = CATALOGUES[self.lang]

    def __call__(self, key: str, /, **params: object) -> str:
        # A key missing from a catalogue is a bug the catalogue test catches; at run time
        # English, then the key itself, is better than a broken page.
        text = self._messages.get(key) or CATALOGUES[DEFAULT_LANGUAGE].get(key) or key
        return text.format(**params) if params else text


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie is not None and cookie in CATALOGUES:
        return cookie
    for lang in _preferences(accept_language or ""):
        if lang in CATALOGUES:
            return lang
    return DEFAULT_LANGUAGE


def _preferences(header: str) -> list[str]:
    """Primary language subtags of `fr-CA,fr;q=0.9,en;q=0.8`, best first (q=0 excluded)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            ranked.append((-quality, position, primary))
    return [lang for _, _, lang in sorted(ranked)]


def format_count(value: int, lang: str) -> str:
    """1,000 in English, 1 000 in French (a narrow no-break space, as French typesets it)."""
    grouped = f"{value:,}"
    return grouped.replace(",", "\u202f") if lang == "fr" else grouped
