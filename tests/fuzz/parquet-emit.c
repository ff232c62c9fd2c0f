/*
 * parquet-emit.c: libFuzzer harness for parquet-emit: random rows in, and
 * the file out is read back here, every byte of it accounted for: the
 * magic at both ends, the footer (Thrift compact protocol) parsed whole,
 * each column chunk's pages parsed, decompressed to their stated size, and
 * their definition levels decoded to the rows each page says it holds.
 * Bad rows must give no file (without --columns).
 */
#include <stdint.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#define PARQUET_EMIT_MAIN parquet_emit_main
#include "../../parquet-emit/parquet-emit.c"
#include "csv-reset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* what main changed, put back: csv-emit's part, then parquet-emit's */
static void
reset(void)
{
	csv_emit_reset();
	spool_close(&rows);
	free(rowkind);
	rowkind = NULL;
	nkinds = 0;
	nkept = 0;
	doubles = 0;
	pset.codec = PQ_ZSTD;
	pset.level = 0;
	pset.rowgroup = 64 << 20;
	pset.dictionary = 1 << 20;
}

/* a reader of Thrift's compact protocol over p[0..n); any fault aborts */
struct tr {
	const unsigned char *p, *end;
};

static uint64_t
tr_varint(struct tr *t)
{
	uint64_t v = 0;
	int shift = 0;

	for (;;) {
		if (t->p >= t->end || shift > 63)
			abort();
		v |= (uint64_t)(*t->p & 0x7f) << shift;
		if (!(*t->p++ & 0x80))
			return v;
		shift += 7;
	}
}

