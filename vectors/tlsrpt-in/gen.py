#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes the vectors of vectors/tlsrpt-in/ (every .json and .json.gz file) and cases.txt, the
# expected outcome of each.  The expectations are computed here, in Python, from the data this
# script writes (sums, Unix times through calendar.timegm), independently of the C reader; the
# quirk bits are stated by hand per vector.  Run from anywhere: python3 gen.py
# gzip: gzip.compress(..., mtime=0), so the bytes are the same on every run.
import calendar
import datetime
import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

Q_NO_ZONE, Q_PS_JSON, Q_CONTACT_NULL, Q_NO_FD, Q_MX_STRING, Q_NO_IP, Q_NEXT_DAY = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40)
Q_NO_POLICY_DOMAIN, Q_NULL_MEMBER = 0x80, 0x100

cases = []


def unix(s):
    """RFC 3339 date-time to Unix seconds with Python's own parser (no zone: UTC)."""
    d = datetime.datetime.fromisoformat(s.replace('Z', '+00:00'))
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return calendar.timegm(d.utctimetuple())


def write(name, data):
    with open(os.path.join(HERE, name), 'wb') as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def ok(name, report, quirks, text=None, start=None, end=None, gzipped=False):
    """A report that must be read: report is the dict the expectations come from; text, when
    given, is the exact file content (for shapes json.dumps cannot write)."""
    body = text.encode() if isinstance(text, str) else text
    if body is None:
        body = json.dumps(report, indent=2, ensure_ascii=False).encode() + b'\n'
    write(name, gz(body) if gzipped else body)
    pol = report['policies']
    succ = sum(p['summary']['total-successful-session-count'] for p in pol)
    fail = sum(p['summary']['total-failure-session-count'] for p in pol)
    nfd = sum(len(p.get('failure-details', [])) for p in pol)
    dr = report['date-range']
    s = start if start is not None else unix(dr['start-datetime'])
    e = end if end is not None else unix(dr['end-datetime'])
    cases.append('\t'.join([name, 'ok', report['organization-name'], report['report-id'],
                            str(s), str(e), str(len(pol)), str(succ), str(fail), str(nfd),
                            '0x%02x' % quirks]))


def bad(name, outcome, body, gzipped=False):
    write(name, gz(body) if gzipped else body)
    cases.append(name + '\t' + outcome)


def sts_policy(domain, mx, mode='enforce', max_age=604800):
    return ['version: STSv1', 'mode: ' + mode] + ['mx: ' + m for m in mx] + [
        'max_age: %d' % max_age]


# ---- valid reports ----

# RFC 8460 §4.8's example, in its shape: mx-host one string (before erratum 6241), the day
# ending 23:59:59Z, three failure details, one with receiving-ip and additional-information.
rfc = {
    'organization-name': 'Company-X',
    'date-range': {'start-datetime': '2016-04-01T00:00:00Z',
                   'end-datetime': '2016-04-01T23:59:59Z'},
    'contact-info': 'sts-reporting@company-x.example',
    'report-id': '5065427c-23d3-47ca-b6e0-946ea0e8c4be',
    'policies': [{
        'policy': {'policy-type': 'sts',
                   'policy-string': sts_policy('company-y.example', ['*.mail.company-y.example'],
                                               'testing', 86400),
                   'policy-domain': 'company-y.example',
                   'mx-host': '*.mail.company-y.example'},
        'summary': {'total-successful-session-count': 5326,
                    'total-failure-session-count': 303},
        'failure-details': [
            {'result-type': 'certificate-expired', 'sending-mta-ip': '2001:db8:abcd:0012::1',
             'receiving-mx-hostname': 'mx1.mail.company-y.example',
             'failed-session-count': 100},
            {'result-type': 'starttls-not-supported',
             'sending-mta-ip': '2001:db8:abcd:0013::1',
             'receiving-mx-hostname': 'mx2.mail.company-y.example',
             'receiving-ip': '203.0.113.56', 'failed-session-count': 200,
             'additional-information':
                 'https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported'},
            {'result-type': 'validation-failure', 'sending-mta-ip': '198.51.100.62',
             'receiving-ip': '203.0.113.58',
             'receiving-mx-hostname': 'mx-backup.mail.company-y.example',
             'failed-session-count': 3,
             'failure-reason-code': 'X509_V_ERR_PROOF_OF_POSSESSION'}]}]}
