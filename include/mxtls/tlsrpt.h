/* SPDX-License-Identifier: MIT */
/* TLS-RPT (RFC 8460), the sending side: record each session's result, write a day's reports. */
#ifndef MXTLS_TLSRPT_H
#define MXTLS_TLSRPT_H

#include <stddef.h>

#include <mxtls/context.h>
#include <mxtls/result.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* The policy a session was held to (RFC 8460 §4.4 policy-type).  Values never change. */
enum mxtls_tlsrpt_policy {
	MXTLS_TLSRPT_TLSA = 0,      /* "tlsa": DANE, policy strings are the TLSA records */
	MXTLS_TLSRPT_STS = 1,       /* "sts": MTA-STS, policy strings are the policy's lines */
	MXTLS_TLSRPT_NO_POLICY = 2, /* "no-policy-found" */
};

/*
 * One TLS session attempt (or a failure before the handshake, such as a policy fetch error),
 * as RFC 8460 §4 reports it.  Fill it with mxtls_tlsrpt_session_init() first.  Every pointer is
 * borrowed for the call; NULL text means unknown (the report leaves the member out).
 */
struct mxtls_tlsrpt_session {
	enum mxtls_tlsrpt_policy policy_type;
	const char *policy_domain;         /* A-labels: the recipient domain (sts, tlsa) */
	const char *const *policy_strings; /* sts: the policy lines ("version: STSv1", ...);
					    * tlsa: "3 1 1 <hex>" per record */
	size_t npolicy_strings;
	const char *const *mx_hosts; /* sts: the policy's mx patterns; tlsa: the MX host */
	size_t nmx_hosts;
	enum mxtls_result result; /* MXTLS_RESULT_OK: a successful session */
	/* For a failure (result != MXTLS_RESULT_OK): */
	const char *sending_mta_ip; /* our address, IPv4 dotted or RFC 5952 IPv6 */
	const char *receiving_mx_hostname;
	const char *receiving_mx_helo; /* the name the MX gave (first line is kept) */
	const char *receiving_ip;
	const char *additional_information; /* a URI with more detail */
	const char *failure_reason_code;    /* free text, e.g. a TLS library's error name */
};

/* Sets every field of s to "unknown" (NULL, 0, MXTLS_TLSRPT_NO_POLICY, MXTLS_RESULT_OK). */
MXTLS_API void mxtls_tlsrpt_session_init(struct mxtls_tlsrpt_session *s);

/*
 * Records one session under the current UTC day of ctx's clock, in STATE_DIR/tlsrpt.sqlite
 * (created with the state directory when missing).  One SQLite transaction per call.  Text that
 * is not UTF-8 is stored with U+FFFD in its place.  Returns MXTLS_OK, MXTLS_E_INVAL (no policy
 * domain, an unknown result or policy type), MXTLS_E_LIMIT (a field longer than 1024 bytes, a
 * policy string longer than 4096, more than 4096 strings), MXTLS_E_CONFIG (no state-dir),
 * MXTLS_E_IO (the store is unusable; reason in err), MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_tlsrpt_record(struct mxtls_ctx *ctx, const struct mxtls_tlsrpt_session *s,
				  char *err, size_t errlen);

/* A decision of <mxtls/check.h> (mxtls_decide()). */
struct mxtls_decision;

