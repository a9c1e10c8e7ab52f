/* SPDX-License-Identifier: MIT */
/* Unit tests for the maildrop (delivery/delivery_drop*.c): the drop file parser (hostile input
 * first), its writer (round trip), and pickup of hostile and good drop files into a queue on a
 * temporary directory (as root: the files are given other owners with chown). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mxtls/mxtls.h>

#include "delivery/delivery_drop.h"
#include "delivery/delivery_queue.h"
#include "util/util_file.h"
#include "test_main.h"

#define NOLEN ((size_t)-1)
#define HDR   "MXTLS-DROP 1\n"

/* ---- the parser: hostile and malformed first ---- */

static const struct parse_case {
	const char *in;
	size_t len; /* NOLEN: strlen(in) */
	int rc;
	const char *why; /* substring of the reason */
} parse_cases[] = {
	{"", NOLEN, MXTLS_E_TRUNCATED, "first line"},
	{"MXTLS-DROP", NOLEN, MXTLS_E_TRUNCATED, "first line"},
	{"MXTLS-DROP 2\nF0\nM0:", NOLEN, MXTLS_E_SYNTAX, "version 1"},
	{"MXTLS-DROP 1\r\nF0\nM0:", NOLEN, MXTLS_E_SYNTAX, "version 1"},
	{"From: a@b\n\nhello\n", NOLEN, MXTLS_E_SYNTAX, "version 1"},
	{HDR, NOLEN, MXTLS_E_TRUNCATED, "flags"},
	{HDR "M0:", NOLEN, MXTLS_E_SYNTAX, "flags"},
	{HDR "F", NOLEN, MXTLS_E_TRUNCATED, "number"},
	{HDR "F\nM0:", NOLEN, MXTLS_E_SYNTAX, "number is missing"},
	{HDR "F4\nM0:", NOLEN, MXTLS_E_SYNTAX, "unknown flag"},
	{HDR "F-1\nM0:", NOLEN, MXTLS_E_SYNTAX, "number is missing"},
	{HDR "F01\nM0:", NOLEN, MXTLS_E_SYNTAX, "leading zero"},
	{HDR "F0 \nM0:", NOLEN, MXTLS_E_SYNTAX, "wrong byte"},
	{HDR "F0\n", NOLEN, MXTLS_E_TRUNCATED, "out of order"},
	{HDR "F0\nQ1:x\nM0:", NOLEN, MXTLS_E_SYNTAX, "out of order"},
	{HDR "F0\nN1:x\nS1:y\nM0:", NOLEN, MXTLS_E_SYNTAX, "out of order"},
	{HDR "F0\nS1:x\nS1:y\nM0:", NOLEN, MXTLS_E_SYNTAX, "out of order"},
	{HDR "F0\nR1:a\nN1:x\nM0:", NOLEN, MXTLS_E_SYNTAX, "out of order"},
	{HDR "F0\nR1:a\nM0:\nR1:b\n", NOLEN, MXTLS_E_SYNTAX, "after the message"},
	{HDR "F0\nR00:\nM0:", NOLEN, MXTLS_E_SYNTAX, "leading zero"},
	{HDR "F0\nR12345678901:x\nM0:", NOLEN, MXTLS_E_LIMIT, "10 digits"},
	{HDR "F0\nR16385:x\nM0:", NOLEN, MXTLS_E_LIMIT, "cap"},
	{HDR "F0\nR3:a\0b\nM0:", sizeof(HDR "F0\nR3:a\0b\nM0:") - 1, MXTLS_E_SYNTAX, "NUL"},
	{HDR "F0\nS1:\0\nM0:", sizeof(HDR "F0\nS1:\0\nM0:") - 1, MXTLS_E_SYNTAX, "NUL"},
	{HDR "F0\nR3:abcX", NOLEN, MXTLS_E_SYNTAX, "line feed"},
	{HDR "F0\nR5:ab", NOLEN, MXTLS_E_TRUNCATED, "inside a field"},
	{HDR "F0\nR5", NOLEN, MXTLS_E_TRUNCATED, "inside a number"},
	{HDR "F0\nM5:abc", NOLEN, MXTLS_E_TRUNCATED, "inside the message"},
	{HDR "F0\nM0:x", NOLEN, MXTLS_E_SYNTAX, "after the message"},
	{HDR "F0\nM1x", NOLEN, MXTLS_E_SYNTAX, "wrong byte"},
	{HDR "F0\nM209715201:", NOLEN, MXTLS_E_LIMIT, "larger"},
	{HDR "F0\nM9999999999:", NOLEN, MXTLS_E_LIMIT, "larger"},
	{HDR "F0\nM18446744073709551617:", NOLEN, MXTLS_E_LIMIT, "10 digits"},
};

