"""The `dissatisfied` signal against an independent reading of its rule, through the real binaries.

Rule (issue 5): "`dissatisfied` (CSAT ≤ 2 or NPS ≤ 6 within 30 days, or an open complaint — from the
feedback collector)". Read here, like RULES.md's other windows and days (written without the scorer's
code or tests):
  - judged on BD; "within 30 days" is the 30 days BD−29 … BD, both inclusive (as card spend's
    "over BD−29 … BD"); a survey's day is `answered_at` in Asia/Shanghai; surveys after BD are ignored
    (as transactions after BD are);
  - any qualifying survey in the window raises it (a later good score does not cancel an earlier bad one);
  - a complaint is open unless its state is `closed` (as the view customer_effective_preferences reads
    has_open_complaint); judged on BD: one received (received_on, its Shanghai day) after BD is not open
    yet, and one closed after BD (closed_at's Shanghai day > BD) was still open on BD.
Some of these are genuinely ambiguous; each case names the point it probes, and every disagreement is
printed with the alternative readings (ALT below) that would agree with the product.

Builds a small book (one customer per case, each with an account and balances so it is scored), loads it
with tierguard-ingest, inserts feedback_surveys / complaints / complaint_events rows as the feedback
collector stores them, rescores the whole book with `tierguardctl rescore --all` on several business
dates (TIERGUARD_BUSINESS_DATE) and compares each customer's newest customer_scores row: whether
`dissatisfied` is in signal_codes (a disagreement fails), and its figures in `signals` when the names
match ours (names that differ are reported, never failed).

Usage: feedback.py [DBNAME]   (default `feedback`); exits 1 on any disagreement about the signal.
Environment as compare.py: TIERGUARD_ORACLE_PORT, TIERGUARD_ORACLE_BIN, TIERGUARD_ORACLE_WORK.
"""
import datetime as dt
import json
import math
import os
import sys

import compare as C
import oracle as O
from generate import money

BD = dt.date(2026, 3, 10)               # the business date the cases are written around
BDS = [BD, BD + dt.timedelta(days=1), BD - dt.timedelta(days=1)]   # scored in this order (not sorted)
WINDOW = 30
CSAT_MAX, NPS_MAX = 2, 6
SH = dt.timezone(dt.timedelta(hours=8))


def day(k):
    return (BD + dt.timedelta(days=k)).isoformat()


def sh(k, hms="12:00:00", frac=""):
    """A timestamp on Shanghai day BD+k."""
    return f"{day(k)}T{hms}{frac}+08:00"


def utc(k, hms):
    """A timestamp at UTC day BD+k (its Shanghai day is the next one from 16:00Z)."""
    return f"{day(k)}T{hms}Z"


# ---- the cases: (customer, point probed, surveys [(kind, score, answered_at)],
#                  complaints [(state, received_at, closed_at or None)]) ------------------------------
CASES = []


def case(cid, point, surveys=(), complaints=()):
    CASES.append((cid, point, list(surveys), list(complaints)))


case("FB_none", "no feedback at all")
# thresholds, answered on BD
for s in (1, 2, 3, 4, 5):
    case(f"FB_csat{s}_bd", f"CSAT {s} on BD (threshold ≤ 2)", [("csat", s, sh(0))])
for s in (0, 5, 6, 7, 8, 10):
    case(f"FB_nps{s}_bd", f"NPS {s} on BD (threshold ≤ 6)", [("nps", s, sh(0))])
# window edges, Shanghai local times
for k, lbl in ((-29, "bd29"), (-30, "bd30"), (-31, "bd31"), (1, "bdp1")):
    case(f"FB_csat2_{lbl}_noon", f"CSAT 2 at noon BD{k:+d} (window edge)", [("csat", 2, sh(k))])
    case(f"FB_csat3_{lbl}_noon", f"CSAT 3 at noon BD{k:+d} (not low)", [("csat", 3, sh(k))])
    case(f"FB_nps6_{lbl}_noon", f"NPS 6 at noon BD{k:+d} (window edge)", [("nps", 6, sh(k))])
    case(f"FB_nps7_{lbl}_noon", f"NPS 7 at noon BD{k:+d} (not low)", [("nps", 7, sh(k))])
case("FB_csat2_bd29_0000sh", "CSAT 2 at 00:00:00 Shanghai on BD−29 (first instant in)", [("csat", 2, sh(-29, "00:00:00"))])
case("FB_csat2_bd30_2359sh", "CSAT 2 at 23:59:59.999999 Shanghai on BD−30 (last instant out)",
     [("csat", 2, sh(-30, "23:59:59", ".999999"))])
