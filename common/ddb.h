/* ddb.h: what the ddb-to-s3 tools share */
#ifndef DDB_H
#define DDB_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* the suite's one version: the Makefile's VERSION, as -DDDB_VERSION */
#ifndef DDB_VERSION
#error "DDB_VERSION is not defined: build with make (VERSION in the Makefile)"
#endif

/*
 * exit statuses, the same in every tool of the suite (and in the ddb-to-s3
 * and bootstrap scripts): a caller acts on the number alone
 */
enum {
	DDB_EXIT_OK = 0,
	DDB_EXIT_DATA = 1,	/* bad input data: fix the data, never retry as is */
	DDB_EXIT_USAGE = 2,	/* bad command line or settings: touched nothing */
	DDB_EXIT_IO = 3,	/* a local file could not be read or written */
	DDB_EXIT_REFUSED = 4,	/* the service refused for good (AccessDenied,
				   NoSuchBucket, bad signature, no credentials) */
	DDB_EXIT_FINDINGS = 5,	/* a check found something to fix (ddb-esm -Q) */
	DDB_EXIT_GAP = 6,	/* records the position needs are gone from the
				   stream (trimmed): loss, never skipped silently */
	DDB_EXIT_STALE = 7,	/* the state's lock is held by a run that has
				   shown no sign of life for DDB_LOCK_STALE
				   seconds: hung; nothing done */
	DDB_EXIT_CHANGED = 8,	/* a conditional write found the object changed
				   (412, 409): read it again, then write */
	DDB_EXIT_NOCOND = 9,	/* the store does not do conditional writes
				   (501): nothing was written */
	DDB_EXIT_LAG = 10,	/* ddb-stream --max-lag: the stream is further
				   behind than the bound (the run's work done) */
	DDB_EXIT_ATTEMPTS = 11,	/* ddb-stream, ddb-scan --batch-attempts: the
				   consumer failed temporarily that many times
				   in a row, no dead-letter place; nothing
				   dropped, the batch kept */
	DDB_EXIT_SOFTWARE = 70,	/* a stage was killed, crashed or is missing */
	DDB_EXIT_TEMPFAIL = 75	/* temporary (EX_TEMPFAIL): run again later */
};

/*
 * Return values, one convention a layer (a function's comment says only
 * what differs):
 * - common/'s helpers and parsers (util.c, json.c, pyrepr.c,
 *   gz.c): 0, or -1 with nothing said; a predicate (..._ok, ddb_is_...)
 *   1 or 0; a length where its comment says so.  They never exit, but
 *   for the x* allocation family and ddb_nomem (out of memory, exit 3)
 *   and the usage functions (exit 2).
 * - the reader (reader.c): ddb_reader_next's results, listed beside it.
 * - what acts for a tool and says why it failed (statedir.c, aws/): 0, or
 *   the DDB_EXIT_* status the tool is to exit with; aws/ adds events
 *   the caller acts on, negative (aws/aws.h).
 * - a tool's main returns a DDB_EXIT_* status.
 */

/*
 * JSON nesting the readers accept.  DynamoDB allows 32 levels of M and L;
 * in typed form each level costs two JSON levels, and a Lambda event wraps
 * the item in four more.
 */
/*
 * A run holding a state directory's lock refreshes the lock file's mtime
 * at least every round and around each batch's command; a lock left this
 * long without (an hour: far past a batch's retries) is a hung run's
 */
#define DDB_LOCK_STALE 3600

#define DDB_MAX_DEPTH 32
#define DDB_READ_DEPTH 80