START_TEST(parse_rejects)
{
	const struct parse_case *c = &parse_cases[_i];
	size_t len = c->len == NOLEN ? strlen(c->in) : c->len;
	struct delivery_drop d = {.flags = 77};
	const char *why = NULL;
	int rc = delivery_drop_parse(c->in, len, &d, &why);
	ck_assert_msg(rc == c->rc, "case %d: rc %d (%s)", _i, rc, why ? why : "-");
	ck_assert_msg(why != NULL && strstr(why, c->why) != NULL, "case %d: why '%s'", _i,
		      why ? why : "(null)");
	ck_assert_uint_eq(d.flags, 77); /* all or nothing: untouched */
}
END_TEST

START_TEST(parse_too_many_rcpt)
{
	struct util_buf b;
	util_buf_init(&b, DELIVERY_DROP_HEAD_MAX * 2);
	ck_assert_int_eq(util_buf_append_str(&b, HDR "F0\n"), MXTLS_OK);
	for (int i = 0; i <= MXTLS_QUEUE_RCPT_MAX; i++)
		ck_assert_int_eq(util_buf_append_str(&b, "R1:a\n"), MXTLS_OK);
	ck_assert_int_eq(util_buf_append_str(&b, "M0:"), MXTLS_OK);
	struct delivery_drop d;
	const char *why;
	ck_assert_int_eq(delivery_drop_parse(b.data, b.len, &d, &why), MXTLS_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(why, "too many"));
	util_buf_free(&b);
}
END_TEST

START_TEST(parse_head_cap)
{
	/* 70 recipients of 16 KiB: each within its cap, together beyond the head's. */
	struct util_buf b;
	util_buf_init(&b, DELIVERY_DROP_HEAD_MAX * 2);
	char *big = malloc(DELIVERY_DROP_FIELD_MAX + 1);
	memset(big, 'a', DELIVERY_DROP_FIELD_MAX);
	big[DELIVERY_DROP_FIELD_MAX] = '\0';
	char head[32];
	snprintf(head, sizeof head, "R%u:", DELIVERY_DROP_FIELD_MAX);
	ck_assert_int_eq(util_buf_append_str(&b, HDR "F0\n"), MXTLS_OK);
	for (int i = 0; i < 70; i++) {
		util_buf_append_str(&b, head);
		util_buf_append_str(&b, big);
		util_buf_append_str(&b, "\n");
	}
	util_buf_append_str(&b, "M0:");
	struct delivery_drop d;
	const char *why;
	ck_assert_int_eq(delivery_drop_parse(b.data, b.len, &d, &why), MXTLS_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(why, "before the message"));
	/* The writer refuses to make such a file. */
	const char *rcpt[70];
	for (int i = 0; i < 70; i++)
		rcpt[i] = big;
	struct mxtls_submission s = {.rcpt = rcpt, .nrcpt = 70};
	util_buf_reset(&b);
	ck_assert_int_eq(delivery_drop_format_head(&s, &b), MXTLS_E_INVAL);
	free(big);
	util_buf_free(&b);
}
END_TEST

