/* SPDX-License-Identifier: MIT */
/* `mxtls tlsrpt summary DOMAIN --html FILE`: one self-contained page (no script, font, image or
 * style sheet from elsewhere: the owner may open it offline or mail it): the totals, a chart per
 * day of sessions and failed sessions by result type (inline SVG, drawn here, so that the page
 * needs no JavaScript), and the table of MX hosts.  Every text from a report is escaped. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli_tlsrpt.h"

/* HTML text and attribute values (HTML 5 §13.1.2.6, §13.5): & < > " ' escaped. */
static void esc(FILE *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* A colour per result type: fixed for the RFC 8460 §4.3 names, grey for others. */
static const char *colour(const char *type)
{
	static const struct {
		const char *type, *rgb;
	} map[] = {
		{"starttls-not-supported", "#d62728"}, {"certificate-host-mismatch", "#ff7f0e"},
		{"certificate-expired", "#8c564b"},    {"certificate-not-trusted", "#e377c2"},
		{"validation-failure", "#9467bd"},     {"tlsa-invalid", "#17becf"},
		{"dnssec-invalid", "#1f77b4"},         {"dane-required", "#bcbd22"},
		{"sts-policy-fetch-error", "#7f7f7f"}, {"sts-policy-invalid", "#393b79"},
		{"sts-webpki-invalid", "#843c39"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].type, type) == 0)
			return map[i].rgb;
	return "#aaaaaa";
}

#define CHART_H 200 /* drawing height of the bars, px */
#define BAR_W   16
#define GAP     12
#define LABEL_H 70 /* room under the bars for the rotated day labels */

/* The height of a bar for n on a scale of max: at least 1 px when n > 0, so that one failed
 * session still shows. */
static unsigned bar_h(uint64_t n, uint64_t max)
{
	unsigned h = (unsigned)((double)n / (double)(max ? max : 1) * CHART_H);
	return n > 0 && h == 0 ? 1 : h;
}

static void bar(FILE *out, const char *day, const char *kind, size_t x, unsigned h,
		const char *fill, uint64_t n)
{
	fprintf(out, "<rect class=\"bar\" data-day=\"%s\" data-kind=\"", day);
	esc(out, kind);
	fprintf(out,
		"\" x=\"%zu\" y=\"%u\" width=\"%d\" height=\"%u\" fill=\"%s\"><title>%s: %llu ", x,
		20 + CHART_H - h, BAR_W, h, fill, day, (unsigned long long)n);
	esc(out, kind);
	fputs("</title></rect>\n", out);
}

static void day_label(FILE *out, size_t x, const char *day)
{
	fprintf(out,
		"<text x=\"%zu\" y=\"%d\" class=\"axis\" transform=\"rotate(45 %zu "
		"%d)\">%s</text>\n",
		x + 4, CHART_H + 32, x + 4, CHART_H + 32, day);
}

/* Two charts, each on its own scale (failures are a fraction of a percent of the sessions and
 * would not show on the sessions' scale): the successful sessions per day, then the failed
 * sessions per day, one bar per result type.  Each bar is a rect of class "bar" with data-day
 * and data-kind, and a title (the tooltip). */
static void chart(FILE *out, const struct mxtls_report_summary *s)
{
	size_t nd = mxtls_report_summary_day_count(s);
	uint64_t max_ok = 0, max_bad = 0;
	size_t bad_bars = 0;
	for (size_t i = 0; i < nd; i++) {
		uint64_t ok = mxtls_report_summary_day_sessions(s, i) -
			      mxtls_report_summary_day_failures(s, i);
		max_ok = ok > max_ok ? ok : max_ok;
		for (size_t k = 0; k < mxtls_report_summary_day_result_count(s, i); k++) {
			uint64_t n = 0;
			mxtls_report_summary_day_result(s, i, k, &n);
			max_bad = n > max_bad ? n : max_bad;
		}
		bad_bars += mxtls_report_summary_day_result_count(s, i);
	}
	fprintf(out,
		"<h3>Successful sessions</h3>\n<svg id=\"sessions\" "
		"xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%d\" role=\"img\" "
		"aria-label=\"successful sessions per day\">\n"
		"<text x=\"0\" y=\"12\" class=\"axis\">max %llu</text>\n",
		nd * (BAR_W + GAP) + 140, CHART_H + LABEL_H, (unsigned long long)max_ok);
	size_t x = 50;
	for (size_t i = 0; i < nd; i++, x += BAR_W + GAP) {
		const char *day = mxtls_report_summary_day(s, i);
		uint64_t ok = mxtls_report_summary_day_sessions(s, i) -
			      mxtls_report_summary_day_failures(s, i);
		bar(out, day, "successful", x, bar_h(ok, max_ok), "#2ca02c", ok);
		day_label(out, x, day);
	}
	fputs("</svg>\n<h3>Failed sessions by result type</h3>\n", out);
	if (bad_bars == 0) {
		fputs("<p>No failed session was reported.</p>\n", out);
		return;
	}
	fprintf(out,
		"<svg id=\"failures\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" "
		"height=\"%d\" role=\"img\" aria-label=\"failed sessions per day and result "
		"type\">\n"
		"<text x=\"0\" y=\"12\" class=\"axis\">max %llu</text>\n",
		bad_bars * BAR_W + nd * GAP + 140, CHART_H + LABEL_H, (unsigned long long)max_bad);
	x = 50;
	for (size_t i = 0; i < nd; i++, x += GAP) {
		const char *day = mxtls_report_summary_day(s, i);
		size_t nk = mxtls_report_summary_day_result_count(s, i);
		if (nk > 0)
			day_label(out, x, day);
		for (size_t k = 0; k < nk; k++, x += BAR_W) {
			uint64_t n = 0;
			const char *type = mxtls_report_summary_day_result(s, i, k, &n);
			bar(out, day, type, x, bar_h(n, max_bad), colour(type), n);
		}
	}
	fputs("</svg>\n", out);
}

