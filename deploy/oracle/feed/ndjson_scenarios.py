"""NDJSON (and a few CSV) multi-line and multi-feed scenarios, each in its own fresh database."""
import json, os
import oracle, harness
from ndjson_mutations import BASE, mk, rid

C = lambda **kw: mk(dict(BASE['customer'], **kw))
A = lambda **kw: mk(dict(BASE['account'], **kw))
B = lambda **kw: mk(dict(BASE['balance'], **kw))
T = lambda **kw: mk(dict(BASE['transaction'], **kw))


def nd(*lines, sep='\n', end='\n', bom=False):
    s = sep.join(lines) + end
    return (('\ufeff' if bom else '') + s).encode('utf-8')


SETUP = [C(customer_id='C1'), A(account_id='A1', customer_id='C1')]

S = {}
S['blank_lines_numbered'] = [('f1.ndjson', nd(C(customer_id='C1'), '', '  \t ', B(account_id='A1', balance='1e5'), A(account_id='A1', customer_id='C1'),
                                              '', T(txn_id='T1', account_id='A1', amount='.5'), end=''), 'ndjson')]
S['crlf'] = [('f1.ndjson', nd(C(customer_id='C1'), '', A(account_id='A1', customer_id='C1'), B(account_id='A1', balance='5.'),
                              T(txn_id='T1', account_id='A1', description='x'), sep='\r\n', end='\r\n'), 'ndjson')]
S['crlf_blank_only_cr'] = [('f1.ndjson', b'\r\n' + nd(C(customer_id='C1'), '\r', B(account_id='ZZ', balance='x')), 'ndjson')]
S['bom_first_line'] = [('f1.ndjson', nd(C(customer_id='C1'), B(account_id='A1', balance='x'), bom=True), 'ndjson')]
S['bom_mid_file'] = [('f1.ndjson', nd(C(customer_id='C1'), '\ufeff' + C(customer_id='C2'), B(account_id='A1', balance='x')), 'ndjson')]
S['nbsp_only_line'] = [('f1.ndjson', nd(C(customer_id='C1'), '\u00a0', B(account_id='A1', balance='x')), 'ndjson')]
S['invalid_utf8_mid'] = [('f1.ndjson', nd(C(customer_id='C1')) + b'{"type":"customer","name":"\xff"}\n' + nd(C(customer_id='C2'), B(account_id='A1', balance='x')), 'ndjson')]
S['gbkish_line_mid'] = [('f1.ndjson', nd(C(customer_id='C1', name='张三')) + C(customer_id='C2', name='李四').encode('gb18030') + b'\n' + nd(C(customer_id='C3')), 'ndjson')]
# DOC FeedContract.md "Lines and encodings": no earlier line held UTF-8 Chinese, so the file is refused as a whole
S['gbk_file_refused'] = [('f1.ndjson', nd(C(customer_id='C1', name='Zhang')) + C(customer_id='C2', name='李四').encode('gb18030') + b'\n' + nd(C(customer_id='C3')), 'ndjson')]
S['raw_nul_mid'] = [('f1.ndjson', nd(C(customer_id='C1')) + b'{"type":"customer"\x00}\n' + nd(C(customer_id='C2')), 'ndjson')]
S['long_line'] = [('f1.ndjson', nd(C(customer_id='C1'), C(customer_id='C2', description='x' * (1024 * 1024 + 10)), C(customer_id='C3')), 'ndjson')]
S['dup_identical_customer'] = [('f1.ndjson', nd(C(customer_id='C1'), C(customer_id='C1')), 'ndjson')]
S['dup_changed_customer'] = [('f1.ndjson', nd(C(customer_id='C1'), C(customer_id='C1', risk_level='C5', phone='13900000000')), 'ndjson')]
S['dup_reordered_keys'] = [('f1.ndjson', nd(C(customer_id='C1'), json.dumps(dict(reversed(list(json.loads(C(customer_id='C1')).items()))), ensure_ascii=False)), 'ndjson')]
S['dup_extra_unknown_field'] = [('f1.ndjson', nd(C(customer_id='C1'), C(customer_id='C1', x_new='1')), 'ndjson')]
S['dup_money_12.5_vs_12.50'] = [('f1.ndjson', nd(*SETUP, B(account_id='A1', balance='12.5'), B(account_id='A1', balance='12.50')), 'ndjson')]
S['dup_same_instant_other_offset'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1', booked_at='2026-03-01T10:00:00+08:00'),
                                                      T(txn_id='T1', account_id='A1', booked_at='2026-03-01T02:00:00Z')), 'ndjson')]