static const struct parse_ok_case {
	const char *in;
	size_t len;
	unsigned flags;
	const char *sender, *name, *r0, *r1;
	size_t nrcpt;
	const char *msg;
	size_t msg_len;
} parse_ok_cases[] = {
	{HDR "F0\nM0:", NOLEN, 0, NULL, NULL, NULL, NULL, 0, "", 0},
	{HDR "F3\nS0:\nN0:\nM2:\0\n", sizeof(HDR "F3\nS0:\nN0:\nM2:\0\n") - 1, 3, "", "", NULL,
	 NULL, 0, "\0\n", 2},
	{HDR "F2\nS5:a@b.c\nN3:J\"D\nR9:root, bob\nR1:x\nM6:x\r\n.\n\n", NOLEN, 2, "a@b.c",
	 "J\"D", "root, bob", "x", 2, "x\r\n.\n\n", 6},
	/* A sender with a line feed parses (the sendmail rules refuse it later, not the format). */
	{HDR "F0\nS3:a\nb\nR1:x\nM1:M", NOLEN, 0, "a\nb", NULL, "x", NULL, 1, "M", 1},
};

START_TEST(parse_accepts)
{
	const struct parse_ok_case *c = &parse_ok_cases[_i];
	size_t len = c->len == NOLEN ? strlen(c->in) : c->len;
	struct delivery_drop d;
	const char *why = NULL;
	ck_assert_int_eq(delivery_drop_parse(c->in, len, &d, &why), MXTLS_OK);
	ck_assert_ptr_null(why);
	ck_assert_uint_eq(d.flags, c->flags);
	if (c->sender == NULL)
		ck_assert_ptr_null(d.sender);
	else
		ck_assert_str_eq(d.sender, c->sender);
	if (c->name == NULL)
		ck_assert_ptr_null(d.full_name);
	else
		ck_assert_str_eq(d.full_name, c->name);
	ck_assert_uint_eq(d.nrcpt, c->nrcpt);
	if (c->nrcpt > 0)
		ck_assert_str_eq(d.rcpt[0], c->r0);
	if (c->nrcpt > 1)
		ck_assert_str_eq(d.rcpt[1], c->r1);
	ck_assert_uint_eq(d.msg_len, c->msg_len);
	ck_assert_int_eq(memcmp(d.msg, c->msg, c->msg_len), 0);
	ck_assert_ptr_eq(d.msg + d.msg_len, c->in + len);
	delivery_drop_free(&d);
	delivery_drop_free(NULL);
}
END_TEST

