"""Chinese first, English on request: everything a person reads goes through gettext catalogs.

The catalogs are ordinary gettext `.po` files under `riskplan/locale/<catalog>/LC_MESSAGES/`,
one file per area of the package (`cli.po`, `load.po`, ...), so that work on one area never
edits another's file. Babel reads them and compiles them in memory the first time a language
is used; nothing compiled is committed. msgids are the English text; the `en` catalog holds the
English wording (normally the msgid itself), the `zh_CN` catalog the Chinese.

Which language: an explicit choice (`set_language`, the CLI's `--lang`), else the environment
variable `RISKPLAN_LANG`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, `LANGUAGE`) when it
names Chinese or English, else Chinese. The choice is held in a context variable, so a web
request or a worker thread can use its own language.

Messages with values use named `str.format` fields: `_("{count} visits placed").format(count=n)`,
never f-strings (an f-string cannot be looked up in a catalog).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext as _gettext
import io
import os
from collections.abc import Iterator
from pathlib import Path

#: Languages riskplan speaks, by the code users type (`--lang zh`, `--lang en`).
LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
ENV_VAR = "RISKPLAN_LANG"
#: Catalog folder for each language (gettext locale names).
CATALOG_DIRS = {"zh": "zh_CN", "en": "en"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_ALIASES = {"zh": "zh", "zh_cn": "zh", "zh-cn": "zh", "zh_hans": "zh", "zh-hans": "zh", "cn": "zh",
            "chinese": "zh", "中文": "zh", "en": "en", "en_us": "en", "en-us": "en", "en_gb": "en",
            "en-gb": "en", "english": "en"}

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("riskplan_language", default=None)


def normalize_language(value: str) -> str:
    """The language code for a user's spelling of it ("zh_CN.UTF-8", "EN", "中文"); ValueError if unknown."""
    text = value.strip()
    key = text.split(".")[0].split("@")[0].lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key.startswith("zh"):
        return "zh"
    if key.startswith("en"):
        return "en"
    raise ValueError(f"unknown language {value!r}; riskplan speaks: {', '.join(LANGUAGES)}")


def language_from_environment(environ: os._Environ | dict | None = None) -> str:
    """The language the environment asks for: RISKPLAN_LANG, then the locale, then Chinese."""
    env = os.environ if environ is None else environ
    chosen = env.get(ENV_VAR, "").strip()
    if chosen:
        return normalize_language(chosen)  # a typo in RISKPLAN_LANG is an error, not silently Chinese
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var, "").strip()
        if not value:
            continue
        for part in value.split(":"):
            with contextlib.suppress(ValueError):
                return normalize_language(part)
        break  # the first locale variable that is set decides (C, POSIX: riskplan's default)
    return DEFAULT_LANGUAGE


def get_language() -> str:
    """The language messages are produced in right now."""
    chosen = _current.get()
    return chosen if chosen is not None else language_from_environment()


def set_language(lang: str | None) -> None:
    """Choose the language for this context (None: back to the environment's choice)."""
    _current.set(None if lang is None else normalize_language(lang))


@contextlib.contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Produce messages in `lang` inside the block (None: keep the current language)."""
    if lang is None:
        yield get_language()
        return
    token = _current.set(normalize_language(lang))
    try:
        yield get_language()
    finally:
        _current.reset(token)


def catalog_files(lang: str) -> list[Path]:
    """The `.po` files of one language, in a fixed order."""
    return sorted((LOCALE_DIR / CATALOG_DIRS[normalize_language(lang)] / "LC_MESSAGES").glob("*.po"))


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """All of a language's catalogs merged, compiled in memory by Babel."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    merged: _gettext.NullTranslations = _gettext.NullTranslations()
    for path in catalog_files(lang):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=CATALOG_DIRS[lang], domain=path.stem)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        compiled = Translations(buffer, domain=path.stem)
        if isinstance(merged, Translations):
            merged.merge(compiled)
        else:
            merged = compiled
    return merged


def _(message: str) -> str:
    """`message` (English, the msgid) in the current language."""
    return translations(get_language()).gettext(message)


def gettext(message: str) -> str:
    return _(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the current language."""
    return translations(get_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` in a named context, for words that translate differently by use."""
    return translations(get_language()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark a message for the catalogs where it is defined (a constant), translate it where used."""
    return message


_CLICK_MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser",
                  "click.termui", "click.types", "click.utils", "click.shell_completion", "click._termui_impl")


def translate_click() -> None:
    """Make click's own words (Usage, Options, its error messages) come from riskplan's catalogs.

    click looks its words up with the module-level `gettext` of the standard library; pointing
    those names at riskplan's lookup is the one hook click offers short of shipping its own catalog.
    """
    import importlib

    for name in _CLICK_MODULES:
        with contextlib.suppress(ImportError):
            module = importlib.import_module(name)
            if hasattr(module, "_"):
                module._ = _
            if hasattr(module, "ngettext"):
                module.ngettext = ngettext
