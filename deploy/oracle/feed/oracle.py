"""Independent reference validator and archive model for TierGuard feed contract v1.1 (shared by the
NDJSON and the CSV suites; CSV framing is in csvoracle.py).

Written from issue 4 ("Feed contract v1") and the rules' "Feed contract" section (RULES.md), without
reading the product's validation code or tests. Where those are silent, the decisions written in
Shared/FeedContract/Docs.docc/FeedContract.md are used, each in one place, tagged:
  RULES: ...           stated by RULES.md "Feed contract"
  DOC FeedContract.md: stated by the product's contract document (section named)
  ORACLE: ...          this oracle's own reading where neither states it (see README "Open questions")
"""
import json, re

I64_MAX = 2**63 - 1
I64_MIN = -2**63

IDENT = re.compile(r'[A-Za-z0-9_-]{1,32}')          # customer_id: issue 4; other ids: DOC FeedContract.md "Records" (identifier)
MONEY = re.compile(r'(-?)([0-9]+)(?:\.([0-9]{1,2}))?')
DATE = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})')
TS = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})')
PHONE = re.compile(r'1[3-9][0-9]{9}')
RID = re.compile(r'[0-9]{17}[0-9X]')
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = '10X98765432'

PRODUCTS = {'demand_deposit', 'time_deposit', 'wealth', 'fund', 'insurance', 'loan', 'credit_card'}
CATEGORIES = {'deposit', 'withdrawal', 'transfer_in', 'transfer_out', 'purchase', 'redemption',
              'card_spend', 'repayment', 'fee', 'interest'}
CHANNELS = {'branch', 'mobile', 'online', 'atm', 'pos', 'call_center'}
C3_NAMES = {'password', 'passwd', 'pin', 'cvv', 'cvv2', 'cvc', 'track2', 'card_pin', 'loginpassword', '交易密码'}  # DOC FeedContract.md "C3 authentication data"


class Fault(Exception):
    def __init__(self, field, why):
        self.field, self.why = field, why


def is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def days_in_month(y, m):
    return [31, 29 if is_leap(y) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]


def days_from_civil(y, m, d):  # proleptic Gregorian, works for year 0
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return (y + (m <= 2), m, d)


def fmt_date(t):
    return '%04d-%02d-%02d' % t


def parse_date(field, v):
    m = DATE.fullmatch(v)
    if not m:
        raise Fault(field, 'not YYYY-MM-DD')
    y, mo, d = map(int, m.groups())
    if y == 0:   # ORACLE: year 0000 is not a day that exists (ISO year 0 is 1 BC); product agrees
        raise Fault(field, 'year 0000')
    if not (1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo)):
        raise Fault(field, 'no such day')
    return fmt_date((y, mo, d))


