/* SPDX-License-Identifier: MIT */
/* A fleet's Redis through hiredis's blocking API, on the policy cache's worker thread. */
#include "store/store_redis.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <mxtls/error.h>

/*
 * Why the blocking API and not hiredis's libevent adapter.  Every Redis call is made on the
 * policy cache's worker thread (sts/sts_cache_worker.c), never on an event loop: the worker
 * already takes SQLite's waits off the loop, and the fleet's reads and writes belong in the same
 * FIFO as the local ones (a local write, then its copy to Redis, in that order).  The waits that
 * remain are bounded here: connect_ms for a connect, command_ms for every reply (SO_RCVTIMEO /
 * SO_SNDTIMEO through redisSetTimeout), and after any failure no attempt at all for retry_ms,
 * so a dead or stalled Redis costs one bounded wait per retry_ms, not one per request.
 */

/*
 * A cap on the elements of one array in a reply, checked before hiredis allocates them.
 * hiredis 0.14 (Debian 12) allocates an array of the size a reply announces before it reads a
 * single element ("*666666666" asks for 5 GB; fuzz_stsfleet found it), and has no setting for
 * it (1.0's maxelements).  Our replies have at most 64 (HGETALL of a policy) or a SCAN page
 * (COUNT 1000, a little more at times): 4096 refuses nothing valid, and a larger reply is
 * garbage, a protocol error like any other.
 */
#define STORE_REDIS_ELEMENTS_MAX 4096

static redisReplyObjectFunctions capped_functions;
static void *(*default_create_array)(const redisReadTask *, int);
static pthread_once_t capped_once = PTHREAD_ONCE_INIT;

static void *capped_create_array(const redisReadTask *task, int elements)
{
	if (elements > STORE_REDIS_ELEMENTS_MAX)
		return NULL; /* the reader reports an error, and its reply is dropped */
	return default_create_array(task, elements);
}

/* Copies hiredis's own functions (from a reader made for the purpose) with createArray capped. */
static void capped_init(void)
{
	redisReader *rd = redisReaderCreate();
	if (rd == NULL || rd->fn == NULL)
		abort(); /* out of memory at the first connection: nothing sensible is left */
	capped_functions = *rd->fn;
	default_create_array = rd->fn->createArray;
	capped_functions.createArray = capped_create_array;
	redisReaderFree(rd);
}

static void cap_reader(redisReader *rd)
{
	pthread_once(&capped_once, capped_init);
	rd->fn = &capped_functions;
}

