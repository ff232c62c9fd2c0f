/*
 * reader-diff: the rule that makes the reader's fast paths safe, as a test:
 * on every input, with every set of flags, the reader gives the same
 * records and the same errors as its plain path alone (DDB_READ_PLAIN).
 *
 * usage: reader-diff [-n random] [-s seed] [-k dir] path ...
 * Each path is a file or a directory of files (the fixtures, a fuzz
 * corpus; a corpus file whose first byte is a harness's flag byte is read
 * also without it).  Then -n inputs made at random from them (bytes
 * changed, cut, repeated; records wrapped into one event), -k keeping the
 * first input that differs in dir.  Exit 0 if all agree, 1 and the first
 * difference on stderr if not, 2 on usage.
 *
 * What is compared is what a tool can see: each call's result, record
 * index, line and tree, and what the reader said on stderr.  A record of
 * an event counts only once the event's last record has come (ddb-flatten
 * writes nothing of an event before), so records the speculative path gave
 * and took back by reading the event again are not a difference; records
 * this test refuses (one in seven, by its text) are said bad to the
 * reader (ddb_reader_bad) as ddb-flatten does.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader-int.h"

static const int flagsets[] = {
	0, DDB_READ_PYREPR, DDB_READ_SPLIT, DDB_READ_SPLIT | DDB_READ_PYREPR,
	DDB_READ_SPLIT | DDB_READ_SPEC,
	DDB_READ_SPLIT | DDB_READ_SPEC | DDB_READ_PYREPR,
};
static const int depths[] = { DDB_READ_DEPTH, 4 };

static char **inputs;		/* the files read, for the random ones */
static size_t *inlens, ninputs;
static long runs, diffs;
static const char *keepdir;

static unsigned long long seed = 1;

static unsigned long
rnd(unsigned long n)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return n == 0 ? 0 : (unsigned long)(seed >> 33) % n;
}

/* refused by this test's consumer: one record in seven, by its text */
static int
refused(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h % 7 == 0;
}

/*
 * Read path whole as a tool would: what it sees into *seen (the reader's
 * stderr last).  NUL-free text either way.
 */
