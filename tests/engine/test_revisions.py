"""Revisions that rename elements (`renamed_from`): each moment is judged by the version in
force, and a renamed element keeps its records, its clocks and its findings (docs/engine.md,
"Revisions and renames")."""

from __future__ import annotations

import textwrap
from pathlib import Path

import cli_runner
from engine_builders import (
    deployed_model, det, escape, ev, exemption, found, fw, incident, kinds, model, notice, only, run, sg,
    standard, standard_state, state, t, threshold,
)
from mast.framework.versions import renamed_ids
from mast.records.references import check_references
from mast.records.store import Store

V2_AT = "2025-04-01"
V3_AT = "2025-07-01"
NRO = 'score("cy", "acc") >= 0.5'
HIGH = ev("m1", "cy", "2025-02-10", acc=0.6)  # cyber not ruled out from 2025-02-10
BIO = ev("m1", "bio", "2025-02-10", acc=0.6)  # the default threshold (cbrn-3) too


def cyber(id: str, renamed_from: str | None = None, **extra) -> dict:
    """A cyber threshold (not ruled out at cy/acc >= 0.5) requiring `asl3` before deployed."""
    return threshold(id, nro=NRO, **({"renamed_from": renamed_from} if renamed_from else {}), **extra)


def renamed(std: str = "asl3", *safeguards: str, renamed_from: str | None = None) -> dict:
    """A standard; a safeguard written `new<old` is renamed from `old`."""
    out = standard(std)
    out["safeguards"] = [{"id": g.split("<")[0], **({"renamed_from": g.split("<")[1]} if "<" in g else {})}
                         for g in (safeguards or ("guard",))]
    if renamed_from:
        out["renamed_from"] = renamed_from
    return out


def two(v1: dict, v2: dict) -> list:
    return [fw(version="1", **v1), fw(version="2", effective=V2_AT, **v2)]


CYBER = two({"thresholds": [cyber("cyber-2")]}, {"thresholds": [cyber("cyber-high", "cyber-2")]})


# ------------------------------------------------------------------------ 1. thresholds


def test_a_determination_under_the_old_id_decides_the_renamed_threshold():
    records = [model("m1"), HIGH, det("m1", "cyber-2", "ruled_out", "2025-02-20")]
    a = run(CYBER, records, "2025-05-01", history=True)
    s = state(a, "m1", "cyber-high")
    assert (s.status, s.basis, s.since) == ("ruled_out", "determination", t("2025-02-20"))
    # its override warning is one finding across the revision, under the new id
    w = only(a, "warning", commitment="cyber-high", since="2025-02-20")
    assert w.until is None
    assert not found(a, "overdue")


def test_without_renamed_from_a_new_id_is_a_new_threshold():
    vs = two({"thresholds": [cyber("cyber-2")]}, {"thresholds": [cyber("cyber-high")]})
    records = [model("m1"), HIGH, det("m1", "cyber-2", "ruled_out", "2025-02-20")]
    assert state(run(vs, records, "2025-05-01"), "m1", "cyber-high").status == "not_ruled_out"


def test_a_determination_under_the_new_id_is_read_by_the_old_version_too():
    # recorded under v2 for cyber-high: v1 reads it as its cyber-2 (nothing of it before v2)
    records = [model("m1"), HIGH, det("m1", "cyber-high", "ruled_out", "2025-04-10")]
    a = run(CYBER, records, "2025-05-01", history=True)
    o = only(a, "overdue")
    assert (o.commitment, o.since, o.until) == ("cyber-high", t("2025-03-12"), t("2025-04-10"))
    assert state(a, "m1", "cyber-high").status == "ruled_out"


def test_threshold_references_in_each_version_use_that_versions_ids():
    def gate(reads: str) -> dict:
        return {"id": "review-gate", "before": "deployed", "when": f'threshold("{reads}") == "not_ruled_out"',
                "action": "review"}
    vs = two({"thresholds": [cyber("cyber-2", requires=())], "commitments": [gate("cyber-2")]},
             {"thresholds": [cyber("cyber-high", "cyber-2", requires=())], "commitments": [gate("cyber-high")]})
    a = run(vs, deployed_model() + [HIGH], "2025-05-01", history=True)
    v = only(a, "violation", commitment="review-gate")
    assert (v.since, v.until) == (t("2025-02-10"), None)  # v1 saw it from its eval, v2 kept it


