/* statedir.c: a state directory and a batch's consumer (ddb-stream, ddb-scan) */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ddb.h"
#include "statedir.h"

extern char **environ;

/* temp files of runs that died while writing one: never read, removed */
static void
sweep(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, ".state.", 7) == 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) == 0)
			warnx("%s/%s: removed, a state a killed run left "
			    "half written", dir, e->d_name);
	closedir(d);
}

static int lock_fd = -1;	/* the lock this run holds, for ddb_dir_alive */

void
ddb_dir_alive(void)
{
	if (lock_fd != -1)
		futimens(lock_fd, NULL);
}

/*
 * The lock is held: by a live run (-1, said if verbose), or by one whose
 * last sign of life (the lock file's mtime) is older than DDB_LOCK_STALE
 * (DDB_EXIT_STALE, said loudly: a hung run would otherwise stop the
 * pipeline with every later run exiting 0)
 */
static int
held(const char *dir, int fd, int verbose)
{
	char pid[24];
	struct stat sb;
	ssize_t n;
	double age;
	size_t i;

	if (fstat(fd, &sb) == -1 || (age = difftime(time(NULL),
	    sb.st_mtim.tv_sec)) <= DDB_LOCK_STALE) {
		if (verbose)
			warnx("%s: another run holds the lock; nothing done",
			    dir);
		return -1;
	}
	n = pread(fd, pid, sizeof pid - 1, 0);
	for (i = 0; n > 0 && i < (size_t)n && pid[i] >= '0' && pid[i] <= '9';
	    i++)
		;
	pid[i] = '\0';
	warnx("%s: STALE LOCK: the run holding it (pid %s) has shown no sign "
	    "of life for %.0f s (more than %d): hung? nothing done; stop that "
	    "run and the next one goes on", dir, i ? pid : "?", age,
	    DDB_LOCK_STALE);
	return DDB_EXIT_STALE;
}

int
ddb_dir_lock(const char *dir, int *fd, int verbose)
{
	char *p, pid[24];
	int n;

	*fd = -1;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		warn("%s", dir);
		return DDB_EXIT_IO;
	}
	p = xasprintf("%s/lock", dir);
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd == -1) {
		warn("%s", p);
		free(p);
		return DDB_EXIT_IO;
	}
	free(p);
	if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			return held(dir, *fd, verbose);
		warn("%s/lock", dir);
		return DDB_EXIT_IO;
	}
	/* the holder's pid, for the message of a stale lock */
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) == -1 || pwrite(*fd, pid, (size_t)n, 0) != n) {
		warn("%s/lock", dir);
		return DDB_EXIT_IO;
	}
	lock_fd = *fd;
	ddb_dir_alive();
	sweep(dir);
	return 0;
}

volatile sig_atomic_t ddb_stop;

static void
on_stop(int sig)
{
	ddb_stop = sig;
}

void
ddb_catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/*
 * The temp file's name starts ".state.": ddb_dir_lock removes those a
 * killed run left.
 */
int
ddb_put_file(const char *dir, const char *name, const char *p, size_t n)
{
	char *tmp = xasprintf("%s/.state.%s.XXXXXX", dir, name);
	char *dst = xasprintf("%s/%s", dir, name);
	int fd, rc = 0;

	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		warn("%s", tmp);
		rc = DDB_EXIT_IO;
		goto out;
	}
	if (ddb_write_all(fd, p, n) == -1 || fsync(fd) == -1) {
		warn("%s", tmp);
		close(fd);
		unlink(tmp);
		rc = DDB_EXIT_IO;
		goto out;
	}
	if (close(fd) == -1 || rename(tmp, dst) == -1) {
		warn("%s", dst);
		unlink(tmp);
		rc = DDB_EXIT_IO;
		goto out;
	}
	if (ddb_sync_dir(dir) == -1) {
		warn("%s", dir);
		rc = DDB_EXIT_IO;
	}
out:
	free(tmp);
	free(dst);
	return rc;
}

int
ddb_state_bad(const char *dir, long line, const char *what)
{
	warnx("%s/state:%ld: %s", dir, line, what);
	return DDB_EXIT_IO;
}

