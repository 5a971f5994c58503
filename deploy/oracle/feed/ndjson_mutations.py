"""NDJSON: single-field mutations of valid lines; each mutated line is its own one-line feed (one batch),
all in one database, loaded by one `tierguard-ingest load` call (each file is still its own batch)."""
import json, re
import oracle, harness

MISSING = object()


def rid(birth='19491231', region='110105', seq='002'):
    f = region + birth + seq
    return f + oracle.rid_check_char(f)


GOOD_RID = rid()
assert GOOD_RID == '11010519491231002X'

BASE = {
    'customer': {"type": "customer", "customer_id": "C", "name": "张三", "id_type": "resident_id", "id_number": GOOD_RID,
                 "phone": "13812345678", "birth_date": "1949-12-31", "gender": "M", "risk_level": "C3",
                 "risk_assessed_on": "2025-06-01", "annual_income": "360000.00", "rm_id": "RM01", "branch_id": "BJ001",
                 "opened_on": "2010-05-20", "status": "active", "marketing_opt_out": False},
    'account': {"type": "account", "account_id": "A", "customer_id": "BASEC", "product": "time_deposit",
                "product_code": "TD3Y", "currency": "CNY", "opened_on": "2024-01-15", "maturity_on": "2027-01-15"},
    'balance': {"type": "balance", "account_id": "A", "as_of": "2026-03-31", "balance": "1234567.89"},
    'transaction': {"type": "transaction", "txn_id": "T", "account_id": "BASEA", "booked_at": "2026-03-31T09:30:00.5+08:00",
                    "amount": "-50000.00", "category": "transfer_out", "channel": "mobile", "counterparty_bank": "ICBC",
                    "description": "转出"},
}
KEYFIELD = {'customer': 'customer_id', 'account': 'account_id', 'balance': 'account_id', 'transaction': 'txn_id'}

IDENT_VALS = ['', None, MISSING, 7, True, 'x' * 32, 'x' * 33, 'A B', ' A1', 'A1 ', 'é', '张', 'A.1', 'A/1', 'a-b_c',
              '-', '_', '0', 'A\t1', 'A\n1', 'ＡＢ', 'A\u00001', ['A'], {'a': 1}, 'A1\u200b']
TEXT_VALS = ['', None, MISSING, 5, True, ' ', '  x  ', '😀', 'a\u0000b', '\ud800', 'x' * 100000, '\u202e', 'a\nb', '"\\', ['x']]
DATE_VALS = ['2026-02-29', '2024-02-29', '2100-02-29', '2000-02-29', '2026-1-5', '2026-01-05T00:00:00', '20260105',
             '2026-13-01', '2026-00-10', '2026-01-00', '2026-04-31', '2026-04-30', '２０２６-01-05', ' 2026-01-05', '2026-01-05 ',
             '2026/01/05', '+2026-01-05', '12026-01-05', '0000-01-01', '0001-01-01', '9999-12-31', '1900-01-01', '',
             None, MISSING, 20260105, '2026-01-05Z', '2026-12-31', '1582-10-10']
