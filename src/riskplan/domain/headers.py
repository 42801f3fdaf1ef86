"""The one alias table: how a bureau's Chinese headers and values map to riskplan's names.

Every table riskplan reads — a bureau's district tables and riskplan's own outputs read back —
goes through this module, so a column is known by its English name (`enterprise_id`), by the
header riskplan writes in Chinese (`统一社会信用代码`) and by the other headers bureaus commonly
use (`企业编号`); a value by its code (`medium`), its Chinese label (`中型`) and common variants.
Mixed English and Chinese in one file is fine. docs/excel.md lists the table for people.

The first Chinese name of a column is the header riskplan writes in Chinese; English output
uses the column's own name.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping

import pandas as pd

from riskplan.i18n import get_language

# ---------------------------------------------------------------------------- column headers

_ENTERPRISE_ID = ("统一社会信用代码", "社会信用代码", "信用代码", "企业编号", "单位编号", "企业代码")
_INSPECTOR_ID = ("执法人员编号", "工号", "执法证号", "人员编号")

#: The columns a planned and an unplaced visit share (roster.csv, unplaced.csv).
_VISIT_REQUEST: dict[str, tuple[str, ...]] = {
    "visit_id": ("检查编号",),
    "enterprise_id": _ENTERPRISE_ID,
    "enterprise_name": ("企业名称", "单位名称"),
    "subdistrict": ("所属街道", "街道"),
    "tier": ("风险等级",),
    "basis": ("检查类别", "检查依据"),
    "obligations": ("检查事由",),
    "window_start": ("最早日期", "窗口开始"),
    "window_end": ("最晚日期", "窗口结束"),
}

#: table -> column -> Chinese headers (the first is what riskplan writes).
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    # ---- a district's own tables (the input contract, riskplan.domain.schema)
    "enterprises": {
        "enterprise_id": _ENTERPRISE_ID,
        "name": ("企业名称", "单位名称", "生产经营单位名称"),
        "subdistrict": ("所属街道", "街道", "所属街道/园区", "街道/园区", "所属镇街"),
        "grid": ("所属网格", "网格"),
        "industry": ("行业", "所属行业", "行业类别"),
        "size_class": ("企业规模", "规模"),
        "employees": ("从业人数", "职工人数", "从业人员数"),
        "lat": ("纬度",),
        "lon": ("经度",),
        "hazchem": ("危化品经营类型", "涉危化品", "危险化学品"),
        "major_hazard_level": ("重大危险源等级", "重大危险源"),
        "dust_explosion": ("涉爆粉尘",),
        "molten_metal": ("高温熔融金属",),
        "confined_space": ("有限空间",),
        "standardization_grade": ("安全生产标准化等级", "标准化等级"),
        "address": ("地址", "企业地址", "经营地址"),
        "contact": ("联系人",),
        "phone": ("联系电话", "电话"),
    },
    "accidents": {
        "enterprise_id": _ENTERPRISE_ID,
        "date": ("事故日期", "发生日期", "日期"),
        "severity": ("事故等级", "等级"),
        "deaths": ("死亡人数",),
        "injuries": ("受伤人数",),
    },
    "inspections": {
        "enterprise_id": _ENTERPRISE_ID,
        "date": ("检查日期", "日期"),
        "inspectors": ("检查人员", "执法人员"),
        "hazards_found": ("发现隐患数", "隐患数"),
        "major_hazards_found": ("重大隐患数", "重大事故隐患数"),
        "penalized": ("是否处罚", "处罚"),
        "visit_id": ("检查编号",),
        "outcome": ("处理结果", "检查结果"),
    },
    "inspectors": {
        "inspector_id": _INSPECTOR_ID,
        "name": ("姓名",),
        "squad": ("所属中队", "中队"),
        "certified": ("是否持证", "执法证", "持证"),
        "qualifications": ("专业资质", "资质"),
        "home_subdistrict": ("所属街道", "街道"),
        "weekly_capacity": ("每周检查能力", "每周检查上限"),
    },
    "leave": {
        "inspector_id": _INSPECTOR_ID,
        "start": ("开始日期",),
        "end": ("结束日期",),
    },
    "conflicts": {
        "inspector_id": _INSPECTOR_ID,
        "enterprise_id": _ENTERPRISE_ID,
        "reason": ("回避原因", "原因"),
    },
    "pinned": {
        "enterprise_id": _ENTERPRISE_ID,
        "reason": ("指定原因", "原因"),
        "earliest": ("最早日期",),
        "latest": ("最晚日期",),
    },
    # ---- tables riskplan writes (and reads back): the tiers file, the plan folder, results
    "tiers": {
        "enterprise_id": _ENTERPRISE_ID,
        "name": ("企业名称", "单位名称"),
        "probability": ("风险概率", "概率"),
        "tier": ("风险等级", "等级"),
        "override": ("直接定为红色", "直接定红", "人工调整", "调整"),
        "reason_1": ("主要原因1", "原因1"),
        "reason_2": ("主要原因2", "原因2"),
        "reason_3": ("主要原因3", "原因3"),
    },
    # ---- analysis tables riskplan writes (riskplan.analysis: whatif, value)
    "whatif": {
        "scenario": ("情景",),
        "inspectors": ("持证执法人员数",),
        "capacity_scale": ("检查能力倍数",),
        "policy": ("政策文件",),
        "red_share": ("红色抽查比例",),
        "orange_share": ("橙色抽查比例",),
        "yellow_share": ("黄色抽查比例",),
        "blue_share": ("蓝色抽查比例",),
        "utilisation": ("人力利用率",),
        "travel": ("路程",),
        "balance": ("工作量均衡度",),
        "status": ("求解状态",),
        "tier": ("风险等级",),
        "mandatory_requested": ("强制检查应检数",),
        "mandatory_placed": ("强制检查已安排数",),
        "mandatory_coverage": ("强制检查覆盖率",),
        "shortfall": ("强制检查缺口",),
        "drawn_requested": ("抽查应检数",),
        "drawn_placed": ("抽查已安排数",),
        "drawn_not_placed": ("抽查未安排数",),
    },
    "marginal": {
        "from_inspectors": ("原持证执法人员数",),
        "to_inspectors": ("增至持证执法人员数",),
        "mandatory_gained": ("强制检查增加数",),
        "visits_gained_per_inspector": ("每增一人增加检查数",),
    },
    "value": {
        "design": ("抽取方案",),
        "seed": ("随机种子",),
        "seeds": ("种子数",),
        "drawn_visits": ("抽查次数",),
        "drawn_events": ("抽查覆盖预期事件数",),
        "drawn_lo": ("抽查覆盖预期事件数5%分位",),
        "drawn_hi": ("抽查覆盖预期事件数95%分位",),
        "drawn_expected": ("抽查覆盖预期事件数期望值",),
        "drawn_per_100": ("每百次抽查覆盖预期事件数",),
        "drawn_ratio_to_uniform": ("抽查与等概率抽取之比",),
        "all_visits": ("全部检查次数",),
        "all_events": ("全部检查覆盖预期事件数",),
        "all_lo": ("全部检查覆盖预期事件数5%分位",),
        "all_hi": ("全部检查覆盖预期事件数95%分位",),
        "all_per_100": ("每百次检查覆盖预期事件数",),
        "all_ratio_to_uniform": ("全部检查与等概率抽取之比",),
        "min_inclusion_seen": ("最低入选概率",),
        "max_inclusion_seen": ("最高入选概率",),
        "at_floor": ("处于最低入选概率的比例",),
    },
    "roster": {
        **_VISIT_REQUEST,
        "date": ("检查日期", "日期"),
        "inspectors": ("执法人员", "检查人员"),
    },
    "inspector_schedule": {
        "inspector_id": _INSPECTOR_ID,
        "date": ("日期",),
        "on_leave": ("是否请假", "请假"),
        "visits": ("当日检查编号", "检查编号"),
    },
    "draw": {
        "enterprise_id": _ENTERPRISE_ID,
        "name": ("企业名称", "单位名称"),
        "subdistrict": ("所属街道", "街道"),
        "tier": ("风险等级",),
        "eligible": ("是否可抽取", "可抽取"),
        "why_not": ("不可抽取原因",),
        "inclusion_probability": ("入选概率",),
        "drawn": ("是否抽中", "抽中"),
    },
    "shortfall": {
        "rule": ("规则",),
        "tier": ("风险等级",),
        "subdistrict": ("所属街道", "街道"),
        "month": ("月份",),
        "missing": ("缺口",),
        "reason": ("原因",),
        "suggestion": ("建议",),
    },
    "unplaced": {
        **_VISIT_REQUEST,
        "reason": ("未安排原因", "原因"),
    },
    # ---- the province run (riskplan.province): the districts listing and the province summary
    "districts": {
        "folder": ("文件夹", "区县文件夹", "路径"),
        "name": ("区县", "区县名称", "名称"),
    },
    "province_summary": {
        "district": ("区县",),
        "seed": ("随机种子",),
        "state": ("状态",),
        "reason": ("说明",),
        "enterprises_red": ("红色企业数",),
        "enterprises_orange": ("橙色企业数",),
        "enterprises_yellow": ("黄色企业数",),
        "enterprises_blue": ("蓝色企业数",),
        "enterprises": ("企业总数",),
        "visits_requested": ("应安排检查数",),
        "visits_placed": ("已安排检查数",),
        "mandatory_requested": ("必查检查数",),
        "mandatory_placed": ("已安排必查数",),
        "mandatory_coverage": ("必查覆盖率",),
        "drawn_requested": ("随机抽查数",),
        "drawn_placed": ("已安排抽查数",),
        "missing_red_monthly": ("缺口：红色每月检查",),
        "missing_orange_due": ("缺口：橙色半年检查",),
        "missing_follow_up": ("缺口：隐患复查",),
        "missing_pinned": ("缺口：指定检查",),
        "missing_drawn": ("缺口：随机抽查",),
        "missing_total": ("缺口合计",),
        "inspector_visits": ("执法人次",),
        "capacity": ("执法能力（人次）",),
        "utilisation": ("执法力量利用率",),
        "solver_status": ("求解状态",),
        "certified_inspectors": ("持证执法人员数",),
        "whatif_levels": ("测算人员规模范围",),
        "minimal_staffing": ("满足全部要求的最少执法人员数",),
        "extra_inspector_mandatory": ("增加一名专业执法人员可多安排必查数",),
        "extra_inspector_visits": ("增加一名专业执法人员可多安排检查数",),
    },
    "results": {  # the quarter's results workbook (riskplan results-template) and a results.csv
        "visit_id": ("检查编号",),
        "enterprise_id": _ENTERPRISE_ID,
        "enterprise_name": ("企业名称", "单位名称"),
        "subdistrict": ("所属街道", "街道"),
        "planned_date": ("计划检查日期", "计划日期"),
        "team": ("计划执法人员", "执法人员"),
        "date": ("实际检查日期", "检查日期"),
        "outcome": ("检查结果", "处理结果"),
        "hazards_found": ("发现隐患数", "隐患数"),
        "major_hazards_found": ("重大隐患数", "重大事故隐患数"),
        "penalized": ("是否处罚", "处罚"),
        "substitute_inspectors": ("实际执法人员", "替换执法人员", "替补执法人员"),
    },
    # ---- the public files (publish, 一公开; verify-draw reads drawn, quotas and sampling_frame
    # back): the wording of the public page. public_results is the public results.csv, not the
    # bureau's results file above.
    "drawn": {
        "subdistrict": ("街道/园区", "所属街道", "街道"),
        "name": ("抽查对象名称", "企业名称", "单位名称"),
        "credit_code": _ENTERPRISE_ID,
        "tier": ("风险等级",),
        "check_items": ("抽查事项", "检查事项"),
        "task_name": ("任务名称",),
        "check_type": ("抽查类型",),
        "authority": ("检查实施机关",),
        "period": ("抽查时段",),
    },
    "quotas": {
        "tier": ("风险等级",),
        "subdistrict": ("街道/园区", "所属街道", "街道"),
        "eligible": ("可抽取企业数",),
        "sample_share": ("抽查比例",),
        "drawn": ("抽取数",),
    },
    "sampling_frame": {
        "tier": ("风险等级",),
        "subdistrict": ("街道/园区", "所属街道", "街道"),
        "enterprise_id": _ENTERPRISE_ID,
        "inclusion_probability": ("入选概率",),
    },
    "public_results": {
        "subdistrict": ("街道/园区", "所属街道", "街道"),
        "name": ("抽查对象名称", "企业名称", "单位名称"),
        "credit_code": _ENTERPRISE_ID,
        "check_date": ("检查日期",),
        "finding": ("检查发现",),
        "outcome": ("检查结果", "处理结果"),
        "task_name": ("任务名称",),
        "period": ("抽查时段",),
    },
    # ---- riskplan backtest (score/backtest.py)
    "backtest": {
        "scorer": ("评分方法",), "roc_auc": ("ROC曲线下面积",), "average_precision": ("平均精确率",),
        "capacity": ("每季度检查能力（家）",), "precision_at_capacity": ("检查能力内命中率",),
        "recall_at_capacity": ("检查能力内查全率",), "precision@5%": ("前5%命中率",), "recall@5%": ("前5%查全率",),
        "precision@20%": ("前20%命中率",), "brier": ("布里尔分数",),
    },
    "backtest_calibration": {
        "bin": ("十分位组",), "n": ("企业数",), "p_min": ("最低概率",), "p_max": ("最高概率",),
        "predicted": ("平均预测概率",), "observed": ("实际事件率",),
    },
    "backtest_tiers": {
        "scorer": ("评分方法",), "tier": ("风险等级",), "n": ("企业数",), "events": ("事件数",),
        "event_rate": ("实际事件率",), "mean_probability": ("平均预测概率",),
    },
    # ---- re-planning (#13): the changes table a bureau fills in (load/changes.py), the plan's
    # input snapshot, and the changes report replan writes (export/changes_report.py)
    "changes": {
        "change": ("变更类型", "变更事项", "类型"), "inspector_id": _INSPECTOR_ID, "enterprise_id": _ENTERPRISE_ID,
        "visit_id": ("检查编号",), "start": ("开始日期", "起始日期", "最早日期", "生效日期"),
        "end": ("结束日期", "截止日期", "最晚日期"), "capacity": ("每周检查能力", "新每周检查能力", "每周检查上限"),
        "reason": ("变更原因", "原因", "备注"), "source": ("来源",), "row": ("行号",),
    },
    "visit_changes": {
        "visit_id": ("检查编号",), "enterprise_id": _ENTERPRISE_ID, "enterprise_name": ("企业名称", "单位名称"),
        "subdistrict": ("所属街道", "街道"), "basis": ("检查类别", "检查依据"), "change": ("变更情况",),
        "old_date": ("原定日期",), "new_date": ("调整后日期", "新日期"), "old_inspectors": ("原执法人员",),
        "new_inspectors": ("调整后执法人员", "新执法人员"), "reason": ("变更原因", "原因"),
    },
    "notices": {"inspector_id": _INSPECTOR_ID, "inspector_name": ("姓名",), "visit_id": ("检查编号",),
                "change": ("变更情况",), "date": ("日期",), "notice": ("通知内容",)},
}

#: table -> the Chinese names a bureau gives its sheet or file (the first is what riskplan writes,
#: e.g. the sheets of `riskplan template`); the English table name is always accepted too.
TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "enterprises": ("企业", "企业名单", "企业清单", "企业信息", "生产经营单位", "生产经营单位名单", "检查对象名录"),
    "accidents": ("事故", "事故记录", "事故台账", "生产安全事故"),
    "inspections": ("检查记录", "执法检查记录", "检查台账", "历史检查"),
    "inspectors": ("执法人员", "执法人员名单", "检查人员", "执法检查人员名录"),
    "leave": ("请假", "请假记录", "休假"),
    "conflicts": ("回避", "回避关系", "回避名单"),
    "pinned": ("指定检查", "指定检查企业", "上级交办"),
    # riskplan's tiers file (read by `plan --tiers`)
    "tiers": ("风险等级", "风险分级", "分级结果"),
    # the changes table of `replan --changes` (riskplan changes-template writes the first)
    "changes": ("变更", "变更事项", "计划变更", "变更记录"),
}

#: Sheet names of instructions a workbook may carry (riskplan's template writes the first): never a table.
INSTRUCTION_SHEETS: tuple[str, ...] = ("说明", "填表说明", "使用说明", "填写说明", "instructions", "readme")


def table_names(table: str) -> tuple[str, ...]:
    """Every name a sheet or file of `table` may have: its English name, then its Chinese names."""
    return (table, *TABLE_NAMES.get(table, ()))


def table_of_name(name: str, tables: Iterable[str] | None = None) -> str | None:
    """The table a sheet or file stem names (`企业名单`, `Enterprises`), or None."""
    key = normalize_header(name)
    for table in (TABLE_NAMES if tables is None else tables):
        if any(normalize_header(n) == key for n in table_names(table)):
            return table
    return None


def is_instructions(sheet: str) -> bool:
    """Whether a sheet is an instructions sheet (ignored when tables are read)."""
    return normalize_header(sheet) in {normalize_header(n) for n in INSTRUCTION_SHEETS}


def display_table(table: str, lang: str | None = None) -> str:
    """The sheet name riskplan writes for `table`: its first Chinese name, or the table name in English."""
    lang = lang or get_language()
    chinese = TABLE_NAMES.get(table)
    return chinese[0] if lang == "zh" and chinese else table


#: Words a header may carry that say nothing about which column it is ("*" marks a required
#: column in many templates; units in brackets).
_HEADER_NOISE = re.compile(r"[*＊]|[（(][^)）]*[)）]$")


def normalize_header(text: str) -> str:
    """A header as compared: width-folded (full-width letters and brackets), case-folded,
    without spaces, required-markers or a trailing bracketed unit."""
    folded = unicodedata.normalize("NFKC", str(text)).strip()
    folded = _HEADER_NOISE.sub("", folded)
    return re.sub(r"\s+", "", folded).casefold()


def header_names(table: str) -> dict[str, str]:
    """Every accepted header of `table` (normalized) -> its column name."""
    names: dict[str, str] = {}
    for column, chinese in HEADERS.get(table, {}).items():
        for alias in (column, *chinese):
            names.setdefault(normalize_header(alias), column)
    return names


def canonical_header(table: str, header: str) -> str | None:
    """The column a header names in `table`, or None when it names none of its columns."""
    return header_names(table).get(normalize_header(header))


def canonical_headers(table: str, headers: Iterable[str]) -> list[str]:
    """Headers renamed to column names; a header that names no known column is kept as written."""
    names = header_names(table)
    return [names.get(normalize_header(h), h) for h in headers]


def display_header(table: str, column: str, lang: str | None = None) -> str:
    """The header riskplan writes for `column`: its first Chinese name, or the column name in English."""
    lang = lang or get_language()
    chinese = HEADERS.get(table, {}).get(column)
    return chinese[0] if lang == "zh" and chinese else column


def display_headers(table: str, columns: Iterable[str], lang: str | None = None) -> list[str]:
    return [display_header(table, c, lang) for c in columns]


def display_frame(table: str, frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A table riskplan writes, in the reader's language: headers by `display_header`, the
    values of each enumerated column (`COLUMN_VALUES`) by `value_label`; other cells unchanged.
    `canonical_frame` undoes it, so riskplan reads back what it wrote in either language."""
    lang = lang or get_language()
    out = frame.copy()
    for i, column in enumerate(out.columns):
        value_set = COLUMN_VALUES.get((table, column))
        if value_set is not None and not pd.api.types.is_numeric_dtype(out.iloc[:, i]):
            out.isetitem(i, out.iloc[:, i].map(
                lambda v, vs=value_set: value_label(vs, v, lang) if isinstance(v, str) and v else v))
    out.columns = display_headers(table, [str(c) for c in out.columns], lang)
    return out