S['dup_null_vs_missing_optional'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1', description=None), T(txn_id='T1', account_id='A1', description='')), 'ndjson')]
S['dup_balance_changed'] = [('f1.ndjson', nd(*SETUP, B(account_id='A1', balance='1.00'), B(account_id='A1', balance='2.00')), 'ndjson')]
S['dup_txn_changed_day_same_feed'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1', booked_at='2026-03-01T10:00:00+08:00'),
                                                      T(txn_id='T1', account_id='A1', booked_at='2026-03-05T10:00:00+08:00')), 'ndjson')]
S['txn_changed_day_next_feed'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1', booked_at='2026-03-01T10:00:00+08:00')), 'ndjson'),
                                  ('f2.ndjson', nd(T(txn_id='T1', account_id='A1', booked_at='2026-04-05T10:00:00+08:00', amount='-1.00')), 'ndjson')]
S['txn_changed_account_next_feed'] = [('f1.ndjson', nd(*SETUP, A(account_id='A2', customer_id='C1'), T(txn_id='T1', account_id='A1')), 'ndjson'),
                                      ('f2.ndjson', nd(T(txn_id='T1', account_id='A2')), 'ndjson')]
S['redelivery_same_file'] = [('f1.ndjson', nd(*SETUP, B(account_id='A1'), T(txn_id='T1', account_id='A1'), B(account_id='A1', balance='x'),
                                              T(txn_id='T2', account_id='A9')), 'ndjson'),
                             ('f1b.ndjson', nd(*SETUP, B(account_id='A1'), T(txn_id='T1', account_id='A1'), B(account_id='A1', balance='x'),
                                               T(txn_id='T2', account_id='A9')), 'ndjson')]
S['account_later_same_feed'] = [('f1.ndjson', nd(B(account_id='A1'), T(txn_id='T1', account_id='A1'), A(account_id='A1', customer_id='C1'), C(customer_id='C1')), 'ndjson')]
S['pending_then_account_next_feed'] = [('f1.ndjson', nd(C(customer_id='C1'), B(account_id='A9'), T(txn_id='T1', account_id='A9')), 'ndjson'),
                                       ('f2.ndjson', nd(A(account_id='A9', customer_id='C1')), 'ndjson')]
S['rejected_account_pending'] = [('f1.ndjson', nd(C(customer_id='C1'), A(account_id='A8', customer_id='C1', currency='USD'), B(account_id='A8'),
                                                  T(txn_id='T1', account_id='A8')), 'ndjson'),
                                 ('f2.ndjson', nd(C(customer_id='C2')), 'ndjson'),
                                 ('f3.ndjson', nd(A(account_id='A8', customer_id='C1')), 'ndjson')]
S['rejected_update_of_known_account'] = [('f1.ndjson', nd(*SETUP), 'ndjson'),
                                         ('f2.ndjson', nd(A(account_id='A1', customer_id='C1', currency='USD'), B(account_id='A1'), T(txn_id='T1', account_id='A1')), 'ndjson')]
S['pending_superseded_by_applied'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T9', account_id='A9', amount='-9.00')), 'ndjson'),
                                      ('f2.ndjson', nd(T(txn_id='T9', account_id='A1', amount='-1.00')), 'ndjson'),
                                      ('f3.ndjson', nd(A(account_id='A9', customer_id='C1')), 'ndjson')]
S['pending_replaced_by_later_pending'] = [('f1.ndjson', nd(C(customer_id='C1'), B(account_id='A9', balance='100.00')), 'ndjson'),
                                          ('f2.ndjson', nd(B(account_id='A9', balance='200.00')), 'ndjson'),
                                          ('f3.ndjson', nd(A(account_id='A9', customer_id='C1')), 'ndjson')]
