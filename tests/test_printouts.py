"""Internal printouts (`riskplan print`): per squad and per inspector, names never bare ids,
address and contact when the enterprise table has them, marked internal, refused into a public
folder; rendered in headless Chromium on A4 without console errors."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from test_report_browser import ARTIFACTS, CHROMIUM, render

from riskplan.cli import main
from riskplan.export.printouts import write_printouts
from riskplan.export.publish import publish
from riskplan.pipeline import run_plan

A4 = (595.3, 841.9)  # points


def with_contacts(district):
    path = district.path / "enterprises.csv"
    ent = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    ent["地址"] = [f"工业路{i + 1}号" for i in range(len(ent))]
    ent["联系人"] = [f"联系人{i + 1}" for i in range(len(ent))]
    ent["联系电话"] = [f"1380000{i:04d}" for i in range(len(ent))]
    ent.to_csv(path, index=False)
    return ent


def planned(tiny_district, tmp_path):
    district = tiny_district()
    ent = with_contacts(district)
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", 5, district.tiers_csv, out_dir=out, time_limit=10)
    return district, out, ent


def test_per_inspector_pages_name_partners_and_show_contacts(tiny_district, tmp_path):
    district, out, ent = planned(tiny_district, tmp_path)
    inspectors = district.load().inspectors
    roster = pd.read_csv(out / "roster.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    pages = write_printouts(district.path, out, "inspector", tmp_path / "print", lang="zh")
    first = roster.iloc[0]
    team = first["inspectors"].split(";")
    name = dict(zip(inspectors["inspector_id"], inspectors["name"]))
    html = next(h for h in (p.read_text(encoding="utf-8") for p in pages)
                if re.search(rf"<h1>{re.escape(name[team[0]])}（", h))
    assert "内部资料" in html and "执法人员签字" in html
    assert name[team[1]] in html  # the partner, by name
    row = ent.set_index("enterprise_id").loc[first["enterprise_id"]]
    assert row["地址"] in html and row["联系电话"] in html and row["name"] in html
    for iid in inspectors["inspector_id"]:  # never a bare id
        assert not re.search(rf">{re.escape(iid)}<|[、>]{re.escape(iid)}[、<]", html), iid
    d = pd.Timestamp(first["date"]).date()
    assert f"{d.year}年{d.month}月{d.day}日" in html
    squads = write_printouts(district.path, out, "squad", tmp_path / "squads", lang="zh")
    assert len(squads) == len(set(inspectors["squad"]) & {s for s in inspectors["squad"]})
    months = write_printouts(district.path, out, "month", tmp_path / "months", lang="zh")
    assert {p.name for p in months} <= {"month_2027-01.html", "month_2027-02.html", "month_2027-03.html"}


def test_refused_into_a_public_folder(tiny_district, tmp_path):
    district, out, _ent = planned(tiny_district, tmp_path)
    public = tmp_path / "public"
    publish(district.path, out, "plan", public)
    for target in (public, public / "print"):
        r = CliRunner().invoke(main, ["--lang", "en", "print", str(district.path), str(out), "--by", "squad",
                                      "--out", str(target), "--force"])
        assert r.exit_code == 2 and "public folder" in r.stderr, r.output
    assert not (public / "print").exists()


def media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)]


def check_pages(pages, tmp_path, name):
    ARTIFACTS.mkdir(exist_ok=True)
    html = [p for p in pages if p.suffix == ".html"]
    log = render(html[0], ARTIFACTS / f"{name}.png", tmp_path / "profile")
    assert [line for line in log.splitlines() if ":CONSOLE" in line] == []
    for pdf in (p for p in pages if p.suffix == ".pdf"):
        boxes = media_boxes(pdf.read_bytes())
        assert boxes, pdf
        for w, h in boxes:
            assert (abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2) or (abs(w - A4[1]) < 2 and abs(h - A4[0]) < 2), (w, h)


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed")
def test_printouts_render_on_a4_in_chromium(tiny_district, tmp_path):
    district, out, _ent = planned(tiny_district, tmp_path)
    pages = write_printouts(district.path, out, "squad", tmp_path / "print", pdf=True, lang="zh")
    assert any(p.suffix == ".pdf" for p in pages)
    check_pages(pages, tmp_path, "printout-squad")


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed")
def test_printouts_of_a_generated_m_district(tmp_path):  # in the default suite: #15's done-when (~30 s)
    runner = CliRunner()
    assert runner.invoke(main, ["synth", "--size", "m", "--seed", "2", "--out", str(tmp_path / "M")]).exit_code == 0
    out = tmp_path / "plan"
    assert runner.invoke(main, ["plan", str(tmp_path / "M"), "--quarter", "2027Q1", "--seed", "3", "--time-limit",
                                "60", "--out", str(out)]).exit_code == 0
    assert runner.invoke(main, ["check", str(tmp_path / "M"), str(out)]).exit_code == 0
    for by in ("squad", "inspector"):
        pages = write_printouts(tmp_path / "M", out, by, tmp_path / by, pdf=(by == "squad"), lang="zh")
        assert len([p for p in pages if p.suffix == ".html"]) >= 3
        check_pages(pages, tmp_path, f"printout-M-{by}")