/*
 * For an MTA with its own SMTP client: records one session with host `host` of d (a TLS
 * attempt on a new connection, RFC 8460 §4.2) as mxtls_tlsrpt_record() does, the policy taken
 * from d exactly as the library's own delivery takes it (§4.4): a DANE or DANE-encrypt host
 * under "tlsa", its TLSA base domain as policy domain, its TLSA records as policy strings and
 * the host as mx-host; a host under an MTA-STS policy (enforce or testing) under "sts" with
 * the recipient domain, the policy's lines and its mx patterns; any other host under
 * "no-policy-found".  reported is what the report says of the session: MXTLS_RESULT_OK for a
 * policy-compliant TLS session; else *reported of mxtls_decision_verify() (MTA-STS testing
 * failures are failures), the RFC 8460 type of a failure before the verify step (a failed
 * handshake), or MXTLS_RESULT_STARTTLS_NOT_SUPPORTED when the mail went (or was to go) in
 * cleartext.  A connection that ended before TLS for another reason is no session (do not
 * record it).  sending_ip (ours), receiving_ip (IPv4 or IPv6 text), receiving_helo and reason
 * (failure-reason-code) are kept for a failure only; NULL or "" means unknown.  Everything is
 * borrowed for the call.  Returns MXTLS_OK, MXTLS_E_INVAL (host out of range or excluded or
 * unreachable, see mxtls_tlsrpt_record_skipped(); reported unknown; receiving_ip not an
 * address), and the other returns of mxtls_tlsrpt_record().
 */
MXTLS_API int mxtls_tlsrpt_record_decision(struct mxtls_ctx *ctx, const struct mxtls_decision *d,
					   size_t host, enum mxtls_result reported,
					   const char *sending_ip, const char *receiving_ip,
					   const char *receiving_helo, const char *reason,
					   char *err, size_t errlen);

/* host of mxtls_tlsrpt_record_skipped(): the domain's MTA-STS policy discovery. */
#define MXTLS_TLSRPT_DISCOVERY ((size_t)-1)

/*
 * Records what a delivery attempt adds to the report without a session, from d alone, as the
 * library's own delivery does: for a host excluded by the MTA-STS policy, validation-failure
 * under "sts" (decision D10: the host was skipped); for a host unreachable because its TLSA
 * lookup failed, dnssec-invalid under "tlsa" with the host as policy domain (RFC 8460
 * §4.3.2); for host MXTLS_TLSRPT_DISCOVERY, the failed fetch of the domain's MTA-STS policy
 * or its invalid policy (§4.3.2: sts-policy-fetch-error, sts-policy-invalid, ...) under "sts".
 * Call it for each attempt that skipped such a host, and once per decision used for the
 * discovery.  Returns MXTLS_OK (recorded), MXTLS_E_NOTFOUND (nothing to report: a usable
 * host, one unreachable for another reason, or a discovery that did not fail), MXTLS_E_INVAL
 * (host out of range), and the other returns of mxtls_tlsrpt_record().
 */
MXTLS_API int mxtls_tlsrpt_record_skipped(struct mxtls_ctx *ctx, const struct mxtls_decision *d,
					  size_t host, char *err, size_t errlen);

/*
 * Writes the RFC 8460 reports of the UTC day "YYYY-MM-DD" into the directory dir (created when
 * missing, one level): one gzipped file per policy domain with results that day (only domain
 * when it is not NULL), named as RFC 8460 §5.1 says.  The reports use the settings
 * tlsrpt-organization, tlsrpt-contact (both required) and tlsrpt-submitter.  The same store and
 * settings always give the same bytes.  On success *paths (caller frees with
 * mxtls_tlsrpt_paths_free()) holds the npaths files written, "dir/name" each, sorted by policy
 * domain; *npaths is 0 (and *paths NULL) when the day has no results.  Returns MXTLS_OK,
 * MXTLS_E_INVAL (day not YYYY-MM-DD, domain not a host name), MXTLS_E_CONFIG (a setting is
 * missing), MXTLS_E_IO (the store or dir is unusable; reason in err), MXTLS_E_NOMEM.  On
 * an error, reports already written for other domains stay in dir (each one is whole: written
 * under a temporary name, then renamed).
 */
MXTLS_API int mxtls_tlsrpt_report(struct mxtls_ctx *ctx, const char *day, const char *domain,
				  const char *dir, char ***paths, size_t *npaths, char *err,
				  size_t errlen);

/* Frees what mxtls_tlsrpt_report() returned; NULL is a no-op. */
MXTLS_API void mxtls_tlsrpt_paths_free(char **paths, size_t npaths);

