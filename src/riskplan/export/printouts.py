"""Internal printouts (内部资料): what a squad leader hands each team for the quarter.

One A4 page set per squad or per inspector — each visit with its date, the partner(s), the
enterprise's name, subdistrict, address and contact (when the enterprise table has the extra
columns 地址, 联系人, 联系电话), the check items its hazards call for, and a signature line —
or a month calendar. Inspectors and enterprises are named, never shown as bare ids. These
pages hold visit dates and inspector names, so they are never written into a public folder.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from riskplan.domain.headers import canonical_headers, value_label
from riskplan.export.pages import html_lang, template_environment
from riskplan.export.publish import MANIFEST, check_items_for, long_date
from riskplan.i18n import N_, _, get_language, language
from riskplan.io import read_csv_text, read_table_text
from riskplan.load.district import District, DistrictError, Problem, load_district
from riskplan.outputs import atomic_output_dir, atomic_write_bytes, atomic_write_text, refuse_existing

BY = ("squad", "inspector", "month")
CONTACT_COLUMNS = ("address", "contact", "phone")
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


@dataclass
class Visit:
    day: datetime.date
    enterprise: str
    subdistrict: str
    address: str
    contact: str
    phone: str
    items: str
    basis: str
    team: list[str]  # inspector names


@dataclass
class Sheet:
    """One printout: a squad's or an inspector's visits, or a month's calendar."""

    stem: str
    title: str
    visits: list[Visit] = field(default_factory=list)
    owner: str = ""  # the inspector whose partners are shown (per-inspector sheets)
    weeks: list[list[tuple[datetime.date | None, list[Visit]]]] = field(default_factory=list)


def _extra_columns(district: District) -> pd.DataFrame:
    """Address and contact columns of the enterprises table when it has them (the loader keeps
    only the schema's columns)."""
    path = district.sources.get("enterprises")
    empty = pd.DataFrame({"enterprise_id": district.enterprises["enterprise_id"]})
    if path is None:
        return empty
    raw = read_table_text(path, district.sheets.get("enterprises") if hasattr(district, "sheets") else None)
    raw.columns = canonical_headers("enterprises", raw.columns)
    keep = [c for c in CONTACT_COLUMNS if c in raw.columns]
    if "enterprise_id" not in raw.columns or not keep:
        return empty
    return raw[["enterprise_id", *keep]].drop_duplicates("enterprise_id")


def _names(inspectors: pd.DataFrame) -> dict[str, str]:
    """Inspector id -> name as printed; a name two inspectors share gets the id after it."""
    counts = inspectors["name"].value_counts()
    return {i: (n if counts[n] == 1 else f"{n}（{i}）" if get_language() == "zh" else f"{n} ({i})")
            for i, n in zip(inspectors["inspector_id"], inspectors["name"])}


def visits_of(district: District, plan_dir: Path) -> tuple[list[tuple[Visit, list[str]]], dict[str, str]]:
    """Every placed visit with its team's ids, and the inspector names."""
    roster = read_csv_text(Path(plan_dir) / "roster.csv")
    ent = district.enterprises.set_index("enterprise_id")
    extra = _extra_columns(district).set_index("enterprise_id")
    names = _names(district.inspectors)
    out = []
    for row in roster.itertuples(index=False):
        if not row.date:
            continue
        ids = [i for i in str(row.inspectors).split(";") if i]
        e = ent.loc[row.enterprise_id]
        more = extra.loc[row.enterprise_id] if row.enterprise_id in extra.index else {}
        visit = Visit(day=datetime.date.fromisoformat(str(row.date)[:10]), enterprise=str(e["name"]),
                      subdistrict=str(e["subdistrict"]), address=str(more.get("address", "") or ""),
                      contact=str(more.get("contact", "") or ""), phone=str(more.get("phone", "") or ""),
                      items=check_items_for(e), basis=value_label("basis", str(row.basis)),
                      team=[names.get(i, i) for i in ids])
        out.append((visit, ids))
    out.sort(key=lambda v: (v[0].day, v[0].subdistrict, v[0].enterprise))
    return out, names


def _stem(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text).strip("_") or "page"


