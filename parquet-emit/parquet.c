/*
 * parquet.c: a Parquet file from rows of values, in bounded memory.  The
 * file is "PAR1", row groups, the footer (FileMetaData in Thrift's compact
 * protocol), its length and "PAR1".  Each row group holds a chunk per
 * column: an optional dictionary page, then version 1 data pages (the
 * version every reader takes), each with the definition levels of its
 * rows (RLE/bit-packed hybrid, width 1: 0 null, 1 a value) and its values,
 * PLAIN or as dictionary indices.  A chunk starts with a dictionary and
 * falls back to PLAIN for the rest of the chunk once the dictionary would
 * pass its bound.
 *
 * A column's type and the columns' order are known only after the last
 * row (a column is BOOLEAN only if every value in it was a boolean), so
 * values are encoded as they come, each column's as text (STRING), and
 * while every value a column has had is a boolean or a double, also as
 * that type, beside.  A row group waits in memory, compressed page by
 * page, until its values pass the row group bound; then its chunks go to
 * a temporary file, and only what the footer says of each is kept.  The
 * last row group's pages left to compress (for a small file, all of
 * them) are compressed at the end on two threads, its chunks kept in
 * memory.  Then the chunks of each row group are copied to the output in
 * the columns' order, of the type each column ended with; a chunk of a
 * column that had no value in a row group (or did not exist yet) is all
 * nulls, made then.
 */
#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet.h"

/* Parquet's Thrift enums, as the format defines them */
enum { T_BOOLEAN = 0, T_DOUBLE = 5, T_BYTE_ARRAY = 6, T_FIXED = 7 };
enum { E_PLAIN = 0, E_PLAIN_DICTIONARY = 2, E_RLE = 3 };
enum { P_DATA = 0, P_DICTIONARY = 2 };
enum { OPTIONAL = 1 };
enum { CT_UTF8 = 0, CT_DECIMAL = 5 };

/* Thrift compact protocol types */
enum {
	C_TRUE = 1, C_FALSE = 2, C_I16 = 4, C_I32 = 5, C_I64 = 6,
	C_BINARY = 8, C_LIST = 9, C_STRUCT = 12
};

enum { PAGE_ROWS = 20000 };	/* rows in a data page at most */
enum { DICT_TRIAL = 1000 };	/* values a chunk's dictionary is tried on */
enum { STAT_MAX = 256 };	/* min and max longer than this are left out */
/*
 * room for a page's length of definition levels and the levels: of
 * PAGE_ROWS rows at most, each run of eight or more in at most four bytes,
 * each group of eight in one and a header
 */
enum { HEAD = 4 + PAGE_ROWS / 2 + 64 };

struct column {
	enum pq_type type;	/* of the values encoded here */
	int kind;		/* the type every value so far allows; -1 none yet */
	const struct pq_decl *decl;	/* the caller's type, or NULL */
	struct column *typed;	/* the values as kind's type, if not STRING */
	/* the page being filled */
	uint8_t *defs;		/* 1 a value, 0 null, one per row */
	size_t ndefs, capdefs;
	/*
	 * PLAIN values (BOOLEAN: one byte each), others after HEAD bytes
	 * left for the page's definition levels, so that a page's body is
	 * one piece without a copy of its values
	 */
	struct ddb_buf vals;
	uint32_t *idx;		/* dictionary indices */
	size_t nidx, capidx;
	size_t pagebytes;	/* value bytes in the page */
	int pagedict;		/* its values are indices */
	/* the chunk being filled */
	int dictmode;		/* values go to the dictionary */
	struct ddb_buf dict;	/* the dictionary, PLAIN */
	uint32_t *doff;		/* each entry's offset in dict */
	size_t ndict, capd;
	uint64_t *htab;		/* hash << 32 | entry + 1, 0 empty; mask + 1 */
	size_t hmask;
	struct ddb_buf chunk;	/* data pages, headers and bodies */
	struct pjob *phead, *ptail;	/* pages compressed apart, in order */
	struct ddb_buf dpage;	/* its dictionary page, header and body */
	uint64_t rawsize;	/* the chunk's pages uncompressed, headers in */
	uint64_t nvalues, nnulls;
	int used_plain, used_dict;
	struct ddb_buf min, max;	/* PLAIN bytes (BYTE_ARRAY: no length) */
	int hasstat;
};

/* a chunk encoded: where its bytes wait, and what the footer says of it */
struct meta {
	uint64_t off;		/* in the temporary file, if spooled */
	/* else in memory: the dictionary page, the data pages */
	const char *dmem, *mem;
	uint64_t len;		/* dictionary page and data pages */
	uint64_t dictlen;	/* the dictionary page; 0: none */
	uint64_t rawsize, nvalues, nnulls;
	int set;		/* a chunk is here */
	int used_plain, used_dict;
	int hasstat;		/* min and max, each at most STAT_MAX */
	char *min, *max;
	size_t nmin, nmax;
};

/* a row group ended: each column's chunk, as text and as its type then */
struct rowgroup {
	uint64_t rows;
	size_t ncol;		/* columns that existed at its end */
	struct meta *text, *typed;
};

struct pq_writer {
	FILE *out;
	struct pq_settings set;
	uint64_t off;		/* bytes written to out */
	struct column *col;	/* by the caller's column numbers */
	size_t ncol, capcol;
	uint64_t rows;		/* rows in the file so far */
	uint64_t rgrows;	/* rows in the row group */
	size_t rgbytes;		/* value bytes in the row group */
	struct rowgroup *rg;	/* row groups ended */
	size_t nrg, caprg;
	/*
	 * the chunks of the row groups before the last, spooled bytes in the
	 * temporary file fd (the last row group's stay in their columns)
	 */
	int fd;
	uint64_t spooled;
	/*
	 * what encodes pages, one for each thread that does: enc[0] the
	 * caller's, enc[1] the thread that shares the last row group with it
	 * (or, before pq_close, the one that calls pq_help)
	 */
	struct enc *enc;
	struct jobq *jq;
};

/*
 * A data page compressed apart from the thread that encodes it: while
 * pq_async is on, a page ended by the caller's thread is copied into a
 * job and queued; another thread takes queued jobs by pq_help (a thread
 * that would otherwise wait), and the caller's thread takes them itself
 * when more than QUEUED wait, and when it needs the chunk whole.  Each
 * column keeps its jobs in order: the chunk's bytes are those the page
 * would have had compressed at once, appended in the same order.
 */
enum { QUEUED = 2 };
enum { J_QUEUED, J_RUNNING, J_DONE };

struct pjob {
	struct pjob *next;		/* the column's next page */
	struct pjob *qprev, *qnext;	/* in the queue, while J_QUEUED */
	int state;
	int nvals, enc;
	struct ddb_buf in, out;		/* the page's body; header and body */
	uint64_t raw;			/* its header and body uncompressed */
};

struct jobq {
	pthread_mutex_t mu;
	pthread_cond_t done;
	struct pjob *head, *tail;	/* J_QUEUED, oldest first */
	size_t n;
	struct pjob *free;		/* jobs to use again */
	size_t nfree;
	/*
	 * page bodies' buffers to use again: a body is given up once
	 * compressed, so that a page done but not yet in its chunk (whose
	 * column has not ended another) holds only its compressed bytes
	 */
	struct ddb_buf body[QUEUED + 2];
	size_t nbody;
	int async;
};

