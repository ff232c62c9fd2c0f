/* csv-emit.c: libFuzzer harness for csv-emit's row reader and CSV writer */
#include <stdint.h>

#define main csv_emit_main
#include "../../csv-emit/csv-emit.c"
#undef main
#include "csv-reset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* every record of the CSV has as many fields as the first; abort if not */
static void
check_csv(const char *s, size_t n, int delim)
{
	size_t i = 0, fields = 1, want = 0;
	int quoted = 0, records = 0;

	while (i < n) {
		char c = s[i++];
		if (quoted) {
			if (c != '"')
				continue;
			if (i < n && s[i] == '"') {
				i++;
				continue;
			}
			quoted = 0;
			/* a closing quote ends the cell */
			if (i < n && s[i] != delim && s[i] != '\n')
				abort();
		} else if (c == '"') {
			if (i > 1 && s[i - 2] != delim && s[i - 2] != '\n')
				abort();	/* a quote inside an unquoted cell */
			quoted = 1;
		} else if (c == delim)
			fields++;
		else if (c == '\r')
			abort();	/* a bare CR outside quotes */
		else if (c == '\n') {
			if (records++ == 0)
				want = fields;
			else if (fields != want)
				abort();
			fields = 1;
		}
	}
	if (quoted || (n > 0 && s[n - 1] != '\n'))
		abort();
}

/*
 * The first byte picks the options, the rest is the rows.  Whatever the
 * rows, the CSV out is rectangular and well quoted.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *opts[][8] = {
		{ "csv-emit", NULL },
		{ "csv-emit", "-c", "id,fname,a", "-x", "drop", NULL },
		{ "csv-emit", "-c", "id,b", "-x", "gather=rest", NULL },
		{ "csv-emit", "-d", ";", "-N", "NULL", "-H", NULL },
		{ "csv-emit", "-c", "x,y", NULL },
		{ "csv-emit", "-d", "\\t", "-E", "e", "-C", "c", NULL },
	};
	char *argv[8], *buf = NULL;
	size_t len = 0, k;
	FILE *in, *mem, *saveout = stdout, *savein = stdin;
	int which, argc, rc, delim;

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
	csv_emit_reset();
	stdin = in;
	stdout = mem;
	rc = csv_emit_main(argc, argv);
	/* main closed stdout (the memory stream) */
	stdout = saveout;
	stdin = savein;
	fclose(in);
	spool_close(&spool);
	delim = dflag;
	if (rc == 0)
		check_csv(buf, len, delim);
	else
		for (k = 0; k < len; k++)
			if (cflag == NULL)
				abort();	/* bad input: no half CSV */
	free(buf);
	csv_emit_reset();
	return 0;
}
