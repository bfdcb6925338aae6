"""Coding: the codebook, its matching rules, applying them, reviewed segments, agreement.

``codebook`` loads and validates the YAML codebook; ``rules`` parses and
compiles its matching rules; ``apply`` cuts documents into units and codes
them; ``segments`` reads and writes the coded-segments CSV; ``merge`` combines
fresh suggestions with a reviewed file without losing a human decision;
``agree`` measures agreement between coders. The names below are the public face.
"""

from .apply import UNITS, check_examples, code_documents, code_parsed, parse_documents
from .codebook import Code, Codebook, Theme, load_codebook
from .merge import (
    check_unique_ids,
    merge_segments,
    merge_with_previous,
    previous_segments_file,
    read_suggestion_log,
    suggestion_key,
    update_segments_file,
    write_suggestion_log,
)
from .segments import CodedSegment, read_segments, write_segments

__all__ = [
    "UNITS",
    "check_examples",
    "code_documents",
    "code_parsed",
    "parse_documents",
    "Code",
    "Codebook",
    "Theme",
    "load_codebook",
    "check_unique_ids",
    "merge_segments",
    "merge_with_previous",
    "previous_segments_file",
    "read_suggestion_log",
    "suggestion_key",
    "update_segments_file",
    "write_suggestion_log",
    "CodedSegment",
    "read_segments",
    "write_segments",
]
