/* parquet.h: parquet-emit's Parquet file writer (parquet.c) */
#include <stdint.h>
#include <stdio.h>

#include "ddb.h"

/* a column's type in the file; every column is an OPTIONAL leaf */
enum pq_type {
	PQ_STRING,		/* BYTE_ARRAY, logical type STRING (UTF8) */
	PQ_BOOLEAN,		/* BOOLEAN */
	PQ_DOUBLE,		/* DOUBLE */
	PQ_DECIMAL		/* FIXED_LEN_BYTE_ARRAY, logical type DECIMAL */
};

/*
 * a column's type declared by the caller (pq_fixed): DOUBLE, or DECIMAL
 * of precision digits (1 to PQ_DECIMAL_MAX), scale of them after the
 * point, each value the unscaled number in length bytes, big-endian two's
 * complement (pq_decimal_length)
 */
struct pq_decl {
	enum pq_type type;
	int precision, scale, length;
};
enum { PQ_DECIMAL_MAX = 38 };
/* the fewest bytes that hold every unscaled value of precision digits */
int pq_decimal_length(int precision);

/* compression of every page: Parquet's CompressionCodec numbers */
enum pq_codec {
	PQ_NONE = 0, PQ_SNAPPY = 1, PQ_GZIP = 2, PQ_ZSTD = 6
};

/*
 * zstd's level unless told: its fastest, which on pages of at most 1 MiB
 * of dictionary indices and plain text compresses as well as its own
 * default (3) or better, at a fraction of the time (bench/notes.md)
 */
enum { PQ_ZSTD_LEVEL = 1 };

struct pq_settings {
	enum pq_codec codec;
	int level;		/* zstd or gzip level; 0: the default */
	size_t rowgroup;	/* a row group is flushed at this many value bytes */
	size_t dictionary;	/* a chunk's dictionary at most this big; 0 none */
	size_t page;		/* a data page at most this many value bytes */
};

struct pq_writer;

/*
 * A writer of one file to out, with tmpfd (a file open for writing and
 * reading, empty) for the row groups ended before the last.  Values come
 * row by row: a value for each column that has one, then pq_end_row (the
 * others are null).  Columns are numbered by the caller, from 0, in any
 * order; every value comes with its text, and pq_boolean and pq_double
 * with that value too: a column whose values all came by pq_boolean is
 * BOOLEAN, all by pq_double DOUBLE, else STRING (their text).  Nothing is
 * written to out before pq_close.  Failing I/O on tmpfd ends the program
 * (exit 3), a compressor's failure too (exit 70).
 */
struct pq_writer *pq_open(FILE *out, int tmpfd, const struct pq_settings *set);
void pq_string(struct pq_writer *w, size_t col, const char *s, size_t n);
void pq_boolean(struct pq_writer *w, size_t col, const char *s, size_t n,
    int v);
void pq_double(struct pq_writer *w, size_t col, const char *s, size_t n,
    double v);
/*
 * a value of a column of the declared type d, as that type's bytes
 * b[0..n) (DOUBLE: 8, little-endian; DECIMAL: d->length); a column takes
 * every value this way, or none: pq_declare a column with no value yet
 */
void pq_fixed(struct pq_writer *w, size_t col, const struct pq_decl *d,
    const char *b, size_t n);
void pq_declare(struct pq_writer *w, size_t col, const struct pq_decl *d);
void pq_end_row(struct pq_writer *w);
/*
 * the file, its columns order[0..n) (the caller's numbers) named
 * names[order[k]]: 0, or -1 when out failed (errno set); the writer is
 * freed either way
 */
int pq_close(struct pq_writer *w, const size_t *order, size_t n,
    char *const *names);
void pq_free(struct pq_writer *w);
/*
 * pq_async on: the data pages the caller's thread ends are compressed
 * apart, by pq_help (one queued page: 1, or 0 if none waits), called by
 * that thread (other 0) or by one other thread (other 1), or by the
 * caller's thread when many wait or their chunk is ended; off (before
 * pq_close): at once
 */
void pq_async(struct pq_writer *w, int on);
int pq_help(struct pq_writer *w, int other);
/* libsnappy, opened: 0, or -1 (said on stderr) where it is not installed */
int pq_snappy_load(void);
