/* SPDX-License-Identifier: MIT */
/* The SMTP submission listener on real sockets: a queue in a temporary state directory, the
 * listener on an event loop, Python's smtplib (tests/unit/smtpd_client.py) as the client.  Runs
 * inside a network namespace of its own (tests/net/run-with-dns.sh; the DNS is not used), where
 * it adds a dummy interface 10.9.9.1 to connect from an address that is not loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <event2/event.h>

#include <mxtls/config.h>
#include <mxtls/context.h>
#include <mxtls/error.h>
#include <mxtls/mxtls.h>
#include <mxtls/queue.h>

#include "delivery/delivery_listener.h"
#include "delivery/delivery_queue.h"
#include "test_main.h"

#ifndef SMTPD_CLIENT
#error "SMTPD_CLIENT must name tests/unit/smtpd_client.py"
#endif
#ifndef PYTHON
#error "PYTHON must name a python3"
#endif

extern char **environ;

/* A client that has not finished after this long has hung: the test fails. */
#define WATCHDOG_SECONDS 30

struct env {
	char state[600];
	struct mxtls_ctx *ctx;
	struct mxtls_queue *q;
	struct event_base *base;
	struct delivery_listener *l;
	char queued_id[MXTLS_QUEUE_ID_SIZE];
	int nqueued;
	char log[16384];
	/* the client run */
	char out[1 << 16];
	size_t outlen;
	bool timed_out;
};

static void log_line(void *arg, enum mxtls_log_level level, const char *line)
{
	struct env *e = arg;
	(void)level;
	strncat(e->log, line, sizeof e->log - strlen(e->log) - 2);
	strcat(e->log, "\n");
}

static void on_queued(void *arg, const char *id)
{
	struct env *e = arg;
	snprintf(e->queued_id, sizeof e->queued_id, "%s", id);
	e->nqueued++;
}

/* A queue under state (made when missing) and an event loop. */
static void env_init(struct env *e, const char *state)
{
	memset(e, 0, sizeof *e);
	snprintf(e->state, sizeof e->state, "%s", state);
	mkdir(state, 0700);
	struct mxtls_config *cfg;
	char err[256];
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	ck_assert_int_eq(mxtls_config_set(cfg, "state-dir", state, NULL, 0), MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &e->ctx, NULL, 0), MXTLS_OK);
	mxtls_config_free(cfg);
	mxtls_ctx_set_log(e->ctx, MXTLS_LOG_DEBUG, log_line, e);
	ck_assert_int_eq(mxtls_queue_open(e->ctx, MXTLS_QUEUE_CLEANUP, &e->q, err, sizeof err),
			 MXTLS_OK);
	e->base = event_base_new();
	ck_assert_ptr_nonnull(e->base);
}

static void env_free(struct env *e)
{
	delivery_listener_close(e->l);
	event_base_free(e->base);
	mxtls_queue_close(e->q);
	mxtls_ctx_free(e->ctx);
}