int
ddb_state_read(const char *dir, const char *legacy, const char *kind,
    int (*line)(void *arg, char *text, long number), void *arg, int *exists)
{
	char *p = xasprintf("%s/state", dir), *l = NULL, what[64];
	size_t cap = 0;
	ssize_t len;
	long ln = 0;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(p, "r")) == NULL) {
		free(p);
		if (errno == ENOENT)
			return 0;
		warn("%s/state", dir);
		return DDB_EXIT_IO;
	}
	free(p);
	while (rc == 0 && (len = getline(&l, &cap, fp)) != -1) {
		ln++;
		if (len > 0 && l[len - 1] == '\n')
			l[--len] = '\0';
		else
			rc = ddb_state_bad(dir, ln, "cut off (no newline)");
		if (rc == 0 && ln == 1 && strcmp(l, DDB_STATE_MAGIC) != 0 &&
		    (legacy == NULL || strcmp(l, legacy) != 0)) {
			snprintf(what, sizeof what, "not a %s state file", kind);
			rc = ddb_state_bad(dir, ln, what);
		} else if (rc == 0 && ln == 1)
			*exists = strcmp(l, DDB_STATE_MAGIC) == 0 ? 1 : 2;
		else if (rc == 0 && ln > 1)
			rc = line(arg, l, ln);
	}
	if (rc == 0 && ferror(fp)) {
		warn("%s/state", dir);
		rc = DDB_EXIT_IO;
	}
	if (rc == 0)
		rc = line(arg, NULL, ln);
	free(l);
	fclose(fp);
	return rc;
}

char **
ddb_consumer_env(const char *drop, char *const *add)
{
	size_t n = 0, m = 0, i, k = 0, dl = strlen(drop);
	char **e;

	while (environ[n])
		n++;
	while (add[m])
		m++;
	e = xmalloc((n + m + 1) * sizeof *e);
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], drop, dl) != 0)
			e[k++] = environ[i];
	for (i = 0; i < m; i++)
		e[k++] = add[i];
	e[k] = NULL;
	return e;
}

/* the last line of a consumer's standard error, as it comes */
struct lastline {
	char cur[DDB_MSG_MAX + 1], last[DDB_MSG_MAX + 1];
	size_t n;
};

static void
lastline_take(struct lastline *l, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			if (l->n > 0) {
				memcpy(l->last, l->cur, l->n);
				l->last[l->n] = '\0';
			}
			l->n = 0;
		} else if (l->n < DDB_MSG_MAX) {
			l->cur[l->n++] = c < ' ' || c > '~' ? '?' : (char)c;
		}
	}
}

/* what is in the pipe now to our standard error: 0, or -1 at its end */
static int
relay(int fd, struct lastline *l)
{
	char buf[4096];
	ssize_t r;

	for (;;) {
		r = read(fd, buf, sizeof buf);
		if (r > 0) {
			ddb_write_all(2, buf, (size_t)r);
			lastline_take(l, buf, (size_t)r);
		} else if (r == -1 && errno == EINTR) {
			continue;
		} else {
			return r == 0 || errno != EAGAIN ? -1 : 0;
		}
	}
}

