"""Hand-written cases at and just past each threshold, as one NDJSON feed. Usage: cases.py OUT.ndjson
Each case is one customer whose id names the rule; most are judged on BD 2026-03-10."""
import datetime as dt
import json
import sys

from generate import money

BD = dt.date(2026, 3, 10)
recs = []


def d(x):
    return x.isoformat() if isinstance(x, dt.date) else x


def cust(cid, **kw):
    c = {"type": "customer", "customer_id": cid, "name": "测试", "id_type": "passport", "id_number": "P" + cid,
         "risk_level": "C3", "risk_assessed_on": "2026-01-01", "rm_id": "RM1", "branch_id": "B1",
         "opened_on": "2020-01-01", "status": "active"}
    c.update({k: d(v) for k, v in kw.items()})
    recs.append(c)


def acct(aid, cid, product="demand_deposit", **kw):
    a = {"type": "account", "account_id": aid, "customer_id": cid, "product": product, "currency": "CNY",
         "opened_on": "2020-01-01"}
    a.update({k: d(v) for k, v in kw.items()})
    recs.append(a)


def bal(aid, day, f):
    recs.append({"type": "balance", "account_id": aid, "as_of": d(day), "balance": money(f)})


n = [0]


def tx(aid, booked, f, cat, bank=None):
    n[0] += 1
    t = {"type": "transaction", "txn_id": f"H{n[0]}", "account_id": aid, "booked_at": booked, "amount": money(f),
         "category": cat, "channel": "mobile"}
    if bank is not None:
        t["counterparty_bank"] = bank
    recs.append(t)


def D(s):
    return dt.date.fromisoformat(s)


def days(k):
    return dt.timedelta(days=k)


# recent activity so inactive does not fire unless wanted
def active(aid):
    tx(aid, f"{(BD - days(1)).isoformat()}T10:00:00+08:00", -100, "withdrawal")


# ---- sudden_drop ---------------------------------------------------------
for cid, high, now, hi_day in [("SD_at70", 10_000_000, 7_000_000, 1), ("SD_past70", 10_000_000, 7_000_001, 1),
                               ("SD_min_at", 5_000_000, 0, 1), ("SD_min_below", 4_999_999, 0, 1),
                               ("SD_hi_bd7", 10_000_000, 7_000_000, 7), ("SD_hi_bd8", 10_000_000, 7_000_000, 8)]:
    cust(cid); acct(cid + "A", cid)
    bal(cid + "A", D("2025-12-01"), 1_000_000)
    bal(cid + "A", BD - days(hi_day), high)
    bal(cid + "A", BD - days(hi_day) + days(1), 1_000_000) if hi_day > 1 else None
    bal(cid + "A", BD, now)
    active(cid + "A")

# ---- outflow_to_competitor ----------------------------------------------
for cid, base, out, bank, when in [
        ("OF_at30", 100_000_000, 30_000_000, "ICBC", "BD"), ("OF_below30", 100_000_000, 29_999_999, "ICBC", "BD"),
        ("OF_min_at", 10_000_000, 10_000_000, "ICBC", "BD"), ("OF_min_below", 10_000_000, 9_999_999, "ICBC", "BD"),
        ("OF_own", 10_000_000, 50_000_000, "TGBK", "BD"), ("OF_own_lc", 10_000_000, 50_000_000, "tgbk", "BD"),
        ("OF_empty", 10_000_000, 50_000_000, "", "BD"), ("OF_absent", 10_000_000, 50_000_000, None, "BD"),
        ("OF_edge_in", 10_000_000, 50_000_000, "ICBC", "BD-6 00:00 sh"),
        ("OF_edge_out", 10_000_000, 50_000_000, "ICBC", "BD-7 23:59 sh"),
        ("OF_utc_in", 10_000_000, 50_000_000, "ICBC", "BD-7 16:00Z"),
        ("OF_after_bd", 10_000_000, 50_000_000, "ICBC", "BD 16:00Z")]:
    cust(cid); acct(cid + "A", cid)
    bal(cid + "A", D("2025-12-01"), base)
    bal(cid + "A", BD - days(2), base)
    bal(cid + "A", BD, base)
    active(cid + "A")
    b7 = (BD - days(7)).isoformat(); b6 = (BD - days(6)).isoformat()
    ts = {"BD": f"{BD.isoformat()}T09:00:00+08:00", "BD-6 00:00 sh": f"{b6}T00:00:00+08:00",
          "BD-7 23:59 sh": f"{b7}T23:59:59.999999999+08:00", "BD-7 16:00Z": f"{b7}T16:00:00Z",
          "BD 16:00Z": f"{BD.isoformat()}T16:00:00Z"}[when]
    tx(cid + "A", ts, -out, "transfer_out", bank)