ok('rfc8460-s4.8-example.json', rfc, Q_MX_STRING)
ok('rfc8460-s4.8-example.json.gz', rfc, Q_MX_STRING, gzipped=True)

# A large mailbox provider's clean day: sts, policy-string and mx-host arrays, no
# failure-details key at all when nothing failed (not a quirk: nothing to detail).
g_clean = {
    'organization-name': 'Big Mailbox Provider Inc.',
    'date-range': {'start-datetime': '2026-11-29T00:00:00Z',
                   'end-datetime': '2026-11-29T23:59:59Z'},
    'contact-info': 'smtp-tls-reporting@bigmail.example',
    'report-id': '2026-11-29T00:00:00Z_example.org',
    'policies': [{'policy': {'policy-type': 'sts',
                             'policy-string': sts_policy('example.org', ['*.mx.example.org']),
                             'policy-domain': 'example.org', 'mx-host': ['*.mx.example.org']},
                  'summary': {'total-successful-session-count': 1412,
                              'total-failure-session-count': 0}}]}
ok('bigmail-style-clean.json', g_clean, 0)

g_fail = json.loads(json.dumps(g_clean))
g_fail['report-id'] = '2026-11-30T00:00:00Z_example.org'
g_fail['date-range'] = {'start-datetime': '2026-11-30T00:00:00Z',
                        'end-datetime': '2026-11-30T23:59:59Z'}
g_fail['policies'][0]['summary'] = {'total-successful-session-count': 980,
                                    'total-failure-session-count': 12}
g_fail['policies'][0]['failure-details'] = [
    {'result-type': 'certificate-host-mismatch', 'sending-mta-ip': '192.0.2.10',
     'receiving-mx-hostname': 'mx2.mx.example.org', 'receiving-ip': '198.51.100.25',
     'failed-session-count': 9},
    {'result-type': 'validation-failure', 'sending-mta-ip': '2001:db8::10',
     'receiving-mx-hostname': 'mx3.mx.example.org', 'receiving-ip': '2001:db8:1::25',
     'failed-session-count': 3}]
ok('bigmail-style-failures.json', g_fail, 0)
ok('bigmail-style-failures.json.gz', g_fail, 0, gzipped=True)

# A large hosted-mail provider: numeric report-id "+domain", the day ending 23:59:59Z, a
# failure-details element without sending-mta-ip, and no mx-host.
ms_ip = {
    'organization-name': 'Hosted Exchange Corporation',
    'date-range': {'start-datetime': '2026-11-30T00:00:00Z',
                   'end-datetime': '2026-11-30T23:59:59Z'},
    'contact-info': 'tlsrpt-noreply@hosted.example',
    'report-id': '134087040000000001+example.net',
    'policies': [{'policy': {'policy-type': 'sts', 'policy-domain': 'example.net'},
                  'summary': {'total-successful-session-count': 0,
                              'total-failure-session-count': 3},
                  'failure-details': [{'result-type': 'sts-policy-fetch-error',
                                       'failed-session-count': 3}]}]}
ok('hosted-style-no-sending-ip.json', ms_ip, Q_NO_IP)

# The same provider's date-times without a time zone (read as UTC).
ms_nz = json.loads(json.dumps(ms_ip))
ms_nz['report-id'] = '134087904000000002+example.net'
ms_nz['date-range'] = {'start-datetime': '2026-12-01T00:00:00',
                       'end-datetime': '2026-12-01T23:59:59'}