int
ddb_consume(char *const *cmd, int fd, char *const *env, char *msg)
{
	posix_spawn_file_actions_t fa;
	struct lastline *ll = NULL;
	int status, e, p[2] = { -1, -1 };
	pid_t pid, r;

	ddb_dir_alive();
	if (msg) {
		*msg = '\0';
		ll = xcalloc(1, sizeof *ll);
		if (pipe(p) == -1) {
			warn("pipe");
			free(ll);
			close(fd);
			return DDB_EXIT_SOFTWARE;
		}
		/* other threads' consumers must not hold its writing end */
		fcntl(p[0], F_SETFD, FD_CLOEXEC);
		fcntl(p[1], F_SETFD, FD_CLOEXEC);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	if (msg)
		posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	e = posix_spawnp(&pid, cmd[0], &fa, NULL, cmd, env);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	if (msg)
		close(p[1]);
	if (e != 0) {
		if (msg)
			close(p[0]);
		free(ll);
		warnx("%s: %s; batch not committed", cmd[0], strerror(e));
		return DDB_EXIT_SOFTWARE;
	}
	/*
	 * Its standard error relayed until it exits (not until the pipe's
	 * end: a process it left behind may hold the pipe open)
	 */
	for (;;) {
		if (msg && p[0] != -1) {
			struct pollfd pf = { .fd = p[0], .events = POLLIN };

			poll(&pf, 1, 100);
			if (relay(p[0], ll) == -1) {
				close(p[0]);
				p[0] = -1;
			}
		}
		r = waitpid(pid, &status, msg && p[0] != -1 ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			warn("waitpid");
			if (msg && p[0] != -1)
				close(p[0]);
			free(ll);
			return DDB_EXIT_SOFTWARE;
		}
	}
	if (msg) {
		if (p[0] != -1) {
			relay(p[0], ll);
			close(p[0]);
		}
		lastline_take(ll, "\n", 1);
		memcpy(msg, ll->last, strlen(ll->last) + 1);
		free(ll);
	}
	ddb_dir_alive();
	if (WIFSIGNALED(status)) {
		warnx("%s: killed by signal %d; batch not committed", cmd[0],
		    WTERMSIG(status));
		return DDB_EXIT_SOFTWARE;
	}
	switch (WEXITSTATUS(status)) {
	case 0:
		return 0;
	case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 75:
		warnx("%s: exit %d; batch not committed", cmd[0],
		    WEXITSTATUS(status));
		return WEXITSTATUS(status);
	default:
		warnx("%s: failed with exit %d; batch not committed", cmd[0],
		    WEXITSTATUS(status));
		return DDB_EXIT_SOFTWARE;
	}
}

/*
 * The test suite's crash points: DDB_TEST_KILL_AT=POINT makes the run
 * SIGKILL itself there (stage: half of the first records written to the
 * staging file; stage:N: half of the first records written to it once it
 * holds N records or more, so a batch staged page by page is cut mid-way;
 * staged: the file in place, the state not yet naming it; recorded: the
 * state names it, before the consumer; commit: the commit
 * saved, before the file is removed; in a bisection, split: a split
 * saved, before the first half's consumer; taken: a range taken, the
 * state not yet saying so; dead: a record dead-lettered, the state not
 * yet saying so)
 */
static int
crash_at(const char *point)
{
	const char *p = getenv("DDB_TEST_KILL_AT");

	return p != NULL && strcmp(p, point) == 0;
}

static void
crash_point(const char *point)
{
	if (crash_at(point))
		raise(SIGKILL);
}

/* stage or stage:N with N at most count */
static int
crash_staging(long count)
{
	const char *p = getenv("DDB_TEST_KILL_AT");
	long n = 0;

	if (p == NULL || strncmp(p, "stage", 5) != 0 ||
	    (p[5] != '\0' && (p[5] != ':' ||
	    ddb_long_arg(p + 6, 0, LONG_MAX, &n) != 0)))
		return 0;
	return count >= n;
}

int
ddb_batch_begin(struct ddb_batch *b, const char *dir, long part)
{
	memset(b, 0, sizeof *b);
	b->part = part;
	/* ".state.": a killed run's is removed by ddb_dir_lock */
	b->tmp = xasprintf("%s/.state.batch.%ld.XXXXXX", dir, part);
	if ((b->fd = mkostemp(b->tmp, O_CLOEXEC)) == -1) {
		warn("%s", b->tmp);
		free(b->tmp);
		b->tmp = NULL;
		return DDB_EXIT_IO;
	}
	if ((b->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1)
		errx(DDB_EXIT_SOFTWARE, "SHA-256: cannot start a digest");
	return 0;
}

void
ddb_batch_drop(struct ddb_batch *b)
{
	if (b->fd >= 0 && b->tmp)
		close(b->fd);
	if (b->tmp) {
		unlink(b->tmp);
		free(b->tmp);
	}
	EVP_MD_CTX_free(b->md);
	b->md = NULL;
	b->tmp = NULL;
	b->fd = -1;
}

int
ddb_batch_add(struct ddb_batch *b, const char *p, size_t n, long records)
{
	if (crash_staging(b->count) && ddb_write_all(b->fd, p, n / 2) == 0)
		raise(SIGKILL);
	if (ddb_write_all(b->fd, p, n) == -1) {
		warn("%s", b->tmp);
		return DDB_EXIT_IO;
	}
	EVP_DigestUpdate(b->md, p, n);
	b->bytes += n;
	b->count += records;
	return 0;
}

int
ddb_batch_stage(struct ddb_batch *b, const char *dir)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *dst = xasprintf("%s/batch.%ld", dir, b->part);
	int rc = 0;

	EVP_DigestFinal_ex(b->md, md, &len);
	ddb_hex(md, len, b->sha);
	if (fsync(b->fd) == -1 || close(b->fd) == -1) {
		warn("%s", b->tmp);
		b->fd = -1;
		rc = DDB_EXIT_IO;
	} else if (b->fd = -1, rename(b->tmp, dst) == -1) {
		warn("%s", dst);
		rc = DDB_EXIT_IO;
	} else {
		free(b->tmp);
		b->tmp = NULL;
		if (ddb_sync_dir(dir) == -1) {
			warn("%s", dir);
			rc = DDB_EXIT_IO;
		}
		crash_point("staged");
	}
	free(dst);
	ddb_batch_drop(b);
	return rc;
}

static int
num(const char *s, long lo, long hi, long *out)
{
	/* as the state writes them: no leading zero */
	if (s[0] == '0' && s[1])
		return -1;
	return ddb_long_arg(s, lo, hi, out);
}

int
ddb_batch_parse(char *text, struct ddb_batch *b, char **rest)
{
	char *f[4], *s = text;
	long bytes;
	int i;

	memset(b, 0, sizeof *b);
	b->fd = -1;
	for (i = 0; i < 4; i++) {
		f[i] = s;
		if ((s = strchr(s, ' ')) != NULL)
			*s++ = '\0';
		else if (i < 3)
			return -1;
	}
	*rest = s ? s : f[3] + strlen(f[3]);
	if (num(f[0], 0, 1000000, &b->part) != 0 ||
	    num(f[1], 1, LONG_MAX, &b->count) != 0 ||
	    num(f[2], 1, LONG_MAX, &bytes) != 0 ||
	    strlen(f[3]) != DDB_SHA256_HEX - 1 ||
	    strspn(f[3], "0123456789abcdef") != DDB_SHA256_HEX - 1)
		return -1;
	b->bytes = (size_t)bytes;
	memcpy(b->sha, f[3], DDB_SHA256_HEX);
	return 0;
}

char *
ddb_batch_fmt(const struct ddb_batch *b, const char *rest)
{
	struct ddb_buf t = { 0 };
	char *l;
	int i;

	l = xasprintf("batch %ld %ld %zu %s%s%s\n", b->part, b->count,
	    b->bytes, b->sha, rest && *rest ? " " : "", rest ? rest : "");
	if (b->attempts == 0 && (b->nr == 0 || (b->nr == 1 &&
	    b->lo[0] == 0 && b->hi[0] == b->count)))
		return l;
	ddb_buf_put(&t, l, strlen(l));
	free(l);
	l = xasprintf("todo %ld %ld ", b->part, b->attempts);
	ddb_buf_put(&t, l, strlen(l));
	free(l);
	for (i = 0; i < (b->nr ? b->nr : 1); i++) {
		l = xasprintf("%s%ld-%ld", i ? "," : "", b->nr ? b->lo[i] : 0,
		    b->nr ? b->hi[i] : b->count);
		ddb_buf_put(&t, l, strlen(l));
		free(l);
	}
	ddb_buf_put(&t, "\n", 2);
	return t.p;
}

long
ddb_todo_part(const char *text)
{
	char buf[16];
	size_t n = strcspn(text, " ");
	long part;

	if (n >= sizeof buf)
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return num(buf, 0, 1000000, &part) == 0 ? part : -1;
}

/* a number of text ending at one of the bytes of end: its end, or NULL */
static const char *
num_to(const char *text, const char *end, long hi, long *out)
{
	char buf[24];
	size_t n = strcspn(text, end);

	if (n == 0 || n >= sizeof buf || text[n] == '\0')
		return NULL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return num(buf, 0, hi, out) == 0 ? text + n : NULL;
}

int
ddb_todo_parse(const char *text, struct ddb_batch *b)
{
	const char *s = text;
	long part, prev = 0;
	int nr = 0;

	if ((s = num_to(s, " ", 1000000, &part)) == NULL || part != b->part ||
	    (s = num_to(s + 1, " ", LONG_MAX, &b->attempts)) == NULL)
		return -1;
	s++;
	for (;;) {
		long lo, hi;
		size_t n;
		char buf[24];

		if (nr == DDB_RANGES ||
		    (s = num_to(s, "-", b->count, &lo)) == NULL)
			return -1;
		s++;
		n = strcspn(s, ",");
		if (n == 0 || n >= sizeof buf)
			return -1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (num(buf, 1, b->count, &hi) != 0 || lo >= hi || lo < prev)
			return -1;
		b->lo[nr] = lo;
		b->hi[nr++] = prev = hi;
		s += n;
		if (*s == '\0')
			break;
		s++;
	}
	b->nr = nr;
	return 0;
}

/* DIR/batch.PART is the batch b names: its size and SHA-256; fd at 0 */
static int
batch_check(const char *path, int fd, const struct ddb_batch *b)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char buf[1 << 16], sha[DDB_SHA256_HEX];
	unsigned int len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t n = 0;
	ssize_t r;

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		errx(DDB_EXIT_SOFTWARE, "SHA-256: cannot start a digest");
	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			warn("%s", path);
			EVP_MD_CTX_free(c);
			return DDB_EXIT_IO;
		}
		EVP_DigestUpdate(c, buf, (size_t)r);
		n += (size_t)r;
	}
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	ddb_hex(md, len, sha);
	if (n != b->bytes) {
		warnx("%s: %zu bytes, the state names %zu (cut off or "
		    "altered); not handed on", path, n, b->bytes);
		return DDB_EXIT_IO;
	}
	if (strcmp(sha, b->sha) != 0) {
		warnx("%s: its SHA-256 is not the one the state names "
		    "(altered); not handed on", path);
		return DDB_EXIT_IO;
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		warn("%s", path);
		return DDB_EXIT_IO;
	}
	return 0;
}

