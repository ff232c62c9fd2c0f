/*
 * rowpath-test: csv-emit's two row paths give the same CSV, the same
 * messages and the same exit status.  take_row renders a row from its
 * text where the text is in ddb-expand's form; render_row renders the
 * parser's tree of any row.  Each input is run through csv-emit twice
 * under each of a set of options, once with take_row and once with the
 * parser alone, and the two runs' stdout, stderr and status compared.
 *
 * usage: rowpath-test [-r ROWS] [-s SEED] [-n FILES] [file|dir ...]
 *   files and directories (their files, not recursed) given, then FILES
 *   inputs of ROWS seeded random rows each, near ddb-expand's form and
 *   mutated.  Prints one line of counts; a difference is printed with its
 *   input kept (rowpath-test.*.in) and makes the exit status 1.  Status 2
 *   if take_row took no row at all (the test would prove nothing).
 */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ddb.h"

/* the switch between the paths: the reader is given take_row or nothing */
static int plain;
static unsigned long taken;
static size_t (*fast)(void *, const char *, size_t);

static size_t
count_take(void *ctx, const char *s, size_t n)
{
	size_t used = fast(ctx, s, n);

	taken += used > 0;
	return used;
}

static void
test_take(struct ddb_reader *r, size_t (*fn)(void *, const char *, size_t),
    void *ctx)
{
	if (plain)
		return;
	fast = fn;
	ddb_reader_take(r, count_take, ctx);
}

#define ddb_reader_take test_take
#define main csv_emit_main
#include "../csv-emit/csv-emit.c"
#undef main
#undef ddb_reader_take

/* the options each input is run under */
static const char *opts[][10] = {
	{ NULL },
	{ "-d", ";", "-N", "N\"A", NULL },
	{ "-d", "\\t", "-H", NULL },
	{ "-d", "a", NULL },
	{ "-c", "id,a,b,s", NULL },
	{ "-c", "id,a", "-x", "gather=rest", "-l", "seq", NULL },
	{ "-c", "id,b,name", "-x", "drop", NULL },
	{ "-c", "id,a,b,s,m,l,n,t,EventType,created_at", "-x", "fail", NULL },
	{ "-E", "e", "-C", "c", NULL },
};
#define NOPTS (sizeof opts / sizeof opts[0])

static char dir[] = "/tmp/rowpath-test.XXXXXX";
static unsigned long t_files, t_runs, t_diffs, t_taken;

/* the whole of a file; NULL if it cannot be read */
static char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	struct ddb_buf b = { NULL, 0, 0 };
	size_t got;

	if (fp == NULL)
		return NULL;
	do {
		ddb_buf_reserve(&b, 65536);
		got = fread(b.p + b.n, 1, 65536, fp);
		b.n += got;
	} while (got > 0);
	fclose(fp);
	*n = b.n;
	ddb_buf_putc(&b, '\0');
	return b.p;
}

/*
 * csv-emit with options o on path, in a child: stdout and stderr to
 * files in dir named for the path taken; the status, or -1; *took the
 * rows take_row took
 */
