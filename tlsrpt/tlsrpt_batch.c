/* SPDX-License-Identifier: MIT */
/*
 * The in-memory side of recording (tlsrpt_batch.h).  Measured with bench-send (row a1, one
 * message per TLS session on loopback): one SQLite transaction per session cost the sender
 * +11 % CPU per message and 4.6 % of the rate; the budget is 2 %.  A day has few
 * distinct results (per policy and failure kind), so counting them in a hash table and
 * writing the counters now and then costs a serialisation and a lookup per session.
 *
 * Each result is keyed by its canonical bytes: day, type, domain, then each string, mx
 * pattern and failure field, each NUL-terminated, with a separator between the lists; equal
 * bytes mean the store would group the two sessions into one row (the store lower-cases the
 * domain itself, so "A.example" and "a.example" may take two entries here and meet there).
 */
#include "tlsrpt/tlsrpt_batch.h"

#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "util/util_buf.h"

/* The longest canonical key: longer results are refused (MXTLS_E_LIMIT) rather than cut. */
#define TLSRPT_BATCH_KEY_MAX (1024u * 1024)

struct entry {
	char *key; /* owned: the canonical bytes; the result's strings point into a copy */
	size_t klen;
	uint64_t hash;
	int64_t day;
	uint64_t count;
	char *copy;                  /* owned: the text the result points into */
	const char **lists;          /* owned: strings then mx pointers */
	struct tlsrpt_result r;
	struct tlsrpt_failure f;
};

struct tlsrpt_batch {
	struct entry *e; /* open addressing, cap slots (a power of two), n used */
	size_t cap, n;
	uint64_t pending;
	struct util_buf scratch;
};

int tlsrpt_batch_new(struct tlsrpt_batch **out)
{
	struct tlsrpt_batch *b = calloc(1, sizeof *b);
	if (b == NULL)
		return MXTLS_E_NOMEM;
	b->cap = 64;
	util_buf_init(&b->scratch, TLSRPT_BATCH_KEY_MAX);
	b->e = calloc(b->cap, sizeof *b->e);
	if (b->e == NULL) {
		free(b);
		return MXTLS_E_NOMEM;
	}
	*out = b;
	return MXTLS_OK;
}

static void entry_clear(struct entry *e)
{
	free(e->key);
	free(e->copy);
	free(e->lists);
	memset(e, 0, sizeof *e);
}

static void clear_all(struct tlsrpt_batch *b)
{
	for (size_t i = 0; i < b->cap; i++)
		if (b->e[i].key != NULL)
			entry_clear(&b->e[i]);
	b->n = 0;
	b->pending = 0;
}

void tlsrpt_batch_free(struct tlsrpt_batch *b)
{
	if (b == NULL)
		return;
	clear_all(b);
	free(b->e);
	util_buf_free(&b->scratch);
	free(b);
}