struct store_redis {
	struct store_redis_opts o;
	redisContext *ctx;
	int64_t paused_until_ms; /* monotonic; no attempt before */
	bool connected_once;
	bool reconnected; /* a connection was made and the caller has not been told */
	struct store_redis_health h;
	char error[256];
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval tv_ms(unsigned ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

static void set_error(struct store_redis *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	snprintf(r->h.last_error, sizeof r->h.last_error, "%s", r->error);
}

/* Redis is unreachable, slow or closed the connection: drop it and pause. */
static int down(struct store_redis *r, const char *what)
{
	const char *why = r->ctx != NULL && r->ctx->errstr[0] != '\0' ? r->ctx->errstr : "";
	if (r->ctx != NULL && (r->ctx->err == REDIS_ERR_IO) &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		why = "timed out";
	set_error(r, "%s: %s", what, why[0] != '\0' ? why : "connection lost");
	if (r->ctx != NULL)
		redisFree(r->ctx);
	r->ctx = NULL;
	r->h.up = false;
	r->h.failures++;
	r->paused_until_ms = mono_ms() + r->o.retry_ms;
	return MXTLS_E_TEMPFAIL;
}

static redisReply *command(struct store_redis *r, int argc, const char **argv, const size_t *len)
{
	return redisCommandArgv(r->ctx, argc, argv, len);
}

/* AUTH and SELECT on a fresh connection; MXTLS_OK or a failure (connection dropped). */
static int handshake(struct store_redis *r)
{
	char db[16];
	snprintf(db, sizeof db, "%u", r->o.uri.db);
	const char *auth[] = {"AUTH", r->o.uri.password};
	const char *sel[] = {"SELECT", db};
	const char **cmds[] = {auth, sel};
	for (size_t i = r->o.uri.password[0] != '\0' ? 0 : 1; i < 2; i++) {
		redisReply *rep = command(r, 2, cmds[i], NULL);
		if (rep == NULL)
			return down(r, cmds[i][0]);
		bool ok = rep->type == REDIS_REPLY_STATUS;
		if (!ok) {
			set_error(r, "%s refused: %.*s", cmds[i][0],
				  rep->type == REDIS_REPLY_ERROR ? (int)rep->len : 0,
				  rep->type == REDIS_REPLY_ERROR ? rep->str : "");
			freeReplyObject(rep);
			char keep[256];
			snprintf(keep, sizeof keep, "%s", r->error);
			down(r, cmds[i][0]);
			set_error(r, "%s", keep);
			return MXTLS_E_TEMPFAIL;
		}
		freeReplyObject(rep);
	}
	return MXTLS_OK;
}

bool store_redis_may_try(const struct store_redis *r)
{
	return r->ctx != NULL || mono_ms() >= r->paused_until_ms;
}

/* Connected, or a connection made now; MXTLS_E_TEMPFAIL while paused or when it fails. */
static int ready(struct store_redis *r)
{
	if (r->ctx != NULL)
		return MXTLS_OK;
	if (mono_ms() < r->paused_until_ms) {
		if (r->error[0] == '\0')
			set_error(r, "paused after a failure");
		return MXTLS_E_TEMPFAIL;
	}
	struct timeval tv = tv_ms(r->o.connect_ms);
	if (r->o.uri.path[0] != '\0')
		r->ctx = redisConnectUnixWithTimeout(r->o.uri.path, tv);
	else
		r->ctx = redisConnectWithTimeout(r->o.uri.host, (int)r->o.uri.port, tv);
	if (r->ctx == NULL) {
		set_error(r, "connect: out of memory");
		r->paused_until_ms = mono_ms() + r->o.retry_ms;
		return MXTLS_E_TEMPFAIL;
	}
	if (r->ctx->err != 0)
		return down(r, "connect");
	if (redisSetTimeout(r->ctx, tv_ms(r->o.command_ms)) != REDIS_OK)
		return down(r, "connect");
	cap_reader(r->ctx->reader);
	int rc = handshake(r);
	if (rc != MXTLS_OK)
		return rc;
	if (r->connected_once)
		r->h.reconnects++;
	r->connected_once = true;
	r->reconnected = true;
	return MXTLS_OK;
}

bool store_redis_take_reconnected(struct store_redis *r)
{
	bool was = r->reconnected;
	r->reconnected = false;
	return was;
}

/* One command: the reply (caller frees) or NULL with the failure's code in *rc. */
static redisReply *call(struct store_redis *r, int argc, const char **argv, const size_t *len,
			int *rc)
{
	bool reused = r->ctx != NULL;
	if ((*rc = ready(r)) != MXTLS_OK)
		return NULL;
	redisReply *rep = command(r, argc, argv, len);
	int saved = errno;
	bool timed_out = rep == NULL && r->ctx->err == REDIS_ERR_IO &&
			 (saved == EAGAIN || saved == EWOULDBLOCK);
	if (rep == NULL && reused && !timed_out) {
		/* The connection was closed under us (EOF, reset: a Redis restart, an idle
		 * timeout): that says nothing of Redis now, so one new connection and one more try.
		 * A timeout (EAGAIN from the socket's SO_RCVTIMEO) is not retried: Redis is slow.
		 */
		redisFree(r->ctx);
		r->ctx = NULL;
		if ((*rc = ready(r)) != MXTLS_OK)
			return NULL;
		rep = command(r, argc, argv, len);
	}
	if (rep == NULL) {
		*rc = down(r, argv[0]);
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		/* -LOADING and -BUSY: Redis is there but cannot answer yet: down, not garbage. */
		bool transient = strncmp(rep->str, "LOADING", 7) == 0 ||
				 strncmp(rep->str, "BUSY", 4) == 0 ||
				 strncmp(rep->str, "NOAUTH", 6) == 0;
		set_error(r, "%s: %.*s", argv[0], (int)(rep->len > 200 ? 200 : rep->len), rep->str);
		freeReplyObject(rep);
		if (transient) {
			char keep[256];
			snprintf(keep, sizeof keep, "%s", r->error);
			down(r, argv[0]);
			set_error(r, "%s", keep);
			*rc = MXTLS_E_TEMPFAIL;
		} else {
			r->h.up = true;
			r->h.last_ok_ms = mono_ms();
			*rc = MXTLS_E_SYNTAX;
		}
		return NULL;
	}
	r->h.up = true;
	r->h.last_ok_ms = mono_ms();
	*rc = MXTLS_OK;
	return rep;
}

static int wrong_type(struct store_redis *r, redisReply *rep, const char *what)
{
	set_error(r, "%s: unexpected reply type %d", what, rep->type);
	freeReplyObject(rep);
	return MXTLS_E_SYNTAX;
}

int store_redis_new(const struct store_redis_opts *o, struct store_redis **out)
{
	struct store_redis *r = calloc(1, sizeof *r);
	if (r == NULL)
		return MXTLS_E_NOMEM;
	r->o = *o;
	if (r->o.connect_ms == 0)
		r->o.connect_ms = STORE_REDIS_CONNECT_MS;
	if (r->o.command_ms == 0)
		r->o.command_ms = STORE_REDIS_COMMAND_MS;
	if (r->o.retry_ms == 0)
		r->o.retry_ms = STORE_REDIS_RETRY_MS;
	*out = r;
	return MXTLS_OK;
}

void store_redis_free(struct store_redis *r)
{
	if (r == NULL)
		return;
	if (r->ctx != NULL)
		redisFree(r->ctx);
	explicit_bzero(r->o.uri.password, sizeof r->o.uri.password);
	free(r);
}

const char *store_redis_error(const struct store_redis *r)
{
	return r->error;
}

void store_redis_health(const struct store_redis *r, struct store_redis_health *out)
{
	*out = r->h;
}

int store_redis_ping(struct store_redis *r, long *rtt_us)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	const char *argv[] = {"PING"};
	int rc;
	redisReply *rep = call(r, 1, argv, NULL, &rc);
	if (rep == NULL)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rep->type != REDIS_REPLY_STATUS)
		return wrong_type(r, rep, "PING");
	freeReplyObject(rep);
	if (rtt_us != NULL)
		*rtt_us = (long)((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000);
	return MXTLS_OK;
}

void store_fields_free(struct store_field *f, size_t n)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
}

static char *copy_bytes(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p != NULL) {
		if (n > 0)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* An HGETALL reply as fields: an array of an even number (at most 64) of bulk strings of at
 * most STORE_REDIS_VALUE_MAX bytes in all.  MXTLS_E_NOTFOUND for the empty array (no such
 * key); MXTLS_E_SYNTAX with the reason in why for anything else. */
static int fields_from_reply_capped(const redisReply *rep, size_t max_pairs, size_t max_bytes,
				    struct store_field **fields, size_t *nf, char *why,
				    size_t whylen)
{
	*fields = NULL;
	*nf = 0;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0 ||
	    rep->elements > 2 * max_pairs) {
		snprintf(why, whylen, "HGETALL: not an array of name-value pairs (type %d)",
			 rep->type);
		return MXTLS_E_SYNTAX;
	}
	if (rep->elements == 0)
		return MXTLS_E_NOTFOUND;
	size_t total = 0;
	for (size_t i = 0; i < rep->elements; i++) {
		if (rep->element[i]->type != REDIS_REPLY_STRING) {
			snprintf(why, whylen, "HGETALL: element %zu is not a string", i);
			return MXTLS_E_SYNTAX;
		}
		total += rep->element[i]->len;
	}
	if (total > max_bytes) {
		snprintf(why, whylen, "HGETALL: %zu bytes, more than %zu", total, max_bytes);
		return MXTLS_E_SYNTAX;
	}
	size_t n = rep->elements / 2;
	struct store_field *f = calloc(n, sizeof *f);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const redisReply *k = rep->element[2 * i], *v = rep->element[2 * i + 1];
		f[i].name = copy_bytes(k->str, k->len);
		f[i].value = copy_bytes(v->str, v->len);
		f[i].name_len = k->len;
		f[i].value_len = v->len;
		if (f[i].name == NULL || f[i].value == NULL) {
			store_fields_free(f, n);
			return MXTLS_E_NOMEM;
		}
	}
	*fields = f;
	*nf = n;
	return MXTLS_OK;
}

