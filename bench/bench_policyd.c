/* SPDX-License-Identifier: MIT */
/* bench_policyd: a load generator for Postfix socketmap servers (answers/s and latency). */
/*
 * A benchmark, not a test: it prints figures and never asserts a speed.  It does check every
 * reply: each must be a well-formed netstring whose payload starts with a socketmap status
 * word (OK, NOTFOUND, TEMP, TIMEOUT, PERM), and the answers are counted per class, so a broken
 * or confused server is visible.  A malformed reply, a connection that fails or closes with
 * requests in flight, or a request never answered makes the exit status 1.
 *
 * Each server (-s LABEL=HOST:PORT[@PID]) gets C TCP connections (-c, a list: one run per
 * count), and each connection keeps up to D requests in flight (-d), pipelined: requests
 * `<len>:MAP <domain>,` are written as soon as there is room, several in one write(), and the
 * replies come back in order on the connection.  The domains are taken from the list file
 * (-f) round-robin, across all connections.  A run is W seconds of warm-up (-w), then T
 * measured seconds (-t), then the requests still in flight are answered (drain).  For every
 * reply received in the measured window, the latency is the time from the write() that sent
 * its request to the read() that brought its reply; all are stored, and the percentiles are
 * exact (nearest rank over the sorted samples).  answers/s = replies in the window / T.
 *
 * With several servers, the runs are interleaved: for each connection count and each of -r
 * rounds (T is split into the rounds), every server in the order given, so that load from
 * other processes falls on all of them alike.  The table shows each server's median round
 * (by answers/s), with spread = (max - min) / median over the rounds.  The first server is
 * the reference of the ratio column.
 *
 * With -n N instead, each server gets exactly N requests, the first N domains of the list in
 * order, each once (for filling a cache, or for reading it back after a restart); the time is
 * from the first request to the last reply.  -R EPOCH (CLOCK_REALTIME seconds, for example
 * bash's $EPOCHREALTIME when the server was started) first retries connect() every 1 ms until
 * the server accepts, and reports that moment and the end relative to EPOCH.
 *
 * Also measured per round, over the measured window: the server's CPU time (utime + stime of
 * /proc/PID/stat, all its threads; needs @PID) and this program's own, so a figure limited by
 * the load generator rather than the server shows (gen_cpu near 100 %); the CPU time of every
 * other process on the machine (other load, also from /proc/PID/stat), so a round disturbed
 * by other work shows; and the UDP datagrams sent in the network namespace
 * (/proc/net/snmp): every DNS query counts, so udp=0 shows that the answers came from the
 * servers' caches.
 * The first answer of each domain is remembered per server; `changed` counts later answers
 * that differ from it (answers are deterministic for the test zones, so a non-zero figure
 * means crossed replies or a policy that changed during the run).  -a FILE writes those first
 * answers, one `LABEL DOMAIN ANSWER` line each.
 *
 * Output: one line per round, `run label=... key=value ...`, then one `median ...` line per
 * server and count, then a table.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#define SERVERS_MAX    8
#define CONNS_MAX      1024
#define COUNTS_MAX     16
#define ROUNDS_MAX     15
#define DEPTH_MAX      1024
#define DOMAIN_MAX     253
#define REPLY_MAX      65536 /* the largest payload accepted; socketmap answers are short */
#define RBUF_SIZE      (128 * 1024)
#define WBUF_SIZE      (DEPTH_MAX * (DOMAIN_MAX + 40))
#define NETSTRING_DIGS 9

