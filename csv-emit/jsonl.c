/*
 * jsonl.c: csv-emit -f jsonl: the CSV that csv-emit writes, as one JSON
 * object a row, named by the header.  The CSV is made as always (so the
 * columns, added columns, -c, -x, -l, -t and -N are exactly the CSV's), into
 * a private temporary file standing in for stdout, then read back here: a
 * row's object holds its cells as strings under their column names, in
 * column order, and leaves out a cell whose text is the -N text (null or
 * missing, as in the CSV).
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv-emit.h"

static FILE *csv;		/* the CSV, in place of stdout */
static int out = -1;		/* stdout's own descriptor, kept */

/* from here on, stdout writes to a temporary file */
void
jsonl_begin(void)
{
	if ((csv = tmpfile()) == NULL)
		err(DDB_EXIT_IO, "temporary file");
	if ((out = dup(STDOUT_FILENO)) < 0 ||
	    dup2(fileno(csv), STDOUT_FILENO) < 0)
		err(DDB_EXIT_IO, "stdout");
}

/*
 * one cell of the CSV at fp into cell (unquoted); *quoted if it was; the
 * byte after it: delim, '\n', or EOF
 */
static int
get_cell(FILE *fp, int delim, struct ddb_buf *cell, int *quoted)
{
	int c;

	cell->n = 0;
	*quoted = 0;
	if ((c = getc_unlocked(fp)) == '"') {
		*quoted = 1;
		for (;;) {
			if ((c = getc_unlocked(fp)) == EOF)
				errx(DDB_EXIT_IO, "internal error: CSV cut "
				    "inside a quoted cell");
			if (c == '"' && (c = getc_unlocked(fp)) != '"')
				break;
			ddb_buf_putc(cell, (char)c);
		}
		if (c != delim && c != '\n' && c != EOF)
			errx(DDB_EXIT_IO, "internal error: CSV text after "
			    "a quoted cell");
		return c;
	}
	while (c != delim && c != '\n' && c != EOF) {
		ddb_buf_putc(cell, (char)c);
		c = getc_unlocked(fp);
	}
	return c;
}

/*
 * stdout back, and (if ok) the CSV written to it as JSON lines; the CSV's
 * header gives the names, nulltext is -N's text
 */
void
jsonl_end(int ok, int delim, const char *nulltext)
{
	struct ddb_buf cell = { 0 }, line = { 0 };
	char **name = NULL;
	size_t nname = 0, k, nlen = strlen(nulltext);
	int c, quoted;

	if (fflush(stdout) != 0 || dup2(out, STDOUT_FILENO) < 0)
		err(DDB_EXIT_IO, "stdout");
	close(out);
	if (ok) {
		rewind(csv);
		/* the header: the names */
		do {
			c = get_cell(csv, delim, &cell, &quoted);
			if (c == EOF && nname == 0 && cell.n == 0 && !quoted)
				break;	/* no rows, no header */
			name = xreallocarray(name, nname + 1, sizeof *name);
			name[nname++] = xstrndup(cell.p ? cell.p : "",
			    cell.n);
		} while (c == delim);
		for (;;) {
			k = 0;
			line.n = 0;
			c = get_cell(csv, delim, &cell, &quoted);
			if (c == EOF && cell.n == 0 && !quoted)
				break;
			ddb_buf_putc(&line, '{');
			for (;;) {
				if (k >= nname)
					errx(DDB_EXIT_IO, "internal error: "
					    "a CSV row longer than its header");
				if (quoted || cell.n != nlen ||
				    memcmp(cell.p, nulltext, nlen) != 0) {
					if (line.n > 1)
						ddb_buf_putc(&line, ',');
					ddb_json_str(&line, name[k],
					    strlen(name[k]));
					ddb_buf_putc(&line, ':');
					ddb_json_str(&line, cell.p ? cell.p :
					    "", cell.n);
				}
				k++;
				if (c != delim)
					break;
				c = get_cell(csv, delim, &cell, &quoted);
			}
			ddb_buf_put(&line, "}\n", 2);
			if (ddb_fwrite_all(stdout, line.p, line.n) < 0)
				err(DDB_EXIT_IO, "stdout");
			if (c == EOF)
				break;
		}
	}
	if (ferror(csv))
		err(DDB_EXIT_IO, "temporary file");
	fclose(csv);
	for (k = 0; k < nname; k++)
		free(name[k]);
	free(name);
	free(cell.p);
	free(line.p);
}