static int fields_from_reply(const redisReply *rep, struct store_field **fields, size_t *nf,
			     char *why, size_t whylen)
{
	return fields_from_reply_capped(rep, 32, STORE_REDIS_VALUE_MAX, fields, nf, why, whylen);
}

int store_redis_hgetall_capped(struct store_redis *r, const char *key, size_t max_pairs,
			       size_t max_bytes, struct store_field **fields, size_t *nf)
{
	*fields = NULL;
	*nf = 0;
	const char *argv[] = {"HGETALL", key};
	int rc;
	redisReply *rep = call(r, 2, argv, NULL, &rc);
	if (rep == NULL)
		return rc;
	char why[256];
	rc = fields_from_reply_capped(rep, max_pairs, max_bytes, fields, nf, why, sizeof why);
	if (rc == MXTLS_E_SYNTAX)
		set_error(r, "%s: %s", key, why);
	freeReplyObject(rep);
	return rc;
}

int store_redis_hgetall(struct store_redis *r, const char *key, struct store_field **fields,
			size_t *nf)
{
	return store_redis_hgetall_capped(r, key, 32, STORE_REDIS_VALUE_MAX, fields, nf);
}

int store_redis_parse_hash(const void *resp, size_t len, struct store_field **fields, size_t *nf,
			   size_t *used, char *why, size_t whylen)
{
	*fields = NULL;
	*nf = 0;
	*used = 0;
	redisReader *rd = redisReaderCreate();
	if (rd == NULL)
		return MXTLS_E_NOMEM;
	cap_reader(rd);
	void *reply = NULL;
	int rc;
	if (redisReaderFeed(rd, resp, len) != REDIS_OK ||
	    redisReaderGetReply(rd, &reply) != REDIS_OK) {
		if (rd->err == REDIS_ERR_OOM)
			snprintf(why, whylen, "an array of more than %d elements",
				 STORE_REDIS_ELEMENTS_MAX);
		else
			snprintf(why, whylen, "not RESP: %s", rd->errstr);
		rc = MXTLS_E_SYNTAX;
	} else if (reply == NULL) {
		snprintf(why, whylen, "a reply cut short");
		rc = MXTLS_E_TRUNCATED;
	} else {
		rc = fields_from_reply(reply, fields, nf, why, whylen);
		*used = len - (size_t)(rd->len - rd->pos);
		freeReplyObject(reply);
	}
	redisReaderFree(rd);
	return rc;
}

