/* util.c: diagnostics, checked output, allocation, syntax checks, times */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/*
 * stdout, when it is a pipe, made to hold 1 MB (the system's default cap
 * for anyone) instead of 64 KB, so the stages of a pipeline take turns
 * less often; where the system says no, it stays as it is
 */
void
ddb_stdout_pipe(void)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
}

_Noreturn void
ddb_print_version(void)
{
	printf("%s %s\n", program_invocation_short_name, DDB_VERSION);
	ddb_usage_exit(stdout, DDB_EXIT_OK);
}

/*
 * The end of usage(), --help and --version: what went to stdout must have
 * been written (--help >/dev/full is exit 3, not 0)
 */
_Noreturn void
ddb_usage_exit(FILE *fp, int status)
{
	if (fp == stdout)
		ddb_close_stdout();
	else
		fflush(fp);
	exit(status);
}

/* all of p[0..n) to fd, across short writes and EINTR: 0, or -1 with errno */
int
ddb_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	size_t off;

	for (off = 0; off < n;) {
		ssize_t w = write(fd, s + off, n - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/*
 * A usage error: "prog: " and the message, then the tool's usage(stderr,
 * 2), which ends the program; exit 2 if it returns
 */
_Noreturn void
ddb_usage_error(void (*usage)(FILE *, int), const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	usage(stderr, DDB_EXIT_USAGE);
	exit(DDB_EXIT_USAGE);
}

int
ddb_fwrite_all(FILE *fp, const char *s, size_t n)
{
	return n == 0 || fwrite(s, 1, n, fp) == n ? 0 : -1;
}

/*
 * RFC 8259's number, -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?,
 * at the start of s[0..n): its length, or 0 if s does not start with one
 * (a point or an exponent without digits is no number).  The one grammar
 * check: the JSON parser and the N-string checks both use it.
 */
size_t
ddb_json_number_len(const char *s, size_t n)
{
	size_t i = 0, d;

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
		d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	return i;
}

/* s[0..n) is exactly one JSON number (DynamoDB's N strings) */
int
ddb_is_json_number(const char *s, size_t n)
{
	return n > 0 && ddb_json_number_len(s, n) == n;
}

/*
 * DynamoDB's table names: 3 to 255 of A-Z a-z 0-9 _ - . (the one check;
 * ddb_table_name_span gives how many bytes at s are such characters)
 */
size_t
ddb_table_name_span(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-' || s[i] == '.'))
			break;
	return i;
}

int
ddb_table_name_ok(const char *s, size_t n)
{
	return n >= 3 && n <= 255 && ddb_table_name_span(s, n) == n;
}

/*
 * The suite's one whole-number check, for options, settings and state
 * lines: decimal digits with an optional '-' before them, nothing else (no
 * blanks, no '+'), in lo..hi.  0 and *v, or -1 with *v untouched.
 */
int
ddb_long_arg(const char *s, long lo, long hi, long *v)
{
	const char *d = s + (*s == '-');
	char *end;
	long n;

	if (*d < '0' || *d > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end || n < lo || n > hi)
		return -1;
	*v = n;
	return 0;
}

/*
 * A size in bytes: a whole number (as ddb_long_arg, not negative) with an
 * optional K, M or G after it (powers of 1024), in lo..hi.  0 and *v, or -1.
 */
int
ddb_size_arg(const char *s, long long lo, long long hi, long long *v)
{
	char *end;
	unsigned long long n;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (errno || *end || hi < 0 || n > (unsigned long long)hi >> shift ||
	    (long long)(n << shift) < lo)
		return -1;
	*v = (long long)(n << shift);
	return 0;
}

/*
 * The one DynamoDB ARN parser: arn:PARTITION:dynamodb:REGION:ACCOUNT:
 * table/NAME then nothing or "/" and more (a stream's /stream/LABEL, an
 * export's /export/ID).  PARTITION is not empty; NAME is 1 to 255 of the
 * characters a table name may hold (callers wanting 3 check it).  0 with
 * the parts (pointers into s, not NUL-terminated), or -1.
 */
int
ddb_arn_parse(const char *s, size_t n, struct ddb_arn *a)
{
	const char *p = s, *end = s + n, *q;
	struct ddb_part svc, *f[5] = { NULL, &a->partition, &svc, &a->region,
	    &a->account };
	int k;

	if (n < 4 || memcmp(s, "arn:", 4) != 0)
		return -1;
	for (k = 0; k < 5; k++) {
		if ((q = memchr(p, ':', (size_t)(end - p))) == NULL)
			return -1;
		if (f[k] != NULL) {
			f[k]->p = p;
			f[k]->n = (size_t)(q - p);
		}
		p = q + 1;
	}
	if (a->partition.n == 0 || svc.n != 8 || memcmp(svc.p, "dynamodb", 8)
	    != 0 || end - p < 6 || memcmp(p, "table/", 6) != 0)
		return -1;
	p += 6;
	q = p + ddb_table_name_span(p, (size_t)(end - p));
	if (q == p || q - p > 255 || (q < end && *q != '/'))
		return -1;
	a->table.p = p;
	a->table.n = (size_t)(q - p);
	a->rest.p = q;
	a->rest.n = (size_t)(end - q);
	return 0;
}

/* whether an ARN's part after the table name is /stream/LABEL */
int
ddb_arn_is_stream(const struct ddb_arn *a)
{
	return a->rest.n > 8 && memcmp(a->rest.p, "/stream/", 8) == 0;
}

/* DynamoDB Streams' SequenceNumber: 21 to 40 decimal digits; 1 or 0 */
int
ddb_seq_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 21 || n > 40)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* an option's value: a number in lo..hi (not NaN); 0, or -1 */
int
ddb_double_arg(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || !(*v >= lo && *v <= hi) ? -1 : 0;
}

/*
 * The same, saying "bad WHAT: S" when s is not one, for the caller's
 * usage() to follow: 0, or -1
 */
int
ddb_long_opt(const char *s, long lo, long hi, const char *what, long *v)
{
	if (ddb_long_arg(s, lo, hi, v) == 0)
		return 0;
	warnx("bad %s: %s", what, s);
	return -1;
}

int
ddb_double_opt(const char *s, double lo, double hi, const char *what,
    double *v)
{
	if (ddb_double_arg(s, lo, hi, v) == 0)
		return 0;
	warnx("bad %s: %s", what, s);
	return -1;
}

/* seconds on a clock that never steps back: a run's bounds and rates */
double
ddb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* out of memory: the one way every tool ends on it */
_Noreturn void
ddb_nomem(void)
{
	errx(DDB_EXIT_IO, "out of memory");
}

/*
 * The one allocation family: malloc, calloc, reallocarray, strdup, strndup
 * and asprintf that never return NULL; out of memory ends the program
 * through ddb_nomem.  p NULL: malloc.
 */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		ddb_nomem();
	if ((p = realloc(p, n * size == 0 ? 1 : n * size)) == NULL)
		ddb_nomem();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		ddb_nomem();
	return p;
}