def test_a_gate_violation_continues_under_the_new_id():
    records = deployed_model() + [HIGH]
    before = run(CYBER, records, "2025-03-20")
    assert only(before, "violation").commitment == "cyber-2"
    a = run(CYBER, records, "2025-05-01", history=True)
    v = only(a, "violation")
    assert (v.commitment, v.since, v.until) == ("cyber-high", t("2025-02-10"), None)
    assert "cyber-high" in v.message
    # the determination asked for on 2025-02-10: one warning, then one overdue, both renamed
    assert sorted((f.kind, f.commitment, f.until is None) for f in a.findings) == [
        ("overdue", "cyber-high", True), ("violation", "cyber-high", True), ("warning", "cyber-high", False)]


# ---------------------------------------------------------------- 2. safeguards and standards


def test_a_safeguard_record_under_the_old_address_covers_the_renamed_safeguard():
    vs = two({}, {"standards": [renamed("asl3", "shield<guard")]})
    records = deployed_model() + [BIO, sg("asl3/guard", "implemented", "2025-02-01")]
    a = run(vs, records, "2025-05-01", history=True)
    assert not found(a, "violation")
    s = standard_state(a, "m1")
    assert (s.status, s.missing) == ("met", [])


def test_an_exemption_under_the_old_address_covers_the_renamed_safeguard():
    vs = two({}, {"standards": [renamed("asl3", "shield<guard")]})
    records = deployed_model() + [BIO, exemption("asl3/guard", "2025-02-01", "2025-06-01")]
    a = run(vs, records, "2025-05-01", history=True)
    assert not found(a, "violation")
    assert standard_state(a, "m1").exempted == ["asl3/shield"]
    # when it runs out, its gate is broken and it warns, once, under the new address
    later = run(vs, records, "2025-07-01", history=True)
    assert only(later, "violation").since == t("2025-06-01")
    assert only(later, "warning", commitment="asl3").message.startswith("the exemption for asl3/shield expired")


def test_the_safeguards_of_a_renamed_standard_keep_their_records():
    vs = two({}, {"thresholds": [threshold(nro='score("bio", "acc") >= 0.5', requires=(("asl3-sec", "deployed"),))],
                  "standards": [renamed("asl3-sec", "guard", renamed_from="asl3")]})
    records = deployed_model() + [BIO, sg("asl3/guard", "implemented", "2025-03-01")]
    a = run(vs, records, "2025-05-01", history=True)
    v = only(a, "violation")  # before the safeguard, under v1
    assert (v.since, v.until, v.standard) == (t("2025-02-10"), t("2025-03-01"), "asl3-sec")
    s = standard_state(a, "m1", "asl3-sec")
    assert (s.status, s.missing) == ("met", [])


def test_an_expired_exemption_of_a_renamed_standard_warns_once():
    vs = two({}, {"thresholds": [threshold(requires=(("asl3-sec", "deployed"),))],
                  "standards": [renamed("asl3-sec", "guard", renamed_from="asl3")]})
    a = run(vs, [model("m1"), exemption("asl3/guard", "2025-02-01", "2025-03-01")], "2025-05-01", history=True)
    w = only(a, "warning")
    assert (w.commitment, w.standard, w.since, w.until) == ("asl3-sec", "asl3-sec", t("2025-03-01"), None)


# ------------------------------------------------------------------------- 3. commitments


RISK = {"id": "risk-report", "every": "P6M", "action": "report"}
SIX_MONTHLY = {**RISK, "id": "six-monthly-report", "renamed_from": "risk-report"}


def test_a_renamed_cadence_keeps_its_clock():
    vs = two({"commitments": [RISK]}, {"commitments": [SIX_MONTHLY]})
    o = only(run(vs, [], "2025-08-01", history=True), "overdue")
    assert (o.commitment, o.since) == ("six-monthly-report", t("2025-07-01"))


INCIDENT = {"id": "incident-notice", "after": "incident", "within": "P7D", "action": "notice", "to": "authority"}
INCIDENT_72H = {**INCIDENT, "id": "incident-72h", "renamed_from": "incident-notice"}
INCIDENTS = two({"commitments": [INCIDENT]}, {"commitments": [INCIDENT_72H]})


