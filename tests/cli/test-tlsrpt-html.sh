#!/bin/bash
# SPDX-License-Identifier: MIT
# `mxtls tlsrpt summary DOMAIN --html FILE` (issue 18): three days of reports (one day with two
# result types of failures, one clean, one with one type) are ingested, the page is written, and
# headless Chromium (Debian's chromium) loads it: the rendered DOM has exactly one bar per day
# for the successful sessions plus one per result type of each day (3 + 2 + 0 + 1 = 6), the
# page asks for nothing from elsewhere (no src= or href= to another resource), and a screenshot
# of it is a PNG of the window's size.  No network.
# TAP:  tests/cli/test-tlsrpt-html.sh MXTLS
set -uo pipefail
mxtls=$1
. "$(dirname "$0")/lib-tap.sh"
state=$tmp/state
mkdir -p "$state" "$tmp/in"

echo "1..6"
# Reports dated from today back (the summary counts by the day a range starts).
python3 - "$tmp/in" <<'EOF'
import datetime, json, os, sys
out = sys.argv[1]
today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0,
                                                               microsecond=0)
def report(org, rid, days_ago, ok, failures):
    start = today - datetime.timedelta(days=days_ago)
    end = start + datetime.timedelta(days=1) - datetime.timedelta(seconds=1)
    details = [{"result-type": t, "sending-mta-ip": "192.0.2.7",
                "receiving-mx-hostname": "mx1.example.test", "failed-session-count": n}
               for t, n in failures]
    bad = sum(n for _, n in failures)
    doc = {"organization-name": org, "report-id": rid,
           "date-range": {"start-datetime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "end-datetime": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
           "contact-info": "tlsrpt@" + org.lower() + ".test",
           "policies": [{"policy": {"policy-type": "sts", "policy-domain": "example.test",
                                    "policy-string": ["version: STSv1", "mode: testing"],
                                    "mx-host": ["mx1.example.test"]},
                         "summary": {"total-successful-session-count": ok,
                                     "total-failure-session-count": bad},
                         "failure-details": details}]}
    with open(os.path.join(out, rid + ".json"), "w") as f:
        json.dump(doc, f)
report("Org A", "a-2", 2, 500, [("certificate-expired", 7), ("starttls-not-supported", 3)])
report("Org B", "b-1", 1, 300, [])
report("Org A", "a-0", 0, 100, [("certificate-host-mismatch", 1)])
EOF
out=$("$mxtls" --state-dir "$state" tlsrpt ingest "$tmp/in" 2>&1)
case $? in 0) ok "ingest: three reports stored" ;; *) not_ok "ingest: three reports stored" "$out" ;; esac

page=$tmp/summary.html
out=$("$mxtls" --state-dir "$state" tlsrpt summary example.test --days 7 --html "$page" 2>&1)
if [ $? = 0 ] && [ -s "$page" ]; then ok "summary --html writes the page"; else
	not_ok "summary --html writes the page" "$out"; fi

# Self-contained: nothing is loaded from elsewhere (the SVG namespace is an identifier, not a
# resource).
if ! grep -Eiq '(src|href)=|<script|<link|@import|url\(' "$page"; then
	ok "the page loads nothing from elsewhere"; else
	not_ok "the page loads nothing from elsewhere" "$(grep -Eio '(src|href)=.{0,40}|<script|<link|@import|url\(' "$page" | head -3)"; fi

chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
	not_ok "chromium renders 6 bars" "chromium is not installed (tools/install-deps.sh installs it)"
	not_ok "the bars are per day and result type" "no chromium"
	not_ok "screenshot" "no chromium"
	exit 1
fi
run_chrome() {
	HOME=$tmp timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--no-first-run --user-data-dir="$tmp/chrome" "$@" 2>"$tmp/chrome.err"
}
dom=$(run_chrome --dump-dom "file://$page")
bars=$(printf '%s' "$dom" | grep -o '<rect class="bar"' | wc -l)
if [ "$bars" = 6 ]; then ok "chromium renders 6 bars (3 days, 3 result types)"; else
	not_ok "chromium renders 6 bars (3 days, 3 result types)" "got $bars" "$(tail -3 "$tmp/chrome.err")"; fi
kinds=$(printf '%s' "$dom" | grep -o 'data-kind="[a-z-]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
want=' 1 data-kind="certificate-expired"; 1 data-kind="certificate-host-mismatch"; 1 data-kind="starttls-not-supported"; 3 data-kind="successful";'
if [ "$kinds" = "$want" ]; then ok "the bars are per day and result type"; else
	not_ok "the bars are per day and result type" "got $kinds"; fi

shot=$tmp/shot.png
run_chrome --window-size=1000,700 --screenshot="$shot" "file://$page" >/dev/null
size=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8]==b"\x89PNG\r\n\x1a\n" else "not a PNG")' "$shot" 2>/dev/null)
if [ "$size" = 1000x700 ]; then ok "screenshot: a 1000x700 PNG"; else
	not_ok "screenshot: a 1000x700 PNG" "got ${size:-nothing}" "$(tail -3 "$tmp/chrome.err")"; fi
[ "$fails" = 0 ]