static void die(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_policyd: %s: ", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double realtime_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double own_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process (all threads), in seconds; -1 when unknown. */
static double proc_cpu_s(long pid)
{
	if (pid <= 0)
		return -1;
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold blanks and parentheses */
	if (p == NULL)
		return -1;
	/* After ")": field 3 (state) ... field 14 utime, 15 stime. */
	unsigned long long ut = 0, st = 0;
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * Udp OutDatagrams of this network namespace (/proc/net/snmp is per namespace): every DNS
 * query any process here sends, and every answer nsd or a resolver sends back, counts one.
 * -1 when unknown.
 */
static long long udp_out(void)
{
	FILE *f = fopen("/proc/net/snmp", "r");
	if (f == NULL)
		return -1;
	char head[1024], vals[1024];
	long long v = -1;
	while (fgets(head, sizeof head, f) != NULL) {
		if (strncmp(head, "Udp:", 4) != 0)
			continue;
		if (fgets(vals, sizeof vals, f) == NULL)
			break;
		/* header "Udp: InDatagrams NoPorts InErrors OutDatagrams ...", values alike */
		char *hs = NULL, *vs = NULL;
		char *h = strtok_r(head, " \n", &hs), *x = strtok_r(vals, " \n", &vs);
		while (h != NULL && x != NULL) {
			if (strcmp(h, "OutDatagrams") == 0) {
				v = atoll(x);
				break;
			}
			h = strtok_r(NULL, " \n", &hs);
			x = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
	return v;
}

/*
 * The other load: CPU seconds (utime + stime) of every process on the machine but the server
 * (skip) and this program, from a snapshot (others_begin) to now (others_since).  A process
 * that ends inside the window is left out (its time would come out negative); one that starts
 * inside counts whole.  Not from /proc/stat: its tick sampling misses most of the time of a
 * process that sleeps between ticks, as a server answering every 50 us does.
 */
#define OTHERS_MAX 4096
static struct {
	long pid[OTHERS_MAX];
	double cpu[OTHERS_MAX];
	size_t n;
} others;

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

/* Calls fn for every process but skip and this one; returns -1 when /proc is unreadable. */
static int each_other(long skip, void (*fn)(long pid, double cpu, void *arg), void *arg)
{
	DIR *d = opendir("/proc");
	if (d == NULL)
		return -1;
	long self = (long)getpid();
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == skip || pid == self)
			continue;
		double c = proc_cpu_s(pid);
		if (c >= 0)
			fn(pid, c, arg);
	}
	closedir(d);
	return 0;
}

static void others_add(long pid, double cpu, void *arg)
{
	(void)arg;
	if (others.n < OTHERS_MAX) {
		others.pid[others.n] = pid;
		others.cpu[others.n++] = cpu;
	}
}

static void others_begin(long skip)
{
	others.n = 0;
	if (each_other(skip, others_add, NULL) != 0)
		others.n = (size_t)-1;
	else {
		/* sort both arrays by pid: pairs through an index would be tidier, but readdir of
		 * /proc already lists pids in increasing order; check rather than assume */
		for (size_t i = 1; i < others.n; i++)
			if (others.pid[i - 1] > others.pid[i]) {
				others.n = (size_t)-1;
				break;
			}
	}
}

static void others_sum(long pid, double cpu, void *arg)
{
	double *sum = arg;
	if (others.n == (size_t)-1)
		return;
	const long *hit = bsearch(&pid, others.pid, others.n, sizeof others.pid[0], cmp_long);
	if (hit == NULL)
		*sum += cpu; /* started inside the window */
	else if (cpu >= others.cpu[hit - others.pid])
		*sum += cpu - others.cpu[hit - others.pid];
}

/* CPU seconds the other processes used since others_begin(), or -1 when unknown. */
static double others_since(long skip)
{
	double sum = 0;
	if (others.n == (size_t)-1 || each_other(skip, others_sum, &sum) != 0)
		return -1;
	return sum;
}

/* Steal time of the machine (a hypervisor running other guests), in seconds; -1 unknown. */
static double steal_s(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (f == NULL)
		return -1;
	unsigned long long v[8] = {0};
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	return n == 8 ? (double)v[7] / (double)sysconf(_SC_CLK_TCK) : -1;
}

/* ---- the domain list --------------------------------------------------------------------- */

static char **domains;
static size_t ndomains;

static void load_domains(const char *file)
{
	FILE *f = fopen(file, "r");
	if (f == NULL)
		die(file, "%s", strerror(errno));
	size_t cap = 0;
	char line[1024];
	while (fgets(line, sizeof line, f) != NULL) {
		size_t n = strcspn(line, " \t\r\n#");
		if (n == 0)
			continue;
		if (n > DOMAIN_MAX)
			die(file, "domain longer than %d bytes", DOMAIN_MAX);
		line[n] = '\0';
		if (ndomains == cap) {
			cap = cap ? cap * 2 : 1024;
			domains = realloc(domains, cap * sizeof *domains);
			if (domains == NULL)
				die("realloc", "out of memory");
		}
		domains[ndomains] = strdup(line);
		if (domains[ndomains] == NULL)
			die("strdup", "out of memory");
		ndomains++;
	}
	fclose(f);
	if (ndomains == 0)
		die(file, "no domains");
}

/* ---- servers, runs ----------------------------------------------------------------------- */

enum cls { CLS_OK, CLS_NOTFOUND, CLS_TEMP, CLS_TIMEOUT, CLS_PERM, CLS_COUNT };
static const char *const cls_names[CLS_COUNT] = {"ok", "notfound", "temp", "timeout", "perm"};

struct server {
	char label[64];
	char host[200];
	char port[200];
	long pid;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char **first; /* first answer per domain index */
};

struct result {
	bool done;
	int conns;
	double seconds;   /* measured window (or, with -n, first request to last reply) */
	uint64_t answers; /* replies in the window */
	double rate;
	double p50_us, p99_us, p999_us, max_us, mean_us;
	uint64_t cls[CLS_COUNT];
	uint64_t malformed, conn_errors, unanswered, changed;
	double srv_cpu_pct, srv_cpu_us_per_answer, gen_cpu_pct;
	double other_cpu_pct; /* every other process's CPU time: other load */
	double steal_pct;     /* the hypervisor's steal time, all CPUs */
	long long udp;        /* UDP datagrams sent in the namespace during the window (DNS) */
	double accept_s, first_s, done_s; /* -R: accepted, first reply, last reply */
};

static struct server servers[SERVERS_MAX];
static size_t nservers;

static struct {
	int counts[COUNTS_MAX];
	size_t ncounts;
	int depth;
	int rounds;
	double warmup, seconds, idle_timeout;
	double round_seconds; /* seconds / rounds */
	long exact;           /* -n */
	bool have_epoch;
	double epoch; /* -R */
	const char *map;
	const char *answers_file;
} opt = {.counts = {1, 16, 64},
	 .ncounts = 3,
	 .depth = 8,
	 .rounds = 1,
	 .warmup = 1,
	 .seconds = 5,
	 .idle_timeout = 10,
	 .map = "postfix"};

struct conn {
	int fd;
	bool connected, dead;
	bool want_out; /* EPOLLOUT is in the epoll interest set */
	/* in flight, FIFO: send time and domain index */
	uint64_t *sent;
	uint32_t *dom;
	size_t head, count;
	char wbuf[WBUF_SIZE];
	size_t wlen, woff;
	char *rbuf;
	size_t rlen;
};

/* One run's state. */
static struct {
	struct server *srv;
	struct conn *conns;
	int nconns;
	int epfd;
	uint64_t next_domain; /* round-robin counter */
	uint64_t issued;      /* requests queued so far */
	uint64_t limit;       /* -n: stop issuing at this many; else UINT64_MAX */
	bool issuing;
	uint64_t win_start, win_end; /* measured window (ns); replies inside are counted */
	uint64_t first_send, first_reply, last_reply, last_progress;
	uint64_t in_flight, replies;
	struct result *res;
} run;

/* The latencies of the current run (ns), kept across runs to reuse the memory. */
static struct {
	uint64_t *v;
	size_t n, cap;
} samples;

static void add_sample(uint64_t ns)
{
	if (samples.n == samples.cap) {
		samples.cap = samples.cap ? samples.cap * 2 : 1 << 20;
		samples.v = realloc(samples.v, samples.cap * sizeof *samples.v);
		if (samples.v == NULL)
			die("realloc", "out of memory for %zu samples", samples.cap);
	}
	samples.v[samples.n++] = ns;
}

static void conn_kill(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	if (why != NULL) {
		fprintf(stderr, "bench_policyd: %s: connection %d: %s (%zu in flight)\n",
			run.srv->label, (int)(c - run.conns), why, c->count);
		run.res->conn_errors++;
	}
	run.res->unanswered += c->count;
	run.in_flight -= c->count;
	c->count = 0;
	c->dead = true;
	if (c->fd >= 0) {
		epoll_ctl(run.epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
}

static void conn_want(struct conn *c, bool out)
{
	if (c->want_out == out)
		return; /* no epoll_ctl() per write: it would cost as much as the write */
	c->want_out = out;
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(run.epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queue requests up to the depth, then write what is queued. */
static void conn_fill_and_write(struct conn *c)
{
	if (c->dead || !c->connected)
		return;
	uint64_t t = now_ns();
	size_t depth = (size_t)opt.depth;
	while (run.issuing && c->count < depth && run.issued < run.limit &&
	       c->wlen + DOMAIN_MAX + 40 <= sizeof c->wbuf) {
		uint32_t d = (uint32_t)(run.next_domain++ % ndomains);
		const char *name = domains[d];
		size_t plen = strlen(opt.map) + 1 + strlen(name);
		int n = snprintf(c->wbuf + c->wlen, sizeof c->wbuf - c->wlen, "%zu:%s %s,", plen,
				 opt.map, name);
		c->wlen += (size_t)n;
		size_t slot = (c->head + c->count) % depth;
		c->sent[slot] = t;
		c->dom[slot] = d;
		c->count++;
		run.issued++;
		run.in_flight++;
		if (run.first_send == 0)
			run.first_send = t;
	}
	if (c->woff < c->wlen) {
		ssize_t w = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			conn_kill(c, strerror(errno));
			return;
		}
		if (w > 0)
			c->woff += (size_t)w;
		if (c->woff == c->wlen)
			c->woff = c->wlen = 0;
	}
	conn_want(c, c->wlen > 0);
}

static int classify(const char *p, size_t n)
{
	static const struct {
		const char *word;
		size_t len;
		enum cls cls;
	} words[] = {{"OK ", 3, CLS_OK},
		     {"NOTFOUND ", 9, CLS_NOTFOUND},
		     {"TEMP ", 5, CLS_TEMP},
		     {"TIMEOUT ", 8, CLS_TIMEOUT},
		     {"PERM ", 5, CLS_PERM}};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (n >= words[i].len && memcmp(p, words[i].word, words[i].len) == 0)
			return (int)words[i].cls;
	return -1;
}

static void show_payload(const char *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
	}
	out[o] = '\0';
}

/* One reply: its payload is p[0..n). */
static bool on_reply(struct conn *c, const char *p, size_t n, uint64_t t)
{
	if (c->count == 0) {
		conn_kill(c, "a reply with no request in flight");
		run.res->malformed++;
		return false;
	}
	size_t depth = (size_t)opt.depth;
	uint64_t sent = c->sent[c->head];
	uint32_t d = c->dom[c->head];
	c->head = (c->head + 1) % depth;
	c->count--;
	run.in_flight--;
	run.replies++;
	run.last_reply = t;
	if (run.first_reply == 0)
		run.first_reply = t;
	int k = classify(p, n);
	if (k < 0) {
		char shown[200];
		show_payload(p, n < 60 ? n : 60, shown, sizeof shown);
		fprintf(stderr, "bench_policyd: %s: %s: reply without a socketmap status: \"%s\"\n",
			run.srv->label, domains[d], shown);
		run.res->malformed++;
		return true;
	}
	char **first = &run.srv->first[d];
	if (*first == NULL) {
		*first = malloc(n + 1);
		if (*first == NULL)
			die("malloc", "out of memory");
		memcpy(*first, p, n);
		(*first)[n] = '\0';
	} else if (strlen(*first) != n || memcmp(*first, p, n) != 0) {
		if (run.res->changed < 5) {
			char shown[200];
			show_payload(p, n < 60 ? n : 60, shown, sizeof shown);
			fprintf(stderr,
				"bench_policyd: %s: %s: answer \"%s\" differs from the first, "
				"\"%.60s\"\n",
				run.srv->label, domains[d], shown, *first);
		}
		run.res->changed++;
	}
	if (opt.exact > 0 || (t >= run.win_start && t < run.win_end)) {
		run.res->cls[k]++;
		add_sample(t - sent);
	}
	return true;
}

/* Decodes the netstrings at the start of c->rbuf. */
static void conn_parse(struct conn *c, uint64_t t)
{
	size_t off = 0;
	while (!c->dead && off < c->rlen) {
		const char *b = c->rbuf + off;
		size_t avail = c->rlen - off, i = 0, len = 0;
		while (i < avail && b[i] >= '0' && b[i] <= '9') {
			if (i == NETSTRING_DIGS || (i == 1 && b[0] == '0'))
				break;
			len = len * 10 + (size_t)(b[i] - '0');
			i++;
		}
		if (i == avail)
			break; /* more digits may follow */
		if (i == 0 || b[i] != ':' || len > REPLY_MAX) {
			char shown[200];
			show_payload(b, avail < 40 ? avail : 40, shown, sizeof shown);
			fprintf(stderr, "bench_policyd: %s: malformed netstring: \"%s\"\n",
				run.srv->label, shown);
			run.res->malformed++;
			conn_kill(c, "malformed netstring");
			return;
		}
		if (avail < i + 1 + len + 1)
			break;
		if (b[i + 1 + len] != ',') {
			run.res->malformed++;
			conn_kill(c, "netstring without its comma");
			return;
		}
		if (!on_reply(c, b + i + 1, len, t))
			return;
		off += i + 1 + len + 1;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
}

static void conn_read(struct conn *c)
{
	for (;;) {
		if (c->rlen == RBUF_SIZE) {
			conn_kill(c, "reply too long");
			run.res->malformed++;
			return;
		}
		ssize_t r = read(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			conn_kill(c, strerror(errno));
			return;
		}
		if (r == 0) {
			conn_kill(c, c->count > 0 || c->rlen > 0 ? "closed by the server" : NULL);
			return;
		}
		uint64_t t = now_ns();
		c->rlen += (size_t)r;
		run.last_progress = t;
		conn_parse(c, t);
		if (c->dead)
			return;
		if ((size_t)r < RBUF_SIZE / 2)
			return; /* level-triggered: epoll says when there is more */
	}
}

static int resolve_server(struct server *s)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int e = getaddrinfo(s->host, s->port, &hints, &ai);
	if (e != 0)
		die(s->label, "%s:%s: %s", s->host, s->port, gai_strerror(e));
	memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
	s->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int open_conn(const struct server *s, bool blocking)
{
	int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket", "%s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!blocking)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least q of all samples at or below it. */
static double pct_us(double q)
{
	if (samples.n == 0)
		return NAN;
	double want = q * (double)samples.n;
	size_t rank = (size_t)want;
	if ((double)rank < want)
		rank++; /* ceil, without libm */
	if (rank < 1)
		rank = 1;
	return (double)samples.v[rank - 1] / 1e3;
}

static void do_run(struct server *s, int nconns, struct result *res)
{
	memset(res, 0, sizeof *res);
	memset(&run, 0, sizeof run);
	samples.n = 0;
	run.srv = s;
	run.res = res;
	run.nconns = nconns;
	run.limit = opt.exact > 0 ? (uint64_t)opt.exact : UINT64_MAX;
	res->conns = nconns;
	res->accept_s = res->first_s = res->done_s = NAN;
	run.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (run.epfd < 0)
		die("epoll_create1", "%s", strerror(errno));

	/* -R: wait until the server accepts a connection. */
	if (opt.have_epoch) {
		double give_up = realtime_s() + 300;
		int fd;
		while ((fd = open_conn(s, true)) < 0) {
			if (errno != ECONNREFUSED && errno != ECONNRESET)
				die(s->label, "connect: %s", strerror(errno));
			if (realtime_s() > give_up)
				die(s->label, "no connection accepted within 300 s");
			struct timespec ms = {0, 1000000};
			nanosleep(&ms, NULL);
		}
		res->accept_s = realtime_s() - opt.epoch;
		close(fd);
	}

	run.conns = calloc((size_t)nconns, sizeof *run.conns);
	if (run.conns == NULL)
		die("calloc", "out of memory");
	for (int i = 0; i < nconns; i++) {
		struct conn *c = &run.conns[i];
		c->sent = calloc((size_t)opt.depth, sizeof *c->sent);
		c->dom = calloc((size_t)opt.depth, sizeof *c->dom);
		c->rbuf = malloc(RBUF_SIZE);
		if (c->sent == NULL || c->dom == NULL || c->rbuf == NULL)
			die("calloc", "out of memory");
		c->fd = open_conn(s, false);
		if (c->fd < 0) {
			c->fd = -1;
			c->dead = true;
			fprintf(stderr, "bench_policyd: %s: connect %s:%s: %s\n", s->label, s->host,
				s->port, strerror(errno));
			res->conn_errors++;
			continue;
		}
		c->connected = true;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(run.epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
			die("epoll_ctl", "%s", strerror(errno));
	}

	uint64_t start = now_ns();
	double start_rt = realtime_s();
	run.win_start = start + (uint64_t)(opt.warmup * 1e9);
	run.win_end = run.win_start + (uint64_t)(opt.round_seconds * 1e9);
	if (opt.exact > 0)
		run.win_start = run.win_end = 0;
	run.issuing = true;
	run.last_progress = start;
	for (int i = 0; i < nconns; i++)
		conn_fill_and_write(&run.conns[i]);

	bool in_window = false;
	double cpu0 = 0, gen0 = 0, steal0 = 0;
	long long udp0 = -1;
	if (opt.exact > 0) { /* -n: CPU and UDP over the whole run */
		cpu0 = proc_cpu_s(s->pid);
		gen0 = own_cpu_s();
		others_begin(s->pid);
		steal0 = steal_s();
		udp0 = udp_out();
	}
	uint64_t drained_at = 0;
	struct epoll_event evs[256];
	for (;;) {
		uint64_t t = now_ns();
		if (opt.exact == 0) {
			if (!in_window && t >= run.win_start) {
				in_window = true;
				cpu0 = proc_cpu_s(s->pid);
				gen0 = own_cpu_s();
				others_begin(s->pid);
				steal0 = steal_s();
				udp0 = udp_out();
			}
			if (run.issuing && t >= run.win_end) {
				double cpu1 = proc_cpu_s(s->pid), gen1 = own_cpu_s();
				double busy = others_since(s->pid), steal1 = steal_s();
				double w = (double)(t - run.win_start) / 1e9;
				if (cpu0 >= 0 && cpu1 >= 0)
					res->srv_cpu_pct = 100 * (cpu1 - cpu0) / w;
				else
					res->srv_cpu_pct = NAN;
				res->gen_cpu_pct = 100 * (gen1 - gen0) / w;
				res->other_cpu_pct = NAN;
				if (busy >= 0)
					res->other_cpu_pct = 100 * busy / w;
				res->steal_pct = steal0 >= 0 && steal1 >= 0
							 ? 100 * (steal1 - steal0) / w
							 : NAN;
				long long udp1 = udp_out();
				res->udp = udp0 >= 0 && udp1 >= 0 ? udp1 - udp0 : -1;
				run.issuing = false;
				drained_at = t;
			}
		} else if (run.issued >= run.limit && run.issuing) {
			run.issuing = false;
		}
		if (!run.issuing && run.in_flight == 0)
			break;
		if ((double)(t - run.last_progress) / 1e9 > opt.idle_timeout) {
			fprintf(stderr,
				"bench_policyd: %s: no reply for %.0f s, %llu requests "
				"unanswered\n",
				s->label, opt.idle_timeout, (unsigned long long)run.in_flight);
			for (int i = 0; i < nconns; i++)
				conn_kill(&run.conns[i], NULL);
			break;
		}
		bool any_alive = false;
		for (int i = 0; i < nconns && !any_alive; i++)
			any_alive = !run.conns[i].dead;
		if (!any_alive)
			break;
		int timeout_ms = 100;
		if (opt.exact == 0 && run.issuing) {
			uint64_t next = in_window ? run.win_end : run.win_start;
			int ms = next > t ? (int)((next - t) / 1000000) + 1 : 0;
			if (ms < timeout_ms)
				timeout_ms = ms;
		}
		int n = epoll_wait(run.epfd, evs, (int)(sizeof evs / sizeof evs[0]), timeout_ms);
		if (n < 0 && errno != EINTR)
			die("epoll_wait", "%s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->dead)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_read(c);
			if (!c->dead)
				conn_fill_and_write(c);
		}
	}
	(void)drained_at;
	uint64_t end = now_ns();
	if (opt.exact > 0) {
		uint64_t last = run.last_reply ? run.last_reply : end;
		res->seconds = run.first_send ? (double)(last - run.first_send) / 1e9 : 0;
		res->answers = samples.n;
		res->rate = res->seconds > 0 ? (double)res->answers / res->seconds : 0;
		if (opt.have_epoch) {
			double base = start_rt - opt.epoch;
			if (run.first_reply)
				res->first_s = base + (double)(run.first_reply - start) / 1e9;
			res->done_s = base + (double)(last - start) / 1e9;
		}
		double cpu1 = proc_cpu_s(s->pid), gen1 = own_cpu_s(), busy = others_since(s->pid);
		double steal1 = steal_s();
		double w = (double)(end - start) / 1e9;
		res->srv_cpu_pct = cpu0 >= 0 && cpu1 >= 0 ? 100 * (cpu1 - cpu0) / w : NAN;
		res->gen_cpu_pct = 100 * (gen1 - gen0) / w;
		res->other_cpu_pct = busy >= 0 ? 100 * busy / w : NAN;
		res->steal_pct = steal0 >= 0 && steal1 >= 0 ? 100 * (steal1 - steal0) / w : NAN;
		long long udp1 = udp_out();
		res->udp = udp0 >= 0 && udp1 >= 0 ? udp1 - udp0 : -1;
		if (run.issued < run.limit)
			res->unanswered += run.limit - run.issued;
	} else {
		res->seconds = opt.round_seconds;
		res->answers = samples.n;
		res->rate = (double)res->answers / opt.round_seconds;
	}
	res->unanswered += run.in_flight;
	if (samples.n > 0)
		qsort(samples.v, samples.n, sizeof *samples.v, cmp_u64);
	res->p50_us = pct_us(0.50);
	res->p99_us = pct_us(0.99);
	res->p999_us = pct_us(0.999);
	res->max_us = samples.n ? (double)samples.v[samples.n - 1] / 1e3 : NAN;
	double sum = 0;
	for (size_t i = 0; i < samples.n; i++)
		sum += (double)samples.v[i];
	res->mean_us = samples.n ? sum / (double)samples.n / 1e3 : NAN;
	if (opt.exact > 0 && res->answers > 0 && res->srv_cpu_pct == res->srv_cpu_pct)
		res->srv_cpu_us_per_answer = res->srv_cpu_pct / 100 * (double)(end - start) / 1e9 /
					     (double)res->answers * 1e6;
	else if (opt.exact == 0 && res->answers > 0 && res->srv_cpu_pct == res->srv_cpu_pct)
		res->srv_cpu_us_per_answer =
			res->srv_cpu_pct / 100 * opt.round_seconds / (double)res->answers * 1e6;
	else
		res->srv_cpu_us_per_answer = NAN;
	for (int i = 0; i < nconns; i++) {
		struct conn *c = &run.conns[i];
		if (c->fd >= 0)
			close(c->fd);
		free(c->sent);
		free(c->dom);
		free(c->rbuf);
	}
	free(run.conns);
	close(run.epfd);
	res->done = true;
}

static void print_result(const struct server *s, const struct result *r, int round)
{
	printf("run label=%s server=%s:%s conns=%d depth=%d round=%d seconds=%.3f answers=%llu "
	       "rate=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f",
	       s->label, s->host, s->port, r->conns, opt.depth, round, r->seconds,
	       (unsigned long long)r->answers, r->rate, r->p50_us, r->p99_us, r->p999_us, r->max_us,
	       r->mean_us);
	for (int k = 0; k < CLS_COUNT; k++)
		printf(" %s=%llu", cls_names[k], (unsigned long long)r->cls[k]);
	printf(" malformed=%llu conn_errors=%llu unanswered=%llu changed=%llu udp=%lld",
	       (unsigned long long)r->malformed, (unsigned long long)r->conn_errors,
	       (unsigned long long)r->unanswered, (unsigned long long)r->changed, r->udp);
	printf(" srv_cpu_pct=%.0f srv_cpu_us=%.2f gen_cpu_pct=%.0f other_cpu_pct=%.0f "
	       "steal_pct=%.0f",
	       r->srv_cpu_pct, r->srv_cpu_us_per_answer, r->gen_cpu_pct, r->other_cpu_pct,
	       r->steal_pct);
	if (opt.have_epoch)
		printf(" accept_s=%.4f first_s=%.4f done_s=%.4f", r->accept_s, r->first_s,
		       r->done_s);
	printf("\n");
	fflush(stdout);
}

static void fmt_us(char *out, size_t len, double us)
{
	if (us != us)
		snprintf(out, len, "-");
	else if (us < 1000)
		snprintf(out, len, "%.0f us", us);
	else
		snprintf(out, len, "%.2f ms", us / 1000);
}

static struct result res[SERVERS_MAX][COUNTS_MAX][ROUNDS_MAX];

static int cmp_rate(const void *a, const void *b)
{
	double x = (*(const struct result *const *)a)->rate;
	double y = (*(const struct result *const *)b)->rate;
	return x < y ? -1 : x > y;
}

/* The round with the median rate (the lower one of the two middle rounds when even). */
static const struct result *median_round(size_t i, size_t k, double *spread)
{
	const struct result *v[ROUNDS_MAX];
	for (int r = 0; r < opt.rounds; r++)
		v[r] = &res[i][k][r];
	qsort(v, (size_t)opt.rounds, sizeof v[0], cmp_rate);
	const struct result *m = v[(opt.rounds - 1) / 2];
	*spread = m->rate > 0 ? (v[opt.rounds - 1]->rate - v[0]->rate) / m->rate : NAN;
	return m;
}

/* One `median` line per server and count (the figures of the table), then the table. */
static void print_table(void)
{
	printf("\n");
	for (size_t k = 0; k < opt.ncounts; k++)
		for (size_t i = 0; i < nservers; i++) {
			double spread, other = 0, steal = 0;
			const struct result *m = median_round(i, k, &spread);
			for (int r = 0; r < opt.rounds; r++) {
				if (res[i][k][r].other_cpu_pct > other)
					other = res[i][k][r].other_cpu_pct;
				if (res[i][k][r].steal_pct > steal)
					steal = res[i][k][r].steal_pct;
			}
			printf("median label=%s conns=%d depth=%d rounds=%d rate=%.0f spread=%.3f "
			       "p50_us=%.1f p99_us=%.1f p999_us=%.1f srv_cpu_pct=%.0f "
			       "srv_cpu_us=%.2f "
			       "gen_cpu_pct=%.0f max_other_cpu_pct=%.0f max_steal_pct=%.0f\n",
			       servers[i].label, opt.counts[k], opt.depth, opt.rounds, m->rate,
			       spread, m->p50_us, m->p99_us, m->p999_us, m->srv_cpu_pct,
			       m->srv_cpu_us_per_answer, m->gen_cpu_pct, other, steal);
		}
	printf("\nanswers/s and latency (send->reply), %d request%s in flight per connection, "
	       "%d round%s of %.2f s measured after %.1f s warm-up: the median round\n",
	       opt.depth, opt.depth == 1 ? "" : "s", opt.rounds, opt.rounds == 1 ? "" : "s",
	       opt.round_seconds, opt.warmup);
	printf("%5s", "conns");
	for (size_t i = 0; i < nservers; i++)
		printf(" | %-10.10s %9s %6s %9s %9s %9s", servers[i].label, "answers/s", "spread",
		       "p50", "p99", "p99.9");
	for (size_t i = 1; i < nservers; i++)
		printf(" | %s/%.10s", servers[0].label, servers[i].label);
	printf("\n");
	for (size_t k = 0; k < opt.ncounts; k++) {
		printf("%5d", opt.counts[k]);
		double rate0 = 0;
		for (size_t i = 0; i < nservers; i++) {
			double spread;
			const struct result *r = median_round(i, k, &spread);
			if (i == 0)
				rate0 = r->rate;
			char a[32], b[32], c[32];
			fmt_us(a, sizeof a, r->p50_us);
			fmt_us(b, sizeof b, r->p99_us);
			fmt_us(c, sizeof c, r->p999_us);
			printf(" | %-10s %9.0f %5.1f%% %9s %9s %9s", "", r->rate, 100 * spread, a,
			       b, c);
		}
		for (size_t i = 1; i < nservers; i++) {
			double spread;
			const struct result *r = median_round(i, k, &spread);
			double q = r->rate > 0 ? rate0 / r->rate : NAN;
			printf(" | %*.1f",
			       (int)strlen(servers[0].label) + 1 +
				       (int)strnlen(servers[i].label, 10),
			       q);
		}
		printf("\n");
	}
	printf("\nclasses and checks (all rounds); CPU in %% of one core (median round): the "
	       "server's (all threads), this program's; other load: the most that all other "
	       "processes took in one round, and the most steal time (hypervisor)\n");
	for (size_t k = 0; k < opt.ncounts; k++)
		for (size_t i = 0; i < nservers; i++) {
			struct result t = {0};
			double spread, other = 0;
			for (int r = 0; r < opt.rounds; r++) {
				const struct result *x = &res[i][k][r];
				for (int c = 0; c < CLS_COUNT; c++)
					t.cls[c] += x->cls[c];
				t.malformed += x->malformed;
				t.conn_errors += x->conn_errors;
				t.unanswered += x->unanswered;
				t.changed += x->changed;
				t.udp += x->udp;
				if (x->other_cpu_pct > other)
					other = x->other_cpu_pct;
				if (x->steal_pct > t.steal_pct)
					t.steal_pct = x->steal_pct;
			}
			const struct result *m = median_round(i, k, &spread);
			printf("%5d  %-10.10s ok=%llu notfound=%llu temp=%llu timeout=%llu "
			       "perm=%llu "
			       "malformed=%llu conn_errors=%llu unanswered=%llu changed=%llu "
			       "udp=%lld  server cpu %.0f%% (%.1f us/answer)  generator cpu "
			       "%.0f%%  other %.0f%%  steal %.0f%%\n",
			       opt.counts[k], servers[i].label, (unsigned long long)t.cls[0],
			       (unsigned long long)t.cls[1], (unsigned long long)t.cls[2],
			       (unsigned long long)t.cls[3], (unsigned long long)t.cls[4],
			       (unsigned long long)t.malformed, (unsigned long long)t.conn_errors,
			       (unsigned long long)t.unanswered, (unsigned long long)t.changed,
			       t.udp, m->srv_cpu_pct, m->srv_cpu_us_per_answer, m->gen_cpu_pct,
			       other, t.steal_pct);
		}
}

/* ---- -Z: a trivial socketmap server, the ceiling of what this generator can measure ------ */

struct zconn {
	int fd;
	char in[RBUF_SIZE];
	size_t inlen;
	char out[RBUF_SIZE];
};

/*
 * Serves forever on HOST:PORT: answers every well-formed request `NOTFOUND ` at once, all the
 * replies to one read() in one write(), on one thread with epoll.  It does no lookup at all,
 * so the load generator against it shows the generator's own limit (and the kernel's).
 */
static void parse_server(const char *arg);

static __attribute__((noreturn)) void serve_null(const char *hostport)
{
	parse_server(hostport);
	const struct server *s = &servers[0];
	int lfd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, (const struct sockaddr *)&s->addr, s->addrlen) != 0 ||
	    listen(lfd, 1024) != 0)
		die(hostport, "listen: %s", strerror(errno));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	fprintf(stderr, "bench_policyd: null server on %s:%s\n", s->host, s->port);
	static const char reply[] = "9:NOTFOUND ,";
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			struct zconn *z = evs[i].data.ptr;
			if (z == NULL) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					continue;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				z = calloc(1, sizeof *z);
				if (z == NULL)
					die("calloc", "out of memory");
				z->fd = fd;
				struct epoll_event ev = {.events = EPOLLIN, .data.ptr = z};
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			ssize_t r = read(z->fd, z->in + z->inlen, sizeof z->in - z->inlen);
			if (r < 0 && errno == EAGAIN)
				continue;
			bool drop = r <= 0;
			size_t off = 0, outlen = 0;
			if (!drop)
				z->inlen += (size_t)r;
			while (!drop && off < z->inlen) {
				size_t len = 0, k = off;
				while (k < z->inlen && k - off < NETSTRING_DIGS &&
				       z->in[k] >= '0' && z->in[k] <= '9')
					len = len * 10 + (size_t)(z->in[k++] - '0');
				if (k == z->inlen)
					break;
				if (k == off || z->in[k] != ':' || len > 1000) {
					drop = true;
					break;
				}
				if (z->inlen - k < len + 2)
					break;
				if (z->in[k + 1 + len] != ',') {
					drop = true;
					break;
				}
				off = k + 1 + len + 1;
				if (outlen + sizeof reply > sizeof z->out)
					break; /* the rest after this write */
				memcpy(z->out + outlen, reply, sizeof reply - 1);
				outlen += sizeof reply - 1;
			}
			if (!drop && outlen > 0) {
				/* Blocking for the rare short write keeps this simple. */
				for (size_t w = 0; w < outlen;) {
					ssize_t x = write(z->fd, z->out + w, outlen - w);
					if (x < 0 && errno == EAGAIN) {
						struct timespec ms = {0, 100000};
						nanosleep(&ms, NULL);
						continue;
					}
					if (x <= 0) {
						drop = true;
						break;
					}
					w += (size_t)x;
				}
			}
			if (drop) {
				epoll_ctl(ep, EPOLL_CTL_DEL, z->fd, NULL);
				close(z->fd);
				free(z);
				continue;
			}
			memmove(z->in, z->in + off, z->inlen - off);
			z->inlen -= off;
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_policyd -s LABEL=HOST:PORT[@PID] [-s ...] -f DOMAINS [options]\n"
		"  -s LABEL=HOST:PORT[@PID]  a socketmap server (repeatable, up to %d; the first "
		"is\n"
		"                the ratio's reference); PID: its process, for its CPU time\n"
		"  -f FILE       the domains, one per line, asked round-robin\n"
		"  -c LIST       connection counts, one run each (default 1,16,64)\n"
		"  -d N          requests in flight per connection (default 8)\n"
		"  -r ROUNDS     rounds per server and count, interleaved across the servers; the\n"
		"                table shows the median round (default 1)\n"
		"  -w SECONDS    warm-up per round (default 1)\n"
		"  -t SECONDS    measured time per server and count, split into the rounds "
		"(default 5)\n"
		"  -n N          instead: the first N domains once each, in order (one run, with\n"
		"                the first connection count), timed from first request to last "
		"reply\n"
		"  -R EPOCH      with -n: wait until the server accepts (retry every 1 ms), "
		"report\n"
		"                the times since EPOCH (CLOCK_REALTIME seconds, as "
		"$EPOCHREALTIME)\n"
		"  -T SECONDS    give up when no reply came for this long (default 10)\n"
		"  -m NAME       the socketmap name in the requests (default postfix)\n"
		"  -a FILE       write each domain's first answer: LABEL DOMAIN ANSWER lines\n"
		"or:    bench_policyd -Z HOST:PORT   serve NOTFOUND to everything (calibration)\n",
		SERVERS_MAX);
}

static void parse_server(const char *arg)
{
	if (nservers == SERVERS_MAX)
		die("-s", "at most %d servers", SERVERS_MAX);
	struct server *s = &servers[nservers++];
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof s->label)
		die("-s", "expected LABEL=HOST:PORT[@PID], got \"%s\"", arg);
	memcpy(s->label, arg, (size_t)(eq - arg));
	char rest[200];
	snprintf(rest, sizeof rest, "%s", eq + 1);
	char *at = strchr(rest, '@');
	if (at != NULL) {
		*at = '\0';
		s->pid = atol(at + 1);
	}
	char *colon = strrchr(rest, ':');
	if (colon == NULL)
		die("-s", "no port in \"%s\"", arg);
	*colon = '\0';
	char *host = rest;
	if (host[0] == '[' && colon[-1] == ']') {
		host++;
		colon[-1] = '\0';
	}
	snprintf(s->host, sizeof s->host, "%s", host);
	snprintf(s->port, sizeof s->port, "%s", colon + 1);
	resolve_server(s);
}

int main(int argc, char **argv)
{
	const char *file = NULL;
	int c;
	while ((c = getopt(argc, argv, "s:f:c:d:r:w:t:n:R:T:m:a:Z:h")) != -1) {
		switch (c) {
		case 'Z': {
			char arg[300];
			snprintf(arg, sizeof arg, "null=%s", optarg);
			signal(SIGPIPE, SIG_IGN);
			serve_null(arg);
		}
		case 's':
			parse_server(optarg);
			break;
		case 'f':
			file = optarg;
			break;
		case 'c': {
			opt.ncounts = 0;
			char *copy = strdup(optarg), *save = NULL;
			for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				if (opt.ncounts == COUNTS_MAX)
					die("-c", "at most %d counts", COUNTS_MAX);
				int n = atoi(tok);
				if (n < 1 || n > CONNS_MAX)
					die("-c", "from 1 to %d", CONNS_MAX);
				opt.counts[opt.ncounts++] = n;
			}
			free(copy);
			if (opt.ncounts == 0)
				die("-c", "empty list");
			break;
		}
		case 'd':
			opt.depth = atoi(optarg);
			if (opt.depth < 1 || opt.depth > DEPTH_MAX)
				die("-d", "from 1 to %d", DEPTH_MAX);
			break;
		case 'r':
			opt.rounds = atoi(optarg);
			if (opt.rounds < 1 || opt.rounds > ROUNDS_MAX)
				die("-r", "from 1 to %d", ROUNDS_MAX);
			break;
		case 'w':
			opt.warmup = atof(optarg);
			break;
		case 't':
			opt.seconds = atof(optarg);
			break;
		case 'n':
			opt.exact = atol(optarg);
			break;
		case 'R':
			opt.have_epoch = true;
			opt.epoch = atof(optarg);
			break;
		case 'T':
			opt.idle_timeout = atof(optarg);
			break;
		case 'm':
			opt.map = optarg;
			break;
		case 'a':
			opt.answers_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || nservers == 0 || file == NULL) {
		usage(stderr);
		return 2;
	}
	if (!(opt.seconds > 0) || opt.warmup < 0 || !(opt.idle_timeout > 0) || opt.exact < 0)
		die("options", "-t and -T must be > 0, -w and -n >= 0");
	if (opt.have_epoch && opt.exact == 0)
		die("-R", "needs -n");
	signal(SIGPIPE, SIG_IGN);
	load_domains(file);
	if (opt.exact > 0 && (size_t)opt.exact > ndomains)
		die("-n", "%ld requested, the list has %zu domains", opt.exact, ndomains);
	if (opt.exact > 0) {
		opt.ncounts = 1;
		opt.rounds = 1;
	}
	opt.round_seconds = opt.seconds / opt.rounds;
	for (size_t i = 0; i < nservers; i++) {
		servers[i].first = calloc(ndomains, sizeof *servers[i].first);
		if (servers[i].first == NULL)
			die("calloc", "out of memory");
	}

	bool bad = false;
	for (size_t k = 0; k < opt.ncounts; k++)
		for (int round = 0; round < opt.rounds; round++)
			for (size_t i = 0; i < nservers; i++) {
				struct result *r = &res[i][k][round];
				do_run(&servers[i], opt.counts[k], r);
				print_result(&servers[i], r, round + 1);
				if (r->malformed || r->conn_errors || r->unanswered)
					bad = true;
			}
	if (opt.exact == 0)
		print_table();

	if (opt.answers_file != NULL) {
		FILE *f = fopen(opt.answers_file, "w");
		if (f == NULL)
			die(opt.answers_file, "%s", strerror(errno));
		for (size_t i = 0; i < nservers; i++)
			for (size_t d = 0; d < ndomains; d++)
				if (servers[i].first[d] != NULL)
					fprintf(f, "%s %s %s\n", servers[i].label, domains[d],
						servers[i].first[d]);
		if (fclose(f) != 0)
			die(opt.answers_file, "%s", strerror(errno));
	}
	if (bad)
		fprintf(stderr, "bench_policyd: protocol errors (malformed replies, failed "
				"connections or unanswered requests): see above\n");
	return bad ? 1 : 0;
}