def test_a_deadline_triggered_before_a_rename_is_met_by_a_notice_after_it():
    for about in ("incident-notice", "incident-72h"):  # the notice names the old id or the new
        records = [incident("2025-03-28", ref="inc-1"), notice("authority", "2025-04-03", about=about)]
        a = run(INCIDENTS, records, "2025-05-01", history=True)
        d = only(a, "due")
        assert (d.commitment, d.since, d.until) == ("incident-72h", t("2025-03-28"), t("2025-04-03")), about
        assert not found(a, "overdue")


def test_an_overdue_deadline_continues_under_the_new_id():
    a = run(INCIDENTS, [incident("2025-03-20", ref="inc-1")], "2025-05-01", history=True)
    o = only(a, "overdue")
    assert (o.commitment, o.since, o.until) == ("incident-72h", t("2025-03-27"), None)
    assert kinds(a, current=False) == [("overdue", "incident-72h", None), ("due", "incident-72h", None)]


def test_a_where_of_the_new_version_reads_a_trigger_under_the_old_id():
    def board(reads: str, **extra) -> dict:
        return {"id": "board-notice", "after": "determination", "where": f'threshold == "{reads}"',
                "within": "P7D", "action": "notice", "to": "board", **extra}
    vs = two({"thresholds": [cyber("cyber-2")], "commitments": [board("cyber-2")]},
             {"thresholds": [cyber("cyber-high", "cyber-2")], "commitments": [board("cyber-high")]})
    records = [model("m1"), det("m1", "cyber-2", "crossed", "2025-03-28")]
    o = only(run(vs, records, "2025-05-01"), "overdue", commitment="board-notice")
    assert o.since == t("2025-04-04")


PARITY = {"id": "competitor-parity", "notify": ["board"], "within": "P3D"}
PARITY_V2 = {**PARITY, "id": "parity", "renamed_from": "competitor-parity"}
ESCAPES = two({"thresholds": [cyber("cyber-2")], "escape_clauses": [PARITY]},
              {"thresholds": [cyber("cyber-high", "cyber-2")], "escape_clauses": [PARITY_V2]})


def test_an_escape_under_the_old_clause_still_protects():
    records = deployed_model() + [HIGH, escape("competitor-parity", "2025-03-01", ["m1"]),
                                  notice("board", "2025-03-02", about="esc-1")]
    a = run(ESCAPES, records, "2025-05-01", history=True)
    assert not found(a, "violation", current=True)
    e = only(a, "escape")
    assert (e.commitment, e.since, e.until) == ("cyber-high", t("2025-03-01"), None)


def test_a_missing_escape_notice_is_one_violation_of_the_renamed_clause_until_made():
    records = deployed_model() + [HIGH, escape("competitor-parity", "2025-03-28", ["m1"]),
                                  notice("board", "2025-04-05", about="esc-1")]
    a = run(ESCAPES, records, "2025-05-01", history=True)
    v = only(a, "violation", commitment="parity")
    assert (v.since, v.until) == (t("2025-03-31"), t("2025-04-05"))
    assert only(a, "escape").since == t("2025-04-05")  # late notices protect from when made