# reversal nets off; loan account counts
cid = "OF_reversal"; cust(cid); acct(cid + "A", cid); acct(cid + "L", cid, "loan")
bal(cid + "A", D("2025-12-01"), 10_000_000); bal(cid + "L", D("2025-12-01"), 50_000_000); active(cid + "A")
tx(cid + "A", f"{BD.isoformat()}T09:00:00+08:00", -12_000_000, "transfer_out", "ICBC")
tx(cid + "L", f"{BD.isoformat()}T09:00:00+08:00", 2_000_001, "transfer_out", "ICBC")
cid = "OF_loanacct"; cust(cid); acct(cid + "A", cid); acct(cid + "L", cid, "loan")
bal(cid + "A", D("2025-12-01"), 10_000_000); bal(cid + "L", D("2025-12-01"), 50_000_000); active(cid + "A")
tx(cid + "L", f"{BD.isoformat()}T09:00:00+08:00", -10_000_000, "transfer_out", "ICBC")

# ---- maturity_upcoming ---------------------------------------------------
for cid, prod, mat, amt, extra in [
        ("MU_d14", "time_deposit", 14, 10_000_000, {}), ("MU_d15", "time_deposit", 15, 10_000_000, {}),
        ("MU_d0", "wealth", 0, 10_000_000, {}), ("MU_dm1", "wealth", -1, 10_000_000, {}),
        ("MU_amt_below", "time_deposit", 5, 9_999_999, {}), ("MU_fund", "fund", 5, 50_000_000, {}),
        ("MU_closed", "time_deposit", 5, 50_000_000, {"closed_on": BD}),
        ("MU_closed_next", "time_deposit", 5, 50_000_000, {"closed_on": BD + days(1)}),
        ("MU_negative", "time_deposit", 5, -50_000_000, {})]:
    cust(cid); acct(cid + "A", cid); acct(cid + "T", cid, prod, maturity_on=BD + days(mat), **extra)
    bal(cid + "A", D("2025-12-01"), 1_000_000); active(cid + "A")
    bal(cid + "T", D("2025-12-01"), amt)
cid = "MU_two"; cust(cid); acct(cid + "A", cid)
acct(cid + "T1", cid, "time_deposit", maturity_on=BD + days(3)); acct(cid + "T2", cid, "wealth", maturity_on=BD + days(9))
bal(cid + "A", D("2025-12-01"), 1_000_000); active(cid + "A")
bal(cid + "T1", D("2025-12-01"), 10_000_000); bal(cid + "T2", D("2025-12-01"), 30_000_000)

# ---- inactive --------------------------------------------------------------
for cid, last, cat in [("IN_60", 60, "withdrawal"), ("IN_59", 59, "withdrawal"), ("IN_fee_only", None, "fee")]:
    cust(cid, opened_on="2020-01-01"); acct(cid + "A", cid); bal(cid + "A", D("2025-12-01"), 10_000_000)
    if last is not None:
        tx(cid + "A", f"{(BD - days(last)).isoformat()}T12:00:00+08:00", -100, cat)
    tx(cid + "A", f"{(BD - days(3)).isoformat()}T12:00:00+08:00", 5, "interest")
    tx(cid + "A", f"{(BD - days(2)).isoformat()}T12:00:00+08:00", -5, "fee")
for cid, opened in [("IN_open60", BD - days(60)), ("IN_open59", BD - days(59))]:
    cust(cid, opened_on=opened); acct(cid + "A", cid); bal(cid + "A", D("2025-12-01"), 10_000_000)