static void legend(FILE *out, const struct mxtls_report_summary *s)
{
	fputs("<p class=\"legend\"><span style=\"background:#2ca02c\"></span>successful", out);
	/* each result type once, in the order first seen */
	const char *seen[64];
	size_t nseen = 0;
	for (size_t i = 0; i < mxtls_report_summary_day_count(s); i++)
		for (size_t k = 0; k < mxtls_report_summary_day_result_count(s, i); k++) {
			const char *t = mxtls_report_summary_day_result(s, i, k, NULL);
			bool dup = false;
			for (size_t m = 0; m < nseen && !dup; m++)
				dup = strcmp(seen[m], t) == 0;
			if (dup || nseen == 64)
				continue;
			seen[nseen++] = t;
			fprintf(out, " <span style=\"background:%s\"></span>", colour(t));
			esc(out, t);
		}
	fputs("</p>\n", out);
}

static void mx_table(FILE *out, const struct mxtls_report_summary *s)
{
	fputs("<h2>Failures per MX host</h2>\n", out);
	if (mxtls_report_summary_mx_count(s) == 0) {
		fputs("<p>No failed session was reported.</p>\n", out);
		return;
	}
	fputs("<table id=\"mx\"><tr><th>MX host</th><th>failed sessions</th><th>by result type"
	      "</th><th>sending addresses</th></tr>\n",
	      out);
	for (size_t i = 0; i < mxtls_report_summary_mx_count(s); i++) {
		const char *mx = mxtls_report_summary_mx(s, i);
		fputs("<tr><td>", out);
		esc(out, mx[0] ? mx : "(none named)");
		fprintf(out, "</td><td class=\"n\">%llu</td><td>",
			(unsigned long long)mxtls_report_summary_mx_failures(s, i));
		for (size_t k = 0; k < mxtls_report_summary_mx_result_count(s, i); k++) {
			uint64_t n = 0;
			const char *t = mxtls_report_summary_mx_result(s, i, k, &n);
			fputs(k ? ", " : "", out);
			esc(out, t);
			fprintf(out, " %llu", (unsigned long long)n);
		}
		fputs("</td><td>", out);
		for (size_t k = 0; k < mxtls_report_summary_mx_ip_count(s, i); k++) {
			fputs(k ? ", " : "", out);
			esc(out, mxtls_report_summary_mx_ip(s, i, k));
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

int cli_tlsrpt_html(FILE *out, const struct mxtls_report_summary *s, unsigned days)
{
	const char *d = mxtls_report_summary_domain(s);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>TLS "
	      "reports: ",
	      out);
	esc(out, d);
	fputs("</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
	      "text-align:left}td.n{text-align:right}\n"
	      ".axis{font-size:11px;fill:#555}\n"
	      ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}\n"
	      "</style></head><body>\n<h1>TLS reports about ",
	      out);
	esc(out, d);
	fprintf(out,
		"</h1>\n<p>The last %u day%s: %llu report%s from %zu organisation%s, "
		"%llu sessions, <b>%llu failed</b>. The %u days before: %llu sessions, %llu "
		"failed.</p>\n",
		days, days == 1 ? "" : "s", (unsigned long long)mxtls_report_summary_reports(s),
		mxtls_report_summary_reports(s) == 1 ? "" : "s", mxtls_report_summary_org_count(s),
		mxtls_report_summary_org_count(s) == 1 ? "" : "s",
		(unsigned long long)mxtls_report_summary_sessions(s),
		(unsigned long long)mxtls_report_summary_failures(s), days,
		(unsigned long long)mxtls_report_summary_previous_sessions(s),
		(unsigned long long)mxtls_report_summary_previous_failures(s));
	fputs("<h2>Sessions per day</h2>\n", out);
	legend(out, s);
	chart(out, s);
	fputs("<h2>Reporting organisations</h2>\n<ul>\n", out);
	for (size_t i = 0; i < mxtls_report_summary_org_count(s); i++) {
		uint64_t n = 0;
		const char *org = mxtls_report_summary_org(s, i, &n);
		fputs("<li>", out);
		esc(out, org);
		fprintf(out, ": %llu report%s</li>\n", (unsigned long long)n, n == 1 ? "" : "s");
	}
	fputs("</ul>\n", out);
	mx_table(out, s);
	fputs("</body></html>\n", out);
	return ferror(out) ? -1 : 0;
}