S['pending_dup_identical_same_feed'] = [('f1.ndjson', nd(B(account_id='A9'), B(account_id='A9')), 'ndjson')]
S['pending_redelivered'] = [('f1.ndjson', nd(B(account_id='A9')), 'ndjson'), ('f2.ndjson', nd(B(account_id='A9')), 'ndjson')]
S['account_unknown_customer'] = [('f1.ndjson', nd(A(account_id='A1', customer_id='NOSUCH'), B(account_id='A1')), 'ndjson')]
S['customer_change_next_feed'] = [('f1.ndjson', nd(C(customer_id='C1')), 'ndjson'),
                                  ('f2.ndjson', nd(C(customer_id='C1', risk_level='C1', annual_income='1.00')), 'ndjson')]
S['negative_balance_deposit'] = [('f1.ndjson', nd(*SETUP, B(account_id='A1', balance='-5.00'), B(account_id='A1', as_of='2026-04-01', balance='-0.00')), 'ndjson')]
S['batch_with_year0001_txn'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1'), T(txn_id='T2', account_id='A1', booked_at='0001-01-01T00:00:00+08:00'),
                                                 B(account_id='A1', balance='x')), 'ndjson')]
S['batch_with_year9999_txn'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1'), T(txn_id='T2', account_id='A1', booked_at='9999-12-31T23:59:59-01:00')), 'ndjson')]
S['batch_with_year0001_pending_txn'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T2', account_id='A9', booked_at='0001-01-01T00:00:00+01:00')), 'ndjson'),
                                        ('f2.ndjson', nd(A(account_id='A9', customer_id='C1')), 'ndjson')]
S['span_over_50_years_balances'] = [('f1.ndjson', nd(*SETUP, B(account_id='A1', as_of='1950-01-01'), B(account_id='A1', as_of='2026-03-31')), 'ndjson')]
S['span_over_50_years_txns'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1', booked_at='1960-01-01T00:00:00Z'), T(txn_id='T2', account_id='A1')), 'ndjson')]
S['span_over_50_years_two_feeds'] = [('f1.ndjson', nd(*SETUP, B(account_id='A1', as_of='1950-01-01')), 'ndjson'),
                                     ('f2.ndjson', nd(B(account_id='A1', as_of='2026-03-31')), 'ndjson')]
S['shanghai_dst_1990'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1', booked_at='1990-07-01T15:30:00Z')), 'ndjson')]
S['ns_round_across_midnight'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1', booked_at='2026-03-31T23:59:59.9999996+08:00')), 'ndjson')]
S['risk_level_missing'] = [('f1.ndjson', nd(C(customer_id='C1', risk_level=None), C(customer_id='C2', risk_level=None, risk_assessed_on=None)), 'ndjson')]
S['many_faults_one_line'] = [('f1.ndjson', nd(C(customer_id='C1', phone='x', status='x', opened_on='x')), 'ndjson')]
S['last_line_no_newline_invalid'] = [('f1.ndjson', nd(C(customer_id='C1'), '', B(account_id='A1', balance='1.234'), end=''), 'ndjson')]
# CSV
CUST_HDR = 'customer_id,name,id_type,id_number,phone,birth_date,gender,risk_level,risk_assessed_on,annual_income,rm_id,branch_id,opened_on,status,marketing_opt_out'
S['csv_customers'] = [('customers-1.csv', ('\ufeff' + CUST_HDR + '\r\n'
                       'C1,张三,resident_id,11010519491231002X,13812345678,1949-12-31,M,C3,2025-06-01,360000.00,RM01,BJ001,2010-05-20,active,false\r\n'
                       'C2,"李,四",passport,E1,,,,C2,2025-06-01,,RM01,BJ001,2010-05-20,active,\r\n'
                       '\r\n'
                       'C3,王五,passport,E2,,,,C2,2025-06-01,1e5,RM01,BJ001,2010-05-20,active,true\r\n'
                       'C4,王五,passport,E2,,,,C2,2025-06-01,,RM01,BJ001,2010-05-20,active,TRUE\r\n'
                       'C5,王五,passport,E2,,,,C2,2025-06-01,,RM01,BJ001,2010-05-20,active\r\n'
                       'C6, 王五,passport,E2,,,,C2,2025-06-01,100,RM01,BJ001,2010-05-20,closed,true\r\n'
                       'C 7,王五,passport,E2,,,,C2,2025-06-01,100,RM01,BJ001,2010-05-20,closed,true\r\n').encode(), 'customer')]
S['csv_balances_txns'] = [('f0.ndjson', nd(*SETUP), 'ndjson'),
                          ('balances-1.csv', ('account_id,as_of,balance\nA1,2026-03-31,1234567.89\nA1,2026-04-01,-0.5\nA1,2026-04-02,"1,000.00"\n'
                                              'A9,2026-04-03,5\nA1,2026-02-29,1\nA1,2026-04-04,\n').encode(), 'balance'),
                          ('transactions-1.csv', ('txn_id,account_id,booked_at,amount,category,channel,counterparty_bank,description\n'
                                                  'T1,A1,2026-03-31T09:30:00.5+08:00,-50000.00,transfer_out,mobile,ICBC,转出\n'
                                                  'T2,A1,2026-03-31T09:30:00+08:00,1,deposit,branch,,"a ""q"" b"\n'
                                                  'T3,A1,2026-03-31T09:30:00,1,deposit,branch,,\n').encode(), 'transaction')]


# extra probes
S['dup_key_escaped'] = [('f1.ndjson', nd(*SETUP, '{"type":"balance","account_id":"A1","as_of":"2026-03-31","balance":"1.00","b\\u0061lance":"2.00"}'), 'ndjson')]
S['surrogate_pair_escaped'] = [('f1.ndjson', nd(*SETUP, T(txn_id='T1', account_id='A1').replace('"转出"', '"\\ud83d\\ude00"')), 'ndjson')]
TXH = 'txn_id,account_id,booked_at,amount,category,channel,counterparty_bank,description\n'
S['csv_multiline_quoted'] = [('f0.ndjson', nd(*SETUP), 'ndjson'),
                             ('transactions-2.csv', (TXH + 'T1,A1,2026-03-31T09:30:00Z,1,deposit,branch,,"two\nlines"\n'
                                                     'T2,A1,2026-03-31T09:30:00Z,x,deposit,branch,,\n').encode(), 'transaction')]


# relationship_manager (DOC FeedContract.md "relationship_manager (v1.1)"), the example line of the contract doc
RM = {"type": "relationship_manager", "rm_id": "RM01", "name": "李四", "branch_id": "BJ001", "manager_rm_id": "RM00",
      "wecom_userid": "lisi", "email": "lisi@bank.example.cn", "mobile": "13912345678", "active": True}
R = lambda **kw: mk(dict(RM, **kw))
S['rm_records'] = [('f1.ndjson', nd(R(), R(),                                   # identical repeat: unchanged
                                    R(rm_id='RM02', manager_rm_id=None, wecom_userid='', email=None, mobile=''),
                                    R(rm_id='RM03', active=None), R(rm_id='RM04', active=''), R(rm_id='RM05', active='true'),
                                    R(rm_id='RM06', manager_rm_id='RM06'), R(rm_id='RM07', mobile='+8613912345678'),
                                    R(rm_id='RM08', name=''), R(rm_id='RM 9'), R(rm_id='RM10', branch_id=None),
                                    R(rm_id='RM11', active=False), C(customer_id='C1', rm_id='RM01')), 'ndjson'),
                   ('f2.ndjson', nd(R(active=False), R(rm_id='RM11', active=False)), 'ndjson')]   # changed; unchanged
RMH = 'rm_id,name,branch_id,manager_rm_id,wecom_userid,email,mobile,active\n'
S['rm_csv'] = [('relationship_managers-1.csv', (RMH + 'RM01,李四,BJ001,RM00,lisi,lisi@bank.example.cn,13912345678,true\n'
                                                'RM02,王五,BJ001,,,,,false\n'
                                                'RM03,赵六,BJ001,,,,,\n'
                                                'RM04,钱七,BJ001,RM04,,,,true\n').encode(), 'relationship_manager')]


def run():
    """-> (number of scenarios, [(scenario, disagreement)])"""
    return harness.run_scenarios(S, 'feedoracle_ndsc', 'nd-')