/* util.c */
void ddb_errat(const char *name, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ddb_close_stdout(void);
void ddb_stdout_pipe(void);
_Noreturn void ddb_print_version(void);
_Noreturn void ddb_usage_exit(FILE *fp, int status);
_Noreturn void ddb_usage_error(void (*usage)(FILE *, int), const char *fmt,
    ...) __attribute__((format(printf, 2, 3)));
size_t ddb_json_number_len(const char *s, size_t n);
int ddb_is_json_number(const char *s, size_t n);
size_t ddb_table_name_span(const char *s, size_t n);
int ddb_table_name_ok(const char *s, size_t n);
/* a piece of a longer text: p[0..n), not NUL-terminated */
struct ddb_part {
	const char *p;
	size_t n;
};
/* arn:PARTITION:dynamodb:REGION:ACCOUNT:table/TABLE[REST] */
struct ddb_arn {
	struct ddb_part partition, region, account, table, rest;
};
int ddb_arn_parse(const char *s, size_t n, struct ddb_arn *a);
int ddb_arn_is_stream(const struct ddb_arn *a);
int ddb_seq_ok(const char *s, size_t n);
int ddb_long_arg(const char *s, long lo, long hi, long *v);
int ddb_size_arg(const char *s, long long lo, long long hi, long long *v);
int ddb_double_arg(const char *s, double lo, double hi, double *v);
int ddb_long_opt(const char *s, long lo, long hi, const char *what, long *v);
int ddb_double_opt(const char *s, double lo, double hi, const char *what,
    double *v);
double ddb_now(void);
/* the one allocation family: never NULL; out of memory is ddb_nomem's exit 3 */
_Noreturn void ddb_nomem(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ddb_sync_dir(const char *dir);
int ddb_write_all(int fd, const void *p, size_t n);
int ddb_fwrite_all(FILE *fp, const char *s, size_t n);
#define DDB_HUGE ((size_t)2 << 20)
void ddb_hugepages(void *p, size_t n);
void ddb_hex(const unsigned char *d, size_t n, char *out);
int ddb_base64_decode(const char *s, size_t n, unsigned char *out,
    size_t *outlen);

/* a point in time, UTC: seconds since the epoch and the fraction's digits */
struct ddb_time {
	long long sec;		/* 0 .. 253402300799 (years 1970..9999) */
	char frac[32];		/* digits after the point as given, "" none */
};
enum { DDB_TIME_SYNTAX = -1, DDB_TIME_RANGE = -2 };
int ddb_time_parse(const char *s, size_t n, int number, struct ddb_time *t);
const char *ddb_time_strerror(int e);
#define DDB_TIME_COMPACT 17	/* YYYYMMDDTHHMMSSZ and its NUL */
int ddb_time_format(const struct ddb_time *t, int iso, char *buf,
    size_t size);

/* json.c: JSON values in an arena, parsed strictly and losslessly */
enum { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jmem;
struct jv {
	int type;
	size_t n;		/* bytes of a string or number, items, members;
				   JV_BOOL: 1 true, 0 false */
	union {
		const char *s;	/* string (NUL after n bytes) or number text */
		struct jv *a;
		struct jmem *m;
	} u;
};
struct jmem {
	const char *k;		/* never holds a NUL: the parser refuses it */
	size_t klen;
	struct jv v;
};

struct ddb_arena_blk;
struct ddb_arena {
	struct ddb_arena_blk *head;
};
void *ddb_arena_alloc(struct ddb_arena *a, size_t n);
void ddb_arena_reset(struct ddb_arena *a);
void ddb_arena_free(struct ddb_arena *a);

/* the parser's scratch space, kept from value to value */
struct ddb_json_stack {
	struct jmem *m;
	struct jv *a;
	size_t nm, capm, na, capa;
};
enum {
	DDB_JSON_EOF = 1, DDB_JSON_CHAR, DDB_JSON_UTF8, DDB_JSON_CONTROL,
	DDB_JSON_ESCAPE, DDB_JSON_DUP, DDB_JSON_NULKEY, DDB_JSON_DEPTH,
	DDB_JSON_NAN
};
int ddb_json_parse(struct ddb_arena *a, struct ddb_json_stack *st,
    const char *s, size_t n, int maxdepth, struct jv *v, size_t *erroff);
int ddb_json_parse_prefix(struct ddb_arena *a, struct ddb_json_stack *st,
    const char *s, size_t n, int maxdepth, struct jv *v, size_t *used);
const char *ddb_json_strerror(int e);
void ddb_json_stack_free(struct ddb_json_stack *st);

struct jv *jv_get(const struct jv *o, const char *key);
const char *jv_get_str(const struct jv *o, const char *key);
int jv_streq(const struct jv *v, const char *s);
const char *jv_type_name(const struct jv *v);
void jv_set_string(struct ddb_arena *a, struct jv *v, const char *s,
    size_t n);

/* a growing output buffer; out of memory ends the program (exit 3) */
struct ddb_buf {
	char *p;
	size_t n, cap;
};
void ddb_buf_grow(struct ddb_buf *b, size_t more);
static inline void
ddb_buf_reserve(struct ddb_buf *b, size_t more)
{
	if (b->cap - b->n < more)
		ddb_buf_grow(b, more);
}
static inline void
ddb_buf_put(struct ddb_buf *b, const char *s, size_t n)
{
	ddb_buf_reserve(b, n);
	if (n > 0)
		memcpy(b->p + b->n, s, n);
	b->n += n;
}
static inline void
ddb_buf_putc(struct ddb_buf *b, char c)
{
	ddb_buf_reserve(b, 1);
	b->p[b->n++] = c;
}
void ddb_json_str(struct ddb_buf *b, const char *s, size_t n);
void ddb_json_write(struct ddb_buf *b, const struct jv *v);
void ddb_json_members(struct ddb_buf *b, const struct jv *v, int sep);
void ddb_json_key(struct ddb_buf *b, const char *key);
/*
 * json.c: JSON text in the form ddb_json_write() writes, checked with the
 * parser's grammar.  canon_len: the length of the value at s[0..n) if it
 * is in that form (and one the parser takes at nesting depth within
 * maxdepth), else 0.  canon_str: the same for a string, quotes included;
 * *esc: it holds an escape.  canon_decode: the bytes of such a string
 * s[0..n) (quotes included) appended to b, decoded as the parser decodes.
 */
size_t ddb_json_canon_len(const char *s, size_t n, int depth, int maxdepth);
size_t ddb_json_canon_str(const char *s, size_t n, int *esc);
void ddb_json_canon_decode(struct ddb_buf *b, const char *s, size_t n);
void ddb_json_member(struct ddb_buf *b, const char *key, const char *text);
/* bytes a string holds as they are: not '"', '\\', control or non-ASCII */
extern const unsigned char ddb_json_plain[256];
/* the length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0 */
size_t ddb_utf8_len(const unsigned char *p, const unsigned char *end);


/*
 * reader.c: a stream of JSON values, read losslessly, one at a time (the
 * plain path; its fast paths sit behind it in reader-fast.c and
 * reader-map.c, gzip input is inflated in front of it by gz.c, Python repr
 * converted by pyrepr.c)
 */
struct ddb_reader;
#define DDB_READ_PYREPR 1	/* also accept Python repr (single quotes, True) */
#define DDB_READ_SPLIT 2	/* {"Records":[...]}: one record at a time */
#define DDB_READ_SPEC 4		/* with SPLIT: a file's event unscanned (below) */
struct ddb_reader *ddb_reader_open(const char *path, int depth, int flags);
/* what ddb_reader_next() returns, the reader's one set of results */
enum ddb_next {
	DDB_NEXT_FATAL = -2,	/* a read error or input the stream cannot
				   go on after (reported; ddb_reader_ioerror) */
	DDB_NEXT_BAD = -1,	/* bad data (reported); the next call goes on */
	DDB_NEXT_END = 0,	/* the end of the input */
	DDB_NEXT_VALUE = 1,	/* *out is the next value (or record) */
	DDB_NEXT_TAKEN = 2	/* ddb_reader_take's fn took it; *out NULL */
};
/* *out lives until the next call; ddb_reader_arena() allocates beside it */
int ddb_reader_next(struct ddb_reader *r, struct jv **out);
struct ddb_arena *ddb_reader_arena(struct ddb_reader *r);
const char *ddb_reader_name(const struct ddb_reader *r);
long ddb_reader_line(const struct ddb_reader *r);
/* DDB_READ_SPLIT: index of the record in its event (-1: a whole value) */
long ddb_reader_part(const struct ddb_reader *r);
int ddb_reader_part_last(const struct ddb_reader *r);
/*
 * The caller found the record returned bad.  1: it is to be forgotten,
 * nothing said (DDB_READ_SPEC gave it before its event was known sound:
 * the reader reads the event again the plain way, its records from part 0
 * again, or the event refused whole); 0: it is bad as read, the caller's
 * to report
 */
int ddb_reader_bad(struct ddb_reader *r);
size_t ddb_reader_size(const struct ddb_reader *r);
int ddb_reader_ioerror(const struct ddb_reader *r);
int ddb_reader_close(struct ddb_reader *r);
/*
 * A tool's own reading of the values the input buffer holds whole (plain
 * input, an object or array at the start of s[0..n)): fn returns the length
 * of the value it took, or 0 to leave it to the parser.  ddb_reader_next()
 * then returns 2, with *out NULL, for a value fn took.
 */
void ddb_reader_take(struct ddb_reader *r,
    size_t (*fn)(void *ctx, const char *s, size_t n), void *ctx);

/* gz.c: in's bytes gzip-compressed as the stream is read (gzip -n's
 * header: no name, time 0); NULL, errno set, if it cannot be made */
FILE *ddb_gzip_open(FILE *in, int close_in);
/*
 * gz.c: gzip input inflated as it is read, the layer in front of the
 * reader: ddb_gunzip_new() takes the bytes already read from the file (its
 * first, with the magic), ddb_gunzip_read() fills buf with up to cap
 * inflated bytes: their count, 0 at the end of the last member, or -1 with
 * *why the bad gzip data (NULL: a read error, errno set)
 */
struct ddb_gunzip;
struct ddb_gunzip *ddb_gunzip_new(const void *head, size_t n);
long ddb_gunzip_read(struct ddb_gunzip *g, FILE *fp, char *buf, size_t cap,
    const char **why);
void ddb_gunzip_free(struct ddb_gunzip *g);

/* pyrepr.c */
int ddb_pyrepr_to_json(const char *in, size_t n, char **out, size_t *outlen,
    size_t *errpos, const char **errmsg);

#endif