/* a page's scratch buffers and the compressors, for one thread */
struct enc {
	struct ddb_buf body, comp, head;	/* a page, compressed, header */
	ZSTD_CCtx *zc;
	z_stream z;
	int zinit;
};

/* Thrift's compact protocol, written into a buffer */
struct tw {
	struct ddb_buf *b;
	int last[16];		/* the last field id of each open struct */
	int depth;
};

static void
tw_varint(struct ddb_buf *b, uint64_t v)
{
	ddb_buf_reserve(b, 10);
	while (v >= 0x80) {
		b->p[b->n++] = (char)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (char)v;
}

static uint64_t
zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void
tw_field(struct tw *t, int id, int type)
{
	int delta = id - t->last[t->depth];

	if (delta > 0 && delta <= 15)
		ddb_buf_putc(t->b, (char)(delta << 4 | type));
	else {
		ddb_buf_putc(t->b, (char)type);
		tw_varint(t->b, zigzag(id));
	}
	t->last[t->depth] = id;
}

static void
tw_i32(struct tw *t, int id, int32_t v)
{
	tw_field(t, id, C_I32);
	tw_varint(t->b, zigzag(v));
}

static void
tw_i64(struct tw *t, int id, int64_t v)
{
	tw_field(t, id, C_I64);
	tw_varint(t->b, zigzag(v));
}

static void
tw_bin(struct tw *t, int id, const char *s, size_t n)
{
	tw_field(t, id, C_BINARY);
	tw_varint(t->b, n);
	ddb_buf_put(t->b, s, n);
}

static void
tw_begin(struct tw *t, int id)
{
	if (id > 0)
		tw_field(t, id, C_STRUCT);
	t->last[++t->depth] = 0;
}

static void
tw_end(struct tw *t)
{
	ddb_buf_putc(t->b, 0);
	t->depth--;
}

static void
tw_list(struct tw *t, int id, int type, size_t n)
{
	tw_field(t, id, C_LIST);
	if (n < 15)
		ddb_buf_putc(t->b, (char)(n << 4 | type));
	else {
		ddb_buf_putc(t->b, (char)(0xf0 | type));
		tw_varint(t->b, n);
	}
}

/* an empty struct as field id of the open struct (a union's member) */
static void
tw_empty(struct tw *t, int id)
{
	tw_begin(t, id);
	tw_end(t);
}

static void
put32le(char *p, uint32_t v)
{
	p[0] = (char)v;
	p[1] = (char)(v >> 8);
	p[2] = (char)(v >> 16);
	p[3] = (char)(v >> 24);
}

/* element k of v, of size bytes (1 or 4) */
static inline uint32_t
elem(const void *v, size_t size, size_t k)
{
	return size == 1 ? ((const uint8_t *)v)[k] : ((const uint32_t *)v)[k];
}

/*
 * v[0..n) (elements of size bytes, 1 or 4) in the RLE/bit-packed hybrid
 * at width bits: runs of eight or more equal values as RLE runs, the rest
 * bit-packed eight at a time (the last group padded with zeros, which the
 * count of values leaves unread)
 */
#define AT(k) elem(vp, size, k)
static void
rle_hybrid(struct ddb_buf *b, const void *vp, size_t size, size_t n,
    int width)
{
	size_t i = 0, j, r, g, k;
	int bytes = (width + 7) / 8, nb;
	uint64_t acc;

	while (i < n) {
		for (r = 1; i + r < n && AT(i + r) == AT(i); r++)
			;
		if (r >= 8) {
			tw_varint(b, (uint64_t)r << 1);
			for (k = 0; k < (size_t)bytes; k++)
				ddb_buf_putc(b, (char)(AT(i) >> (8 * k)));
			i += r;
			continue;
		}
		/* groups of eight up to a run of eight, at most 63 groups */
		for (j = i, g = 0; j < n && g < 63;) {
			j += 8;
			g++;
			for (r = 1; j + r < n && r < 8 && AT(j + r) == AT(j); r++)
				;
			if (j < n && r >= 8)
				break;
		}
		tw_varint(b, (uint64_t)g << 1 | 1);
		ddb_buf_reserve(b, g * (size_t)width + 8);
		acc = 0;
		nb = 0;
		for (k = i; k < i + g * 8; k++) {
			acc |= (uint64_t)(k < n ? AT(k) : 0) << nb;
			nb += width;
			while (nb >= 8) {
				b->p[b->n++] = (char)acc;
				acc >>= 8;
				nb -= 8;
			}
		}
		i += g * 8;
	}
}
#undef AT

/*
 * libsnappy is C++: linking it would make every run load libstdc++ (which
 * on Debian 12 needs a newer glibc than Lambda's), so it is opened only
 * when Snappy is asked for
 */
static snappy_status (*snappy_fn)(const char *, size_t, char *, size_t *);
static size_t (*snappy_bound_fn)(size_t);

int
pq_snappy_load(void)
{
	void *h;

	if (snappy_fn != NULL)
		return 0;
	if ((h = dlopen("libsnappy.so.1", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		warnx("snappy: %s", dlerror());
		return -1;
	}
	*(void **)&snappy_fn = dlsym(h, "snappy_compress");
	*(void **)&snappy_bound_fn = dlsym(h, "snappy_max_compressed_length");
	if (snappy_fn == NULL || snappy_bound_fn == NULL) {
		warnx("snappy: libsnappy.so.1 has no snappy_compress");
		snappy_fn = NULL;
		return -1;
	}
	return 0;
}

static int
bit_width(size_t max)
{
	int w = 0;

	while (max > 0) {
		w++;
		max >>= 1;
	}
	return w;
}

/* p[0..n) compressed into e->comp, or as it is: where it is now, in *zn */
static const char *
compress_page(const struct pq_writer *w, struct enc *e, const char *p,
    size_t n, size_t *zn)
{
	struct ddb_buf *o = &e->comp;
	size_t bound, r;

	switch (w->set.codec) {
	case PQ_NONE:
		*zn = n;
		return p;
	case PQ_ZSTD:
		bound = ZSTD_compressBound(n);
		ddb_buf_reserve(o, bound);
		if (e->zc == NULL && (e->zc = ZSTD_createCCtx()) == NULL)
			ddb_nomem();
		r = ZSTD_compressCCtx(e->zc, o->p, bound, p, n,
		    w->set.level != 0 ? w->set.level : PQ_ZSTD_LEVEL);
		if (ZSTD_isError(r))
			errx(DDB_EXIT_SOFTWARE, "zstd: %s", ZSTD_getErrorName(r));
		*zn = r;
		return o->p;
	case PQ_SNAPPY:
		if (snappy_fn == NULL && pq_snappy_load() < 0)
			exit(DDB_EXIT_SOFTWARE);
		bound = snappy_bound_fn(n);
		ddb_buf_reserve(o, bound);
		r = bound;
		if (snappy_fn(p, n, o->p, &r) != SNAPPY_OK)
			errx(DDB_EXIT_SOFTWARE, "snappy: compression failed");
		*zn = r;
		return o->p;
	case PQ_GZIP:
		if (!e->zinit) {
			if (deflateInit2(&e->z, w->set.level != 0 ? w->set.level :
			    Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			    Z_DEFAULT_STRATEGY) != Z_OK)
				errx(DDB_EXIT_SOFTWARE, "zlib: deflateInit2 failed");
			e->zinit = 1;
		} else if (deflateReset(&e->z) != Z_OK)
			errx(DDB_EXIT_SOFTWARE, "zlib: deflateReset failed");
		bound = deflateBound(&e->z, n);
		ddb_buf_reserve(o, bound);
		e->z.next_in = (unsigned char *)p;
		e->z.avail_in = (uInt)n;
		e->z.next_out = (unsigned char *)o->p;
		e->z.avail_out = (uInt)bound;
		if (deflate(&e->z, Z_FINISH) != Z_STREAM_END)
			errx(DDB_EXIT_SOFTWARE, "zlib: deflate failed");
		*zn = bound - e->z.avail_out;
		return o->p;
	}
	errx(DDB_EXIT_SOFTWARE, "internal error: codec %d", (int)w->set.codec);
}

/*
 * the page body p[0..n) as a page of type ptype, header and compressed
 * body, appended to out: its size uncompressed, header in
 */
static uint64_t
page_to(const struct pq_writer *w, struct enc *e, struct ddb_buf *out,
    const char *p, size_t n, int ptype, int nvals, int enc)
{
	const char *z;
	size_t zn;
	struct tw t = { &e->head, { 0 }, 0 };

	if (n > INT32_MAX)
		errx(DDB_EXIT_SOFTWARE, "internal error: a page over 2 GB");
	z = compress_page(w, e, p, n, &zn);
	if (zn > INT32_MAX)
		errx(DDB_EXIT_SOFTWARE, "internal error: a page over 2 GB");
	e->head.n = 0;
	tw_i32(&t, 1, ptype);
	tw_i32(&t, 2, (int32_t)n);
	tw_i32(&t, 3, (int32_t)zn);
	if (ptype == P_DATA) {
		tw_begin(&t, 5);
		tw_i32(&t, 1, nvals);
		tw_i32(&t, 2, enc);
		tw_i32(&t, 3, E_RLE);
		tw_i32(&t, 4, E_RLE);
		tw_end(&t);
	} else {
		tw_begin(&t, 7);
		tw_i32(&t, 1, nvals);
		tw_i32(&t, 2, enc);
		tw_end(&t);
	}
	ddb_buf_putc(&e->head, 0);
	ddb_buf_put(out, e->head.p, e->head.n);
	ddb_buf_put(out, z, zn);
	return e->head.n + n;
}

/* the page p[0..n) to out, counted in c's chunk */
static void
put_page(const struct pq_writer *w, struct enc *e, struct column *c,
    struct ddb_buf *out, const char *p, size_t n, int ptype, int nvals,
    int enc)
{
	c->rawsize += page_to(w, e, out, p, n, ptype, nvals, enc);
}

/* job j compressed by e (j no longer queued, its state J_RUNNING) */
static void
run_job(const struct pq_writer *w, struct enc *e, struct pjob *j)
{
	struct jobq *q = w->jq;

	j->out.n = 0;
	j->raw = page_to(w, e, &j->out, j->in.p, j->in.n, P_DATA, j->nvals,
	    j->enc);
	pthread_mutex_lock(&q->mu);
	if (q->nbody < QUEUED + 2)
		q->body[q->nbody++] = j->in;
	else
		free(j->in.p);
	memset(&j->in, 0, sizeof j->in);
	j->state = J_DONE;
	pthread_cond_broadcast(&q->done);
	pthread_mutex_unlock(&q->mu);
}

/* j out of the queue (q->mu held), to be run by the caller */
static void
unqueue(struct jobq *q, struct pjob *j)
{
	if (j->qprev != NULL)
		j->qprev->qnext = j->qnext;
	else
		q->head = j->qnext;
	if (j->qnext != NULL)
		j->qnext->qprev = j->qprev;
	else
		q->tail = j->qprev;
	q->n--;
	j->state = J_RUNNING;
}

int
pq_help(struct pq_writer *w, int other)
{
	struct jobq *q = w->jq;
	struct pjob *j;

	pthread_mutex_lock(&q->mu);
	if ((j = q->head) != NULL)
		unqueue(q, j);
	pthread_mutex_unlock(&q->mu);
	if (j == NULL)
		return 0;
	run_job(w, &w->enc[other != 0], j);
	return 1;
}

/*
 * the pages of c compressed apart, appended to its chunk in order: all of
 * them (a queued one compressed by e, a running one waited for), or only
 * the first that are done
 */
static void
collect(const struct pq_writer *w, struct enc *e, struct column *c, int all)
{
	struct jobq *q = w->jq;
	struct pjob *j;
	int state;

	while ((j = c->phead) != NULL) {
		pthread_mutex_lock(&q->mu);
		if (j->state == J_QUEUED && all)
			unqueue(q, j);
		else
			while (j->state == J_RUNNING && all)
				pthread_cond_wait(&q->done, &q->mu);
		state = j->state;
		pthread_mutex_unlock(&q->mu);
		if (state == J_RUNNING && all)
			run_job(w, e, j);	/* unqueued here */
		else if (state != J_DONE)
			return;
		ddb_buf_put(&c->chunk, j->out.p, j->out.n);
		c->rawsize += j->raw;
		if ((c->phead = j->next) == NULL)
			c->ptail = NULL;
		pthread_mutex_lock(&q->mu);
		if (q->nfree < QUEUED) {
			j->next = q->free;
			q->free = j;
			q->nfree++;
			j = NULL;
		}
		pthread_mutex_unlock(&q->mu);
		if (j != NULL) {
			free(j->in.p);
			free(j->out.p);
			free(j);
		}
	}
}

/*
 * the data page p[0..n) of c, queued to be compressed apart (by the
 * caller's thread, e, if too many wait already)
 */
static void
page_apart(const struct pq_writer *w, struct enc *e, struct column *c,
    const char *p, size_t n, int nvals, int enc)
{
	struct jobq *q = w->jq;
	struct pjob *j, *run;

	collect(w, e, c, 0);
	pthread_mutex_lock(&q->mu);
	if ((j = q->free) != NULL) {
		q->free = j->next;
		q->nfree--;
	}
	pthread_mutex_unlock(&q->mu);
	if (j == NULL) {
		j = xmalloc(sizeof *j);
		memset(j, 0, sizeof *j);
	}
	/* a job done has no body buffer */
	pthread_mutex_lock(&q->mu);
	if (q->nbody > 0)
		j->in = q->body[--q->nbody];
	pthread_mutex_unlock(&q->mu);
	j->in.n = 0;
	ddb_buf_put(&j->in, p, n);
	j->nvals = nvals;
	j->enc = enc;
	j->next = NULL;
	if (c->ptail != NULL)
		c->ptail->next = j;
	else
		c->phead = j;
	c->ptail = j;
	pthread_mutex_lock(&q->mu);
	j->state = J_QUEUED;
	j->qnext = NULL;
	j->qprev = q->tail;
	if (q->tail != NULL)
		q->tail->qnext = j;
	else
		q->head = j;
	q->tail = j;
	q->n++;
	for (;;) {
		run = NULL;
		if (q->n > QUEUED) {
			run = q->head;
			unqueue(q, run);
		}
		pthread_mutex_unlock(&q->mu);
		if (run == NULL)
			break;
		run_job(w, e, run);
		pthread_mutex_lock(&q->mu);
	}
}

void
pq_async(struct pq_writer *w, int on)
{
	w->jq->async = on;
}

/* the column's page so far, as a data page into its chunk */
static void
flush_page(const struct pq_writer *w, struct enc *e, struct column *c)
{
	struct ddb_buf *b = &e->body;
	const char *p;
	size_t k, n;
	int width, enc = E_PLAIN;
	unsigned char byte;

	if (c->ndefs == 0)
		return;
	b->n = 0;
	ddb_buf_reserve(b, 4);
	b->n = 4;
	rle_hybrid(b, c->defs, 1, c->ndefs, 1);
	put32le(b->p, (uint32_t)(b->n - 4));
	p = b->p;
	n = b->n;
	if (c->pagedict && c->nidx > 0) {
		enc = E_PLAIN_DICTIONARY;
		width = bit_width(c->ndict - 1);
		if (width == 0)
			width = 1;
		ddb_buf_putc(b, (char)width);
		rle_hybrid(b, c->idx, 4, c->nidx, width);
		c->used_dict = 1;
		p = b->p;
		n = b->n;
	} else if (c->type == PQ_BOOLEAN) {
		ddb_buf_reserve(b, c->vals.n / 8 + 1);
		for (k = 0, byte = 0; k < c->vals.n; k++) {
			byte |= (unsigned char)(c->vals.p[k] << (k % 8));
			if (k % 8 == 7) {
				b->p[b->n++] = (char)byte;
				byte = 0;
			}
		}
		if (k % 8 != 0)
			b->p[b->n++] = (char)byte;
		c->used_plain = 1;
		p = b->p;
		n = b->n;
	} else if (c->vals.n > 0) {
		/* the levels in front of the values, in the room left */
		if (b->n > HEAD)
			errx(DDB_EXIT_SOFTWARE, "internal error: definition "
			    "levels past their room");
		p = c->vals.p + HEAD - b->n;
		memcpy(c->vals.p + HEAD - b->n, b->p, b->n);
		n = b->n + c->vals.n - HEAD;
		c->used_plain = 1;
	} else
		c->used_plain = 1;
	if (w->jq->async)
		page_apart(w, e, c, p, n, (int)c->ndefs, enc);
	else {
		/* after the pages before it */
		collect(w, e, c, 1);
		put_page(w, e, c, &c->chunk, p, n, P_DATA, (int)c->ndefs, enc);
	}
	/*
	 * a dictionary whose first page is mostly new values (ids, times)
	 * saves nothing and costs a lookup per value: PLAIN from here on
	 */
	if (enc == E_PLAIN_DICTIONARY && c->nvalues == 0 &&
	    2 * c->ndict > c->nidx)
		c->dictmode = 0;
	c->nvalues += c->ndefs;
	c->ndefs = c->nidx = c->vals.n = c->pagebytes = 0;
	c->pagedict = c->dictmode;
}

/*
 * unsigned bytes, shorter first: the order of BYTE_ARRAY statistics.  Most
 * values differ from the min and max in their first eight bytes: compared
 * as one word where the machine allows, without a call.
 */
static inline int
cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	size_t m = an < bn ? an : bn;
	int r;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t x, y;

	if (m >= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return __builtin_bswap64(x) < __builtin_bswap64(y) ?
			    -1 : 1;
	}
#endif
	r = m > 0 ? memcmp(a, b, m) : 0;
	return r != 0 ? r : (an > bn) - (an < bn);
}

/*
 * a[0..n) and b[0..n) the same: a value of up to 16 bytes as two words,
 * each end's (they overlap), without a call
 */
static inline int
same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	uint32_t u, v;

	if (n >= 8 && n <= 16) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return 0;
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4 && n < 8) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return 0;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return u == v;
	}
	if (n < 4)
		return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] &&
		    a[n - 1] == b[n - 1]);
	return memcmp(a, b, n) == 0;
}

