"""Per-customer path: score_customer jobs drained by tierguard-scorer workers, compared with the oracle,
after each of several feeds (late data in the later ones). Usage: jobs.py DBNAME FEED1 [FEED2 ...]; exits 1 on any mismatch."""
import datetime as dt
import json
import signal
import subprocess
import sys
import time

import compare as diff
import oracle as O

db, feeds = sys.argv[1], sys.argv[2:]
diff.sh(f"dropdb -h 127.0.0.1 -p {diff.PORT} -U postgres --if-exists {db}")
diff.sh(f"createdb -h 127.0.0.1 -p {diff.PORT} -U postgres {db}")
diff.sh([f"{diff.BIN}/tierguardctl", "migrate"], diff.env_for(db))
allrecs = []
mism = []
for i, feed in enumerate(feeds):
    out = diff.sh([f"{diff.BIN}/tierguard-ingest", "load", feed], diff.env_for(db))
    print(out.strip(), file=sys.stderr)
    allrecs += [json.loads(l) for l in open(feed) if l.strip()]
    env = diff.env_for(db)
    env.update(TIERGUARD_HTTP_PORT="0", TIERGUARD_RESCORE_CRON="0 0 1 1 *", TIERGUARD_RETENTION_CRON="0 0 1 1 *")
    p = subprocess.Popen([f"{diff.BIN}/tierguard-scorer", "run"], env=env, stdout=open(f"{diff.WORK}/{db}.scorer.log", "a"),
                         stderr=subprocess.STDOUT)
    t0 = time.time()
    while time.time() - t0 < 300:
        time.sleep(2)
        c = diff.sh([f"{diff.BIN}/tierguardctl", "jobs", "list", "--queue", "scorer", "--limit", "5"], diff.env_for(db))
        if not any(s in c for s in ("available", "running", "scheduled")):
            break
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)
    end = max(dt.date.fromisoformat(r["as_of"]) for r in allrecs if r["type"] == "balance")
    books = O.group_feed(allrecs)
    rows, hist = diff.product_rows(db, end.isoformat())
    for cid, b in books.items():
        diff.compare(cid, end.isoformat(), b, rows.get(cid), hist.get(cid, []), mism)
    print(f"after feed {i + 1}: BD {end}, compared {len(books)} customers, {len(rows)} rows at BD, "
          f"{len(mism)} mismatches so far")
sys.exit(1 if diff.report(mism, db) else 0)