static int64_t
tr_int(struct tr *t)
{
	uint64_t v = tr_varint(t);

	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void tr_skip(struct tr *t, int type, int depth);

/* the next field's id and type, or 0 at the struct's end */
static int
tr_field(struct tr *t, int *id, int *last)
{
	int b, d;

	if (t->p >= t->end)
		abort();
	b = *t->p++;
	if (b == 0)
		return 0;
	d = b >> 4;
	*id = d != 0 ? *last + d : (int)tr_int(t);
	*last = *id;
	return b & 0x0f;
}

static size_t
tr_list(struct tr *t, int *etype)
{
	int b;
	size_t n;

	if (t->p >= t->end)
		abort();
	b = *t->p++;
	*etype = b & 0x0f;
	n = (size_t)(b >> 4);
	if (n == 15)
		n = tr_varint(t);
	if (n > (size_t)(t->end - t->p))
		abort();	/* every element takes a byte at least */
	return n;
}

static void
tr_skip(struct tr *t, int type, int depth)
{
	int id, last = 0, et, ft;
	size_t n, k;

	if (depth > 32)
		abort();
	switch (type) {
	case 1: case 2: return;
	case 3:
		if (t->p >= t->end)
			abort();
		t->p++;
		return;
	case 4: case 5: case 6: tr_varint(t); return;
	case 7:
		if (t->end - t->p < 8)
			abort();
		t->p += 8;
		return;
	case 8:
		n = tr_varint(t);
		if (n > (size_t)(t->end - t->p))
			abort();
		t->p += n;
		return;
	case 9: case 10:
		n = tr_list(t, &et);
		for (k = 0; k < n; k++)
			tr_skip(t, et, depth + 1);
		return;
	case 12:
		while ((ft = tr_field(t, &id, &last)) != 0)
			tr_skip(t, ft, depth + 1);
		return;
	default:
		abort();
	}
}

struct chunk {
	int64_t values, start, size, codec;
};

/* a ColumnMetaData: the fields the pages are checked against */
static void
read_colmeta(struct tr *t, struct chunk *c)
{
	int id, last = 0, ft;
	int64_t data = -1, dict = -1;

	while ((ft = tr_field(t, &id, &last)) != 0) {
		if (ft == 6 || ft == 5) {
			int64_t v = tr_int(t);
			if (id == 4) c->codec = v;
			else if (id == 5) c->values = v;
			else if (id == 7) c->size = v;
			else if (id == 9) data = v;
			else if (id == 11) dict = v;
		} else
			tr_skip(t, ft, 1);
	}
	c->start = dict >= 0 ? dict : data;
	if (data < 0 || (dict >= 0 && dict >= data))
		abort();
}

/* a row group's chunks appended to *cs */
static void
read_rowgroup(struct tr *t, struct chunk **cs, size_t *n)
{
	int id, last = 0, ft, et, cid, clast, cft;
	size_t k, m;

	while ((ft = tr_field(t, &id, &last)) != 0) {
		if (id != 1 || ft != 9) {
			tr_skip(t, ft, 1);
			continue;
		}
		m = tr_list(t, &et);
		if (et != 12)
			abort();
		for (k = 0; k < m; k++) {
			*cs = realloc(*cs, (*n + 1) * sizeof **cs);
			memset(&(*cs)[*n], 0, sizeof **cs);
			clast = 0;
			while ((cft = tr_field(t, &cid, &clast)) != 0)
				if (cid == 3 && cft == 12)
					read_colmeta(t, &(*cs)[*n]);
				else
					tr_skip(t, cft, 2);
			(*n)++;
		}
	}
}

/* the pages of chunk c in the file f[0..n): sizes, codec, levels */
static void
check_chunk(const unsigned char *f, size_t n, const struct chunk *c)
{
	struct tr t;
	int64_t values = 0, type, usize, csize, nv, enc = 0;
	int id, last, ft, id2, last2, ft2;
	const unsigned char *p = f + c->start, *end = p + c->size;
	unsigned char *out;
	size_t outlen, got;

	if (c->start < 4 || c->size < 0 || (size_t)(c->start + c->size) > n)
		abort();
	while (p < end) {
		t.p = p;
		t.end = end;
		type = usize = csize = nv = -1;
		last = 0;
		while ((ft = tr_field(&t, &id, &last)) != 0) {
			if (id <= 3 && ft == 5) {
				int64_t v = tr_int(&t);
				if (id == 1) type = v;
				else if (id == 2) usize = v;
				else csize = v;
			} else if ((id == 5 || id == 7) && ft == 12) {
				last2 = 0;
				while ((ft2 = tr_field(&t, &id2, &last2)) != 0)
					if (id2 == 1 && ft2 == 5)
						nv = tr_int(&t);
					else if (id2 == 2 && ft2 == 5)
						enc = tr_int(&t);
					else
						tr_skip(&t, ft2, 2);
			} else
				tr_skip(&t, ft, 1);
		}
		(void)enc;
		if (type < 0 || usize < 0 || csize < 0 || nv < 0 ||
		    csize > end - t.p)
			abort();
		out = malloc((size_t)usize + 1);
		outlen = (size_t)usize;
		switch (c->codec) {
		case PQ_NONE:
			if (csize != usize)
				abort();
			memcpy(out, t.p, (size_t)usize);
			break;
		case PQ_ZSTD:
			got = ZSTD_decompress(out, outlen + 1, t.p, (size_t)csize);
			if (ZSTD_isError(got) || got != outlen)
				abort();
			break;
		case PQ_SNAPPY:
			got = outlen + 1;
			if (snappy_uncompress((const char *)t.p, (size_t)csize,
			    (char *)out, &got) != SNAPPY_OK || got != outlen)
				abort();
			break;
		case PQ_GZIP: {
			z_stream z;
			memset(&z, 0, sizeof z);
			if (inflateInit2(&z, 15 + 16) != Z_OK)
				abort();
			z.next_in = (unsigned char *)t.p;
			z.avail_in = (uInt)csize;
			z.next_out = out;
			z.avail_out = (uInt)outlen + 1;
			if (inflate(&z, Z_FINISH) != Z_STREAM_END ||
			    z.total_out != outlen)
				abort();
			inflateEnd(&z);
			break;
		}
		default:
			abort();
		}
		if (type == 0) {
			/* definition levels: nv of them, each 0 or 1 */
			uint32_t len;
			struct tr l;
			size_t have = 0;
			if (outlen < 4)
				abort();
			memcpy(&len, out, 4);
			if (len > outlen - 4)
				abort();
			l.p = out + 4;
			l.end = out + 4 + len;
			while (l.p < l.end) {
				uint64_t h = tr_varint(&l);
				if (h & 1) {
					/* groups of eight one-bit levels */
					if ((h >> 1) > (size_t)(l.end - l.p))
						abort();
					l.p += h >> 1;
					have += (h >> 1) * 8;
				} else {
					if (l.p >= l.end || *l.p > 1)
						abort();
					l.p++;
					have += h >> 1;
				}
			}
			if (have < (size_t)nv || have - (size_t)nv >= 8)
				abort();
			values += nv;
		} else if (type != 2)
			abort();
		free(out);
		p = t.p + csize;
	}
	if (values != c->values)
		abort();
}

static void
check_parquet(const unsigned char *f, size_t n)
{
	struct tr t;
	uint32_t flen;
	struct chunk *cs = NULL;
	size_t ncs = 0, k, m;
	int id, last = 0, ft, et;

	if (n < 12 || memcmp(f, "PAR1", 4) != 0 ||
	    memcmp(f + n - 4, "PAR1", 4) != 0)
		abort();
	memcpy(&flen, f + n - 8, 4);
	if (flen > n - 12)
		abort();
	t.p = f + n - 8 - flen;
	t.end = f + n - 8;
	while ((ft = tr_field(&t, &id, &last)) != 0) {
		if (id == 4 && ft == 9) {
			m = tr_list(&t, &et);
			for (k = 0; k < m; k++)
				read_rowgroup(&t, &cs, &ncs);
		} else
			tr_skip(&t, ft, 0);
	}
	if (t.p != t.end)
		abort();	/* the footer is exactly its length */
	for (k = 0; k < ncs; k++)
		check_chunk(f, n, &cs[k]);
	free(cs);
}

/*
 * The first byte picks the options, the rest is the rows.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *opts[][10] = {
		{ "parquet-emit", NULL },
		{ "parquet-emit", "--row-group-size=1", "--dictionary-size=16", NULL },
		{ "parquet-emit", "--compression=none", "--row-group-size=300", NULL },
		{ "parquet-emit", "--compression=gzip", "-c", "id,a", "-x",
		    "gather=rest", NULL },
		{ "parquet-emit", "--compression=snappy", "--numbers=double", NULL },
		{ "parquet-emit", "-c", "x,y", "--dictionary-size=0", NULL },
	};
	char *argv[10], *buf = NULL;
	size_t len = 0;
	FILE *in, *mem, *saveout = stdout, *savein = stdin;
	int which, argc, rc, fixed;

	if (size < 2)
		return 0;
	which = data[0] % (sizeof opts / sizeof opts[0]);
	for (argc = 0; opts[which][argc] != NULL; argc++)
		argv[argc] = opts[which][argc];
	argv[argc] = NULL;
	if ((in = fmemopen((void *)(data + 1), size - 1, "r")) == NULL)
		return 0;
	if ((mem = open_memstream(&buf, &len)) == NULL) {
		fclose(in);
		return 0;
	}
	reset();
	stdin = in;
	stdout = mem;
	rc = parquet_emit_main(argc, argv);
	/* main closed stdout (the memory stream) */
	stdout = saveout;
	stdin = savein;
	fclose(in);
	fixed = cflag != NULL;
	if (len > 0)
		check_parquet((const unsigned char *)buf, len);
	else if (rc == 0 && nkept > 0)
		abort();	/* rows in, no file, no error */
	if (rc != 0 && !fixed && len > 0)
		abort();	/* bad input without -c: no file */
	free(buf);
	reset();
	return 0;
}
