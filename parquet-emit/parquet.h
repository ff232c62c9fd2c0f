/* parquet.h: parquet-emit's Parquet file writer (parquet.c) */
#include <stdint.h>
#include <stdio.h>

#include "ddb.h"

/* a column's type in the file; every column is an OPTIONAL leaf */
enum pq_type {
	PQ_STRING,		/* BYTE_ARRAY, logical type STRING (UTF8) */
	PQ_BOOLEAN,		/* BOOLEAN */
	PQ_DOUBLE		/* DOUBLE */
};

/* compression of every page: Parquet's CompressionCodec numbers */
enum pq_codec {
	PQ_NONE = 0, PQ_SNAPPY = 1, PQ_GZIP = 2, PQ_ZSTD = 6
};

struct pq_settings {
	enum pq_codec codec;
	int level;		/* zstd or gzip level; 0: the library's default */
	size_t rowgroup;	/* a row group is flushed at this many value bytes */
	size_t dictionary;	/* a chunk's dictionary at most this big; 0 none */
	size_t page;		/* a data page at most this many value bytes */
};

struct pq_writer;

/*
 * A writer of one file to out.  Every call that writes returns 0, or -1
 * when out failed (errno set); a compressor's failure ends the program
 * (exit 70).  Values come row by row: pq_string/pq_boolean/pq_double for
 * the columns that have one, then pq_end_row (the others are null).
 */
struct pq_writer *pq_open(FILE *out, const struct pq_settings *set);
void pq_column(struct pq_writer *w, const char *name, enum pq_type type);
int pq_string(struct pq_writer *w, size_t col, const char *s, size_t n);
int pq_boolean(struct pq_writer *w, size_t col, int v);
int pq_double(struct pq_writer *w, size_t col, double v);
int pq_end_row(struct pq_writer *w);
/* the last row group and the footer; the writer is freed either way */
int pq_close(struct pq_writer *w);
void pq_free(struct pq_writer *w);
/* libsnappy, opened: 0, or -1 (said on stderr) where it is not installed */
int pq_snappy_load(void);
