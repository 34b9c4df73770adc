"""`make bench`: every benchmark in order, then bench/results/latest.md (and .json).

    .venv/bin/python -m bench.run                # everything (about 10-14 minutes)
    .venv/bin/python -m bench.run dashboard      # only some: intake apply contention onboard onboard_bulk ...
    .venv/bin/python -m bench.run --update contention   # re-run some, keep the others' rows

Figures are printed as they come. Nothing here asserts a time: a bar not met is reported
as not met, and the run still exits 0 (exit 1 only when a bench crashed).
"""
from __future__ import annotations

import os
import sys
import time
import traceback

from bench.common import ROOT, machine, pg_available
from bench.report import Figure, Results

ORDER = ("dashboard", "intake", "apply", "contention", "inventory", "onboard", "onboard_bulk",
         "topology")


def main(argv: list[str]) -> int:
    """Run the chosen benches (all by default) and write the results."""
    chosen = [a for a in argv if a in ORDER] or list(ORDER)
    previous = _previous(chosen) if "--update" in argv else []
    started = time.monotonic()
    info = machine()
    info["load average at start"] = " ".join(open("/proc/loadavg").read().split()[:3])
    results = Results(info)
    backends = ("postgresql", "sqlite") if pg_available() else ("sqlite",)
    if "postgresql" not in backends:
        print("PostgreSQL does not answer on 127.0.0.1:5432: PostgreSQL figures are skipped",
              flush=True)
    rss: dict[str, int | None] = {}
    crashed = False
    for name in chosen:
        print(f"== {name}", flush=True)
        try:
            if name == "dashboard":
                from bench import dashboard
                dashboard.run(results, backends=backends, rss=rss,
                              n=int(os.environ.get("BENCH_N", "100")),
                              keep=os.environ.get("BENCH_KEEP") == "1")
            elif name == "intake":
                from bench import intake
                intake.run(results, backends=backends, rss=rss)
            elif name == "onboard":
                from bench import onboard_catalog
                onboard_catalog.run(results, backend=backends[0])
            elif name == "onboard_bulk":
                from bench import onboard_bulk
                onboard_bulk.run(results, backend=backends[0])
            elif "postgresql" not in backends:
                results.add(Figure(name, "-", "PostgreSQL", "not measured",
                                   note="needs PostgreSQL, which does not answer"))
            elif name == "apply":
                from bench import apply
                apply.run(results, rss=rss)
            elif name == "contention":
                from bench import contention
                contention.run(results, rss=rss)
            elif name == "inventory":
                from bench import inventory
                inventory.run(results)
            elif name == "topology":
                from bench import topology
                topology.run(results)
        except Exception:  # noqa: BLE001 - report the crash, go on with the other benches
            crashed = True
            traceback.print_exc()
            results.add(Figure(name, "crashed", "-", "not measured",
                               note=traceback.format_exc(limit=1).strip().splitlines()[-1]))
    if previous:  # the other benches' rows from the last full run, in their place
        results.figures = previous + results.figures
        info["note"] = f"re-ran {', '.join(chosen)}; other rows from {previous_started(chosen)}"
    if not previous:
        _memory(results, rss)
    info["load average at end"] = " ".join(open("/proc/loadavg").read().split()[:3])
    results.seconds = time.monotonic() - started
    path = results.write(ROOT / "bench" / "results")
    print()
    print(results.markdown())
    print(f"written: {path.relative_to(ROOT)}")
    return 1 if crashed else 0


def _previous(chosen: list[str]) -> list[Figure]:
    """Rows of latest.json from benches not chosen now (memory rows: kept as they were)."""
    import json

    path = ROOT / "bench" / "results" / "latest.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    numbers = {ORDER_NUMBERS[name] for name in chosen}
    return [Figure(**f) for f in data["figures"] if f["bench"].split()[0] not in numbers]


def previous_started(_chosen) -> str:
    """When the run the kept rows come from started."""
    import json

    return json.loads((ROOT / "bench" / "results" / "latest.json").read_text())["started"]


ORDER_NUMBERS = {"dashboard": "4", "intake": "1", "apply": "2", "contention": "5",
                 "inventory": "3", "onboard": "7"}


def _memory(results: Results, rss: dict) -> None:
    """Bench 6: the largest peak RSS seen per kind of process, next to each run's own."""
    for kind in ("web worker", "sync worker"):
        seen = {k: v for k, v in rss.items() if k.startswith(kind) and v}
        if not seen:
            continue
        worst = max(seen, key=seen.get)
        results.add(Figure(
            "6 memory", f"peak RSS of a {kind}", worst.split("(", 1)[1].rstrip(")"),
            f"{seen[worst] / 1024:.0f} MiB",
            "; ".join(f"{k.split('(', 1)[1].rstrip(')')}: {v / 1024:.0f} MiB"
                      for k, v in seen.items() if k != worst),
            note="VmHWM from /proc of each gunicorn worker / flask worker process just "
                 "before it stopped"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
