/* gen.c: write seeded, reproducible DynamoDB stream records for make bench */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"

struct buf {
	char *p;
	size_t n, cap;
};

static uint64_t seed = 1;
static int lflag;		/* -l: one record per line, no event */
static long rflag;		/* -r: records per event (0: all in one) */

static const char *first[] = {
	"Saurav", "Gaurav", "Anna", "José", "Zoë", "Łukasz", "Mei", "李",
	"Chloé", "Søren", "Ahmed", "Priya", "O'Neil", "Björk", "Nguyễn",
	"Olivia", "Noah", "Emma", "Liam", "Mateo"
};
static const char *last[] = {
	"Kandel", "Smith", "Müller", "García", "Smith, Jr.", "Ødegård",
	"Kowalski", "O'Brien", "Tanaka", "Dubois", "Rossi", "Ivanova",
	"Johnson", "Lee", "Pérez", "Nakamura"
};
static const char *cities[] = {
	"Kathmandu", "Berlin", "São Paulo", "Zürich", "New York, NY",
	"Kraków", "東京", "Montréal", "Lagos", "Reykjavík"
};
static const char *streets[] = {
	"Main St", "Baker Street", "Rue de l'Église", "Hauptstraße",
	"5th Ave / Broadway", "Calle \"Mayor\""
};
static const char *tagpool[] = {
	"honors", "part-time", "scholarship", "remote", "alumni", "athlete",
	"exchange", "on/leave", "tutor", "émigré"
};
static const char *grades[] = { "A", "A-", "B+", "B", "C", "F", "P" };
static const char *notes[] = {
	"asked about \"late\" fees, then left",
	"line one\nline two",
	"tab\there, comma, and \\backslash",
	"https://example.com/students/profile?id=1&x=y",
	"emoji \xf0\x9f\x98\x80 and CJK \xe4\xb8\xad\xe6\x96\x87",
	"plain note"
};
/* every N form DynamoDB gives back, up to its limits */
static const char *oddnums[] = {
	"12345678901234567890123456789012345678",
	"-12345678901234567890123456789012345678",
	"99999999999999999999999999999999999999",
	"18446744073709551616",
	"-9223372036854775809",
	"1E+125", "9.9999999999999999999999999999999999999E+125",
	"-9.9999999999999999999999999999999999999E+125", "1E-130",
	"-1E-130", "1.5e3", "2.5E-7", "0.000000000000000000000000000000000001",
	"3.14159265358979323846264338327950288", "0", "-1", "1e0"
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* splitmix64: small, fast and the same on every machine */
static uint64_t
rnd(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	return mix(*s);
}

static unsigned
below(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		while (cap < b->n + n + 1)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL) {
			perror("gen");
			exit(DDB_EXIT_IO);
		}
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
putf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* a JSON string, escaped */
static void
putq(struct buf *b, const char *s)
{
	put(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(b, e, 2);
		} else if (c == '\n')
			put(b, "\\n", 2);
		else if (c == '\t')
			put(b, "\\t", 2);
		else if (c < 0x20)
			putf(b, "\\u%04x", c);
		else
			put(b, s, 1);
	}
	put(b, "\"", 1);
}

/* "name":{"T":"text"} */
static void
attr(struct buf *b, int *nattr, const char *name, const char *type,
    const char *text)
{
	if ((*nattr)++)
		put(b, ",", 1);
	putq(b, name);
	put(b, ":{", 2);
	putq(b, type);
	put(b, ":", 1);
	putq(b, text);
	put(b, "}", 1);
}

