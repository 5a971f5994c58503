"""Late data: load a feed in stages (balances arriving late, corrections of earlier balances, new accounts,
closed_on added later), rescoring between stages; after the last stage compare every BD with the oracle run
on the concatenated feed (later line wins).
Usage: late.py FEED DBNAME SEED [--shuffle]; exits 1 on any mismatch."""
import datetime as dt
import json
import random
import subprocess
import sys

import compare as diff
import oracle as O
from generate import money

feed, db, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
recs = [json.loads(l) for l in open(feed) if l.strip()]
end = max(dt.date.fromisoformat(r["as_of"]) for r in recs if r["type"] == "balance")
cut = end - dt.timedelta(days=50)
A, B = [], []
for r in recs:
    if r["type"] == "balance" and r["as_of"] > cut.isoformat() and rng.random() < 0.5:
        B.append(r)
    elif r["type"] == "account" and rng.random() < 0.1 and r["account_id"][-1] != "0":
        # the account arrives late (its balances stay pending until then), sometimes with a closed_on
        B.append(r)
    elif r["type"] == "transaction" and rng.random() < 0.2:
        B.append(r)
    else:
        A.append(r)
# corrections of old balances (same natural key, new value) and a few changed accounts
for r in recs:
    if r["type"] == "balance" and rng.random() < 0.05:
        c = dict(r)
        c["balance"] = money(O.fen(r["balance"]) + rng.choice([-1, 1]) * rng.randint(1, 30_000_000))
        B.append(c)
    if r["type"] == "account" and r["product"] in ("fund", "wealth") and rng.random() < 0.2:
        c = dict(r)
        c["closed_on"] = (end - dt.timedelta(days=rng.randint(0, 90))).isoformat()
        if c["closed_on"] < c["opened_on"]:
            continue
        B.append(c)
open(f"{diff.WORK}/{db}.A.ndjson", "w").write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in A))
open(f"{diff.WORK}/{db}.B.ndjson", "w").write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in B))
diff.setup(db, f"{diff.WORK}/{db}.A.ndjson")
bds = diff.choose_bds(O.group_feed(recs), end, random.Random(seed), n=10)
if "--shuffle" in sys.argv:
    rng.shuffle(bds)
for bd in bds:  # stage A scored on every BD first (fills rollups / hashes)
    subprocess.run([f"{diff.BIN}/tierguardctl", "rescore", "--all"], env=diff.env_for(db, bd.isoformat()), capture_output=True)
out = diff.sh([f"{diff.BIN}/tierguard-ingest", "load", f"{diff.WORK}/{db}.B.ndjson"], diff.env_for(db))
print(out.strip(), file=sys.stderr)
books = O.group_feed(A + B)
mism = []
for bd in bds:
    bd = bd.isoformat()
    if not diff.rescore(db, bd, bd, mism, []):
        continue
    rows, hist = diff.product_rows(db, bd)
    for cid, b in books.items():
        diff.compare(cid, bd, b, rows.get(cid), hist.get(cid, []), mism)
print(f"late-data: compared {len(books)} customers x {len(bds)} BDs")
sys.exit(1 if diff.report(mism, db) else 0)
