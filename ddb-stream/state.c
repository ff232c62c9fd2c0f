/* state.c: ddb-stream's state file: the positions, the batch in flight */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/*
 * DIR/state, one line each, fields separated by one space:
 *   ddb-stream-state 1
 *   stream ARN
 *   shard ID SEQ|- open|done
 *   batch ID FIRST LAST COUNT     the batch handed on, not yet acknowledged
 * It is replaced as a whole (ddb_put_file: temp file, fsync, rename, fsync
 * of DIR), so a crash leaves the old state or the new one, never a mix.
 */
#define STATE_MAGIC "ddb-stream-state 1"

/* SequenceNumber: 21 to 40 decimal digits */
int
seq_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 21 || n > 40)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* order of two sequence numbers as numbers */
int
seq_cmp(const char *a, const char *b)
{
	size_t na, nb;
	int c;

	while (*a == '0' && a[1])
		a++;
	while (*b == '0' && b[1])
		b++;
	na = strlen(a);
	nb = strlen(b);
	if (na != nb)
		return na < nb ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}

/* n bytes of s, each printable ASCII other than a space */
static int
graph_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/*
 * ShardId: 28 to 65 characters (the Streams API reference gives no
 * pattern); printable ASCII without a space is what the state file's
 * space-separated lines can hold
 */
int
shard_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 28 && n <= 65 && graph_ok(s, n);
}

/*
 * StreamArn: 37 to 1024 characters (the Streams API reference), shaped
 * arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL;
 * printable ASCII without a space, as for a ShardId
 */
int
stream_arn_ok(const char *s)
{
	size_t n = strlen(s);
	const char *t;
	int colons = 0;

	if (n < 37 || n > 1024 || !graph_ok(s, n) || strncmp(s, "arn:", 4))
		return 0;
	for (t = s; *t && colons < 5; t++)
		colons += *t == ':';
	return colons == 5 && strstr(s, ":dynamodb:") != NULL &&
	    strncmp(t, "table/", 6) == 0 && strstr(t, "/stream/") != NULL;
}

struct shard *
state_shard(struct state *st, const char *id, int add)
{
	size_t i;

	for (i = 0; i < st->nsh; i++)
		if (strcmp(st->sh[i].id, id) == 0)
			return &st->sh[i];
	if (!add)
		return NULL;
	if (st->nsh == st->capsh) {
		st->capsh = st->capsh ? st->capsh * 2 : 16;
		st->sh = realloc(st->sh, st->capsh * sizeof *st->sh);
		if (st->sh == NULL)
			errx(DDB_EXIT_IO, "out of memory");
	}
	memset(&st->sh[st->nsh], 0, sizeof st->sh[0]);
	st->sh[st->nsh].id = xstrdup(id);
	return &st->sh[st->nsh++];
}

static int
bad(const struct state *st, long line, const char *what)
{
	return ddb_state_bad(st->dir, line, what);
}

/* one line of DIR/state after the first; NULL: the end */
static int
state_line(void *arg, char *line, long ln)
{
	struct state *st = arg;
	char *f[6], *s = line, *save = NULL;
	int nf = 0;

	if (line == NULL)
		return ln == 0 || st->arn == NULL ? bad(st, ln,
		    "no stream line") : 0;
	while (nf < 6 && (f[nf] = strtok_r(s, " ", &save)) != NULL) {
		s = NULL;
		nf++;
	}
	if (nf == 2 && strcmp(f[0], "stream") == 0 && stream_arn_ok(f[1])) {
		free(st->arn);
		st->arn = xstrdup(f[1]);
	} else if (nf == 4 && strcmp(f[0], "shard") == 0 &&
	    shard_id_ok(f[1]) && (strcmp(f[2], "-") == 0 ||
	    seq_ok(f[2], strlen(f[2]))) && (strcmp(f[3], "open") == 0 ||
	    strcmp(f[3], "done") == 0)) {
		struct shard *sh = state_shard(st, f[1], 1);
		sh->seq = strcmp(f[2], "-") ? xstrdup(f[2]) : NULL;
		sh->done = strcmp(f[3], "done") == 0;
		sh->known = 1;
	} else if (nf == 5 && strcmp(f[0], "batch") == 0 &&
	    shard_id_ok(f[1]) && seq_ok(f[2], strlen(f[2])) &&
	    seq_ok(f[3], strlen(f[3])) && atol(f[4]) > 0) {
		struct pending *pd;
		st->pend = realloc(st->pend,
		    (st->npend + 1) * sizeof *st->pend);
		if (st->pend == NULL)
			errx(DDB_EXIT_IO, "out of memory");
		pd = &st->pend[st->npend++];
		pd->id = xstrdup(f[1]);
		pd->first = xstrdup(f[2]);
		pd->last = xstrdup(f[3]);
		pd->count = atol(f[4]);
	} else {
		return bad(st, ln, "not a state line");
	}
	return 0;
}

int
state_load(struct state *st)
{
	return ddb_state_read(st->dir, STATE_MAGIC, "ddb-stream", state_line,
	    st, &st->exists);
}

/*
 * Replace DIR/state with the positions in st and the pending batch p
 * (np ranges, 0 for none): one atomic step.
 */
int
state_save(struct state *st, const struct pending *p, size_t np)
{
	struct ddb_buf b = { 0 };
	size_t i;
	int rc;

	/* what the loader would refuse is never written (the service's
	 * answers and the command line are checked before they get here) */
	if (!stream_arn_ok(st->arn)) {
		warnx("%s/state: not saved: the stream ARN is not one", st->dir);
		return DDB_EXIT_SOFTWARE;
	}
	for (i = 0; i < st->nsh; i++)
		if (st->sh[i].known && !shard_id_ok(st->sh[i].id)) {
			warnx("%s/state: not saved: a ShardId is not one",
			    st->dir);
			return DDB_EXIT_SOFTWARE;
		}
	ddb_buf_put(&b, STATE_MAGIC "\n", strlen(STATE_MAGIC) + 1);
	ddb_buf_put(&b, "stream ", 7);
	ddb_buf_put(&b, st->arn, strlen(st->arn));
	ddb_buf_putc(&b, '\n');
	for (i = 0; i < st->nsh; i++) {
		const struct shard *sh = &st->sh[i];
		char *l;

		if (!sh->known)
			continue;
		l = xasprintf("shard %s %s %s\n", sh->id,
		    sh->seq ? sh->seq : "-", sh->done ? "done" : "open");
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	for (i = 0; i < np; i++) {
		char *l = xasprintf("batch %s %s %s %ld\n", p[i].id,
		    p[i].first, p[i].last, p[i].count);
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	rc = ddb_put_file(st->dir, "state", b.p, b.n);
	free(b.p);
	return rc;
}
