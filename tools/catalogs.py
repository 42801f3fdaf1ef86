"""Keep the translation catalogs in step with the code (a developer's tool, not shipped).

    python tools/catalogs.py update [AREA ...]   add new messages, drop unused ones
    python tools/catalogs.py missing [AREA ...]  list what still has no translation

Messages are found by Babel's extractor in the package's Python source (`_`, `N_`, `gettext`,
`ngettext`, `pgettext`) and Jinja2 templates (`_`, `gettext`, `ngettext`, `{% trans %}`), in
click's own source (its words: Usage, Options, its errors) and, at run time, in the help text
of every command and option (click takes those as plain strings). Each message goes to the
catalog of the area that uses it first (one per module: `cli_roster`, `load_district`,
`io`, ...; `templates`; `click`). `update` fills the English catalog's msgstr with the msgid
where it is empty and leaves Chinese msgstr empty for a person to write.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "riskplan"
sys.path.insert(0, str(ROOT / "src"))

from riskplan.i18n import CATALOG_DIRS, LANGUAGES, LOCALE_DIR  # noqa: E402

#: Catalog header dates stay fixed, so regenerating a catalog changes only its messages.
FIXED_DATE = __import__("datetime").datetime(2026, 12, 1)
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
Message = tuple[str, str | tuple[str, str], str | None]  # (area, msgid or (singular, plural), context)


def area_of(path: Path) -> str:
    """The catalog of a source file: one per module (`export_record`, `cli_roster`, `io`), so work
    on one module never edits another module's catalog."""
    rel = path.relative_to(PACKAGE)
    if rel.parts[0] == "templates":
        return "templates"
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "_".join(parts) or "riskplan"


def _from_file(path: Path, method: str, area: str) -> list[Message]:
    from babel.messages.extract import extract_from_file

    options = {"extensions": "jinja2.ext.i18n", "trimmed": "true"} if method != "python" else {}
    found = []
    for _lineno, message, _comments, context in extract_from_file(method, str(path), keywords=KEYWORDS,
                                                                    options=options, strip_comment_tags=True):
        if isinstance(message, tuple):
            if not message[0]:
                continue
            msg = (message[0], message[1]) if len(message) > 1 and message[1] else message[0]
        else:
            msg = message
        if msg:
            found.append((area, msg, context))
    return found


def extracted_messages() -> list[Message]:
    """Every message the code can show, with the area whose catalog holds it."""
    import click

    found: list[Message] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += _from_file(path, "python", area_of(path))
    for path in sorted((PACKAGE / "templates").glob("*.j2")):
        found += _from_file(path, "jinja2", "templates")
    for path in sorted((PACKAGE / "web" / "templates").glob("*.j2")):  # the web workspace's pages
        found += _from_file(path, "jinja2", "web_templates")
    for path in sorted(Path(click.__file__).parent.glob("*.py")):
        if path.name.startswith("_win"):
            continue
        found += _from_file(path, "python", "click")
    found += [(area, text, None) for area, text in command_help_texts()]
    return found


def command_help_texts() -> list[tuple[str, str]]:
    """Help of every command, group and option, as click holds it (cleaned docstrings included),
    with the catalog of the module that defines the command."""
    import inspect

    import click

    from riskplan.cli import main

    texts: list[tuple[str, str]] = []

    def walk(command: click.Command) -> None:
        module = getattr(command.callback, "__module__", "riskplan.cli.base") or "riskplan.cli.base"
        area = module.removeprefix("riskplan.").replace(".", "_")
        for text in (command.help, command.short_help, command.epilog):
            if text:
                texts.append((area, inspect.cleandoc(text)))
        for param in command.params:
            if getattr(param, "help", None):
                owner = "cli_base" if param.name == "lang" else area
                texts.append((owner, inspect.cleandoc(param.help)))
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                walk(sub)

    walk(main)
    return texts


#: Areas holding a library's own words: the installed version may use fewer or other words than
#: the one a user has (click adds and drops some between releases), so their entries are kept.
OTHER_VERSIONS = {"click"}