cid = "IN_standard"; cust(cid); acct(cid + "A", cid); bal(cid + "A", D("2025-12-01"), 4_999_999)
cid = "IN_prov_gold"; cust(cid); acct(cid + "A", cid); bal(cid + "A", D("2026-03-01"), 5_000_000)
cid = "IN_txn_after_bd"; cust(cid); acct(cid + "A", cid); bal(cid + "A", D("2025-12-01"), 10_000_000)
tx(cid + "A", f"{BD.isoformat()}T20:00:00Z", -100, "withdrawal")  # BD+1 in Shanghai
cid = "IN_utc_day"; cust(cid); acct(cid + "A", cid); bal(cid + "A", D("2025-12-01"), 10_000_000)
tx(cid + "A", f"{(BD - days(60)).isoformat()}T17:00:00Z", -100, "withdrawal")  # BD-59 in Shanghai

# ---- credit_risk: income 120,000 -> 2 x 10,000 = 20,000 yuan a month ------------------
for cid, spend, inc, extra in [("CR_at", 2_000_000, "120000.00", []), ("CR_past", 2_000_001, "120000.00", []),
                               ("CR_noinc", 9_000_000, None, []), ("CR_zero_inc", 100, "0.00", []),
                               ("CR_reversal", 2_000_101, "120000.00", [("card_spend", 100, 1)]),
                               ("CR_repay", 2_000_000, "120000.00", [("repayment", 5_000_000, 1)]),
                               ("CR_day29", 2_000_000, "120000.00", [("card_spend", -1, 29)]),
                               ("CR_day30", 2_000_000, "120000.00", [("card_spend", -1, 30)]),
                               ("CR_odd", 1_000_001, "60000.05", [])]:
    kw = {"annual_income": inc} if inc else {}
    cust(cid, **kw); acct(cid + "A", cid); acct(cid + "K", cid, "credit_card")
    bal(cid + "A", D("2025-12-01"), 1_000_000); bal(cid + "K", D("2025-12-01"), -1_000_000); active(cid + "A")
    tx(cid + "K", f"{(BD - days(3)).isoformat()}T12:00:00+08:00", -spend, "card_spend")
    for cat, amt, back in extra:
        tx(cid + "K", f"{(BD - days(back)).isoformat()}T12:00:00+08:00", amt, cat)

# ---- risk assessment ----------------------------------------------------------------
for cid, age, lvl, opt in [("RA_365", 365, "C5", False), ("RA_366", 366, "C5", False),
                           ("RA_opt", 10, "C5", True), ("RA_c1", 10, "C1", False), ("RA_c4", 10, "C4", False)]:
    cust(cid, risk_assessed_on=BD - days(age), risk_level=lvl, marketing_opt_out=opt)
    acct(cid + "A", cid); acct(cid + "T", cid, "time_deposit", maturity_on=BD + days(5))
    bal(cid + "A", D("2025-12-01"), 100_000_000); bal(cid + "T", D("2025-12-01"), 50_000_000); active(cid + "A")

# ---- tiers at the floor ------------------------------------------------------------------
for cid, f in [("TF_gold_at", 5_000_000), ("TF_plat_at", 50_000_000), ("TF_dia_at", 200_000_000),
               ("TF_pb_at", 600_000_000)]:
    cust(cid); acct(cid + "A", cid); bal(cid + "A", D("2026-02-01"), f); active(cid + "A")
    cid2 = cid.replace("_at", "_1fen")
    cust(cid2); acct(cid2 + "A", cid2); bal(cid2 + "A", D("2026-02-01"), f); bal(cid2 + "A", D("2026-02-14"), f - 1)
    bal(cid2 + "A", D("2026-02-15"), f); active(cid2 + "A")
    # compensate exactly: one day a fen short, another day a fen over
    cid3 = cid.replace("_at", "_comp")
    cust(cid3); acct(cid3 + "A", cid3); bal(cid3 + "A", D("2026-02-01"), f); bal(cid3 + "A", D("2026-02-14"), f - 1)
    bal(cid3 + "A", D("2026-02-15"), f + 1); bal(cid3 + "A", D("2026-02-16"), f); active(cid3 + "A")

