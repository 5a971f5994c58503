"""Load feeds into a throwaway database with the real tierguard-ingest, dump what it stored, compare with the
oracle (oracle.py + csvoracle.py). Shared by every suite.

Environment (all required):
  TIERGUARD_ORACLE_PORT  a throwaway PostgreSQL on 127.0.0.1, user postgres, no password
  TIERGUARD_ORACLE_BIN   folder holding tierguardctl and tierguard-ingest
  TIERGUARD_ORACLE_WORK  scratch folder for feeds and outputs
"""
import json, os, subprocess, sys, time
import oracle, csvoracle


def _env(name):
    v = os.environ.get(name)
    if not v:
        print('feed oracle: %s is not set (see README.md)' % name, file=sys.stderr)
        sys.exit(2)
    return v


PORT = _env('TIERGUARD_ORACLE_PORT')
BIN = _env('TIERGUARD_ORACLE_BIN')
WORK = _env('TIERGUARD_ORACLE_WORK')
PG = ['psql', '-h', '127.0.0.1', '-p', PORT, '-U', 'postgres', '-X', '-v', 'ON_ERROR_STOP=1', '-qAt']
TEMPLATE = 'feedoracle_tmpl'


def url(db):
    return 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable' % (PORT, db)


def tool(name):
    return os.path.join(BIN, name)


def product_env(db):
    return dict(os.environ, DATABASE_URL=url(db), TIERGUARD_OPERATOR='feed-oracle', TIERGUARD_LOG_LEVEL='error')


def psql(db, sql):
    return subprocess.run(PG + ['-d', db, '-c', sql], capture_output=True, text=True, check=True).stdout


def fresh_db(name):
    psql('postgres', 'DROP DATABASE IF EXISTS %s' % name)
    for attempt in range(50):   # suites run side by side; CREATE … TEMPLATE fails while another copies it
        p = subprocess.run(PG + ['-d', 'postgres', '-c', 'CREATE DATABASE %s TEMPLATE %s' % (name, TEMPLATE)],
                           capture_output=True, text=True)
        if p.returncode == 0:
            return
        if 'being accessed by other users' not in p.stderr:
            raise RuntimeError(p.stderr)
        time.sleep(0.1)
    raise RuntimeError('could not copy the template database: ' + p.stderr)


def ensure_template():
    """A migrated empty archive, copied for every case (tierguardctl migrate is run once)."""
    for t in ('tierguardctl', 'tierguard-ingest'):
        if not os.access(tool(t), os.X_OK):
            print('feed oracle: %s is missing (build the product first)' % tool(t), file=sys.stderr)
            sys.exit(2)
    psql('postgres', 'DROP DATABASE IF EXISTS %s' % TEMPLATE)
    psql('postgres', 'CREATE DATABASE %s' % TEMPLATE)
    subprocess.run([tool('tierguardctl'), 'migrate'], env=product_env(TEMPLATE), check=True, capture_output=True)


def q(db, sql):
    return json.loads(psql(db, "select coalesce(json_agg(t), '[]') from (%s) t" % sql))


def dump(db):
    return dict(
        batches=q(db, 'select id, file_name, accepted, rejected, unchanged, pending, applied_pending, jobs_enqueued, status, error from ingest_batches order by id'),
        rejects=q(db, 'select batch_id, line_number, record_type, natural_key, field, reason from ingest_rejects order by batch_id, line_number, id'),
        customers=q(db, "select customer_id, name, id_type, birth_date::text, gender, risk_level, risk_assessed_on::text, annual_income_fen::text, rm_id, branch_id, opened_on::text, status, marketing_opt_out, phone_enc is not null as has_phone from customers"),
        accounts=q(db, 'select account_id, customer_id, product, product_code, currency, opened_on::text, maturity_on::text, closed_on::text from accounts'),
        balances=q(db, 'select account_id, as_of::text, balance_fen::text from balances'),
        transactions=q(db, "select txn_id, account_id, (extract(epoch from booked_at)*1000000)::numeric(40,0)::text as epoch_us, booked_on::text, amount_fen::text, category, channel, counterparty_bank, description from transactions"),
        relationship_managers=q(db, 'select rm_id, name, branch_id, manager_rm_id, wecom_userid, email, mobile_enc is not null as has_mobile, active from relationship_managers'),
        pending=q(db, 'select record_type, natural_key, account_id, batch_id, line_number, balance_fen::text, amount_fen::text from pending_records'),
        changes=q(db, 'select record_type, natural_key, batch_id, line_number, changed_fields from archive_changes order by id'),
    )


