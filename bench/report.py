"""Bench results: figures with their reference and bar, printed and written as Markdown."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Figure:
    """One measured figure: the value, what it is compared to, and whether the bar was met."""

    bench: str  # "1 webhook intake"
    name: str  # "accepted/s"
    setting: str  # "gunicorn 2 workers, PostgreSQL"
    value: str
    reference: str = ""  # measured in the same run
    bar: str = ""
    met: bool | None = None  # None: no bar, or not measurable
    note: str = ""


@dataclass
class Results:
    """Every figure of a run, plus the machine it ran on."""

    machine: dict[str, str]
    started: str = field(default_factory=lambda: dt.datetime.now(dt.UTC)
                         .strftime("%Y-%m-%d %H:%M UTC"))
    figures: list[Figure] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, figure: Figure) -> None:
        """Record and print one figure at once (a long run shows progress)."""
        self.figures.append(figure)
        verdict = {True: "met", False: "NOT met", None: "-"}[figure.met]
        print(f"  [{figure.bench}] {figure.name} ({figure.setting}): {figure.value}"
              f"{'  | ref ' + figure.reference if figure.reference else ''}"
              f"{'  | bar ' + figure.bar + ': ' + verdict if figure.bar else ''}", flush=True)

    def markdown(self) -> str:
        """The results table with its header (machine, date, totals)."""
        out = [f"# Bench results ({self.started})", "",
               "Machine: " + "; ".join(f"{k} {v}" for k, v in self.machine.items()),
               f"Wall time of the whole run: {self.seconds / 60:.1f} min", "",
               "| # | figure | setting | value | reference (same run) | bar | met |",
               "|---|---|---|---|---|---|---|"]
        for f in self.figures:
            verdict = {True: "**met**", False: "**not met**", None: "—"}[f.met]
            if f.met is None and f.bar:
                verdict = "not measured"
            out.append(f"| {f.bench} | {f.name} | {f.setting} | {f.value} | {f.reference} "
                       f"| {f.bar} | {verdict} |")
        notes = [f for f in self.figures if f.note]
        if notes:
            out += ["", "Notes:", ""]
            out += [f"- {f.bench} {f.name} ({f.setting}): {f.note}" for f in notes]
        met = sum(1 for f in self.figures if f.bar and f.met)
        barred = sum(1 for f in self.figures if f.bar)
        out += ["", f"Bars met: {met} of {barred}.", ""]
        return "\n".join(out)

    def write(self, folder: Path) -> Path:
        """Write latest.md and latest.json into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "latest.json").write_text(json.dumps(
            {"machine": self.machine, "started": self.started, "seconds": self.seconds,
             "figures": [asdict(f) for f in self.figures]}, indent=1))
        path = folder / "latest.md"
        path.write_text(self.markdown())
        return path
