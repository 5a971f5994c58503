"""Random small books full of edge cases, as NDJSON. Usage: generate.py SEED N END_DATE OUT.ndjson [PREFIX]"""
import datetime as dt
import json
import random
import sys

from oracle import add_months, dim, month_start, ONE

FLOORS = [5_000_000, 50_000_000, 200_000_000, 600_000_000]
MULTS = [0.2, 0.6, 0.9, 0.97, 0.99, 0.999, 0.9999, 1.0, 1.0, 1.0001, 1.001, 1.01, 1.03, 1.2, 2.0]
OFFSETS = ["+08:00", "Z", "-05:00", "+09:00", "+00:00", "+05:30"]
BANKS = ["ICBC", "OTHR", "TGBK", "tgbk", "", None, "CMB"]


def money(f):
    s = "-" if f < 0 else ""
    f = abs(f)
    return f"{s}{f // 100}.{f % 100:02d}"


def ts(rng, d):
    off = rng.choice(OFFSETS)
    # near midnight often, so the Shanghai day differs from the local day
    h = rng.choice([0, 0, 1, 7, 12, 15, 16, 17, 23, 23])
    mi, se = rng.randrange(60), rng.randrange(60)
    frac = rng.choice(["", ".5", ".123456789"])
    return f"{d.isoformat()}T{h:02d}:{mi:02d}:{se:02d}{frac}{off}"


