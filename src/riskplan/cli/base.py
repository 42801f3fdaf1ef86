"""The command group every command family registers on, and the bad-input guard they share."""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import sys
import unicodedata
from pathlib import Path

import click
import click.formatting
import click.types
import click.utils

from riskplan import __version__
from riskplan.i18n import LANGUAGES, N_, _, normalize_language, set_language, translate_click

translate_click()

EXIT_BAD_INPUT = 2

#: Where a Chinese sentence or clause ends (the short help stops at the first sentence).
_SENTENCE_END = "。！？"
_CLAUSE_END = "，；：、"
#: Punctuation that may not start a line: it hangs at the end of the line before.
_NO_LINE_START = "，。；：、！？）》」』”’"
#: Punctuation that may not end a line: it moves to the next with what it opens.
_NO_LINE_END = "（《「『“‘"
_TOKENS = re.compile(r"[\x21-\x7e]+|\s+|.", re.S)  # an ASCII word, a run of spaces, or one other character


def _cells(text: str) -> int:
    """Terminal columns `text` takes: Chinese characters (East Asian wide) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _is_wide(text: str) -> bool:
    return any(unicodedata.east_asian_width(c) in "WF" for c in text)


def _wrap_wide(text: str, width: int, first: str, rest: str) -> list[str]:
    """Lines of at most `width` columns (a closing mark may hang one column past), breaking
    between any two Chinese characters and between ASCII words, never inside a word."""
    lines: list[str] = []
    line, used = first, _cells(first)
    for token in _TOKENS.findall(text):
        if token.isspace():
            token = " "
            if used == _cells(line if lines else first) and line.strip() == "":
                continue
        size = _cells(token)
        opens = token in _NO_LINE_END and used + size + 2 > width
        if (used + size > width or opens) and line.strip() and token not in _NO_LINE_START and not token.isspace():
            lines.append(line.rstrip())
            line, used = rest, _cells(rest)
        if token.isspace() and line.strip() == "":
            continue
        line += token
        used += size
    if line.strip():
        lines.append(line.rstrip())
    return lines


_click_wrap_text = click.formatting.wrap_text


def wrap_text(text: str, width: int = 78, initial_indent: str = "", subsequent_indent: str = "",
              preserve_paragraphs: bool = False) -> str:
    """click's help wrapping, measured in terminal columns for Chinese text (click counts
    characters and breaks only at spaces, so a Chinese paragraph would run to twice the width)."""
    if not _is_wide(text):
        return _click_wrap_text(text, width, initial_indent, subsequent_indent, preserve_paragraphs)
    paragraphs = re.split(r"\n\s*\n", text.strip()) if preserve_paragraphs else [text]
    out = []
    for para in paragraphs:
        if para.lstrip().startswith("\b"):  # click's "do not rewrap" marker
            out.append("\n".join(line for line in para.splitlines()[1:]))
            continue
        joined = "".join(line.strip() if _is_wide(line) else " " + line.strip() for line in para.splitlines())
        out.append("\n".join(_wrap_wide(joined.strip(), width, initial_indent, subsequent_indent)))
    return "\n\n".join(out)


def short_help(text: str, limit: int) -> str:
    """The command-list line for a help text: click's own for English; for Chinese the first
    sentence, cut at a clause and then at `limit` columns (with "…"), counting two per character."""
    text = text.split("\n\n")[0].replace("\b", "").strip()
    if not _is_wide(text):
        return click.utils.make_default_short_help(text, limit)
    text = "".join(line.strip() for line in text.splitlines())
    for i, char in enumerate(text):
        if char in _SENTENCE_END:
            text = text[:i]
            break
    if _cells(text) <= limit:
        return text
    cut = ""
    for i, char in enumerate(text):
        if _cells(text[:i + 1]) > limit - 2:
            break
        if char in _CLAUSE_END:
            cut = text[:i]
    if cut and _cells(cut) >= limit // 2:
        return cut + "…"
    kept = ""
    for char in text:
        if _cells(kept + char) > limit - 2:
            break
        kept += char
    return kept + "…"


def term_len(text: str) -> int:
    """Columns of help text as the terminal shows it (click counts characters)."""
    return _cells(click.utils.strip_ansi(text))


#: click's words for a path argument, translated when shown (click translates them once, when
#: the command is defined, so `--lang` would not reach them); these are msgids of click.po.
_PATH_NAMES = ("file", "directory", "path")


def _path_name(self) -> str:
    kind = 0 if self.file_okay and not self.dir_okay else 1 if self.dir_okay and not self.file_okay else 2
    return _(_PATH_NAMES[kind])


_HELP_OPTION_TEXT = "Show this message and exit."  # click.po's msgid, click's --help
N_("required")  # click shows "[required]" through gettext without marking the word

click.formatting.wrap_text = wrap_text  # write_dl and write_text look it up in their module
click.formatting.term_len = term_len
click.types.Path.name = property(_path_name, lambda self, value: None)  # click's __init__ sets it


def reports_bad_input(func):
    """Turn the library's input errors into a clear message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from riskplan.domain.policy import PolicyError
        from riskplan.io import TableReadError
        from riskplan.load.district import DistrictError

        try:
            return func(*args, **kwargs)
        except (DistrictError, PolicyError, TableReadError, FileExistsError) as exc:
            click.echo(_("error: {message}").format(message=exc), err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


class ExistingFolder(click.Path):
    """An existing folder argument (a district, a plan, public files): a replace a crash cut
    short there is finished first (`riskplan.io.restore_interrupted`), so the folder is found again."""

    def __init__(self) -> None:
        super().__init__(exists=True, file_okay=False, path_type=Path)

    def convert(self, value, param, ctx):
        from riskplan.outputs import restore_interrupted

        with contextlib.suppress(OSError):  # a folder that cannot be restored is reported as missing
            restore_interrupted(value)
        return super().convert(value, param, ctx)


def _language_in(args: list[str]) -> str | None:
    """The `--lang` value among a command's arguments, wherever it stands (before or after --help)."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _choose_language(ctx, param, value):
    if value is None:
        return None
    try:
        set_language(normalize_language(value))
    except ValueError:
        raise click.BadParameter(_("choose one of: {choices}").format(choices=", ".join(LANGUAGES))) from None
    return value


def _lang_option() -> click.Option:
    return click.Option(["--lang"], metavar="zh|en", expose_value=False, is_eager=True, callback=_choose_language,
                        help=N_("language of messages and written files: zh (default) or en; "
                                "also RISKPLAN_LANG or the locale"))


class _Translated:
    """Help texts are written in English in the code and translated when shown, so one process can
    show help in either language; `--lang` is read before anything else, wherever it stands."""

    def _add_lang_option(self) -> None:
        if not any(p.name == "lang" for p in self.params):
            self.params.append(_lang_option())

    def parse_args(self, ctx, args):
        chosen = _language_in(list(args))
        if chosen is not None:
            with contextlib.suppress(ValueError):  # an unknown value is reported by the option itself
                set_language(chosen)
        return super().parse_args(ctx, args)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:  # click caches it with its help translated once: translate it each time it is asked for
            option.help = _(_HELP_OPTION_TEXT)
        return option

    def _translated_texts(self, ctx=None):
        saved = [(self, "help", self.help), (self, "short_help", self.short_help), (self, "epilog", self.epilog)]
        params = self.params + ([self.get_help_option(ctx)] if ctx is not None else [])
        saved += [(p, "help", getattr(p, "help", None)) for p in params if p is not None]
        for obj, attr, text in saved:
            if text:
                setattr(obj, attr, _(inspect.cleandoc(text)))
        return saved

    def get_help(self, ctx):
        saved = self._translated_texts(ctx)
        try:
            return super().get_help(ctx)
        finally:
            for obj, attr, text in saved:
                setattr(obj, attr, text)

    def get_short_help_str(self, limit: int = 45) -> str:
        saved = self._translated_texts()
        try:
            if self.short_help or not self.help:
                return super().get_short_help_str(limit)
            return short_help(self.help, limit)
        finally:
            for obj, attr, text in saved:
                setattr(obj, attr, text)


class TranslatedCommand(_Translated, click.Command):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._add_lang_option()


class TranslatedGroup(_Translated, click.Group):
    command_class = TranslatedCommand

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._add_lang_option()


TranslatedGroup.group_class = TranslatedGroup


@click.group(cls=TranslatedGroup)
@click.version_option(__version__, prog_name="riskplan", message=N_("%(prog)s, version %(version)s"),
                      help=N_("Show the version and exit."))  # click's own default is translated once, at import
def main() -> None:
    """Risk tiers and double-random inspection rosters for work-safety regulators."""
