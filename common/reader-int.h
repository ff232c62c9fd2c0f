/* reader-int.h: the reader's state and the calls between its files
 * (private to common/reader*.c and the reader's own tests) */
#ifndef DDB_READER_INT_H
#define DDB_READER_INT_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ddb.h"

/*
 * DDB_READ_PLAIN: the plain path alone (no fast_value, no mapping, no
 * speculative records), for the differential test (tests/reader-diff.c)
 * that checks the fast paths give the same records and the same errors.
 */
#define DDB_READ_PLAIN 0x100

struct ddb_reader {
	/* the input: a file's bytes, or gzip's inflated bytes (gz.c) */
	FILE *fp;
	int own;
	const char *name;
	int depth, flags;
	struct ddb_gunzip *gz;	/* gzip input, found by its magic bytes */
	int sniffed;		/* the first bytes were looked at */
	char *in;		/* inbuf, or the file's mapping */
	char inbuf[65536];
	size_t inpos, inend;
	int eof;
	long line;		/* line of in[inpos] */

	/* the value being read (reader.c) */
	struct ddb_buf val;	/* its raw text, NUL after */
	const char *vp;		/* its text: val.p, or in the mapping */
	size_t vn;
	long vline;		/* line it starts on */
	struct ddb_arena arena;	/* the value returned, and what tools add */
	struct ddb_json_stack st;
	struct jv v;

	/* DDB_READ_SPLIT: the records of the event in val (reader-split.c) */
	struct part {
		size_t off, len;	/* in evtext */
	} *parts;
	size_t nparts, capparts, nextpart;
	char *evtext, *evconv;	/* evtext is val, or evconv from Python repr */
	long part;		/* index of the record returned, or -1 */

	/* a regular file read through a mapping (reader-map.c) */
	int mapok;		/* a regular file that can be mapped */
	size_t maplen, mapfree;	/* its size; pages below mapfree given back */
	/* DDB_READ_SPEC: an event's records parsed where they lie */
	int specev;		/* the event being read is read so */
	int speclast;		/* the record returned is its last */
	int nospec;		/* the event at in[inpos] is read the plain way */
	size_t evstart, specpos;	/* the event's offset; the next record's */
	long evline;		/* the event's line */

	/* ddb_reader_take (reader-fast.c) */
	size_t (*take)(void *, const char *, size_t);
	void *takectx;
};

/* the mapping's next window: the bytes a scan may look at without a fault */
#define DDB_MAP_WINDOW ((size_t)4 << 20)

/* the one white-space skip: s[i..n) past JSON white space */
static inline size_t
reader_skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* past blanks at r->in[r->inpos], counting lines; 0 at the buffer's end */
static inline int
reader_skip_blank(struct ddb_reader *r)
{
	int c;

	while (r->inpos < r->inend) {
		c = (unsigned char)r->in[r->inpos];
		if (c == '\n')
			r->line++;
		else if (c != ' ' && c != '\t' && c != '\r')
			return 1;
		r->inpos++;
	}
	return 0;
}

/* the newlines in s[0..n) */
static inline long
reader_newlines(const char *s, size_t n)
{
	const char *q, *end = s + n;
	long k = 0;

	for (q = s; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
		k++;
	return k;
}

/* s[0..n) starts {"Records" */
static inline int
reader_is_event(const char *s, size_t n)
{
	size_t i = reader_skip_ws(s, n, 1);

	return n - i >= 9 && memcmp(s + i, "\"Records\"", 9) == 0;
}

/*
 * The calls between the reader's files return ddb.h's DDB_NEXT_* values,
 * except where a comment here says otherwise.
 */

/* reader.c: the plain path; reader_fill: 1 more input, 0 its end, -1 a
   read error or bad gzip data (reported) */
int reader_fill(struct ddb_reader *r);
int reader_parse_text(struct ddb_reader *r, const char *text, size_t tlen,
    size_t off, int conv, struct jv **out);

/* reader-split.c: an event's records, one at a time; reader_split: 0 and
   the records listed, or -1 if s[0..n) is no event of sound shape */
int reader_split(struct ddb_reader *r, char *s, size_t n);
int reader_next_part(struct ddb_reader *r, struct jv **out);

/* reader-fast.c: a value the input buffer holds whole, parsed where it
   lies; DDB_NEXT_END if it is left to the plain path */
int reader_fast_value(struct ddb_reader *r, struct jv **out);

/* reader-map.c: a regular file's events read through a mapping of it;
   reader_map_event, reader_map_fill, reader_spec_next: nonzero if they
   took the event, mapped more, gave a record */
int reader_map_event(struct ddb_reader *r);
int reader_map_fill(struct ddb_reader *r);
void reader_map_release(struct ddb_reader *r);
int reader_spec_next(struct ddb_reader *r, struct jv **out);
void reader_recheck(struct ddb_reader *r);

#endif
