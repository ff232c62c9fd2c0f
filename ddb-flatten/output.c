/*
 * output.c: ddb-flatten's lines, held while their event is checked and
 * written once all of it is sound: to stdout, or with -S to one file per
 * table (and with -P per partition of its records' times), with the
 * summary line that names each file, its records and their hashes
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ddb.h"
#include "flatten.h"

static const char *splitdir;	/* -S: directory of one file per table */
/* -P: the length of the part of YYYYMMDDTHHMMSSZ that names a partition
   (0: no -P) */
static size_t partlen;

/* -S: a table's file and what the summary line tells of it */
struct table {
	char *name;
	char *path;		/* DIR/INDEX.ndjson, never named by the table */
	FILE *fp;
	long records;
	char *firstseq, *lastseq, *firsttime;
	char firstid[136];	/* FIRST_SEQ (up to 129 digits from Kinesis),
				   or h + 16 hex of the first line */
	EVP_MD_CTX *md;		/* SHA-256 of the whole file */
};
static struct table *tables;	/* in order of first record */
static size_t ntables, curtable;

/* a line of the event being checked, held until the whole event is sound */
struct line {
	size_t off, n;			/* its line in lbuf, newline included */
	char *table, *seq, *time;	/* -S: where it goes, what it adds
					   (seq and time "-" when absent) */
};

static struct line *out;
static size_t nout, capout;
static struct ddb_buf lbuf;

/* -S DIR (NULL: stdout) and -P's length */
void
lines_to(const char *dir, size_t n)
{
	splitdir = dir;
	partlen = n;
}

/* room for an event's lines, about what its text took */
void
lines_reserve(size_t n)
{
	ddb_buf_reserve(&lbuf, n);
}

/* a checked string member's text, "-" when absent */
static char *
text_of(const struct jv *o)
{
	return o == NULL ? xstrndup("-", 1) : xstrndup(o->u.s, o->n);
}

/* a checked ApproximateCreationDateTime as YYYYMMDDTHHMMSSZ, "-" if absent */
static char *
time_text(const struct jv *o)
{
	struct ddb_time t;
	char buf[DDB_TIME_COMPACT];

	if (o == NULL || time_of(o, &t) != 0)
		return text_of(NULL);
	ddb_time_format(&t, 0, buf, sizeof buf);
	return text_of(&(struct jv){ JV_STRING, strlen(buf), { buf } });
}

/* the first 16 hex digits of a SHA-256 */
static void
hex16(const unsigned char *md, char *dst)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 8; i++) {
		dst[2 * i] = hex[md[i] >> 4];
		dst[2 * i + 1] = hex[md[i] & 15];
	}
	dst[16] = '\0';
}

/*
 * -P: a record of time T (YYYYMMDDTHHMMSSZ, or "-" when it has none)
 * belongs with the file whose first record has time FIRST: the same
 * partition (the first partlen characters), and "-" only with "-"
 */
static int
same_part(const char *first, const char *t)
{
	if (partlen == 0)
		return 1;
	if (strcmp(first, "-") == 0 || strcmp(t, "-") == 0)
		return strcmp(first, t) == 0;
	return strncmp(first, t, partlen) == 0;
}

/*
 * -S: the file of a checked record's table (and with -P its partition),
 * opened on first use
 */