def canonical_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """One of riskplan's tables as read (text cells, Chinese or English headers and values)
    with the column names and value codes the code works with; an unknown header or value is
    kept as written, for the caller's own check to name."""
    out = frame.copy()
    out.columns = canonical_headers(table, [str(c) for c in out.columns])
    for i, column in enumerate(out.columns):
        value_set = COLUMN_VALUES.get((table, column))
        if value_set is not None:
            names = value_names(value_set)
            out.isetitem(i, out.iloc[:, i].map(
                lambda v, n=names: n.get(normalize_header(v), v) if isinstance(v, str) and v else v))
    return out


# ---------------------------------------------------------------------------- values

#: value set -> code -> Chinese spellings bureaus use; the first is the word riskplan writes in
#: Chinese (English output writes the code).
VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "size_class": {"micro": ("微型", "微型企业"), "small": ("小型", "小型企业"),
                   "medium": ("中型", "中型企业"), "large": ("大型", "大型企业")},
    "hazchem": {"none": ("无", "不涉及", "否"), "produce": ("生产",), "use": ("使用",),
                "store": ("储存", "存储"), "trade": ("经营",)},
    "severity": {"minor": ("一般", "一般事故"), "serious": ("较大", "较大事故"),
                 "major": ("重大", "重大事故"), "extraordinary": ("特别重大", "特别重大事故")},
    "flag": {"1": ("是", "有", "涉及", "Y", "yes", "true"), "0": ("否", "无", "不涉及", "N", "no", "false")},
    "standardization_grade": {"0": ("无", "未达标", "未评级"), "1": ("一级",), "2": ("二级",), "3": ("三级",)},
    "major_hazard_level": {"0": ("无", "否", "不涉及"), "1": ("一级",), "2": ("二级",), "3": ("三级",),
                           "4": ("四级",)},
    "qualification": {"hazchem": ("危险化学品", "危化品", "危化"), "dust": ("粉尘防爆", "粉尘", "涉爆粉尘"),
                      "metallurgy": ("冶金",), "mining": ("矿山", "非煤矿山"), "fire": ("消防",),
                      "general": ("综合", "一般", "通用")},
    "tier": {"red": ("红", "红色", "重大风险"), "orange": ("橙", "橙色", "较大风险"),
             "yellow": ("黄", "黄色", "一般风险"), "blue": ("蓝", "蓝色", "低风险")},
    # ---- values riskplan writes in its own tables
    "yes_no": {"yes": ("是",), "no": ("否",)},
    "basis": {"mandatory": ("强制检查", "必查"), "follow_up": ("复查",), "pinned": ("指定检查",),
              "drawn": ("随机抽查", "抽查")},
    "design": {"uniform": ("等概率抽取",), "risk_weighted": ("按风险加权抽取",), "ceiling": ("记录可达上限",),
               "oracle": ("真实风险（理论最优）",), "baseline": ("百分制扣分基线",)},
    "rule": {"red_monthly": ("红色每月检查",), "orange_due": ("橙色半年检查",), "follow_up": ("隐患复查",),
             "pinned": ("指定检查",), "mandatory": ("其他强制检查",), "drawn": ("随机抽查",)},
    # why a shortfall row's visits found no place (solve.shortfall's categories, plan_files')
    "shortfall_reason": {"no working day": ("窗口内无工作日",), "capacity": ("执法力量不足",),
                         "qualification": ("缺少相应资质的持证执法人员",),
                         "cross_area": ("缺少外街道执法人员",), "leave": ("执法人员请假",),
                         "conflicts": ("回避",), "spacing": ("检查间隔",), "rotation": ("执法人员轮换",),
                         "beyond max_visits_per_quarter": ("超过每季度检查上限",)},
    # ---- a visit's result, in the categories provincial enforcement platforms use
    "outcome": {"no_problem": ("未发现问题", "无问题", "未发现隐患", "无隐患"),
                "rectify_ordered": ("发现问题责令整改", "责令整改", "责令限期整改", "限期整改"),
                "rectified_on_site": ("当场整改", "现场整改", "立即整改"),
                "case_filed": ("立案查处", "立案", "立案处罚"),
                "suspension_ordered": ("责令停产停业整顿", "停产停业整顿", "停产整顿"),
                "closed_or_not_found": ("企业已关闭或未找到", "企业已关闭", "已关闭", "未找到", "查无此企业"),
                "not_inspected": ("未检查", "未开展检查", "未检")},
    "scorer": {"model": ("风险模型",), "baseline": ("百分制扣分基线",), "recent_findings": ("最近一次检查发现",)},
    "district_state": {"done": ("完成",), "fallback": ("降级排程",), "check failed": ("校验未通过",),
                       "bad input": ("输入有误",), "crashed": ("运行出错",), "timed out": ("超时",)},
    # ---- re-planning (#13): what a row of the changes table says happened (the last four only
    # detection writes), and what happened to a visit
    "change_kind": {"leave": ("请假", "休假", "病假"), "leaves_bureau": ("调离", "离职", "调出", "退休"),
                    "capacity": ("检查能力调整", "调整检查能力", "能力调整"),
                    "enterprise_closed": ("企业关闭", "关闭", "注销", "已关闭"),
                    "enterprise_suspended": ("企业停产", "停产", "停业", "停产停业"),
                    "urgent_visit": ("紧急检查", "加急检查", "事故后检查"),
                    "pinned_visit": ("指定检查", "上级交办", "交办检查"),
                    "cancel_visit": ("取消检查", "取消"),
                    "conflict": ("新增回避", "回避"), "leave_cancelled": ("取消请假", "销假"),
                    "pinned_removed": ("撤销指定检查",), "table_changed": ("表格已修改",)},
    "visit_change": {"moved": ("改期",), "reteamed": ("调整人员",), "moved_reteamed": ("改期并调整人员",),
                     "dropped": ("取消",), "added": ("新增",)},
}

