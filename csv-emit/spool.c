/*
 * spool.c: csv-emit's rows while the header waits for all of them: a
 * private temporary file (unlinked at once), each row as its length and
 * its rendered bytes.  Failing I/O on it ends the program (exit 3).
 */
#include <err.h>
#include <stdlib.h>
#include <unistd.h>

#include "csv-emit.h"

FILE *
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	FILE *fp;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if (asprintf(&path, "%s/csv-emit.XXXXXX", dir) < 0)
		ddb_nomem();
	if ((fd = mkstemp(path)) < 0)
		err(DDB_EXIT_IO, "temporary file in %s", dir);
	unlink(path);
	free(path);
	if ((fp = fdopen(fd, "w+b")) == NULL)
		err(DDB_EXIT_IO, "temporary file");
	setvbuf(fp, NULL, _IOFBF, 1 << 16);
	return fp;
}

/* 0, or -1 if the row is too long to spool (4 GB) */
int
spool_put(FILE *fp, const struct ddb_buf *row)
{
	uint32_t n = (uint32_t)row->n;

	if (row->n > UINT32_MAX)
		return -1;
	if (fwrite_unlocked(&n, sizeof n, 1, fp) != 1 ||
	    fwrite_unlocked(row->p, 1, row->n, fp) != row->n)
		err(DDB_EXIT_IO, "temporary file");
	return 0;
}

/* from writing to reading the rows from the first */
void
spool_rewind(FILE *fp)
{
	if (fflush(fp) != 0 || fseek(fp, 0, SEEK_SET) != 0)
		err(DDB_EXIT_IO, "temporary file");
}

/* the next row into row: 1, or 0 at the end */
int
spool_get(FILE *fp, struct ddb_buf *row)
{
	uint32_t n;

	row->n = 0;
	if (fread_unlocked(&n, sizeof n, 1, fp) != 1) {
		if (ferror(fp))
			err(DDB_EXIT_IO, "temporary file");
		return 0;
	}
	ddb_buf_reserve(row, n);
	if (fread_unlocked(row->p, 1, n, fp) != n) {
		if (ferror(fp))
			err(DDB_EXIT_IO, "temporary file");
		errx(DDB_EXIT_IO, "temporary file: short read");
	}
	row->n = n;
	return 1;
}