def test_a_revision_that_only_renames_changes_nothing_but_names():
    def version(v: str, at: str, ids: dict[str, str], renames: bool) -> object:
        def el(old: str) -> dict:
            return {"id": ids.get(old, old), **({"renamed_from": old} if renames and old in ids else {})}
        gated = ((ids.get("asl3", "asl3"), "deployed"),)
        return fw(version=v, effective=at,
                  thresholds=[{**cyber("cyber-2", requires=gated), **el("cyber-2")},
                              threshold(nro='score("bio", "acc") >= 0.5', requires=gated)],
                  standards=[{**renamed("asl3", "guard", "vault"), **el("asl3")}],
                  commitments=[{**RISK, **el("risk-report")}, {**INCIDENT, **el("incident-notice")}],
                  escape_clauses=[{**PARITY, **el("competitor-parity")}])
    new_ids = {"cyber-2": "cyber-high", "asl3": "asl3-sec", "risk-report": "six-monthly-report",
               "incident-notice": "incident-72h", "competitor-parity": "parity"}
    v1 = version("1", "2025-01-01", {}, False)
    records = deployed_model() + deployed_model("m2", "2025-03-01") + [
        HIGH, BIO, ev("m2", "cy", "2025-03-05", acc=0.9), det("m1", "cyber-2", "not_ruled_out", "2025-02-25"),
        sg("asl3/guard", "implemented", "2025-02-15"), exemption("asl3/vault", "2025-02-20", "2025-04-20"),
        exemption("asl3/vault", "2025-02-20", "2025-03-20", scope="m2"), incident("2025-03-29", ref="inc-1"),
        escape("competitor-parity", "2025-03-30", ["m2"]), notice("board", "2025-04-04", about="esc-1"),
        notice("authority", "2025-04-06", about="inc-1")]
    kept = run([v1, version("2", V2_AT, {}, False)], records, "2025-09-01", history=True)
    moved = run([v1, version("2", V2_AT, new_ids, True)], records, "2025-09-01", history=True)
    back = {new: old for old, new in new_ids.items()}

    def shapes(a, names: dict[str, str]) -> list[tuple]:
        return sorted((f.kind, names.get(f.commitment, f.commitment), names.get(f.standard or "", f.standard or ""),
                       f.model or "", f.since, str(f.until)) for f in a.findings)

    assert len(kept.findings) > 8
    assert shapes(kept, {}) == shapes(moved, back)
    assert {f.commitment for f in moved.findings} & set(new_ids) == set()  # all under the new ids


# ------------------------------------------------------------------ 5. chains of renames


def test_renames_chain_across_three_versions():
    vs = [fw(version="1", thresholds=[cyber("a")], commitments=[{**RISK, "id": "r1"}]),
          fw(version="2", effective=V2_AT, thresholds=[cyber("b", "a")],
             commitments=[{**RISK, "id": "r2", "renamed_from": "r1"}]),
          fw(version="3", effective=V3_AT, thresholds=[cyber("c", "b")],
             commitments=[{**RISK, "id": "r3", "renamed_from": "r2"}])]
    records = deployed_model() + [HIGH, det("m1", "a", "crossed", "2025-02-20")]
    a = run(vs, records, "2025-08-01", history=True)
    s = state(a, "m1", "c")
    assert (s.status, s.basis, s.since) == ("crossed", "determination", t("2025-02-20"))
    v = only(a, "violation")
    assert (v.commitment, v.since, v.until) == ("c", t("2025-02-10"), None)
    o = only(a, "overdue")  # r1's clock, started 2025-01-01, kept through two renames
    assert (o.commitment, o.since) == ("r3", t("2025-07-01"))


def test_an_id_freed_by_a_rename_and_reused_names_the_new_element_from_then_on():
    vs = [fw(version="1", thresholds=[cyber("a")]),
          fw(version="2", effective=V2_AT, thresholds=[cyber("b", "a")]),
          fw(version="3", effective=V3_AT, thresholds=[cyber("b"), cyber("a")])]
    records = [model("m1"), HIGH, det("m1", "a", "ruled_out", "2025-02-20")]
    a = run(vs, records, "2025-08-01")
    assert state(a, "m1", "b").status == "ruled_out"  # the old `a` is now `b`
    assert state(a, "m1", "a").status == "not_ruled_out"  # a new threshold: not decided
    later = run(vs, records + [det("m1", "a", "crossed", "2025-07-10")], "2025-08-01")
    assert (state(later, "m1", "a").status, state(later, "m1", "b").status) == ("crossed", "ruled_out")


# -------------------------------------------------------------------- 6. removed elements


def test_a_removed_thresholds_open_violation_ends_at_the_new_versions_effective():
    bio = threshold(nro='score("bio", "acc") >= 0.5')
    for v2 in ({"thresholds": [bio]},  # cyber-2 removed, nothing renamed
               {"thresholds": [bio], "commitments": [SIX_MONTHLY]}):  # and a rename elsewhere
        vs = two({"thresholds": [bio, cyber("cyber-2")], "commitments": [RISK]}, v2)
        a = run(vs, deployed_model() + [HIGH], "2025-05-01", history=True)
        v = only(a, "violation", commitment="cyber-2")
        assert (v.since, v.until) == (t("2025-02-10"), t(V2_AT))
        assert not found(a, "overdue", commitment="cyber-2", current=True)


