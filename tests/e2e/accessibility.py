"""axe-core in the browser tests: WCAG 2.1 A/AA rules run on the page as the merchant sees it.

axe-core is vendored from npm (tests/vendor/axe-core, vendor/npm_assets.py) and injected into
the page (or the app's frame inside the admin); a violation fails the test with the rule, its
help text and the offending elements, so the message says what to fix.
"""
from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
#: The rule sets Shopify's app review and WCAG 2.1 AA ask for.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(target, *, exclude: list[str] | None = None) -> list[dict]:
    """Run axe on ``target`` (a Playwright Page or Frame): the violations found."""
    if not target.evaluate("() => typeof window.axe !== 'undefined'"):
        target.add_script_tag(content=AXE.read_text())
    return target.evaluate(
        """async ([tags, exclude]) => {
             const context = exclude.length ? {exclude: exclude.map(s => [s])} : document;
             const result = await axe.run(context, {runOnly: {type: "tag", values: tags},
                                                    resultTypes: ["violations"]});
             return result.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary)
             }));
           }""", [TAGS, exclude or []])


def assert_accessible(target, where: str, *, exclude: list[str] | None = None) -> None:
    """No axe violation on ``target``; the failure lists each rule and its first elements."""
    violations = axe_violations(target, exclude=exclude)
    assert not violations, f"{where}: accessibility violations\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations)