TS_VALS = ['2026-03-31T09:30:00+08:00', '2026-03-31T09:30:00Z', '2026-03-31t09:30:00Z', '2026-03-31T09:30:00z',
           '2026-03-31 09:30:00+08:00', '2026-03-31T09:30:00', '2026-03-31T09:30:00,5+08:00', '2026-03-31T09:30:00.123456789+08:00',
           '2026-03-31T09:30:00.1234567891+08:00', '2026-03-31T09:30:00.+08:00', '2026-03-31T09:30:00+08', '2026-03-31T09:30:00+0800',
           '2026-03-31T09:30:00+24:00', '2026-03-31T09:30:00+23:59', '2026-03-31T09:30:00-23:59', '2026-03-31T09:30:00-00:00',
           '2026-03-31T09:30:00+00:00', '2026-03-31T09:30:00+08:60', '2026-03-31T24:00:00+08:00', '2026-03-31T23:59:60+08:00',
           '2026-03-31T09:60:00+08:00', '2026-02-29T09:30:00+08:00', '2024-02-29T09:30:00+08:00', '2026-03-31T9:30:00+08:00',
           '2026-03-31T09:30+08:00', '2026-03-31T23:59:59.9999999+08:00', '2026-03-31T23:59:59.9999995+08:00',
           '2026-03-31T15:59:59.9999999Z', '2026-03-31T23:30:00-10:00', '2026-03-31T00:30:00+14:00', '2026-03-31T09:30:00.000000001Z',
           '0001-01-01T00:00:00+08:00', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59-23:59', '0000-01-01T00:00:00Z',
           '2026-03-31T09:30:00.5+08:00 ', ' 2026-03-31T09:30:00Z', '2026-03-31T09:30:00Ｚ', '1970-01-01T00:00:00Z',
           '1969-12-31T23:59:59.999999999Z', '2026-03-31T09:30:00.0+08:00', '2026-03-31T09:30:00.1234567+08:00',
           '', None, MISSING, 1774920600, '2026-03-31T09:30:00+8:00', '2026-03-31T09:30:00+08:00:00', '2026-03-31T09:30:00UTC',
           '2026-03-31T09:30:00GMT+8', '2026-03-31T09:30:00.5', '1900-03-31T09:30:00+08:00', '1991-09-15T01:30:00+08:00']
MONEY_VALS = ['0', '0.00', '-0.00', '-0', '12.5', '12.50', '12.505', '1e5', '+1', '.5', '5.', '-.5', '-', '007.50', '00', '1,000.00',
              '1 000', ' 1', '1 ', '１', '١', '0x10', 'NaN', 'Infinity', '-1', '-0.01',
              '92233720368547758.07', '92233720368547758.08', '-92233720368547758.08', '-92233720368547758.09',
              '-92233720368547758.07', '9223372036854775807', '99999999999999999999999', '0000000000000000000000001.00',
              '92233720368547758.070', '1.', '1.2.3', '--1', '1-', '', None, MISSING, 100.5, 100, True, '100.5\n', '12.34 ',
              '\u00a012.34', '1_000']
PHONE_VALS = ['13812345678', '19912345678', '12812345678', '10812345678', '1381234567', '138123456789', '+8613812345678',
              '138 1234 5678', '138-1234-5678', '１３８１２３４５６７８', '', None, MISSING, 13812345678, ' 13812345678', '23812345678']
BOOL_VALS = [True, False, 'true', 'false', 1, 0, None, '', MISSING, 'TRUE']


def enum_vals(good, others):
    return [good, good.lower(), good.upper(), ' ' + good, good + ' ', '', None, MISSING, 5, True] + others


FIELD_VALUES = {
    'customer': {
        'customer_id': IDENT_VALS, 'name': TEXT_VALS,
        'id_type': enum_vals('passport', ['resident_id', 'other', 'Passport', 'RESIDENT_ID', 'driver']),
        'phone': PHONE_VALS, 'birth_date': ['1949-12-31', '1949-12-30', '', None, MISSING, '1949-12-31T00:00:00Z', '1949-13-31'],
        'gender': enum_vals('F', ['M', 'O', 'X', 'male', 'm']),
        'risk_level': enum_vals('C1', ['C5', 'C0', 'C6', 'c3', 'C 3', 'C03', 3]),
        'risk_assessed_on': DATE_VALS, 'annual_income': MONEY_VALS, 'rm_id': IDENT_VALS[:12], 'branch_id': IDENT_VALS[:12],
        'opened_on': DATE_VALS, 'status': enum_vals('closed', ['active', 'Active', 'dormant']),
        'marketing_opt_out': BOOL_VALS,
    },
    'account': {
        'account_id': IDENT_VALS, 'customer_id': IDENT_VALS[:10],
        'product': enum_vals('wealth', ['demand_deposit', 'time_deposit', 'fund', 'insurance', 'loan', 'credit_card', 'deposit', 'credit-card']),
        'product_code': TEXT_VALS[:10], 'currency': ['CNY', 'cny', 'USD', 'RMB', ' CNY', 'CNY ', '', None, MISSING, 156, 'ＣＮＹ'],
        'opened_on': DATE_VALS, 'maturity_on': ['2024-01-15', '2024-01-14', '2027-02-29', '', None, MISSING, '2027-01-15T00:00:00Z'],
        'closed_on': ['2024-01-15', '2024-01-14', '2025-06-31', '', None, MISSING, '2025-06-30'],
    },
    'balance': {'account_id': IDENT_VALS[:10], 'as_of': DATE_VALS, 'balance': MONEY_VALS},
    'transaction': {
        'txn_id': IDENT_VALS, 'account_id': IDENT_VALS[:10], 'booked_at': TS_VALS, 'amount': MONEY_VALS,
        'category': enum_vals('fee', ['deposit', 'withdrawal', 'transfer_in', 'purchase', 'redemption', 'card_spend', 'repayment',
                                      'interest', 'refund', 'Fee']),
        'channel': enum_vals('atm', ['branch', 'online', 'pos', 'call_center', 'call-center', 'wechat']),
        'counterparty_bank': TEXT_VALS[:12], 'description': TEXT_VALS,
    },
}

