"""Without chromium the browser tests skip, unless STOCKROOM_REQUIRE_E2E=1 (CI): then they fail."""
import os
import subprocess
import sys


def _run_without_chromium(repo_root, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "STOCKROOM_CHROMIUM": "/nonexistent/chromium", **env}
    environment.pop("STOCKROOM_REQUIRE_E2E", None) if "STOCKROOM_REQUIRE_E2E" not in env \
        else None
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/e2e/test_dashboard.py::test_keyboard_only_sign_in"],
        cwd=repo_root, env=environment, capture_output=True, text=True, timeout=120)


def test_missing_chromium_skips_by_default(repo_root):
    result = _run_without_chromium(repo_root)
    assert result.returncode == 0 and "1 skipped" in result.stdout, result.stdout


def test_missing_chromium_fails_when_required(repo_root):
    result = _run_without_chromium(repo_root, STOCKROOM_REQUIRE_E2E="1")
    assert result.returncode != 0 and "chromium not found" in result.stdout, result.stdout