START_TEST(format_round_trip)
{
	const char *rcpt[] = {"bob@example.com", "Carol <c@example.org>, root", ""};
	static const char msg[] = "Subject: x\n\nbinary \0\377 and\r\n.\r\n";
	struct mxtls_submission s = {.data = msg,
				     .len = sizeof msg - 1,
				     .sender = "",
				     .full_name = "Jane \"JJ\" Doe",
				     .rcpt = rcpt,
				     .nrcpt = 3,
				     .flags = MXTLS_SUBMIT_DOT_ENDS | MXTLS_SUBMIT_RCPT_FROM_HEADERS,
				     .login = "never-written",
				     .host = "never.example"};
	struct util_buf b;
	util_buf_init(&b, DELIVERY_DROP_FILE_MAX);
	ck_assert_int_eq(delivery_drop_format_head(&s, &b), MXTLS_OK);
	ck_assert_ptr_null(strstr(b.data, "never"));
	ck_assert_int_eq(util_buf_append(&b, msg, sizeof msg - 1), MXTLS_OK);
	struct delivery_drop d;
	const char *why;
	ck_assert_int_eq(delivery_drop_parse(b.data, b.len, &d, &why), MXTLS_OK);
	ck_assert_uint_eq(d.flags, s.flags);
	ck_assert_str_eq(d.sender, "");
	ck_assert_str_eq(d.full_name, s.full_name);
	ck_assert_uint_eq(d.nrcpt, 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_str_eq(d.rcpt[i], rcpt[i]);
	ck_assert_uint_eq(d.msg_len, sizeof msg - 1);
	ck_assert_int_eq(memcmp(d.msg, msg, sizeof msg - 1), 0);
	delivery_drop_free(&d);
	/* The writer's refusals. */
	util_buf_reset(&b);
	s.flags = 4;
	ck_assert_int_eq(delivery_drop_format_head(&s, &b), MXTLS_E_INVAL);
	s.flags = 0;
	s.nrcpt = MXTLS_QUEUE_RCPT_MAX + 1;
	ck_assert_int_eq(delivery_drop_format_head(&s, &b), MXTLS_E_INVAL);
	util_buf_free(&b);
}
END_TEST

/* ---- pickup, on a queue in a temporary directory ---- */

static char logbuf[16384];
static int64_t clock_now;
static const uid_t NOBODY = 65534;
static const uid_t NO_PASSWD = 54321;

static int64_t test_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

static void log_line(void *arg, enum mxtls_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	strncat(logbuf, line, sizeof logbuf - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static struct mxtls_ctx *new_ctx(void)
{
	struct mxtls_config *cfg;
	struct mxtls_ctx *ctx;
	char dir[600];
	snprintf(dir, sizeof dir, "%s/state", test_tmp_root);
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	ck_assert_int_eq(mxtls_config_set(cfg, "state-dir", dir, NULL, 0), MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, NULL, 0), MXTLS_OK);
	mxtls_config_free(cfg);
	clock_now = time(NULL);
	mxtls_ctx_set_clock(ctx, test_clock, NULL);
	mxtls_ctx_set_log(ctx, MXTLS_LOG_INFO, log_line, NULL);
	logbuf[0] = '\0';
	return ctx;
}

static void path_of(char *out, size_t len, const char *sub, const char *name)
{
	snprintf(out, len, "%s/state/queue/%s%s%s", test_tmp_root, sub, name ? "/" : "",
		 name ? name : "");
}

/* Writes bytes as file sub/name owned by uid (as root). */
static void put_file(const char *sub, const char *name, const char *bytes, size_t len, uid_t uid)
{
	char p[700];
	path_of(p, sizeof p, sub, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0640);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	ck_assert_int_eq(fchown(fd, uid, uid), 0);
	close(fd);
}

static const char good[] = HDR "F0\nR15:bob@example.com\nM19:Subject: hi\n\nhello\n";

/* Entries of sub/, sorted, joined by " ". */
static void entries(const char *sub, char *out, size_t len)
{
	char p[700];
	path_of(p, sizeof p, sub, NULL);
	struct dirent **names;
	int n = scandir(p, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
			strncat(out, names[i]->d_name, len - strlen(out) - 2);
			strcat(out, " ");
		}
		free(names[i]);
	}
	free(names);
}

static size_t queued(struct mxtls_queue *q, const char *want_rcpt)
{
	struct mxtls_queue_list *l;
	char err[256];
	ck_assert_int_eq(mxtls_queue_list(q, NULL, &l, err, sizeof err), MXTLS_OK);
	size_t n = mxtls_queue_list_count(l), found = 0;
	for (size_t i = 0; i < n; i++)
		if (want_rcpt != NULL && strcmp(mxtls_queue_list_rcpt(l, i, 0), want_rcpt) == 0)
			found++;
	mxtls_queue_list_free(l);
	return want_rcpt != NULL ? found : n;
}

enum hostile_kind {
	H_SYMLINK,
	H_FIFO,
	H_HARDLINK,
	H_OVERSIZED,
	H_GARBAGE,
	H_TRUNCATED,
	H_ROOT_OWNED,
	H_NO_PASSWD,
	H_DIRECTORY,
	H_REFUSED,
};

static const struct hostile_case {
	enum hostile_kind kind;
	const char *reason; /* in the log line */
} hostile_cases[] = {
	{H_SYMLINK, "reason=\"a symbolic link\""},
	{H_FIFO, "reason=\"not a regular file\""},
	{H_HARDLINK, "reason=\"hard-linked"},
	{H_OVERSIZED, "reason=\"too large\""},
	{H_GARBAGE, "reason=\"not a drop file: not a drop file of version 1\""},
	{H_TRUNCATED, "reason=\"not a drop file: the file ends inside the message\""},
	{H_ROOT_OWNED, "reason=\"owned by root or the queue's owner\""},
	{H_NO_PASSWD, "reason=\"the owner has no passwd entry\""},
	{H_DIRECTORY, "reason=\"not a regular file\""},
	{H_REFUSED, "reason=\"refused by the sendmail rules: no recipient"},
};

/* Makes maildrop/evil of the given kind; every one but the garbage holds a valid drop file, so
 * that only the check under test can refuse it. */
static void plant(enum hostile_kind kind)
{
	char p[700], other[700];
	path_of(p, sizeof p, DELIVERY_DROP_DIR, "evil");
	snprintf(other, sizeof other, "%s/elsewhere", test_tmp_root);
	int fd;
	switch (kind) {
	case H_SYMLINK:
		fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0640);
		ck_assert_int_eq(write(fd, good, sizeof good - 1), (ssize_t)(sizeof good - 1));
		ck_assert_int_eq(fchown(fd, NOBODY, NOBODY), 0);
		close(fd);
		ck_assert_int_eq(symlink(other, p), 0);
		ck_assert_int_eq(lchown(p, NOBODY, NOBODY), 0);
		break;
	case H_FIFO:
		ck_assert_int_eq(mkfifo(p, 0640), 0);
		ck_assert_int_eq(chown(p, NOBODY, NOBODY), 0);
		break;
	case H_HARDLINK:
		put_file(DELIVERY_DROP_DIR, "evil", good, sizeof good - 1, NOBODY);
		ck_assert_int_eq(link(p, other), 0);
		break;
	case H_OVERSIZED:
		put_file(DELIVERY_DROP_DIR, "evil", good, sizeof good - 1, NOBODY);
		ck_assert_int_eq(truncate(p, (off_t)DELIVERY_DROP_FILE_MAX + 1), 0);
		break;
	case H_GARBAGE:
		put_file(DELIVERY_DROP_DIR, "evil", "\377garbage\0", 10, NOBODY);
		break;
	case H_TRUNCATED:
		put_file(DELIVERY_DROP_DIR, "evil", good, sizeof good - 2, NOBODY);
		break;
	case H_ROOT_OWNED:
		put_file(DELIVERY_DROP_DIR, "evil", good, sizeof good - 1, 0);
		break;
	case H_NO_PASSWD:
		ck_assert_ptr_null(getpwuid(NO_PASSWD));
		put_file(DELIVERY_DROP_DIR, "evil", good, sizeof good - 1, NO_PASSWD);
		break;
	case H_DIRECTORY:
		ck_assert_int_eq(mkdir(p, 0700), 0);
		ck_assert_int_eq(chown(p, NOBODY, NOBODY), 0);
		break;
	case H_REFUSED: {
		static const char refused[] = HDR "F1\nM12:Subject: x\n\n";
		put_file(DELIVERY_DROP_DIR, "evil", refused, sizeof refused - 1, NOBODY);
		break;
	}
	}
}

