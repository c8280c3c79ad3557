"""Declared checks' results as text (terminal), JSON and JUnit XML (CI test reports).

JUnit: one <testsuite> per check, one <testcase> per case (a query, a threshold); a failed case
carries <failure message="..."> with its report lines as text. Written with the standard
library's ElementTree, so names and messages are escaped properly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from ocigen_iac.resources import CheckResult

INDENT = "    "


def check_dict(c: CheckResult) -> dict[str, Any]:
    """The JSON form (also what `apply --json` shows for each check)."""
    return {"name": c.name, "passed": c.passed, "summary": c.summary, **c.details}


def checks_json(results: list[CheckResult]) -> dict[str, Any]:
    return {"passed": all(c.passed for c in results), "checks": [check_dict(c) for c in results]}


def render_checks_text(results: list[CheckResult], *, only_failures: bool = False) -> str:
    """Each check: its cases (PASS/FAIL with their lines), then its summary line. With
    `only_failures` (after apply), passing checks get their summary line only."""
    out: list[str] = []
    for c in results:
        if not (only_failures and c.passed):
            for case in c.cases:
                out.append(f"  {'PASS' if case.passed else 'FAIL'}  {case.name}")
                out.extend(f"{INDENT}    {line}" for line in case.lines)
                if not case.passed and case.message and not case.lines:
                    out.append(f"{INDENT}    {case.message}")
        out.append(f"Check {'passed' if c.passed else 'FAILED'}: {c.name}: {c.summary}")
    return "\n".join(out)


def junit_xml(results: list[CheckResult], suite_name: str = "ocigen-iac check") -> str:
    root = ET.Element("testsuites", name=suite_name)
    total = failures = 0
    seconds = 0.0
    for c in results:
        cases = c.cases or []
        suite = ET.SubElement(root, "testsuite", name=c.name)
        failed = 0
        suite_seconds = 0.0
        for case in cases:
            el = ET.SubElement(suite, "testcase", classname=c.name, name=case.name, time=f"{case.seconds:.3f}")
            suite_seconds += case.seconds
            if not case.passed:
                failed += 1
                fail = ET.SubElement(el, "failure", message=case.message or "failed", type="CheckFailed")
                fail.text = "\n".join(case.lines) or case.message
            elif case.lines:
                ET.SubElement(el, "system-out").text = "\n".join(case.lines)
        if not cases:  # a check without cases is still one test
            el = ET.SubElement(suite, "testcase", classname=c.name, name=c.name, time="0.000")
            if not c.passed:
                failed += 1
                ET.SubElement(el, "failure", message=c.summary, type="CheckFailed").text = c.summary
        n = max(len(cases), 1)
        suite.set("tests", str(n))
        suite.set("failures", str(failed))
        suite.set("errors", "0")
        suite.set("time", f"{suite_seconds:.3f}")
        ET.SubElement(suite, "system-out").text = c.summary
        total += n
        failures += failed
        seconds += suite_seconds
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
