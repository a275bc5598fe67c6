"""A Django test runner that records each test's outcome in a JSON file.

Django's own runner prints outcomes for people; scripts/orm.py needs them per test to
compare a run against MariaDB directly with a run through Strata. The file named by
STRATA_ORM_OUTCOMES gets {test id: outcome} where outcome is "ok", "error", "fail",
"skip", "expected failure" or "unexpected success", plus the first line of the error for
the tests that did not pass. Subtests fold into their test: any failing subtest fails it.
"""

import json
import os
import unittest

from django.test.runner import DiscoverRunner


def _first_line(err):
    """The exception's own message, which names the MySQL error when there is one."""
    exc = err[1]
    text = f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0][:300] if text else ""


class RecordingResult(unittest.TextTestResult):
    """A TextTestResult that also keeps every test's outcome."""

    outcomes = {}

    def _set(self, test, outcome, err=None):
        key = test.id()
        # A failing subtest wins over the parent's later "ok".
        if self.outcomes.get(key, ("ok",))[0] in ("error", "fail") and outcome == "ok":
            return
        self.outcomes[key] = (outcome, _first_line(err) if err else "")

    def addSuccess(self, test):
        super().addSuccess(test)
        self._set(test, "ok")

    def addError(self, test, err):
        super().addError(test, err)
        self._set(test, "error", err)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._set(test, "fail", err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._set(test, "skip")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._set(test, "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._set(test, "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._set(test, "fail" if failed else "error", err)

    def stopTestRun(self):
        super().stopTestRun()
        path = os.environ.get("STRATA_ORM_OUTCOMES")
        if path:
            with open(path, "w") as f:
                json.dump({k: list(v) for k, v in sorted(self.outcomes.items())}, f, indent=0)


class Runner(DiscoverRunner):
    """DiscoverRunner with RecordingResult (runs in one process: --parallel 1)."""

    def get_resultclass(self):
        return RecordingResult