def expected_rows(arch):
    """oracle archive -> rows comparable with dump()."""
    t = arch.tables
    cust = {}
    for k, v in t['customer'].items():
        cust[k] = dict(customer_id=k, name=v['name'], id_type=v['id_type'], birth_date=v['birth_date'], gender=v['gender'],
                       risk_level=v['risk_level'], risk_assessed_on=v['risk_assessed_on'],
                       annual_income_fen=None if v['annual_income_fen'] is None else str(v['annual_income_fen']),
                       rm_id=v['rm_id'], branch_id=v['branch_id'], opened_on=v['opened_on'], status=v['status'],
                       marketing_opt_out=v['marketing_opt_out'], has_phone=v['phone'] is not None)
    acc = {k: dict(v) for k, v in t['account'].items()}
    bal = {k: dict(account_id=k[0], as_of=k[1], balance_fen=str(v['balance_fen'])) for k, v in t['balance'].items()}
    txn = {}
    for k, v in t['transaction'].items():
        txn[k] = dict(txn_id=k, account_id=v['account_id'], epoch_us=str(v['epoch_ns'] // 1000), booked_on=v['booked_on'],
                      amount_fen=str(v['amount_fen']), category=v['category'], channel=v['channel'],
                      counterparty_bank=v['counterparty_bank'], description=v['description'])
    rms = {}
    for k, v in t['relationship_manager'].items():
        rms[k] = dict(rm_id=k, name=v['name'], branch_id=v['branch_id'], manager_rm_id=v['manager_rm_id'],
                      wecom_userid=v['wecom_userid'], email=v['email'], has_mobile=v['mobile'] is not None, active=v['active'])
    return dict(customers=cust, accounts=acc, balances=bal, transactions=txn, relationship_managers=rms)


def expect(fname, data, fmt, by_flag=False):
    """The oracle's reading of one file: a parsed list, or ('FILEFAULT', why) for a whole-file refusal."""
    try:
        if fmt == 'ndjson':
            return oracle.parse_ndjson(data)
        if not by_flag and not csvoracle.name_tells(fname, fmt):
            raise oracle.FileFault('the file name tells no format')
        return csvoracle.parse_csv(data, fmt)
    except oracle.FileFault as e:
        return ('FILEFAULT', str(e))


def run_case(db, files, label='', fresh=True):
    """files: list of (filename, bytes, fmt) or of lists of those (a list = one `load` call with several
    files, each its own batch). fmt: 'ndjson', a record type (CSV, type inferred by the product from the
    name), or ('csv', type) -> --format type. Returns (list of disagreement strings, dump)."""
    folder = os.path.join(WORK, 'cases', label or db)
    os.makedirs(folder, exist_ok=True)
    if fresh:
        fresh_db(db)
    arch = oracle.Archive()
    exp_batches, outs = [], []
    for group in files:
        grp = group if isinstance(group, list) else [group]
        paths, extra = [], ()
        for fname, data, fmt in grp:
            path = os.path.join(folder, fname)
            with open(path, 'wb') as fh:
                fh.write(data)
            by_flag = isinstance(fmt, tuple)
            if by_flag:
                extra = ('--format', fmt[1])
                fmt = fmt[1]
            parsed = expect(fname, data, fmt, by_flag)
            exp_batches.append((fname, parsed if isinstance(parsed, tuple) else arch.load(parsed)))
            paths.append(path)
        p = subprocess.run([tool('tierguard-ingest'), 'load', *extra, *paths], env=product_env(db),
                           capture_output=True, text=True)
        for _ in grp:
            outs.append((p.returncode, p.stdout, p.stderr))
    got = dump(db)
    return compare(label, exp_batches, arch, got, outs), got


def compare(label, exp_batches, arch, got, outs):
    d = []
    gbl = {}
    for b in got['batches']:
        gbl.setdefault(os.path.basename(b['file_name'] or ''), []).append(b)
    for (fname, exp), (rc, so, se) in zip(exp_batches, outs):
        b = gbl.get(fname, [None]).pop(0) if gbl.get(fname) else None
        if isinstance(exp, tuple):   # whole-file fault expected
            if b is not None and b['status'] == 'applied':
                d.append('%s %s: expected whole-file refusal (%s) but batch applied %r' % (label, fname, exp[1], b))
            elif b is None and rc == 0:
                d.append('%s %s: expected whole-file refusal (%s); rc=0 and no batch' % (label, fname, exp[1]))
            continue
        if b is None:
            d.append('%s %s: no batch row (rc=%s) %s' % (label, fname, rc, (so + se)[-400:]))
            continue
        if b['status'] != 'applied':
            d.append('%s %s: batch status %s error %s' % (label, fname, b['status'], b['error']))
        for k, v in exp['counts'].items():
            if b[k] != v:
                d.append('%s %s: count %s expected %s got %s' % (label, fname, k, v, b[k]))
        grj = [r for r in got['rejects'] if r['batch_id'] == b['id']]
        exp_lines = {l: f for l, f, _ in exp['rejects']}
        got_lines = {r['line_number']: r for r in grj}
        for l, f in exp_lines.items():
            if l not in got_lines:
                d.append('%s %s line %d: expected REJECT (%s: %s) but product did not reject' % (
                    label, fname, l, f, [w for ll, ff, w in exp['rejects'] if ll == l][0]))
            else:
                r = got_lines[l]
                # RULES.md: a resident-ID/birth_date mismatch may name either field
                if f is not None and r['field'] != f and not (f == 'birth_date' and r['field'] == 'id_number'):
                    d.append('%s %s line %d: reject field expected %s got %s (%s)' % (label, fname, l, f, r['field'], r['reason']))
        for l, r in got_lines.items():
            if l not in exp_lines:
                d.append('%s %s line %d: product REJECTED, oracle %s: %s' % (label, fname, l, exp['lines'].get(l), r['reason']))
            if not r['reason'].startswith('line %d:' % l):
                d.append('%s %s line %d: reason does not start with line number: %s' % (label, fname, l, r['reason']))
            if r['field'] and r['field'] not in r['reason']:
                d.append('%s %s line %d: reason does not name field %s: %s' % (label, fname, l, r['field'], r['reason']))
    exp = expected_rows(arch)
    keyf = dict(customers=lambda r: r['customer_id'], accounts=lambda r: r['account_id'],
                balances=lambda r: (r['account_id'], r['as_of']), transactions=lambda r: r['txn_id'],
                relationship_managers=lambda r: r['rm_id'])
    for tab in keyf:
        g = {}
        for r in got[tab]:
            k = keyf[tab](r)
            if k in g:
                d.append('%s %s: DUPLICATE natural key %r in product: %r / %r' % (label, tab, k, g[k], r))
            g[k] = r
        e = exp[tab]
        for k in sorted(set(g) | set(e), key=repr):
            if k not in g:
                d.append('%s %s %r: expected stored %r, product has none' % (label, tab, k, e[k]))
            elif k not in e:
                d.append('%s %s %r: product stored %r, oracle none' % (label, tab, k, g[k]))
            elif g[k] != e[k]:
                diff = {c: (e[k].get(c), g[k].get(c)) for c in e[k] if e[k].get(c) != g[k].get(c)}
                d.append('%s %s %r: stored value differs (expected, got): %r' % (label, tab, k, diff))
    gp = {(r['record_type'], r['natural_key']) for r in got['pending']}
    ep = set()
    for (t, key) in arch.pending:
        ep.add((t, key if isinstance(key, str) else '%s %s' % key))
    for k in sorted(gp ^ ep):
        d.append('%s pending %r: expected %s, product %s' % (label, k, k in ep, k in gp))
    return d


def run_scenarios(scenarios, db, label_prefix):
    """Each scenario (name -> files) in a fresh database: (number of scenarios, [(scenario, disagreement)])."""
    out = []
    for name, files in scenarios.items():
        diffs, _ = run_case(db, files, label_prefix + name)
        out.extend((name, d) for d in diffs)
    return len(scenarios), out