# resident ID mutations: (id_number, birth_date or MISSING)
RID_VALS = [
    (GOOD_RID, '1949-12-31'), (GOOD_RID, MISSING), (GOOD_RID[:-1] + 'x', MISSING), (GOOD_RID[:-1] + '0', MISSING),
    (rid('19800101'), '1980-01-01'), (rid('19800101'), '1980-01-02'), (rid('20000229'), '2000-02-29'), (rid('19000229'), MISSING),
    (rid('19810229'), MISSING), (rid('19801301'), MISSING), (rid('19800132'), MISSING), (rid('00000101'), MISSING),
    (rid('99991231'), MISSING), (rid('20991231'), MISSING), ('110105491231002', MISSING), ('11010519491231002', MISSING),
    (GOOD_RID + '0', MISSING), (' ' + GOOD_RID, MISSING), (GOOD_RID[:-1] + 'Ｘ', MISSING), (rid('19491231', '000000'), MISSING),
    ('１１０１０５１９４９１２３１００２Ｘ', MISSING), (int(rid('19800101')) if rid('19800101')[-1] != 'X' else 110105198001010015, MISSING),
    ('', MISSING), (None, MISSING), (MISSING, MISSING), ('E1234567', MISSING),
]


def mk(obj):
    return json.dumps({k: v for k, v in obj.items() if v is not MISSING}, ensure_ascii=False).replace('\ud800', '\\ud800')


