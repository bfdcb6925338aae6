"""Exchange with NVivo, ATLAS.ti, MAXQDA and QualCoder through REFI-QDA.

- :func:`export_project` writes a ``.qdpx`` project (transcripts, codebook,
  coded segments, cases); :func:`export_codebook` a ``.qdc`` codebook;
  :func:`plan_export` resolves the inputs from a study's project file
  (redacted transcripts by default).
- :func:`import_refi` turns a ``.qdpx`` or ``.qdc`` into transcripts,
  ``codebook.yaml``, ``segments.csv`` and ``cases.csv``.
- :func:`validate_file` checks a file against the REFI-QDA XML schemas.
"""

from .common import code_guid, norm_guid, stable_guid
from .exporter import (
    ExportPlan,
    ExportResult,
    check_original_destination,
    codebook_xml,
    export_codebook,
    export_project,
    plan_export,
)
from .importer import LINE_BREAKS, ImportResult, import_refi
from .validate import schema_errors, validate_file

__all__ = [
    "ExportPlan",
    "ExportResult",
    "ImportResult",
    "LINE_BREAKS",
    "check_original_destination",
    "code_guid",
    "codebook_xml",
    "export_codebook",
    "export_project",
    "import_refi",
    "norm_guid",
    "plan_export",
    "schema_errors",
    "stable_guid",
    "validate_file",
]