static int
run(const char *path, const char *const *o, int plainpath,
    unsigned long *took)
{
	char out[64], errf[64], cnt[64];
	char *argv[16];
	int argc = 0, st;
	pid_t pid;
	FILE *fp;

	snprintf(out, sizeof out, "%s/out%d", dir, plainpath);
	snprintf(errf, sizeof errf, "%s/err%d", dir, plainpath);
	snprintf(cnt, sizeof cnt, "%s/taken", dir);
	argv[argc++] = "csv-emit";
	for (; *o != NULL; o++)
		argv[argc++] = (char *)*o;
	argv[argc++] = (char *)path;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (freopen(out, "w", stdout) == NULL ||
		    freopen(errf, "w", stderr) == NULL)
			_exit(99);
		plain = plainpath;
		optind = 0;	/* getopt starts again (glibc) */
		st = csv_emit_main(argc, argv);
		if ((fp = fopen(cnt, "w")) != NULL) {
			fprintf(fp, "%lu\n", taken);
			fclose(fp);
		}
		/*
		 * _exit, not exit: in the sanitizer build a child's exit runs
		 * LeakSanitizer over the whole forked process, three times
		 * the child's own work, thousands of times a run; csv-emit's
		 * leaks are the other tests' (the real binary, same inputs)
		 */
		fflush(NULL);
		_exit(st);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	*took = 0;
	if ((fp = fopen(cnt, "r")) != NULL) {
		if (fscanf(fp, "%lu", took) != 1)
			*took = 0;
		fclose(fp);
		unlink(cnt);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* 1 if files a and b in dir hold the same bytes */
static int
same(const char *a, const char *b)
{
	char pa[64], pb[64], *x, *y;
	size_t nx = 0, ny = 0;
	int eq;

	snprintf(pa, sizeof pa, "%s/%s", dir, a);
	snprintf(pb, sizeof pb, "%s/%s", dir, b);
	x = slurp(pa, &nx);
	y = slurp(pb, &ny);
	eq = x != NULL && y != NULL && nx == ny && memcmp(x, y, nx) == 0;
	free(x);
	free(y);
	return eq;
}

/* keep a differing input as rowpath-test.N.in in the working directory */
static void
keep(const char *path)
{
	char name[64], *s;
	size_t n = 0;
	FILE *fp;

	snprintf(name, sizeof name, "rowpath-test.%lu.in", t_diffs);
	if ((s = slurp(path, &n)) == NULL || (fp = fopen(name, "wb")) == NULL) {
		free(s);
		return;
	}
	fwrite(s, 1, n, fp);
	fclose(fp);
	free(s);
	printf("  input kept as %s\n", name);
}

/* both paths on path under every set of options; 0 or 1 (differed) */
static int
check(const char *path)
{
	unsigned long took, t0;
	size_t k;
	int a, b, j, rc = 0;

	t_files++;
	for (k = 0; k < NOPTS; k++) {
		a = run(path, opts[k], 0, &took);
		b = run(path, opts[k], 1, &t0);
		t_runs++;
		t_taken += took;
		/* a status from 70 up: a crash, or csv-emit's internal error */
		if (a == b && a >= 0 && a < DDB_EXIT_SOFTWARE &&
		    same("out0", "out1") && same("err0", "err1"))
			continue;
		t_diffs++;
		printf("DIFFER %s, options", path);
		for (j = 0; opts[k][j] != NULL; j++)
			printf(" %s", opts[k][j]);
		printf(": status %d (take_row) %d (parser)%s%s\n", a, b,
		    same("out0", "out1") ? "" : ", stdout differs",
		    same("err0", "err1") ? "" : ", stderr differs");
		keep(path);
		rc = 1;
		break;
	}
	return rc;
}

/* --- random rows --------------------------------------------------------- */

static unsigned long long rng;
static int harsh;	/* mutations that can end the reading of a file */

static unsigned
rnd(unsigned n)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 2685821657736338717ULL) >> 33) % n;
}

