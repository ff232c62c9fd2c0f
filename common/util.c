/* util.c: diagnostics, checked output and number syntax for every tool */
#include <errno.h>
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>

#include "ddb.h"

extern char *program_invocation_short_name;

/* prog: file:line: what */
void
ddb_errat(const char *name, long line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (line > 0)
		fprintf(stderr, "%s: %s:%ld: ", program_invocation_short_name,
		    name, line);
	else
		fprintf(stderr, "%s: %s: ", program_invocation_short_name, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* a full disk or a closed pipe must be an error, not silence */
void
ddb_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0)
		err(DDB_EXIT_IO, "stdout");
}

void
ddb_print_version(void)
{
	printf("%s %s\n", program_invocation_short_name, DDB_VERSION);
	ddb_close_stdout();
	exit(DDB_EXIT_OK);
}

int
ddb_fwrite_all(FILE *fp, const char *s, size_t n)
{
	return n == 0 || fwrite(s, 1, n, fp) == n ? 0 : -1;
}

/* RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
int
ddb_is_json_number(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return 0;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		size_t d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t d;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	return i == n;
}

/*
 * A large buffer's pages are faulted in one at a time, which is slow on
 * some virtual machines: ask for huge pages for its aligned middle (a hint;
 * nothing changes where the kernel does not give them).
 */
void
ddb_hugepages(void *p, size_t n)
{
	uintptr_t b = ((uintptr_t)p + DDB_HUGE - 1) & ~(uintptr_t)(DDB_HUGE - 1);
	uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(DDB_HUGE - 1);

	if (n >= 2 * DDB_HUGE && e > b)
		(void)madvise((void *)b, e - b, MADV_HUGEPAGE);
}