uint64_t tlsrpt_batch_pending(const struct tlsrpt_batch *b)
{
	return b->pending;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_of(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Appends s and its NUL, after checking its length against cap. */
static int put(struct util_buf *k, const char *s, size_t cap)
{
	s = s != NULL ? s : "";
	size_t n = strlen(s);
	if (n > cap)
		return MXTLS_E_LIMIT;
	return util_buf_append(k, s, n + 1);
}

/* The canonical bytes of (day, r) into k (emptied first). */
static int key_of(struct util_buf *k, int64_t day, const struct tlsrpt_result *r)
{
	k->len = 0;
	const struct tlsrpt_failure *f = r->failure;
	if (r->domain == NULL || tlsrpt_policy_type_name(r->type) == NULL ||
	    (f != NULL && (f->result_type == NULL || f->result_type[0] == '\0')) ||
	    (r->nstrings > 0 && r->strings == NULL) || (r->nmx > 0 && r->mx == NULL))
		return MXTLS_E_INVAL;
	if (r->nstrings > TLSRPT_STRINGS_MAX || r->nmx > TLSRPT_STRINGS_MAX)
		return MXTLS_E_LIMIT;
	uint8_t head[10];
	memcpy(head, &day, 8);
	head[8] = (uint8_t)r->type;
	head[9] = f != NULL;
	int rc = util_buf_append(k, head, sizeof head);
	if (rc == MXTLS_OK)
		rc = put(k, r->domain, TLSRPT_FIELD_MAX);
	for (size_t i = 0; rc == MXTLS_OK && i < r->nstrings; i++)
		rc = put(k, r->strings[i], TLSRPT_STRING_MAX);
	/* A separator no string holds (they are NUL-terminated C strings): "\1" then NUL. */
	if (rc == MXTLS_OK)
		rc = put(k, "\1", 1);
	for (size_t i = 0; rc == MXTLS_OK && i < r->nmx; i++)
		rc = put(k, r->mx[i], TLSRPT_STRING_MAX);
	if (rc == MXTLS_OK)
		rc = put(k, "\1", 1);
	if (f != NULL) {
		const char *v[] = {f->result_type,  f->sending_mta_ip,	      f->receiving_mx_hostname,
				   f->receiving_mx_helo, f->receiving_ip, f->additional_information,
				   f->failure_reason_code};
		for (size_t i = 0; rc == MXTLS_OK && i < sizeof v / sizeof v[0]; i++)
			rc = put(k, v[i], TLSRPT_FIELD_MAX);
	}
	return rc;
}

/* Makes e's result point into its own copy of the key's text. */
static int materialise(struct entry *e, const struct tlsrpt_result *r)
{
	size_t lists = r->nstrings + r->nmx;
	e->copy = malloc(e->klen);
	e->lists = calloc(lists > 0 ? lists : 1, sizeof *e->lists);
	if (e->copy == NULL || e->lists == NULL)
		return MXTLS_E_NOMEM;
	memcpy(e->copy, e->key, e->klen);
	const char *p = e->copy + 10;
	const char *domain = p;
	p += strlen(p) + 1;
	for (size_t i = 0; i < r->nstrings; i++, p += strlen(p) + 1)
		e->lists[i] = p;
	p += strlen(p) + 1; /* the separator */
	for (size_t i = 0; i < r->nmx; i++, p += strlen(p) + 1)
		e->lists[r->nstrings + i] = p;
	p += strlen(p) + 1;
	e->r = (struct tlsrpt_result){
		.type = r->type,
		.domain = domain,
		.strings = e->lists,
		.nstrings = r->nstrings,
		.mx = e->lists + r->nstrings,
		.nmx = r->nmx,
	};
	if (r->failure != NULL) {
		const char **fv[] = {&e->f.result_type,	   &e->f.sending_mta_ip,
				     &e->f.receiving_mx_hostname, &e->f.receiving_mx_helo,
				     &e->f.receiving_ip,	   &e->f.additional_information,
				     &e->f.failure_reason_code};
		for (size_t i = 0; i < sizeof fv / sizeof fv[0]; i++, p += strlen(p) + 1)
			*fv[i] = p;
		e->r.failure = &e->f;
	}
	return MXTLS_OK;
}

static struct entry *slot(struct tlsrpt_batch *b, const char *key, size_t klen, uint64_t h)
{
	size_t i = (size_t)h & (b->cap - 1);
	while (b->e[i].key != NULL &&
	       !(b->e[i].hash == h && b->e[i].klen == klen && memcmp(b->e[i].key, key, klen) == 0))
		i = (i + 1) & (b->cap - 1);
	return &b->e[i];
}

/* Doubles the table (kept at most half full). */
static int grow(struct tlsrpt_batch *b)
{
	struct entry *old = b->e;
	size_t oldcap = b->cap;
	struct entry *ne = calloc(oldcap * 2, sizeof *ne);
	if (ne == NULL)
		return MXTLS_E_NOMEM;
	b->e = ne;
	b->cap = oldcap * 2;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key != NULL) {
			struct entry *d = slot(b, old[i].key, old[i].klen, old[i].hash);
			*d = old[i];
			/* The result points into d->copy, which moved with it; its own failure
			 * struct moved too. */
			if (d->r.failure != NULL)
				d->r.failure = &d->f;
		}
	free(old);
	return MXTLS_OK;
}

int tlsrpt_batch_add(struct tlsrpt_batch *b, int64_t day, const struct tlsrpt_result *r)
{
	if (b == NULL || r == NULL)
		return MXTLS_E_INVAL;
	int rc = key_of(&b->scratch, day, r);
	if (rc != MXTLS_OK)
		return rc;
	uint64_t h = hash_of(b->scratch.data, b->scratch.len);
	struct entry *e = slot(b, b->scratch.data, b->scratch.len, h);
	if (e->key != NULL) {
		if (e->count < TLSRPT_COUNT_MAX)
			e->count++;
		b->pending++;
		return MXTLS_OK;
	}
	if (b->n >= TLSRPT_BATCH_DISTINCT_MAX)
		return MXTLS_E_LIMIT;
	if ((b->n + 1) * 2 > b->cap) {
		if ((rc = grow(b)) != MXTLS_OK)
			return rc;
		e = slot(b, b->scratch.data, b->scratch.len, h);
	}
	e->key = malloc(b->scratch.len);
	if (e->key == NULL)
		return MXTLS_E_NOMEM;
	memcpy(e->key, b->scratch.data, b->scratch.len);
	e->klen = b->scratch.len;
	e->hash = h;
	e->day = day;
	e->count = 1;
	if ((rc = materialise(e, r)) != MXTLS_OK) {
		entry_clear(e);
		return rc;
	}
	b->n++;
	b->pending++;
	return MXTLS_OK;
}

int tlsrpt_batch_flush(struct tlsrpt_batch *b, struct tlsrpt_store *s, char *err,
		       size_t errlen)
{
	if (b->n == 0)
		return MXTLS_OK;
	struct tlsrpt_counted *v = calloc(b->n, sizeof *v);
	if (v == NULL)
		return MXTLS_E_NOMEM;
	size_t k = 0;
	for (size_t i = 0; i < b->cap; i++)
		if (b->e[i].key != NULL)
			v[k++] = (struct tlsrpt_counted){
			    .day = b->e[i].day, .r = &b->e[i].r, .count = b->e[i].count};
	int rc = tlsrpt_store_record_many(s, v, k, err, errlen);
	free(v);
	if (rc == MXTLS_OK)
		clear_all(b);
	return rc;
}