ms_nz['policies'][0]['failure-details'][0]['sending-mta-ip'] = '203.0.113.200'
ok('hosted-style-no-zone.json', ms_nz, Q_NO_ZONE)
ok('hosted-style-no-zone.json.gz', ms_nz, Q_NO_ZONE, gzipped=True)

# No zone and a seven-digit fraction (.NET's round-trip format).
ms_frac = json.loads(json.dumps(ms_nz))
ms_frac['report-id'] = '134088768000000003+example.net'
ms_frac['date-range'] = {'start-datetime': '2026-12-02T00:00:00.0000000',
                         'end-datetime': '2026-12-02T23:59:59.9999999'}
ok('hosted-style-no-zone-fraction.json', ms_frac, Q_NO_ZONE,
   start=calendar.timegm((2026, 12, 2, 0, 0, 0)), end=calendar.timegm((2026, 12, 2, 23, 59, 59)))

# policy-string: the whole policy as a JSON array encoded inside one string element.
psj = {
    'organization-name': 'Regional ISP Mail',
    'date-range': {'start-datetime': '2026-11-30T00:00:00Z',
                   'end-datetime': '2026-11-30T23:59:59Z'},
    'contact-info': 'postmaster@isp.example',
    'report-id': 'isp-20261130-example.com',
    'policies': [{'policy': {'policy-type': 'sts',
                             'policy-string': [json.dumps(sts_policy('example.com',
                                                                     ['mx1.example.com',
                                                                      'mx2.example.com']))],
                             'policy-domain': 'example.com',
                             'mx-host': ['mx1.example.com', 'mx2.example.com']},
                  'summary': {'total-successful-session-count': 77,
                              'total-failure-session-count': 0},
                  'failure-details': []}]}
ok('policy-string-json.json', psj, Q_PS_JSON)

# contact-info: null.
cn = json.loads(json.dumps(psj))
cn['report-id'] = 'contact-null-1'
cn['contact-info'] = None
cn['policies'][0]['policy']['policy-string'] = sts_policy('example.com', ['mx1.example.com'])
ok('contact-null.json', cn, Q_CONTACT_NULL)

# Failures counted, no failure-details key.
nfd = json.loads(json.dumps(g_clean))
nfd['report-id'] = 'no-failure-details-1'
nfd['policies'][0]['summary']['total-failure-session-count'] = 7
ok('no-failure-details.json', nfd, Q_NO_FD)

# mx-host one string (as RFC 8460's own example, before erratum 6241).
mxs = json.loads(json.dumps(g_fail))
mxs['report-id'] = 'mx-host-string-1'
mxs['policies'][0]['policy']['mx-host'] = '*.mx.example.org'
ok('mx-host-string.json', mxs, Q_MX_STRING)

# The range ends at the next day's 00:00:00Z (RFC 8460 §4.1's "00:00-24:00 UTC").
nd = json.loads(json.dumps(g_fail))
nd['report-id'] = 'end-next-day-1'
nd['date-range']['end-datetime'] = '2026-12-01T00:00:00Z'
ok('end-next-day.json', nd, Q_NEXT_DAY)

