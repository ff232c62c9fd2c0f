/*
 * parquet-emit.c: write rows (flat JSON objects, one per line) as one
 * Parquet file, with the columns and cells csv-emit gives the same rows.
 *
 * csv-emit's own code is compiled in (its main renamed), so which
 * attribute lands in which column (--columns, --extra, the table's list,
 * the added columns last) and what a cell says are decided in one place:
 * each row is read and rendered by csv-emit's code, its fast path
 * included, with quoting turned off, and its cells, with the kind of value
 * each held, come here in place of the CSV line (the CSV_EMIT_ hooks), and
 * go to the Parquet writer as they come.  A column's type needs every row
 * first (a column is BOOLEAN only if no row holds anything but true or
 * false in it), and so does csv-emit's column order: the writer keeps what
 * could still be either (parquet.c), and both are settled at the end.
 */
#include <stdio.h>

static _Noreturn void pq_usage(FILE *fp, int status);
static inline void pq_kind(size_t col, int c);
static void pq_put_row(const char *name, long line);

#define main csv_emit_main
#define CSV_EMIT_KIND(col, c) pq_kind(col, c)
#define CSV_EMIT_KIND_JV(col, v) pq_kind(col, (v)->type == JV_STRING ? '"' : \
    (v)->type == JV_NUMBER ? '0' : (v)->type == JV_BOOL ? 't' : \
    (v)->type == JV_NULL ? 'n' : '{')
#define CSV_EMIT_ROW(name, line) pq_put_row(name, line)
#define CSV_EMIT_USAGE pq_usage
#define CSV_EMIT_NO_QUOTES
#include "../csv-emit/csv-emit.c"
#undef main

#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>

#include "parquet.h"

/*
 * what a cell was in the row: its column's type comes from these; K_FIXED
 * (to the writer only) a number as its declared type's bytes
 */
enum { K_STRING = 1, K_NUMBER = 2, K_BOOL = 4, K_JSON = 8, K_FIXED = 16 };

static struct pq_settings pset = {
	PQ_ZSTD, 0, 64 << 20, 1 << 20, 1 << 20
};
static int doubles;		/* --numbers double: all-number columns */
static int textonly;		/* --types text: every column a STRING */

static struct spool rows;	/* its file: the row groups before the last */
static struct pq_writer *pw;
static unsigned long nkept;	/* rows written */
static unsigned char *rowkind;	/* this row's value kinds by name */
static size_t nkinds;

/* --column-type: a column's declared type, by name */
static struct coltype {
	const char *name;
	const char *spelled;	/* as given: double, decimal(P,S) */
	struct pq_decl d;
} *ctypes;
static size_t nctypes;
static const struct coltype **ctype_of;	/* by column number, or NULL */

static _Noreturn void
pq_usage(FILE *fp, int status)
{
	fputs("usage: parquet-emit [--compression CODEC[:LEVEL]] "
	    "[--row-group-size BYTES]\n"
	    "                    [--dictionary-size BYTES] [--numbers text|double]\n"
	    "                    [--types values|text] [--column-type NAME=TYPE]...\n"
	    "                    [-E NAME] [-C NAME] [-t FILE] [-o FILE]\n"
	    "                    [-c LIST [-x fail|drop|gather=NAME] [-l LIST]] "
	    "[file ...]\n", fp);
	if (fp == stdout)
		fputs(COLUMN_HELP
		    "      --compression CODEC     zstd (default; level 1), snappy, gzip or\n"
		    "                              none; zstd:LEVEL, gzip:LEVEL\n"
		    "      --row-group-size BYTES  values in a row group (default 64M)\n"
		    "      --dictionary-size BYTES\n"
		    "                              a column chunk's dictionary at most\n"
		    "                              (default 1M; 0: no dictionaries)\n"
		    "      --numbers FORM          text: numbers as their exact text\n"
		    "                              (default); double: all-number columns\n"
		    "                              as DOUBLE\n"
		    "      --types FORM            values: columns typed by their values\n"
		    "                              (default); text: every column a STRING\n"
		    "                              (one schema for every file of a table)\n"
		    "      --column-type NAME=TYPE\n"
		    "                              column NAME of type double or\n"
		    "                              decimal(P,S) (P 1 to 38 digits, S of them\n"
		    "                              after the point) whatever the rest say;\n"
		    "                              a value it cannot hold exactly is bad\n"
		    "  (the suite's option letters are all taken: these have none)\n"
		    "  -h, --help                  this text\n"
		    "  -V, --version               print the version\n", fp);
	ddb_usage_exit(fp, status);
}

