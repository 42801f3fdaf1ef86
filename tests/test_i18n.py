"""Chinese first, English on request, through gettext catalogs that are complete in both languages.

The catalog checks read the code the way `tools/catalogs.py` does (Babel's extractor over the
source and templates, click's own words, and every command's help at run time), so a message
added without a translation, a translation the code no longer uses, or a translation that drops
or invents a `{field}` fails here.
"""

from __future__ import annotations

import importlib.util
import re
import string
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskplan import i18n
from riskplan.cli import main

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("catalogs", ROOT / "tools" / "catalogs.py")
catalogs = importlib.util.module_from_spec(_spec)
sys.modules["catalogs"] = catalogs
_spec.loader.exec_module(catalogs)

CJK = re.compile(r"[\u3400-\u9fff]")


def _fields(text: str) -> set[str]:
    brace = {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    percent = set(re.findall(r"%\((\w+)\)[sdrif]", text))
    return brace | percent


@pytest.fixture(scope="module")
def wanted():
    return catalogs.messages_by_area()


def test_every_message_has_both_translations(wanted):
    todo = catalogs.missing([])
    assert not todo, f"{len(todo)} message(s) without a translation (python tools/catalogs.py update, " \
                     "then write them):\n" + "\n".join(todo[:40])


def test_no_catalog_holds_a_message_the_code_does_not_use(wanted):
    stale = []
    for lang in i18n.LANGUAGES:
        for path in i18n.catalog_files(lang):
            area = path.stem
            if area in catalogs.OTHER_VERSIONS:  # words of other click versions stay
                continue
            catalog = catalogs.read_catalog(lang, area)
            used = wanted.get(area, {})
            for message in catalog:
                key = (message.id if isinstance(message.id, str) else message.id[0], message.context)
                if message.id and key not in used:
                    stale.append(f"{lang} {area}: {key[0]!r}")
    assert not stale, "unused catalog entries (python tools/catalogs.py update):\n" + "\n".join(stale[:40])


def test_translations_keep_every_field_and_chinese_is_chinese(wanted):
    wrong = []
    for lang in i18n.LANGUAGES:
        for area in wanted:
            for message in catalogs.read_catalog(lang, area):
                if not message.id or not message.string:
                    continue
                ids = [message.id] if isinstance(message.id, str) else list(message.id)
                strings = [message.string] if isinstance(message.string, str) else list(message.string)
                for i, text in enumerate(strings):
                    source = ids[min(i, len(ids) - 1)]  # plural form i against the msgid of that form
                    if text and _fields(text) != _fields(source):
                        wrong.append(f"{lang} {area}: {source!r} -> {text!r} (fields differ)")
                    words = re.sub(r"\{[^{}]*\}|%\(\w+\)[sdrif]", "", ids[0])  # a field's name is not English
                    if lang == "zh" and text and re.search("[A-Za-z]{3}", words) and not CJK.search(text):
                        wrong.append(f"zh {area}: {ids[0]!r} -> {text!r} (no Chinese)")
    assert not wrong, "\n".join(wrong[:40])


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, "zh"),
    ({"LANG": "C.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"RISKPLAN_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
    ({"RISKPLAN_LANG": "EN"}, "en"),
])
def test_language_from_the_environment(environ, expected):
    assert i18n.language_from_environment(environ) == expected


def test_an_unknown_language_is_refused_not_ignored():
    with pytest.raises(ValueError, match="fr"):
        i18n.language_from_environment({"RISKPLAN_LANG": "fr"})
    result = CliRunner().invoke(main, ["--lang", "fr", "--help"])
    assert result.exit_code == 2


def test_language_context_restores_the_previous_choice():
    i18n.set_language("en")
    with i18n.language("zh") as lang:
        assert lang == "zh" and i18n.get_language() == "zh"
    assert i18n.get_language() == "en"


def test_help_is_chinese_by_default_and_english_on_request(monkeypatch):
    for var in ("RISKPLAN_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    i18n.set_language(None)
    chinese = CliRunner().invoke(main, ["plan", "--help"])
    assert chinese.exit_code == 0
    assert CJK.search(chinese.output) and "Usage:" not in chinese.output
    english = CliRunner().invoke(main, ["plan", "--help", "--lang", "en"])  # after --help: still read first
    assert english.exit_code == 0
    assert "Usage:" in english.output and "roster" in english.output and not CJK.search(english.output)
    for lang, words in (("zh", "显示本帮助信息并退出"), ("en", "Show this message and exit."), ("zh", "显示本帮助信息并退出")):
        shown = CliRunner().invoke(main, ["check", "--help", "--lang", lang])  # click keeps its --help option
        help_line = [line for line in shown.output.splitlines() if line.strip().startswith("--help")]
        assert help_line and words in help_line[0], (lang, help_line)
