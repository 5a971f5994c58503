"""CSV multi-line / multi-file scenarios (headers, RFC 4180 quoting and line numbers, duplicates, redelivery,
pending, formats, limits), a fresh database each, compared with the oracle."""
import csv
import harness

CH = 'customer_id,name,id_type,id_number,phone,birth_date,gender,risk_level,risk_assessed_on,annual_income,rm_id,branch_id,opened_on,status,marketing_opt_out'
C1 = 'C1,张三,resident_id,11010519491231002X,13812345678,1949-12-31,M,C3,2025-06-01,360000.00,RM01,BJ001,2010-05-20,active,false'
C2 = 'C2,李四,passport,E12345,,,,C1,2025-01-02,,RM01,BJ001,2011-01-01,closed,true'
AH = 'account_id,customer_id,product,product_code,currency,opened_on,maturity_on,closed_on'
A1 = 'A1,C1,time_deposit,TD3Y,CNY,2024-01-15,2027-01-15,'
A2 = 'A2,C1,loan,,CNY,2024-01-15,,'
BH = 'account_id,as_of,balance'
TH = 'txn_id,account_id,booked_at,amount,category,channel,counterparty_bank,description'
T1 = 'T1,A1,2026-03-31T09:30:00.5+08:00,-50000.00,transfer_out,mobile,ICBC,转出'
T2 = 'T2,A1,2026-03-31T23:59:59.9999999+08:00,0.01,interest,online,,'


def f(name, text, fmt=None):
    t = fmt if fmt and fmt != 'rm' else None
    if fmt == 'rm': return (name, text.encode(), 'relationship_manager')
    t = t or {'cu': 'customer', 'ac': 'account', 'ba': 'balance', 'tr': 'transaction'}[name[:2]]
    return (name, text.encode('utf-8') if isinstance(text, str) else text, t)


def L(*lines, eol='\n'):
    return eol.join(lines) + eol


SETUP = [f('customers-0.csv', L(CH, C1, C2)), f('accounts-0.csv', L(AH, A1, A2))]
S = {}
# --- header variations
S['hdr_order'] = [f('customers-1.csv', L('marketing_opt_out,status,opened_on,branch_id,rm_id,annual_income,risk_assessed_on,risk_level,gender,birth_date,phone,id_number,id_type,name,customer_id',
                                        'true,active,2010-05-20,BJ001,RM01,1.5,2025-06-01,C3,M,1949-12-31,13812345678,11010519491231002X,resident_id,张三,C1')),
                  f('accounts-1.csv', L('currency,opened_on,product,customer_id,account_id', 'CNY,2024-01-15,fund,C1,A9')),
                  f('balances-1.csv', L('balance,as_of,account_id', '12.34,2026-03-31,A9')),
                  f('transactions-1.csv', L('description,channel,category,amount,booked_at,account_id,txn_id', 'x,pos,purchase,-1.00,2026-03-31T01:00:00Z,A9,T9'))]
S['hdr_extra_cols'] = SETUP + [f('balances-1.csv', L('x_future,account_id,as_of,balance,Type,note', 'v,A1,2026-03-31,1.00,whatever,"a,b"'))]
S['hdr_type_col_ok'] = SETUP + [f('balances-1.csv', L('type,account_id,as_of,balance', 'balance,A1,2026-03-31,1.00', ',A1,2026-04-01,2.00', 'account,A1,2026-04-02,3.00', 'Balance,A1,2026-04-03,4.00'))]
for col in ['account_id', 'as_of', 'balance']:
    hdr = [c for c in ['account_id', 'as_of', 'balance'] if c != col]
    S['hdr_missing_' + col] = SETUP + [f('balances-1.csv', L(','.join(hdr), ','.join({'account_id': 'A1', 'as_of': '2026-03-31', 'balance': '1'}[c] for c in hdr)))]
