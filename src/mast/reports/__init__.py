"""Risk Reports: records -> redacted view -> report model -> HTML / Markdown / PDF / JSON."""
