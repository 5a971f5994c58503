"""CSV: single-field mutations as one-row CSV files (one batch each) in one database, loaded by one
`tierguard-ingest load` call, compared with the oracle. The value lists are the NDJSON suite's plus CSV extras."""
import re
import harness, csvoracle
import ndjson_mutations as M

PLURAL = {'customer': 'customers', 'account': 'accounts', 'balance': 'balances', 'transaction': 'transactions'}
BASE = {t: {k: v for k, v in o.items() if k != 'type'} for t, o in M.BASE.items()}
BASE['customer']['marketing_opt_out'] = 'false'
HEAD = {t: list(BASE[t]) for t in BASE}

CSV_EXTRA = {
    'customer': {
        'marketing_opt_out': ['true', 'false', 'TRUE', 'True', 'False', '1', '0', 'yes', 'no', 't', 'f', ' true', 'false ', '"true"', 'null'],
        'name': ['张,三', 'O"Brien', 'a\nb', 'a\r\nb', '"', ',', ' ', '欧阳·娜娜'],
        'annual_income': ['"1,000.00"', '1,000.00', '-0.00', '0.00', '-0.01', '+5', '1e5', '.5', '5.', '007.50',
                          '92233720368547758.07', '92233720368547758.08'],
    },
    'account': {'product_code': ['TD,3Y', 'TD"3Y', 'TD\n3Y', ' TD3Y '], 'currency': ['"CNY"', 'C"NY']},
    'balance': {'balance': ['-92233720368547758.08', '-92233720368547758.09', '92233720368547758.07', '92233720368547758.08',
                            '-0.00', '+1', '1e5', '.5', '-.5', '00.01', '0001', '1,000.00', '12.3', '-12.3']},
    'transaction': {
        'description': ['a,b', 'say ""hi""', 'x"y', 'line1\nline2', 'line1\r\nline2', 'line1\n\nline3', ',,,', 'a\tb', ''],
        'booked_at': ['2026-03-31T23:59:59.9999999+08:00', '2026-03-31T23:59:59.999999999+08:00', '2026-03-31T23:59:59.9999995+08:00',
                      '2026-03-31T23:59:59.99999949+08:00', '2026-03-31T16:00:00+00:00', '2026-03-31T15:59:59.999999999Z',
                      '2026-03-31T16:00:00Z', '2026-04-01T00:00:00+08:00', '2024-02-29T23:59:59.9999999+08:00',
                      '2026-03-31T10:00:00-10:00', '2026-03-31T09:30:00.123456789+08:00'],
        'amount': ['-92233720368547758.08', '92233720368547758.07', '-0.00', '+0.01', '1e5', '.5', '00.50'],
        'counterparty_bank': ['TGBK', ' ICBC', 'icbc'],
    },
}


def cell(v):
    if v is None:
        return ''
    if isinstance(v, bool):
        return 'true' if v else 'false'   # as an upstream CSV writer would spell a boolean
    return str(v)


def build():
    cases = []
    n = 0

    def add(t, label, rec):
        nonlocal n
        n += 1
        key = 'M%d' % n
        f0 = label.split('=')[0]
        if f0 != M.KEYFIELD[t]:
            rec[M.KEYFIELD[t]] = key if t != 'balance' else 'MB%d' % n
        hdr = [h for h in HEAD[t] if rec.get(h, M.MISSING) is not M.MISSING]
        rows = [{h: cell(rec[h]) for h in hdr}]
        data = csvoracle.to_csv(hdr, rows)
        cases.append((n, label, t, data))

    for t, fields in list(M.FIELD_VALUES.items()):
        for f, vals in list(fields.items()) + [(f, v) for f, v in CSV_EXTRA[t].items()]:
            for v in vals:
                if isinstance(v, (list, dict)) or (isinstance(v, str) and '\ud800' in v):
                    continue
                o = dict(BASE[t]); o[f] = v
                if t == 'customer' and f == 'id_type' and v not in ('resident_id', '', None, M.MISSING):
                    o.pop('birth_date')
                add(t, '%s=%r' % (f, v if v is not M.MISSING else '<missing>'), o)
    for idn, bd in M.RID_VALS:
        o = dict(BASE['customer']); o['id_number'] = idn; o['birth_date'] = bd
        add('customer', 'id_number=%r birth_date=%r' % (idn, bd), o)
    o = dict(BASE['customer']); o['id_type'] = 'passport'; o['id_number'] = 'E1'; o['birth_date'] = '2001-02-03'
    add('customer', 'passport with any birth_date', o)
    o = dict(BASE['customer']); o['id_type'] = 'other'; o['id_number'] = ' '
    add('customer', 'other id_number=" "', o)
    o = dict(BASE['customer']); o['risk_assessed_on'] = M.MISSING
    add('customer', 'risk_assessed_on column missing', o)
    return cases


def run():
    """-> (number of cases, [(case label, disagreement)])"""
    cases = build()
    setup = [M.mk(dict(M.BASE['customer'], customer_id='BASEC')), M.mk(dict(M.BASE['account'], account_id='BASEA'))]
    for i, label, t, raw in cases:
        if t == 'balance':
            setup.append(M.mk(dict(M.BASE['account'], account_id='MB%d' % i)))
    files = [('00setup.ndjson', ('\n'.join(setup) + '\n').encode(), 'ndjson')]
    labels = {}
    for i, label, t, data in cases:
        fn = '%s-m%04d.csv' % (PLURAL[t], i)
        labels[fn] = '#%d %s %s' % (i, t, label)
        files.append((fn, data, t))
    diffs, got = harness.run_case('feedoracle_csvmut', [files], 'csv-mutations')
    out = []
    for d in diffs:
        m = re.search(r'([a-z]+-m(\d{4})\.csv)', d) or re.search(r"'MB?(\d+)'", d)
        lab = ''
        if m and m.group(0)[0].isalpha() and m.group(0).endswith('.csv'):
            lab = labels.get(m.group(1), '')
        elif m:
            lab = ([v for k, v in labels.items() if k.endswith('m%04d.csv' % int(m.group(1)))] or [''])[0]
        out.append((lab, d))
    return len(cases), out
