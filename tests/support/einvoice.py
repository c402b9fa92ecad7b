"""Validating e-invoices the way a public body's access point does: the UBL 2.1 XSD (lxml) and
the official EN 16931 and Peppol BIS Billing 3.0 Schematron rules, compiled to XSLT 2.0 and run
with Saxon (saxonche). The rule sets come from Maven Central through
deploy/local/einvoice-rules.sh (fetched once, cached under var/); compiling them takes a second
or two, so a test session compiles them once (`Validator` is built by a session fixture)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from saxonche import PySaxonProcessor, PyXslt30Processor, PyXsltExecutable

ROOT = Path(__file__).resolve().parents[2]
SVRL = "http://purl.oclc.org/dsdl/svrl"
RULE_SETS = ("EN16931-UBL-validation.xslt", "PEPPOL-EN16931-UBL.xslt")


def rules_dir() -> Path:
    """The rule sets' directory, fetched on first use (the script is idempotent)."""
    done = subprocess.run(
        ["bash", str(ROOT / "deploy/local/einvoice-rules.sh"), "fetch"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Finding:
    rule_set: str
    rule_id: str
    flag: str
    location: str
    text: str

    def __str__(self) -> str:
        return f"[{self.flag}] {self.rule_set} {self.rule_id} at {self.location}: {self.text}"


class Validator:
    def __init__(self, directory: Path) -> None:
        xsd = directory / "xsd" / "maindoc" / "UBL-Invoice-2.1.xsd"
        self.schema = etree.XMLSchema(etree.parse(str(xsd)))
        self._saxon = PySaxonProcessor(license=False)
        xslt: PyXslt30Processor = self._saxon.new_xslt30_processor()
        self._rules: dict[str, PyXsltExecutable] = {
            name: xslt.compile_stylesheet(stylesheet_file=str(directory / "schematron" / name))
            for name in RULE_SETS
        }

    def schema_errors(self, xml: bytes) -> list[str]:
        document = etree.fromstring(xml)
        if self.schema.validate(document):
            return []
        return [f"line {e.line}: {e.message}" for e in self.schema.error_log]

    def findings(self, xml: bytes) -> list[Finding]:
        """Every failed assert and successful report of both rule sets."""
        node = self._saxon.parse_xml(xml_text=xml.decode("utf-8"))
        found: list[Finding] = []
        for name, executable in self._rules.items():
            svrl = executable.transform_to_string(xdm_node=node)
            report = etree.fromstring(svrl.encode("utf-8"))
            for failed in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
                text = " ".join("".join(failed.itertext()).split())
                found.append(
                    Finding(
                        name,
                        failed.get("id", "?"),
                        failed.get("flag", "fatal"),
                        failed.get("location", "?"),
                        text,
                    )
                )
        return found

    def fatal(self, xml: bytes) -> list[str]:
        """What stops an invoice: XSD errors and the rules' fatal findings."""
        return [
            *self.schema_errors(xml),
            *(str(f) for f in self.findings(xml) if f.flag == "fatal"),
        ]