# private banking grace 6 vs 3: private in 2025-08, then 5 or 6 months below
for cid, nbelow in [("PB_5below", 5), ("PB_6below", 6)]:
    cust(cid); acct(cid + "A", cid)
    start = D("2026-02-01")
    y, m = 2026, 2
    for _ in range(nbelow):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    first = dt.date(y, m, 1)
    pm = first.replace(month=first.month - 1) if first.month > 1 else first.replace(year=first.year - 1, month=12)
    bal(cid + "A", pm, 700_000_000)
    bal(cid + "A", first, 550_000_000)
    bal(cid + "A", first + days(40), 250_000_000)
    bal(cid + "A", D("2026-03-01"), 550_000_000)
    active(cid + "A")

# downgrade after 3: gold (m1) then 3 months below
for cid, seq in [("DG_3below", [6_000_000, 4_000_000, 4_000_000, 4_000_000]),
                 ("DG_2below", [6_000_000, 6_000_000, 4_000_000, 4_000_000]),
                 ("DG_partial_first", None),
                 ("UP_at_once", [1_000_000, 1_000_000, 1_000_000, 700_000_000])]:
    cust(cid); acct(cid + "A", cid); active(cid + "A")
    if seq:
        for i, v in enumerate(seq):
            bal(cid + "A", dt.date(2025, 11 + i, 1) if i < 2 else dt.date(2026, i - 1, 1), v)
    else:  # first balance on Nov 20 with 10,000,000 -> partial month avg below 50k? 10M*11/30 = 3.67M < 5M
        bal(cid + "A", D("2025-11-20"), 10_000_000)
        bal(cid + "A", D("2025-12-01"), 4_900_000)

# warning: gold customer below for 2 months, BD month partial -> warning on 04-01 with gap
for cid, lvl in [("WG_gold", 4_000_000), ("WG_gold_zero", 0)]:
    cust(cid); acct(cid + "A", cid); active(cid + "A")
    bal(cid + "A", D("2025-11-01"), 6_000_000); bal(cid + "A", D("2025-12-01"), 6_000_000)
    bal(cid + "A", D("2026-01-01"), lvl)

# leap february / closed mid-month / negative / loan-only / no accounts / late first balance in loan
cid = "LP_feb"; cust(cid); acct(cid + "A", cid); active(cid + "A")
bal(cid + "A", D("2024-01-31"), 5_000_000); bal(cid + "A", D("2024-02-29"), 1)
cid = "CL_mid"; cust(cid); acct(cid + "A", cid); acct(cid + "B", cid, "fund", closed_on="2026-02-15"); active(cid + "A")
bal(cid + "A", D("2026-01-01"), 3_000_000); bal(cid + "B", D("2026-01-01"), 3_000_000); bal(cid + "B", D("2026-02-20"), 3_000_000)
cid = "NEG"; cust(cid); acct(cid + "A", cid); acct(cid + "B", cid, "wealth"); active(cid + "A")
bal(cid + "A", D("2026-01-01"), 6_000_000); bal(cid + "B", D("2026-01-01"), -3_000_000)
cid = "LOANONLY"; cust(cid); acct(cid + "L", cid, "loan"); bal(cid + "L", D("2025-10-10"), 900_000_000)
cid = "NOACCT"; cust(cid)
cid = "LOANFIRST"; cust(cid); acct(cid + "L", cid, "credit_card"); acct(cid + "A", cid); active(cid + "A")
bal(cid + "L", D("2025-12-20"), -5); bal(cid + "A", D("2026-01-05"), 600_000_000)
cid = "FUTURE"; cust(cid); acct(cid + "A", cid); bal(cid + "A", D("2026-03-11"), 600_000_000)
cid = "DUPKEY"; cust(cid); acct(cid + "A", cid); bal(cid + "A", D("2026-01-01"), 600_000_000); active(cid + "A")
bal(cid + "A", D("2026-01-01"), 6_000_000)

with open(sys.argv[1], "w") as f:
    for r in recs:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(recs), "records")
