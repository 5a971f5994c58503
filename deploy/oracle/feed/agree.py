"""NDJSON vs CSV path agreement: the same records in both formats must store identical values (and hashes),
and redelivering one format after the other must be all `unchanged` (issue 4: "delivering the same file or
record twice changes nothing"; DOC FeedContract.md "CSV": a line end inside quotes is "the same text as an
NDJSON "a\r\nb""). Each database is also compared with the oracle."""
import json
import harness, csvoracle

CUST = [
 dict(customer_id='C1', name='张三', id_type='resident_id', id_number='11010519491231002X', phone='13812345678', birth_date='1949-12-31', gender='M', risk_level='C3', risk_assessed_on='2025-06-01', annual_income='360000.00', rm_id='RM01', branch_id='BJ001', opened_on='2010-05-20', status='active', marketing_opt_out=False),
 dict(customer_id='C2', name='Li, "Si"\nJr', id_type='passport', id_number='E12345', risk_level='C1', risk_assessed_on='2025-01-02', rm_id='RM01', branch_id='BJ001', opened_on='2011-01-01', status='closed', marketing_opt_out=True),
 dict(customer_id='C3', name=' 欧阳·娜娜 ', id_type='other', id_number=' x ', gender='O', risk_level='C5', risk_assessed_on='2024-02-29', annual_income='92233720368547758.07', rm_id='R_1-x', branch_id='b', opened_on='2000-02-29', status='active'),
 dict(customer_id='C4', name='王五', id_number='11010519491231002X', risk_level='C2', risk_assessed_on='2025-06-01', annual_income='007.5', rm_id='RM02', branch_id='SH1', opened_on='2010-05-20', status='active'),
]
ACC = [
 dict(account_id='A1', customer_id='C1', product='time_deposit', product_code='TD,3Y', currency='CNY', opened_on='2024-01-15', maturity_on='2027-01-15'),
 dict(account_id='A2', customer_id='C1', product='loan', currency='CNY', opened_on='2024-01-15', closed_on='2024-01-15'),
 dict(account_id='A3', customer_id='C3', product='credit_card', product_code=' "q" ', currency='CNY', opened_on='2020-02-29'),
]
BAL = [
 dict(account_id='A1', as_of='2026-03-31', balance='-92233720368547758.08'),
 dict(account_id='A1', as_of='2026-04-01', balance='92233720368547758.07'),
 dict(account_id='A2', as_of='2026-03-31', balance='-0.00'),
 dict(account_id='A2', as_of='2024-02-29', balance='0.5'),
 dict(account_id='A3', as_of='2026-03-31', balance='-12345.67'),
]
TXN = [
 dict(txn_id='T1', account_id='A1', booked_at='2026-03-31T23:59:59.9999999+08:00', amount='-92233720368547758.08', category='transfer_out', channel='mobile', counterparty_bank='ICBC', description='转出'),
 dict(txn_id='T2', account_id='A1', booked_at='2026-03-31T15:59:59.999999999Z', amount='92233720368547758.07', category='deposit', channel='branch', description='a,b "c"\nd'),
 dict(txn_id='T3', account_id='A2', booked_at='2026-03-31T10:00:00-10:00', amount='0.01', category='interest', channel='online', counterparty_bank='TGBK'),
 dict(txn_id='T4', account_id='A2', booked_at='2026-04-01T00:30:00+14:00', amount='-0.00', category='fee', channel='atm', description=' spaced '),
 dict(txn_id='T5', account_id='A3', booked_at='2024-02-29T16:00:00Z', amount='-1.5', category='card_spend', channel='pos', description='😀\ttab'),
 dict(txn_id='T6', account_id='A3', booked_at='2026-03-31T09:30:00.123456789+08:00', amount='1', category='repayment', channel='call_center'),
 dict(txn_id='T7', account_id='A1', booked_at='1999-12-31T16:00:00.000001Z', amount='10.10', category='redemption', channel='branch'),
 dict(txn_id='T8', account_id='A2', booked_at='2026-03-31T12:00:00+08:00', amount='2.00', category='deposit', channel='branch', description='crlf\r\ninside'),
]
RMS = [
 dict(rm_id='RM01', name='李四', branch_id='BJ001', manager_rm_id='RM00', wecom_userid='lisi', email='lisi@bank.example.cn', mobile='13912345678', active=True),
 dict(rm_id='RM00', name='Zhao, "Boss"', branch_id='BJ001', active=False),
]
SETS = [('customer', 'customers', CUST), ('account', 'accounts', ACC), ('balance', 'balances', BAL), ('transaction', 'transactions', TXN),
        ('relationship_manager', 'relationship_managers', RMS)]