/* A port free on addr now (the namespace is ours alone, so it stays free). */
static unsigned free_port(const char *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	socklen_t len = sizeof sa;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* Opens the listener on "addr:port" for each of n addresses (ports filled in). */
static void env_listen(struct env *e, const char *const *addrs, unsigned *ports, size_t n,
		       const char *const *allow, size_t nallow, unsigned timeout, unsigned maxconn)
{
	char specs[4][64];
	const char *listen[4];
	for (size_t i = 0; i < n; i++) {
		ports[i] = free_port(addrs[i]);
		snprintf(specs[i], sizeof specs[i], "%s:%u", addrs[i], ports[i]);
		listen[i] = specs[i];
	}
	struct delivery_listener_opts o = {
		.listen = listen,
		.nlisten = n,
		.allow = allow,
		.nallow = nallow,
		.hostname = "mx.test",
		.timeout = timeout,
		.max_connections = maxconn,
		.on_queued = on_queued,
		.arg = e,
	};
	char err[256] = "";
	int rc = delivery_listener_open(e->base, e->q, &o, &e->l, err, sizeof err);
	ck_assert_msg(rc == MXTLS_OK, "delivery_listener_open: %s", err);
}

static void on_client_output(evutil_socket_t fd, short what, void *arg)
{
	struct env *e = arg;
	(void)what;
	ssize_t n = read(fd, e->out + e->outlen, sizeof e->out - 1 - e->outlen);
	if (n > 0) {
		e->outlen += (size_t)n;
		e->out[e->outlen] = '\0';
		return;
	}
	if (n < 0 && errno == EINTR)
		return;
	event_base_loopbreak(e->base);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct env *e = arg;
	(void)fd;
	(void)what;
	e->timed_out = true;
	event_base_loopbreak(e->base);
}

/* Runs smtpd_client.py with args (NULL-terminated) while the loop serves it; its stdout goes
 * to e->out.  Returns its exit status. */
static int run_client(struct env *e, const char *const *args)
{
	const char *argv[24] = {PYTHON, SMTPD_CLIENT};
	size_t n = 2;
	for (; args[n - 2] != NULL; n++)
		argv[n] = args[n - 2];
	argv[n] = NULL;
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	pid_t pid;
	ck_assert_int_eq(posix_spawn(&pid, PYTHON, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	e->outlen = 0;
	e->out[0] = '\0';
	e->timed_out = false;
	struct event *rev = event_new(e->base, p[0], EV_READ | EV_PERSIST, on_client_output, e);
	struct event *dog = evtimer_new(e->base, on_watchdog, e);
	struct timeval tv = {WATCHDOG_SECONDS, 0};
	event_add(rev, NULL);
	evtimer_add(dog, &tv);
	event_base_dispatch(e->base);
	event_free(rev);
	event_free(dog);
	close(p[0]);
	if (e->timed_out)
		kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	ck_assert_msg(!e->timed_out, "the client hung; it printed:\n%s", e->out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The entries of STATE/queue/msg joined with '|'. */
static void msg_files(const struct env *e, char *out, size_t cap)
{
	char dir[700];
	snprintf(dir, sizeof dir, "%s/queue/msg", e->state);
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
			strncat(out, names[i]->d_name, cap - strlen(out) - 2);
			strcat(out, "|");
		}
		free(names[i]);
	}
	free(names);
}

/* env_init() in a state directory named after the test, and one listener on 127.0.0.1 (an
 * ephemeral port, written to portstr). */
static void env_start(struct env *e, const char *test, int i, unsigned timeout, unsigned maxconn,
		      char portstr[16])
{
	char state[600];
	snprintf(state, sizeof state, "%s/state-%s-%d", test_tmp_root, test, i);
	env_init(e, state);
	const char *addrs[] = {"127.0.0.1"};
	unsigned port;
	env_listen(e, addrs, &port, 1, NULL, 0, timeout, maxconn);
	snprintf(portstr, 16, "%u", port);
}

static int requiretls_row(void *arg, const struct delivery_due_row *d)
{
	*(int *)arg = d->requiretls ? 1 : 0;
	return 0;
}

/* The REQUIRETLS column of the queue's only message (-1: no row). */
static int requiretls_of(const struct env *e)
{
	int v = -1;
	char err[256];
	ck_assert_int_eq(
		delivery_index_due(e->q->index, INT64_MAX, false, 1, requiretls_row, &v, err, sizeof err),
		MXTLS_OK);
	return v;
}

/* The client's output must contain line (a whole line). */
static void expect_line(const struct env *e, const char *line)
{
	char want[1024];
	snprintf(want, sizeof want, "%s\n", line);
	bool at_start = strncmp(e->out, want, strlen(want)) == 0;
	char mid[1030];
	snprintf(mid, sizeof mid, "\n%s", want);
	ck_assert_msg(at_start || strstr(e->out, mid) != NULL, "no line '%s' in:\n%s", line,
		      e->out);
}

/* ---- tests ---- */

/* smtplib sends one message (REQUIRETLS, two recipients, dot lines, 8-bit): the queue holds
 * exactly it, and the 250 names the id that on_queued reported. */
START_TEST(net_send_one)
{
	struct env e;
	char state[600];
	snprintf(state, sizeof state, "%s/state-%s-%d", test_tmp_root, __func__, _i);
	env_init(&e, state);
	const char *addrs[] = {"127.0.0.1"};
	unsigned port;
	env_listen(&e, addrs, &port, 1, NULL, 0, 0, 0);
	/* With Date and Message-ID, so that the listener adds nothing (net_pipelined checks what
	 * it adds): the stored bytes are the sent ones. */
	static const char body[] = "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@a.test>\r\n"
				   "Subject: listener test\r\n\r\n.leading dot\r\n..two dots\r\n"
				   "\xc3\xa9t\xc3\xa9 8-bit\r\n.\r\n \r\nlast line\r\n";
	char bodyfile[700], portstr[16];
	snprintf(bodyfile, sizeof bodyfile, "%s/body", test_tmp_root);
	write_file(bodyfile, body, sizeof body - 1);
	snprintf(portstr, sizeof portstr, "%u", port);
	const char *args[] = {"send",         "127.0.0.1",  portstr,         bodyfile,
			      "s@a.test",     "REQUIRETLS", "BODY=8BITMIME", "to=r1@b.test",
			      "to=r2@c.test", NULL};
	ck_assert_int_eq(run_client(&e, args), 0);
	expect_line(&e, "EHLO 250");
	expect_line(&e, "EXT pipelining yes");
	expect_line(&e, "EXT size yes");
	expect_line(&e, "EXT 8bitmime yes");
	expect_line(&e, "EXT smtputf8 yes");
	expect_line(&e, "EXT enhancedstatuscodes yes");
	expect_line(&e, "EXT starttls no");
	expect_line(&e, "EXT requiretls no");
	expect_line(&e, "SIZE 209715200");
	expect_line(&e, "MAIL 250 2.1.0 Ok");
	expect_line(&e, "RCPT 250 2.1.5 Ok");
	expect_line(&e, "QUIT 221");
	ck_assert_int_eq(e.nqueued, 1);
	char data_line[100];
	snprintf(data_line, sizeof data_line, "DATA 250 2.0.0 Ok: queued as %s", e.queued_id);
	expect_line(&e, data_line);
	const char *ms = strstr(e.out, "MS ");
	fprintf(stderr, "# one message, end of data to 250: %s", ms ? ms + 3 : "?\n");

	struct mxtls_queue_list *list;
	char err[256];
	ck_assert_int_eq(mxtls_queue_list(e.q, NULL, &list, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(mxtls_queue_list_count(list), 1);
	ck_assert_str_eq(mxtls_queue_list_id(list, 0), e.queued_id);
	ck_assert_str_eq(mxtls_queue_list_sender(list, 0), "s@a.test");
	ck_assert_uint_eq(mxtls_queue_list_rcpt_count(list, 0), 2);
	ck_assert_str_eq(mxtls_queue_list_rcpt(list, 0, 0), "r1@b.test");
	ck_assert_str_eq(mxtls_queue_list_rcpt(list, 0, 1), "r2@c.test");
	mxtls_queue_list_free(list);
	char *data;
	size_t len;
	ck_assert_int_eq(mxtls_queue_body(e.q, e.queued_id, &data, &len), MXTLS_OK);
	ck_assert_uint_eq(len, sizeof body - 1);
	ck_assert_mem_eq(data, body, len);
	mxtls_free(data);
	ck_assert_int_eq(requiretls_of(&e), 1);
	env_free(&e);
}
END_TEST

/* The null sender and a UTF-8 address under SMTPUTF8, and the time per message over 50. */
START_TEST(net_send_many)
{
	struct env e;
	char state[600];
	snprintf(state, sizeof state, "%s/state-%s-%d", test_tmp_root, __func__, _i);
	env_init(&e, state);
	const char *addrs[] = {"127.0.0.1"};
	unsigned port;
	env_listen(&e, addrs, &port, 1, NULL, 0, 0, 0);
	char bodyfile[700], portstr[16];
	snprintf(bodyfile, sizeof bodyfile, "%s/body", test_tmp_root);
	write_file(bodyfile, "x\r\n", 3);
	snprintf(portstr, sizeof portstr, "%u", port);
	const char *utf8[] = {
		"send", "127.0.0.1", portstr, bodyfile, "", "SMTPUTF8", "to=j\xc3\xb6rg@b.test",
		NULL};
	ck_assert_int_eq(run_client(&e, utf8), 0);
	expect_line(&e, "MAIL 250 2.1.0 Ok");
	expect_line(&e, "RCPT 250 2.1.5 Ok");
	ck_assert_int_eq(e.nqueued, 1);
	ck_assert_int_eq(requiretls_of(&e), 0);
	char err[256];
	struct mxtls_queue_list *list;
	ck_assert_int_eq(mxtls_queue_list(e.q, e.queued_id, &list, err, sizeof err), MXTLS_OK);
	ck_assert_str_eq(mxtls_queue_list_sender(list, 0), "");
	ck_assert_str_eq(mxtls_queue_list_rcpt(list, 0, 0), "j\xc3\xb6rg@b.test");
	mxtls_queue_list_free(list);

	const char *many[] = {"many", "127.0.0.1", portstr, "50", NULL};
	ck_assert_int_eq(run_client(&e, many), 0);
	expect_line(&e, "OK 50");
	ck_assert_int_eq(e.nqueued, 51);
	const char *mean = strstr(e.out, "MEAN-MS ");
	fprintf(stderr, "# 50 messages on one connection, mean end of data to 250: %s",
		mean ? mean + 8 : "?\n");
	env_free(&e);
}
END_TEST

/* Everything in one write, the content too (more than RFC 2920 allows a client): the replies
 * come in order, the refused RCPT changes nothing, the message is queued once. */
START_TEST(net_pipelined)
{
	struct env e;
	char portstr[16];
	env_start(&e, __func__, _i, 0, 0, portstr);
	const char *args[] = {"raw",
			      "127.0.0.1",
			      portstr,
			      "-",
			      "EHLO c\\r\\nMAIL FROM:<s@a.test>\\r\\nRCPT TO:<bad>\\r\\n"
			      "RCPT TO:<r@b.test>\\r\\nDATA\\r\\nhello\\r\\n..x\\r\\n.\\r\\n"
			      "RCPT TO:<r@b.test>\\r\\nQUIT\\r\\n",
			      NULL};
	ck_assert_int_eq(run_client(&e, args), 0);
	ck_assert_int_eq(e.nqueued, 1);
	char want[1024];
	snprintf(want, sizeof want,
		 "220 mx.test ESMTP mxtls\\r\\n250-mx.test\\r\\n250-PIPELINING\\r\\n250-SIZE "
		 "209715200\\r\\n250-8BITMIME\\r\\n250-SMTPUTF8\\r\\n250 ENHANCEDSTATUSCODES\\r\\n"
		 "250 2.1.0 Ok\\r\\n501 5.1.3 Bad recipient address syntax\\r\\n250 2.1.5 Ok\\r\\n"
		 "354 End data with <CR><LF>.<CR><LF>\\r\\n250 2.0.0 Ok: queued as %s\\r\\n"
		 "503 5.5.1 Need MAIL before RCPT\\r\\n221 2.0.0 Bye\\r\\n\n",
		 e.queued_id);
	ck_assert_str_eq(e.out, want);
	char *data;
	size_t len;
	ck_assert_int_eq(mxtls_queue_body(e.q, e.queued_id, &data, &len), MXTLS_OK);
	/* No header section: Date and Message-ID are added (RFC 6409 §8.2, §8.3), then the empty
	 * line that ends the header, then the content as sent (unstuffed). */
	static const char tail[] = "@mx.test>\r\n\r\nhello\r\n.x\r\n";
	ck_assert_msg(strncmp(data, "Date: ", 6) == 0 && strstr(data, "\r\nMessage-ID: <") != NULL &&
			      len > sizeof tail && strcmp(data + len - (sizeof tail - 1), tail) == 0,
		      "stored: %s", data);
	mxtls_free(data);

	/* The client half-closes right after its last byte (no QUIT): the replies owed, the
	 * final 250 among them, are still written before the connection goes. */
	const char *shut[] = {
		"raw",
		"127.0.0.1",
		portstr,
		"-",
		"HELO c\\r\\nMAIL FROM:<s@a.test>\\r\\nRCPT TO:<r@b.test>\\r\\nDATA\\r\\n"
		"x\\r\\n.\\r\\n",
		"SHUT",
		NULL};
	ck_assert_int_eq(run_client(&e, shut), 0);
	ck_assert_int_eq(e.nqueued, 2);
	snprintf(
		want, sizeof want,
		"220 mx.test ESMTP mxtls\\r\\n250 mx.test\\r\\n250 2.1.0 Ok\\r\\n250 2.1.5 Ok\\r\\n"
		"354 End data with <CR><LF>.<CR><LF>\\r\\n250 2.0.0 Ok: queued as %s\\r\\n\n",
		e.queued_id);
	ck_assert_str_eq(e.out, want);
	env_free(&e);
}
END_TEST

/* Never an open relay: from 10.9.9.1 (not loopback) 554 5.7.1 at once; with --allow
 * 10.9.9.0/24 the same client is served. */
START_TEST(net_denied)
{
	struct env e;
	char state[600];
	snprintf(state, sizeof state, "%s/state-%s-%d", test_tmp_root, __func__, _i);
	env_init(&e, state);
	const char *addrs[] = {"127.0.0.1", "10.9.9.1"};
	unsigned ports[2];
	env_listen(&e, addrs, ports, 2, NULL, 0, 0, 0);
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%u", ports[1]);
	const char *args[] = {
		"raw",
		"10.9.9.1",
		portstr,
		"10.9.9.1",
		"EHLO c\\r\\nMAIL FROM:<>\\r\\nRCPT TO:<r@b.test>\\r\\nDATA\\r\\nx\\r\\n.\\r\\n",
		NULL};
	ck_assert_int_eq(run_client(&e, args), 0);
	ck_assert_str_eq(e.out, "554 5.7.1 Access denied\\r\\n\n");
	ck_assert_ptr_nonnull(strstr(e.log, "event=smtpd-denied peer=10.9.9.1:"));
	ck_assert_int_eq(e.nqueued, 0);
	char files[256];
	msg_files(&e, files, sizeof files);
	ck_assert_str_eq(files, "");
	delivery_listener_close(e.l);
	e.l = NULL;

	const char *allow[] = {"192.0.2.0/24", "10.9.9.0/24"};
	env_listen(&e, addrs, ports, 2, allow, 2, 0, 0);
	snprintf(portstr, sizeof portstr, "%u", ports[1]);
	const char *args2[] = {"raw", "10.9.9.1", portstr, "10.9.9.1", "QUIT\\r\\n", NULL};
	ck_assert_int_eq(run_client(&e, args2), 0);
	ck_assert_str_eq(e.out, "220 mx.test ESMTP mxtls\\r\\n221 2.0.0 Bye\\r\\n\n");
	env_free(&e);
}
END_TEST

/* A line without CRLF: 500 5.5.2 and closed at the 512-octet cap, whatever follows; a client
 * that sends 4 MB without a line end changes nothing for the next one. */
START_TEST(net_long_line)
{
	struct env e;
	char portstr[16];
	env_start(&e, __func__, _i, 0, 0, portstr);
	const char *args[] = {"raw", "127.0.0.1", portstr, "-", "REPEAT:600:x", NULL};
	ck_assert_int_eq(run_client(&e, args), 0);
	ck_assert_str_eq(e.out, "220 mx.test ESMTP mxtls\\r\\n500 5.5.2 Line too long\\r\\n\n");
	const char *big[] = {"raw", "127.0.0.1", portstr, "-", "REPEAT:4194304:x", NULL};
	ck_assert_int_eq(run_client(&e, big), 0);
	ck_assert_ptr_nonnull(strstr(e.out, "220 mx.test ESMTP mxtls\\r\\n"));
	const char *after[] = {"raw", "127.0.0.1", portstr, "-", "NOOP\\r\\nQUIT\\r\\n", NULL};
	ck_assert_int_eq(run_client(&e, after), 0);
	ck_assert_str_eq(e.out,
			 "220 mx.test ESMTP mxtls\\r\\n250 2.0.0 Ok\\r\\n221 2.0.0 Bye\\r\\n\n");
	env_free(&e);
}
END_TEST

/* An idle client: 421 4.4.2 after the timeout (1 s here), then closed. */
START_TEST(net_timeout)
{
	struct env e;
	char portstr[16];
	env_start(&e, __func__, _i, 1, 0, portstr);
	const char *args[] = {"raw", "127.0.0.1", portstr, "-", "EHLO c\\r\\nMAIL FROM:<>\\r\\n",
			      NULL};
	ck_assert_int_eq(run_client(&e, args), 0);
	ck_assert_ptr_nonnull(strstr(e.out, "250 2.1.0 Ok\\r\\n421 4.4.2 mx.test Timeout, "
					    "closing\\r\\n\n"));
	env_free(&e);
}
END_TEST

/* max_connections 1: a second client at once gets 421 4.7.0. */
START_TEST(net_max_connections)
{
	struct env e;
	char portstr[16];
	env_start(&e, __func__, _i, 0, 1, portstr);
	const char *args[] = {"hold", "127.0.0.1", portstr, NULL};
	ck_assert_int_eq(run_client(&e, args), 0);
	ck_assert_str_eq(e.out, "220 mx.test ESMTP mxtls\\r\\n\n"
				"421 4.7.0 Too many connections, try again later\\r\\n\n");
	env_free(&e);
}
END_TEST

/* Disk full (a 1600 KiB tmpfs in a mount namespace of this test's own, 1 MiB of it kept for
 * deliveries: delivery_spool.h): a small message is
 * queued, a 1 MB one gets 452 4.3.1 and leaves nothing behind. */
START_TEST(net_disk_full)
{
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	char dir[600], state[700];
	snprintf(dir, sizeof dir, "%s/full", test_tmp_root);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", dir, "tmpfs", 0, "size=1600k"), 0);
	snprintf(state, sizeof state, "%s/state", dir);
	struct env e;
	env_init(&e, state);
	const char *addrs[] = {"127.0.0.1"};
	unsigned port;
	env_listen(&e, addrs, &port, 1, NULL, 0, 0, 0);
	char portstr[16], small[700], big[700];
	snprintf(portstr, sizeof portstr, "%u", port);
	snprintf(small, sizeof small, "%s/small", test_tmp_root);
	snprintf(big, sizeof big, "%s/big", test_tmp_root);
	static const char small_msg[] = "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n"
					"Message-ID: <s1@a.test>\r\nSubject: small\r\n\r\nx\r\n";
	write_file(small, small_msg, sizeof small_msg - 1);
	size_t blen = 1000000;
	char *b = malloc(blen);
	for (size_t i = 0; i < blen; i += 100) {
		memset(b + i, 'a', 98);
		memcpy(b + i + 98, "\r\n", 2);
	}
	write_file(big, b, blen);
	free(b);
	const char *a1[] = {"send", "127.0.0.1", portstr, small, "s@a.test", "to=r@b.test", NULL};
	ck_assert_int_eq(run_client(&e, a1), 0);
	ck_assert_msg(e.nqueued == 1, "not queued:\n%s\n%s", e.out, e.log);
	char before[256], after[256];
	msg_files(&e, before, sizeof before);
	const char *a2[] = {"send", "127.0.0.1", portstr, big, "s@a.test", "to=r@b.test", NULL};
	ck_assert_int_eq(run_client(&e, a2), 0);
	expect_line(&e, "DATA 452 4.3.1 Insufficient system storage");
	ck_assert_int_eq(e.nqueued, 1);
	msg_files(&e, after, sizeof after);
	ck_assert_str_eq(after, before);
	struct mxtls_queue_list *list;
	char err[256];
	ck_assert_int_eq(mxtls_queue_list(e.q, NULL, &list, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(mxtls_queue_list_count(list), 1);
	ck_assert_int_eq(mxtls_queue_list_size(list, 0), (int64_t)sizeof small_msg - 1);
	mxtls_queue_list_free(list);
	ck_assert_ptr_nonnull(strstr(e.log, "event=smtpd-queue-failed"));
	env_free(&e);
}
END_TEST

/* Options refused with a clear reason; nothing listens after a failure. */
static const struct open_case {
	const char *listen[2];
	size_t nlisten;
	const char *allow;
	int rc;
	const char *reason;
} open_cases[] = {
	{{NULL}, 0, NULL, MXTLS_E_CONFIG, "no address"},
	{{"127.0.0.1"}, 1, NULL, MXTLS_E_CONFIG, "expected IPV4:PORT"},
	{{"127.0.0.1:"}, 1, NULL, MXTLS_E_CONFIG, "expected IPV4:PORT"},
	{{"127.0.0.1:0"}, 1, NULL, MXTLS_E_CONFIG, "expected IPV4:PORT"},
	{{"127.0.0.1:65536"}, 1, NULL, MXTLS_E_CONFIG, "expected IPV4:PORT"},
	{{"127.0.0.1:2x"}, 1, NULL, MXTLS_E_CONFIG, "expected IPV4:PORT"},
	{{"localhost:2525"}, 1, NULL, MXTLS_E_CONFIG, "not a name"},
	{{"[::1:2525"}, 1, NULL, MXTLS_E_CONFIG, "expected IPV4:PORT"},
	{{"[127.0.0.1]:2525"}, 1, NULL, MXTLS_E_CONFIG, "expected IPV4:PORT"},
	{{"127.0.0.1:2525", "bad"}, 2, NULL, MXTLS_E_CONFIG, "--listen bad"},
	{{"127.0.0.1:2525"}, 1, "10.1.0.0/8", MXTLS_E_CONFIG, "--allow 10.1.0.0/8: host bits"},
	{{"127.0.0.1:2525"}, 1, "10.0.0.0/40", MXTLS_E_CONFIG, "longer than the address"},
	{{"127.0.0.1:2525"}, 1, "any", MXTLS_E_CONFIG, "--allow any"},
	{{"192.0.2.1:2525"}, 1, NULL, MXTLS_E_IO, "--listen 192.0.2.1:2525"},
	{{"127.0.0.1:2525", "127.0.0.1:2525"}, 2, NULL, MXTLS_E_IO, "in use"},
};

START_TEST(net_open_errors)
{
	const struct open_case *t = &open_cases[_i];
	struct env e;
	char state[600];
	snprintf(state, sizeof state, "%s/state-%s-%d", test_tmp_root, __func__, _i);
	env_init(&e, state);
	struct delivery_listener_opts o = {
		.listen = t->listen,
		.nlisten = t->nlisten,
		.allow = &t->allow,
		.nallow = t->allow != NULL ? 1 : 0,
	};
	char err[256] = "";
	struct delivery_listener *l = (struct delivery_listener *)&e; /* must stay untouched */
	ck_assert_int_eq(delivery_listener_open(e.base, e.q, &o, &l, err, sizeof err), t->rc);
	ck_assert_ptr_eq(l, (struct delivery_listener *)&e);
	ck_assert_msg(strstr(err, t->reason) != NULL, "reason '%s', expected '%s'", err, t->reason);
	/* Nothing listens: 2525 can be bound now. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(2525)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	env_free(&e);
}
END_TEST

/* 10.9.9.1, an address that is not loopback, in the namespace: on a dummy interface, or on lo
 * where the kernel has no dummy driver (the address is what the listener judges). */
static void add_dummy(void)
{
	if (system("{ ip link add mxtls-d0 type dummy && ip addr add 10.9.9.1/24 dev mxtls-d0 && "
		   "ip link set mxtls-d0 up; } 2>/dev/null || ip addr add 10.9.9.1/32 dev lo") != 0)
		fprintf(stderr, "# could not add 10.9.9.1\n");
}

static Suite *make_suite(void)
{
	Suite *s = suite_create("smtpd-net");
	TCase *tc = tcase_create("net");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, test_tmp_setup, test_tmp_teardown);
	tcase_add_test(tc, net_send_one);
	tcase_add_test(tc, net_send_many);
	tcase_add_test(tc, net_pipelined);
	tcase_add_test(tc, net_denied);
	tcase_add_test(tc, net_long_line);
	tcase_add_test(tc, net_timeout);
	tcase_add_test(tc, net_max_connections);
	tcase_add_test(tc, net_disk_full);
	tcase_add_loop_test(tc, net_open_errors, 0, ARRAY_LEN(open_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* Sockets and interfaces only inside the namespace run-with-dns.sh made. */
	if (getenv("MXTLS_TEST_NETNS") == NULL) {
		printf("1..0 # SKIP not inside the test network namespace (run through meson)\n");
		return 0;
	}
	add_dummy();
	SRunner *sr = srunner_create(make_suite());
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