/*
 * The byte offsets of the batch's records in fd (one a line): (*off)[i]
 * where record i starts, (*off)[count] the end; 0 or DDB_EXIT_IO (said)
 */
static int
record_offsets(const char *path, int fd, const struct ddb_batch *b,
    size_t **off)
{
	char buf[1 << 16];
	size_t pos = 0, k = 1;
	ssize_t r, i;

	*off = xmalloc(((size_t)b->count + 1) * sizeof **off);
	(*off)[0] = 0;
	while ((r = pread(fd, buf, sizeof buf, (off_t)pos)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			warn("%s", path);
			return DDB_EXIT_IO;
		}
		for (i = 0; i < r; i++)
			if (buf[i] == '\n') {
				if (k > (size_t)b->count)
					break;
				(*off)[k++] = pos + (size_t)i + 1;
			}
		pos += (size_t)r;
	}
	if (k != (size_t)b->count + 1 || (*off)[k - 1] != pos) {
		warnx("%s: not %ld records of one line each; not handed on",
		    path, b->count);
		return DDB_EXIT_IO;
	}
	return 0;
}

/* bytes [from, to) of fd, allocated */
static char *
bytes_of(int fd, size_t from, size_t to)
{
	char *p = xmalloc(to - from + 1);
	size_t got = 0;
	ssize_t r;

	while (got < to - from) {
		r = pread(fd, p + got, to - from - got, (off_t)(from + got));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(p);
			return NULL;
		}
		got += (size_t)r;
	}
	return p;
}