void *
xmalloc(size_t n)
{
	return xreallocarray(NULL, n, 1);
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (p == NULL)
		ddb_nomem();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		ddb_nomem();
	return s;
}

/* fsync a directory, so the names just made in it survive a crash */
int
ddb_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
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

/* days since 1970-01-01 of a proleptic Gregorian date (no TZ, no libc) */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long long z, int *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define TIME_MIN 0LL
#define TIME_MAX 253402300799LL

/* n digits at s as a number; -1 if any is not a digit */
static long long
digits(const char *s, size_t n)
{
	long long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
set_frac(struct ddb_time *t, const char *s, size_t n)
{
	if (n >= sizeof t->frac)
		return DDB_TIME_SYNTAX;
	memcpy(t->frac, s, n);
	t->frac[n] = '\0';
	return 0;
}

/* epoch seconds, milliseconds (13 digits) or microseconds (16 digits) */
static int
time_number(const char *s, size_t n, struct ddb_time *t)
{
	char d[64];		/* the digits, without point or exponent */
	size_t nd = 0, i = 0, nint, scale = 0;
	long long point = -1, e = 0, intlen, v;
	int eneg = 0;

	if (!ddb_is_json_number(s, n) || s[0] == '-')
		return DDB_TIME_SYNTAX;
	for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.')
			point = (long long)nd;
		else if (nd < sizeof d)
			d[nd++] = s[i];
		else
			return DDB_TIME_SYNTAX;
	}
	if (point < 0)
		point = (long long)nd;
	if (i < n) {
		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n; i++) {
			e = e * 10 + (s[i] - '0');
			if (e > 64)
				return DDB_TIME_RANGE;
		}
		point += eneg ? -e : e;
	}
	/* leading zeros (0.5, 0e3) say nothing of the size */
	while (nd > 0 && point > 0 && d[0] == '0') {
		memmove(d, d + 1, --nd);
		point--;
	}
	if (point > (long long)sizeof d)
		return DDB_TIME_RANGE;
	if (point < 0) {	/* 5e-3: 0.005 */
		if (nd + (size_t)-point > sizeof d)
			return DDB_TIME_SYNTAX;
		memmove(d + -point, d, nd);
		memset(d, '0', (size_t)-point);
		nd += (size_t)-point;
		point = 0;
	}
	intlen = point;
	while ((long long)nd < intlen)
		d[nd++] = '0';
	nint = (size_t)intlen;
	if (nint == 13)
		scale = 3;
	else if (nint == 16)
		scale = 6;
	else if (nint > 12)
		return DDB_TIME_RANGE;
	v = nint > scale ? digits(d, nint - scale) : 0;
	if (v < TIME_MIN || v > TIME_MAX)
		return DDB_TIME_RANGE;
	t->sec = v;
	/* ms and µs give their sub-second digits; seconds their own fraction */
	if (scale > 0 && nd > nint)
		return set_frac(t, d + nint - scale, nd - nint + scale);
	if (scale > 0)
		return set_frac(t, d + nint - scale, scale);
	return set_frac(t, d + nint, nd - nint);
}

/* YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm) */
static int
time_iso(const char *s, size_t n, struct ddb_time *t)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	long long y, mo, d, h, mi, se, oh = 0, om = 0, sec;
	size_t i = 19, f;
	int leap, rc;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return DDB_TIME_SYNTAX;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || se < 0 || se > 59)
		return DDB_TIME_SYNTAX;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return DDB_TIME_SYNTAX;
	f = i;
	if (s[i] == '.') {
		for (f = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == f)
			return DDB_TIME_SYNTAX;
	}
	if ((rc = set_frac(t, s + f, i - f)) != 0)
		return rc;
	if (i + 1 == n && s[i] == 'Z')
		;
	else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':') {
		oh = digits(s + i + 1, 2);
		om = digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return DDB_TIME_SYNTAX;
		if (s[i] == '-') {
			oh = -oh;
			om = -om;
		}
	} else
		return DDB_TIME_SYNTAX;
	sec = days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 +
	    mi * 60 + se - oh * 3600 - om * 60;
	if (sec < TIME_MIN || sec > TIME_MAX)
		return DDB_TIME_RANGE;
	t->sec = sec;
	return 0;
}

/*
 * ApproximateCreationDateTime to UTC: number is 1 for the text of a JSON
 * number (epoch seconds with any fraction, 13-digit milliseconds, 16-digit
 * microseconds), 0 for a string (ISO 8601 with Z or an offset).  Years
 * outside 1970..9999 are DDB_TIME_RANGE.  Nothing depends on TZ.
 */
int
ddb_time_parse(const char *s, size_t n, int number, struct ddb_time *t)
{
	t->sec = 0;
	t->frac[0] = '\0';
	return number ? time_number(s, n, t) : time_iso(s, n, t);
}

/* what is wrong with a time, for "dynamodb.ApproximateCreationDateTime %s" */
const char *
ddb_time_strerror(int e)
{
	return e == DDB_TIME_RANGE ? "is out of range (years 1970 to 9999)" :
	    "is not epoch seconds, milliseconds (13 digits), microseconds "
	    "(16 digits) or ISO 8601 with Z or an offset";
}

/*
 * iso 0: YYYYMMDDTHHMMSSZ (17 bytes with the NUL); iso 1:
 * YYYY-MM-DDTHH:MM:SS[.fraction]Z, the fraction without trailing zeros.
 * The length written, as snprintf.
 */
int
ddb_time_format(const struct ddb_time *t, int iso, char *buf, size_t size)
{
	int y, m, d, nf;
	long long s = t->sec % 86400;

	civil_from_days(t->sec / 86400, &y, &m, &d);
	if (!iso)
		return snprintf(buf, size, "%04d%02d%02dT%02d%02d%02dZ", y, m,
		    d, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
	/* the fraction's value, not its text: 23.0 and 23 are one instant */
	for (nf = (int)strlen(t->frac); nf > 0 && t->frac[nf - 1] == '0'; nf--)
		;
	return snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%.*sZ", y,
	    m, d, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60),
	    nf > 0 ? "." : "", nf, t->frac);
}

/* d's n bytes as 2n lower-case hex digits and a NUL in out */
void
ddb_hex(const unsigned char *d, size_t n, char *out)
{
	static const char digit[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digit[d[i] >> 4];
		out[2 * i + 1] = digit[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * Strict base64 (RFC 4648, standard alphabet): a length that is a multiple
 * of 4, '=' only as the last one or two bytes, no whitespace, and unused
 * bits zero.  out needs n / 4 * 3 bytes.  0 and *outlen, or -1.
 */
int
ddb_base64_decode(const char *s, size_t n, unsigned char *out,
    size_t *outlen)
{
	size_t i, o = 0, pad = 0;

	if (n % 4 != 0)
		return -1;
	if (n > 0 && s[n - 1] == '=')
		pad = n > 1 && s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n; i += 4) {
		unsigned long v = 0;
		int k, last = i + 4 == n;

		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)s[i + k];
			int d;

			if (c >= 'A' && c <= 'Z')
				d = c - 'A';
			else if (c >= 'a' && c <= 'z')
				d = c - 'a' + 26;
			else if (c >= '0' && c <= '9')
				d = c - '0' + 52;
			else if (c == '+')
				d = 62;
			else if (c == '/')
				d = 63;
			else if (c == '=' && last && k >= 4 - (int)pad)
				d = 0;
			else
				return -1;
			v = v << 6 | (unsigned long)d;
		}
		out[o++] = (unsigned char)(v >> 16);
		if (!last || pad < 2)
			out[o++] = (unsigned char)(v >> 8);
		if (!last || pad < 1)
			out[o++] = (unsigned char)v;
		if (last && ((pad == 1 && (v & 0xff)) ||
		    (pad == 2 && (v & 0xffff))))
			return -1;
	}
	*outlen = o;
	return 0;
}