/* big-endian two's complement numbers of n bytes (n > 0), as numbers */
static int
cmp_signed(const char *a, const char *b, size_t n)
{
	int x = (signed char)a[0], y = (signed char)b[0];

	if (x != y)
		return (x > y) - (x < y);
	return memcmp(a + 1, b + 1, n - 1);
}

static void
set_buf(struct ddb_buf *b, const char *s, size_t n)
{
	b->n = 0;
	ddb_buf_put(b, s, n);
}

static void
stat_value(struct column *c, const char *s, size_t n)
{
	double a, m;

	if (!c->hasstat) {
		set_buf(&c->min, s, n);
		set_buf(&c->max, s, n);
		c->hasstat = 1;
		return;
	}
	switch (c->type) {
	case PQ_STRING:
		if (cmp_bytes(s, n, c->min.p, c->min.n) < 0)
			set_buf(&c->min, s, n);
		else if (cmp_bytes(s, n, c->max.p, c->max.n) > 0)
			set_buf(&c->max, s, n);
		break;
	case PQ_BOOLEAN:
		if (*s < *c->min.p)
			set_buf(&c->min, s, n);
		if (*s > *c->max.p)
			set_buf(&c->max, s, n);
		break;
	case PQ_DOUBLE:
		memcpy(&a, s, 8);
		memcpy(&m, c->min.p, 8);
		if (a < m)
			set_buf(&c->min, s, n);
		memcpy(&m, c->max.p, 8);
		if (a > m)
			set_buf(&c->max, s, n);
		break;
	case PQ_DECIMAL:
		if (cmp_signed(s, c->min.p, n) < 0)
			set_buf(&c->min, s, n);
		if (cmp_signed(s, c->max.p, n) > 0)
			set_buf(&c->max, s, n);
		break;
	}
}