/*
 * Records [lo, hi) of the batch as a file of their own, open at its
 * start, its name gone (ddb_dir_lock removes a killed run's): the fd, or
 * -1 (said)
 */
static int
range_file(const char *dir, int fd, const size_t *off, long lo, long hi)
{
	char *tmp = xasprintf("%s/.state.range.XXXXXX", dir), *p;
	int t;

	if ((t = mkostemp(tmp, O_CLOEXEC)) == -1) {
		warn("%s", tmp);
		free(tmp);
		return -1;
	}
	unlink(tmp);
	p = bytes_of(fd, off[lo], off[hi]);
	if (p == NULL || ddb_write_all(t, p, off[hi] - off[lo]) == -1 ||
	    lseek(t, 0, SEEK_SET) == -1) {
		warn("%s", tmp);
		close(t);
		t = -1;
	}
	free(p);
	free(tmp);
	return t;
}

/* an s3://BUCKET/PREFIX place: s3-put stores DIR's temp file under NAME */
static int
dead_s3(const char *dir, const char *place, const char *name, const char *p,
    size_t n)
{
	char *tmp = xasprintf("%s/.state.dead.XXXXXX", dir), *uri, *argv[5];
	posix_spawn_file_actions_t fa;
	size_t pl = strlen(place);
	int fd, rc = 0, status, e;
	pid_t pid;

	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1 ||
	    ddb_write_all(fd, p, n) == -1 || close(fd) == -1) {
		warn("%s", tmp);
		if (fd != -1)
			unlink(tmp);
		free(tmp);
		return DDB_EXIT_IO;
	}
	while (pl > 5 && place[pl - 1] == '/')
		pl--;
	uri = xasprintf("%.*s/%s", (int)pl, place, name);
	argv[0] = "s3-put";
	argv[1] = "-f";
	argv[2] = tmp;
	argv[3] = uri;
	argv[4] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0) {
		warnx("s3-put: %s; dead letter not stored", strerror(e));
		rc = DDB_EXIT_SOFTWARE;
	} else {
		while (waitpid(pid, &status, 0) == -1)
			if (errno != EINTR) {
				status = -1;
				break;
			}
		if (status == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			rc = status != -1 && WIFEXITED(status) &&
			    (WEXITSTATUS(status) == DDB_EXIT_TEMPFAIL ||
			    (WEXITSTATUS(status) >= 1 &&
			    WEXITSTATUS(status) <= 4)) ? WEXITSTATUS(status) :
			    DDB_EXIT_SOFTWARE;
			warnx("s3-put: failed (exit %d); dead letter %s not "
			    "stored", rc, name);
		}
	}
	unlink(tmp);
	free(tmp);
	free(uri);
	return rc;
}