def messages_by_area() -> dict[str, dict[tuple[str, str | None], str | tuple[str, str]]]:
    areas: dict[str, dict] = {}
    seen: set[tuple[str, str | None]] = set()
    for area, msg, context in extracted_messages():
        key = (msg if isinstance(msg, str) else msg[0], context)
        if key in seen:
            continue
        seen.add(key)
        areas.setdefault(area, {})[key] = msg
    return areas


def catalog_path(lang: str, area: str) -> Path:
    return LOCALE_DIR / CATALOG_DIRS[lang] / "LC_MESSAGES" / f"{area}.po"


def read_catalog(lang: str, area: str):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    path = catalog_path(lang, area)
    if not path.exists():
        return Catalog(locale=CATALOG_DIRS[lang], domain=area, project="riskplan", version="", charset="utf-8",
                       copyright_holder="the riskplan authors", fuzzy=False,
                       creation_date=FIXED_DATE, revision_date=FIXED_DATE,
                       header_comment=f"# riskplan messages, area {area!r}, {lang}.\n"
                                      "# Kept in step with the code by tools/catalogs.py update.")
    with path.open("rb") as handle:
        return read_po(handle, locale=CATALOG_DIRS[lang], domain=area)


def write_catalog(lang: str, area: str, catalog) -> None:
    from babel.messages.pofile import write_po

    path = catalog_path(lang, area)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True, ignore_obsolete=True,
                 include_previous=False, include_lineno=False)


def known_translations(lang: str) -> dict:
    """Every translation a language's catalogs hold now, by (msgid, context)."""
    from babel.messages.pofile import read_po

    found = {}
    for path in sorted((LOCALE_DIR / CATALOG_DIRS[lang] / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=CATALOG_DIRS[lang]):
                if message.id and message.string and not message.fuzzy:
                    key = (message.id if isinstance(message.id, str) else message.id[0], message.context)
                    found.setdefault(key, message.string)
    return found


def update(areas: list[str]) -> None:
    wanted = messages_by_area()
    known = {lang: known_translations(lang) for lang in LANGUAGES}  # a message moving between modules keeps its translation
    existing = {path.stem for lang in LANGUAGES for path in (LOCALE_DIR / CATALOG_DIRS[lang] / "LC_MESSAGES").glob("*.po")}
    for area in areas or sorted(set(wanted) | existing):
        for lang in LANGUAGES:
            catalog = read_catalog(lang, area)
            keep = wanted.get(area, {})
            for (msgid, context), msg in keep.items():
                if catalog.get(msgid, context=context) is None:
                    default = known[lang].get((msgid, context), "")
                    if not default and lang == "en":
                        default = msg if isinstance(msg, str) else (msg[0], msg[1])
                    catalog.add(msg, string=default, context=context)
            for message in list(catalog):
                if area in OTHER_VERSIONS:  # words of another version of the library stay
                    break
                if message.id and (message.id if isinstance(message.id, str) else message.id[0],
                                   message.context) not in keep:
                    catalog.delete(message.id, context=message.context)
            if area in wanted:
                write_catalog(lang, area, catalog)
            else:  # the module no longer shows any message
                catalog_path(lang, area).unlink(missing_ok=True)


def missing(areas: list[str]) -> list[str]:
    wanted = messages_by_area()
    lines = []
    for area in areas or sorted(wanted):
        for lang in LANGUAGES:
            catalog = read_catalog(lang, area)
            for (msgid, context), _msg in wanted.get(area, {}).items():
                entry = catalog.get(msgid, context=context)
                strings = [] if entry is None else ([entry.string] if isinstance(entry.string, str)
                                                    else list(entry.string))
                if entry is None or not all(strings) or entry.fuzzy:
                    lines.append(f"{lang} {area}: {msgid!r}")
    return lines


if __name__ == "__main__":
    command, *names = sys.argv[1:] or ["missing"]
    if command == "update":
        update(names)
    elif command == "missing":
        todo = missing(names)
        print("\n".join(todo) or "every message has both translations")
        sys.exit(1 if todo else 0)
    else:
        sys.exit(__doc__)