/* room for one more row in the column's page */
static void
add_def(struct column *c, uint32_t d)
{
	if (c->ndefs == c->capdefs) {
		c->capdefs = c->capdefs ? 2 * c->capdefs : 256;
		c->defs = xreallocarray(c->defs, c->capdefs, sizeof *c->defs);
	}
	c->defs[c->ndefs++] = d;
}

/*
 * a dictionary entry's hash: eight bytes at a time, then the last eight
 * (overlapping) or, in a shorter value, its ends; loaded whole, never
 * assembled byte by byte in memory (a wide load of narrow stores stalls)
 */
static uint32_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, x;
	const char *end = s + n;
	uint32_t a, b;

	if (n >= 8) {
		for (; end - s > 8; s += 8) {
			memcpy(&x, s, 8);
			h = (h ^ x) * 0xff51afd7ed558ccdULL;
			h ^= h >> 32;
		}
		memcpy(&x, end - 8, 8);
	} else if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, end - 4, 4);
		x = (uint64_t)a << 32 | b;
	} else if (n > 0)
		x = (uint64_t)(unsigned char)s[0] << 16 |
		    (uint64_t)(unsigned char)s[n / 2] << 8 |
		    (unsigned char)s[n - 1];
	else
		x = 0;
	/*
	 * every bit mixed into the low ones, which pick the slot: a
	 * product's low bits see only its factors' low bits, so high bits
	 * are folded down before each multiply and after (values that
	 * differ only in their last bytes, such as numbers, or in a half
	 * that folding alone cancels, would share slots)
	 */
	h ^= x;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static void