#: Which value set a table's column takes its values from.
COLUMN_VALUES: dict[tuple[str, str], str] = {
    ("enterprises", "size_class"): "size_class",
    ("enterprises", "hazchem"): "hazchem",
    ("enterprises", "major_hazard_level"): "major_hazard_level",
    ("enterprises", "dust_explosion"): "flag",
    ("enterprises", "molten_metal"): "flag",
    ("enterprises", "confined_space"): "flag",
    ("enterprises", "standardization_grade"): "standardization_grade",
    ("accidents", "severity"): "severity",
    ("inspections", "penalized"): "flag",
    ("inspectors", "certified"): "flag",
    ("inspectors", "qualifications"): "qualification",
    ("tiers", "tier"): "tier",
    ("roster", "tier"): "tier",
    ("roster", "basis"): "basis",
    ("unplaced", "tier"): "tier",
    ("unplaced", "basis"): "basis",
    ("draw", "tier"): "tier",
    ("draw", "eligible"): "yes_no",
    ("draw", "drawn"): "yes_no",
    ("inspector_schedule", "on_leave"): "yes_no",
    ("shortfall", "tier"): "tier",
    ("shortfall", "rule"): "rule",
    ("shortfall", "reason"): "shortfall_reason",
    ("results", "penalized"): "flag",
    ("whatif", "tier"): "tier",
    ("value", "design"): "design",
    ("results", "outcome"): "outcome",
    ("drawn", "tier"): "tier",
    ("quotas", "tier"): "tier",
    ("sampling_frame", "tier"): "tier",
    ("province_summary", "state"): "district_state",
    ("backtest", "scorer"): "scorer",
    ("backtest_tiers", "scorer"): "scorer",
    ("backtest_tiers", "tier"): "tier",
    ("changes", "change"): "change_kind",
    ("visit_changes", "basis"): "basis",
    ("visit_changes", "change"): "visit_change",
    ("notices", "change"): "visit_change",
}