static void
read_all(const char *path, int depth, int flags, struct ddb_buf *seen)
{
	struct ddb_buf pending = { 0 }, entry = { 0 };
	struct ddb_reader *r;
	struct jv *v;
	char *err = NULL;
	size_t errlen = 0;
	FILE *save = stderr, *mem;
	char head[80];
	long part, calls = 0;
	int rc, k;

	seen->n = 0;
	if ((mem = open_memstream(&err, &errlen)) == NULL) {
		perror("open_memstream");
		exit(2);
	}
	stderr = mem;
	if ((r = ddb_reader_open(path, depth, flags)) == NULL) {
		stderr = save;
		fclose(mem);
		free(err);
		fprintf(stderr, "reader-diff: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (calls++ < 1000000) {
		rc = ddb_reader_next(r, &v);
		part = ddb_reader_part(r);
		/* a new event, or a whole value: what was pending is gone */
		if (rc == DDB_NEXT_END || part <= 0)
			pending.n = 0;
		if (rc == DDB_NEXT_END)
			break;
		entry.n = 0;
		k = snprintf(head, sizeof head, "%d part %ld line %ld", rc, part,
		    ddb_reader_line(r));
		ddb_buf_put(&entry, head, (size_t)k);
		if (rc == DDB_NEXT_VALUE) {
			size_t at;
			ddb_buf_putc(&entry, ' ');
			at = entry.n;
			ddb_json_write(&entry, v);
			if (part >= 0 && refused(entry.p + at, entry.n - at)) {
				if (ddb_reader_bad(r))
					continue;
				ddb_buf_put(&entry, " refused", 8);
			}
		}
		ddb_buf_putc(&entry, '\n');
		if (part >= 0) {
			ddb_buf_put(&pending, entry.p, entry.n);
			if (ddb_reader_part_last(r)) {
				ddb_buf_put(seen, pending.p, pending.n);
				pending.n = 0;
			}
		} else
			ddb_buf_put(seen, entry.p, entry.n);
		if (rc == DDB_NEXT_FATAL)
			break;
	}
	ddb_reader_close(r);
	stderr = save;
	fclose(mem);
	ddb_buf_put(seen, "stderr:\n", 8);
	ddb_buf_put(seen, err, errlen);
	free(err);
	free(pending.p);
	free(entry.p);
}

/* the first line where a and b differ */
static void
show_diff(const struct ddb_buf *a, const struct ddb_buf *b)
{
	size_t i = 0, ls = 0;

	while (i < a->n && i < b->n && a->p[i] == b->p[i])
		if (a->p[i++] == '\n')
			ls = i;
	fprintf(stderr, "  plain: %.*s\n", (int)(strcspn(a->p + ls, "\n") >
	    300 ? 300 : strcspn(a->p + ls, "\n")), a->p + ls);
	fprintf(stderr, "  fast:  %.*s\n", (int)(strcspn(b->p + ls, "\n") >
	    300 ? 300 : strcspn(b->p + ls, "\n")), b->p + ls);
}

/* every set of flags on path, fast and plain: 0 if all agree */
static int
check(const char *path)
{
	struct ddb_buf a = { 0 }, b = { 0 };
	size_t f, d;
	int bad = 0;

	for (d = 0; d < sizeof depths / sizeof depths[0] && !bad; d++)
		for (f = 0; f < sizeof flagsets / sizeof flagsets[0]; f++) {
			read_all(path, depths[d], flagsets[f] | DDB_READ_PLAIN,
			    &a);
			ddb_buf_putc(&a, '\0');
			read_all(path, depths[d], flagsets[f], &b);
			ddb_buf_putc(&b, '\0');
			runs++;
			if (a.n != b.n || memcmp(a.p, b.p, a.n) != 0) {
				fprintf(stderr, "reader-diff: %s: depth %d, "
				    "flags %#x: the fast path differs\n", path,
				    depths[d], flagsets[f]);
				show_diff(&a, &b);
				diffs++;
				bad = 1;
				break;
			}
		}
	free(a.p);
	free(b.p);
	return bad ? -1 : 0;
}

static void
keep(const char *s, size_t n)
{
	inputs = xreallocarray(inputs, ninputs + 1, sizeof *inputs);
	inlens = xreallocarray(inlens, ninputs + 1, sizeof *inlens);
	inputs[ninputs] = xreallocarray(NULL, n + 1, 1);
	memcpy(inputs[ninputs], s, n);
	inlens[ninputs++] = n;
}

static int
write_file(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(s, 1, n, fp) != n || fclose(fp) != 0) {
		fprintf(stderr, "reader-diff: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return 0;
}

/* a file: checked as it is (and without a flag byte), kept for -n */
static int
check_file(const char *path, const char *tmp)
{
	struct ddb_buf b = { 0 };
	char chunk[65536];
	size_t k;
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "reader-diff: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((k = fread(chunk, 1, sizeof chunk, fp)) > 0)
		ddb_buf_put(&b, chunk, k);
	fclose(fp);
	rc = check(path);
	if (b.n > 1 && (unsigned char)b.p[0] < 8) {
		write_file(tmp, b.p + 1, b.n - 1);
		if (check(tmp) < 0) {
			fprintf(stderr, "reader-diff: (%s without its first "
			    "byte)\n", path);
			rc = -1;
		}
		keep(b.p + 1, b.n - 1);
	} else if (b.n > 0)
		keep(b.p, b.n);
	free(b.p);
	return rc;
}

/* one input made from the kept ones */
static void
make_random(struct ddb_buf *o)
{
	static const char bytes[] = "{}[]\",:\\'\n \t0-1eE.TFNtrue\0\x1f\x8b";
	size_t i, k, n, at, len;
	const char *s;

	o->n = 0;
	if (rnd(4) == 0) {
		/* records of several inputs as one event */
		ddb_buf_put(o, "{\"Records\":[", 12);
		for (k = rnd(4) + 1, i = 0; i < k; i++) {
			n = rnd(ninputs);
			if (i > 0)
				ddb_buf_put(o, ",\n", 2);
			ddb_buf_put(o, inputs[n], inlens[n]);
		}
		ddb_buf_put(o, "]}\n", 3);
	} else {
		n = rnd(ninputs);
		ddb_buf_put(o, inputs[n], inlens[n]);
	}
	for (k = rnd(4) + 1; k > 0 && o->n > 0; k--) {
		at = rnd(o->n);
		switch (rnd(4)) {
		case 0:		/* a byte changed */
			o->p[at] = bytes[rnd(sizeof bytes - 1)];
			break;
		case 1:		/* a span cut out */
			len = rnd(o->n - at) % 64 + 1;
			if (len > o->n - at)
				len = o->n - at;
			memmove(o->p + at, o->p + at + len, o->n - at - len);
			o->n -= len;
			break;
		case 2:		/* the input cut short */
			o->n = at;
			break;
		case 3:		/* a span repeated */
			len = rnd(o->n - at) % 256 + 1;
			if (len > o->n - at)
				len = o->n - at;
			s = xreallocarray(NULL, len, 1);
			memcpy((char *)s, o->p + at, len);
			ddb_buf_put(o, s, len);
			free((char *)s);
			break;
		}
	}
}

int
main(int argc, char *argv[])
{
	struct ddb_buf o = { 0 };
	char tmp[] = "/tmp/reader-diff.XXXXXX";
	long nrandom = 0, i;
	int c, fd, rc = 0;

	while ((c = getopt(argc, argv, "n:s:k:")) != -1)
		switch (c) {
		case 'n': nrandom = atol(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'k': keepdir = optarg; break;
		default:
			fprintf(stderr, "usage: reader-diff [-n random] "
			    "[-s seed] [-k dir] path ...\n");
			return 2;
		}
	if ((fd = mkstemp(tmp)) < 0) {
		perror("reader-diff: mkstemp");
		return 2;
	}
	close(fd);
	for (i = optind; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *e;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "reader-diff: %s: %s\n", argv[i],
			    strerror(errno));
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (check_file(argv[i], tmp) < 0)
				rc = 1;
			continue;
		}
		if ((dir = opendir(argv[i])) == NULL)
			continue;
		while ((e = readdir(dir)) != NULL) {
			char *p;
			if (e->d_name[0] == '.')
				continue;
			if (asprintf(&p, "%s/%s", argv[i], e->d_name) < 0)
				return 2;
			if (stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
			    check_file(p, tmp) < 0)
				rc = 1;
			free(p);
		}
		closedir(dir);
	}
	for (i = 0; i < nrandom && ninputs > 0 && rc == 0; i++) {
		make_random(&o);
		write_file(tmp, o.p, o.n);
		if (check(tmp) < 0) {
			rc = 1;
			fprintf(stderr, "reader-diff: random input %ld\n", i);
			if (keepdir != NULL) {
				char *p;
				if (asprintf(&p, "%s/reader-diff-%ld", keepdir,
				    i) >= 0) {
					write_file(p, o.p, o.n);
					fprintf(stderr, "reader-diff: kept in "
					    "%s\n", p);
					free(p);
				}
			}
		}
	}
	unlink(tmp);
	printf("reader-diff: %zu files, %ld random, %ld runs, %ld differ\n",
	    ninputs, i, runs, diffs);
	for (i = 0; i < (long)ninputs; i++)
		free(inputs[i]);
	free(inputs);
	free(inlens);
	free(o.p);
	return rc;
}
