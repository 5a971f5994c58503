"""Independent reference implementation of the TierGuard scoring rules (see ../README.md).

Written from the rule texts only — issue 5's "Definitions" and the product's RULES.md (which wins where
they differ), with the built-in policy's numbers from `tierguardctl policy show` — by someone who had not
read the scorer's code. Money is integer fen everywhere. Stdlib only.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections import defaultdict

D = dt.date
ONE = dt.timedelta(days=1)

ASSET = {"demand_deposit", "time_deposit", "wealth", "fund", "insurance"}
TIERS = ["standard", "gold", "platinum", "diamond", "private"]
RANK = {t: i for i, t in enumerate(TIERS)}

POLICY = {
    "floors": {"standard": 0, "gold": 5_000_000, "platinum": 50_000_000,
               "diamond": 200_000_000, "private": 600_000_000},
    "grace": {"standard": 3, "gold": 3, "platinum": 3, "diamond": 3, "private": 6},
    "horizon": 45,
    "bank_code": "TGBK",
    "sudden_drop_days": 7, "sudden_drop_pct": 70, "sudden_drop_min_high": 5_000_000,
    "outflow_days": 7, "outflow_pct": 30, "outflow_min": 10_000_000,
    "maturity_min": 10_000_000, "maturity_days": 14,
    "inactive_days": 60,
    "credit_days": 30, "credit_months": 2,
    "risk_valid_days": 365,
    "retention_intercept": -3.0,
    "retention_coef": {"credit_risk": 0.4, "dissatisfied": 1.4, "downgrade_risk": 1.5, "inactive": 1.0,
                       "maturity_upcoming": 0.8, "outflow_to_competitor": 2.0,
                       "risk_assessment_expired": 0.3, "sudden_drop": 1.6},
}


def fen(s: str) -> int:
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d{1,2}))?", s)
    assert m, s
    sign = -1 if m.group(1) else 1
    frac = (m.group(3) or "").ljust(2, "0")
    return sign * (int(m.group(2)) * 100 + int(frac or 0))


def pdate(s):
    return D.fromisoformat(s) if s else None


def shanghai_day(ts: str) -> D:
    # RFC 3339 with offset; Asia/Shanghai has been UTC+8 without DST since 1991.
    t = ts.replace("Z", "+00:00")
    # fromisoformat in 3.11 accepts up to 6 fraction digits; trim longer fractions
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d)$", t)
    base, frac, off = m.group(1), m.group(2) or "", m.group(3)
    frac = frac[:7]
    x = dt.datetime.fromisoformat(base + frac + off)
    return (x.astimezone(dt.timezone(dt.timedelta(hours=8)))).date()


def dim(y, m):
    return calendar.monthrange(y, m)[1]


def month_start(d: D) -> D:
    return d.replace(day=1)


def add_months(d: D, n: int) -> D:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return D(y, m + 1, 1)


def month_end(d: D) -> D:
    return d.replace(day=dim(d.year, d.month))


def tier_of_avg(sum_fen: int, days: int, floors=None) -> str:
    floors = floors or POLICY["floors"]
    best = "standard"
    for t in TIERS:
        if sum_fen >= floors[t] * days:
            best = t
    return best


class Book:
    """All records of one customer."""

    def __init__(self, customer, accounts, balances, txns):
        self.c = customer
        self.accounts = accounts              # id -> record
        self.balances = balances              # id -> sorted list of (date, fen)
        self.txns = txns                      # list of records


def group_feed(records):
    """records: iterable of dicts (NDJSON lines). Returns {customer_id: Book}. Later duplicates win."""
    cust, acct, bal, txn = {}, {}, defaultdict(dict), {}
    for r in records:
        t = r["type"]
        if t == "customer":
            cust[r["customer_id"]] = r
        elif t == "account":
            acct[r["account_id"]] = r
        elif t == "balance":
            bal[r["account_id"]][r["as_of"]] = r["balance"]
        elif t == "transaction":
            txn[r["txn_id"]] = r
    books = {}
    for cid, c in cust.items():
        books[cid] = Book(c, {}, {}, [])
    for aid, a in acct.items():
        b = books.get(a["customer_id"])
        if b is None:
            continue
        b.accounts[aid] = a
        b.balances[aid] = sorted((pdate(k), fen(v)) for k, v in bal.get(aid, {}).items())
    for r in txn.values():
        a = acct.get(r["account_id"])
        if a and a["customer_id"] in books:
            books[a["customer_id"]].txns.append(r)
    return books


class Scorer:
    def __init__(self, book: Book, bd: D, policy=POLICY):
        self.b, self.bd, self.p = book, bd, policy
        self.floors = policy["floors"]
        # balances on or before BD only (replay: later data must not matter)
        self.bal = {a: [(d, v) for d, v in lst if d <= bd] for a, lst in book.balances.items()}
        firsts = [lst[0][0] for lst in self.bal.values() if lst]
        self.first = min(firsts) if firsts else None
        self._aum_cache = {}

    # ---- daily AUM -------------------------------------------------------
    def acct_aum(self, aid, d):
        a = self.b.accounts[aid]
        if a["product"] not in ASSET:
            return 0
        closed = pdate(a.get("closed_on"))
        if closed and d >= closed:
            return 0
        lst = self.bal[aid]
        v = None
        # linear is fine for small books; bisect for speed
        lo, hi = 0, len(lst)
        while lo < hi:
            mid = (lo + hi) // 2
            if lst[mid][0] <= d:
                lo = mid + 1
            else:
                hi = mid
        if lo == 0:
            return 0
        v = lst[lo - 1][1]
        return max(0, v)

    def aum(self, d):
        if d > self.bd:
            return self.aum(self.bd)  # projection: held at AUM(BD)
        if d not in self._aum_cache:
            self._aum_cache[d] = sum(self.acct_aum(a, d) for a in self.b.accounts)
        return self._aum_cache[d]

    def msum(self, mstart: D, upto: D | None = None):
        """Sum of daily AUM over month starting mstart, up to `upto` inclusive (default month end);
        days after BD are projected at AUM(BD)."""
        end = month_end(mstart)
        if upto is not None:
            end = min(end, upto)
        s, d = 0, mstart
        while d <= end:
            s += self.aum(d)
            d += ONE
        return s

    # ---- tiers -----------------------------------------------------------
    def run_rule(self, months, T_prev_seq=None):
        """months: list of (mstart, sum, days) for m_1..m_k in order. Returns list of tiers and events."""
        tiers, events = [], []
        for k, (ms, s, n) in enumerate(months, start=1):
            t_m = tier_of_avg(s, n, self.floors)
            eff = add_months(ms, 1)
            if k == 1:
                tiers.append(t_m)
                events.append(dict(effective_on=eff, from_tier=None, to_tier=t_m, kind="initial", deciding_month=ms))
                continue
            prev = tiers[-1]
            if RANK[t_m] > RANK[prev]:
                tiers.append(t_m)
                events.append(dict(effective_on=eff, from_tier=prev, to_tier=t_m, kind="upgrade", deciding_month=ms))
                continue
            g = self.p["grace"][prev]
            fl = self.floors[prev]
            if k >= g:
                win = months[k - g:k]
                if all(ws < fl * wn for (_, ws, wn) in win):
                    # best = highest 月日均 (compare s/n exactly)
                    best = win[0]
                    for w in win[1:]:
                        if w[1] * best[2] > best[1] * w[2]:
                            best = w
                    to = tier_of_avg(best[1], best[2], self.floors)
                    tiers.append(to)
                    events.append(dict(effective_on=eff, from_tier=prev, to_tier=to, kind="downgrade",
                                       deciding_month=ms, window=[w[0] for w in win]))
                    continue
            tiers.append(prev)
        return tiers, events

    def score(self):
        bd = self.bd
        out = {}
        out["first_balance_date"] = self.first
        out["aum_fen"] = self.aum(bd)
        ms_bd = month_start(bd)
        out["mtd_sum_fen"] = self.msum(ms_bd, bd)
        out["mtd_days"] = bd.day
        for i in (3, 2, 1):
            m = add_months(ms_bd, -i)
            out[f"m{i}_month"] = m
            out[f"m{i}_sum_fen"] = self.msum(m)
            out[f"m{i}_days"] = dim(m.year, m.month)
            out[f"m{i}_before_first"] = self.first is None or m < month_start(self.first)
        # complete months m_1..m_K
        months = []
        if self.first:
            m = month_start(self.first)
            while month_end(m) < bd:
                months.append((m, self.msum(m), dim(m.year, m.month)))
                m = add_months(m, 1)
        tiers, events = self.run_rule(months)
        if months:
            tier = tiers[-1]
            prov = False
        else:
            tier = tier_of_avg(out["mtd_sum_fen"], out["mtd_days"], self.floors)
            prov = True
        out["tier"], out["is_provisional"] = tier, prov
        out["history"] = [] if prov else [
            (e["effective_on"], e["from_tier"], e["to_tier"], e["kind"], e["deciding_month"]) for e in events]
        # watch months
        w = 0
        if not prov:
            fl = self.floors[tier]
            for (_, s, n) in reversed(months):
                if s < fl * n:
                    w += 1
                else:
                    break
        out["watch_months"] = w
        out.update(self.warning(months))
        sig = self.signals(tier)
        out["signals"] = sig
        codes = set(sig)
        if out["warning_date"] is not None:
            codes.add("downgrade_risk")
        lin = self.p["retention_intercept"] + sum(self.p["retention_coef"][c] for c in codes)
        out["retention_probability"] = 1 / (1 + math.exp(-lin))
        out["aum_by_product"] = self.aum_by_product()
        return out

    def aum_by_product(self):
        r = defaultdict(int)
        for aid, a in self.b.accounts.items():
            if a["product"] in ASSET:
                v = self.acct_aum(aid, self.bd)
                if v:
                    r[a["product"]] += v
        return dict(r)

    # ---- downgrade early warning -----------------------------------------
    def warning(self, months):
        bd = self.bd
        none = dict(warning_date=None, warning_from_tier=None, warning_to_tier=None,
                    warning_gap_fen=None, warning_extra_daily_fen=None)
        if not self.first:
            return none
        horizon_end = bd + dt.timedelta(days=self.p["horizon"])
        proj = list(months)
        F = add_months(month_start(bd), 1)
        m = add_months(months[-1][0], 1) if months else month_start(self.first)
        # project the months that complete at F within the horizon
        while F <= horizon_end:
            # month ending F-1 completes at F
            while m < F:
                proj.append((m, self.msum(m), dim(m.year, m.month)))
                m = add_months(m, 1)
            tiers, events = self.run_rule(proj)
            if len(proj) > len(months):
                # examine events whose effective_on == F
                ev = [e for e in events if e["effective_on"] == F]
                if ev and ev[0]["kind"] == "downgrade":
                    e = ev[0]
                    frm, to = e["from_tier"], e["to_tier"]
                    fl = self.floors[frm]
                    aum_bd = self.aum(bd)
                    gaps = []
                    for wm in e["window"]:
                        n = dim(wm.year, wm.month)
                        last = month_end(wm)
                        if last <= bd:
                            continue  # no projected days
                        known = self.msum(wm, bd) if wm <= bd else 0
                        pdays = (last - max(bd, wm - ONE)).days
                        gaps.append(-((-(fl * n - known)) // pdays) - aum_bd)
                    gap = min(gaps) if gaps else None
                    cm = month_start(bd)
                    n = dim(cm.year, cm.month)
                    psum = self.msum(cm)  # projected
                    extra = max(0, -((-(fl * n - psum)) // n))
                    return dict(warning_date=F, warning_from_tier=frm, warning_to_tier=to,
                                warning_gap_fen=gap, warning_extra_daily_fen=extra)
            F = add_months(F, 1)
        return none

    # ---- signals ---------------------------------------------------------
    def txn_days(self):
        out = []
        for t in self.b.txns:
            d = shanghai_day(t["booked_at"])
            if d <= self.bd:
                out.append((d, t))
        return out

    def signals(self, tier):
        bd, p = self.bd, self.p
        sig = {}
        # sudden_drop
        a0 = self.aum(bd)
        high = max(self.aum(bd - dt.timedelta(days=i)) for i in range(1, p["sudden_drop_days"] + 1))
        if high >= p["sudden_drop_min_high"] and 100 * a0 <= p["sudden_drop_pct"] * high:
            sig["sudden_drop"] = {"aum": a0, "high": high, "drop": high - a0}
        txs = self.txn_days()
        # outflow_to_competitor
        lo = bd - dt.timedelta(days=p["outflow_days"] - 1)
        tot = 0
        for d, t in txs:
            if lo <= d <= bd and t["category"] == "transfer_out":
                cb = t.get("counterparty_bank")
                if cb and cb != p["bank_code"]:
                    tot -= fen(t["amount"])
        base = self.aum(bd - dt.timedelta(days=p["outflow_days"]))
        if tot >= p["outflow_min"] and 100 * tot >= p["outflow_pct"] * base:
            sig["outflow_to_competitor"] = {"total": tot, "base_aum": base}
        # maturity_upcoming
        accs, total = [], 0
        for aid, a in self.b.accounts.items():
            if a["product"] in ("time_deposit", "wealth") and a.get("maturity_on"):
                dd = (pdate(a["maturity_on"]) - bd).days
                v = self.acct_aum(aid, bd)
                if 0 <= dd <= p["maturity_days"] and v >= p["maturity_min"]:
                    accs.append(aid)
                    total += v
        if accs:
            sig["maturity_upcoming"] = {"accounts": sorted(accs), "total": total}
        # inactive
        if RANK[tier] >= RANK["gold"]:
            last = None
            for d, t in txs:
                if t["category"] not in ("interest", "fee"):
                    if last is None or d > last:
                        last = d
            ref = last if last is not None else pdate(self.b.c["opened_on"])
            if (bd - ref).days >= p["inactive_days"]:
                sig["inactive"] = {"days": (bd - ref).days}
        # credit_risk
        inc = self.b.c.get("annual_income")
        if inc not in (None, ""):
            income = fen(inc)
            lo = bd - dt.timedelta(days=p["credit_days"] - 1)
            spend = 0
            for d, t in txs:
                if lo <= d <= bd and t["category"] == "card_spend":
                    spend -= fen(t["amount"])
            if 12 * spend > p["credit_months"] * income:
                sig["credit_risk"] = {"spend": spend, "income": income}
        # risk_assessment_expired
        ra = pdate(self.b.c.get("risk_assessed_on"))
        if ra and (bd - ra).days > p["risk_valid_days"]:
            sig["risk_assessment_expired"] = {"days": (bd - ra).days}
        return sig


def check_suitability(customer, recs, decisions, expired: bool):
    """Return list of violation strings for product recommendations/suitability log."""
    errs = []
    opt = bool(customer.get("marketing_opt_out"))
    c = int(customer["risk_level"][1:])
    prods = [r for r in recs if r.get("kind") == "product"]
    if opt and prods:
        errs.append(f"opt-out but product recs {[r['code'] for r in prods]}")
    for r in prods:
        lvl = r.get("figures", {}).get("product_risk")
        if lvl is None:
            continue
        n = int(lvl[1:])
        if expired and n != 1:
            errs.append(f"expired assessment but rec {r['code']} {lvl}")
        if n > c:
            errs.append(f"rec {r['code']} {lvl} above {customer['risk_level']}")
    allowed = {d["product_code"] for d in decisions if d.get("allowed")}
    for r in prods:
        if r["code"] not in allowed:
            errs.append(f"rec {r['code']} without an allowed suitability decision")
    for d in decisions:
        n = int(d["product_level"][1:])
        exp_allowed = (not opt) and (n == 1 if expired else n <= c)
        if d.get("customer_level") != customer["risk_level"]:
            errs.append(f"decision {d['product_code']} customer_level {d.get('customer_level')} != {customer['risk_level']}")
        if bool(d.get("assessment_expired")) != expired:
            errs.append(f"decision {d['product_code']} assessment_expired {d.get('assessment_expired')} != {expired}")
        if bool(d.get("allowed")) != exp_allowed:
            errs.append(f"decision {d['product_code']} {d['product_level']} allowed={d.get('allowed')} expected {exp_allowed} (opt_out={opt}, expired={expired})")
    return errs