def value_label(value_set: str, code: str, lang: str | None = None) -> str:
    """The word riskplan writes for a code (`tier`, `red` -> 红 in Chinese, `red` in English)."""
    lang = lang or get_language()
    chinese = VALUES.get(value_set, {}).get(code)
    return chinese[0] if lang == "zh" and chinese else code


def normalize_value(text: str) -> str:
    """A cell's value as compared: width-folded, stripped, case-folded (inner spaces are kept:
    `mic ro` is not `micro`)."""
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


@functools.cache
def value_names(value_set: str) -> dict[str, str]:
    """Every accepted spelling of a value set's codes (normalized) -> the code."""
    names: dict[str, str] = {}
    for code, chinese in VALUES.get(value_set, {}).items():
        for spelling in (code, *chinese):
            names.setdefault(normalize_value(spelling), code)
    return names


def canonical_value(value_set: str, text: str) -> str | None:
    """The code a cell's text names, or None when it names none (an error for the caller to report)."""
    return value_names(value_set).get(normalize_value(text))


def value_spellings(value_set: str, lang: str | None = None) -> list[str]:
    """The words riskplan offers for a value set (drop-down lists, error messages): the Chinese
    label of each code in Chinese, the codes in English."""
    return [value_label(value_set, code, lang) for code in VALUES.get(value_set, {})]


def with_column_names(mapping: Mapping[str, str], table: str) -> dict[str, str]:
    """`{header as written: column}` for the headers of `mapping` that name a column of `table`."""
    names = header_names(table)
    return {h: names[normalize_header(h)] for h in mapping if normalize_header(h) in names}