dict_clear(struct column *c)
{
	c->dict.n = 0;
	c->ndict = 0;
	if (c->htab != NULL)
		memset(c->htab, 0, (c->hmask + 1) * sizeof *c->htab);
}

/* twice the slots, every entry placed again (its hash is in its slot) */
static void
dict_grow(struct column *c)
{
	uint64_t *old = c->htab;
	size_t k, i, oldn = c->htab != NULL ? c->hmask + 1 : 0;

	c->hmask = c->hmask ? 2 * c->hmask + 1 : 1023;
	c->htab = xreallocarray(NULL, c->hmask + 1, sizeof *c->htab);
	memset(c->htab, 0, (c->hmask + 1) * sizeof *c->htab);
	for (k = 0; k < oldn; k++) {
		if (old[k] == 0)
			continue;
		for (i = (old[k] >> 32) & c->hmask; c->htab[i] != 0;
		    i = (i + 1) & c->hmask)
			;
		c->htab[i] = old[k];
	}
	free(old);
}

/*
 * the dictionary index of s, added if new (*added set); -1 when adding it
 * would take the dictionary past its bound.  A slot keeps its entry's
 * hash, so a probe compares bytes only when the hashes are equal.
 */
static long
dict_index(struct pq_writer *w, struct column *c, const char *s, size_t n,
    int *added)
{
	uint32_t h = hash_bytes(s, n), len;
	uint64_t e;
	size_t i, k;

	*added = 0;
	if (c->htab == NULL || 2 * (c->ndict + 1) > c->hmask + 1)
		dict_grow(c);
	for (i = h & c->hmask; (e = c->htab[i]) != 0; i = (i + 1) & c->hmask) {
		if ((uint32_t)(e >> 32) != h)
			continue;
		k = (uint32_t)e - 1;
		memcpy(&len, c->dict.p + c->doff[k], 4);
		if (len == n && same_bytes(c->dict.p + c->doff[k] + 4, s, n))
			return (long)k;
	}
	if (c->dict.n + 4 + n > w->set.dictionary)
		return -1;
	if (c->ndict == c->capd) {
		c->capd = c->capd ? 2 * c->capd : 256;
		c->doff = xreallocarray(c->doff, c->capd, sizeof *c->doff);
	}
	c->doff[c->ndict] = (uint32_t)c->dict.n;
	ddb_buf_reserve(&c->dict, 4 + n);
	put32le(c->dict.p + c->dict.n, (uint32_t)n);
	memcpy(c->dict.p + c->dict.n + 4, s, n);
	c->dict.n += 4 + n;
	c->htab[i] = (uint64_t)h << 32 | (uint32_t)(c->ndict + 1);
	*added = 1;
	return (long)c->ndict++;
}

struct pq_writer *
pq_open(FILE *out, int tmpfd, const struct pq_settings *set)
{
	struct pq_writer *w = xmalloc(sizeof *w);

	memset(w, 0, sizeof *w);
	w->enc = xreallocarray(NULL, 2, sizeof *w->enc);
	memset(w->enc, 0, 2 * sizeof *w->enc);
	w->jq = xmalloc(sizeof *w->jq);
	memset(w->jq, 0, sizeof *w->jq);
	if ((errno = pthread_mutex_init(&w->jq->mu, NULL)) != 0 ||
	    (errno = pthread_cond_init(&w->jq->done, NULL)) != 0)
		err(DDB_EXIT_SOFTWARE, "pthread_mutex_init");
	w->out = out;
	w->fd = tmpfd;
	w->set = *set;
	return w;
}

/* a chunk's state afresh: no pages, no dictionary, no statistics */
static void
chunk_reset(struct pq_writer *w, struct column *c)
{
	c->chunk.n = 0;
	c->rawsize = c->nvalues = c->nnulls = 0;
	c->used_plain = c->used_dict = c->hasstat = 0;
	dict_clear(c);
	c->dictmode = c->pagedict = c->type == PQ_STRING &&
	    w->set.dictionary > 0;
}

static void
column_init(struct pq_writer *w, struct column *c, enum pq_type type)
{
	memset(c, 0, sizeof *c);
	c->type = type;
	c->kind = -1;
	chunk_reset(w, c);
}

/* jobs j and those after it in their column, freed */
static void
jobs_free(struct pjob *j)
{
	struct pjob *next;

	for (; j != NULL; j = next) {
		next = j->next;
		free(j->in.p);
		free(j->out.p);
		free(j);
	}
}

/*
 * column c's memory freed, its pages compressed apart too: none of them
 * may be queued or running then, but in pq_free (no other thread runs)
 */
static void
column_free(struct column *c)
{
	if (c->typed != NULL) {
		column_free(c->typed);
		free(c->typed);
	}
	jobs_free(c->phead);
	free(c->defs);
	free(c->vals.p);
	free(c->idx);
	free(c->dict.p);
	free(c->doff);
	free(c->htab);
	free(c->chunk.p);
	free(c->dpage.p);
	free(c->min.p);
	free(c->max.p);
}

/* a row with no value in column c */
static void
add_null(struct pq_writer *w, struct column *c)
{
	if (c->ndefs >= PAGE_ROWS)
		flush_page(w, w->enc, c);
	add_def(c, 0);
	c->nnulls++;
}

/* a value's PLAIN bytes (a BYTE_ARRAY's without its length) to column */
static void
add_value(struct pq_writer *w, struct column *c, const char *s, size_t n)
{
	long k = -1;
	int added = 0;

	/*
	 * a chunk whose first values are mostly new (ids, times) ends its
	 * first page early, so that flush_page gives its dictionary up
	 * before it costs a lookup for each of a page's values
	 */
	if (c->ndefs >= PAGE_ROWS ||
	    (c->ndefs > 0 && c->pagebytes + n > w->set.page) ||
	    (c->pagedict && c->nvalues == 0 && c->nidx == DICT_TRIAL &&
	    2 * c->ndict > c->nidx))
		flush_page(w, w->enc, c);
	if (c->dictmode && (k = dict_index(w, c, s, n, &added)) < 0) {
		/* the rest of the chunk PLAIN */
		flush_page(w, w->enc, c);
		c->dictmode = c->pagedict = 0;
	}
	/* a value already in the dictionary is in the statistics */
	if (k < 0 || added)
		stat_value(c, s, n);
	add_def(c, 1);
	if (k >= 0) {
		if (c->nidx == c->capidx) {
			c->capidx = c->capidx ? 2 * c->capidx : 256;
			c->idx = xreallocarray(c->idx, c->capidx,
			    sizeof *c->idx);
		}
		c->idx[c->nidx++] = (uint32_t)k;
	} else if (c->type == PQ_BOOLEAN)
		ddb_buf_put(&c->vals, s, n);
	else {
		if (c->vals.n == 0) {
			ddb_buf_reserve(&c->vals, HEAD);
			c->vals.n = HEAD;
		}
		if (c->type == PQ_STRING) {
			ddb_buf_reserve(&c->vals, 4 + n);
			put32le(c->vals.p + c->vals.n, (uint32_t)n);
			memcpy(c->vals.p + c->vals.n + 4, s, n);
			c->vals.n += 4 + n;
		} else
			ddb_buf_put(&c->vals, s, n);
	}
	c->pagebytes += n + (c->type == PQ_STRING ? 4 : 0);
}

