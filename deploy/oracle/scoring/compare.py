"""Load a feed through the real pipeline, rescore the whole book on business dates, compare every
customer's newest score row and tier history with the oracle (oracle.py), field by field, to the fen.

Usage: compare.py FEED.ndjson DBNAME [BD ...|auto] [--shuffle] [--show N]
  auto: the feed's last balance day and up to 18 more (1sts, 15ths, month ends, 29 February).
  --shuffle: score the business dates in a random order (a replayed history scores the same).
Environment: TIERGUARD_ORACLE_PORT (a throwaway PostgreSQL on 127.0.0.1, user postgres),
TIERGUARD_ORACLE_BIN (tierguardctl, tierguard-ingest, tierguard-scorer), TIERGUARD_ORACLE_WORK (output).
Prints each mismatch as `customer bd=… product=… oracle=…` grouped by field; exits 1 if there is any.
"""
import datetime as dt
import json
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict

import oracle as O

PORT = int(os.environ.get("TIERGUARD_ORACLE_PORT", "56011"))
BIN = os.environ.get("TIERGUARD_ORACLE_BIN", "/tmp/oracle-bin")
WORK = os.environ.get("TIERGUARD_ORACLE_WORK", "runs")


def url(db):
    return f"postgres://postgres@127.0.0.1:{PORT}/{db}?sslmode=disable"


