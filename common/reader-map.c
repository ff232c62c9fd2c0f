/*
 * reader-map.c: a regular file's events read through a mapping of it (no
 * copy of an event into val), and with DDB_READ_SPEC an event's records
 * parsed where they lie, one by one, without the plain path's scan of the
 * whole event first.  While all of the event is sound JSON of the usual
 * shape, what comes out is what the plain path's scan and split give; at
 * the first doubt the event is read again from its start the plain way
 * (the caller has said nothing of its records yet).  tests/reader-diff.c
 * checks that rule.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "reader-int.h"

/*
 * From here on, read a regular file through a mapping of it:
 * r->in[r->inpos] stays the same byte.  Nothing changes if the file cannot
 * be mapped.
 */
static void
map_file(struct ddb_reader *r)
{
	struct stat st;
	off_t pos;
	void *p;

	r->mapok = 0;
	if (!r->sniffed || r->gz != NULL || fstat(fileno(r->fp), &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (pos = ftello(r->fp)) < 0 || pos > st.st_size ||
	    (size_t)pos < r->inend - r->inpos)
		return;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE, fileno(r->fp), 0);
	if (p == MAP_FAILED)
		return;
	r->in = p;
	r->maplen = (size_t)st.st_size;
	r->inpos = r->inend = (size_t)pos - (r->inend - r->inpos);
	r->mapfree = r->inpos & ~(size_t)4095;
	r->eof = 1;
	(void)reader_map_fill(r);
}

/* the mapping's next window after r->inend: nonzero if there is one */
int
reader_map_fill(struct ddb_reader *r)
{
	size_t from = r->inend & ~(size_t)4095;

	if (r->inend == r->maplen)
		return 0;
	r->inend = r->maplen - r->inend > DDB_MAP_WINDOW ?
	    r->inend + DDB_MAP_WINDOW : r->maplen;
#ifdef MADV_POPULATE_READ
	(void)madvise(r->in + from, r->inend - from, MADV_POPULATE_READ);
#endif
	return 1;
}

/* a mapped file's pages before the value that starts at r->in[r->inpos] */
void
reader_map_release(struct ddb_reader *r)
{
	size_t to = r->inpos & ~(size_t)4095;

	if (r->in != r->inbuf && to - r->mapfree >= DDB_MAP_WINDOW) {
		(void)madvise(r->in + r->mapfree, to - r->mapfree,
		    MADV_DONTNEED);
		r->mapfree = to;
	}
}

/*
 * DDB_READ_SPEC: the mapped value at in[inpos] starts {"Records":[{ ...:
 * nonzero, and its first record is at specpos.  Anything else is read the
 * plain way.
 */
static int
spec_begin(struct ddb_reader *r)
{
	const char *s = r->in;
	size_t n = r->maplen, i;

	if (!(r->flags & DDB_READ_SPEC) || r->in == r->inbuf || r->depth < 3)
		return 0;
	i = reader_skip_ws(s, n, r->inpos + 1);
	if (n - i < 9 || memcmp(s + i, "\"Records\"", 9) != 0)
		return 0;
	i = reader_skip_ws(s, n, i + 9);
	if (i >= n || s[i] != ':')
		return 0;
	i = reader_skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '[')
		return 0;
	i = reader_skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '{')
		return 0;
	r->evstart = r->inpos;
	r->evline = r->line;
	r->line += reader_newlines(s + r->inpos, i - r->inpos);
	r->specpos = i;
	r->vn = n - r->inpos;	/* at most */
	r->specev = 1;
	r->speclast = 0;
	r->nparts = r->nextpart = 0;
	return 1;
}

/*
 * An object starts at r->in[r->inpos]: map the file if it is an event, and
 * nonzero if its records are then read with reader_spec_next().
 */
int
reader_map_event(struct ddb_reader *r)
{
	if (r->mapok && reader_is_event(r->in + r->inpos, r->inend - r->inpos))
		map_file(r);
	if (r->nospec) {
		r->nospec = 0;
		return 0;
	}
	return spec_begin(r);
}

/*
 * DDB_READ_SPEC: the next record of the event, parsed where it lies.
 * Nonzero and *out; 0 if the event is to be read again the plain way
 * (reader_recheck done): a record that is no sound JSON object,
 * nesting that the event's own two levels make too deep, or anything but
 * white space, commas and the closing ]} between and after them.
 */
int
reader_spec_next(struct ddb_reader *r, struct jv **out)
{
	const char *s = r->in;
	size_t n = r->maplen, i = r->specpos, used, j;
	long nl;

	/* the bytes ahead are mapped in; those well behind are given back */
	if (r->inend < n && i + DDB_MAP_WINDOW / 2 > r->inend) {
		size_t from = r->inend & ~(size_t)4095;
		r->inend = n - i > DDB_MAP_WINDOW ? i + DDB_MAP_WINDOW : n;
#ifdef MADV_POPULATE_READ
		(void)madvise(r->in + from, r->inend - from,
		    MADV_POPULATE_READ);
#endif
	}
	if ((i & ~(size_t)4095) - r->mapfree >= DDB_MAP_WINDOW) {
		(void)madvise(r->in + r->mapfree, (i & ~(size_t)4095) -
		    r->mapfree, MADV_DONTNEED);
		r->mapfree = i & ~(size_t)4095;
	}
	if (i >= n || s[i] != '{')
		goto again;
	ddb_arena_reset(&r->arena);
	if (ddb_json_parse_prefix(&r->arena, &r->st, s + i, n - i,
	    r->depth - 2, &r->v, &used) != 0)
		goto again;
	j = i + used;
	nl = reader_newlines(s + i, used);
	for (; j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' ||
	    s[j] == '\r'); j++)
		nl += s[j] == '\n';
	if (j < n && s[j] == ',') {
		for (j++; j < n && (s[j] == ' ' || s[j] == '\t' ||
		    s[j] == '\n' || s[j] == '\r'); j++)
			nl += s[j] == '\n';
		r->specpos = j;
	} else if (j < n && s[j] == ']') {
		for (j++; j < n && (s[j] == ' ' || s[j] == '\t' ||
		    s[j] == '\n' || s[j] == '\r'); j++)
			nl += s[j] == '\n';
		if (j >= n || s[j] != '}')
			goto again;
		r->specpos = j + 1;
		r->speclast = 1;
	} else
		goto again;
	r->line += nl;
	r->part = r->part < 0 ? 0 : r->part + 1;
	if (r->speclast) {
		r->inpos = r->specpos;
		if (r->inend < r->inpos)	/* a record longer than a window */
			r->inend = r->inpos;
	}
	*out = &r->v;
	return 1;
again:
	reader_recheck(r);
	return 0;
}

int
ddb_reader_bad(struct ddb_reader *r)
{
	if (!r->specev)
		return 0;
	reader_recheck(r);
	return 1;
}

/*
 * DDB_READ_SPEC: the event of the record returned is to be read again from
 * its start the plain way (its records again from part 0, or the event
 * refused whole)
 */
void
reader_recheck(struct ddb_reader *r)
{
	if (!r->specev)
		return;
	r->specev = r->speclast = 0;
	r->nospec = 1;
	r->inpos = r->evstart;
	r->line = r->evline;
	r->part = -1;
}
