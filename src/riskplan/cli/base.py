"""The command group every command family registers on, and the bad-input guard they share."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from pathlib import Path

import click

from riskplan import __version__
from riskplan.i18n import LANGUAGES, N_, _, normalize_language, set_language, translate_click

translate_click()

EXIT_BAD_INPUT = 2


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

    def _translated_texts(self):
        saved = [(self, "help", self.help), (self, "short_help", self.short_help), (self, "epilog", self.epilog)]
        saved += [(p, "help", getattr(p, "help", None)) for p in self.params]
        for obj, attr, text in saved:
            if text:
                setattr(obj, attr, _(inspect.cleandoc(text)))
        return saved

    def get_help(self, ctx):
        saved = self._translated_texts()
        try:
            return super().get_help(ctx)
        finally:
            for obj, attr, text in saved:
                setattr(obj, attr, text)

    def get_short_help_str(self, limit: int = 45) -> str:
        saved = self._translated_texts()
        try:
            return super().get_short_help_str(limit)
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
@click.version_option(__version__, prog_name="riskplan", message=N_("%(prog)s, version %(version)s"))
def main() -> None:
    """Risk tiers and double-random inspection rosters for work-safety regulators."""