def sh(cmd, env=None, check=True):
    r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, env=env)
    if check and r.returncode != 0:
        raise SystemExit(f"command failed: {cmd}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def psql(db, sql):
    return sh(["psql", url(db), "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])


def env_for(db, bd=None):
    e = dict(os.environ, DATABASE_URL=url(db), TIERGUARD_OPERATOR="oracle", TIERGUARD_LOG_LEVEL="error")
    e.pop("TIERGUARD_BUSINESS_DATE", None)
    if bd:
        e["TIERGUARD_BUSINESS_DATE"] = bd
    return e


def setup(db, feed):
    sh(f"dropdb -h 127.0.0.1 -p {PORT} -U postgres --if-exists {db}")
    sh(f"createdb -h 127.0.0.1 -p {PORT} -U postgres {db}")
    sh([f"{BIN}/tierguardctl", "migrate"], env_for(db))
    out = sh([f"{BIN}/tierguard-ingest", "load", feed], env_for(db))
    print(out.strip().splitlines()[-1] if out.strip() else out, file=sys.stderr)
    rej = sh([f"{BIN}/tierguardctl", "rejects"], env_for(db), check=False)
    return out, rej


def product_rows(db, bd):
    q = f"""select row_to_json(t) from (select distinct on (customer_id) * from customer_scores
            where business_date = '{bd}' order by customer_id, id desc) t"""
    rows = {}
    for line in psql(db, q).splitlines():
        if line:
            r = json.loads(line)
            rows[r["customer_id"]] = r
    hist = defaultdict(list)
    q = "select row_to_json(h) from (select * from customer_tier_history order by customer_id, effective_on) h"
    for line in psql(db, q).splitlines():
        if line:
            h = json.loads(line)
            hist[h["customer_id"]].append(h)
    return rows, hist


def status_rows(db):
    """customer_status, the operators' view: one row per customer from its newest score row."""
    q = "select row_to_json(v) from customer_status v"
    return {r["customer_id"]: r for r in (json.loads(line) for line in psql(db, q).splitlines() if line)}


def compare_status(cid, bd, sc, st, mism):
    """The view's figures against the oracle's: averages are the sums divided by the days, rounded down."""
    if st is None or st.get("business_date") != bd:
        mism.append((cid, bd, "status:row", None if st is None else st.get("business_date"), bd))
        return
    def avg(total, days):
        return total // days
    expected = {
        "tier": sc["tier"], "is_provisional": sc["is_provisional"], "watch_months": sc["watch_months"],
        "aum_fen": sc["aum_fen"], "mtd_avg_fen": avg(sc["mtd_sum_fen"], sc["mtd_days"]),
        "downgrade_date": s(sc["warning_date"]), "downgrade_to_tier": sc["warning_to_tier"],
        "gap_fen": sc["warning_gap_fen"], "extra_daily_fen": sc["warning_extra_daily_fen"],
    }
    for i in (1, 2, 3):
        expected[f"m{i}_month"] = sc[f"m{i}_month"].strftime("%Y-%m")
        expected[f"m{i}_avg_fen"] = avg(sc[f"m{i}_sum_fen"], sc[f"m{i}_days"])
    for field, value in expected.items():
        if st.get(field) != value:
            mism.append((cid, bd, "status:" + field, st.get(field), value))
    signals = set(st.get("open_signals") or []) - {"dissatisfied"}
    if signals != set(sc["signals"]):
        mism.append((cid, bd, "status:open_signals", sorted(signals), sorted(sc["signals"])))


def s(v):
    return None if v is None else (v.isoformat() if isinstance(v, dt.date) else v)


def compare(cid, bd, book, pr, ph, mism):
    sc = O.Scorer(book, dt.date.fromisoformat(bd)).score()

    def cmp(field, pv, ov):
        if pv != ov:
            mism.append((cid, bd, field, pv, ov))

    if pr is None:
        mism.append((cid, bd, "row", "missing", "expected a score row"))
        return sc
    for f in ["first_balance_date", "aum_fen", "mtd_sum_fen", "mtd_days", "tier", "is_provisional", "watch_months",
              "warning_date", "warning_from_tier", "warning_to_tier", "warning_gap_fen", "warning_extra_daily_fen"] + \
             [f"m{i}_{x}" for i in (1, 2, 3) for x in ("month", "sum_fen", "days", "before_first")]:
        cmp(f, pr.get(f), s(sc[f]))
    # signals
    pcodes = set(pr["signal_codes"] or [])
    ocodes = set(sc["signals"])
    pcodes.discard("dissatisfied")
    for code in sorted(pcodes | ocodes):
        if (code in pcodes) != (code in ocodes):
            mism.append((cid, bd, f"signal:{code}", code in pcodes, f"{code in ocodes} {sc['signals'].get(code, '')}"))
    psig = {x["code"]: x for x in (pr["signals"] or [])}
    for code in pcodes & ocodes:
        fig = psig[code].get("figures", {})
        o = sc["signals"][code]

        def g(k):
            v = fig.get(k)
            return v["fen"] if isinstance(v, dict) and "fen" in v else v

        def days_since(k):
            """BD − the product's date figure `k`: the product states dates, not day counts."""
            d = g(k)
            return (dt.date.fromisoformat(bd) - dt.date.fromisoformat(d)).days if d else None
        if code == "sudden_drop":
            cmp("sudden_drop.aum", g("aum"), o["aum"]); cmp("sudden_drop.high", g("high"), o["high"])
        elif code == "outflow_to_competitor":
            cmp("outflow.total", g("total") if "total" in fig else g("outflow"), o["total"])
            cmp("outflow.base", g("base_aum") if "base_aum" in fig else g("aum_7_days_ago"), o["base_aum"])
        elif code == "maturity_upcoming":
            cmp("maturity.total", g("total"), o["total"])
            cmp("maturity.accounts", sorted(psig[code].get("accounts", [])), o["accounts"])
            for a in o["accounts"]:
                cmp("maturity.amount", g("amount:" + a), O.Scorer(book, dt.date.fromisoformat(bd)).acct_aum(a, dt.date.fromisoformat(bd)))
        elif code == "inactive":
            since = "last_activity_on" if g("last_activity_on") else "opened_on"
            cmp("inactive.days", days_since(since), o["days"])
        elif code == "credit_risk":
            cmp("credit_risk.spend", g("card_spend"), o["spend"]); cmp("credit_risk.income", g("annual_income"), o["income"])
        elif code == "risk_assessment_expired":
            cmp("risk_expired.days", days_since("risk_assessed_on"), o["days"])
    # history
    phl = [(h["effective_on"], h["from_tier"], h["to_tier"], h["kind"], h["deciding_month"]) for h in ph]
    ohl = [tuple(s(x) for x in e) for e in sc["history"]]
    if phl != ohl:
        mism.append((cid, bd, "history", phl, ohl))
    # retention probability
    if abs(pr["retention_probability"] - sc["retention_probability"]) > 1e-9:
        mism.append((cid, bd, "retention_probability", pr["retention_probability"], sc["retention_probability"]))
    # aum by product
    abp = {k: v for k, v in (pr["value"]["contribution"].get("aum_by_product") or {}).items() if v}
    cmp("aum_by_product", abp, sc["aum_by_product"])
    # suitability
    expired = "risk_assessment_expired" in ocodes
    for e in O.check_suitability(book.c, pr["recommendations"] or [], pr["suitability"] or [], expired):
        mism.append((cid, bd, "suitability", e, ""))
    return sc


def choose_bds(books, end, rng, n=18):
    bds = {end}
    firsts = sorted(min((d for l in b.balances.values() for d, _ in l), default=end) for b in books.values())
    lo = firsts[len(firsts) // 4] if firsts else end
    d = O.month_start(lo)
    cands = []
    while d <= end:
        cands += [d, O.month_end(d), d.replace(day=min(15, O.dim(d.year, d.month)))]
        if d.month == 2 and O.dim(d.year, 2) == 29:
            bds.add(d.replace(day=29))
        d = O.add_months(d, 1)
    cands = [c for c in cands if c <= end]
    rng.shuffle(cands)
    for c in cands[:n]:
        bds.add(c)
    return sorted(bds)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = 6
    if "--show" in sys.argv:
        show = int(sys.argv[sys.argv.index("--show") + 1])
        args.remove(str(show))
    feed, db = args[0], args[1]
    recs = [json.loads(l) for l in open(feed) if l.strip()]
    books = O.group_feed(recs)
    end = max(dt.date.fromisoformat(r["as_of"]) for r in recs if r["type"] == "balance")
    if "--noload" not in sys.argv:
        out, rej = setup(db, feed)
        if "rejected" in out and " 0 rejected" not in out:
            print("REJECTS:\n" + rej, file=sys.stderr)
    bds = args[2:] if len(args) > 2 and args[2] != "auto" else choose_bds(books, end, random.Random(db))
    if "--shuffle" in sys.argv:
        bds = list(bds); random.Random(7).shuffle(bds)
    mism = []
    ncomp = 0
    done_bds = []
    stats = Counter()
    for bd in (bd if isinstance(bd, str) else bd.isoformat() for bd in bds):
        envbd = None if bd == end.isoformat() and "--envbd" not in sys.argv else bd
        ok = rescore(db, bd, envbd, mism, done_bds)
        done_bds.append(bd)
        if not ok:
            continue
        rows, hist = product_rows(db, bd)
        status = status_rows(db)
        for cid, b in books.items():
            sc = compare(cid, bd, b, rows.get(cid), hist.get(cid, []), mism)
            compare_status(cid, bd, sc, status.get(cid), mism)
            ncomp += 1
            stats["tier:" + sc["tier"] + (":prov" if sc["is_provisional"] else "")] += 1
            for c in sc["signals"]:
                stats["sig:" + c] += 1
            if sc["warning_date"]:
                stats["warning"] += 1
                stats["warning_gap_null" if sc["warning_gap_fen"] is None else "warning_gap"] += 1
            if sc["watch_months"]:
                stats["watch>0"] += 1
            stats["downgrades_in_history"] += sum(1 for e in sc["history"] if e[3] == "downgrade")
    print(f"compared {ncomp} customer-scorings: {len(books)} customers x {len(bds)} business dates "
          f"({min(map(str, bds))} .. {max(map(str, bds))})")
    print("oracle stats:", dict(sorted(stats.items())))
    return report(mism, db, show)


def report(mism, name, show=6):
    """Prints the mismatches grouped by field, writes them to WORK/NAME.mism.json; their count."""
    by = defaultdict(list)
    for m in mism:
        by[m[2]].append(m)
    for f, ms in sorted(by.items()):
        print(f"== {f}: {len(ms)} mismatches")
        for m in ms[:show]:
            print(f"   {m[0]} bd={m[1]} product={m[3]} oracle={m[4]}")
    os.makedirs(WORK, exist_ok=True)
    json.dump([list(map(str, m)) for m in mism], open(f"{WORK}/{name}.mism.json", "w"), ensure_ascii=False, indent=0)
    return len(mism)


def rescore(db, bd, env_bd, mism, done):
    """Whole-book rescore on `bd`; a failure is a mismatch (nothing to compare on that date): False."""
    r = subprocess.run([f"{BIN}/tierguardctl", "rescore", "--all"], env=env_for(db, env_bd), capture_output=True, text=True)
    if r.returncode != 0:
        mism.append(("*", bd, "rescore_failed", r.stderr.strip()[-300:], f"dates scored before: {done}"))
        return False
    return True


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
