"""Evidence (DESIGN §4, issue 4): importers for Inspect logs, lm-evaluation-harness results
and CSV (`mast.evidence.importer`), signed determinations (`mast.evidence.determine`), and
views of a model's evidence against its thresholds (`mast.evidence.show`, `.plot`).

Nothing here imports inspect_ai or matplotlib until a log is read or a chart drawn: both are
optional extras (`mast[inspect]`, `mast[plot]`).
"""