S['hdr_missing_optional_cols'] = SETUP + [f('customers-1.csv', L('customer_id,name,id_number,risk_level,risk_assessed_on,rm_id,branch_id,opened_on,status', 'C7,王五,11010519491231002X,C2,2025-06-01,RM01,BJ001,2010-05-20,active'))]
S['hdr_missing_risk_assessed_on'] = SETUP + [f('customers-1.csv', L('customer_id,name,id_number,risk_level,rm_id,branch_id,opened_on,status', 'C7,王五,11010519491231002X,C2,RM01,BJ001,2010-05-20,active'))]
S['hdr_dup_known'] = SETUP + [f('balances-1.csv', L('account_id,as_of,balance,balance', 'A1,2026-03-31,1.00,1.00'))]
S['hdr_dup_unknown'] = SETUP + [f('balances-1.csv', L('account_id,as_of,balance,x,x', 'A1,2026-03-31,1.00,a,b'))]
S['hdr_bom_crlf'] = [f('customers-0.csv', b'\xef\xbb\xbf' + L(CH, C1, C2, eol='\r\n').encode()), f('accounts-0.csv', b'\xef\xbb\xbf' + L(AH, A1, eol='\r\n').encode())]
S['hdr_trailing_empty_lines'] = SETUP + [f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00', '', '', '  '))]
S['hdr_no_final_newline'] = SETUP + [f('balances-1.csv', BH + '\nA1,2026-03-31,1.00')]
S['hdr_only'] = SETUP + [f('balances-1.csv', L(BH))]
S['hdr_only_no_nl'] = SETUP + [f('balances-1.csv', BH)]
S['empty_file'] = SETUP + [f('balances-1.csv', '')]
S['hdr_quoted_names'] = SETUP + [f('balances-1.csv', L('"account_id","as_of","balance"', 'A1,2026-03-31,1.00'))]
S['hdr_spaces_in_names'] = SETUP + [f('balances-1.csv', L('account_id, as_of, balance', 'A1,2026-03-31,1.00'))]
S['hdr_case'] = SETUP + [f('balances-1.csv', L('Account_ID,AS_OF,Balance', 'A1,2026-03-31,1.00'))]
S['hdr_c3_col'] = SETUP + [f('balances-1.csv', L('account_id,as_of,balance,pin', 'A1,2026-03-31,1.00,'))]
S['blank_before_header'] = SETUP + [f('balances-1.csv', L('', BH, 'A1,2026-03-31,1.00'))]
S['blank_middle'] = SETUP + [f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00', '', ' \t', 'A1,2026-04-01,bad', 'A1,2026-04-02,2.00'))]
# --- RFC 4180 quoting / line numbers
S['q_commas_quotes'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,"IC,BC","say ""hi"", ok"', '"T2","A1","2026-03-31T09:30:00Z","2.00","deposit","branch","",""'))]
S['q_multiline_lineno'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"two', 'lines"', 'T2,A1,2026-03-31T09:30:00Z,bad,deposit,branch,,', 'T3,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"a', '', 'b', '"', 'T4,A1,2026-03-31T09:30:00Z,1.00,Deposit,branch,,'))]
S['q_multiline_crlf'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"two', 'lines"', 'T2,A1,2026-03-31T09:30:00Z,bad,deposit,branch,,', eol='\r\n'))]
S['q_unclosed_mid'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"oops', 'T2,A1,2026-03-31T09:30:00Z,2.00,deposit,branch,,', 'T3,A1,2026-03-31T09:30:00Z,bad,deposit,branch,,'))]
S['q_unclosed_last'] = SETUP + [f('transactions-1.csv', L(TH, 'T2,A1,2026-03-31T09:30:00Z,2.00,deposit,branch,,', 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"oops'))]
S['q_text_after_quote'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"ab"c', 'T2,A1,2026-03-31T09:30:00Z,2.00,deposit,branch,,'))]
S['q_quote_in_unquoted'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,a"b', 'T2,A1,2026-03-31T09:30:00Z,2.00,deposit,branch,,'))]
S['q_space_before_quote'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,, "ab"', 'T2,A1,2026-03-31T09:30:00Z,2.00,deposit,branch,,"ab" '))]
S['q_field_count'] = SETUP + [f('balances-1.csv', L(BH, 'A1,2026-03-31', 'A1,2026-04-01,1.00,', 'A1,2026-04-02,1.00,extra', 'A1,2026-04-03,3.00'))]
S['q_quoted_empty_required'] = SETUP + [f('balances-1.csv', L(BH, 'A1,"",1.00', 'A1,2026-04-01,""', '"A1","2026-04-02","-0.00"'))]
S['q_invalid_utf8_line'] = SETUP + [f('balances-1.csv', BH.encode() + b'\nA1,2026-03-31,1.00\nA\xff1,2026-04-01,1.00\nA1,2026-04-02,2.00\n')]
S['q_quoted_header_multiline'] = SETUP + [f('balances-1.csv', L('account_id,"as_of",balance', 'A1,2026-03-31,1.00'))]
S['q_cr_only_line_ends'] = SETUP + [f('balances-1.csv', BH + '\rA1,2026-03-31,1.00\rA1,2026-04-01,2.00\r')]
S['q_nbsp_line'] = SETUP + [f('balances-1.csv', L(BH, '\u00a0', 'A1,2026-04-01,2.00'))]
S['q_bom_mid_line'] = SETUP + [f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00', '\ufeffA1,2026-04-01,2.00'))]
# --- booleans in context
S['bool_empty_default'] = [f('customers-0.csv', L(CH, C1.replace(',false', ','), C2))]
# --- duplicates / redelivery
S['dup_identical_same_file'] = SETUP + [f('balances-1.csv', L(BH, 'A1,2026-03-31,12.5', 'A1,2026-03-31,12.50'))]
S['dup_changed_same_file'] = SETUP + [f('customers-1.csv', L(CH, C1, C1.replace('C3,', 'C4,'), C1.replace(',BJ001,', ',SH001,')))]
S['dup_changed_balance'] = SETUP + [f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00', 'A1,2026-03-31,2.00'))]
S['dup_txn_other_offset'] = SETUP + [f('transactions-1.csv', L(TH, T1, T1.replace('2026-03-31T09:30:00.5+08:00', '2026-03-31T01:30:00.500Z')))]
S['redeliver_same_file'] = SETUP + [f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00')), f('transactions-1.csv', L(TH, T1, T2)),
                                    f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00')), f('transactions-1.csv', L(TH, T1, T2)),
                                    f('customers-0.csv', L(CH, C1, C2)), f('accounts-0.csv', L(AH, A1, A2))]
S['redeliver_reordered_cols'] = SETUP + [f('customers-1.csv', L(','.join(reversed(CH.split(','))), ','.join(reversed(C1.split(',')))))]
S['change_across_files'] = SETUP + [f('customers-1.csv', L(CH, C1.replace('360000.00', '360000.01').replace(',false', ',true')))]
# --- pending
S['pend_same_call'] = [[f('customers-0.csv', L(CH, C1)), f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00', 'A2,2026-03-31,-5.00')), f('transactions-1.csv', L(TH, T1)), f('accounts-0.csv', L(AH, A1, A2))]]
S['pend_later_call'] = [f('customers-0.csv', L(CH, C1)), f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00')), f('transactions-1.csv', L(TH, T1)), f('accounts-0.csv', L(AH, A1))]
S['pend_never'] = SETUP + [f('balances-1.csv', L(BH, 'AX,2026-03-31,1.00', 'A1,2026-03-31,1.00'))]
S['pend_redelivered'] = [f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00')), f('balances-2.csv', L(BH, 'A1,2026-03-31,1.00')), f('customers-0.csv', L(CH, C1)), f('accounts-0.csv', L(AH, A1))]
S['pend_superseded'] = [f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00')), f('balances-2.csv', L(BH, 'A1,2026-03-31,2.00')), f('customers-0.csv', L(CH, C1)), f('accounts-0.csv', L(AH, A1))]
S['pend_account_rejected'] = [f('customers-0.csv', L(CH, C1)), f('accounts-0.csv', L(AH, 'A1,C1,time_deposit,,USD,2024-01-15,,')), f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00')), f('accounts-1.csv', L(AH, A1))]
# --- format flag / names
S['format_flag'] = SETUP + [('feed.txt', L(BH, 'A1,2026-03-31,1.00').encode(), ('csv', 'balance'))]
S['name_prefix_upper'] = SETUP + [('BALANCES-1.csv', L(BH, 'A1,2026-03-31,1.00').encode(), 'balance')]
# --- whole-file fault followed by a good file in one call
S['bad_then_good_same_call'] = SETUP + [[f('balances-1.csv', L('account_id,as_of', 'A1,2026-03-31')), f('balances-2.csv', L(BH, 'A1,2026-03-31,1.00'))]]


# --- multi-line faults, limits, encodings, pending duplicates
S2 = {}
S2['multiline_bad_amount'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,bad,deposit,branch,,"two', 'lines"', 'T2,A1,2026-03-31T09:30:00Z,1,deposit,branch,,'))]
S2['multiline_field_count'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1,deposit,branch,"two', 'lines"', 'T2,A1,2026-03-31T09:30:00Z,1,deposit,branch,,'))]
S2['multiline_text_after_quote'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"oops', 'T2,A1,2026-03-31T09:30:00Z,2.00,deposit,branch,,"d"x', 'T3,A1,2026-03-31T09:30:00Z,3.00,deposit,branch,,'))]
S2['hdr_trailing_comma'] = SETUP + [f('balances-1.csv', L(BH + ',', 'A1,2026-03-31,1.00,', 'A1,2026-04-01,2.00'))]
S2['hdr_two_empty_names'] = SETUP + [f('balances-1.csv', L(BH + ',,', 'A1,2026-03-31,1.00,,'))]
S2['row_all_commas'] = SETUP + [f('balances-1.csv', L(BH, ',,', 'A1,2026-04-01,2.00'))]
S2['long_line'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,' + 'x' * (1024 * 1024 + 10), 'T2,A1,2026-03-31T09:30:00Z,2.00,deposit,branch,,'))]
S2['long_quoted_multiline_ok'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"' + '\n'.join(['x' * 100] * 200) + '"', 'T2,A1,2026-03-31T09:30:00Z,bad,deposit,branch,,'))]
S2['gbk_file'] = SETUP + [f('customers-1.csv', (CH + '\n').encode() + C1.replace('张三', '张三').encode('gbk') + b'\n')]
S2['type_col_in_customers'] = SETUP + [f('customers-1.csv', L('type,' + CH, 'customer,' + C1.replace('C1,', 'C8,', 1)))]
S2['dup_pending_same_file'] = [f('balances-1.csv', L(BH, 'A1,2026-03-31,1.00', 'A1,2026-03-31,1.00', 'A1,2026-03-31,2.00'))] + SETUP
S2['bom_then_quoted_header'] = SETUP + [f('balances-1.csv', b'\xef\xbb\xbf"account_id",as_of,balance\r\nA1,2026-03-31,1.00\r\n')]
S2['header_blank_names_only_crlf_lastline'] = SETUP + [f('balances-1.csv', BH + '\r\nA1,2026-03-31,1.00\r\n\r\n')]
S2['quoted_field_spans_crlf_then_lf'] = SETUP + [f('transactions-1.csv', (TH + '\r\nT1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"a\r\nb\nc"\r\nT2,A1,2026-03-31T09:30:00Z,x,deposit,branch,,\r\n').encode())]
S2['nul_in_quoted'] = SETUP + [f('balances-1.csv', L(BH, 'A1,2026-03-31,"1\x00"', 'A1,2026-04-01,2.00'))]
S2['quote_only_cell'] = SETUP + [f('transactions-1.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,"",""""', 'T2,A1,2026-03-31T09:30:00Z,1.00,deposit,branch,,"'))]
for k, v in S2.items():
    assert k not in S, k
    S[k] = v
# --- every cell quoted; NDJSON "" against CSV empty fields
def allq(line):
    row = next(csv.reader([line]))
    return ','.join('"' + v.replace('"', '""') + '"' for v in row)
S3 = {}
S3['all_cells_quoted'] = [f('customers-0.csv', L(allq(CH), allq(C1), allq(C2))), f('accounts-0.csv', L(allq(AH), allq(A1), allq(A2))),
                          f('balances-1.csv', L(allq(BH), allq('A1,2026-03-31,1.00'))), f('transactions-1.csv', L(allq(TH), allq(T1), allq(T2)))]
S3['hdr_trailing_space_name'] = SETUP + [f('balances-1.csv', L('account_id,as_of,balance ', 'A1,2026-03-31,1.00'))]
S3['nd_empty_strings_vs_csv'] = [('f0.ndjson', (
    '{"type":"customer","customer_id":"C1","name":"张三","id_type":"","id_number":"11010519491231002X","phone":"","birth_date":"","gender":"","risk_level":"C3","risk_assessed_on":"2025-06-01","annual_income":"","rm_id":"RM01","branch_id":"BJ001","opened_on":"2010-05-20","status":"active"}\n'
    '{"type":"account","account_id":"A1","customer_id":"C1","product":"loan","product_code":"","currency":"CNY","opened_on":"2024-01-15","maturity_on":"","closed_on":""}\n'
    '{"type":"transaction","txn_id":"T1","account_id":"A1","booked_at":"2026-03-31T09:30:00Z","amount":"1","category":"deposit","channel":"branch","counterparty_bank":"","description":""}\n').encode(), 'ndjson'),
    f('customers-0.csv', L(CH, 'C1,张三,,11010519491231002X,,,,C3,2025-06-01,,RM01,BJ001,2010-05-20,active,')),
    f('accounts-0.csv', L(AH, 'A1,C1,loan,,CNY,2024-01-15,,')),
    f('transactions-0.csv', L(TH, 'T1,A1,2026-03-31T09:30:00Z,1,deposit,branch,,'))]
S3['nd_optout_empty'] = [('f0.ndjson', ('{"type":"customer","customer_id":"C1","name":"张三","id_number":"11010519491231002X","risk_level":"C3","risk_assessed_on":"2025-06-01","rm_id":"RM01","branch_id":"BJ001","opened_on":"2010-05-20","status":"active","marketing_opt_out":""}\n'
    '{"type":"customer","customer_id":"C2","name":"张三","id_number":"11010519491231002X","risk_level":"C3","risk_assessed_on":"2025-06-01","rm_id":"RM01","branch_id":"BJ001","opened_on":"2010-05-20","status":"active","marketing_opt_out":null}\n').encode(), 'ndjson'),
    f('customers-0.csv', L(CH, 'C1,张三,,11010519491231002X,,,,C3,2025-06-01,,RM01,BJ001,2010-05-20,active,', 'C2,张三,,11010519491231002X,,,,C3,2025-06-01,,RM01,BJ001,2010-05-20,active,'))]
for k, v in S3.items():
    assert k not in S, k
    S[k] = v


def run():
    """-> (number of scenarios, [(scenario, disagreement)])"""
    return harness.run_scenarios(S, 'feedoracle_csvsc', 'csv-')