/*
 * Record i (rec[0..n)) to the dead-letter place, whole: one file, a line
 * of JSON saying where it is from and why, then the record's line exactly
 * as the consumer got it; atomic (temp file, fsync, rename; on S3 one
 * PUT).  0, or the status to stop with (said).
 */
static int
dead_letter(const char *dir, struct ddb_sink *s, long i, const char *rec,
    size_t n, const char *why, const char *msg, char **label)
{
	struct ddb_record_name nm = { 0 };
	struct ddb_buf b = { 0 };
	int rc;

	s->name(s->arg, i, rec, n, &nm);
	*label = nm.label;
	ddb_buf_putc(&b, '{');
	ddb_buf_put(&b, nm.meta, strlen(nm.meta));
	ddb_buf_put(&b, ",\"reason\":", 10);
	ddb_json_str(&b, why, strlen(why));
	ddb_buf_put(&b, ",\"message\":", 11);
	ddb_json_str(&b, msg, strlen(msg));
	ddb_buf_put(&b, "}\n", 2);
	ddb_buf_put(&b, rec, n);
	if (strncmp(s->dead, "s3://", 5) == 0) {
		rc = dead_s3(dir, s->dead, nm.file, b.p, b.n);
	} else if (mkdir(s->dead, 0700) == -1 && errno != EEXIST) {
		warn("%s", s->dead);
		rc = DDB_EXIT_IO;
	} else {
		rc = ddb_put_file(s->dead, nm.file, b.p, b.n);
	}
	if (rc == 0) {
		size_t pl = strlen(s->dead);

		while (pl > 1 && s->dead[pl - 1] == '/')
			pl--;
		s->dead_count++;
		warnx("%s: dead-lettered to %.*s/%s (%s)", nm.label, (int)pl,
		    s->dead, nm.file, why);
	}
	free(b.p);
	free(nm.file);
	free(nm.meta);
	return rc;
}

void
ddb_safe_name(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			*s = '_';
}

/* the first range taken: the progress moves on */
static void
range_pop(struct ddb_batch *b)
{
	memmove(b->lo, b->lo + 1, (size_t)(b->nr - 1) * sizeof *b->lo);
	memmove(b->hi, b->hi + 1, (size_t)(b->nr - 1) * sizeof *b->hi);
	b->nr--;
	b->attempts = 0;
}

/* the records of the first range to the dead-letter place */
static int
dead_range(const char *dir, struct ddb_sink *s, struct ddb_batch *b,
    int fd, const size_t *off, const char *why, const char *msg)
{
	long i;
	int rc = 0;

	for (i = b->lo[0]; i < b->hi[0] && rc == 0; i++) {
		char *rec = bytes_of(fd, off[i], off[i + 1]), *label = NULL;

		if (rec == NULL) {
			warnx("%s/batch.%ld: cannot be read", dir, b->part);
			return DDB_EXIT_IO;
		}
		rc = dead_letter(dir, s, i, rec, off[i + 1] - off[i], why, msg,
		    &label);
		free(rec);
		free(label);
	}
	return rc;
}