def test_a_removed_safeguards_expired_exemption_stops_warning():
    vs = two({"standards": [renamed("asl3", "guard", "vault")]}, {"standards": [renamed("asl3", "guard")]})
    a = run(vs, [model("m1"), exemption("asl3/vault", "2025-02-01", "2025-03-01")], "2025-05-01", history=True)
    w = only(a, "warning")
    assert (w.since, w.until) == (t("2025-03-01"), t(V2_AT))


# --------------------------------------------------------------- 4. records naming old ids


def test_renamed_ids_follows_renames_the_way_the_diff_matches_them():
    v1 = fw(thresholds=[cyber("cyber-2"), cyber("bio")], standards=[renamed("asl3", "guard", "vault")])
    v2 = fw(version="2", thresholds=[cyber("cyber-high", "cyber-2"), cyber("bio-x", "bio"), cyber("bio-y", "bio")],
            standards=[renamed("asl3-sec", "guard", "safe<vault", renamed_from="asl3")])
    steps = renamed_ids(v1, v2)
    assert steps["threshold"] == {"cyber-2": "cyber-high"}  # two claims on `bio`: neither is a rename
    assert steps["standard"] == {"asl3": "asl3-sec"}
    assert steps["safeguard"] == {"asl3/guard": "asl3-sec/guard", "asl3/vault": "asl3-sec/safe"}
    assert renamed_ids(v2, v1)["threshold"] == {"cyber-high": "cyber-2"}  # a revert is a rename too


REFS = [fw(version="1", thresholds=[cyber("cyber-2")], escape_clauses=[PARITY]),
        fw(version="2", effective=V2_AT, thresholds=[cyber("cyber-high", "cyber-2")],
           standards=[renamed("asl3-sec", "guard", renamed_from="asl3")], escape_clauses=[PARITY_V2]),
        fw(version="3", effective=V3_AT, thresholds=[cyber("cyber-top", "cyber-high")],
           standards=[renamed("asl3-sec", "guard")], escape_clauses=[PARITY_V2])]


def problems(*records) -> list[str]:
    return [p.message for p in check_references([model("m1"), *records], [], REFS)]


def test_records_made_before_a_rename_keep_the_old_id():
    assert problems(det("m1", "cyber-2", "ruled_out", "2025-03-01"), sg("asl3/guard", "implemented", "2025-03-01"),
                    escape("competitor-parity", "2025-03-01", ["m1"])) == []
    assert problems(det("m1", "cyber-high", "ruled_out", "2025-04-01"), sg("asl3-sec/guard", "implemented", "2025-04-01"),
                    escape("parity", "2025-04-01", ["m1"])) == []


def test_a_record_after_a_rename_under_the_old_id_is_told_the_new_one():
    assert problems(det("m1", "cyber-2", "ruled_out", "2025-05-01")) == [
        "records[1].threshold: threshold 'cyber-2' was renamed to 'cyber-high' in version 2; use 'cyber-high' "
        "(its id in test-fw 2, in force at this record's time)"]
    assert problems(sg("asl3/guard", "implemented", "2025-05-01")) == [
        "records[1].safeguard: safeguard 'asl3/guard' was renamed to 'asl3-sec/guard' in version 2; "
        "use 'asl3-sec/guard' (its id in test-fw 2, in force at this record's time)"]
    assert problems(exemption("asl3/guard", "2025-05-01", "2025-06-01"))[0].startswith(
        "records[1].safeguard: safeguard 'asl3/guard' was renamed to 'asl3-sec/guard' in version 2")
    assert problems(escape("competitor-parity", "2025-05-01", ["m1"]))[0].startswith(
        "records[1].clause: escape clause 'competitor-parity' was renamed to 'parity' in version 2; use 'parity'")


def test_a_record_after_two_renames_is_told_the_whole_chain():
    assert problems(det("m1", "cyber-2", "ruled_out", "2025-08-01")) == [
        "records[1].threshold: threshold 'cyber-2' was renamed to 'cyber-high' in version 2 and to 'cyber-top' "
        "in version 3; use 'cyber-top' (its id in test-fw 3, in force at this record's time)"]