static const char *const keys[] = {
	"id", "a", "b", "s", "m", "l", "n", "t", "name", "seq", "rest",
	"extra", "e", "c", "x,y", "q\"k",
	"EventType", "created_at",	/* last: the tail's */
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* text a string may hold: plain, and every byte csv-emit or JSON treats
 * apart (quotes, the delimiters, CR, LF, controls, non-ASCII) */
static const char *const pieces[] = {
	"abc", "x", " ", ",", ";", "\t", "a", "\"", "\\", "\r", "\n", "\r\n",
	"\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	"\\N", "0", "/", "\b", "\f",
};
#define NPIECES (sizeof pieces / sizeof pieces[0])

/* escapes the writer never writes, each a string's text in JSON */
static const char *const oddesc[] = {
	"\\/", "\\u0041", "\\u00e9", "\\u00E9", "\\u001F", "\\u001f",
	"\\u0009", "\\u0000", "\\ud83d\\ude00", "\\uD83D\\uDE00",
	"\\ud83d", "\\ude00", "\\u12", "\\x", "\\u0022", "\\u005c",
	"\\u000a", "\\u007f", "\\u0080", "\\u000B", "\\u0008", "\\u000A",
	"\\u001g", "\\U001f", "\\u0020", "\\u0010",
};
#define NODD (sizeof oddesc / sizeof oddesc[0])

/* bytes that are not valid where they stand */
static const char *const badbytes[] = {
	"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf5\x80\x80\x80", "\xe2\x82",
	"\x0a", "\x00",	/* last: harsh only */
};
#define NBAD (sizeof badbytes / sizeof badbytes[0])

static void gen_value(struct ddb_buf *b, int depth);

/* a string: in the writer's form, or now and then with one thing not */
static void
gen_string(struct ddb_buf *b)
{
	struct ddb_buf t = { NULL, 0, 0 };
	size_t i, n = rnd(4) == 0 ? 0 : rnd(10), at = 0, q;
	const char *s = NULL;

	for (i = 0; i < n; i++) {
		s = pieces[rnd(NPIECES)];
		ddb_buf_put(&t, s, strlen(s));
	}
	if (rnd(8) == 0) {
		at = rnd((unsigned)t.n + 1);
		s = rnd(4) == 0 ? badbytes[rnd(NBAD - !harsh)] :
		    oddesc[rnd(NODD)];
	} else
		s = NULL;
	/* t[0..at) in JSON, s as it is, t[at..) in JSON */
	q = b->n;
	ddb_json_str(b, t.p, at);
	if (s != NULL) {
		b->n--;
		ddb_buf_put(b, s, strlen(s) + (*s == '\0'));
		q = b->n;
		ddb_json_str(b, t.p + at, t.n - at);
		memmove(b->p + q, b->p + q + 1, b->n - q - 1);
		b->n--;
	}
	free(t.p);
}

static void
gen_number(struct ddb_buf *b)
{
	static const char *const nums[] = {
		"0", "-0", "1", "-17", "3.25", "1e5", "1E+5", "-2.5e-3",
		"12345678901234567890123456789012345678", "0.1", "01", "1.",
		"-", "+1", ".5", "NaN", "-Infinity", "1e", "2,5",
	};
	size_t k = rnd(8) == 0 ? rnd(sizeof nums / sizeof nums[0]) : rnd(10);

	ddb_buf_put(b, nums[k], strlen(nums[k]));
}

static void
gen_container(struct ddb_buf *b, int depth, int obj)
{
	size_t i, n = rnd(4), k;

	ddb_buf_putc(b, obj ? '{' : '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			ddb_buf_putc(b, ',');
		if (obj) {
			if (rnd(10) == 0)
				gen_string(b);
			else {
				k = rnd(NKEYS);
				ddb_json_str(b, keys[k], strlen(keys[k]));
			}
			ddb_buf_putc(b, ':');
		}
		gen_value(b, depth + 1);
	}
	ddb_buf_putc(b, obj ? '}' : ']');
}

static void
gen_value(struct ddb_buf *b, int depth)
{
	static const char *const lits[] = {
		"true", "false", "null", "tru", "nul", "True", "None",
	};
	int i, deep;

	switch (depth > 3 ? rnd(4) : rnd(40) == 0 ? 6 : rnd(6)) {
	case 0:
	case 1:
		gen_string(b);
		break;
	case 2:
		gen_number(b);
		break;
	case 3:
		i = rnd(12) == 0 ? 3 + (int)rnd(4) : (int)rnd(3);
		ddb_buf_put(b, lits[i], strlen(lits[i]));
		break;
	case 4:
	case 5:
		gen_container(b, depth, rnd(2));
		break;
	default:
		/* around the nesting limit */
		deep = DDB_READ_DEPTH - 3 + (int)rnd(6);
		for (i = 0; i < deep; i++)
			ddb_buf_putc(b, '[');
		ddb_buf_putc(b, '1');
		for (i = 0; i < deep; i++)
			ddb_buf_putc(b, ']');
	}
}

/* one row as ddb-expand writes it, now and then with something changed */
static void
gen_row(struct ddb_buf *b, unsigned long line)
{
	static const char tailtext[] = "\"EventType\":\"INSERT\","
	    "\"created_at\":\"2026-01-02T03:04:05Z\"";
	struct ddb_buf r = { NULL, 0, 0 };
	char name[32];
	size_t i, n = rnd(20) == 0 ? 30 + rnd(10) : rnd(7), k, at;
	size_t perm[NKEYS], nk;
	int dup, tail;

	/* distinct keys but now and then; the tail's not before it */
	dup = n > NKEYS - 2 || rnd(20) == 0;
	tail = rnd(3) != 0 && !dup;
	nk = tail ? NKEYS - 2 : NKEYS;
	for (i = 0; i < nk; i++)
		perm[i] = i;
	for (i = nk - 1; i > 0; i--) {
		k = rnd((unsigned)i + 1);
		at = perm[i];
		perm[i] = perm[k];
		perm[k] = at;
	}
	ddb_buf_putc(&r, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			ddb_buf_putc(&r, ',');
		k = rnd(40) == 0 ? NKEYS + rnd(2) :
		    dup ? rnd(NKEYS) : perm[i];
		if (k < NKEYS)
			ddb_json_str(&r, keys[k], strlen(keys[k]));
		else if (k == NKEYS) {
			/* a name first seen now: a new column */
			snprintf(name, sizeof name, "k%lu", line % 97 + i);
			ddb_json_str(&r, name, strlen(name));
		} else
			gen_string(&r);
		ddb_buf_putc(&r, ':');
		gen_value(&r, 1);
	}
	if (tail) {
		if (n > 0)
			ddb_buf_putc(&r, ',');
		ddb_buf_put(&r, tailtext, strlen(tailtext));
	}
	ddb_buf_putc(&r, '}');
	k = rnd(16);
	if (!harsh && (k == 4 || k == 5))
		k = 15;
	switch (k) {
	case 0:		/* white space somewhere */
		at = rnd((unsigned)r.n);
		ddb_buf_put(b, r.p, at);
		ddb_buf_put(b, " \n\t" + rnd(2), 2);
		ddb_buf_put(b, r.p + at, r.n - at);
		break;
	case 4:		/* a byte changed */
		r.p[rnd((unsigned)r.n)] = "{}[]\":,\\ \n0a\x80"[rnd(13)];
		ddb_buf_put(b, r.p, r.n);
		break;
	case 5:		/* cut short */
		ddb_buf_put(b, r.p, rnd((unsigned)r.n));
		break;
	case 1:		/* not an object */
		gen_value(b, 1);
		break;
	default:
		ddb_buf_put(b, r.p, r.n);
	}
	ddb_buf_putc(b, '\n');
	free(r.p);
}

static int
random_file(unsigned long rows, unsigned long seed)
{
	struct ddb_buf b = { NULL, 0, 0 };
	char path[64];
	unsigned long i;
	FILE *fp;
	int rc;

	for (i = 0; i < rows; i++)
		gen_row(&b, i);
	snprintf(path, sizeof path, "%s/random%lu", dir, seed);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(b.p, 1, b.n, fp) != b.n || fclose(fp) != 0) {
		perror(path);
		exit(3);
	}
	free(b.p);
	rc = check(path);
	if (getenv("KEEPRANDOM") == NULL)
		unlink(path);
	return rc;
}

