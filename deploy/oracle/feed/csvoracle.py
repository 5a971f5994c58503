"""Independent CSV reference for TierGuard feed contract v1 (CSV feeds).

Field rules and the archive model: oracle.py (validate_obj with csv_mode=True), shared with the NDJSON suites.
CSV framing written here from ISSUE4 ("one file per record type, with a header row of the same field
names"), RULES.md (lines numbered from 1, blank line skipped keeps its number, unknown extra fields
ignored) and, where those are silent, FeedContract.md's CSV section (tagged DOC).
"""
import oracle

REQUIRED = {   # "required" = present and non-empty; header must name these (DOC: missing column rejects the file)
    'customer': ['customer_id', 'name', 'id_number', 'risk_level', 'risk_assessed_on', 'rm_id', 'branch_id', 'opened_on', 'status'],
    'account': ['account_id', 'customer_id', 'product', 'currency', 'opened_on'],
    'balance': ['account_id', 'as_of', 'balance'],
    'transaction': ['txn_id', 'account_id', 'booked_at', 'amount', 'category', 'channel'],
    'relationship_manager': ['rm_id', 'name', 'branch_id', 'active'],   # DOC FeedContract.md "relationship_manager"
}


FileFault = oracle.FileFault

# DOC FeedContract.md "CSV (RFC 4180)": the record type is "inferred from the file name (customers*.csv,
# accounts*.csv, balances*.csv, transactions*.csv, relationship_managers*.csv)"; read as the case-sensitive
# patterns they are written as, so BALANCES-1.csv tells no format and is refused as a whole.
NAME_PREFIX = {'customer': 'customers', 'account': 'accounts', 'balance': 'balances', 'transaction': 'transactions',
               'relationship_manager': 'relationship_managers'}


def name_tells(fname, rtype):
    return fname.startswith(NAME_PREFIX[rtype]) and fname.endswith('.csv')


def physical_lines(data: bytes):
    """[(line_no, bytes_without_eol, had_cr)] BOM at start dropped (DOC)."""
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    parts = data.split(b'\n')
    if parts and parts[-1] == b'':
        parts.pop()
    out = []
    for i, p in enumerate(parts, 1):
        cr = p.endswith(b'\r')
        out.append((i, p[:-1] if cr else p, cr))
    return out


def parse_record(lines, i):
    """RFC 4180 record starting at physical line index i.
    -> ('ok', fields, next_i) | ('err', why, next_i)  (err: reject the first line only; DOC for unclosed quote)"""
    n0, text0, _ = lines[i]
    fields, cur = [], []
    j = i
    s = text0.decode('utf-8')
    pos = 0
    state = 'start'   # start | unq | q | after
    while True:
        if pos >= len(s):
            if state == 'q':   # line end inside quotes: continue on the next physical line
                if j + 1 >= len(lines):
                    return ('err', 'unclosed quote', i + 1)
                # DOC FeedContract.md "CSV (RFC 4180)": line ends inside quotes are "kept as sent (\n or \r\n)",
                # the same text as an NDJSON "a\r\nb".
                cur.append('\r\n' if lines[j][2] else '\n')
                j += 1
                s = lines[j][1].decode('utf-8')
                pos = 0
                continue
            fields.append(''.join(cur))
            return ('ok', fields, j + 1)
        c = s[pos]
        if state == 'start':
            if c == '"':
                state = 'q'
            elif c == ',':
                fields.append('')
            else:
                cur.append(c)
                state = 'unq'
            pos += 1
            if c == ',':
                cur = []
                state = 'start'
        elif state == 'unq':
            if c == ',':
                fields.append(''.join(cur)); cur = []; state = 'start'
            elif c == '"':
                return ('err', 'quote inside unquoted field', j + 1)
            else:
                cur.append(c)
            pos += 1
        elif state == 'q':
            if c == '"':
                if pos + 1 < len(s) and s[pos + 1] == '"':
                    cur.append('"'); pos += 2
                else:
                    state = 'after'; pos += 1
            else:
                cur.append(c); pos += 1
        elif state == 'after':
            if c == ',':
                fields.append(''.join(cur)); cur = []; state = 'start'; pos += 1
            else:
                return ('err', 'text after closing quote', j + 1)


def is_blank(b):
    return b.strip(b' \t') == b''


def parse_csv(data: bytes, rtype):
    """-> list of (line, result, raw_text) like oracle.parse_ndjson; raises FileFault for whole-file faults."""
    oracle.check_gbk(data)
    lines = physical_lines(data)
    i = 0
    while i < len(lines) and is_blank(lines[i][1]):   # AMBIGUOUS: blank lines before the header
        i += 1
    if i >= len(lines):
        return []     # empty file: nothing
    st = parse_record(lines, i)
    if st[0] != 'ok':
        raise FileFault('header: ' + st[1])
    header = st[1]
    i = st[2]
    named = [h for h in header if h != '']   # DOC FeedContract.md "CSV": an empty name is an unknown column
    if len(set(named)) != len(named):
        raise FileFault('duplicate column')
    for f in REQUIRED[rtype]:
        if f not in header:
            raise FileFault('missing required column ' + f)
    for h in header:
        if h.lower() in oracle.C3_NAMES:
            raise FileFault('C3 column ' + h)
    out = []
    while i < len(lines):
        n, raw, _ = lines[i]
        if is_blank(raw):
            i += 1
            continue
        if len(raw) > oracle.LINE_LIMIT:   # DOC FeedContract.md "Lines and encodings": a line over 1 MiB is a reject
            out.append((n, ('reject', None, 'line too long')))
            i += 1
            continue
        try:
            st = parse_record(lines, i)
        except UnicodeDecodeError:
            out.append((n, ('reject', None, 'invalid UTF-8'))); i += 1; continue
        if st[0] == 'err':
            out.append((n, ('reject', None, 'CSV: ' + st[1])))
            i = st[2]
            continue
        row = st[1]
        i = st[2]
        if len(row) != len(header):
            out.append((n, ('reject', None, 'field count %d != %d' % (len(row), len(header)))))
            continue
        if any('\x00' in v for v in row):
            out.append((n, ('reject', None, 'NUL')))
            continue
        out.append((n, oracle.validate_obj(dict(zip(header, row)), csv_mode=True, rtype=rtype)))
    return out


def to_csv(header, rows, eol='\n'):
    def q(v):
        if v is None:
            return ''
        v = str(v)
        if any(c in v for c in ',"\r\n') or v != v.strip(' '):
            return '"' + v.replace('"', '""') + '"'
        return v
    return (','.join(header) + eol + ''.join(','.join(q(r.get(h)) for h in header) + eol for r in rows)).encode()
