from datetime import datetime, timezone

import pytest

from mast.vocabulary import Duration, Stage, stage_reaches


def test_months_are_calendar_months():
    assert Duration("P6M").after(datetime(2025, 8, 31, tzinfo=timezone.utc)) == datetime(2026, 2, 28, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["6M", "P", "PX", "P-1D", "PT0S", ""])
def test_bad_durations_are_rejected(text):
    with pytest.raises(ValueError):
        Duration(text)


def test_gates_apply_at_stage_or_later_but_not_retired():
    assert stage_reaches(Stage.deployed, Stage.internal)
    assert not stage_reaches(Stage.internal, Stage.deployed)
    assert not stage_reaches(Stage.retired, Stage.training)
    assert not stage_reaches(None, Stage.training)


def test_minute_shows_utc_plainly_and_marks_any_other_offset():
    from datetime import datetime, timedelta, timezone

    from mast.vocabulary import minute

    assert minute(datetime(2025, 6, 1, 0, 0, 59, tzinfo=timezone.utc)) == "2025-06-01 00:00"
    assert minute(datetime(2025, 6, 1, 2, 0, 0, 123, tzinfo=timezone(timedelta(hours=2)))) == "2025-06-01 02:00+02:00"
