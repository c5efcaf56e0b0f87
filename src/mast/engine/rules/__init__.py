"""One module per kind of promise. Each takes a `Judgement` and returns `RawFinding`s."""
