"""Check REFI-QDA files against the official XML schemas (Project.xsd, Codebook.xsd).

The schemas are not shipped with qualkit; give the folder that holds them
(``schema_dir``). Uses lxml (a dependency of python-docx).
"""

from __future__ import annotations

import zipfile
from functools import lru_cache
from pathlib import Path

from ..errors import InputError


@lru_cache(maxsize=8)
def _schema(xsd: str):
    from lxml import etree

    return etree.XMLSchema(etree.parse(xsd))


def schema_errors(xml: bytes, xsd: str | Path) -> list[str]:
    """Schema violations of *xml* against *xsd* ("line N: message"); empty when valid."""
    from lxml import etree

    schema = _schema(str(Path(xsd).resolve()))
    doc = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def validate_file(path: str | Path, schema_dir: str | Path) -> list[str]:
    """Validate a ``.qdpx`` (its project.qde, against Project.xsd) or a ``.qdc`` (Codebook.xsd)."""
    path = Path(path)
    schema_dir = Path(schema_dir)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".qde")]
            if not names:
                raise InputError("no project.qde inside", file=path, fix="check the file")
            xml = zf.read(names[0])
        xsd = schema_dir / "Project.xsd"
    else:
        xml = path.read_bytes()
        xsd = schema_dir / ("Codebook.xsd" if b"urn:QDA-XML:codebook" in xml[:2000] else "Project.xsd")
    if not xsd.is_file():
        raise InputError("schema file not found", file=xsd, fix="give the folder holding Project.xsd and Codebook.xsd")
    return schema_errors(xml, xsd)