def parse_ts(field, v):
    m = TS.fullmatch(v)
    if not m:
        raise Fault(field, 'not RFC3339 with uppercase T and offset')
    y, mo, d, hh, mi, ss = map(int, m.groups()[:6])
    frac, off = m.group(7), m.group(8)
    if y == 0:   # ORACLE: year 0000, as for dates (and see the 0001–9999 range below)
        raise Fault(field, 'year 0000')
    if not (1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo)):
        raise Fault(field, 'no such day')
    # DOC FeedContract.md "Value rules / Timestamps": uppercase T and Z only (the TS pattern), and a leap
    # second :60 is refused (RULES.md: "RFC 3339 with an uppercase T"; RFC 3339 itself allows :60 and t/z).
    if hh > 23 or mi > 59 or ss > 59:
        raise Fault(field, 'time out of range')
    if off == 'Z':
        offmin = 0
    else:
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            raise Fault(field, 'offset out of range')
        if off == '-00:00':  # DOC FeedContract.md "Timestamps": -00:00 (RFC 3339 "offset unknown") is refused
            raise Fault(field, 'offset unknown -00:00')
        offmin = (oh * 60 + om) * (1 if off[0] == '+' else -1)
    ns = int((frac or '').ljust(9, '0')) if frac else 0
    local_s = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss
    epoch_s = local_s - offmin * 60
    epoch_ns = epoch_s * 10**9 + ns
    sh = (epoch_s + 8 * 3600) // 86400  # Asia/Shanghai: +08:00 for all years relevant (no DST since 1991)
    # DOC FeedContract.md "Timestamps": "an instant outside the years 0001–9999 in UTC or on its Shanghai
    # day" is refused (0001-01-01T00:00:00+08:00 is in year 0 in UTC); the reject names booked_at.
    utc_year = civil_from_days(epoch_s // 86400)[0]
    sh_year = civil_from_days(sh)[0]
    if not (1 <= utc_year <= 9999 and 1 <= sh_year <= 9999):
        raise Fault(field, 'instant outside years 0001-9999 (UTC %d, Shanghai day %d)' % (utc_year, sh_year))
    return {'epoch_ns': epoch_ns, 'booked_on': fmt_date(civil_from_days(sh))}


def parse_money(field, v, nonneg=False):
    m = MONEY.fullmatch(v)
    if not m:
        raise Fault(field, 'money syntax')
    sign, whole, frac = m.groups()
    fen = int(whole) * 100 + int((frac or '').ljust(2, '0') or 0)
    if sign:
        fen = -fen
    if not (I64_MIN <= fen <= I64_MAX):
        raise Fault(field, 'does not fit Int64 fen')
    if nonneg and fen < 0:
        raise Fault(field, 'negative')
    return fen


def check_resident_id(v):
    if len(v) == 15 and v.isascii() and v.isdigit():
        raise Fault('id_number', '15-digit refused')
    if len(v) == 18 and v[:17].isascii() and v[:17].isdigit() and v[17] == 'x':
        raise Fault('id_number', 'lowercase x refused')
    if not RID.fullmatch(v):
        raise Fault('id_number', 'not 17 digits + check')
    try:
        bd = parse_date('id_number', '%s-%s-%s' % (v[6:10], v[10:12], v[12:14]))
    except Fault:
        raise Fault('id_number', 'birth date in number invalid')
    s = sum(int(c) * w for c, w in zip(v[:17], WEIGHTS)) % 11
    if CHECK[s] != v[17]:
        raise Fault('id_number', 'check digit should be ' + CHECK[s])
    return bd


def rid_check_char(first17):
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


# --- per-record field readers ------------------------------------------------------------
class Rec:
    def __init__(self, obj, csv_mode):
        self.o, self.csv = obj, csv_mode

    def raw(self, f):
        v = self.o.get(f)
        # DOC FeedContract.md "Value rules / Absent": a missing field, null and "" (and an empty CSV field)
        # all mean absent, for every field, booleans included.
        if v is None or v == '':
            return None
        return v

    def present(self, f, required):
        """The value, None when absent; a required absent field is a fault."""
        v = self.raw(f)
        if v is None and required:
            raise Fault(f, 'required')
        return v

    def text(self, f, required):
        v = self.present(f, required)
        if v is None:
            return None
        if not isinstance(v, str):
            raise Fault(f, 'must be a JSON string')
        # DOC FeedContract.md "NDJSON": a lone surrogate escape makes the line invalid JSON, no field named.
        if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
            raise Fault(None, 'not valid JSON: an escape that is not a Unicode character')
        # DOC FeedContract.md "Value rules" (Types): U+0000 in a text is refused naming the field.
        if '\x00' in v:
            raise Fault(f, 'contains U+0000 (NUL)')
        return v

    def ident(self, f, required=True):
        v = self.text(f, required)
        if v is not None and not IDENT.fullmatch(v):
            raise Fault(f, 'identifier charset/length')
        return v

    def enum(self, f, allowed, required=True):
        v = self.text(f, required)
        if v is not None and v not in allowed:
            raise Fault(f, 'not in enum')
        return v

    def date(self, f, required=True):
        v = self.text(f, required)
        return None if v is None else parse_date(f, v)

    def money(self, f, required=True, nonneg=False):
        v = self.present(f, required)
        if v is None:
            return None
        if not isinstance(v, str):
            raise Fault(f, 'money must be a JSON string')
        return parse_money(f, v, nonneg)

    def boolean(self, f, default, required=False):
        v = self.present(f, required)
        if v is None:
            return default
        if self.csv:
            if v in ('true', 'false'):  # DOC FeedContract.md "Types": in CSV the text true or false
                return v == 'true'
            raise Fault(f, 'boolean text')
        if not isinstance(v, bool):
            raise Fault(f, 'must be a JSON boolean')
        return v


def validate_customer(r):
    out = {}
    out['customer_id'] = r.ident('customer_id')
    out['name'] = r.text('name', True)
    idt = r.enum('id_type', {'resident_id', 'passport', 'other'}, required=False) or 'resident_id'
    out['id_type'] = idt
    idn = r.text('id_number', True)
    rid_bd = check_resident_id(idn) if idt == 'resident_id' else None
    out['id_number'] = idn
    ph = r.text('phone', False)
    if ph is not None and not PHONE.fullmatch(ph):
        raise Fault('phone', 'not a mainland mobile')
    out['phone'] = ph
    bd = r.date('birth_date', False)
    if bd is not None and rid_bd is not None and bd != rid_bd:
        raise Fault('birth_date', 'differs from id_number')   # rules: either field may be named
    out['birth_date'] = bd
    out['gender'] = r.enum('gender', {'M', 'F', 'O'}, required=False)  # DOC FeedContract.md "customer" table
    out['risk_level'] = r.enum('risk_level', {'C1', 'C2', 'C3', 'C4', 'C5'})
    out['risk_assessed_on'] = r.date('risk_assessed_on')
    out['annual_income_fen'] = r.money('annual_income', required=False, nonneg=True)
    out['rm_id'] = r.ident('rm_id')           # DOC FeedContract.md "customer": identifier
    out['branch_id'] = r.ident('branch_id')   # DOC FeedContract.md "customer": identifier
    out['opened_on'] = r.date('opened_on')
    out['status'] = r.enum('status', {'active', 'closed'})
    out['marketing_opt_out'] = r.boolean('marketing_opt_out', False)
    return out['customer_id'], out


def validate_account(r):
    out = {}
    out['account_id'] = r.ident('account_id')
    out['customer_id'] = r.ident('customer_id')
    out['product'] = r.enum('product', PRODUCTS)
    out['product_code'] = r.text('product_code', False)
    cur = r.text('currency', True)
    if cur != 'CNY':
        raise Fault('currency', 'only CNY')
    out['currency'] = cur
    out['opened_on'] = r.date('opened_on')
    for f in ('maturity_on', 'closed_on'):
        v = r.date(f, False)
        if v is not None and v < out['opened_on']:   # DOC FeedContract.md "account": not before opened_on; string compare OK for 4-digit years
            raise Fault(f, 'before opened_on')
        out[f] = v
    return out['account_id'], out


def validate_balance(r):
    out = {}
    out['account_id'] = r.ident('account_id')
    out['as_of'] = r.date('as_of')
    out['balance_fen'] = r.money('balance')
    return (out['account_id'], out['as_of']), out


def validate_transaction(r):
    out = {}
    out['txn_id'] = r.ident('txn_id')
    out['account_id'] = r.ident('account_id')
    v = r.text('booked_at', True)
    out.update(parse_ts('booked_at', v))
    out['amount_fen'] = r.money('amount')
    out['category'] = r.enum('category', CATEGORIES)
    out['channel'] = r.enum('channel', CHANNELS)
    out['counterparty_bank'] = r.text('counterparty_bank', False)
    out['description'] = r.text('description', False)
    return out['txn_id'], out


WECOM = re.compile(r'[A-Za-z0-9_@.-]{1,64}')
EMAIL = re.compile(r'[^\s@]+@[^\s@]+\.[^\s@]+')


def validate_relationship_manager(r):
    """DOC FeedContract.md "relationship_manager (v1.1)": the record type added in contract v1.1 (issue 4 and
    RULES.md only list the four v1.0 types), natural key rm_id, fields and rules as in its table."""
    out = {}
    out['rm_id'] = r.ident('rm_id')
    out['name'] = r.text('name', True)
    out['branch_id'] = r.ident('branch_id')
    mgr = r.ident('manager_rm_id', required=False)
    if mgr is not None and mgr == out['rm_id']:
        raise Fault('manager_rm_id', 'the RM itself')
    out['manager_rm_id'] = mgr
    w = r.text('wecom_userid', False)
    if w is not None and not WECOM.fullmatch(w):
        raise Fault('wecom_userid', 'not a WeCom userid')
    out['wecom_userid'] = w
    e = r.text('email', False)
    if e is not None and not EMAIL.fullmatch(e):
        raise Fault('email', 'not local@domain.tld')
    out['email'] = e
    m = r.text('mobile', False)
    if m is not None and not PHONE.fullmatch(m):
        raise Fault('mobile', 'not a mainland mobile')
    out['mobile'] = m
    out['active'] = r.boolean('active', None, required=True)
    return out['rm_id'], out


VALIDATORS = {'customer': validate_customer, 'account': validate_account,
              'balance': validate_balance, 'transaction': validate_transaction,
              'relationship_manager': validate_relationship_manager}
KNOWN = {
    'customer': ['customer_id', 'name', 'id_type', 'id_number', 'phone', 'birth_date', 'gender', 'risk_level',
                 'risk_assessed_on', 'annual_income', 'rm_id', 'branch_id', 'opened_on', 'status', 'marketing_opt_out'],
    'account': ['account_id', 'customer_id', 'product', 'product_code', 'currency', 'opened_on', 'maturity_on', 'closed_on'],
    'balance': ['account_id', 'as_of', 'balance'],
    'transaction': ['txn_id', 'account_id', 'booked_at', 'amount', 'category', 'channel', 'counterparty_bank', 'description'],
    'relationship_manager': ['rm_id', 'name', 'branch_id', 'manager_rm_id', 'wecom_userid', 'email', 'mobile', 'active'],
}


class DupKey(Exception):
    pass


def _pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise DupKey(k)
        d[k] = v
    return d


def _bad_const(c):
    raise ValueError('non-RFC8259 constant ' + c)


def validate_obj(obj, csv_mode=False, rtype=None):
    """-> ('record', type, key, values) or ('reject', field, why)"""
    for k in obj:   # DOC FeedContract.md "C3 authentication data": such a field name rejects the record
        if k.lower() in C3_NAMES:
            return ('reject', k, 'C3 field')
    if rtype is None:
        t = obj.get('type')
        if not isinstance(t, str) or t not in VALIDATORS:
            return ('reject', 'type', 'missing/unknown type')
    else:
        t = rtype
        if obj.get('type') not in (None, '', t):
            return ('reject', 'type', 'type column mismatch')
    known = KNOWN[t]
    # Unknown extra fields are ignored whatever JSON value they hold (RULES.md: "Unknown extra fields are
    # ignored in feeds"; DOC FeedContract.md "NDJSON": "An unknown field may hold any JSON value, an object or
    # array too"), so only known fields are looked at. A known field refuses an object or array (same section).
    for k in known:
        if isinstance(obj.get(k), (dict, list)):
            return ('reject', k, 'nested value in known field')
    try:
        key, vals = VALIDATORS[t](Rec(obj, csv_mode))
    except Fault as f:
        return ('reject', f.field, f.why)
    return ('record', t, key, vals)


def validate_ndjson_line(raw: bytes):
    """raw: line bytes without the trailing \n (a trailing \r is stripped here)."""
    if raw.endswith(b'\r'):
        raw = raw[:-1]
    if raw.strip(b' \t') == b'':
        return ('blank',)
    if len(raw) > LINE_LIMIT:
        return ('reject', None, 'line too long')
    try:
        s = raw.decode('utf-8')
    except UnicodeDecodeError:
        return ('reject', None, 'invalid UTF-8')
    if '\x00' in s:   # DOC FeedContract.md "Lines and encodings": a NUL byte is a reject naming the byte
        return ('reject', None, 'NUL')
    try:
        obj = json.loads(s, object_pairs_hook=_pairs, parse_constant=_bad_const)
    except DupKey as e:
        return ('reject', str(e), 'duplicate key')
    except (ValueError, RecursionError):
        return ('reject', None, 'not valid JSON')
    if not isinstance(obj, dict):
        return ('reject', None, 'not a JSON object')
    return validate_obj(obj)


class FileFault(Exception):
    """The file as a whole is refused (nothing of it applied)."""


LINE_LIMIT = 1024 * 1024   # DOC FeedContract.md "Lines and encodings": a line longer than 1 MiB is a reject


def _cjk(text):
    return any('\u3400' <= c <= '\u9fff' or '\u3000' <= c <= '\u303f' or '\uff00' <= c <= '\uffef' for c in text)


def check_gbk(data: bytes):
    """DOC FeedContract.md "Lines and encodings": a file that looks GBK-encoded is refused as a whole: the
    first line that is not UTF-8 has its first invalid byte pair in 0xA1–0xFE, the whole line decodes as
    GB18030, and no earlier line held UTF-8 Chinese. Raises FileFault."""
    earlier_cjk = False
    for n, raw in split_lines(data):
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError as e:
            pair = raw[e.start:e.start + 2]
            if not earlier_cjk and len(pair) == 2 and all(0xA1 <= b <= 0xFE for b in pair):
                try:
                    raw.decode('gb18030')
                except UnicodeDecodeError:
                    return
                raise FileFault('looks GBK-encoded at line %d' % n)
            return
        earlier_cjk = earlier_cjk or _cjk(text)


def split_lines(data: bytes):
    """-> list of (line_number, bytes). BOM at start dropped; \n separates; last line needs no \n."""
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    parts = data.split(b'\n')
    if parts and parts[-1] == b'':
        parts.pop()
    return list(enumerate(parts, 1))


def parse_ndjson(data: bytes):
    check_gbk(data)
    out = []
    for n, raw in split_lines(data):
        res = validate_ndjson_line(raw)
        if res[0] != 'blank':
            out.append((n, res))
    return out


# --- feed-level simulation ---------------------------------------------------------------
class Archive:
    def __init__(self):
        self.tables = {'customer': {}, 'account': {}, 'balance': {}, 'transaction': {}, 'relationship_manager': {}}
        self.pending = {}   # (type, key) -> (values, batch, line)
        self.changes = []   # (type, key, batch, line, fields)
        self.batch = 0

    def load(self, parsed):
        """parsed: list of (line, result). Returns per-batch summary."""
        self.batch += 1
        b = self.batch
        cnt = dict(accepted=0, rejected=0, unchanged=0, pending=0, applied_pending=0)
        rejects, line_outcome = [], {}
        feed_accounts = {r[2] for _, r in parsed if r[0] == 'record' and r[1] == 'account'}

        def put(t, key, vals, line):
            tab = self.tables[t]
            old = tab.get(key)
            if old == vals:
                return 'unchanged'
            if old is not None:
                self.changes.append((t, key, b, line, sorted(k for k in vals if vals[k] != old.get(k))))
            tab[key] = vals
            return 'accepted'

        for line, r in parsed:
            if r[0] == 'reject':
                cnt['rejected'] += 1
                rejects.append((line, r[1], r[2]))
                line_outcome[line] = ('rejected', r[1])
                continue
            _, t, key, vals = r
            if t in ('balance', 'transaction'):
                acc = vals['account_id']
                if acc not in self.tables['account'] and acc not in feed_accounts:
                    # RULES.md: one whose account is not there "stays pending", so a changed repeat of it is
                    # pending too (it replaces the parked record; no change history: the archive never held it).
                    # RULES.md: "The same natural key twice in one feed: identical content counts as
                    # `unchanged`", which covers an identical repeat of a pending record within one feed.
                    # Redelivered in a later feed it is parked (counted pending) again.
                    prev = self.pending.get((t, key))
                    if prev is not None and prev[1] == b and prev[0] == vals:
                        cnt['unchanged'] += 1
                        line_outcome[line] = ('unchanged',)
                        continue
                    self.pending[(t, key)] = (vals, b, line)
                    cnt['pending'] += 1
                    line_outcome[line] = ('pending',)
                    continue
                self.pending.pop((t, key), None)   # a later line of the same key supersedes a parked one
            o = put(t, key, vals, line)
            cnt[o] += 1
            line_outcome[line] = (o,)
        # earlier pending whose account now exists
        for (t, key), (vals, pb, pl) in list(self.pending.items()):
            if vals['account_id'] in self.tables['account'] and pb != b:
                del self.pending[(t, key)]
                put(t, key, vals, pl)
                cnt['applied_pending'] += 1
        return dict(counts=cnt, rejects=rejects, lines=line_outcome)