def test_a_backfilled_record_under_a_later_id_is_told_the_id_of_its_time():
    assert problems(det("m1", "cyber-top", "ruled_out", "2025-03-01")) == [
        "records[1].threshold: threshold 'cyber-top' is called 'cyber-2' in test-fw 1, in force at this "
        "record's time ('cyber-top' from version 3 on); use 'cyber-2'"]


def test_a_removed_id_is_simply_unknown():
    vs = [fw(version="1", thresholds=[cyber("cyber-2"), cyber("bio")]),
          fw(version="2", effective=V2_AT, thresholds=[cyber("bio")])]
    [message] = [p.message for p in check_references([model("m1"), det("m1", "cyber-2", "crossed", "2025-05-01")], [], vs)]
    assert message.startswith("records[1].threshold: unknown threshold 'cyber-2' in test-fw 2 (in force")


# ---------------------------------------------------------------------- through the CLI

FRAMEWORK = """\
mast: 1
framework: {{id: rename-lab, title: Rename Lab, version: "{version}", effective: {effective}}}
thresholds:
  - {{id: {threshold}, domain: cyber, {renamed}indicators: {{not_ruled_out: 'score("cy", "acc") >= 0.5'}},
     requires: [{{standard: asl3, before: deployed}}]}}
standards:
  - {{id: asl3, safeguards: [{{id: guard}}]}}
amendment: {{approvals: [rso]}}
"""


def mast(*args: str, cwd: Path, input: str | None = None) -> cli_runner.Result:
    """The CLI, run as a user runs it (in-process, tests/cli_runner.py)."""
    return cli_runner.run(*args, cwd=cwd, input=input)


def bodies(ws: Path) -> list[tuple[int, str, bytes]]:
    """Every entry of the workspace's log: equal lists mean nothing was written."""
    store = Store.sqlite(ws / ".mast" / "mast.db")
    try:
        return list(store.bodies())
    finally:
        store.close()


def test_record_add_refuses_an_old_id_after_the_rename_with_file_and_line(tmp_path):
    assert mast("init", "ws", cwd=tmp_path).code == 0
    ws = tmp_path / "ws"
    for version, effective, threshold_id, renamed_from in (("1", "2025-01-01T00:00:00Z", "cyber-2", ""),
                                                          ("2", "2025-04-01T00:00:00Z", "cyber-high", "cyber-2")):
        path = tmp_path / f"v{version}.yaml"
        path.write_text(FRAMEWORK.format(version=version, effective=effective, threshold=threshold_id,
                                         renamed=f"renamed_from: {renamed_from}, " if renamed_from else ""))
        result = mast("-w", str(ws), "framework", "publish", str(path), "--approve", "rso=Jane Roe",
                      "--at", "2024-12-01T00:00:00Z", cwd=tmp_path)
        assert result.code == 0, result.stderr
    batch = tmp_path / "batch.yaml"
    batch.write_text(textwrap.dedent("""\
        - {kind: model, at: 2025-02-01T00:00:00Z, id: m1, name: One}
        - {kind: determination, at: 2025-03-01T00:00:00Z, model: m1, threshold: cyber-2, status: ruled_out, rationale: r}
        - {kind: determination, at: 2025-05-01T00:00:00Z, model: m1, threshold: cyber-2, status: ruled_out, rationale: r}
        """))
    before = bodies(ws)
    result = mast("-w", str(ws), "record", "add", str(batch), cwd=tmp_path)
    assert result.code == 2, (result.stdout, result.stderr)
    assert f"{batch}:3:" in result.stderr
    assert "threshold 'cyber-2' was renamed to 'cyber-high' in version 2; use 'cyber-high'" in result.stderr
    assert "Traceback" not in result.stderr and "nothing was written" in result.stderr
    assert bodies(ws) == before
    # the same batch with the new id for the later record is accepted whole
    batch.write_text(batch.read_text().replace("2025-05-01T00:00:00Z, model: m1, threshold: cyber-2",
                                               "2025-05-01T00:00:00Z, model: m1, threshold: cyber-high"))
    result = mast("-w", str(ws), "record", "add", str(batch), cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert len(bodies(ws)) == len(before) + 3