/* records [lo, hi) for the log, counted from 1: "3-4", or "3" */
static const char *
span(long lo, long hi, char *buf)
{
	if (hi - lo == 1)
		snprintf(buf, 48, "%ld", hi);
	else
		snprintf(buf, 48, "%ld-%ld", lo + 1, hi);
	return buf;
}

int
ddb_batch_run(const char *dir, const struct ddb_batch *staged,
    struct ddb_sink *s)
{
	/* the progress is worked on here, the source's copy replaced only
	 * by its save (under its own lock, if it has threads) */
	struct ddb_batch w = *staged, *b = &w;
	char *path = xasprintf("%s/batch.%ld", dir, b->part);
	char msg[DDB_MSG_MAX + 1], why[128], h1[48], h2[48];
	size_t *off = NULL;
	int fd, in, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("%s: the staged batch the state names", path);
		free(path);
		return DDB_EXIT_IO;
	}
	if ((rc = batch_check(path, fd, b)) != 0)
		goto out;
	if (b->nr == 0) {
		b->nr = 1;
		b->lo[0] = 0;
		b->hi[0] = b->count;
	}
	if (!(b->lo[0] == 0 && b->hi[0] == b->count) &&
	    (rc = record_offsets(path, fd, b, &off)) != 0)
		goto out;
	fflush(NULL);
	crash_point("recorded");
	while (b->nr > 0) {
		long lo = b->lo[0], hi = b->hi[0], mid;

		if (lo == 0 && hi == b->count)
			in = lseek(fd, 0, SEEK_SET) == -1 ? -1 :
			    fcntl(fd, F_DUPFD_CLOEXEC, 0);
		else
			in = range_file(dir, fd, off, lo, hi);
		if (in == -1) {
			warn("%s", path);
			rc = DDB_EXIT_IO;
			goto out;
		}
		rc = ddb_consume(s->cmd, in, s->env, msg);
		if (rc == 0) {
			s->delivered += hi - lo;
			range_pop(b);
			if (hi - lo != b->count)
				crash_point("taken");
			if (b->nr > 0 && (rc = s->save(s->arg, b)) != 0)
				goto out;
			continue;
		}
		if (rc == DDB_EXIT_TEMPFAIL) {
			s->tempfails++;
			b->attempts++;
			if (s->max_attempts == 0 || b->attempts < s->max_attempts) {
				int r = s->save(s->arg, b);
				rc = r ? r : rc;
				goto out;
			}
			if (s->dead == NULL) {
				warnx("ATTEMPTS: records %ld-%ld of %s: the "
				    "consumer failed temporarily %ld times in a "
				    "row (--batch-attempts %ld); no dead-letter "
				    "place: the batch is kept, nothing dropped",
				    lo + 1, hi, path, b->attempts,
				    s->max_attempts);
				rc = s->save(s->arg, b);
				rc = rc ? rc : DDB_EXIT_ATTEMPTS;
				goto out;
			}
			if (off == NULL &&
			    (rc = record_offsets(path, fd, b, &off)) != 0)
				goto out;
			snprintf(why, sizeof why, "temporary failure (exit 75) "
			    "%ld times in a row", b->attempts);
			if ((rc = dead_range(dir, s, b, fd, off, why, msg)) != 0)
				goto out;
			crash_point("dead");
			range_pop(b);
			if (b->nr > 0 && (rc = s->save(s->arg, b)) != 0)
				goto out;
			continue;
		}
		if (rc != DDB_EXIT_DATA)
			goto out;
		if (off == NULL && (rc = record_offsets(path, fd, b, &off)) != 0)
			goto out;
		b->attempts = 0;
		if (hi - lo > 1) {
			/* bisected: halves in order; the state says so before
			 * either runs, so the range is never handed on whole
			 * again over a half already taken */
			if (b->nr == DDB_RANGES) {
				warnx("%s: bisection deeper than %d ranges",
				    path, DDB_RANGES);
				rc = DDB_EXIT_SOFTWARE;
				goto out;
			}
			mid = lo + (hi - lo) / 2;
			memmove(b->lo + 1, b->lo, (size_t)b->nr * sizeof *b->lo);
			memmove(b->hi + 1, b->hi, (size_t)b->nr * sizeof *b->hi);
			b->nr++;
			b->hi[0] = mid;
			b->lo[1] = mid;
			s->bisected++;
			warnx("records %ld-%ld of %ld refused as bad data: "
			    "bisected into %s and %s", lo + 1, hi, b->count,
			    span(lo, mid, h1), span(mid, hi, h2));
			if ((rc = s->save(s->arg, b)) != 0)
				goto out;
			crash_point("split");
			continue;
		}
		if (s->dead == NULL) {
			struct ddb_record_name nm = { 0 };
			char *rec = bytes_of(fd, off[lo], off[hi]);

			if (rec != NULL) {
				s->name(s->arg, lo, rec, off[hi] - off[lo], &nm);
				free(nm.file);
				free(nm.meta);
			}
			warnx("BAD RECORD: %s (record %ld of %ld) refused by the "
			    "consumer; no dead-letter place (--dead-letter): "
			    "stopped there, nothing skipped", nm.label ?
			    nm.label : "?", lo + 1, b->count);
			free(nm.label);
			free(rec);
			rc = s->save(s->arg, b);
			rc = rc ? rc : DDB_EXIT_DATA;
			goto out;
		}
		if ((rc = dead_range(dir, s, b, fd, off, "refused as bad data "
		    "(exit 1)", msg)) != 0)
			goto out;
		crash_point("dead");
		range_pop(b);
		if (b->nr > 0 && (rc = s->save(s->arg, b)) != 0)
			goto out;
	}
	rc = 0;