static void
cleanup(void)
{
	static const char *const f[] = { "out0", "out1", "err0", "err1" };
	char p[64];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, f[i]);
		unlink(p);
	}
	rmdir(dir);
}

#ifdef __SANITIZE_ADDRESS__
/*
 * In the sanitizer build: a quarantine of freed memory of 8 MB, not 256.
 * Each run is a fork of this process, and fork copies the page tables of
 * all it holds, the whole quarantine once it fills, thousands of times a
 * run.  A run's csv-emit frees far less than 8 MB, so a use after free in
 * it is caught as before.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=8";
}
#endif

int
main(int argc, char *argv[])
{
	unsigned long rows = 200, seed = 1, files = 50, i;
	struct dirent *de;
	struct stat sb;
	char path[4096];
	DIR *d;
	int c, rc = 0;

	while ((c = getopt(argc, argv, "n:r:s:")) != -1)
		switch (c) {
		case 'n': files = strtoul(optarg, NULL, 10); break;
		case 'r': rows = strtoul(optarg, NULL, 10); break;
		case 's': seed = strtoul(optarg, NULL, 10); break;
		default:
			fputs("usage: rowpath-test [-r ROWS] [-s SEED] "
			    "[-n FILES] [file|dir ...]\n", stderr);
			return 2;
		}
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 3;
	}
	for (i = (unsigned long)optind; i < (unsigned long)argc; i++) {
		if (stat(argv[i], &sb) != 0) {
			perror(argv[i]);
			rc = 3;
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			rc |= check(argv[i]);
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			perror(argv[i]);
			rc = 3;
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			snprintf(path, sizeof path, "%s/%s", argv[i],
			    de->d_name);
			if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
				rc |= check(path);
		}
		closedir(d);
	}
	for (i = 0; i < files; i++) {
		rng = (seed + i) * 0x9e3779b97f4a7c15ULL | 1;
		harsh = i % 4 == 3;
		rc |= random_file(rows, seed + i);
	}
	cleanup();
	printf("%lu inputs, %lu runs of each path, %lu rows taken by "
	    "take_row, %lu differ\n", t_files, t_runs, t_taken, t_diffs);
	if (rc == 0 && t_taken == 0)
		return 2;
	return rc;
}