def ndjson():
    return ''.join(json.dumps(dict(type=t, **r), ensure_ascii=False) + '\n' for t, _, recs in SETS for r in recs).encode()


def csvs():
    out = []
    for t, plural, recs in SETS:
        hdr = list(dict.fromkeys(k for r in recs for k in r))
        rows = [{k: (('true' if v else 'false') if isinstance(v, bool) else v) for k, v in r.items()} for r in recs]
        out.append(('%s-1.csv' % plural, csvoracle.to_csv(hdr, rows, eol='\r\n'), t))
    return out


FULL = dict(
    customers="select customer_id,name,id_type,birth_date,gender,risk_level,risk_assessed_on,annual_income_fen,rm_id,branch_id,opened_on,status,marketing_opt_out,encode(content_hash,'hex') h,encode(id_number_hmac,'hex') ih,encode(phone_hmac,'hex') ph from customers order by 1",
    accounts="select account_id,customer_id,product,product_code,currency,opened_on,maturity_on,closed_on,encode(content_hash,'hex') h from accounts order by 1",
    balances="select account_id,as_of,customer_id,balance_fen,encode(content_hash,'hex') h from balances order by 1,2",
    transactions="select txn_id,account_id,customer_id,booked_at,booked_on,amount_fen,category,channel,counterparty_bank,description,encode(content_hash,'hex') h from transactions order by 1",
    relationship_managers="select rm_id,name,branch_id,manager_rm_id,wecom_userid,email,active,encode(mobile_hmac,'hex') mh,encode(content_hash,'hex') h from relationship_managers order by 1",
)


def full(db):
    return {k: harness.q(db, v) for k, v in FULL.items()}


def run():
    """-> (number of records, [(check, disagreement)])"""
    nd = [('feed-1.ndjson', ndjson(), 'ndjson')]
    cs = csvs()
    out = []
    d1, g1 = harness.run_case('feedoracle_agree_nd', nd, 'agree-nd')
    d2, g2 = harness.run_case('feedoracle_agree_csv', cs, 'agree-csv')
    out += [('oracle vs NDJSON', d) for d in d1] + [('oracle vs CSV', d) for d in d2]
    f1, f2 = full('feedoracle_agree_nd'), full('feedoracle_agree_csv')
    for tab in FULL:
        for a, b in zip(f1[tab], f2[tab]):
            if a != b:
                out.append(('NDJSON vs CSV stored', '%s %r' % (tab, {k: (a[k], b[k]) for k in a if a[k] != b[k]})))
        if len(f1[tab]) != len(f2[tab]):
            out.append(('NDJSON vs CSV stored', '%s: %d rows via NDJSON, %d via CSV' % (tab, len(f1[tab]), len(f2[tab]))))
    # cross redelivery: the second format must be all unchanged, no change history, no jobs
    d3, g3 = harness.run_case('feedoracle_agree_x', nd + cs, 'agree-nd-then-csv')
    d4, g4 = harness.run_case('feedoracle_agree_y', cs + [('feed-2.ndjson', ndjson(), 'ndjson')], 'agree-csv-then-nd')
    out += [('NDJSON then CSV', d) for d in d3] + [('CSV then NDJSON', d) for d in d4]
    for name, g, first in (('NDJSON then CSV', g3, 1), ('CSV then NDJSON', g4, len(cs))):
        for b in g['batches'][first:]:
            if b['accepted'] or b['rejected'] or b['jobs_enqueued']:
                out.append((name, 'redelivery %s: %d accepted, %d rejected, %d jobs (all should be unchanged)' % (
                    b['file_name'].split('/')[-1], b['accepted'], b['rejected'], b['jobs_enqueued'])))
        if g['changes']:
            out.append((name, 'redelivery logged archive changes: %r' % g['changes']))
    with open(harness.WORK + '/agree-stored.json', 'w') as fh:
        json.dump(dict(nd=f1, csv=f2), fh, ensure_ascii=False, indent=1, default=str)
    return sum(len(r) for _, _, r in SETS), out