START_TEST(pickup_sets_aside_hostile)
{
	if (geteuid() != 0)
		return; /* needs chown; test-maildrop-cli.sh says SKIP likewise */
	const struct hostile_case *c = &hostile_cases[_i];
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", files[512];
	ck_assert_int_eq(mxtls_queue_open(ctx, 0, &q, err, sizeof err), MXTLS_OK);
	put_file(DELIVERY_DROP_DIR, "good1", good, sizeof good - 1, NOBODY);
	plant(c->kind);
	put_file(DELIVERY_DROP_DIR, "good2", good, sizeof good - 1, NOBODY);
	ck_assert_uint_eq(mxtls_queue_maildrop_count(q), 3);
	size_t taken = 99;
	ck_assert_int_eq(mxtls_queue_pickup(q, 100, &taken, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(taken, 3);
	entries(DELIVERY_DROP_CORRUPT, files, sizeof files);
	ck_assert_str_eq(files, "evil ");
	entries(DELIVERY_DROP_DIR, files, sizeof files);
	ck_assert_str_eq(files, "");
	entries(DELIVERY_DROP_CLAIMED, files, sizeof files);
	ck_assert_str_eq(files, "");
	ck_assert_uint_eq(queued(q, "bob@example.com"), 2);
	ck_assert_uint_eq(queued(q, NULL), 2);
	char want[200];
	snprintf(want, sizeof want, "event=maildrop-set-aside file=evil uid=%u",
		 c->kind == H_ROOT_OWNED ? 0 : c->kind == H_NO_PASSWD ? NO_PASSWD : NOBODY);
	ck_assert_msg(strstr(logbuf, want) != NULL, "log: %s", logbuf);
	ck_assert_msg(strstr(logbuf, c->reason) != NULL, "log: %s", logbuf);
	ck_assert_uint_eq(mxtls_queue_maildrop_count(q), 0);
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

START_TEST(pickup_queues_with_owner_login)
{
	if (geteuid() != 0)
		return;
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", host[256] = "";
	ck_assert_int_eq(mxtls_queue_open(ctx, 0, &q, err, sizeof err), MXTLS_OK);
	static const char with_f[] = HDR "F0\nS16:boss@example.com\nR15:bob@example.com\nM3:x\n\n";
	put_file(DELIVERY_DROP_DIR, "a", good, sizeof good - 1, NOBODY);
	put_file(DELIVERY_DROP_DIR, "b", with_f, sizeof with_f - 1, NOBODY);
	size_t taken;
	ck_assert_int_eq(mxtls_queue_pickup(q, 10, &taken, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(taken, 2);
	gethostname(host, sizeof host - 1);
	char nobody_at[300];
	snprintf(nobody_at, sizeof nobody_at, "nobody@%s", host);
	struct mxtls_queue_list *l;
	ck_assert_int_eq(mxtls_queue_list(q, NULL, &l, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(mxtls_queue_list_count(l), 2);
	int seen = 0;
	for (size_t i = 0; i < 2; i++) {
		const char *sender = mxtls_queue_list_sender(l, i);
		char *body;
		size_t len;
		ck_assert_int_eq(mxtls_queue_body(q, mxtls_queue_list_id(l, i), &body, &len),
				 MXTLS_OK);
		if (strcmp(sender, nobody_at) == 0) {
			seen |= 1;
			ck_assert_ptr_null(strstr(body, "X-Authentication-Warning"));
			ck_assert_ptr_nonnull(strstr(body, "\r\n\r\nhello\r\n"));
		} else {
			ck_assert_str_eq(sender, "boss@example.com");
			seen |= 2;
			char want[400];
			snprintf(want, sizeof want,
				 "X-Authentication-Warning: %s: nobody set sender to "
				 "boss@example.com using -f\r\n",
				 host);
			ck_assert_int_eq(strncmp(body, want, strlen(want)), 0);
		}
		mxtls_free(body);
	}
	ck_assert_int_eq(seen, 3);
	mxtls_queue_list_free(l);
	ck_assert_ptr_nonnull(strstr(logbuf, "event=maildrop-queued"));
	ck_assert_ptr_nonnull(strstr(logbuf, "uid=65534 login=nobody sender=boss@example.com"));
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

struct fault_plan {
	const char *point;
	enum delivery_fault what;
};

static enum delivery_fault inject(void *arg, const char *point)
{
	const struct fault_plan *p = arg;
	return strcmp(point, p->point) == 0 ? p->what : DELIVERY_FAULT_NONE;
}

START_TEST(pickup_keeps_file_when_queue_fails)
{
	if (geteuid() != 0)
		return;
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", files[512];
	ck_assert_int_eq(mxtls_queue_open(ctx, 0, &q, err, sizeof err), MXTLS_OK);
	put_file(DELIVERY_DROP_DIR, "a", good, sizeof good - 1, NOBODY);
	put_file(DELIVERY_DROP_DIR, "b", good, sizeof good - 1, NOBODY);
	/* The spool fails as a full disk would: pickup stops, nothing is lost or set aside. */
	struct fault_plan plan = {DELIVERY_FAULT_TEMP_WRITTEN, DELIVERY_FAULT_FAIL};
	q->fault = inject;
	q->fault_arg = &plan;
	size_t taken = 99;
	ck_assert_int_eq(mxtls_queue_pickup(q, 10, &taken, err, sizeof err), MXTLS_E_IO);
	ck_assert_uint_eq(taken, 0);
	ck_assert_ptr_nonnull(strstr(err, "injected"));
	entries(DELIVERY_DROP_CORRUPT, files, sizeof files);
	ck_assert_str_eq(files, "");
	ck_assert_uint_eq(queued(q, NULL), 0);
	ck_assert_uint_eq(mxtls_queue_maildrop_count(q), 2);
	/* The next call (the disk has room again) takes both, the claimed one first. */
	q->fault = NULL;
	ck_assert_int_eq(mxtls_queue_pickup(q, 10, &taken, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(taken, 2);
	ck_assert_uint_eq(queued(q, NULL), 2);
	ck_assert_uint_eq(mxtls_queue_maildrop_count(q), 0);
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

START_TEST(pickup_max_and_stale_temp)
{
	if (geteuid() != 0)
		return;
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", files[512];
	ck_assert_int_eq(mxtls_queue_open(ctx, 0, &q, err, sizeof err), MXTLS_OK);
	put_file(DELIVERY_DROP_DIR, "a", good, sizeof good - 1, NOBODY);
	put_file(DELIVERY_DROP_DIR, "b", good, sizeof good - 1, NOBODY);
	put_file(DELIVERY_DROP_DIR, "c", good, sizeof good - 1, NOBODY);
	put_file(DELIVERY_DROP_DIR, ".tmp-0123", good, 5, NOBODY); /* being written */
	size_t taken;
	ck_assert_int_eq(mxtls_queue_pickup(q, 2, &taken, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(taken, 2);
	ck_assert_uint_eq(mxtls_queue_maildrop_count(q), 1);
	entries(DELIVERY_DROP_DIR, files, sizeof files);
	ck_assert_int_eq(strncmp(files, ".tmp-0123 ", 10), 0); /* young: left alone */
	/* An hour on, a temporary file is a killed writer's leftover. */
	clock_now += DELIVERY_DROP_TEMP_MAX_AGE + 1;
	ck_assert_int_eq(mxtls_queue_pickup(q, 2, &taken, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(taken, 1);
	entries(DELIVERY_DROP_DIR, files, sizeof files);
	ck_assert_str_eq(files, "");
	ck_assert_ptr_nonnull(strstr(logbuf, "event=maildrop-temp-removed file=.tmp-0123 uid=65534"));
	ck_assert_uint_eq(queued(q, NULL), 3);
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

START_TEST(pickup_one_at_a_time)
{
	if (geteuid() != 0)
		return;
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q1, *q2;
	char err[512] = "";
	ck_assert_int_eq(mxtls_queue_open(ctx, 0, &q1, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(mxtls_queue_open(ctx, 0, &q2, err, sizeof err), MXTLS_OK);
	put_file(DELIVERY_DROP_DIR, "a", good, sizeof good - 1, NOBODY);
	/* q1 is picking up (holds the lock): q2's call does nothing, and says so by taken 0. */
	ck_assert_int_eq(flock(q1->drop.claim_fd, LOCK_EX | LOCK_NB), 0);
	size_t taken = 99;
	ck_assert_int_eq(mxtls_queue_pickup(q2, 10, &taken, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(taken, 0);
	ck_assert_uint_eq(mxtls_queue_maildrop_count(q2), 1);
	ck_assert_int_eq(flock(q1->drop.claim_fd, LOCK_UN), 0);
	ck_assert_int_eq(mxtls_queue_pickup(q2, 10, &taken, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(taken, 1);
	ck_assert_uint_eq(queued(q2, NULL), 1);
	mxtls_queue_close(q2);
	mxtls_queue_close(q1);
	mxtls_ctx_free(ctx);
}
END_TEST

START_TEST(queue_dirs_modes)
{
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", p[700];
	struct stat st;
	/* An older queue: 0700 and an index made 0644. */
	snprintf(p, sizeof p, "%s/state", test_tmp_root);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	path_of(p, sizeof p, "", NULL);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	path_of(p, sizeof p, "index.sqlite", NULL);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	fchmod(fd, 0644);
	close(fd);
	ck_assert_int_eq(mxtls_queue_open(ctx, 0, &q, err, sizeof err), MXTLS_OK);
	static const struct {
		const char *sub;
		mode_t mode;
	} want[] = {{"", 0711},
		    {DELIVERY_DROP_DIR, 03733},
		    {DELIVERY_DROP_CLAIMED, 0700},
		    {DELIVERY_DROP_CORRUPT, 0700},
		    {"index.sqlite", 0600}};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		path_of(p, sizeof p, want[i].sub, NULL);
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_msg((st.st_mode & 07777) == want[i].mode, "%s: %o", want[i].sub,
			      (unsigned)(st.st_mode & 07777));
	}
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

/* The databases of a state directory that is searchable by all stay private. */
START_TEST(private_files)
{
	char p[700], wal[720], link_path[700], err[256];
	struct stat st;
	snprintf(p, sizeof p, "%s/db.sqlite", test_tmp_root);
	snprintf(wal, sizeof wal, "%s-wal", p);
	ck_assert_int_eq(util_file_private(p, err, sizeof err), 0); /* created */
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(chmod(p, 0644), 0); /* made by an older mxtls */
	int fd = open(wal, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	fchmod(fd, 0664);
	close(fd);
	ck_assert_int_eq(util_file_private(p, err, sizeof err), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(wal, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* Never through a symbolic link. */
	snprintf(link_path, sizeof link_path, "%s/link.sqlite", test_tmp_root);
	ck_assert_int_eq(symlink(p, link_path), 0);
	ck_assert_int_eq(util_file_private(link_path, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "link.sqlite"));
}
END_TEST

static Suite *drop_suite(void)
{
	Suite *s = suite_create("drop");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, parse_rejects, 0, ARRAY_LEN(parse_cases));
	tcase_add_test(tc, parse_too_many_rcpt);
	tcase_add_test(tc, parse_head_cap);
	tcase_add_loop_test(tc, parse_accepts, 0, ARRAY_LEN(parse_ok_cases));
	tcase_add_test(tc, format_round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("pickup");
	tcase_add_checked_fixture(tc, test_tmp_setup, test_tmp_teardown);
	tcase_add_loop_test(tc, pickup_sets_aside_hostile, 0, ARRAY_LEN(hostile_cases));
	tcase_add_test(tc, pickup_queues_with_owner_login);
	tcase_add_test(tc, pickup_keeps_file_when_queue_fails);
	tcase_add_test(tc, pickup_max_and_stale_temp);
	tcase_add_test(tc, pickup_one_at_a_time);
	tcase_add_test(tc, queue_dirs_modes);
	tcase_add_test(tc, private_files);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(drop_suite)