/* columns up to col, made, null in the rows so far */
static void
add_columns(struct pq_writer *w, size_t col)
{
	uint64_t r;

	while (w->ncol <= col) {
		if (w->ncol == w->capcol) {
			w->capcol = w->capcol ? 2 * w->capcol : 16;
			w->col = xreallocarray(w->col, w->capcol,
			    sizeof *w->col);
		}
		column_init(w, &w->col[w->ncol], PQ_STRING);
		for (r = 0; r < w->rgrows; r++)
			add_null(w, &w->col[w->ncol]);
		w->ncol++;
	}
}

/* column col, made with the columns before it if new */
static inline struct column *
column_at(struct pq_writer *w, size_t col)
{
	if (col >= w->ncol)
		add_columns(w, col);
	return &w->col[col];
}

void
pq_string(struct pq_writer *w, size_t col, const char *s, size_t n)
{
	struct column *c = column_at(w, col);

	add_value(w, c, s, n);
	w->rgbytes += n + 4;
	if (c->typed != NULL) {
		/* none of its pages in another thread's hands */
		collect(w, w->enc, c->typed, 1);
		column_free(c->typed);
		free(c->typed);
		c->typed = NULL;
	}
	c->kind = PQ_STRING;
}

/* a value of text s that type also holds, as b[0..n) */
static void
typed_value(struct pq_writer *w, size_t col, const char *s, size_t n,
    enum pq_type type, const char *b, size_t bn)
{
	struct column *c = column_at(w, col);
	uint64_t r;

	if (c->kind != -1 && c->kind != (int)type) {
		pq_string(w, col, s, n);
		return;
	}
	add_value(w, c, s, n);
	/* the row group bound counts what the column will most likely be */
	w->rgbytes += bn + 4;
	if (c->kind == -1) {
		/* the first value: every row before it was null */
		c->kind = (int)type;
		c->typed = xmalloc(sizeof *c->typed);
		column_init(w, c->typed, type);
		for (r = 0; r < w->rgrows; r++)
			add_null(w, c->typed);
	}
	add_value(w, c->typed, b, bn);
}

void
pq_boolean(struct pq_writer *w, size_t col, const char *s, size_t n, int v)
{
	char b = v != 0;

	typed_value(w, col, s, n, PQ_BOOLEAN, &b, 1);
}

void
pq_double(struct pq_writer *w, size_t col, const char *s, size_t n, double v)
{
	char b[8];

	memcpy(b, &v, 8);
	typed_value(w, col, s, n, PQ_DOUBLE, b, 8);
}

int
pq_decimal_length(int precision)
{
	/* 10^precision - 1 < 2^(8 * length - 1) */
	static const unsigned char len[PQ_DECIMAL_MAX + 1] = {
		1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 8,
		9, 9, 10, 10, 11, 11, 11, 12, 12, 13, 13, 13, 14, 14, 15, 15,
		16, 16, 16
	};

	return precision >= 1 && precision <= PQ_DECIMAL_MAX ?
	    len[precision] : -1;
}

void
pq_declare(struct pq_writer *w, size_t col, const struct pq_decl *d)
{
	struct column *c = column_at(w, col);

	if (c->decl != NULL)
		return;
	/* only nulls so far: their pages are the same bytes in any type */
	if (c->kind != -1 || c->hasstat)
		errx(DDB_EXIT_SOFTWARE, "internal error: a declared column "
		    "with values of its own");
	c->decl = d;
	c->type = d->type;
	c->kind = (int)d->type;
	c->dictmode = c->pagedict = 0;
}

void
pq_fixed(struct pq_writer *w, size_t col, const struct pq_decl *d,
    const char *b, size_t n)
{
	struct column *c = column_at(w, col);

	if (c->decl == NULL)
		pq_declare(w, col, d);
	add_value(w, c, b, n);
	w->rgbytes += n;
}

static _Noreturn void
temp_failed(void)
{
	err(DDB_EXIT_IO, "temporary file");
}

/* p[0..n) to the end of the temporary file */
static void
spool_bytes(struct pq_writer *w, const char *p, size_t n)
{
	if (n > 0 && ddb_write_all(w->fd, p, n) < 0)
		temp_failed();
	w->spooled += n;
}

/*
 * column c's chunk so far, encoded by e: to the temporary file, or in the
 * last row group kept in the column (c->dpage, c->chunk) until pq_close
 * writes it; m says what it is.  The last row group's chunks are ended on
 * two threads at once: then nothing of w but its settings is touched.
 */
static void
end_chunk(struct pq_writer *w, struct enc *e, struct column *c,
    struct meta *m, int last)
{
	flush_page(w, e, c);
	collect(w, e, c, 1);
	memset(m, 0, sizeof *m);
	m->set = 1;
	m->off = w->spooled;
	c->dpage.n = 0;
	if (c->used_dict) {
		put_page(w, e, c, &c->dpage, c->dict.p, c->dict.n,
		    P_DICTIONARY, (int)c->ndict, E_PLAIN_DICTIONARY);
		m->dictlen = c->dpage.n;
	}
	if (last) {
		m->dmem = c->dpage.p;
		m->mem = c->chunk.p;
	} else {
		spool_bytes(w, c->dpage.p, c->dpage.n);
		spool_bytes(w, c->chunk.p, c->chunk.n);
	}
	m->len = m->dictlen + c->chunk.n;
	m->rawsize = c->rawsize;
	m->nvalues = c->nvalues;
	m->nnulls = c->nnulls;
	m->used_plain = c->used_plain;
	m->used_dict = c->used_dict;
	if (c->hasstat && c->min.n <= STAT_MAX && c->max.n <= STAT_MAX) {
		m->hasstat = 1;
		m->min = xmalloc(c->min.n + 1);
		if (c->min.n > 0)
			memcpy(m->min, c->min.p, c->min.n);
		m->nmin = c->min.n;
		m->max = xmalloc(c->max.n + 1);
		if (c->max.n > 0)
			memcpy(m->max, c->max.p, c->max.n);
		m->nmax = c->max.n;
	}
	/* the last row group's bytes stay where m points */
	if (!last)
		chunk_reset(w, c);
}

/* the chunks of the last row group, shared by two threads */
struct jobs {
	struct pq_writer *w;
	struct job {
		struct column *c;
		struct meta *m;
		size_t size;	/* bytes of values waiting: biggest first */
	} *job;
	size_t n;
	atomic_size_t next;
};

static void
run_jobs(struct jobs *js, struct enc *e)
{
	size_t k;

	while ((k = atomic_fetch_add(&js->next, 1)) < js->n)
		end_chunk(js->w, e, js->job[k].c, js->job[k].m, 1);
}

static void *
job_thread(void *arg)
{
	struct jobs *js = arg;

	run_jobs(js, &js->w->enc[1]);
	return NULL;
}

static int
bigger_first(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	return (x->size < y->size) - (x->size > y->size);
}