# mxtls's own sender: compact, members in §4.4 order, end at the next day's 00:00:00Z, a
# derived report-id, failure-details [] on a clean policy.
mx = {
    'organization-name': 'mail.example.com',
    'date-range': {'start-datetime': '2026-12-05T00:00:00Z',
                   'end-datetime': '2026-12-06T00:00:00Z'},
    'contact-info': 'tlsrpt@mail.example.com',
    'report-id': '2026-12-05.1a2b3c4d.example.net@mail.example.com',
    'policies': [{'policy': {'policy-type': 'tlsa',
                             'policy-string': ['3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
                             'policy-domain': 'example.net', 'mx-host': ['mx.example.net']},
                  'summary': {'total-successful-session-count': 40,
                              'total-failure-session-count': 0},
                  'failure-details': []}]}
ok('mxtls-style.json', mx, Q_NEXT_DAY, text=json.dumps(mx, separators=(',', ':')) + '\n')

# An MTA's stand-alone reporter (the shape of sys4/tlsrpt-reporter issue #51): members in
# another order, policies first with summary before policy, a tlsa policy, report-id
# "<start>_idx1_<domain>", failure-details [] always.
pf = {
    'organization-name': 'relay.example.de',
    'date-range': {'start-datetime': '2026-11-30T00:00:00Z',
                   'end-datetime': '2026-11-30T23:59:59Z'},
    'contact-info': 'smtp-tls-reporting@relay.example.de',
    'policies': [{'summary': {'total-failure-session-count': 1,
                              'total-successful-session-count': 5},
                  'policy': {'policy-type': 'tlsa', 'policy-domain': 'example.de',
                             'policy-string': ['3 1 1 AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899',
                                               '2 1 1 00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF']},
                  'failure-details': [{'result-type': 'tlsa-invalid',
                                       'sending-mta-ip': '192.0.2.77',
                                       'receiving-mx-hostname': 'mail.example.de.',
                                       'receiving-ip': '198.51.100.7',
                                       'failed-session-count': 1}]}],
    'report-id': '2026-11-30T00:00:00Z_idx1_example.de'}
ok('mta-reporter-style.json', pf, 0)

# Several policies: sts, tlsa and no-policy-found for three domains.
multi = {
    'organization-name': 'Multi Policy Sender',
    'date-range': {'start-datetime': '2026-11-30T00:00:00Z',
                   'end-datetime': '2026-11-30T23:59:59Z'},
    'contact-info': 'tls@sender.example',
    'report-id': 'multi-20261130',
    'policies': [
        {'policy': {'policy-type': 'sts', 'policy-string': sts_policy('a.example', ['mx.a.example']),
                    'policy-domain': 'a.example', 'mx-host': ['mx.a.example']},
         'summary': {'total-successful-session-count': 100, 'total-failure-session-count': 4},
         'failure-details': [{'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.1',
                              'receiving-mx-hostname': 'mx.a.example', 'failed-session-count': 4}]},
        {'policy': {'policy-type': 'tlsa',
                    'policy-string': ['3 1 1 ' + 'ab' * 32],
                    'policy-domain': 'b.example', 'mx-host': ['mx.b.example']},
         'summary': {'total-successful-session-count': 50, 'total-failure-session-count': 2},
         'failure-details': [{'result-type': 'dane-required', 'sending-mta-ip': '192.0.2.1',
                              'receiving-mx-hostname': 'mx.b.example',
                              'receiving-ip': '198.51.100.2', 'failed-session-count': 1},
                             {'result-type': 'dnssec-invalid', 'sending-mta-ip': '192.0.2.2',
                              'failed-session-count': 1}]},
        {'policy': {'policy-type': 'no-policy-found', 'policy-domain': 'c.example'},
         'summary': {'total-successful-session-count': 9, 'total-failure-session-count': 0}}]}
ok('multi-policy.json', multi, 0)
ok('multi-policy.json.gz', multi, 0, gzipped=True)

# Many failure details: 250 sending IPs, each with its own count.
many = json.loads(json.dumps(g_fail))
many['report-id'] = 'many-failures-1'
fd = [{'result-type': ['starttls-not-supported', 'certificate-not-trusted',
                       'sts-webpki-invalid', 'unknown-future-type'][i % 4],
       'sending-mta-ip': '10.%d.%d.1' % (i // 256, i % 256),
       'receiving-mx-hostname': 'mx%d.mx.example.org' % (i % 3),
       'failed-session-count': i + 1} for i in range(250)]
many['policies'][0]['failure-details'] = fd
many['policies'][0]['summary']['total-failure-session-count'] = sum(f['failed-session-count'] for f in fd)
ok('many-failures.json', many, 0)

# Unknown members everywhere, with nested values: ignored.
unk = json.loads(json.dumps(g_fail))
unk['report-id'] = 'unknown-fields-1'
unk['x-extension'] = {'nested': [1, 2, {'deep': None}], 'flag': True}
unk['date-range']['x-timezone-note'] = 'UTC'
unk['policies'][0]['x-policy-note'] = 3.25
unk['policies'][0]['policy']['x-policy-id'] = '20261130T000000'
unk['policies'][0]['summary']['x-total-connections'] = 992
unk['policies'][0]['failure-details'][0]['x-tls-version'] = 'TLSv1.3'
unk['policies'][0]['failure-details'][1]['receiving-mx-helo'] = 'mx3.mx.example.org'
ok('unknown-fields.json', unk, 0)

# Names in upper case and with a trailing dot; a policy-type in capitals (read lower case).
uc = json.loads(json.dumps(g_fail))
uc['report-id'] = 'upper-case-1'
uc['policies'][0]['policy']['policy-type'] = 'STS'
uc['policies'][0]['policy']['policy-domain'] = 'Example.ORG.'
uc['policies'][0]['policy']['mx-host'] = ['*.MX.Example.org.']
uc['policies'][0]['failure-details'][0]['receiving-mx-hostname'] = 'MX2.mx.EXAMPLE.org.'
uc['policies'][0]['failure-details'][0]['result-type'] = 'Certificate-Host-Mismatch'
ok('upper-case-names.json', uc, 0)

# Offsets instead of Z: the same UTC day written at +01:00 and -00:00.
off = json.loads(json.dumps(g_fail))
off['report-id'] = 'offsets-1'
off['date-range'] = {'start-datetime': '2026-11-30T01:00:00+01:00',
                     'end-datetime': '2026-11-30T23:59:59-00:00'}
ok('offsets.json', off, 0)

# Lower-case "t" and "z" (RFC 3339 §5.6 NOTE) and a fraction.
lc = json.loads(json.dumps(g_fail))
lc['report-id'] = 'lower-case-tz-1'
lc['date-range'] = {'start-datetime': '2026-11-30t00:00:00.000z',
                    'end-datetime': '2026-11-30t23:59:59.999z'}
ok('lower-case-tz.json', lc, 0, start=calendar.timegm((2026, 11, 30, 0, 0, 0)),
   end=calendar.timegm((2026, 11, 30, 23, 59, 59)))

# A leap day.
ld = json.loads(json.dumps(g_fail))
ld['report-id'] = 'leap-day-1'
ld['date-range'] = {'start-datetime': '2028-02-29T00:00:00Z',
                    'end-datetime': '2028-03-01T00:00:00Z'}
ok('leap-day.json', ld, Q_NEXT_DAY)

# Every quirk at once.
allq = {
    'organization-name': 'Every Quirk Ltd',
    'date-range': {'start-datetime': '2026-11-30T00:00:00',
                   'end-datetime': '2026-12-01T00:00:00'},
    'contact-info': None,
    'report-id': 'all-quirks-1',
    'policies': [
        {'policy': {'policy-type': 'sts',
                    'policy-string': [json.dumps(sts_policy('q.example', ['mx.q.example']))],
                    'policy-domain': 'q.example', 'mx-host': 'mx.q.example'},
         'summary': {'total-successful-session-count': 10, 'total-failure-session-count': 2},
         'failure-details': [{'result-type': 'starttls-not-supported',
                              'receiving-mx-hostname': 'mx.q.example',
                              'failed-session-count': 2}]},
        {'policy': {'policy-type': 'no-policy-found', 'policy-domain': 'q.example'},
         'summary': {'total-successful-session-count': 0, 'total-failure-session-count': 5}}]}
ok('all-quirks.json', allq, 0x7f)
ok('all-quirks.json.gz', allq, 0x7f, gzipped=True)

# Non-ASCII organisation name (UTF-8 and \u escapes).
uni = json.loads(json.dumps(g_clean))
uni['organization-name'] = 'Ärztekammer Postdienst é'
uni['report-id'] = 'unicode-1'
ok('unicode-org.json', uni, 0,
   text=json.dumps(uni, ensure_ascii=False).replace('é', '\\u00e9') + '\n')

# Counts at the I-JSON maximum, 2^53 - 1.
mx53 = json.loads(json.dumps(g_clean))
mx53['report-id'] = 'count-max-1'
mx53['policies'][0]['summary'] = {'total-successful-session-count': 2**53 - 1,
                                  'total-failure-session-count': 2**53 - 1}
ok('count-at-max.json', mx53, Q_NO_FD)

# ---- invalid reports ----

base = json.dumps(g_fail, indent=1)
bad('dup-key.json', 'syntax',
    base.replace('"report-id":', '"report-id": "first",\n "report-id":').encode())
bad('dup-key-nested.json', 'syntax',
    base.replace('"total-failure-session-count": 12',
                 '"total-failure-session-count": 12, "total-failure-session-count": 0').encode())
nr = json.loads(base)
del nr['report-id']
bad('missing-report-id.json', 'syntax', json.dumps(nr).encode())
bad('negative-count.json', 'syntax', base.replace('"failed-session-count": 9',
                                                  '"failed-session-count": -9').encode())
bad('count-2p53.json', 'syntax', base.replace('"total-successful-session-count": 980',
                                              '"total-successful-session-count": 9007199254740992').encode())
bad('count-2p64.json', 'syntax', base.replace('"total-successful-session-count": 980',
                                              '"total-successful-session-count": 18446744073709551616').encode())
bad('count-real.json', 'syntax', base.replace('"failed-session-count": 3',
                                              '"failed-session-count": 3.0').encode())
bad('count-string.json', 'syntax', base.replace('"total-failure-session-count": 12',
                                                '"total-failure-session-count": "12"').encode())
wt = json.loads(base)
wt['policies'] = wt['policies'][0]
bad('policies-object.json', 'syntax', json.dumps(wt).encode())
wt = json.loads(base)
wt['policies'][0]['policy']['mx-host'] = 5
bad('mx-host-number.json', 'syntax', json.dumps(wt).encode())
wt = json.loads(base)
wt['policies'][0]['policy']['policy-domain'] = ['example.org']
bad('policy-domain-array.json', 'syntax', json.dumps(wt).encode())
wt = json.loads(base)
wt['organization-name'] = 42
bad('org-number.json', 'syntax', json.dumps(wt).encode())
bad('invalid-utf8.json', 'syntax', base.replace('Big Mailbox', 'Big \xc3\x28ailbox').encode('latin-1'))
bad('trailing-garbage.json', 'syntax', base.encode() + b'\n}garbage')
bad('two-objects.json', 'syntax', base.encode() + b'\n' + base.encode())
bad('nul-escape.json', 'syntax', base.replace('"report-id": "', '"report-id": "a\\u0000').encode())
bad('nul-byte.json', 'syntax', base.replace('"report-id": "', '"report-id": "a\0').encode())
bad('empty.json', 'syntax', b'')
bad('not-object.json', 'syntax', b'[' + base.encode() + b']')
wt = json.loads(base)
wt['date-range']['start-datetime'] = '2026-02-29T00:00:00Z'
bad('date-not-leap.json', 'syntax', json.dumps(wt).encode())
wt = json.loads(base)
wt['date-range']['start-datetime'] = '2026-11-30 00:00:00Z'
bad('date-space.json', 'syntax', json.dumps(wt).encode())
wt = json.loads(base)
wt['date-range'] = {'start-datetime': '2026-12-01T00:00:00Z', 'end-datetime': '2026-11-30T00:00:00Z'}
bad('range-reversed.json', 'syntax', json.dumps(wt).encode())
wt = json.loads(base)
wt['policies'] = []
bad('policies-empty.json', 'syntax', json.dumps(wt).encode())
# no-policy-found without policy-domain (the shape sys4/tlsrpt-reporter issue #51 shows): read,
# with policy-domain "" (a report is never dropped for a member real senders leave out).
wt = json.loads(base)
wt['policies'] = [{'summary': {'total-failure-session-count': 0,
                               'total-successful-session-count': 1},
                   'policy': {'policy-type': 'no-policy-found'}, 'failure-details': []}]
wt['report-id'] = 'no-policy-domain-1'
ok('no-policy-domain.json', wt, Q_NO_POLICY_DOMAIN, text=json.dumps(wt))
# optional failure-details members sent as null (receiving-ip, additional-information): read as
# absent.
wt = json.loads(base)
wt['report-id'] = 'optional-null-1'
for fd in wt['policies'][0]['failure-details']:
    fd['receiving-ip'] = None
    fd['additional-information'] = None
ok('optional-null.json', wt, Q_NULL_MEMBER, text=json.dumps(wt))
# 3000 levels of nesting in an unknown member: jansson's depth limit (2048).
bad('deep-nesting.json', 'syntax',
    base.replace('{', '{"x-deep": ' + '[' * 3000 + ']' * 3000 + ',', 1).encode())

# Caps: 10001 policies; 100001 failure-details (both gzipped: they compress to little).
pol = {'policy': {'policy-type': 'no-policy-found', 'policy-domain': 'x.example'},
       'summary': {'total-successful-session-count': 1, 'total-failure-session-count': 0}}
wt = json.loads(base)
wt['policies'] = [pol] * 10001
bad('policies-over-cap.json.gz', 'limit', json.dumps(wt, separators=(',', ':')).encode(), True)
wt['policies'] = [pol] * 10000
wt['report-id'] = 'policies-at-cap-1'  # its own report, not a duplicate of the base's
ok('policies-at-cap.json.gz', wt, 0, gzipped=True,
   text=json.dumps(wt, separators=(',', ':')))
wt = json.loads(base)
f1 = {'result-type': 'validation-failure', 'sending-mta-ip': '192.0.2.1',
      'failed-session-count': 1}
wt['policies'][0]['failure-details'] = [f1] * 100001
bad('failures-over-cap.json.gz', 'limit', json.dumps(wt, separators=(',', ':')).encode(), True)

# gzip: a bomb (17 MiB of spaces inside a JSON object: past the 16 MiB cap), a member cut
# short, a member followed by garbage, two members, not gzip at all, an empty file.
bomb = b'{' + b' ' * (17 * 1024 * 1024) + b'}'
bad('bomb.json.gz', 'limit', bomb, True)
good = gz(json.dumps(g_fail).encode())
bad('truncated.json.gz', 'syntax', good[:len(good) // 2])
bad('truncated-trailer.json.gz', 'syntax', good[:-4])
bad('trailing-data.json.gz', 'syntax', good + b'\n\0garbage')
bad('two-members.json.gz', 'syntax', good + good)
bad('not-gzip.json.gz', 'syntax', json.dumps(g_fail).encode())
bad('empty.json.gz', 'syntax', b'')
crc = bytearray(good)
crc[-8] ^= 0xff
bad('bad-crc.json.gz', 'syntax', bytes(crc))

with open(os.path.join(HERE, 'cases.txt'), 'w') as f:
    f.write('# Generated by gen.py: one line per file, tab-separated.\n'
            '# file  ok  organization-name  report-id  start  end  npolicies  successful  '
            'failures  failure-details  quirks\n'
            '# file  syntax|limit\n')
    for c in cases:
        f.write(c + '\n')
