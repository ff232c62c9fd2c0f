/* state.c: ddb-scan's state directory: settings, positions, the batch */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

/*
 * DIR/state (statedir.h's format), one line each, fields separated by one
 * space:
 *   ddb-state 2
 *   source scan TABLE
 *   arn TABLE-ARN
 *   segments N
 *   page-size N                  0: no Limit
 *   consistent 0|1
 *   created-at TEXT              JSON: a number or a string
 *   segment I open|done PAGES ITEMS KEY|-       a cursor
 *   batch I COUNT BYTES SHA256 NEXT|-           segment I's staged batch
 *   todo I ATTEMPTS LO-HI,...    its progress, if any (statedir.h)
 * KEY and NEXT are ExclusiveStartKey and LastEvaluatedKey as JSON on one
 * line (the rest of the line: they may hold spaces).  A batch line is the
 * staged batch, not yet committed: its records are DIR/batch.I, BYTES long,
 * that SHA-256; at the commit segment I's cursor becomes NEXT.  Every file
 * is replaced as a whole (ddb_put_file: temp file, fsync, rename, fsync of
 * DIR).  The older format ("ddb-scan-state 1", "table NAME" for the source
 * line, the same other lines) is read, and replaced at the next save.
 */
#define STATE_LEGACY "ddb-scan-state 1"

/* a key as JSON text: an object, one line */
static int
key_ok(const char *s)
{
	struct ddb_arena a = { 0 };
	struct ddb_json_stack js = { 0 };
	struct jv v;
	size_t off;
	int ok;

	ok = ddb_json_parse(&a, &js, s, strlen(s), DDB_READ_DEPTH, &v,
	    &off) == 0 && v.type == JV_OBJECT && v.n > 0;
	ddb_arena_free(&a);
	ddb_json_stack_free(&js);
	return ok;
}

/* the first n space-separated fields of s; *rest: what follows them */
static int
fields(char *s, char **f, int n, char **rest)
{
	int i;

	for (i = 0; i < n; i++) {
		f[i] = s;
		if ((s = strchr(s, ' ')) == NULL)
			return i + 1 == n && rest == NULL ? n : -1;
		*s++ = '\0';
	}
	if (rest == NULL)
		return -1;
	*rest = s;
	return n;
}

/* one line of DIR/state after the first; NULL: the end */
static int
line_of(void *arg, char *l, long ln)
{
	struct sstate *st = arg;
	char *f[6], *rest;
	struct ddb_batch bt;
	long i;

	if (l == NULL)
		return st->table == NULL || st->arn == NULL || st->seg == NULL ||
		    st->created == NULL ? ddb_state_bad(st->dir, ln,
		    "no table, arn, segments "
		    "or created-at line") : 0;
	if (st->exists == 2 && strncmp(l, "table ", 6) == 0 &&
	    st->table == NULL && ddb_table_name_ok(l + 6, strlen(l + 6)))
		st->table = xstrdup(l + 6);
	else if (st->exists == 1 && strncmp(l, "source scan ", 12) == 0 &&
	    st->table == NULL && ddb_table_name_ok(l + 12, strlen(l + 12)))
		st->table = xstrdup(l + 12);
	else if (st->exists == 1 && strncmp(l, "source ", 7) == 0)
		return ddb_state_bad(st->dir, ln,
		    "the state of another kind of source "
		    "(not a scan)");
	else if (strncmp(l, "arn ", 4) == 0 && st->arn == NULL && l[4])
		st->arn = xstrdup(l + 4);
	else if (strncmp(l, "segments ", 9) == 0 && st->seg == NULL &&
	    ddb_long_arg(l + 9, 1, 1000000, &st->segments) == 0) {
		st->seg = xcalloc((size_t)st->segments, sizeof *st->seg);
	} else if (strncmp(l, "page-size ", 10) == 0 &&
	    ddb_long_arg(l + 10, 0, 1000000000L, &st->page_size) == 0)
		;
	else if (strcmp(l, "consistent 0") == 0 ||
	    strcmp(l, "consistent 1") == 0)
		st->consistent = l[11] == '1';
	else if (strncmp(l, "created-at ", 11) == 0 && st->created == NULL &&
	    l[11])
		st->created = xstrdup(l + 11);
	else if (strncmp(l, "segment ", 8) == 0 && st->seg &&
	    fields(l + 8, f, 4, &rest) == 4 &&
	    ddb_long_arg(f[0], 0, st->segments - 1, &i) == 0 &&
	    (strcmp(f[1], "open") == 0 || strcmp(f[1], "done") == 0) &&
	    ddb_long_arg(f[2], 0, 0x7fffffffL, &st->seg[i].pages) == 0 &&
	    ddb_long_arg(f[3], 0, 0x7fffffffL, &st->seg[i].items) == 0 &&
	    (strcmp(rest, "-") == 0 || key_ok(rest))) {
		st->seg[i].done = f[1][0] == 'd';
		free(st->seg[i].pos);
		st->seg[i].pos = strcmp(rest, "-") ? xstrdup(rest) : NULL;
	} else if (strncmp(l, "batch ", 6) == 0 && st->seg &&
	    ddb_batch_parse(l + 6, &bt, &rest) == 0 &&
	    bt.part < st->segments && !st->seg[bt.part].pending &&
	    (strcmp(rest, "-") == 0 || key_ok(rest))) {
		i = bt.part;
		st->seg[i].pending = 1;
		st->seg[i].pb = bt;
		st->seg[i].pnext = strcmp(rest, "-") ? xstrdup(rest) : NULL;
	} else if (strncmp(l, "todo ", 5) == 0 && st->seg &&
	    (i = ddb_todo_part(l + 5)) >= 0 && i < st->segments &&
	    st->seg[i].pending &&
	    ddb_todo_parse(l + 5, &st->seg[i].pb) == 0)
		;
	else
		return ddb_state_bad(st->dir, ln, "not a state line");
	return 0;
}

int
sstate_load(struct sstate *st)
{
	return ddb_state_read(st->dir, STATE_LEGACY, "ddb-scan", line_of, st,
	    &st->exists);
}

/* DIR/state from st: the caller holds the lock of st (one writer) */
int
sstate_save(struct sstate *st)
{
	struct ddb_buf b = { 0 };
	long i;
	int rc;
	char *l;

	l = xasprintf(DDB_STATE_MAGIC "\nsource scan %s\narn %s\nsegments %ld\n"
	    "page-size %ld\nconsistent %d\ncreated-at %s\n", st->table,
	    st->arn, st->segments, st->page_size, st->consistent,
	    st->created);
	ddb_buf_put(&b, l, strlen(l));
	free(l);
	for (i = 0; i < st->segments; i++) {
		const struct seg *s = &st->seg[i];

		l = xasprintf("segment %ld %s %ld %ld %s\n", i,
		    s->done ? "done" : "open", s->pages, s->items,
		    s->pos ? s->pos : "-");
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	for (i = 0; i < st->segments; i++) {
		const struct seg *s = &st->seg[i];

		if (!s->pending)
			continue;
		l = ddb_batch_fmt(&s->pb, s->pnext ? s->pnext : "-");
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	rc = ddb_put_file(st->dir, "state", b.p, b.n);
	free(b.p);
	return rc;
}

void
sstate_free(struct sstate *st)
{
	long i;

	for (i = 0; st->seg && i < st->segments; i++) {
		free(st->seg[i].pos);
		free(st->seg[i].pnext);
	}
	free(st->seg);
	free(st->table);
	free(st->arn);
	free(st->created);
	if (st->dir && st->lockfd >= 0)
		close(st->lockfd);
	memset(st, 0, sizeof *st);
}
