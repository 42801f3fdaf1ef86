"""README.zh-CN.md, the README for a bureau's staff: its commands are real and its quick start
is the README's own, and every local link leads to a file."""

import re
import shlex
from pathlib import Path

import click
import pytest

from riskplan.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_ZH = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
CJK = re.compile(r"[\u3400-\u9fff]")


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def command_lines(text: str) -> list[str]:
    """Each `riskplan …` command of the bash blocks (a `&&` chain gives each part)."""
    lines = []
    for block in bash_blocks(text):
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("riskplan "):
                    lines.append(part)
    return lines


def parse(line: str) -> tuple[click.Command, dict, list[str]]:
    """The command and the options and arguments click's parser makes of one line."""
    words = shlex.split(line, comments=True)
    command = main.commands[words[1]]
    ctx = click.Context(command, info_name=words[1])
    opts, extra, _order = command.make_parser(ctx).parse_args(words[2:])
    return command, opts, extra


def test_quick_start_is_the_readmes():
    quick = README[README.index("## Quick start"):README.index("## A quarter with riskplan")]
    for block in bash_blocks(quick):
        assert block in README_ZH
    workflow = README[README.index("## A quarter with riskplan"):README.index("## The pipeline")]
    ours = [shlex.split(line, comments=True) for line in command_lines(README_ZH)]
    for line in command_lines(workflow):  # the same commands; the comments are in Chinese
        assert shlex.split(line, comments=True) in ours, line


@pytest.mark.parametrize("line", command_lines(README_ZH))
def test_every_command_parses(line):
    command, opts, extra = parse(line)
    assert extra == [], f"{line}: arguments left over: {extra}"
    for param in command.params:
        if param.required:  # the parser leaves a sentinel (click 8.2) or nothing for what is not given
            given = opts.get(param.name)
            assert isinstance(given, (str, tuple, list, bool)), f"{line}: {param.name} is missing"


@pytest.mark.parametrize("line", ["riskplan plan data/sample --quartre 2027Q1 --out plan/",
                                  "riskplan check data/sample",
                                  "riskplan report data/sample plan/ report.html"])
def test_a_wrong_command_would_be_caught(line):
    with pytest.raises((click.UsageError, AssertionError)):
        test_every_command_parses(line)


def test_readme_zh_is_chinese_and_linked_from_the_readme():
    assert "(README.zh-CN.md)" in README.splitlines()[2]
    prose = re.sub(r"```.*?```", "", README_ZH, flags=re.S)
    assert len(CJK.findall(prose)) > 1500
    for heading in ("## 安装", "## 快速上手", "## 一个季度的工作流程", "## 输入文件和可用的中文表头", "## 求助"):
        assert heading in README_ZH, heading
    assert len(command_lines(README_ZH)) >= 12


def test_local_links_lead_to_files():
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README_ZH):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