def build():
    cases = []   # (label, type, line_str)
    n = 0

    def add(t, label, obj=None, raw=None):
        nonlocal n
        n += 1
        key = 'M%d' % n
        if raw is None:
            o = dict(obj)
            # give every case its own natural key unless the key field itself is mutated
            if label.split('=')[0] != KEYFIELD[t]:
                o[KEYFIELD[t]] = key if t != 'balance' else 'MB%d' % n
            raw = mk(o)
        cases.append((n, label, t, raw))

    for t, fields in FIELD_VALUES.items():
        for f, vals in fields.items():
            for v in vals:
                o = dict(BASE[t])
                o[f] = v
                if t == 'customer' and f == 'id_type':
                    if v not in ('resident_id', '', None, MISSING):
                        o.pop('birth_date')
                if t == 'customer' and f in ('birth_date',):
                    pass
                add(t, '%s=%r' % (f, v if v is not MISSING else '<missing>'), o)
    for idn, bd in RID_VALS:
        o = dict(BASE['customer'])
        o['id_number'] = idn
        o['birth_date'] = bd
        add('customer', 'id_number=%r birth_date=%r' % (idn, bd), o)
    # risk_assessed_on missing with risk_level present; passport with birth_date anything
    o = dict(BASE['customer']); o['id_type'] = 'passport'; o['id_number'] = 'E1'; o['birth_date'] = '2001-02-03'
    add('customer', 'passport with any birth_date', o)
    o = dict(BASE['customer']); o['id_type'] = 'other'; o['id_number'] = ' '
    add('customer', 'other id_number=" "', o)
    o = dict(BASE['customer']); o['id_type'] = 'passport'; o['id_number'] = 5
    add('customer', 'passport id_number=5', o)
    # extra fields / structure
    for t in BASE:
        o = dict(BASE[t]); o['x_future'] = 'v'
        add(t, 'unknown extra field', o)
        o = dict(BASE[t]); o['x_future'] = {'a': 1}
        add(t, 'unknown extra nested object', o)
        o = dict(BASE[t]); o['x_future'] = [1, 2]
        add(t, 'unknown extra array', o)
        o = dict(BASE[t]); o['x_future'] = None
        add(t, 'unknown extra null', o)
        o = dict(BASE[t]); o['Type'] = 'x'
        add(t, 'extra field Type', o)
        o = dict(BASE[t]); o['pin'] = '1234'
        add(t, 'C3 field pin', o)
        o = dict(BASE[t]); o['type'] = t.upper()
        add(t, 'type upper', o)
        o = dict(BASE[t]); o['type'] = ' ' + t
        add(t, 'type space', o)
        o = dict(BASE[t]); o.pop('type')
        add(t, 'type missing', o)
        o = dict(BASE[t]); o['type'] = None
        add(t, 'type null', o)
        # duplicate keys (raw)
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        lastf = list(o)[-1]
        add(t, 'duplicate key equal values', raw=s[:-1] + ',' + json.dumps(lastf) + ':' + json.dumps(o[lastf], ensure_ascii=False) + '}')
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        add(t, 'duplicate unknown key', raw=s[:-1] + ',"zz":1,"zz":2}')
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        add(t, 'escaped key spelling (type)', raw=s.replace('"type"', '"t\\u0079pe"'))
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        add(t, 'escaped value (\\u escapes)', raw=s.replace('"CNY"', '"\\u0043NY"').replace('"active"', '"\\u0061ctive"').replace('"mobile"', '"mo\\u0062ile"').replace('"2026-03-31"', '"2026\\u002d03-31"'))
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        add(t, 'trailing garbage', raw=s + 'x')
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        add(t, 'trailing comma', raw=s[:-1] + ',}')
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        add(t, 'NaN extra', raw=s[:-1] + ',"zz":NaN}')
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        add(t, 'huge exponent extra', raw=s[:-1] + ',"zz":1e999999}')
        o = dict(BASE[t]); o[KEYFIELD[t]] = 'M%d' % (n + 1) if t != 'balance' else 'MB%d' % (n + 1)
        s = mk(o)
        add(t, 'whitespace around', raw='  ' + s.replace(':', ' : ') + '\t')
    for raw in ['[]', 'null', '{}', '{', '"customer"', '{"type":"customer"}', '{"type":"account"}', '{"type":"unknown"}',
                '{"type":5}', '{"type":"relationship_manager"}', '\u00a0{}']:
        add('customer', 'raw ' + raw, raw=raw)
    return cases


def run():
    """-> (number of cases, [(case label, disagreement)])"""
    cases = build()
    # setup: base customer/account + an account per balance case
    setup = [mk(dict(BASE['customer'], customer_id='BASEC')), mk(dict(BASE['account'], account_id='BASEA'))]
    for i, label, t, raw in cases:
        if t == 'balance':
            setup.append(mk(dict(BASE['account'], account_id='MB%d' % i)))
    files = [('00setup.ndjson', ('\n'.join(setup) + '\n').encode(), 'ndjson')]
    labels = {}
    for i, label, t, raw in cases:
        fn = 'm%04d.ndjson' % i
        labels[fn] = '#%d %s %s' % (i, t, label)
        files.append((fn, (raw + '\n').encode('utf-8', 'surrogatepass'), 'ndjson'))
    diffs, got = harness.run_case('feedoracle_ndmut', [files], 'ndjson-mutations')
    out = []
    for d in diffs:   # attribute each disagreement to its case via the file name or the natural key
        m = re.search(r'(m\d{4}\.ndjson)', d) or re.search(r"'MB?(\d+)'", d)
        lab = ''
        if m and m.group(0).startswith('m'):
            lab = labels.get(m.group(1), '')
        elif m:
            lab = labels.get('m%04d.ndjson' % int(m.group(1)), '')
        out.append((lab, d))
    return len(cases), out