case("FB_nps6_bd30_2359sh", "NPS 6 at 23:59:59.999999 Shanghai on BD−30", [("nps", 6, sh(-30, "23:59:59", ".999999"))])
case("FB_nps6_bd29_0000sh", "NPS 6 at 00:00:00 Shanghai on BD−29", [("nps", 6, sh(-29, "00:00:00"))])
case("FB_csat2_bd_2359sh", "CSAT 2 at 23:59:59.999999 Shanghai on BD (last instant in)",
     [("csat", 2, sh(0, "23:59:59", ".999999"))])
case("FB_csat2_bdp1_0000sh", "CSAT 2 at 00:00:00 Shanghai on BD+1 (after BD)", [("csat", 2, sh(1, "00:00:00"))])
case("FB_nps0_bdp1_0000sh", "NPS 0 at 00:00:00 Shanghai on BD+1 (after BD)", [("nps", 0, sh(1, "00:00:00"))])
# the same instants written in UTC: Shanghai day ≠ UTC day from 16:00Z
case("FB_csat2_bd30_1600Z", "CSAT 2 at BD−30 16:00Z = BD−29 00:00 Shanghai (in; out by UTC day)", [("csat", 2, utc(-30, "16:00:00"))])
case("FB_csat2_bd30_1630Z", "CSAT 2 at BD−30 16:30Z = BD−29 00:30 Shanghai (in; out by UTC day)", [("csat", 2, utc(-30, "16:30:00"))])
case("FB_csat2_bd30_155959Z", "CSAT 2 at BD−30 15:59:59.999999Z = BD−30 23:59:59 Shanghai (out)",
     [("csat", 2, utc(-30, "15:59:59.999999"))])
case("FB_csat2_bd31_1630Z", "CSAT 2 at BD−31 16:30Z = BD−30 00:30 Shanghai (out)", [("csat", 2, utc(-31, "16:30:00"))])
case("FB_csat2_bd_155959Z", "CSAT 2 at BD 15:59:59.999999Z = BD 23:59:59 Shanghai (in)", [("csat", 2, utc(0, "15:59:59.999999"))])
case("FB_csat2_bd_1600Z", "CSAT 2 at BD 16:00Z = BD+1 00:00 Shanghai (out; in by UTC day)", [("csat", 2, utc(0, "16:00:00"))])
case("FB_nps6_bd_2000Z", "NPS 6 at BD 20:00Z = BD+1 04:00 Shanghai (out; in by UTC day)", [("nps", 6, utc(0, "20:00:00"))])
case("FB_nps6_bd_m0500", "NPS 6 at BD 10:59:59-05:00 = BD 23:59:59 Shanghai (in)", [("nps", 6, f"{day(0)}T10:59:59-05:00")])
case("FB_nps6_bd_m0500_out", "NPS 6 at BD 11:00:00-05:00 = BD+1 00:00 Shanghai (out)", [("nps", 6, f"{day(0)}T11:00:00-05:00")])
# several surveys
case("FB_low_then_high", "CSAT 1 on BD−10, then CSAT 5 on BD−1 (does a later good score cancel?)",
     [("csat", 1, sh(-10)), ("csat", 5, sh(-1))])
case("FB_nps_low_then_high", "NPS 3 on BD−20, then NPS 10 on BD (does a later good score cancel?)",
     [("nps", 3, sh(-20)), ("nps", 10, sh(0))])
case("FB_csat3_nps7", "CSAT 3 and NPS 7 on BD (both just above)", [("csat", 3, sh(0)), ("nps", 7, sh(0))])
case("FB_csat3_nps6", "CSAT 3 and NPS 6 on BD (NPS raises)", [("csat", 3, sh(0)), ("nps", 6, sh(0))])
case("FB_old_lows", "CSAT 1 on BD−31, NPS 0 on BD−400 (too old)", [("csat", 1, sh(-31)), ("nps", 0, sh(-400))])
case("FB_two_low", "CSAT 2 on BD−5 and NPS 4 on BD−3", [("csat", 2, sh(-5)), ("nps", 4, sh(-3))])
# complaints, one per state, received BD−5
STATES = ["received", "acknowledged", "extended", "decided", "informed", "closed"]
for st in STATES:
    case(f"FB_cmp_{st}", f"complaint received BD−5, state {st}",
         complaints=[(st, sh(-5, "09:30:00"), sh(-1, "16:00:00") if st == "closed" else None)])
