/*
 * spool.c: csv-emit's rows while the header waits for all of them.  Each
 * row waits as the CSV line it is if no column comes after it, in a private
 * temporary file (unlinked at once); a second one holds each line's length
 * and where in it the cells of later columns go.  Lines spooled after the
 * last new column are the output as they are: they go from the file to
 * stdout by sendfile(2) where the system can, without passing through this
 * process.  Failing I/O on either file ends the program (exit 3).
 */
#include <sys/sendfile.h>

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "csv-emit.h"

enum { CHUNK = 1 << 18 };	/* lines written to the file at a time */

struct ix {
	uint32_t len, head;
};

static int
temp_fd(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	path = xasprintf("%s/csv-emit.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		err(DDB_EXIT_IO, "temporary file in %s", dir);
	unlink(path);
	free(path);
	return fd;
}

static _Noreturn void
spool_failed(void)
{
	err(DDB_EXIT_IO, "temporary file");
}

void
spool_open(struct spool *sp)
{
	sp->fd = temp_fd();
	if ((sp->ix = fdopen(temp_fd(), "w+b")) == NULL)
		spool_failed();
	setvbuf(sp->ix, NULL, _IOFBF, 1 << 16);
	sp->buf.n = 0;
	sp->off = 0;
	sp->in = NULL;
}

/* write out the lines in buf */
static void
spool_flush(struct spool *sp)
{
	if (ddb_write_all(sp->fd, sp->buf.p, sp->buf.n) == -1)
		spool_failed();
	sp->off += sp->buf.n;
	sp->buf.n = 0;
}

/*
 * the line from buf.p + start to the end of buf, whose later cells go at
 * head: 0, or -1 if the line is too long to spool (4 GB; it is taken back)
 */
int
spool_add(struct spool *sp, size_t start, size_t head)
{
	struct ix e;

	if (sp->buf.n - start > UINT32_MAX) {
		sp->buf.n = start;
		return -1;
	}
	e.len = (uint32_t)(sp->buf.n - start);
	e.head = (uint32_t)(head - start);
	if (fwrite_unlocked(&e, sizeof e, 1, sp->ix) != 1)
		spool_failed();
	if (sp->buf.n >= CHUNK)
		spool_flush(sp);
	return 0;
}

/* the offset in the file of the next line */
uint64_t
spool_tell(const struct spool *sp)
{
	return sp->off + sp->buf.n;
}

/* from writing to reading the lines from the first */
void
spool_rewind(struct spool *sp)
{
	int fd;

	spool_flush(sp);
	if (fflush(sp->ix) != 0 || fseek(sp->ix, 0, SEEK_SET) != 0)
		spool_failed();
	if ((fd = dup(sp->fd)) < 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    (sp->in = fdopen(fd, "rb")) == NULL)
		spool_failed();
	setvbuf(sp->in, NULL, _IOFBF, 1 << 16);
}

/* the next line into line, its later cells' place into *head: 1, or 0 */
int
spool_get(struct spool *sp, struct ddb_buf *line, size_t *head)
{
	struct ix e;

	line->n = 0;
	if (fread_unlocked(&e, sizeof e, 1, sp->ix) != 1) {
		if (ferror(sp->ix))
			spool_failed();
		return 0;
	}
	if (e.head > e.len)
		errx(DDB_EXIT_IO, "temporary file is corrupt");
	ddb_buf_reserve(line, e.len);
	if (fread_unlocked(line->p, 1, e.len, sp->in) != e.len) {
		if (ferror(sp->in))
			spool_failed();
		errx(DDB_EXIT_IO, "temporary file: short read");
	}
	line->n = e.len;
	*head = e.head;
	return 1;
}

/*
 * the lines from offset from to the end, to the file descriptor out as they
 * are; write errors on out end the program with what fail says
 */
void
spool_copy(struct spool *sp, uint64_t from, int out, void (*fail)(void))
{
	off_t off = (off_t)from;
	char *b = NULL;
	ssize_t n;

	while ((uint64_t)off < sp->off) {
		n = sendfile(out, sp->fd, &off, sp->off - (uint64_t)off >
		    (1 << 30) ? (1 << 30) : (size_t)(sp->off - (uint64_t)off));
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errx(DDB_EXIT_IO, "temporary file: short read");
		if (errno != EINVAL && errno != ENOSYS)
			fail();
		break;		/* no sendfile to out: read and write */
	}
	while ((uint64_t)off < sp->off) {
		if (b == NULL)
			b = xmalloc(CHUNK);
		n = pread(sp->fd, b, sp->off - (uint64_t)off > CHUNK ? CHUNK :
		    (size_t)(sp->off - (uint64_t)off), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errx(DDB_EXIT_IO, "temporary file: short read");
		if (n < 0)
			spool_failed();
		if (ddb_write_all(out, b, (size_t)n) == -1)
			fail();
		off += n;
	}
	free(b);
}

void
spool_close(struct spool *sp)
{
	if (sp->ix == NULL)
		return;
	fclose(sp->ix);
	if (sp->in != NULL)
		fclose(sp->in);
	close(sp->fd);
	free(sp->buf.p);
	sp->ix = sp->in = NULL;
	sp->buf.p = NULL;
	sp->buf.n = sp->buf.cap = 0;
}
