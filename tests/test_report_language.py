"""The report in the reader's language: Chinese by default, English with --lang en.

Every heading, table header, sentence and chart label comes from the catalogs; tier names are
红/橙/黄/蓝; subdistrict and enterprise names appear as the data spells them. The charts'
Chinese must render in a real CJK font (no "Glyph missing" box), and without one the report
says so once, in Chinese.
"""

import re
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import QUARTER, default_enterprises, default_inspectors
from conftest import visible_text

import riskplan.export.report as report
from riskplan import i18n
from riskplan.export.report import build_report, report_font, report_style, tier_mix_figure, write_report
from riskplan.pipeline import run_plan

CJK = re.compile(r"[\u3400-\u9fff]")
SUBDISTRICTS = {"A": "南门街道", "B": "西门街道"}
#: ASCII words a Chinese page may show: the program's name, codes and units, not sentences.
ALLOWED_ASCII = {"riskplan", "ISO", "SHA"}


@pytest.fixture(scope="module")
def chinese_plan(tmp_path_factory):
    """The tiny district with Chinese subdistrict and enterprise names, planned."""
    from conftest import make_tiny_district

    root = tmp_path_factory.mktemp("zh")
    enterprises = [{**row, "subdistrict": SUBDISTRICTS[row.get("subdistrict", "A")],
                    "name": f"海曙{row['enterprise_id']}精密机械有限公司"} for row in default_enterprises()]
    given = "伟娜强洋静帆磊敏杰昊"  # the report names inspectors: Chinese names, as a bureau's are
    inspectors = [{**row, "name": "张李王刘陈"[i // 10 % 5] + given[i % 10],
                   **({"home_subdistrict": SUBDISTRICTS[row["home_subdistrict"]]}
                      if row.get("home_subdistrict") else {})} for i, row in enumerate(default_inspectors())]
    district = make_tiny_district(root / "district", enterprises=enterprises, inspectors=inspectors)
    out = root / "out"
    with i18n.language("en"):
        run_plan(district.path, QUARTER, 3, district.tiers_csv, out_dir=out, time_limit=10)
    return district, out


def english_words(text: str) -> list[str]:
    """Runs of ASCII letters that are words, not ids or codes (I01, 2027Q1, W3, PNG)."""
    words = re.findall(r"(?<![\w.])[A-Za-z][A-Za-z'-]+(?![\w.])", text)
    return [w for w in words if w not in ALLOWED_ASCII and not w.isupper()]


def chart_texts(monkeypatch) -> list[list[str]]:
    """Collect every text drawn on each figure of the report (titles, ticks, axes, legends)."""
    from matplotlib.text import Text

    seen: list[list[str]] = []
    original = report._png

    def recording(fig):
        png = original(fig)  # drawn: tick labels are set
        seen.append([t.get_text() for t in fig.findobj(Text) if t.get_text().strip()])
        return png

    monkeypatch.setattr(report, "_png", recording)
    return seen


def test_report_is_chinese_by_default_without_an_english_sentence(chinese, chinese_plan, monkeypatch):
    district, out = chinese_plan
    figures = chart_texts(monkeypatch)
    html = build_report(district.path, out)
    assert '<html lang="zh-CN">' in html
    text = visible_text(html)
    for words in ("2027Q1 执法检查计划报告", "各街道风险等级构成", "各风险等级、检查类别的检查次数", "任务量最多的执法人员",
                  "随机种子", "求解状态", "南门街道", "西门街道", "合计", "强制检查", "随机抽查", "红", "蓝"):
        assert words in text, words
    assert english_words(text) == [], english_words(text)
    alts = re.findall(r'alt="([^"]*)"', html)
    assert len(alts) >= 4 and all(CJK.search(a) for a in alts), alts
    assert len(figures) >= 4
    labels = [t for fig in figures for t in fig]
    for words in ("红", "橙", "黄", "蓝", "企业占比", "经度", "纬度", "周一", "检查次数", "南门街道"):
        assert any(words in t for t in labels), words
    leaked = [w for t in labels for w in english_words(t)]
    assert leaked == [], leaked


def test_report_in_english_on_request(chinese_plan, monkeypatch):
    district, out = chinese_plan
    figures = chart_texts(monkeypatch)
    html = build_report(district.path, out, lang="en")
    assert '<html lang="en">' in html
    text = visible_text(html)
    for words in ("Inspection roster report, 2027Q1", "Tier mix by subdistrict", "Busiest inspectors", "mandatory",
                  "red", "total"):
        assert words in text, words
    data_names = ("".join(SUBDISTRICTS.values()) + "海曙精密机械有限公司"
                  + "".join(district.load().inspectors["name"]))  # names as the data spells them
    assert not CJK.search(text.translate({ord(c): None for c in data_names})), text
    labels = [t for fig in figures for t in fig]
    assert "share of enterprises" in labels and "Mon" in labels
    assert not any(CJK.search(t.translate({ord(c): None for c in data_names})) for t in labels), labels


def test_report_command_follows_lang(chinese, chinese_plan, tmp_path):
    from riskplan.cli import main

    district, out = chinese_plan
    runner = CliRunner()
    done = runner.invoke(main, ["report", str(district.path), str(out), "--out", str(tmp_path / "zh.html")])
    assert done.exit_code == 0, done.output
    assert "执法检查计划报告" in (tmp_path / "zh.html").read_text(encoding="utf-8")
    done = runner.invoke(main, ["report", str(district.path), str(out), "--lang", "en", "--out",
                                str(tmp_path / "en.html")])
    assert done.exit_code == 0, done.output
    english = (tmp_path / "en.html").read_text(encoding="utf-8")
    assert "Inspection roster report" in english and "执法检查计划报告" not in english


def _chinese_chart_png() -> bytes:
    frame = pd.DataFrame({"subdistrict": ["南门街道", "西门街道", "梅园街道"] * 4,
                          "tier": ["red", "orange", "yellow", "blue"] * 3})
    with i18n.language("zh"):
        return tier_mix_figure(frame).png_base64


@pytest.mark.skipif(report_font() is None, reason="no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
def test_chinese_chart_labels_have_every_glyph():
    with report_style() as font, warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing from font")
        assert font in report.CJK_FONTS
        assert len(_chinese_chart_png()) > 1000


def test_a_latin_only_font_would_miss_the_glyphs():
    """The twin of the glyph test: the check it relies on does fail without a CJK font."""
    with plt.rc_context({"font.family": ["DejaVu Sans"]}), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _chinese_chart_png()
    assert any("missing from font" in str(w.message) for w in caught)


def test_no_cjk_font_warns_once_in_chinese(chinese, chinese_plan, monkeypatch, tmp_path):
    from riskplan.cli import main

    district, out = chinese_plan
    monkeypatch.setattr(report, "report_font", lambda: None)
    monkeypatch.setattr(report, "_warned_no_cjk", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_report(district.path, out)
        build_report(district.path, out)
    mine = [str(w.message) for w in caught if "fonts-noto-cjk" in str(w.message)]
    assert len(mine) == 1 and "中文字体" in mine[0]
    assert not [w for w in caught if "missing from font" in str(w.message)]  # one warning, not one per glyph
    monkeypatch.setattr(report, "_warned_no_cjk", False)
    done = CliRunner().invoke(main, ["report", str(district.path), str(out), "--out", str(tmp_path / "r.html")])
    assert done.exit_code == 0 and "警告：本机未安装中文字体" in done.output


def test_the_font_is_set_for_the_report_only(chinese_plan, tmp_path):
    district, out = chinese_plan
    before = list(plt.rcParams["font.family"])
    write_report(district.path, out, tmp_path / "r.html")
    assert list(plt.rcParams["font.family"]) == before