def gen_customer(rng, cid, end, ctr):
    recs = []
    nmonths = rng.randint(1, 14)
    start_m = add_months(month_start(end), -(nmonths - 1))
    # first balance: day 1, mid-month or last day
    sdim = dim(start_m.year, start_m.month)
    start = start_m.replace(day=rng.choice([1, 1, 2, 15, sdim, rng.randint(1, sdim)]))
    if start > end:
        start = end
    F = rng.choice(FLOORS)
    if rng.random() < 0.1:
        F = 1_000_000  # standard-ish
    # monthly levels with persistence
    levels = {}
    m = month_start(start)
    cur = rng.choice(MULTS)
    while m <= end:
        if rng.random() < 0.45:
            cur = rng.choice(MULTS)
        if rng.random() < 0.05:
            F = rng.choice(FLOORS)
        levels[m] = int(F * cur)
        m = add_months(m, 1)
    risk = f"C{rng.randint(1, 5)}"
    ra = end - dt.timedelta(days=rng.randint(250, 500))
    opened = start - dt.timedelta(days=rng.choice([0, 10, 400, 3000]))
    c = {"type": "customer", "customer_id": cid, "name": "测试", "id_type": "passport",
         "id_number": "P" + cid, "risk_level": risk, "risk_assessed_on": ra.isoformat(),
         "rm_id": "RM1", "branch_id": "B1", "opened_on": opened.isoformat(),
         "status": rng.choice(["active"] * 5 + ["closed"])}
    inc_choice = rng.random()
    if inc_choice < 0.6:
        c["annual_income"] = money(rng.choice([12_000_000, 60_000_000, 24_000_000, rng.randint(1, 100_000_000)]))
    elif inc_choice < 0.67:
        c["annual_income"] = "0.00"
    if rng.random() < 0.15:
        c["marketing_opt_out"] = True
    recs.append(c)

    nacc = rng.randint(1, 5)
    prods = ["demand_deposit"] + [rng.choice(["demand_deposit", "time_deposit", "wealth", "fund", "insurance",
                                               "loan", "credit_card", "time_deposit", "wealth"]) for _ in range(nacc - 1)]
    accts = []
    for i, p in enumerate(prods):
        ctr[0] += 1
        aid = f"{cid}A{i}"
        a = {"type": "account", "account_id": aid, "customer_id": cid, "product": p, "currency": "CNY",
             "opened_on": opened.isoformat()}
        if p in ("time_deposit", "wealth") and rng.random() < 0.85:
            a["maturity_on"] = (end - dt.timedelta(days=rng.randint(-30, 90))).isoformat()
            if a["maturity_on"] < a["opened_on"]:
                a["maturity_on"] = a["opened_on"]
        if rng.random() < 0.12 and i > 0:
            cd = start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))
            a["closed_on"] = cd.isoformat()
        recs.append(a)
        accts.append(a)
    assets = [a for a in accts if a["product"] in ("demand_deposit", "time_deposit", "wealth", "fund", "insurance")]
    weights = [rng.random() + 0.1 for _ in assets]
    W = sum(weights)
    # balances
    for a, w in zip(assets, weights):
        aid = a["account_id"]
        share = w / W
        astart = start if a is assets[0] or rng.random() < 0.6 else start + dt.timedelta(days=rng.randint(0, 60))
        if astart > end:
            astart = end
        d = astart
        m = month_start(astart)
        days = set([astart])
        while m <= end:
            n = dim(m.year, m.month)
            for _ in range(rng.choice([0, 1, 2, 3, 6])):
                days.add(m.replace(day=rng.randint(1, n)))
            if rng.random() < 0.5:
                days.add(m)
            if rng.random() < 0.5:
                days.add(m.replace(day=n))
            m = add_months(m, 1)
        if rng.random() < 0.7 or a is assets[0]:
            days.add(end)
        for d in sorted(days):
            if d < astart or d > end:
                continue
            lvl = levels[month_start(d)]
            v = int(lvl * share * rng.choice([1, 1, 1, 0.999, 1.001, 0.95, 1.05]))
            if rng.random() < 0.03:
                v = -rng.randint(1, 5_000_000)
            if rng.random() < 0.02:
                v = 0
            recs.append({"type": "balance", "account_id": aid, "as_of": d.isoformat(), "balance": money(v)})
    # loans / cards: big balances that must not count
    for a in accts:
        if a["product"] in ("loan", "credit_card"):
            d = start + dt.timedelta(days=rng.randint(0, 20))
            while d <= end:
                recs.append({"type": "balance", "account_id": a["account_id"], "as_of": d.isoformat(),
                             "balance": money(rng.choice([-1, 1]) * rng.randint(0, 300_000_000))})
                d += dt.timedelta(days=rng.randint(5, 40))
    # transactions
    tn = [0]

    def tx(acc, d, amt, cat, bank="__none__", chan="mobile"):
        tn[0] += 1
        t = {"type": "transaction", "txn_id": f"{cid}T{tn[0]}", "account_id": acc["account_id"],
             "booked_at": ts(rng, d), "amount": money(amt), "category": cat, "channel": chan}
        if bank != "__none__" and bank is not None:
            t["counterparty_bank"] = bank
        recs.append(t)

    dd = assets[0]
    span = (end - start).days
    # interest monthly, fees sometimes
    m = month_start(start)
    while m <= end:
        d = m.replace(day=21)
        if start <= d <= end + dt.timedelta(days=5):
            tx(dd, d, rng.randint(1, 100000), "interest")
        if rng.random() < 0.3:
            d2 = m.replace(day=rng.randint(1, dim(m.year, m.month)))
            tx(dd, d2, -rng.randint(1, 5000), "fee")
        m = add_months(m, 1)
    # customer-initiated, sparse with a random gap pattern
    rate = rng.choice([0, 0.01, 0.02, 0.05, 0.2])
    d = start
    while d <= end + dt.timedelta(days=3):
        if rng.random() < rate:
            tx(rng.choice(accts), d, rng.choice([-1, 1]) * rng.randint(100, 1_000_000),
               rng.choice(["deposit", "withdrawal", "purchase", "redemption", "transfer_in", "repayment"]))
        d += ONE
    # outflow bursts to other banks
    for _ in range(rng.choice([0, 0, 1, 2, 4])):
        d0 = start + dt.timedelta(days=rng.randint(0, max(0, span + 3)))
        lvl = levels.get(month_start(min(d0, end)), F)
        tot = int(lvl * rng.choice([0.1, 0.25, 0.29, 0.3, 0.31, 0.35, 0.5, 1.0]))
        if rng.random() < 0.3:
            tot = rng.choice([9_999_999, 10_000_000, 10_000_001])
        parts = rng.randint(1, 3)
        for k in range(parts):
            amt = tot // parts + (tot % parts if k == 0 else 0)
            tx(rng.choice(accts), d0 + dt.timedelta(days=rng.randint(0, 7)), -amt, "transfer_out", rng.choice(BANKS))
        if rng.random() < 0.3:
            tx(rng.choice(accts), d0 + dt.timedelta(days=rng.randint(0, 7)), rng.randint(1, 2_000_000),
               "transfer_out", rng.choice(BANKS))
    # card spend around 2 x income / 12 over 30 days
    cards = [a for a in accts if a["product"] == "credit_card"] or [dd]
    if "annual_income" in c and rng.random() < 0.7:
        inc = int(c["annual_income"].replace(".", ""))
        target = inc * 2 // 12 + rng.choice([-1, 0, 1, 100, -100, inc // 20, -inc // 20])
        for _ in range(rng.choice([1, 2])):
            d0 = start + dt.timedelta(days=rng.randint(0, max(0, span + 3)))
            parts = rng.randint(1, 4)
            for k in range(parts):
                amt = target // parts + (target % parts if k == 0 else 0)
                tx(rng.choice(cards), d0 + dt.timedelta(days=rng.randint(0, 29)), -amt, "card_spend", chan="pos")
            if rng.random() < 0.3:
                tx(rng.choice(cards), d0 + dt.timedelta(days=rng.randint(0, 29)), rng.randint(1, 50000), "card_spend",
                   chan="pos")
            if rng.random() < 0.3:
                tx(rng.choice(cards), d0 + dt.timedelta(days=rng.randint(0, 29)), rng.randint(1, 5000000), "repayment")
    return recs


def main():
    seed, n, end, out = int(sys.argv[1]), int(sys.argv[2]), dt.date.fromisoformat(sys.argv[3]), sys.argv[4]
    prefix = sys.argv[5] if len(sys.argv) > 5 else f"S{seed}"
    rng = random.Random(seed)
    ctr = [0]
    recs = []
    for i in range(n):
        recs += gen_customer(rng, f"{prefix}C{i}", end, ctr)
    with open(out, "w") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(recs)} records, {n} customers -> {out}")


if __name__ == "__main__":
    main()
