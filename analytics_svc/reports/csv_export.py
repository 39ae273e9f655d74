"""Reports as CSV: one section per table, each a line with the table's name, the header
and the rows, sections separated by a blank line. Empty values stay empty cells."""

from __future__ import annotations

import csv
import io

from analytics_svc.figures import Report


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for index, table in enumerate(report.tables):
        if index:
            out.write("\n")
        writer.writerow([f"# {table.name}"])
        writer.writerow(table.columns)
        writer.writerows([_cell(v) for v in row] for row in table.rows)
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    return value


def parse(text: str) -> dict[str, list[list[str]]]:
    """The reverse of render, for clients and tests: {table name: [header, *rows]}."""
    sections: dict[str, list[list[str]]] = {}
    for block in text.split("\n\n"):
        rows = list(csv.reader(io.StringIO(block)))
        if rows:
            sections[rows[0][0].removeprefix("# ")] = rows[1:]
    return sections