case("FB_cmp_old_open", "complaint received BD−200, still `received` (no window for complaints)",
     complaints=[("received", sh(-200), None)])
case("FB_cmp_old_informed", "complaint received BD−100, `informed` (clock stopped, not closed)",
     complaints=[("informed", sh(-100), None)])
case("FB_cmp_closed_bd", "complaint closed at 23:59:59 Shanghai on BD", complaints=[("closed", sh(-20), sh(0, "23:59:59"))])
case("FB_cmp_closed_after_bd", "complaint received BD−5, closed BD+1 00:00:01 Shanghai (open on BD, closed now)",
     complaints=[("closed", sh(-5), sh(1, "00:00:01"))])
case("FB_cmp_recv_after_bd", "complaint received BD+1 00:00:00 Shanghai, `received` (not yet on BD)",
     complaints=[("received", sh(1, "00:00:00"), None)])
case("FB_cmp_recv_bd_2359", "complaint received BD 23:59:59 Shanghai (= BD 15:59:59Z), `received`",
     complaints=[("received", utc(0, "15:59:59"), None)])
case("FB_cmp_two_one_open", "two complaints: one closed, one acknowledged",
     complaints=[("closed", sh(-40), sh(-30)), ("acknowledged", sh(-2), None)])
case("FB_cmp_closed_and_csat3", "closed complaint and CSAT 3", [("csat", 3, sh(-1))], [("closed", sh(-10), sh(-2))])
case("FB_cmp_closed_and_nps6", "closed complaint and NPS 6 on BD−29", [("nps", 6, sh(-29))], [("closed", sh(-10), sh(-2))])
case("FB_cmp_open_and_csat1", "open complaint and CSAT 1", [("csat", 1, sh(-3))], [("extended", sh(-20), None)])


# ---- the oracle ------------------------------------------------------------------------------------
READING = dict(window=WINDOW, day="shanghai", future="ignore", surveys="any", open_states="not_closed",
               complaints="as_of_bd")
# single changes of the reading, to say which one the product takes when it disagrees
ALT = {
    "window BD−30…BD (31 days)": dict(window=WINDOW + 1),
    "window BD−28…BD (29 days)": dict(window=WINDOW - 1),
    "day = UTC day of the timestamp": dict(day="utc"),
    "surveys after BD count": dict(future="count"),
    "only the latest survey of each kind counts": dict(surveys="latest"),
    "open = received/acknowledged/extended only": dict(open_states="before_decided"),
    "open = clock running (received…decided)": dict(open_states="clock"),
    "complaints by their current state, whatever BD": dict(complaints="current"),
}
OPEN = {"not_closed": set(STATES) - {"closed"}, "before_decided": {"received", "acknowledged", "extended"},
        "clock": {"received", "acknowledged", "extended", "decided"}}


def tday(ts, how):
    if how == "utc":
        return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(dt.timezone.utc).date()
    return O.shanghai_day(ts)


def expect(surveys, complaints, bd, r=READING):
    """None, or the figures of `dissatisfied` on bd under reading r."""
    lo = bd - dt.timedelta(days=r["window"] - 1)
    seen = [(tday(ts, r["day"]), ts, kind, score) for kind, score, ts in surveys]
    seen = [x for x in seen if r["future"] == "count" or x[0] <= bd]
    if r["surveys"] == "latest":
        latest = {}
        for x in sorted(seen, key=lambda x: dt.datetime.fromisoformat(x[1].replace("Z", "+00:00"))):
            latest[x[2]] = x
        seen = list(latest.values())
    low = [(d, kind, score) for d, ts, kind, score in seen
           if lo <= d and score <= (CSAT_MAX if kind == "csat" else NPS_MAX)]
    open_n = 0
    for state, rec, closed in complaints:
        if r["complaints"] == "current":
            open_n += state in OPEN[r["open_states"]]
            continue
        if tday(rec, r["day"]) > bd:
            continue
        if state == "closed" and closed and tday(closed, r["day"]) > bd:
            open_n += 1             # closed after BD: still open on BD
        elif state in OPEN[r["open_states"]]:
            open_n += 1
    if not low and not open_n:
        return None
    csat = [s for _, k, s in low if k == "csat"]
    nps = [s for _, k, s in low if k == "nps"]
    fig = {"window_days": r["window"], "open_complaints": open_n}
    if csat:
        fig["min_csat"] = min(csat)     # the lowest qualifying score in the window
    if nps:
        fig["min_nps"] = min(nps)
    return fig


