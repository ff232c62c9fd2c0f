/* statedir.c: a state directory and a batch's consumer (ddb-stream, ddb-scan) */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

int
ddb_consume(char *const *cmd, int fd, char *const *env)
{
	posix_spawn_file_actions_t fa;
	int status, e;
	pid_t pid;

	ddb_dir_alive();
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	e = posix_spawnp(&pid, cmd[0], &fa, NULL, cmd, env);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	if (e != 0) {
		warnx("%s: %s; batch not committed", cmd[0], strerror(e));
		return DDB_EXIT_SOFTWARE;
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			warn("waitpid");
			return DDB_EXIT_SOFTWARE;
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
 * staging file; staged: the file in place, the state not yet naming it;
 * recorded: the state names it, before the consumer; commit: the commit
 * saved, before the file is removed)
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
	if (crash_at("stage") && ddb_write_all(b->fd, p, n / 2) == 0)
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
	return xasprintf("batch %ld %ld %zu %s%s%s\n", b->part, b->count,
	    b->bytes, b->sha, rest && *rest ? " " : "", rest ? rest : "");
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

int
ddb_batch_run(const char *dir, const struct ddb_batch *b, char *const *cmd,
    char *const *env)
{
	char *path = xasprintf("%s/batch.%ld", dir, b->part);
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("%s: the staged batch the state names", path);
		free(path);
		return DDB_EXIT_IO;
	}
	if ((rc = batch_check(path, fd, b)) != 0) {
		close(fd);
		free(path);
		return rc;
	}
	free(path);
	fflush(NULL);
	crash_point("recorded");
	return ddb_consume(cmd, fd, env);
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