/*
 * A number's text as sign, significant digits and the exponent of a point
 * before the first of them; 0 has no digits.  s is a JSON number.
 */
struct dec {
	int neg;
	char dig[1100];
	size_t n;
	long exp;
};

static int
to_dec(const char *s, size_t len, struct dec *d)
{
	size_t i = 0;
	long e = 0, point = 0;
	int seen = 0, esign = 1;

	d->neg = 0;
	d->n = 0;
	if (i < len && s[i] == '-') {
		d->neg = 1;
		i++;
	}
	for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			seen = 1;
			continue;
		}
		if (d->n == 0 && s[i] == '0') {
			if (seen)
				point--;
			continue;
		}
		if (d->n == sizeof d->dig)
			return -1;
		d->dig[d->n++] = s[i];
		if (!seen)
			point++;
	}
	if (i < len) {
		i++;
		if (s[i] == '+' || s[i] == '-')
			esign = s[i++] == '-' ? -1 : 1;
		for (; i < len; i++) {
			if (e > 100000)
				return -1;
			e = e * 10 + (s[i] - '0');
		}
	}
	while (d->n > 0 && d->dig[d->n - 1] == '0')
		d->n--;
	d->exp = point + esign * e;
	if (d->n == 0)
		d->neg = 0;
	return 0;
}

/*
 * the number s as a double, if the double's shortest decimal form (what a
 * reader prints) is the same number: 0, else -1
 */
static int
exact_double(const char *s, size_t n, double *v)
{
	char text[1024], shortest[40];
	struct dec a, b;
	int p;

	if (n >= sizeof text)
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	*v = strtod(text, NULL);
	if (!isfinite(*v))
		return -1;
	for (p = 1; p <= 17; p++) {
		snprintf(shortest, sizeof shortest, "%.*e", p - 1, *v);
		if (strtod(shortest, NULL) == *v)
			break;
	}
	if (to_dec(text, n, &a) < 0 ||
	    to_dec(shortest, strlen(shortest), &b) < 0)
		return -1;
	if (a.neg != b.neg || a.n != b.n || (a.n > 0 && (a.exp != b.exp ||
	    memcmp(a.dig, b.dig, a.n) != 0)))
		return -1;
	if (*v == 0 && a.neg)
		*v = -0.0;
	return 0;
}

/* rowkind[] and ctype_of[] for every name */
static void
grow_kinds(void)
{
	size_t k, i;

	if (nkinds >= nm.n)
		return;
	rowkind = xreallocarray(rowkind, nm.n, 1);
	memset(rowkind + nkinds, 0, nm.n - nkinds);
	ctype_of = xreallocarray(ctype_of, nm.n, sizeof *ctype_of);
	for (k = nkinds; k < nm.n; k++)
		for (ctype_of[k] = NULL, i = 0; i < nctypes; i++)
			if (strcmp(nm.name[k], ctypes[i].name) == 0)
				ctype_of[k] = &ctypes[i];
	nkinds = nm.n;
}

/*
 * the number s exactly as an unscaled value of decimal(precision, scale)
 * in length bytes, big-endian two's complement, to b: 0, else -1
 */
static int
exact_decimal(const char *s, size_t n, const struct pq_decl *d, char *b)
{
	unsigned char v[16];
	struct dec a;
	long digits, k;
	unsigned carry, x;
	int i;

	if (to_dec(s, n, &a) < 0)
		return -1;
	memset(v, 0, sizeof v);
	if (a.n > 0) {
		/* its digits, then zeros up to the scale: a whole number */
		digits = a.exp + d->scale;
		if (digits < (long)a.n || digits > d->precision)
			return -1;
		for (k = 0; k < digits; k++) {
			carry = k < (long)a.n ? (unsigned)(a.dig[k] - '0') : 0;
			for (i = 15; i >= 0; i--) {
				x = v[i] * 10u + carry;
				v[i] = (unsigned char)x;
				carry = x >> 8;
			}
		}
		if (a.neg)
			for (carry = 1, i = 15; i >= 0; i--) {
				x = (unsigned char)~v[i] + carry;
				v[i] = (unsigned char)x;
				carry = x >> 8;
			}
	}
	memcpy(b, v + 16 - d->length, (size_t)d->length);
	return 0;
}