# ---- the book and the collector's rows ---------------------------------------------------------------
def feed(path):
    recs = []
    for cid, *_ in CASES:
        recs.append({"type": "customer", "customer_id": cid, "name": "测试", "id_type": "passport",
                     "id_number": "P" + cid, "risk_level": "C3", "risk_assessed_on": "2026-01-01", "rm_id": "RM1",
                     "branch_id": "B1", "opened_on": "2020-01-01", "status": "active"})
        recs.append({"type": "account", "account_id": cid + "A", "customer_id": cid, "product": "demand_deposit",
                     "currency": "CNY", "opened_on": "2020-01-01"})
        for d in ("2025-12-01", day(-1), day(1)):
            recs.append({"type": "balance", "account_id": cid + "A", "as_of": d, "balance": money(8_000_000)})
        recs.append({"type": "transaction", "txn_id": "T" + cid, "account_id": cid + "A",
                     "booked_at": sh(-2, "10:00:00"), "amount": money(-100), "category": "withdrawal",
                     "channel": "mobile"})
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def q(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def feedback_sql():
    """The rows as tierguard-feedback stores them (schema 0003_feedback.sql): surveys; complaints with the
    clock fields their state implies (received_on = Shanghai day of receipt, due + 15 / + 30) and their events."""
    out = ["BEGIN;"]
    n = 0
    for cid, _, surveys, complaints in CASES:
        for kind, score, ts in surveys:
            n += 1
            out.append("INSERT INTO feedback_surveys (survey_id, customer_id, kind, score, touchpoint, answered_at, "
                       f"comment, source) VALUES ({q(f'S-{n}')}, {q(cid)}, {q(kind)}, {score}, 'branch', {q(ts)}, "
                       f"NULL, 'crm');")
        for state, rec, closed in complaints:
            n += 1
            k = f"K-{n}"
            ron = O.shanghai_day(rec)
            t0 = dt.datetime.fromisoformat(rec.replace("Z", "+00:00"))
            at = lambda h: (t0 + dt.timedelta(hours=h)).isoformat()
            i = STATES.index(state)
            ext = 1 if i >= 2 else 0
            due0 = ron + dt.timedelta(days=15)
            due1 = ron + dt.timedelta(days=30) if ext else None
            evs = [("assigned", at(0.1), None), ("acknowledged", at(1), None)][: 1 + (i >= 1)]
            if ext:
                evs.append(("extended", at(2), due1))
            if i >= 3:
                evs.append(("decided", at(3), None))
            if i >= 4:
                evs.append(("informed", at(4), None))
            if i >= 5:
                evs.append(("closed", closed, None))
            out.append(
                "INSERT INTO complaints (complaint_id, customer_id, received_at, received_on, channel, category, "
                "severity, description, handler_id, state, initial_due_on, extended_due_on, decision_due_on, extensions, "
                "acknowledged_at, decided_at, decision, informed_at, closed_at, close_cause, source) VALUES ("
                f"{q(k)}, {q(cid)}, {q(rec)}, {q(ron)}, 'branch', 'service', 'medium', NULL, 'H1', {q(state)}, "
                f"{q(due0)}, {q(due1)}, {q(due1 or due0)}, {ext}, {q(at(1) if i >= 1 else None)}, "
                f"{q(at(3) if i >= 3 else None)}, NULL, {q(at(4) if i >= 4 else None)}, "
                f"{q(closed if i >= 5 else None)}, {q('resolved' if i >= 5 else None)}, 'crm');")
            for j, (typ, when, due) in enumerate(evs):
                out.append("INSERT INTO complaint_events (event_id, complaint_id, type, occurred_at, handler_id, "
                           f"due_on_after, source) VALUES ({q(f'{k}-E{j}')}, {q(k)}, {q(typ)}, {q(when)}, 'H1', "
                           f"{q(due)}, 'crm');")
    out.append("COMMIT;")
    return "\n".join(out)


# ---- compare -----------------------------------------------------------------------------------------
def product_dissatisfied(db, bd):
    q_ = f"""select row_to_json(t) from (select distinct on (customer_id) customer_id, signal_codes, signals,
             retention_probability from customer_scores where business_date = '{bd}'
             order by customer_id, id desc) t"""
    return {r["customer_id"]: r for r in (json.loads(l) for l in C.psql(db, q_).splitlines() if l)}


def figures_of(row):
    for s in row.get("signals") or []:
        if isinstance(s, dict) and s.get("code") == "dissatisfied":
            return s
    return None


def main():
    db = sys.argv[1] if len(sys.argv) > 1 else "feedback"
    os.makedirs(C.WORK, exist_ok=True)
    path = f"{C.WORK}/{db}.ndjson"
    feed(path)
    out, rej = C.setup(db, path)
    if "rejected" in out and " 0 rejected" not in out:
        print("REJECTS:\n" + rej, file=sys.stderr)
    r = C.subprocess.run(["psql", C.url(db), "-q", "-v", "ON_ERROR_STOP=1"], input=feedback_sql(),
                         capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("inserting the feedback rows failed:\n" + r.stderr)
    books = O.group_feed(json.loads(l) for l in open(path) if l.strip())
    disagree, notes, figname = [], [], {}
    raised = {"product": 0, "oracle": 0}
    ncomp = 0
    for bd in BDS:
        bds = bd.isoformat()
        mism = []
        if not C.rescore(db, bds, bds, mism, []):
            disagree.append(("*", bds, "rescore failed", mism[0][3], "", ""))
            continue
        rows = product_dissatisfied(db, bds)
        for cid, point, surveys, complaints in CASES:
            ncomp += 1
            row = rows.get(cid)
            if row is None:
                disagree.append((cid, bds, point, "no score row", "a score row", ""))
                continue
            p = "dissatisfied" in (row.get("signal_codes") or [])
            o = expect(surveys, complaints, bd)
            raised["product"] += p
            raised["oracle"] += o is not None
            if p != (o is not None):
                alts = [name for name, ch in ALT.items()
                        if (expect(surveys, complaints, bd, dict(READING, **ch)) is not None) == p]
                disagree.append((cid, bds, point, p, o, alts))
                continue
            # retention probability (report only): the oracle's other codes + ours
            sc = O.Scorer(books[cid], bd).score()
            codes = set(sc["signals"]) | ({"downgrade_risk"} if sc["warning_date"] else set()) | \
                ({"dissatisfied"} if o else set())
            lin = O.POLICY["retention_intercept"] + sum(O.POLICY["retention_coef"][c] for c in codes)
            if abs(row["retention_probability"] - 1 / (1 + math.exp(-lin))) > 1e-9:
                notes.append(f"{cid} bd={bds}: retention_probability product={row['retention_probability']} "
                             f"oracle={1 / (1 + math.exp(-lin))} (codes {sorted(codes)})")
            if not o:
                continue
            s = figures_of(row)
            fig = (s or {}).get("figures")
            if not isinstance(fig, dict):
                notes.append(f"{cid} bd={bds}: product lists no figures for dissatisfied: {json.dumps(s, ensure_ascii=False)}")
                continue
            names = set(fig)
            if names != set(o):
                figname.setdefault((tuple(sorted(names)), tuple(sorted(o))), []).append(
                    f"{cid} bd={bds} product {json.dumps(fig, ensure_ascii=False)} oracle {json.dumps(o, ensure_ascii=False)}")
            for k in names & set(o):
                pv = fig[k]
                if pv != o[k]:
                    notes.append(f"{cid} bd={bds}: figure {k} product={pv} oracle={o[k]} "
                                 f"(product {json.dumps(fig, ensure_ascii=False)})")
    print("(each case's point is written relative to BD 2026-03-10; on the other dates it shifts accordingly)")
    print(f"compared {ncomp} customer-scorings: {len(CASES)} customers x {len(BDS)} business dates "
          f"({', '.join(d.isoformat() for d in BDS)}, in that order); dissatisfied raised: "
          f"product {raised['product']}, oracle {raised['oracle']}")
    for (pn, on), ex in sorted(figname.items()):
        print(f"note: figure names differ (not a failure): product {list(pn)} vs oracle {list(on)}, "
              f"{len(ex)} scorings, e.g. {'; '.join(ex[:3])}")
    for n in notes[:40]:
        print("note:", n)
    if len(notes) > 40:
        print(f"note: … {len(notes) - 40} more")
    if disagree:
        print(f"== dissatisfied: {len(disagree)} disagreements")
        for cid, bds, point, p, o, alts in disagree:
            print(f"   {cid} bd={bds} [{point}] product={p} oracle={o is not None}"
                  f"{' ' + json.dumps(o, ensure_ascii=False) if o else ''}"
                  f"{'; product agrees with: ' + '; '.join(alts) if alts else ''}")
    json.dump([[str(x) for x in d] for d in disagree], open(f"{C.WORK}/{db}.mism.json", "w"), ensure_ascii=False, indent=0)
    return len(disagree)


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
