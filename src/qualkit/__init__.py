"""qualkit: de-identify, code, count and report sensitive qualitative interview data.

The library never prints, exits or loads models at import time; the command line
(`qualkit.cli`) is a thin skin over it.
"""

__version__ = "0.1.0"
