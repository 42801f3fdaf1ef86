"""What is wrong with an input, said so that the cause comes first.

A `Problem` names the file, the sheet (for a workbook), the spreadsheet row (header = row 1),
the column (its riskplan name and the header as the user wrote it) and what is wrong. A
`DistrictError` lists them with the structural ones first (a table that cannot be read: a
missing or misspelt column, an empty table, duplicate ids), counts instead of lists the rows of
other tables that could not be checked because of them, and summarises a column with many
identical problems as its first rows and a count, so one typo never hides behind thousands of
follow-on lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from riskplan.i18n import _, ngettext

MAX_PROBLEMS_SHOWN = 50
#: Of many problems of one kind in one column, this many are listed before the count.
FIRST_OF_KIND = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input; `row` is the spreadsheet row (header = 1).

    `column` is riskplan's column name, `header` the header as the file writes it (when it
    differs), `kind` a key grouping problems of one sort (the English message template), and
    `cause` marks a structural problem: the table cannot be used, so it is reported first.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None
    header: str | None = None
    kind: str | None = field(default=None, compare=False)
    cause: bool = field(default=False, compare=False)

    def where(self, rows: str | None = None) -> str:
        """The place, as a clerk finds it: file, sheet, row, column."""
        text = self.file
        if self.sheet is not None:
            text = _("{file}, sheet {sheet}").format(file=text, sheet=self.sheet)
        if rows is not None:
            text = _("{place}, rows {rows}").format(place=text, rows=rows)
        elif self.row is not None:
            text = _("{place}, row {row}").format(place=text, row=self.row)
        if self.column is not None:
            if self.header and self.header != self.column:
                text = _("{place}, column '{column}' ({header})").format(place=text, column=self.column,
                                                                        header=self.header)
            else:
                text = _("{place}, column '{column}'").format(place=text, column=self.column)
        return text

    def __str__(self) -> str:
        return _("{place}: {message}").format(place=self.where(), message=self.message)


@dataclass(frozen=True)
class FollowOn:
    """Rows of other tables left unchecked because the table they refer to failed."""

    table_file: str
    rows: int
    files: tuple[str, ...]

    def __str__(self) -> str:
        return ngettext("… and {count} row of {files} that refers to {table}: checked once {table} is fixed",
                        "… and {count} rows of {files} that refer to {table}: checked once {table} is fixed",
                        self.rows).format(count=f"{self.rows:,}", files=", ".join(self.files),
                                          table=self.table_file)


def _row_span(rows: list[int]) -> str:
    return f"{rows[0]}–{rows[-1]}" if len(rows) > 1 else str(rows[0])


def summarised(problems: list[Problem]) -> list[str]:
    """Lines for people: of a run of problems of one kind in one column, the first
    `FIRST_OF_KIND` and a line counting the rest (with their row span)."""
    lines: list[str] = []
    i = 0
    while i < len(problems):
        p = problems[i]
        j = i + 1
        if p.kind is not None and p.row is not None:
            while (j < len(problems) and problems[j].kind == p.kind and problems[j].row is not None
                   and (problems[j].file, problems[j].sheet, problems[j].column) == (p.file, p.sheet, p.column)):
                j += 1
        run = problems[i:j]
        lines += [str(q) for q in run[:FIRST_OF_KIND]]
        rest = run[FIRST_OF_KIND:]
        if rest:
            rows = sorted(q.row for q in rest if q.row is not None)
            lines.append(_("{place}: {count} more cells with the same problem").format(
                place=rest[0].where(rows=_row_span(rows)), count=f"{len(rest):,}"))
        i = j
    return lines


def ordered(problems: list[Problem]) -> list[Problem]:
    """Causes first (in the order found: tables in their pipeline order), then the rest by
    file, sheet and row."""
    causes = [p for p in problems if p.cause]
    rest = sorted((p for p in problems if not p.cause), key=lambda p: (p.file, p.sheet or "", p.row or 0))
    return causes + rest


class DistrictError(ValueError):
    """The input cannot be used; `problems` lists every reason found (causes first),
    `follow_ons` the rows of other tables that could not be checked because of a cause."""

    def __init__(self, problems: list[Problem], follow_ons: list[FollowOn] | None = None):
        self.problems = ordered(problems)
        self.follow_ons = list(follow_ons or [])
        super().__init__(self.render())

    def render(self) -> str:
        """The message, in the current language: the count, then the causes, then the rest."""
        causes = [p for p in self.problems if p.cause]
        rest = [p for p in self.problems if not p.cause]
        n = len(self.problems)
        lines = [ngettext("{count} problem in the district input.", "{count} problems in the district input.",
                          n).format(count=f"{n:,}")]
        if causes:
            lines.append(ngettext("The cause, to fix first:", "The causes, to fix first:", len(causes)))
            lines += summarised(causes)
            lines += [str(f) for f in self.follow_ons]
            if rest:
                lines.append(_("Other problems:"))
        lines += summarised(rest)
        if not causes:
            lines += [str(f) for f in self.follow_ons]
        shown = lines[:MAX_PROBLEMS_SHOWN + 1]
        if len(lines) > MAX_PROBLEMS_SHOWN + 1:
            shown.append(_("… and {count} more lines").format(count=f"{len(lines) - MAX_PROBLEMS_SHOWN - 1:,}"))
        return "\n".join(shown)

    def __str__(self) -> str:
        return self.render()  # the language at display time, not at raise time
