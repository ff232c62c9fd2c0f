/* process.c: credential_process, run as the AWS CLI runs it: split into
 * words like a POSIX shell would (quotes, backslashes; no expansions), run
 * without a shell, its standard output one JSON object (Version 1) */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "credsrc.h"

#define PROC_OUT_MAX 65536
#define PROC_TIMEOUT 60		/* seconds, unless
				   DDB_CREDENTIAL_PROCESS_TIMEOUT says */

extern char **environ;

/*
 * How long credential_process may take to answer and exit: a hung one
 * would hang the tool, and a cron run would keep its state's lock for ever
 */
static double
proc_timeout(void)
{
	const char *v = getenv("DDB_CREDENTIAL_PROCESS_TIMEOUT");
	double t;

	if (v == NULL || *v == '\0')
		return PROC_TIMEOUT;
	if (ddb_double_arg(v, 0.1, 86400, &t) == 0)
		return t;
	warnx("bad DDB_CREDENTIAL_PROCESS_TIMEOUT: %s (%d s used)", v,
	    PROC_TIMEOUT);
	return PROC_TIMEOUT;
}

/* the words of s, NULL-terminated; NULL if a quote is not closed */
static char **
split(const char *s, size_t *count)
{
	size_t cap = 8, n = 0, len = strlen(s);
	char **argv = xmalloc(cap * sizeof *argv), *w;
	size_t wl;

	w = xmalloc(len + 1);
	while (*s) {
		int any = 0;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (*s == '\0')
			break;
		wl = 0;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
			any = 1;
			if (*s == '\'') {
				for (s++; *s && *s != '\''; s++)
					w[wl++] = *s;
				if (*s != '\'')
					goto bad;
				s++;
			} else if (*s == '"') {
				for (s++; *s && *s != '"'; s++) {
					if (*s == '\\' && (s[1] == '"' ||
					    s[1] == '\\' || s[1] == '$' ||
					    s[1] == '`'))
						s++;
					w[wl++] = *s;
				}
				if (*s != '"')
					goto bad;
				s++;
			} else if (*s == '\\' && s[1]) {
				w[wl++] = s[1];
				s += 2;
			} else {
				w[wl++] = *s++;
			}
		}
		if (any) {
			if (n + 2 > cap)
				argv = xreallocarray(argv, cap *= 2,
				    sizeof *argv);
			w[wl] = '\0';
			argv[n++] = xstrdup(w);
		}
	}
	free(w);
	argv[n] = NULL;
	*count = n;
	return argv;
bad:
	while (n > 0)
		free(argv[--n]);
	free(argv);
	free(w);
	return NULL;
}

static int
parse(const char *profile, const char *out, size_t len, struct creds *c)
{
	struct ddb_arena a = { 0 };
	struct ddb_json_stack st = { 0 };
	struct jv v, *ver;
	size_t off;
	char what[300];
	int rc = DDB_EXIT_REFUSED;

	snprintf(what, sizeof what, "profile %s: credential_process", profile);
	if (ddb_json_parse(&a, &st, out, len, 8, &v, &off) != 0 ||
	    v.type != JV_OBJECT)
		warnx("%s: its output is no JSON object", what);
	else if ((ver = jv_get(&v, "Version")) == NULL ||
	    ver->type != JV_NUMBER || ver->n != 1 || ver->u.s[0] != '1')
		warnx("%s: its output's Version is not 1", what);
	else {
		rc = creds_take(c, creds_jv_str(&v, "AccessKeyId"),
		    creds_jv_str(&v, "SecretAccessKey"),
		    creds_jv_str(&v, "SessionToken"),
		    creds_jv_str(&v, "Expiration"), what);
		if (rc == 0)
			c->source = "credential_process";
	}
	ddb_json_stack_free(&st);
	ddb_arena_free(&a);
	return rc;
}

int
creds_process(const char *profile, const char *cmd, struct creds *c)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	char **argv, *out;
	size_t n, len = 0, i;
	int p[2], status = -1, rc, e;
	double end, left, limit;
	ssize_t k;
	pid_t pid, w;

	if ((argv = split(cmd, &n)) == NULL || n == 0) {
		warnx("profile %s: credential_process: %s", profile,
		    argv ? "empty" : "a quote is not closed");
		free(argv);
		return DDB_EXIT_REFUSED;
	}
	/*
	 * A path that cannot run is said as such here: posix_spawnp reports
	 * it only where the C library spawns by vfork (under valgrind the
	 * child just exits 127)
	 */
	if (strchr(argv[0], '/') != NULL && access(argv[0], X_OK) == -1) {
		warn("profile %s: credential_process: %s", profile, argv[0]);
		for (i = 0; i < n; i++)
			free(argv[i]);
		free(argv);
		return DDB_EXIT_REFUSED;
	}
	if (pipe2(p, O_CLOEXEC) == -1)
		err(DDB_EXIT_IO, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	/* its own process group, so that a timeout ends what it started */
	posix_spawnattr_init(&sa);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&sa, 0);
	e = posix_spawnp(&pid, argv[0], &fa, &sa, argv, environ);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e != 0) {
		warnx("profile %s: credential_process: %s: %s", profile,
		    argv[0], strerror(e));
		close(p[0]);
		for (i = 0; i < n; i++)
			free(argv[i]);
		free(argv);
		return DDB_EXIT_REFUSED;
	}
	out = xmalloc(PROC_OUT_MAX + 1);
	limit = proc_timeout();
	end = ddb_now() + limit;
	while (len <= PROC_OUT_MAX && (left = end - ddb_now()) > 0) {
		struct pollfd pf = { p[0], POLLIN, 0 };

		if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
			continue;	/* EINTR, or the time is up */
		k = read(p[0], out + len, PROC_OUT_MAX + 1 - len);
		if (k == 0 || (k < 0 && errno != EINTR))
			break;
		if (k > 0)
			len += (size_t)k;
	}
	close(p[0]);
	/* its output ended: it has what is left of the time to exit */
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && ddb_now() < end) {
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	if (w == 0) {
		kill(-pid, SIGKILL);	/* it, and what it started */
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		warnx("profile %s: credential_process %s gave no answer in "
		    "%g s: killed", profile, argv[0], limit);
		rc = DDB_EXIT_TEMPFAIL;
		goto out;
	}
	out[len > PROC_OUT_MAX ? PROC_OUT_MAX : len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			warnx("profile %s: credential_process %s exited with "
			    "status %d", profile, argv[0], WEXITSTATUS(status));
		else
			warnx("profile %s: credential_process %s was killed "
			    "by signal %d", profile, argv[0],
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		rc = DDB_EXIT_REFUSED;
	} else if (len > PROC_OUT_MAX) {
		warnx("profile %s: credential_process %s wrote more than %d "
		    "bytes", profile, argv[0], PROC_OUT_MAX);
		rc = DDB_EXIT_REFUSED;
	} else {
		rc = parse(profile, out, len, c);
	}
out:
	memset(out, 0, PROC_OUT_MAX + 1);
	free(out);
	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	return rc;
}