static void
b64(uint64_t *s, char *out, size_t nbytes)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[64];
	size_t i, o = 0;

	for (i = 0; i < nbytes; i++)
		in[i] = (unsigned char)rnd(s);
	for (i = 0; i + 2 < nbytes; i += 3) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = a[in[i + 2] & 63];
	}
	if (nbytes - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (nbytes - i == 2) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[(in[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* a number as DynamoDB gives it back: mostly plain, sometimes odd */
static void
number(uint64_t *s, char *out, size_t n)
{
	switch (below(s, 8)) {
	case 0:
		snprintf(out, n, "%s", oddnums[below(s, NELEM(oddnums))]);
		break;
	case 1:
	case 2:
		snprintf(out, n, "-%u.%02u", below(s, 100000), below(s, 100));
		break;
	default:
		snprintf(out, n, "%u.%02u", below(s, 1000000), below(s, 100));
	}
}

/*
 * One item: "stable" attributes come from the item id alone, the others
 * from (id, version), so the old and new image of a MODIFY differ in a
 * few attributes, as real updates do.
 */
static void
item(struct buf *b, unsigned id, unsigned version)
{
	uint64_t st = mix(seed ^ mix(id)), vs = mix(st ^ mix(version + 7));
	char t[256], v[64];
	unsigned base;
	int na = 0, i, k;

	put(b, "{", 1);
	snprintf(t, sizeof t, "stu-%08u", id);
	attr(b, &na, "id", "S", t);
	attr(b, &na, "fname", "S", first[below(&st, NELEM(first))]);
	attr(b, &na, "lname", "S", last[below(&st, NELEM(last))]);
	snprintf(t, sizeof t, "%u", 300000000 + below(&st, 600000000));
	attr(b, &na, "number", "S", t);
	snprintf(t, sizeof t, "%u", 17 + below(&st, 50));
	attr(b, &na, "age", "N", t);
	snprintf(t, sizeof t, "%u.%02u", below(&vs, 4), below(&vs, 100));
	attr(b, &na, "gpa", "N", t);
	number(&vs, t, sizeof t);
	attr(b, &na, "balance", "N", t);
	if (below(&st, 4) == 0)
		attr(b, &na, "big", "N",
		    oddnums[below(&st, 5)]);
	/* BOOL and NULL are JSON literals, not strings */
	put(b, ",\"active\":{\"BOOL\":", 18);
	puts_(b, below(&vs, 2) ? "true}" : "false}");
	na++;
	if (below(&vs, 3) == 0) {
		put(b, ",\"nickname\":{\"NULL\":true}", 25);
		na++;
	} else
		attr(b, &na, "nickname", "S", first[below(&vs, NELEM(first))]);
	if (below(&st, 2)) {
		b64(&st, t, 12 + below(&st, 36));
		attr(b, &na, "photo", "B", t);
	}
	if (below(&vs, 5) == 0)
		attr(b, &na, "note", "S", notes[below(&vs, NELEM(notes))]);
	snprintf(t, sizeof t, "2024-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    1 + below(&vs, 12), 1 + below(&vs, 28), below(&vs, 24),
	    below(&vs, 60), below(&vs, 60), below(&vs, 1000));
	attr(b, &na, "updated_at", "S", t);

	/* sets: SS, NS, BS */
	put(b, ",\"tags\":{\"SS\":[", 15);
	/* a set: no element twice */
	k = 1 + below(&vs, 4);
	base = below(&vs, NELEM(tagpool));
	for (i = 0; i < k; i++) {
		if (i)
			put(b, ",", 1);
		putq(b, tagpool[(base + (unsigned)i) % NELEM(tagpool)]);
	}
	put(b, "]},\"scores\":{\"NS\":[", 19);
	k = 1 + below(&vs, 5);
	for (i = 0; i < k; i++) {
		if (i)
			put(b, ",", 1);
		/* the first may be an odd form; the others plain and distinct */
		if (i == 0)
			number(&vs, v, sizeof v);
		else
			snprintf(v, sizeof v, "%d.%u5", i, below(&vs, 1000));
		putq(b, v);
	}
	puts_(b, "]}");
	if (below(&st, 3) == 0) {
		put(b, ",\"keys\":{\"BS\":[", 15);
		k = 1 + below(&st, 2);
		for (i = 0; i < k; i++) {
			if (i)
				put(b, ",", 1);
			b64(&st, t, 8 + below(&st, 24));
			putq(b, t);
		}
		puts_(b, "]}");
		na++;
	}
	na += 2;

	/* M inside M, L of M, and a mixed L */
	puts_(b, ",\"address\":{\"M\":{");
	k = 0;
	snprintf(t, sizeof t, "%u %s", 1 + below(&st, 999),
	    streets[below(&st, NELEM(streets))]);
	attr(b, &k, "street", "S", t);
	attr(b, &k, "city", "S", cities[below(&st, NELEM(cities))]);
	snprintf(t, sizeof t, "%05u", below(&st, 100000));
	attr(b, &k, "zip", "S", t);
	puts_(b, ",\"geo\":{\"M\":{");
	k = 0;
	snprintf(t, sizeof t, "%d.%06u", (int)below(&st, 180) - 90,
	    below(&st, 1000000));
	attr(b, &k, "lat", "N", t);
	snprintf(t, sizeof t, "%d.%06u", (int)below(&st, 360) - 180,
	    below(&st, 1000000));
	attr(b, &k, "lon", "N", t);
	puts_(b, "}}}}");
	puts_(b, ",\"courses\":{\"L\":[");
	k = 1 + below(&vs, 3);
	for (i = 0; i < k; i++) {
		int nm = 0;
		if (i)
			put(b, ",", 1);
		puts_(b, "{\"M\":{");
		snprintf(t, sizeof t, "CS%03u", 100 + below(&vs, 400));
		attr(b, &nm, "code", "S", t);
		snprintf(t, sizeof t, "%u", 1 + below(&vs, 6));
		attr(b, &nm, "credits", "N", t);
		attr(b, &nm, "grade", "S", grades[below(&vs, NELEM(grades))]);
		puts_(b, "}}");
	}
	puts_(b, "]}");
	if (below(&st, 4) == 0) {
		number(&st, v, sizeof v);
		puts_(b, ",\"misc\":{\"L\":[{\"S\":\"x\"},{\"N\":");
		putq(b, v);
		puts_(b, "},{\"BOOL\":false},{\"NULL\":true},{\"L\":[]},"
		    "{\"M\":{}},{\"SS\":[\"a\",\"b/c\"]}]}");
	}
	put(b, "}", 1);
}

/* one stream record, NEW_AND_OLD_IMAGES */
static void
record(struct buf *b, uint64_t *s, unsigned long seq)
{
	static const char *names[] = { "INSERT", "MODIFY", "REMOVE" };
	unsigned r = below(s, 10), ev = r < 4 ? 0 : r < 8 ? 1 : 2;
	unsigned id = below(s, 1000000), ver = below(s, 1000);
	size_t start = b->n;
	char sz[32];

	puts_(b, "{\"eventID\":\"");
	putf(b, "%016llx%016llx", (unsigned long long)rnd(s),
	    (unsigned long long)rnd(s));
	puts_(b, "\",\"eventName\":\"");
	puts_(b, names[ev]);
	puts_(b, "\",\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\","
	    "\"awsRegion\":\"us-east-1\",\"dynamodb\":{"
	    "\"ApproximateCreationDateTime\":");
	putf(b, "%lu", 1720629863UL + seq / 50);
	putf(b, ",\"Keys\":{\"id\":{\"S\":\"stu-%08u\"}}", id);
	if (ev != 2) {
		puts_(b, ",\"NewImage\":");
		item(b, id, ver + 1);
	}
	if (ev != 0) {
		puts_(b, ",\"OldImage\":");
		item(b, id, ver);
	}
	putf(b, ",\"SequenceNumber\":\"%lu%012lu\"", 51000000000UL, seq);
	snprintf(sz, sizeof sz, "%zu", (b->n - start) / 2);
	puts_(b, ",\"SizeBytes\":");
	puts_(b, sz);
	puts_(b, ",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},"
	    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:381491882333:"
	    "table/student/stream/2024-07-10T15:55:45.474\"}");
}

static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: gen [-l] [-n count] [-b bytes] [-r per-event] "
	    "[-s seed]\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "lines", no_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "per-event", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct buf out = { NULL, 0, 0 }, rec = { NULL, 0, 0 };
	unsigned long long maxbytes = 0, total = 0;
	unsigned long count = 0, seq, inev = 0;
	uint64_t s;
	int c;

	while ((c = getopt_long(argc, argv, "b:hln:r:s:", longopts, NULL)) != -1)
		switch (c) {
		case 'b': maxbytes = strtoull(optarg, NULL, 10); break;
		case 'l': lflag = 1; break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'r': rflag = strtol(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'h': usage(stdout, 0);
		default: usage(stderr, 2);
		}
	if (optind != argc || (count == 0 && maxbytes == 0) || rflag < 0)
		usage(stderr, 2);
	s = seed;
	for (seq = 0; count == 0 || seq < count; seq++) {
		const char *pre = "", *post = lflag ? "\n" : "";
		rec.n = 0;
		record(&rec, &s, seq);
		if (!lflag) {
			pre = inev == 0 ? "{\"Records\":[" : ",";
			inev++;
			post = (rflag && inev == (unsigned long)rflag) ||
			    (count && seq + 1 == count) ? "]}\n" : "";
		}
		/* room for this record and for closing its event */
		if (maxbytes && total + strlen(pre) + rec.n + 3 > maxbytes)
			break;
		puts_(&out, pre);
		put(&out, rec.p, rec.n);
		puts_(&out, post);
		if (*post != '\0')
			inev = 0;
		total += strlen(pre) + rec.n + strlen(post);
		if (out.n >= 1 << 20) {
			if (ddb_fwrite_all(stdout, out.p, out.n) < 0)
				break;
			out.n = 0;
		}
	}
	if (!lflag && inev > 0)
		puts_(&out, "]}\n");
	ddb_fwrite_all(stdout, out.p, out.n);
	free(out.p);
	free(rec.p);
	ddb_close_stdout();
	return 0;
}