/* csv-emit's code says what kind of value the cell of col is */
static inline void
pq_kind(size_t col, int c)
{
	if (col >= nkinds)
		grow_kinds();
	rowkind[col] = c == '"' ? K_STRING : c == '{' || c == '[' ? K_JSON :
	    c == 't' || c == 'f' ? K_BOOL : c == 'n' ? 0 : K_NUMBER;
}

/* the kind of the cell c of the row */
static unsigned char
cell_kind(const struct cell *c)
{
	return xflag == X_GATHER && c->col == gid ? K_JSON : rowkind[c->col];
}

/*
 * The writer works in a thread of its own, beside csv-emit's reading and
 * rendering, which take about as long: rows go to it in batches, each row
 * as the length of its cells and their count, the cells as csv-emit
 * rendered them (a struct cell, its column's id and length, then its
 * text: copied in one piece), what the writer takes each as (a K_ kind:
 * K_STRING text, K_BOOL a boolean, K_NUMBER a double, K_FIXED a declared
 * type's bytes, which come in the cell in place of its text, after the
 * type), a byte each, and the double of each K_NUMBER cell, in order.
 * Batches go round a ring of NBATCH: the reading thread fills one while
 * the writer takes those filled before it.  With two batches, each one
 * made the slower thread wait for the other to be woken and to swap them
 * (a wake-up is slow on a virtual machine whose processor was idle), and
 * a pause of either thread (the processors shared with other work)
 * stopped the other too; in a ring either runs ahead of the other by
 * several batches, and a reading thread that finds the ring full sleeps
 * until half of it is free.  Batches are small, so that the writer's last
 * ones keep the reading thread waiting at the end but briefly.
 */
enum { BATCH = 1 << 18 };	/* a batch is handed over at this many bytes */
enum { NBATCH = 8 };		/* batches in the ring */

static struct batch {
	struct ddb_buf b;
} batch[NBATCH];
static struct batch *filling = &batch[0];	/* the reading thread's */
static size_t nfill;		/* filling is batch[nfill % NBATCH] */
static size_t ntaken;		/* batches the writer has taken */
static pthread_t worker;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int closing;		/* no more batches */
static int running;		/* the worker was started */
static int waiting;		/* a thread waits on cv (never both) */

/* the rows of batch t, to the writer */
static void
write_batch(const struct ddb_buf *t)
{
	const struct coltype *ct;
	const char *s, *cells, *kind, *dbl;
	struct cell c;
	size_t at = 0, pos;
	uint32_t nb, ncell, i;
	double d;

	while (at < t->n) {
		memcpy(&nb, t->p + at, 4);
		memcpy(&ncell, t->p + at + 4, 4);
		cells = t->p + at + 8;
		kind = cells + nb;
		dbl = kind + ncell;
		for (i = 0, pos = 0; i < ncell; i++) {
			memcpy(&c, cells + pos, sizeof c);
			s = cells + pos + sizeof c;
			switch (kind[i]) {
			case K_BOOL:
				pq_boolean(pw, c.col, s, c.len, *s == 't');
				break;
			case K_NUMBER:
				memcpy(&d, dbl, 8);
				dbl += 8;
				pq_double(pw, c.col, s, c.len, d);
				break;
			case K_FIXED:
				memcpy(&ct, s, sizeof ct);
				pq_fixed(pw, c.col, &ct->d, s + sizeof ct,
				    c.len - sizeof ct);
				break;
			default:
				pq_string(pw, c.col, s, c.len);
			}
			pos += sizeof c + c.len;
		}
		pq_end_row(pw);
		at = (size_t)(dbl - t->p);
	}
}

static void *
work(void *arg)
{
	size_t k;
	int helped;

	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (ntaken == nfill && !closing) {
			/* a page to compress rather than a wait */
			pthread_mutex_unlock(&mu);
			helped = pq_help(pw, 0);
			pthread_mutex_lock(&mu);
			if (helped || ntaken != nfill || closing)
				continue;
			waiting = 1;
			pthread_cond_wait(&cv, &mu);
		}
		if (ntaken == nfill)
			break;
		k = ntaken % NBATCH;
		pthread_mutex_unlock(&mu);
		write_batch(&batch[k].b);
		pthread_mutex_lock(&mu);
		ntaken++;
		if (waiting && nfill - ntaken <= NBATCH / 2) {
			waiting = 0;
			pthread_cond_broadcast(&cv);
		}
	}
	pthread_mutex_unlock(&mu);
	/* the pages still queued, with the reading thread (writer_done) */
	while (pq_help(pw, 0))
		;
	return NULL;
}

