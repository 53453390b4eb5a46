"""The input formats ``--from`` names (no imports, so the command line's options cost nothing)."""

#: recognise each input by its name and content
AUTO = "auto"
#: read the portfolio and a non-YAML market as Deribit API exports (:mod:`.deribit_export`)
DERIBIT = "deribit"