def sheets(district: District, plan_dir: Path, by: str, quarter: str) -> list[Sheet]:
    visits, names = visits_of(district, plan_dir)
    inspectors = district.inspectors
    if by == "squad":
        squad_of = dict(zip(inspectors["inspector_id"], inspectors["squad"]))
        out = []
        for squad in sorted(set(squad_of.values())):
            mine = [v for v, ids in visits if any(squad_of.get(i) == squad for i in ids)]
            if mine:
                out.append(Sheet(_stem(f"{squad}"), _("{squad}: visits in {quarter}").format(squad=squad,
                                                                                           quarter=quarter), mine))
        return out
    if by == "inspector":
        out = []
        for iid, squad in sorted(zip(inspectors["inspector_id"], inspectors["squad"]), key=lambda p: (p[1], p[0])):
            mine = [v for v, ids in visits if iid in ids]
            if mine:
                out.append(Sheet(_stem(f"{squad}_{names[iid]}"), _("{name} ({squad}): visits in {quarter}").format(
                    name=names[iid], squad=squad, quarter=quarter), mine, owner=names[iid]))
        return out
    months = sorted({(v.day.year, v.day.month) for v, _ids in visits})
    out = []
    for year, month in months:
        weeks = []
        for week in month_calendar.Calendar().monthdatescalendar(year, month):
            weeks.append([(d if d.month == month else None,
                           [v for v, _ids in visits if v.day == d] if d.month == month else []) for d in week])
        title = (_("Visits in {month}").format(month=f"{year}年{month}月" if get_language() == "zh"
                                               else datetime.date(year, month, 1).strftime("%B %Y")))
        out.append(Sheet(f"{year}-{month:02d}", title, weeks=weeks))
    return out


def render(sheet: Sheet, by: str, bureau: str) -> str:
    env = template_environment()
    env.filters["long_date"] = long_date
    return env.get_template("printout.html.j2").render(
        sheet=sheet, by=by, bureau=bureau, lang=html_lang(), weekdays=[_(w) for w in WEEKDAYS],
        partners=lambda v: [n for n in v.team if n != sheet.owner])


def _public_folder(path: Path) -> bool:
    """A folder publish wrote (its manifest or its notice): never a place for internal pages."""
    return path.is_dir() and ((path / MANIFEST).exists() or any(path.glob("spot_check_*.html")))


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def html_to_pdf(html: Path, pdf: Path, browser: str) -> None:
    """The page as the browser prints it (its @page size: A4), without the browser's header and footer."""
    profile = pdf.parent / f".{pdf.stem}-profile"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--no-pdf-header-footer",
           f"--print-to-pdf={pdf}", html.resolve().as_uri()]
    try:
        subprocess.run(cmd, capture_output=True, timeout=180, check=True)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def write_printouts(district_dir: Path, plan_dir: Path, by: str, out_dir: Path, *, pdf: bool = False,
                    force: bool = False, lang: str | None = None) -> list[Path]:
    """Write one A4 HTML page set (and its PDF with `pdf`, through the installed Chromium) per
    squad, inspector or month into `out_dir`. Refuses a public folder."""
    if by not in BY:
        raise ValueError(f"by must be one of {BY}")
    out_dir = Path(out_dir)
    with language(lang):
        if _public_folder(out_dir) or _public_folder(out_dir.parent):
            raise DistrictError([Problem(str(out_dir), _("is a public folder (publish wrote it): internal printouts "
                                                        "hold visit dates and inspector names and are never "
                                                        "written there"))])
        browser = chromium() if pdf else None
        if pdf and browser is None:
            raise DistrictError([Problem("--pdf", _("no Chromium is installed to print PDFs; the HTML pages print "
                                                    "on A4 from any browser"))])
        refuse_existing(out_dir, force, "folder", inputs=(district_dir, plan_dir))
        district = load_district(district_dir)
        import json

        quarter = json.loads((Path(plan_dir) / "plan.json").read_text(encoding="utf-8"))["quarter"]
        pages = sheets(district, plan_dir, by, quarter)
        bureau = district.policy.publish.issuing_bureau
        with atomic_output_dir(out_dir, force=force, inputs=(district_dir, plan_dir)) as staging:
            for sheet in pages:
                html = staging / f"{by}_{sheet.stem}.html"
                atomic_write_text(html, render(sheet, by, bureau))
                if browser is not None:
                    target = staging / f"{by}_{sheet.stem}.pdf"
                    html_to_pdf(html, target, browser)
                    atomic_write_bytes(target, target.read_bytes())
            names = sorted(p.name for p in staging.iterdir())
    return [out_dir / n for n in names]