/* the batch being filled, to the writer; the next, once it has taken it */
static void
hand_over(void)
{
	int helped;

	if (filling->b.n == 0)
		return;
	if (!running) {
		pq_async(pw, 1);
		if ((errno = pthread_create(&worker, NULL, work, NULL)) != 0)
			err(DDB_EXIT_SOFTWARE, "pthread_create");
		running = 1;
	}
	pthread_mutex_lock(&mu);
	nfill++;
	if (waiting) {
		waiting = 0;
		pthread_cond_broadcast(&cv);
	}
	while (nfill - ntaken == NBATCH) {
		/* the writer's pages to compress rather than a wait */
		pthread_mutex_unlock(&mu);
		helped = pq_help(pw, 1);
		pthread_mutex_lock(&mu);
		/*
		 * the writer may have taken batches while the lock was let go,
		 * seeing nobody waiting: wait only if the ring is still full
		 */
		if (helped || nfill - ntaken != NBATCH)
			continue;
		waiting = 1;
		pthread_cond_wait(&cv, &mu);
	}
	pthread_mutex_unlock(&mu);
	filling = &batch[nfill % NBATCH];
	filling->b.n = 0;
}

/* every row to the writer, and the writer's thread ended */
static void
writer_done(void)
{
	size_t k;

	hand_over();
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	closing = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	/* the writer's queued pages compressed here too, not waited for */
	while (pq_help(pw, 1))
		;
	if ((errno = pthread_join(worker, NULL)) != 0)
		err(DDB_EXIT_SOFTWARE, "pthread_join");
	pq_async(pw, 0);
	running = closing = waiting = 0;
	nfill = ntaken = 0;
	for (k = 0; k < NBATCH; k++)
		free(batch[k].b.p);
	memset(batch, 0, sizeof batch);
	filling = &batch[0];
}

/*
 * the cell c (its text s) of a column declared ct, to the batch as its
 * type's bytes after ct itself (its kind K_FIXED); -1 if it is not a number that type holds
 * exactly (reported)
 */
static int
put_fixed(const char *name, long line, const struct coltype *ct,
    const struct cell *c, const char *s)
{
	struct ddb_buf *t = &filling->b;
	struct cell o = *c;
	char b[16];
	double d;
	size_t n = ct->d.type == PQ_DOUBLE ? 8 : (size_t)ct->d.length;

	if (cell_kind(c) != K_NUMBER) {
		ddb_errat(name, line, "a value in column %s that is not a "
		    "number, which %s needs (--column-type)",
		    show_name(nm.name[c->col]), ct->spelled);
		return -1;
	}
	if (ct->d.type == PQ_DOUBLE ? exact_double(s, c->len, &d) < 0 :
	    exact_decimal(s, c->len, &ct->d, b) < 0) {
		ddb_errat(name, line, "a number in column %s that %s cannot "
		    "hold exactly (--column-type)",
		    show_name(nm.name[c->col]), ct->spelled);
		return -1;
	}
	if (ct->d.type == PQ_DOUBLE)
		memcpy(b, &d, 8);
	o.len = (uint32_t)(sizeof ct + n);
	ddb_buf_reserve(t, sizeof o + o.len);
	memcpy(t->p + t->n, &o, sizeof o);
	memcpy(t->p + t->n + sizeof o, &ct, sizeof ct);
	memcpy(t->p + t->n + sizeof o + sizeof ct, b, n);
	t->n += sizeof o + o.len;
	return 0;
}

/* a row's kinds and doubles, while it is put in the batch */
static struct ddb_buf kinds, dbls;

/*
 * The row csv-emit rendered into row.p, to the batch, each cell as what
 * its kind allows; -1 if a number cannot be what --numbers asks (reported;
 * nothing of the row is taken).  Without a declared column, the cells are
 * the row's as they are.
 */