/*
 * Deletes the results of every day before the last keep_days UTC days of ctx's clock (today
 * counts as one).  Returns MXTLS_OK (also when there is no store), MXTLS_E_INVAL (keep_days 0),
 * MXTLS_E_IO.
 */
MXTLS_API int mxtls_tlsrpt_prune(struct mxtls_ctx *ctx, unsigned keep_days, char *err,
				 size_t errlen);

/* What a send run did with one policy domain's report (mxtls_tlsrpt_send()). */
enum mxtls_tlsrpt_send_status {
	MXTLS_TLSRPT_SENT = 0,           /* a destination accepted it in this run (mail: queued) */
	MXTLS_TLSRPT_ALREADY_SENT = 1,   /* an earlier run delivered it: nothing sent again */
	MXTLS_TLSRPT_RETRY = 2,          /* every destination failed (or none could be looked
					  * up); tried again at next_try by a later run */
	MXTLS_TLSRPT_GAVE_UP = 3,        /* failing for 24 hours (RFC 8460 §5.5): not tried again */
	MXTLS_TLSRPT_NO_DESTINATION = 4, /* no usable _smtp._tls record (§3): nowhere to send */
	MXTLS_TLSRPT_SKIPPED = 5,        /* tlsrpt-send = failures, and the day had none */
};

/* "sent", "already-sent", "retry", "gave-up", "no-destination", "skipped"; "unknown". */
MXTLS_API const char *mxtls_tlsrpt_send_status_name(enum mxtls_tlsrpt_send_status s);

struct mxtls_tlsrpt_sent {
	char *domain;  /* the policy domain */
	enum mxtls_tlsrpt_send_status status;
	char *detail;  /* one line: where it went, or why not (each destination's failure) */
	long long next_try; /* RETRY: Unix seconds of the next attempt; else 0 */
};

struct mxtls_tlsrpt_send_opts {
	/* "DOMAIN:SELECTOR:KEYFILE" as the queue daemon's dkim-key (borrowed): a mail report
	 * is queued only when one of them signs for the reporting domain (RFC 8460 §3: mail
	 * reports MUST be DKIM-signed; the daemon signs them when it sends). */
	const char *const *dkim_keys;
	size_t ndkim_keys;
};

/*
 * Sends the reports of the UTC day "YYYY-MM-DD" (RFC 8460 §5): for every policy domain with
 * results that day, the report is built once (as mxtls_tlsrpt_report() builds it) and kept in
 * the store with where its delivery stands; the domain's _smtp._tls TXT record is looked up
 * now (exactly one v=TLSRPTv1 record, §3), and the report goes to every rua destination:
 * https: by POST (application/tlsrpt+gzip; only a 2xx is success), mailto: into ctx's queue
 * (multipart/report with TLS-Report-Domain, TLS-Report-Submitter, TLS-Required: No; from
 * tlsrpt-contact).  A report is delivered once one destination took it; otherwise it is
 * retried by later runs with backoff for 24 hours after its first attempt (§5.5), then given
 * up (logged).  A report delivered, given up or without destination is never sent again.
 * Only one send run works on a state directory at a time.  Afterwards results older than
 * tlsrpt-keep-days are pruned.  On success *out (free with mxtls_tlsrpt_sent_free()) lists
 * the n domains, sorted.  Returns MXTLS_OK, MXTLS_E_INVAL (a bad day), MXTLS_E_CONFIG (a
 * setting missing, no state-dir), MXTLS_E_TEMPFAIL (another send run is working),
 * MXTLS_E_IO (the store; reason in err), MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_tlsrpt_send(struct mxtls_ctx *ctx, const char *day,
				const struct mxtls_tlsrpt_send_opts *opts,
				struct mxtls_tlsrpt_sent **out, size_t *n, char *err,
				size_t errlen);

/* Frees what mxtls_tlsrpt_send() returned; NULL is a no-op. */
MXTLS_API void mxtls_tlsrpt_sent_free(struct mxtls_tlsrpt_sent *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
