"""The compliance engine: `assess(framework, records, as_of)`, pure (DESIGN §2.2, §4, §5)."""

from mast.engine.assess import assess
from mast.engine.assessment import Assessment, Finding, ModelState, StandardState, ThresholdState

__all__ = ["Assessment", "Finding", "ModelState", "StandardState", "ThresholdState", "assess"]