static int
write_row(const char *name, long line)
{
	struct ddb_buf *t = &filling->b;
	const struct coltype *ct;
	struct cell c;
	size_t pos, start = t->n;
	uint32_t ncell = 0, nb;
	unsigned char k;
	char *kind;
	double d;

	grow_kinds();
	ddb_buf_reserve(&kinds, row.n / sizeof c + 1);
	/* a local pointer: a store through it changes nothing else */
	kind = kinds.p;
	dbls.n = 0;
	ddb_buf_reserve(t, 8 + row.n);
	t->n += 8;
	if (nctypes == 0) {
		memcpy(t->p + t->n, row.p, row.n);
		t->n += row.n;
	}
	for (pos = 0; pos < row.n; pos += c.len) {
		memcpy(&c, row.p + pos, sizeof c);
		pos += sizeof c;
		if (nctypes > 0 && (ct = ctype_of[c.col]) != NULL) {
			if (put_fixed(name, line, ct, &c, row.p + pos) < 0) {
				t->n = start;
				return -1;
			}
			kind[ncell++] = (char)K_FIXED;
			continue;
		}
		k = textonly ? K_STRING : cell_kind(&c);
		if (k == K_NUMBER && !doubles)
			k = K_STRING;
		if (k == K_NUMBER) {
			if (exact_double(row.p + pos, c.len, &d) < 0) {
				ddb_errat(name, line, "a number in column %s "
				    "that a DOUBLE cannot hold exactly (see "
				    "--numbers)", show_name(nm.name[c.col]));
				t->n = start;
				return -1;
			}
			ddb_buf_put(&dbls, (const char *)&d, 8);
		}
		if (nctypes > 0) {
			ddb_buf_reserve(t, sizeof c + c.len);
			memcpy(t->p + t->n, row.p + pos - sizeof c,
			    sizeof c + c.len);
			t->n += sizeof c + c.len;
		}
		kind[ncell++] = (char)k;
	}
	nb = (uint32_t)(t->n - start - 8);
	memcpy(t->p + start, &nb, 4);
	memcpy(t->p + start + 4, &ncell, 4);
	ddb_buf_reserve(t, ncell + dbls.n);
	memcpy(t->p + t->n, kind, ncell);
	t->n += ncell;
	if (dbls.n > 0) {
		memcpy(t->p + t->n, dbls.p, dbls.n);
		t->n += dbls.n;
	}
	nkept++;
	if (t->n >= BATCH)
		hand_over();
	return 0;
}

/*
 * csv-emit's put_row: the row rendered, by its fast path or its parser's;
 * a bad row before without -c means no file: writing it is no use
 */
static void
pq_put_row(const char *name, long line)
{
	if ((cflag == NULL && bad) || write_row(name, line) < 0)
		bad = 1;
}

/*
 * The writer keeps a page of values, indices and levels for every column
 * and the compressed chunks of the row group: many buffers of up to a few
 * MiB, each written once, page by page.  On a virtual machine a fault for
 * each 4 KiB page costs more than the writing itself, so where the kernel
 * gives huge pages on request, every buffer comes from the one heap (one
 * arena for both threads, nothing mapped on its own), grown HEAP bytes at
 * a time (address space, not memory) and never given back, and the heap
 * is taken in huge pages (2 MiB a fault).  A 2 MiB range that had a page
 * of 4 KiB before it was asked for stays in 4 KiB pages, and so does the
 * heap up to the first 2 MiB boundary: the heap is grown by one block
 * (the size of the range), whose part up to the range's first boundary is
 * kept for good, never touched, and the rest is freed at once (malloc
 * writes only at the ends of its blocks, outside the range).  Under
 * valgrind or ASan, whose malloc is their own, the heap does not grow and
 * nothing is asked.
 */
enum { HEAP = 256 << 20 };