out:
	close(fd);
	free(off);
	free(path);
	return rc;
}

const char *
ddb_todo_text(const struct ddb_batch *b)
{
	static char buf[128];
	char h[48];
	size_t n;
	int i;

	buf[0] = '\0';
	if (b->nr == 0 || (b->nr == 1 && b->lo[0] == 0 &&
	    b->hi[0] == b->count))
		return buf;
	n = (size_t)snprintf(buf, sizeof buf, "; bisected: records");
	for (i = 0; i < b->nr && n + 48 < sizeof buf; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s %s",
		    i ? "," : "", span(b->lo[i], b->hi[i], h));
	snprintf(buf + n, sizeof buf - n, "%s still to hand on",
	    i < b->nr ? ", ..." : "");
	return buf;
}

int
ddb_sink_opt(struct ddb_sink *s, int c, const char *arg)
{
	const char *b = arg + 5;

	if (c == DDB_OPT_ATTEMPTS)
		return ddb_long_opt(arg, 1, 1000000000L, "batch attempts",
		    &s->max_attempts);
	if (strncmp(arg, "s3://", 5) == 0 ? *b == '\0' || *b == '/' ||
	    strcspn(b, "/") > 63 : *arg == '\0') {
		warnx("--dead-letter: not a directory or s3://BUCKET/PREFIX: "
		    "%s", arg);
		return -1;
	}
	s->dead = arg;
	return 0;
}

const char *
ddb_sink_counts(long bisected, long dead, long tempfails)
{
	static char buf[160];
	int n = 0;

	buf[0] = '\0';
	if (bisected)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "; %ld "
		    "bisection%s", bisected, bisected == 1 ? "" : "s");
	if (dead)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s %ld record%s "
		    "dead-lettered", n ? "," : ";", dead, dead == 1 ? "" : "s");
	if (tempfails)
		snprintf(buf + n, sizeof buf - (size_t)n, "%s %ld temporary "
		    "failure%s", n ? "," : ";", tempfails,
		    tempfails == 1 ? "" : "s");
	return buf;
}

void
ddb_batch_remove(const char *dir, long part)
{
	char *path = xasprintf("%s/batch.%ld", dir, part);

	crash_point("commit");
	if (unlink(path) == -1 && errno != ENOENT)
		warn("%s", path);
	free(path);
}

void
ddb_batch_sweep(const char *dir, int (*staged)(void *arg, long part),
    void *arg)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	long part;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "batch.", 6) == 0 &&
		    num(e->d_name + 6, 0, 1000000, &part) == 0 &&
		    !staged(arg, part) && unlinkat(dirfd(d), e->d_name, 0) == 0)
			warnx("%s/%s: removed, a batch no state names "
			    "(committed, or never recorded)", dir, e->d_name);
	closedir(d);
}
