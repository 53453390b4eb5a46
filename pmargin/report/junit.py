"""JUnit XML for ``pmargin check --junit FILE``: CI servers (GitHub Actions test reporters,
GitLab, Jenkins, Azure) list one test case per limit and account, and a breach as a failure.

Layout::

    <testsuites name="pmargin check" tests="7" failures="1" errors="0">
      <testsuite name="pmargin check (limits.yaml)" tests="7" failures="1" errors="0" skipped="0">
        <testcase classname="pmargin.check.desk-1" name="max_delta[BTC]" time="0">
          <failure type="LimitBreached" message="max_delta[BTC] = 31.2 BTC, limit 25 ...">...
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from .check import check_label, format_value


def _failure_message(check: dict[str, Any]) -> str:
    bound = "at least" if check["name"] == "min_excess" else "at most"
    text = (
        f"{check_label(check)} = {format_value(check['value'])} {check['unit']}; "
        f"limit: {bound} {format_value(check['limit'])} {check['unit']}; "
        f"headroom {format_value(check['headroom'])}"
    )
    return f"{text}; {check['detail']}" if check.get("detail") else text


def junit_tree(data: dict[str, Any]) -> ET.ElementTree:
    """The JUnit document for a check result (as built by :func:`check_dict`)."""
    checks = data["checks"].rows()
    tests = str(len(checks))
    failures = str(sum(not c["passed"] for c in checks))
    root = ET.Element(
        "testsuites", name="pmargin check", tests=tests, failures=failures, errors="0"
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"pmargin check ({data['limits']})",
        tests=tests,
        failures=failures,
        errors="0",
        skipped="0",
        time="0",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="model", value=data["model"])
    ET.SubElement(
        properties, "property", name="scenario_sets", value=", ".join(data["scenario_sets"])
    )
    for check in checks:
        account = check["account"]
        case = ET.SubElement(
            suite,
            "testcase",
            classname="pmargin.check" + (f".{account}" if account is not None else ""),
            name=check_label(check),
            time="0",
        )
        message = _failure_message(check)
        if not check["passed"]:
            failure = ET.SubElement(case, "failure", type="LimitBreached", message=message)
            failure.text = message
        else:
            ET.SubElement(case, "system-out").text = message
    ET.indent(root)
    return ET.ElementTree(root)


def junit_xml(data: dict[str, Any]) -> bytes:
    """The JUnit document of a check result as UTF-8 bytes with an XML declaration (the
    command writes them to ``--junit FILE``, atomically)."""
    return _xml(junit_tree(data))


def junit_error_tree(message: str) -> ET.ElementTree:
    """The JUnit document of a check that could not run: one failing case naming the error."""
    counts = {"tests": "1", "failures": "1", "errors": "0"}
    root = ET.Element("testsuites", name="pmargin check", **counts)
    suite = ET.SubElement(
        root, "testsuite", name="pmargin check (bad input)", skipped="0", time="0", **counts
    )
    case = ET.SubElement(suite, "testcase", classname="pmargin.check", name="inputs", time="0")
    failure = ET.SubElement(
        case, "failure", type="BadInput", message=message.splitlines()[0] if message else ""
    )
    failure.text = message
    ET.indent(root)
    return ET.ElementTree(root)


def junit_error_xml(message: str) -> bytes:
    """The JUnit document of a check that could not run (bad input), as :func:`junit_xml`."""
    return _xml(junit_error_tree(message))


def _xml(tree: ET.ElementTree) -> bytes:
    return ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True)