static void
heap_hugepages(void)
{
	char line[128] = "", *b0, *b1, *p;
	uintptr_t lo, hi;
	FILE *fp;

	if ((fp = fopen("/sys/kernel/mm/transparent_hugepage/enabled",
	    "r")) == NULL)
		return;
	if (fgets(line, sizeof line, fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	if (strstr(line, "[always]") == NULL &&
	    strstr(line, "[madvise]") == NULL)
		return;
	if (mallopt(M_ARENA_MAX, 1) == 0 ||
	    mallopt(M_MMAP_THRESHOLD, HEAP) == 0 ||
	    mallopt(M_TRIM_THRESHOLD, 4 * HEAP) == 0 ||
	    mallopt(M_TOP_PAD, 0) == 0)
		return;
	b0 = sbrk(0);
	/* below the mmap threshold: the heap grows to hold it, no more */
	p = malloc(HEAP - DDB_HUGE);
	b1 = sbrk(0);
	/* later growth HEAP bytes at a time (in pages of 4 KiB) */
	(void)mallopt(M_TOP_PAD, HEAP);
	if (p == NULL)
		return;
	lo = (uintptr_t)(b0 > p + 64 ? b0 : p + 64);
	lo = (lo + DDB_HUGE - 1) & ~(uintptr_t)(DDB_HUGE - 1);
	hi = ((uintptr_t)p + HEAP - DDB_HUGE) & ~(uintptr_t)(DDB_HUGE - 1);
	if (b0 == (char *)-1 || b1 == (char *)-1 || b1 <= b0 || hi <= lo) {
		free(p);
		return;
	}
	/* the block up to lo kept; the heap's free rest begins at lo */
	if (realloc(p, lo - (uintptr_t)p - 8) == NULL)
		return;
	(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

/* a size in bytes, with an optional K, M or G (powers of 1024) */
static size_t
size_arg(const char *opt, const char *s, unsigned long lo)
{
	long long v;

	if (ddb_size_arg(s, (long long)lo, 1LL << 40, &v) != 0) {
		warnx("%s: a size in bytes (K, M, G: 1024s), at least %lu, "
		    "not %s", opt, lo, s);
		pq_usage(stderr, DDB_EXIT_USAGE);
	}
	return (size_t)v;
}

static void
codec_arg(const char *s)
{
	static const struct {
		const char *name;
		enum pq_codec codec;
		int lo, hi;
	} codecs[] = {
		{ "zstd", PQ_ZSTD, 1, 19 }, { "snappy", PQ_SNAPPY, 0, 0 },
		{ "gzip", PQ_GZIP, 1, 9 }, { "none", PQ_NONE, 0, 0 },
	};
	size_t k, n = strcspn(s, ":");
	long level = 0;

	for (k = 0; k < sizeof codecs / sizeof codecs[0]; k++)
		if (strlen(codecs[k].name) == n &&
		    strncmp(s, codecs[k].name, n) == 0)
			break;
	if (k == sizeof codecs / sizeof codecs[0] || (s[n] == ':' &&
	    (codecs[k].hi == 0 || ddb_long_arg(s + n + 1, codecs[k].lo,
	    codecs[k].hi, &level) != 0)))
		ddb_usage_error(pq_usage, "--compression: zstd[:1-19], snappy, "
		    "gzip[:1-9] or none, not %s", s);
	pset.codec = codecs[k].codec;
	if (pset.codec == PQ_SNAPPY && pq_snappy_load() < 0)
		ddb_usage_error(pq_usage, "--compression snappy needs "
		    "libsnappy.so.1 (Debian: libsnappy1v5)");
	pset.level = (int)level;
}

/* --column-type NAME=TYPE: TYPE double or decimal(P,S) */
static void
coltype_arg(const char *s)
{
	const char *eq = strrchr(s, '=');
	struct coltype *ct;
	char *name;
	int p, sc, end = 0;
	size_t k;

	if (eq == NULL || eq == s)
		ddb_usage_error(pq_usage, "--column-type: NAME=double or "
		    "NAME=decimal(P,S), not %s", s);
	ctypes = xreallocarray(ctypes, nctypes + 1, sizeof *ctypes);
	ct = &ctypes[nctypes];
	memset(ct, 0, sizeof *ct);
	ct->spelled = eq + 1;
	if (strcmp(eq + 1, "double") == 0)
		ct->d.type = PQ_DOUBLE;
	else if (sscanf(eq + 1, "decimal(%d,%d)%n", &p, &sc, &end) == 2 &&
	    end > 0 && eq[1 + end] == '\0' && strspn(eq + 9, "0123456789,)") ==
	    strlen(eq + 9) && p >= 1 && p <= PQ_DECIMAL_MAX && sc >= 0 &&
	    sc <= p) {
		ct->d.type = PQ_DECIMAL;
		ct->d.precision = p;
		ct->d.scale = sc;
		ct->d.length = pq_decimal_length(p);
	} else
		ddb_usage_error(pq_usage, "--column-type: double or "
		    "decimal(P,S) with P 1 to %d and S 0 to P, not %s",
		    PQ_DECIMAL_MAX, eq + 1);
	name = xmalloc((size_t)(eq - s) + 1);
	memcpy(name, s, (size_t)(eq - s));
	name[eq - s] = '\0';
	for (k = 0; k < nctypes; k++)
		if (strcmp(ctypes[k].name, name) == 0)
			ddb_usage_error(pq_usage, "--column-type: column %s is "
			    "given twice", name);
	ct->name = name;
	nctypes++;
}

/* long options only: every letter of the suite means something already */
enum {
	OPT_COLTYPE = 256, OPT_COMPRESSION, OPT_DICTIONARY, OPT_NUMBERS,
	OPT_ROWGROUP, OPT_TYPES
};

/* the fuzz harness compiles this file in under another name */
#ifndef PARQUET_EMIT_MAIN
#define PARQUET_EMIT_MAIN main
#endif

int
PARQUET_EMIT_MAIN(int argc, char *argv[])
{
	static const struct option longopts[] = {
		COLUMN_LONGOPTS,
		{ "column-type", required_argument, NULL, OPT_COLTYPE },
		{ "compression", required_argument, NULL, OPT_COMPRESSION },
		{ "dictionary-size", required_argument, NULL, OPT_DICTIONARY },
		{ "help", no_argument, NULL, 'h' },
		{ "numbers", required_argument, NULL, OPT_NUMBERS },
		{ "row-group-size", required_argument, NULL, OPT_ROWGROUP },
		{ "types", required_argument, NULL, OPT_TYPES },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, status = 0;
	size_t k;

	while ((c = getopt_long(argc, argv, COLUMN_OPTSTRING "hV", longopts,
	    NULL)) != -1)
		switch (column_option(c, optarg) ? 0 : c) {
		case 0: break;
		case 'h': pq_usage(stdout, DDB_EXIT_OK);
		case OPT_DICTIONARY: pset.dictionary = size_arg("--dictionary-size",
		    optarg, 0); break;
		case OPT_NUMBERS:
			if (strcmp(optarg, "text") == 0)
				doubles = 0;
			else if (strcmp(optarg, "double") == 0)
				doubles = 1;
			else
				ddb_usage_error(pq_usage, "--numbers: text or "
				    "double, not %s", optarg);
			break;
		case OPT_TYPES:
			if (strcmp(optarg, "values") == 0)
				textonly = 0;
			else if (strcmp(optarg, "text") == 0)
				textonly = 1;
			else
				ddb_usage_error(pq_usage, "--types: values or "
				    "text, not %s", optarg);
			break;
		case OPT_ROWGROUP: pset.rowgroup = size_arg("--row-group-size",
		    optarg, 1); break;
		case 'V': ddb_print_version(); break;
		case OPT_COMPRESSION: codec_arg(optarg); break;
		case OPT_COLTYPE: coltype_arg(optarg); break;
		default: pq_usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	columns_check();
	/* rows rendered by csv-emit's code: no byte of a cell quoted */
	memset(special, 0, sizeof special);
	dflag = 0xff;		/* in no UTF-8 text: add_plain never quotes */
	nullq = xstrdup("");
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	heap_hugepages();
	columns_begin();
	spool_open(&rows);
	pw = pq_open(stdout, rows.fd, &pset);

	if (argc == 0)
		status = read_file("-");
	for (; status == 0 && *argv != NULL; argv++)
		status = read_file(*argv);

	writer_done();
	if (status == 0 && (cflag != NULL || !bad) && nkept > 0) {
		if (cflag == NULL)
			spool_order();	/* csv-emit's header order */
		/* a declared column is of its type, with values or not */
		grow_kinds();
		for (k = 0; k < norder; k++)
			if (ctype_of[order[k]] != NULL)
				pq_declare(pw, order[k], &ctype_of[order[k]]->d);
		if (pq_close(pw, order, norder, nm.name) < 0)
			write_failed();
	} else
		pq_free(pw);
	spool_close(&rows);
	ddb_close_stdout();
	nrows = nkept;		/* what csv-emit's -o counts */
	return columns_end(status);
}