int store_redis_eval_int(struct store_redis *r, const char *script, size_t nkeys,
			 const char *const *keys, size_t nargs, const char *const *args,
			 const size_t *arglen, long long *out)
{
	enum { MAXARGV = 16 };
	if (3 + nkeys + nargs > MAXARGV)
		return MXTLS_E_INVAL;
	const char *argv[MAXARGV];
	size_t len[MAXARGV];
	char nk[16];
	snprintf(nk, sizeof nk, "%zu", nkeys);
	size_t n = 0;
	argv[n] = "EVAL", len[n++] = 4;
	argv[n] = script, len[n++] = strlen(script);
	argv[n] = nk, len[n++] = strlen(nk);
	for (size_t i = 0; i < nkeys; i++)
		argv[n] = keys[i], len[n++] = strlen(keys[i]);
	for (size_t i = 0; i < nargs; i++)
		argv[n] = args[i], len[n++] = arglen != NULL ? arglen[i] : strlen(args[i]);
	int rc;
	redisReply *rep = call(r, (int)n, argv, len, &rc);
	if (rep == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		return wrong_type(r, rep, "EVAL");
	*out = rep->integer;
	freeReplyObject(rep);
	return MXTLS_OK;
}

int store_redis_set_nx(struct store_redis *r, const char *key, const char *value, unsigned ms,
		       bool *acquired)
{
	char px[16];
	snprintf(px, sizeof px, "%u", ms);
	const char *argv[] = {"SET", key, value, "NX", "PX", px};
	int rc;
	redisReply *rep = call(r, 6, argv, NULL, &rc);
	if (rep == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_STATUS && rep->type != REDIS_REPLY_NIL)
		return wrong_type(r, rep, "SET NX");
	*acquired = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return MXTLS_OK;
}

int store_redis_set_px(struct store_redis *r, const char *key, const void *value, size_t len,
		       unsigned ms)
{
	if (len > STORE_REDIS_VALUE_MAX || ms == 0)
		return MXTLS_E_LIMIT;
	char px[16];
	snprintf(px, sizeof px, "%u", ms);
	const char *argv[] = {"SET", key, (const char *)value, "PX", px};
	size_t lens[] = {3, strlen(key), len, 2, strlen(px)};
	int rc;
	redisReply *rep = call(r, 5, argv, lens, &rc);
	if (rep == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_STATUS)
		return wrong_type(r, rep, "SET");
	freeReplyObject(rep);
	return MXTLS_OK;
}

int store_redis_del(struct store_redis *r, const char *key)
{
	const char *argv[] = {"DEL", key};
	int rc;
	redisReply *rep = call(r, 2, argv, NULL, &rc);
	if (rep == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		return wrong_type(r, rep, "DEL");
	freeReplyObject(rep);
	return MXTLS_OK;
}

int store_redis_hset_expire(struct store_redis *r, const char *key, const char *const *pairs,
			    size_t nf, long ttl_s)
{
	enum { MAXF = 8 };
	if (nf > MAXF)
		return MXTLS_E_INVAL;
	const char *argv[2 + 2 * MAXF];
	size_t n = 0;
	argv[n++] = "HSET";
	argv[n++] = key;
	for (size_t i = 0; i < 2 * nf; i++)
		argv[n++] = pairs[i];
	int rc = ready(r);
	if (rc != MXTLS_OK)
		return rc;
	char ttl[24];
	snprintf(ttl, sizeof ttl, "%ld", ttl_s);
	const char *exp[] = {"EXPIRE", key, ttl};
	/* Pipelined: one round trip for both. */
	if (redisAppendCommandArgv(r->ctx, (int)n, argv, NULL) != REDIS_OK ||
	    redisAppendCommandArgv(r->ctx, 3, exp, NULL) != REDIS_OK)
		return down(r, "HSET");
	for (int i = 0; i < 2; i++) {
		void *v = NULL;
		if (redisGetReply(r->ctx, &v) != REDIS_OK || v == NULL)
			return down(r, i == 0 ? "HSET" : "EXPIRE");
		redisReply *rep = v;
		int type = rep->type;
		freeReplyObject(rep);
		if (type != REDIS_REPLY_INTEGER) {
			set_error(r, "%s: unexpected reply type %d", i == 0 ? "HSET" : "EXPIRE",
				  type);
			rc = MXTLS_E_SYNTAX; /* read the other reply too: the stream stays in step
					      */
		}
	}
	if (rc == MXTLS_OK) {
		r->h.up = true;
		r->h.last_ok_ms = mono_ms();
	}
	return rc;
}

int store_redis_scan(struct store_redis *r, const char *pattern, long max, long *n, char ***names,
		     size_t *nnames)
{
	size_t want = names != NULL ? *nnames : 0, got = 0;
	char **list = NULL;
	if (names != NULL) {
		*names = NULL;
		*nnames = 0;
		if (want > 0 && (list = calloc(want, sizeof *list)) == NULL)
			return MXTLS_E_NOMEM;
	}
	char cursor[32] = "0";
	long count = 0;
	int rc = MXTLS_OK;
	do {
		const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
		redisReply *rep = call(r, 6, argv, NULL, &rc);
		if (rep == NULL)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len >= 32 ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = wrong_type(r, rep, "SCAN");
			break;
		}
		snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
		redisReply *keys = rep->element[1];
		for (size_t i = 0; i < keys->elements && count < max; i++) {
			if (keys->element[i]->type != REDIS_REPLY_STRING)
				continue;
			count++;
			if (got < want) {
				list[got] =
					copy_bytes(keys->element[i]->str, keys->element[i]->len);
				if (list[got] != NULL)
					got++;
			}
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") != 0 && count < max);
	if (rc != MXTLS_OK) {
		for (size_t i = 0; i < got; i++)
			free(list[i]);
		free(list);
		return rc;
	}
	*n = count;
	if (names != NULL) {
		*names = list;
		*nnames = got;
	}
	return MXTLS_OK;
}

int store_redis_smembers(struct store_redis *r, const char *key, size_t max, char ***out,
			 size_t *n)
{
	*out = NULL;
	*n = 0;
	const char *argv[] = {"SMEMBERS", key};
	int rc;
	redisReply *rep = call(r, 2, argv, NULL, &rc);
	if (rep == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements > max)
		return wrong_type(r, rep, "SMEMBERS");
	char **v = rep->elements > 0 ? calloc(rep->elements, sizeof *v) : NULL;
	if (rep->elements > 0 && v == NULL) {
		freeReplyObject(rep);
		return MXTLS_E_NOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < rep->elements; i++) {
		const redisReply *e = rep->element[i];
		if (e->type != REDIS_REPLY_STRING || memchr(e->str, '\0', e->len) != NULL) {
			for (size_t j = 0; j < k; j++)
				free(v[j]);
			free(v);
			return wrong_type(r, rep, "SMEMBERS element");
		}
		if ((v[k] = copy_bytes(e->str, e->len)) == NULL) {
			for (size_t j = 0; j < k; j++)
				free(v[j]);
			free(v);
			freeReplyObject(rep);
			return MXTLS_E_NOMEM;
		}
		k++;
	}
	freeReplyObject(rep);
	*out = v;
	*n = k;
	return MXTLS_OK;
}

/* EXPIRE key ttl_s, after a write to key. */
static int expire(struct store_redis *r, const char *key, long ttl_s)
{
	char ttl[24];
	snprintf(ttl, sizeof ttl, "%ld", ttl_s);
	const char *argv[] = {"EXPIRE", key, ttl};
	int rc;
	redisReply *rep = call(r, 3, argv, NULL, &rc);
	if (rep == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		return wrong_type(r, rep, "EXPIRE");
	freeReplyObject(rep);
	return MXTLS_OK;
}

/* One command whose reply is an integer (SADD, HSET), then EXPIRE on its key (argv[1]). */
static int integer_then_expire(struct store_redis *r, int argc, const char **argv,
			       const size_t *len, long ttl_s)
{
	int rc;
	redisReply *rep = call(r, argc, argv, len, &rc);
	if (rep == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		return wrong_type(r, rep, argv[0]);
	freeReplyObject(rep);
	return expire(r, argv[1], ttl_s);
}

int store_redis_sadd_expire(struct store_redis *r, const char *key, const char *member,
			    long ttl_s)
{
	const char *argv[] = {"SADD", key, member};
	return integer_then_expire(r, 3, argv, NULL, ttl_s);
}

int store_redis_hset_bytes(struct store_redis *r, const char *key, const char *field,
			   const char *value, size_t len, long ttl_s)
{
	const char *argv[] = {"HSET", key, field, value};
	size_t lens[] = {4, strlen(key), strlen(field), len};
	return integer_then_expire(r, 4, argv, lens, ttl_s);
}

int store_redis_get(struct store_redis *r, const char *key, char *buf, size_t cap)
{
	const char *argv[] = {"GET", key};
	int rc;
	redisReply *rep = call(r, 2, argv, NULL, &rc);
	if (rep == NULL)
		return rc;
	if (rep->type == REDIS_REPLY_NIL) {
		freeReplyObject(rep);
		return MXTLS_E_NOTFOUND;
	}
	if (rep->type != REDIS_REPLY_STRING || rep->len >= cap ||
	    memchr(rep->str, '\0', rep->len) != NULL)
		return wrong_type(r, rep, "GET");
	memcpy(buf, rep->str, rep->len);
	buf[rep->len] = '\0';
	freeReplyObject(rep);
	return MXTLS_OK;
}