/*
 * Bytes waiting in the last row group that make a second thread worth
 * starting: compressing them takes far longer than starting a thread.
 */
enum { SHARE_BYTES = 256 << 10 };

/*
 * the last row group's chunks, ended on this thread and, when they are
 * big enough, on a second at once (each column's bytes are the same
 * whichever thread encodes them); only the chunk of the type the column
 * ends with is made
 */
static void
end_last(struct pq_writer *w, struct rowgroup *g)
{
	struct jobs js;
	struct column *c;
	size_t k, total = 0;
	pthread_t t;
	int two = 0;

	js.w = w;
	js.job = xreallocarray(NULL, w->ncol + 1, sizeof *js.job);
	js.n = 0;
	atomic_init(&js.next, 0);
	for (k = 0; k < w->ncol; k++) {
		c = w->col[k].typed != NULL ? w->col[k].typed : &w->col[k];
		js.job[js.n].c = c;
		js.job[js.n].m = c == &w->col[k] ? &g->text[k] : &g->typed[k];
		js.job[js.n].size = c->vals.n + 4 * c->nidx + c->dict.n +
		    c->ndefs / 8;
		total += js.job[js.n].size;
		js.n++;
	}
	qsort(js.job, js.n, sizeof *js.job, bigger_first);
	if (js.n > 1 && total >= SHARE_BYTES)
		two = pthread_create(&t, NULL, job_thread, &js) == 0;
	run_jobs(&js, &w->enc[0]);
	if (two && (errno = pthread_join(t, NULL)) != 0)
		err(DDB_EXIT_SOFTWARE, "pthread_join");
	free(js.job);
}

/*
 * the row group so far ended: its chunks to the temporary file, or, for
 * the last (at pq_close), kept in memory
 */
static void
end_rowgroup(struct pq_writer *w, int last)
{
	struct rowgroup *g;
	size_t k;

	if (w->rgrows == 0)
		return;
	if (w->nrg == w->caprg) {
		w->caprg = w->caprg ? 2 * w->caprg : 16;
		w->rg = xreallocarray(w->rg, w->caprg, sizeof *w->rg);
	}
	g = &w->rg[w->nrg++];
	g->rows = w->rgrows;
	g->ncol = w->ncol;
	g->text = xreallocarray(NULL, w->ncol + 1, sizeof *g->text);
	g->typed = xreallocarray(NULL, w->ncol + 1, sizeof *g->typed);
	memset(g->text, 0, (w->ncol + 1) * sizeof *g->text);
	memset(g->typed, 0, (w->ncol + 1) * sizeof *g->typed);
	if (last)
		end_last(w, g);
	else
		for (k = 0; k < w->ncol; k++) {
			end_chunk(w, w->enc, &w->col[k], &g->text[k], 0);
			if (w->col[k].typed != NULL)
				end_chunk(w, w->enc, w->col[k].typed,
				    &g->typed[k], 0);
		}
	w->rgrows = 0;
	w->rgbytes = 0;
}

void
pq_end_row(struct pq_writer *w)
{
	size_t k;
	struct column *c;

	for (k = 0; k < w->ncol; k++) {
		c = &w->col[k];
		if (c->nvalues + c->ndefs == w->rgrows) {
			add_null(w, c);
			if (c->typed != NULL)
				add_null(w, c->typed);
			w->rgbytes++;
		}
	}
	w->rows++;
	w->rgrows++;
	if (w->rgbytes >= w->set.rowgroup)
		end_rowgroup(w, 0);
}

/* the bytes of b to the file */
static int
put_out(struct pq_writer *w, const char *p, size_t n)
{
	if (n > 0 && fwrite_unlocked(p, 1, n, w->out) != n)
		return -1;
	w->off += n;
	return 0;
}

