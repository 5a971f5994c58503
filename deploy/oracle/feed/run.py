#!/usr/bin/env python3
"""The feed oracle: tierguard-ingest against an independent reading of the feed contract (README.md).

    TIERGUARD_ORACLE_PORT=56014 TIERGUARD_ORACLE_BIN=.build/debug TIERGUARD_ORACLE_WORK=/tmp/feed-oracle \
        python3 deploy/oracle/feed/run.py [PART…]

PART: ndjson-mutations, ndjson-scenarios, csv-mutations, csv-scenarios, agreement (default: all five).
Prints one summary line per part and every disagreement (DIFF); the full lists are written to
$TIERGUARD_ORACLE_WORK/diffs-PART.txt. Exits 1 if any DIFF remains, 2 on a setup error.
"""
import os, sys, time, traceback
sys.stdout.reconfigure(errors='backslashreplace')
from concurrent.futures import ThreadPoolExecutor

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.dont_write_bytecode = True

import harness  # noqa: E402 (harness checks the environment)
import ndjson_mutations, ndjson_scenarios, csv_mutations, csv_scenarios, agree  # noqa: E402

PARTS = {
    'ndjson-mutations': (ndjson_mutations.run, 'single-field mutation lines'),
    'ndjson-scenarios': (ndjson_scenarios.run, 'multi-line/multi-feed scenarios'),
    'csv-mutations': (csv_mutations.run, 'one-row CSV files'),
    'csv-scenarios': (csv_scenarios.run, 'CSV scenarios'),
    'agreement': (agree.run, 'records, NDJSON vs CSV'),
}
SHOW = 25   # disagreements printed per part (all of them are in the diffs file)


def run_part(name):
    fn, what = PARTS[name]
    t0 = time.monotonic()
    try:
        n, diffs = fn()
    except Exception:
        return name, what, 0, [('harness error', traceback.format_exc())], time.monotonic() - t0
    return name, what, n, diffs, time.monotonic() - t0


def main(argv):
    names = argv or list(PARTS)
    for n in names:
        if n not in PARTS:
            print('feed oracle: unknown part %s (parts: %s)' % (n, ', '.join(PARTS)), file=sys.stderr)
            return 2
    os.makedirs(harness.WORK, exist_ok=True)
    started = time.monotonic()
    try:
        harness.ensure_template()
    except Exception as e:
        print('feed oracle: cannot prepare the template database: %s' % e, file=sys.stderr)
        return 2
    # Two at a time: each part has its own databases; the product and PostgreSQL share the 2 cores.
    with ThreadPoolExecutor(max_workers=int(os.environ.get('TIERGUARD_ORACLE_JOBS', '2'))) as pool:
        results = list(pool.map(run_part, names))
    failed = False
    summary = []
    for name, what, n, diffs, secs in results:
        with open(os.path.join(harness.WORK, 'diffs-%s.txt' % name), 'w', errors='backslashreplace') as fh:
            for label, d in diffs:
                fh.write('DIFF %s | %s\n' % (label, d))
        for label, d in diffs[:SHOW]:
            print('DIFF %s: %s | %s' % (name, label, d[:700]))
        if len(diffs) > SHOW:
            print('DIFF %s: … %d more in %s' % (name, len(diffs) - SHOW, os.path.join(harness.WORK, 'diffs-%s.txt' % name)))
        failed |= bool(diffs)
        summary.append('%-17s %s  %4d %s, %d DIFF, %.0f s' % (
            name + ':', 'FAIL' if diffs else 'ok  ', n, what, len(diffs), secs))
    for line in summary:
        print(line)
    print('feed oracle: %s in %.0f s' % ('FAILED' if failed else 'every part agreed', time.monotonic() - started))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