static FILE *
split_file(struct line *l)
{
	struct table tb;
	const char *name = l->table;
	size_t i;
	int fd;

	for (i = 0; i < ntables; i++)
		if (strcmp(tables[i].name, name) == 0 &&
		    same_part(tables[i].firsttime, l->time))
			break;
	if (i == ntables) {
		unsigned char md[EVP_MAX_MD_SIZE];

		tables = xreallocarray(tables, ntables + 1, sizeof *tables);
		memset(&tb, 0, sizeof tb);
		tb.name = xstrndup(name, strlen(name));
		tb.path = xasprintf("%s/%zu.ndjson", splitdir, i + 1);
		if ((tb.md = EVP_MD_CTX_new()) == NULL ||
		    !EVP_DigestInit_ex(tb.md, EVP_sha256(), NULL))
			errx(DDB_EXIT_IO, "SHA-256 unavailable");
		fd = open(tb.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 || (tb.fp = fdopen(fd, "w")) == NULL)
			err(DDB_EXIT_IO, "%s", tb.path);
		tb.firstseq = l->seq;
		tb.firsttime = l->time;
		l->time = NULL;
		l->seq = xstrndup(tb.firstseq, strlen(tb.firstseq));
		if (strcmp(tb.firstseq, "-") != 0)
			snprintf(tb.firstid, sizeof tb.firstid, "%s",
			    tb.firstseq);
		else {
			/* the line without its newline */
			if (!EVP_Digest(lbuf.p + l->off, l->n - 1, md, NULL,
			    EVP_sha256(), NULL))
				errx(DDB_EXIT_IO, "SHA-256 unavailable");
			tb.firstid[0] = 'h';
			hex16(md, tb.firstid + 1);
		}
		tables[ntables++] = tb;
	}
	curtable = i;
	free(tables[i].lastseq);
	tables[i].lastseq = l->seq;
	l->seq = NULL;
	tables[i].records++;
	if (!EVP_DigestUpdate(tables[i].md, lbuf.p + l->off, l->n))
		errx(DDB_EXIT_IO, "SHA-256 failed");
	return tables[i].fp;
}

void
add_line(const struct jv *rec)
{
	const struct jv *ddb;

	if (nout == capout) {
		capout = capout ? capout * 2 : 128;
		out = xreallocarray(out, capout, sizeof *out);
	}
	out[nout].off = lbuf.n;
	ddb_json_write(&lbuf, rec);
	ddb_buf_putc(&lbuf, '\n');
	out[nout].n = lbuf.n - out[nout].off;
	out[nout].table = out[nout].seq = out[nout].time = NULL;
	if (splitdir != NULL) {
		ddb = jv_get(rec, "dynamodb");
		out[nout].table = text_of(jv_get(rec, "tableName"));
		/* Kinesis: its sequenceNumber, checked in unwrap_kinesis */
		out[nout].seq = text_of(jv_get(ddb, "SequenceNumber") != NULL ?
		    jv_get(ddb, "SequenceNumber") :
		    jv_get(jv_get(rec, "kinesis"), "sequenceNumber"));
		out[nout].time = time_text(jv_get(ddb,
		    "ApproximateCreationDateTime"));
	}
	nout++;
}

/* the event was sound: write its lines */
void
flush_lines(void)
{
	size_t i;

	/* the lines lie one after another in lbuf, each with its newline */
	if (splitdir == NULL) {
		if (ddb_fwrite_all(stdout, lbuf.p, lbuf.n) < 0)
			err(DDB_EXIT_IO, "stdout");
		return;
	}
	for (i = 0; i < nout; i++) {
		FILE *fp = split_file(&out[i]);
		if (ddb_fwrite_all(fp, lbuf.p + out[i].off, out[i].n) < 0)
			err(DDB_EXIT_IO, "%s", tables[curtable].path);
	}
}

/* forget the lines of the event, written or not */
void
drop_lines(void)
{
	size_t i;

	for (i = 0; i < nout; i++) {
		free(out[i].table);
		free(out[i].seq);
		free(out[i].time);
	}
	nout = 0;
	lbuf.n = 0;
}

/*
 * -S: close the files, then one line a table, in order of first record:
 * INDEX TABLE RECORDS FIRST_SEQ LAST_SEQ FIRST_TIME FIRST_ID HASH, each
 * field checked above to hold only [A-Za-z0-9_.-] (a shell reads them)
 */
void
split_finish(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hash[17];
	size_t i;
	struct table *t;

	for (i = 0; i < ntables; i++) {
		t = &tables[i];
		if (fclose(t->fp) != 0)
			err(DDB_EXIT_IO, "%s", t->path);
		if (!EVP_DigestFinal_ex(t->md, md, NULL))
			errx(DDB_EXIT_IO, "SHA-256 failed");
		EVP_MD_CTX_free(t->md);
		hex16(md, hash);
		printf("%zu\t%s\t%ld\t%s\t%s\t%s\t%s\t%s\n", i + 1, t->name,
		    t->records, t->firstseq, t->lastseq, t->firsttime,
		    t->firstid, hash);
		free(t->name);
		free(t->path);
		free(t->firstseq);
		free(t->lastseq);
		free(t->firsttime);
	}
	free(tables);
}

void
lines_free(void)
{
	free(out);
	free(lbuf.p);
}