/* the chunk m to the file, from the temporary file or from memory */
static int
copy_chunk(struct pq_writer *w, const struct meta *m)
{
	char buf[1 << 16];
	uint64_t off = m->off, left = m->len;
	ssize_t k;

	if (left == 0)
		return 0;
	if (m->mem != NULL)
		return put_out(w, m->dmem, m->dictlen) < 0 ||
		    put_out(w, m->mem, m->len - m->dictlen) < 0 ? -1 : 0;
	while (left > 0) {
		k = pread(w->fd, buf, left < sizeof buf ? left : sizeof buf,
		    (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			temp_failed();
		if (k == 0)
			errx(DDB_EXIT_IO, "temporary file: short read");
		if (put_out(w, buf, (size_t)k) < 0)
			return -1;
		off += (uint64_t)k;
		left -= (uint64_t)k;
	}
	return 0;
}

/* the statistics of a chunk: null count, and min and max if short */
static void
put_stats(struct tw *t, const struct meta *m, enum pq_type type)
{
	const char *mn = m->min, *mx = m->max;
	char zero[8];
	double d;

	tw_begin(t, 12);
	tw_i64(t, 3, (int64_t)m->nnulls);
	if (m->hasstat) {
		if (type == PQ_DOUBLE) {
			/* a zero is -0.0 as the min and +0.0 as the max */
			memcpy(&d, mx, 8);
			if (d == 0) {
				d = 0.0;
				memcpy(zero, &d, 8);
				mx = zero;
			}
		}
		tw_bin(t, 5, mx, m->nmax);
		if (type == PQ_DOUBLE) {
			memcpy(&d, mn, 8);
			if (d == 0) {
				d = -0.0;
				memcpy(zero, &d, 8);
				mn = zero;
			}
		}
		tw_bin(t, 6, mn, m->nmin);
	}
	tw_end(t);
}

static int
phys_type(enum pq_type t)
{
	return t == PQ_STRING ? T_BYTE_ARRAY : t == PQ_BOOLEAN ? T_BOOLEAN :
	    t == PQ_DOUBLE ? T_DOUBLE : T_FIXED;
}

/* the ColumnChunk of m, a chunk of type named name at dictoff, to t */
static void
put_column_chunk(struct pq_writer *w, struct tw *t, const struct meta *m,
    enum pq_type type, const char *name, uint64_t dictoff)
{
	size_t nenc = 1 + (size_t)m->used_plain + (size_t)m->used_dict;

	t->last[++t->depth] = 0;
	tw_i64(t, 2, (int64_t)dictoff);
	tw_begin(t, 3);
	tw_i32(t, 1, phys_type(type));
	tw_list(t, 2, C_I32, nenc);
	tw_varint(t->b, zigzag(E_RLE));
	if (m->used_plain)
		tw_varint(t->b, zigzag(E_PLAIN));
	if (m->used_dict)
		tw_varint(t->b, zigzag(E_PLAIN_DICTIONARY));
	tw_list(t, 3, C_BINARY, 1);
	tw_varint(t->b, strlen(name));
	ddb_buf_put(t->b, name, strlen(name));
	tw_i32(t, 4, (int32_t)w->set.codec);
	tw_i64(t, 5, (int64_t)m->nvalues);
	tw_i64(t, 6, (int64_t)m->rawsize);
	tw_i64(t, 7, (int64_t)m->len);
	tw_i64(t, 9, (int64_t)(dictoff + m->dictlen));
	if (m->used_dict)
		tw_i64(t, 11, (int64_t)dictoff);
	put_stats(t, m, type);
	tw_end(t);	/* ColumnMetaData */
	tw_end(t);	/* ColumnChunk */
}

/*
 * the chunk of a column with no value in any of rows rows, made in c (for
 * the caller to free); its bytes are the same whatever its type
 */
static void
null_chunk(struct pq_writer *w, uint64_t rows, struct column *c,
    struct meta *m)
{
	uint64_t r;

	column_init(w, c, PQ_STRING);
	for (r = 0; r < rows; r++)
		add_null(w, c);
	end_chunk(w, w->enc, c, m, 1);
}

/* row group g to the file, its RowGroup struct to rgs */
static int
put_rowgroup(struct pq_writer *w, struct ddb_buf *rgs, size_t ordinal,
    const size_t *order, const enum pq_type *type, size_t n,
    char *const *names)
{
	const struct rowgroup *g = &w->rg[ordinal];
	struct tw t = { rgs, { 0 }, 0 };
	uint64_t start = w->off, total = 0;
	const struct meta *m;
	struct meta made;
	struct column nulls;
	size_t k, id;
	int rc;

	tw_begin(&t, 0);
	tw_list(&t, 1, C_STRUCT, n);
	for (k = 0; k < n; k++) {
		id = order[k];
		m = NULL;
		if (id < g->ncol)
			m = type[k] != PQ_STRING && g->typed[id].set ?
			    &g->typed[id] : &g->text[id];
		/*
		 * a typed column had only nulls here: their bytes are text's
		 * (a declared column's chunks are all of its type)
		 */
		if (m != NULL && m != &g->typed[id] && type[k] != PQ_STRING &&
		    w->col[id].decl == NULL && m->nnulls != g->rows)
			errx(DDB_EXIT_SOFTWARE, "internal error: a chunk of "
			    "another type");
		if (m == NULL) {
			null_chunk(w, g->rows, &nulls, &made);
			m = &made;
		}
		put_column_chunk(w, &t, m, type[k], names[id], w->off);
		total += m->rawsize;
		rc = copy_chunk(w, m);
		if (m == &made) {
			free(made.min);
			free(made.max);
			column_free(&nulls);
		}
		if (rc < 0)
			return -1;
	}
	tw_i64(&t, 2, (int64_t)total);
	tw_i64(&t, 3, (int64_t)g->rows);
	tw_i64(&t, 5, (int64_t)start);
	tw_i64(&t, 6, (int64_t)(w->off - start));
	tw_field(&t, 7, C_I16);
	tw_varint(t.b, zigzag((int64_t)ordinal));
	tw_end(&t);
	return 0;
}

void
pq_free(struct pq_writer *w)
{
	struct enc *e;
	size_t k, i;

	if (w == NULL)
		return;
	for (k = 0; k < w->ncol; k++)
		column_free(&w->col[k]);
	for (k = 0; k < w->nrg; k++) {
		for (i = 0; i < w->rg[k].ncol; i++) {
			free(w->rg[k].text[i].min);
			free(w->rg[k].text[i].max);
			if (w->rg[k].typed[i].set) {
				free(w->rg[k].typed[i].min);
				free(w->rg[k].typed[i].max);
			}
		}
		free(w->rg[k].text);
		free(w->rg[k].typed);
	}
	free(w->rg);
	free(w->col);
	for (k = 0; k < 2; k++) {
		e = &w->enc[k];
		free(e->body.p);
		free(e->comp.p);
		free(e->head.p);
		ZSTD_freeCCtx(e->zc);
		if (e->zinit)
			deflateEnd(&e->z);
	}
	free(w->enc);
	jobs_free(w->jq->free);
	for (k = 0; k < w->jq->nbody; k++)
		free(w->jq->body[k].p);
	pthread_mutex_destroy(&w->jq->mu);
	pthread_cond_destroy(&w->jq->done);
	free(w->jq);
	free(w);
}

int
pq_close(struct pq_writer *w, const size_t *order, size_t n,
    char *const *names)
{
	struct ddb_buf f = { NULL, 0, 0 }, rgs = { NULL, 0, 0 };
	struct tw t = { &f, { 0 }, 0 };
	const struct pq_decl *d;
	enum pq_type *type;
	size_t k;
	char len[4];
	int rc = -1;

	end_rowgroup(w, 1);
	/* a column is of the type every value it had allows */
	type = xreallocarray(NULL, n + 1, sizeof *type);
	for (k = 0; k < n; k++)
		type[k] = order[k] < w->ncol && w->col[order[k]].kind >= 0 ?
		    (enum pq_type)w->col[order[k]].kind : PQ_STRING;
	if (put_out(w, "PAR1", 4) < 0)
		goto out;
	for (k = 0; k < w->nrg; k++)
		if (put_rowgroup(w, &rgs, k, order, type, n, names) < 0)
			goto out;
	tw_begin(&t, 0);
	tw_i32(&t, 1, 1);
	tw_list(&t, 2, C_STRUCT, n + 1);
	tw_begin(&t, 0);
	tw_bin(&t, 4, "schema", 6);
	tw_i32(&t, 5, (int32_t)n);
	tw_end(&t);
	for (k = 0; k < n; k++) {
		d = type[k] == PQ_DECIMAL ? w->col[order[k]].decl : NULL;
		tw_begin(&t, 0);
		tw_i32(&t, 1, phys_type(type[k]));
		if (d != NULL)
			tw_i32(&t, 2, d->length);
		tw_i32(&t, 3, OPTIONAL);
		tw_bin(&t, 4, names[order[k]], strlen(names[order[k]]));
		if (type[k] == PQ_STRING) {
			tw_i32(&t, 6, CT_UTF8);
			tw_begin(&t, 10);	/* LogicalType: STRING */
			tw_empty(&t, 1);
			tw_end(&t);
		} else if (d != NULL) {
			tw_i32(&t, 6, CT_DECIMAL);
			tw_i32(&t, 7, d->scale);
			tw_i32(&t, 8, d->precision);
			tw_begin(&t, 10);	/* LogicalType: DECIMAL */
			tw_begin(&t, 5);
			tw_i32(&t, 1, d->scale);
			tw_i32(&t, 2, d->precision);
			tw_end(&t);
			tw_end(&t);
		}
		tw_end(&t);
	}
	tw_i64(&t, 3, (int64_t)w->rows);
	tw_list(&t, 4, C_STRUCT, w->nrg);
	ddb_buf_put(&f, rgs.p, rgs.n);
	t.last[t.depth] = 4;
	tw_bin(&t, 6, "parquet-emit version " DDB_VERSION " (build ddb-to-s3)",
	    strlen("parquet-emit version " DDB_VERSION " (build ddb-to-s3)"));
	tw_list(&t, 7, C_STRUCT, n);
	for (k = 0; k < n; k++) {
		/* ColumnOrder: TYPE_ORDER */
		t.last[++t.depth] = 0;
		tw_empty(&t, 1);
		tw_end(&t);
	}
	tw_end(&t);
	put32le(len, (uint32_t)f.n);
	rc = put_out(w, f.p, f.n) < 0 || put_out(w, len, 4) < 0 ||
	    put_out(w, "PAR1", 4) < 0 ? -1 : 0;
out:
	free(f.p);
	free(rgs.p);
	free(type);
	pq_free(w);
	return rc;
}
