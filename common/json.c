/*
 * json.c: the tools' JSON values -- a strict, lossless parser into an arena
 * (no allocation per node), and the writer for compact JSON.
 *
 * Strings are kept as their decoded bytes with a length (a \u0000 survives)
 * and a terminating NUL; numbers as their exact text.  Object members keep
 * document order.  The writer's output matches what json-c (the fuzz
 * harness's reference, tests/fuzz/reader.c) writes with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ddb.h"
#include "simd.h"

/* --- arena -------------------------------------------------------------- */

struct ddb_arena_blk {
	struct ddb_arena_blk *next;
	size_t size, used;
	max_align_t data[];
};

#define ARENA_MIN 65536

void *
ddb_arena_alloc(struct ddb_arena *a, size_t n)
{
	struct ddb_arena_blk *b = a->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (b == NULL || b->size - b->used < n) {
		size_t size = b != NULL ? b->size * 2 : ARENA_MIN;
		if (size < n)
			size = n;
		if (size > ((size_t)1 << 26) && n < ((size_t)1 << 26))
			size = (size_t)1 << 26;
		b = xreallocarray(NULL, 1, sizeof *b + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

/* ddb_arena_alloc, its common case inline */
static inline void *
arena_get(struct ddb_arena *a, size_t n)
{
	struct ddb_arena_blk *b = a->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n == 0 || b == NULL || b->size - b->used < n)
		return ddb_arena_alloc(a, n);
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

/* forget everything allocated; keep the largest block for the next value */
void
ddb_arena_reset(struct ddb_arena *a)
{
	struct ddb_arena_blk *b, *next, *keep = NULL;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		if (keep == NULL || b->size > keep->size) {
			free(keep);
			keep = b;
		} else
			free(b);
	}
	if (keep != NULL) {
		keep->used = 0;
		keep->next = NULL;
	}
	a->head = keep;
}

void
ddb_arena_free(struct ddb_arena *a)
{
	struct ddb_arena_blk *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

/* --- lookups ------------------------------------------------------------ */

struct jv *
jv_get(const struct jv *o, const char *key)
{
	size_t i, n;

	if (o == NULL || o->type != JV_OBJECT)
		return NULL;
	n = strlen(key);
	for (i = 0; i < o->n; i++)
		if (o->u.m[i].klen == n && memcmp(o->u.m[i].k, key, n) == 0)
			return &o->u.m[i].v;
	return NULL;
}

/* o's member key if it is a string: its text; else NULL (o may be NULL) */
const char *
jv_get_str(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);

	return v != NULL && v->type == JV_STRING ? v->u.s : NULL;
}

int
jv_streq(const struct jv *v, const char *s)
{
	size_t n = strlen(s);

	return v != NULL && v->type == JV_STRING && v->n == n &&
	    memcmp(v->u.s, s, n) == 0;
}

const char *
jv_type_name(const struct jv *v)
{
	switch (v == NULL ? -1 : v->type) {
	case JV_NULL:	return "null";
	case JV_BOOL:	return "a boolean";
	case JV_NUMBER:	return "a number";
	case JV_STRING:	return "a string";
	case JV_ARRAY:	return "an array";
	case JV_OBJECT:	return "an object";
	}
	return "a value";
}

/* a string value: its bytes copied into the arena */
void
jv_set_string(struct ddb_arena *a, struct jv *v, const char *s, size_t n)
{
	char *p = ddb_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	v->type = JV_STRING;
	v->n = n;
	v->u.s = p;
}

/* --- parser ------------------------------------------------------------- */

struct parse {
	const char *p, *end;
	struct ddb_arena *a;
	struct ddb_json_stack *st;
	int depth, maxdepth;
	int err;
	const char *errp;
};

static int
fail(struct parse *ps, int e, const char *at)
{
	if (ps->err == 0) {
		ps->err = e;
		ps->errp = at;
	}
	return -1;
}

static void
skip_ws(struct parse *ps)
{
	const char *p = ps->p;

	while (p < ps->end && (unsigned char)*p <= ' ' && (*p == ' ' ||
	    *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	ps->p = p;
}

const unsigned char ddb_json_plain[256] = {
#define R8(x) x, x, x, x, x, x, x, x
#define R32(x) R8(x), R8(x), R8(x), R8(x)
	R32(0),					/* 0x00: controls */
	1, 1, 0, 1, 1, 1, 1, 1, R8(1), R8(1), R8(1),	/* 0x20: '"' */
	R8(1), R8(1), R8(1), 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x40: '\\' */
	R32(1),					/* 0x60 */
	R32(0), R32(0), R32(0), R32(0)		/* 0x80: UTF-8 */
#undef R32
#undef R8
};

size_t
ddb_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n, i;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int
hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *
put_utf8(char *d, uint32_t cp)
{
	if (cp < 0x80)
		*d++ = (char)cp;
	else if (cp < 0x800) {
		*d++ = (char)(0xc0 | cp >> 6);
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*d++ = (char)(0xe0 | cp >> 12);
		*d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*d++ = (char)(0xf0 | cp >> 18);
		*d++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	}
	return d;
}

/*
 * The length of the escape at p (its backslash, a byte after it) if it is
 * one ddb_json_str() writes: two-letter ones for '"', '\\', BS, FF, LF,
 * CR, TAB; \u00XX in lower-case hex for the other controls.  Else 0.
 */
static size_t
writer_escape(const unsigned char *p, const unsigned char *end)
{
	int c;

	switch (p[1]) {
	case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
		return 2;
	case 'u':
		break;
	default:
		return 0;
	}
	if (end - p < 6 || p[2] != '0' || p[3] != '0' ||
	    (p[4] != '0' && p[4] != '1') ||
	    !((p[5] >= '0' && p[5] <= '9') || (p[5] >= 'a' && p[5] <= 'f')))
		return 0;
	c = (p[4] - '0') * 16 + (p[5] <= '9' ? p[5] - '0' : p[5] - 'a' + 10);
	if (c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r')
		return 0;
	return 6;
}

/*
 * A string's one grammar, for the parser and for text in the writer's form
 * alike.  From p (after the opening quote): *pp at the closing quote and 0,
 * or *pp where it went wrong and the error (DDB_JSON_*).  *esc: it holds an
 * escape.  canon: only the escapes writer_escape() takes, anything else
 * DDB_JSON_ESCAPE; without canon any escape passes here and
 * decode_string() checks it.  string_byte(): the length of what is at p
 * when it is not a plain byte, or -DDB_JSON_*; out of the loop over those
 * that are (where its registers would cost each string more).
 */
static __attribute__((noinline)) long
string_byte(const unsigned char *p, const unsigned char *end, int canon,
    int *esc)
{
	long n;

	if (p >= end)
		return -DDB_JSON_EOF;
	if (*p == '\\') {
		*esc = 1;
		if (p + 1 >= end)
			return -DDB_JSON_EOF;
		if (!canon)
			return 2;
		n = (long)writer_escape(p, end);
		return n > 0 ? n : -DDB_JSON_ESCAPE;
	}
	if (*p < 0x20)
		return -DDB_JSON_CONTROL;
	n = (long)ddb_utf8_len(p, end);
	return n > 0 ? n : -DDB_JSON_UTF8;
}

static inline __attribute__((always_inline)) int
scan_string(const unsigned char **pp, const unsigned char *end, int canon,
    int *esc)
{
	const unsigned char *p = *pp;
	long n;

	for (;;) {
		p = ddb_skip_plain8(p, end);
		while (p < end && ddb_json_plain[*p])
			p++;
		if (p < end && *p == '"') {
			*pp = p;
			return 0;
		}
		if ((n = string_byte(p, end, canon, esc)) < 0) {
			*pp = p;
			return (int)-n;
		}
		p += n;
	}
}

/*
 * The bytes of a string scan_string() took (p after the opening quote,
 * end at or past the closing one), escapes decoded, written to d: the end
 * of what was written, or NULL with *bad at an escape that is not JSON's.
 * *nul: it holds U+0000.  Never longer than the text.
 */
static char *
decode_string(const unsigned char *p, const unsigned char *end, char *d,
    int *nul, const unsigned char **bad)
{
	for (; *p != '"';) {
		uint32_t cp, lo;
		if (*p != '\\') {
			*d++ = (char)*p++;
			continue;
		}
		switch (p[1]) {
		case '"':  *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '/':  *d++ = '/'; break;
		case 'b':  *d++ = '\b'; break;
		case 'f':  *d++ = '\f'; break;
		case 'n':  *d++ = '\n'; break;
		case 'r':  *d++ = '\r'; break;
		case 't':  *d++ = '\t'; break;
		case 'u':
			if (end - p < 6 || hex4((const char *)p + 2, &cp) < 0)
				goto bad;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p < 12 || p[6] != '\\' ||
				    p[7] != 'u' ||
				    hex4((const char *)p + 8, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			}
			if (cp == 0)
				*nul = 1;
			d = put_utf8(d, cp);
			p += 6;
			continue;
		default:
			goto bad;
		}
		p += 2;
	}
	return d;
bad:
	*bad = p;
	return NULL;
}

/* a string at ps->p (its opening quote); *nul: it holds U+0000 */
static int
parse_string(struct parse *ps, const char **out, size_t *outlen, int *nul)
{
	const unsigned char *p = (const unsigned char *)ps->p + 1;
	const unsigned char *end = (const unsigned char *)ps->end, *start = p;
	int esc = 0, e;
	size_t n;
	char *d, *buf;

	*nul = 0;
	/* find the end, checking UTF-8 and control characters */
	if ((e = scan_string(&p, end, 0, &esc)) != 0)
		return fail(ps, e, (const char *)p);
	n = (size_t)(p - start);
	buf = arena_get(ps->a, n + 1);
	if (!esc) {
		/* arena_get gave whole 16s: short strings copy in one or two */
		if ((size_t)(end - start) >= ((n + 15) & ~(size_t)15)) {
			size_t i;
			for (i = 0; i < n; i += 16)
				memcpy(buf + i, start + i, 16);
		} else
			memcpy(buf, start, n);
		buf[n] = '\0';
		*out = buf;
		*outlen = n;
		ps->p = (const char *)p + 1;
		return 0;
	}
	if ((d = decode_string(start, end, buf, nul, &p)) == NULL)
		return fail(ps, DDB_JSON_ESCAPE, (const char *)p);
	*d = '\0';
	*out = buf;
	*outlen = (size_t)(d - buf);
	ps->p = (const char *)p + 1;
	return 0;
}

/* RFC 8259's number at ps->p: its text, kept exactly */
static int
parse_number(struct parse *ps, struct jv *v)
{
	const char *p = ps->p, *q = p;
	size_t n = ddb_json_number_len(p, (size_t)(ps->end - p));
	char *t;

	if (n == 0) {
		if (q < ps->end && *q == '-')
			q++;
		if ((size_t)(ps->end - q) >= 3 && (strncasecmp(q, "nan", 3) == 0 ||
		    strncasecmp(q, "inf", 3) == 0))
			return fail(ps, DDB_JSON_NAN, q);
		return fail(ps, DDB_JSON_CHAR, p);
	}
	t = arena_get(ps->a, n + 1);
	memcpy(t, p, n);
	t[n] = '\0';
	v->type = JV_NUMBER;
	v->n = n;
	v->u.s = t;
	ps->p = p + n;
	return 0;
}

/* room for one more item in the parser's scratch array *p */
static void
scratch_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;

	while (c < need)
		c *= 2;
	*p = xreallocarray(*p, c, size);
	*cap = c;
}

static int
cmp_member(const void *a, const void *b)
{
	const struct jmem *x = *(const struct jmem *const *)a;
	const struct jmem *y = *(const struct jmem *const *)b;

	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return memcmp(x->k, y->k, x->klen);
}

/* 1 if two members of m[0..n) share a key */
static int
has_dup(struct parse *ps, const struct jmem *m, size_t n)
{
	size_t i, j;

	if (n <= 24) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (m[i].klen == m[j].klen &&
				    memcmp(m[i].k, m[j].k, m[i].klen) == 0)
					return 1;
		return 0;
	} else {
		const struct jmem **s = arena_get(ps->a, n * sizeof *s);
		for (i = 0; i < n; i++)
			s[i] = &m[i];
		qsort(s, n, sizeof *s, cmp_member);
		for (i = 1; i < n; i++)
			if (cmp_member(&s[i - 1], &s[i]) == 0)
				return 1;
		return 0;
	}
}

static int parse_value(struct parse *ps, struct jv *v);

/*
 * At a container's opening bracket: past it and the white space after it;
 * 1 if its closing bracket follows at once (an empty container, read)
 */
static inline int
container_empty(struct parse *ps, char close)
{
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 1;
	}
	return 0;
}

/*
 * After an item of a container: 1 past a comma and the white space after
 * it (another item follows), 0 past the closing bracket, -1 failed
 */
static inline int
next_item(struct parse *ps, char close)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, DDB_JSON_EOF, ps->p);
	if (*ps->p == ',') {
		ps->p++;
		skip_ws(ps);
		return 1;
	}
	if (*ps->p == close) {
		ps->p++;
		return 0;
	}
	return fail(ps, DDB_JSON_CHAR, ps->p);
}

/* the n items a container read into scratch space, copied to the arena */
static inline void *
keep_items(struct parse *ps, const void *items, size_t n, size_t size)
{
	void *p = arena_get(ps->a, n * size);

	memcpy(p, items, n * size);
	return p;
}

static int
parse_object(struct parse *ps, struct jv *v)
{
	struct ddb_json_stack *st = ps->st;
	size_t base = st->nm, n;
	const char *open = ps->p;
	int more;

	v->type = JV_OBJECT;
	if (container_empty(ps, '}')) {
		v->n = 0;
		v->u.m = NULL;
		return 0;
	}
	do {
		struct jmem m;
		int nul;
		if (ps->p >= ps->end)
			return fail(ps, DDB_JSON_EOF, ps->p);
		if (*ps->p != '"')
			return fail(ps, DDB_JSON_CHAR, ps->p);
		if (parse_string(ps, &m.k, &m.klen, &nul) < 0)
			return -1;
		if (nul)
			return fail(ps, DDB_JSON_NULKEY, open);
		skip_ws(ps);
		if (ps->p >= ps->end)
			return fail(ps, DDB_JSON_EOF, ps->p);
		if (*ps->p != ':')
			return fail(ps, DDB_JSON_CHAR, ps->p);
		ps->p++;
		skip_ws(ps);
		if (parse_value(ps, &m.v) < 0)
			return -1;
		if (st->nm == st->capm)
			scratch_grow((void **)&st->m, &st->capm, st->nm + 1,
			    sizeof *st->m);
		st->m[st->nm++] = m;
	} while ((more = next_item(ps, '}')) > 0);
	if (more < 0)
		return -1;
	n = st->nm - base;
	if (has_dup(ps, st->m + base, n))
		return fail(ps, DDB_JSON_DUP, open);
	v->n = n;
	v->u.m = keep_items(ps, st->m + base, n, sizeof *v->u.m);
	st->nm = base;
	return 0;
}

static int
parse_array(struct parse *ps, struct jv *v)
{
	struct ddb_json_stack *st = ps->st;
	size_t base = st->na, n;
	int more;

	v->type = JV_ARRAY;
	if (container_empty(ps, ']')) {
		v->n = 0;
		v->u.a = NULL;
		return 0;
	}
	do {
		struct jv e;
		if (parse_value(ps, &e) < 0)
			return -1;
		if (st->na == st->capa)
			scratch_grow((void **)&st->a, &st->capa, st->na + 1,
			    sizeof *st->a);
		st->a[st->na++] = e;
	} while ((more = next_item(ps, ']')) > 0);
	if (more < 0)
		return -1;
	n = st->na - base;
	v->n = n;
	v->u.a = keep_items(ps, st->a + base, n, sizeof *v->u.a);
	st->na = base;
	return 0;
}

static int
literal(struct parse *ps, const char *word, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, DDB_JSON_CHAR, ps->p);
	ps->p += n;
	return 0;
}

static int
parse_value(struct parse *ps, struct jv *v)
{
	int rc, nul;

	if (ps->p >= ps->end)
		return fail(ps, DDB_JSON_EOF, ps->p);
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > ps->maxdepth)
			return fail(ps, DDB_JSON_DEPTH, ps->p);
		rc = *ps->p == '{' ? parse_object(ps, v) : parse_array(ps, v);
		ps->depth--;
		return rc;
	case '"':
		v->type = JV_STRING;
		return parse_string(ps, &v->u.s, &v->n, &nul);
	case 't':
		v->type = JV_BOOL;
		v->n = 1;
		return literal(ps, "true", 4);
	case 'f':
		v->type = JV_BOOL;
		v->n = 0;
		return literal(ps, "false", 5);
	case 'n':
		v->type = JV_NULL;
		v->n = 0;
		return literal(ps, "null", 4);
	default:
		return parse_number(ps, v);
	}
}

/* a parse of s[0..n) into arena a, nested maxdepth levels at most */
static void
parse_start(struct parse *ps, struct ddb_arena *a, struct ddb_json_stack *st,
    const char *s, size_t n, int maxdepth)
{
	memset(ps, 0, sizeof *ps);
	ps->p = s;
	ps->end = s + n;
	ps->a = a;
	ps->st = st;
	ps->maxdepth = maxdepth;
	st->nm = st->na = 0;
}

/*
 * Parse s[0..n) as one JSON value into v, its parts in arena a.  0, or an
 * error (DDB_JSON_*) with *erroff where it was found.
 */
int
ddb_json_parse(struct ddb_arena *a, struct ddb_json_stack *st,
    const char *s, size_t n, int maxdepth, struct jv *v, size_t *erroff)
{
	struct parse ps;

	parse_start(&ps, a, st, s, n, maxdepth);
	skip_ws(&ps);
	if (parse_value(&ps, v) == 0) {
		skip_ws(&ps);
		if (ps.p < ps.end)
			fail(&ps, DDB_JSON_CHAR, ps.p);
	}
	if (ps.err != 0) {
		*erroff = (size_t)(ps.errp - s);
		return ps.err;
	}
	return 0;
}

/*
 * Parse the JSON object or array at the start of s[0..n) (no white space
 * before it) into v, and set *used to its length; what follows it is not
 * looked at.  0, or an error (DDB_JSON_*: DDB_JSON_EOF if s ends inside it).
 */
int
ddb_json_parse_prefix(struct ddb_arena *a, struct ddb_json_stack *st,
    const char *s, size_t n, int maxdepth, struct jv *v, size_t *used)
{
	struct parse ps;

	parse_start(&ps, a, st, s, n, maxdepth);
	if (parse_value(&ps, v) < 0)
		return ps.err;
	*used = (size_t)(ps.p - s);
	return 0;
}

/* --- text in the writer's form ---------------------------------------- */

/*
 * JSON text already in the form ddb_json_write() gives (no white space,
 * only the writer's escapes), checked as strictly as the parser checks it,
 * with the parser's own pieces: a tool that would parse a value only to
 * write it again can copy such text; anything else goes to the parser,
 * which also says what is wrong with it.
 */

/* members of one object checked for duplicate keys here; more: parser */
#define CANON_KEYS 32

/* the string at s[0..n) (its opening quote, n >= 2), as canon_str */
static size_t
canon_str(const char *s, size_t n, int *esc)
{
	const unsigned char *p = (const unsigned char *)s + 1;

	if (scan_string(&p, (const unsigned char *)s + n, 1, esc) != 0)
		return 0;
	return (size_t)(p + 1 - (const unsigned char *)s);
}

size_t
ddb_json_canon_str(const char *s, size_t n, int *esc)
{
	*esc = 0;
	if (n < 2 || *s != '"')
		return 0;
	return canon_str(s, n, esc);
}

void
ddb_json_canon_decode(struct ddb_buf *b, const char *s, size_t n)
{
	const unsigned char *bad;
	char *d;
	int nul;

	ddb_buf_reserve(b, n);
	d = decode_string((const unsigned char *)s + 1,
	    (const unsigned char *)s + n, b->p + b->n, &nul, &bad);
	b->n = (size_t)(d - b->p);
}

struct canon {
	const char *end;
	int depth, maxdepth;
};

static const char *canon_value(struct canon *c, const char *p);

static const char *
canon_object(struct canon *c, const char *p)
{
	const char *key[CANON_KEYS];
	size_t klen[CANON_KEYS], nk = 0, n, i;
	int esc;

	if (++p < c->end && *p == '}')
		return p + 1;
	for (;;) {
		esc = 0;
		if (c->end - p < 2 || *p != '"' ||
		    (n = canon_str(p, (size_t)(c->end - p), &esc)) == 0 ||
		    esc || nk == CANON_KEYS)
			return NULL;	/* a key with an escape: the parser */
		/* keys without escapes are equal when their text is */
		for (i = 0; i < nk; i++)
			if (klen[i] == n && memcmp(key[i], p, n) == 0)
				return NULL;
		key[nk] = p;
		klen[nk++] = n;
		p += n;
		if (p >= c->end || *p != ':')
			return NULL;
		if ((p = canon_value(c, p + 1)) == NULL || p >= c->end)
			return NULL;
		if (*p == '}')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *
canon_array(struct canon *c, const char *p)
{
	if (++p < c->end && *p == ']')
		return p + 1;
	for (;;) {
		if ((p = canon_value(c, p)) == NULL || p >= c->end)
			return NULL;
		if (*p == ']')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *
canon_value(struct canon *c, const char *p)
{
	size_t left = (size_t)(c->end - p), n;
	int esc;

	if (p >= c->end)
		return NULL;
	switch (*p) {
	case '{':
	case '[':
		/* counted as the parser counts */
		if (++c->depth > c->maxdepth)
			return NULL;
		p = *p == '{' ? canon_object(c, p) : canon_array(c, p);
		c->depth--;
		return p;
	case '"':
		n = left >= 2 ? canon_str(p, left, &esc) : 0;
		return n > 0 ? p + n : NULL;
	case 't':
		return left >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return left >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return left >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		n = ddb_json_number_len(p, left);
		return n > 0 ? p + n : NULL;
	}
}

size_t
ddb_json_canon_len(const char *s, size_t n, int depth, int maxdepth)
{
	struct canon c;
	const char *e;

	c.end = s + n;
	c.depth = depth;
	c.maxdepth = maxdepth;
	e = canon_value(&c, s);
	return e != NULL ? (size_t)(e - s) : 0;
}

const char *
ddb_json_strerror(int e)
{
	switch (e) {
	case DDB_JSON_EOF:	return "invalid JSON: unexpected end of data";
	case DDB_JSON_CHAR:	return "invalid JSON: unexpected character";
	case DDB_JSON_UTF8:	return "invalid JSON: invalid utf-8 string";
	case DDB_JSON_CONTROL:	return "control character in a string";
	case DDB_JSON_ESCAPE:	return "invalid JSON: invalid string sequence";
	case DDB_JSON_DUP:	return "an object has a duplicate key";
	case DDB_JSON_NULKEY:	return "an object key holds \\u0000";
	case DDB_JSON_DEPTH:	return "nesting too deep";
	case DDB_JSON_NAN:	return "NaN and Infinity are not JSON";
	}
	return "invalid JSON";
}

void
ddb_json_stack_free(struct ddb_json_stack *st)
{
	free(st->m);
	free(st->a);
	memset(st, 0, sizeof *st);
}

/* --- writer ------------------------------------------------------------- */

void
ddb_buf_grow(struct ddb_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (more > SIZE_MAX / 2 - b->n)
		ddb_nomem();
	while (cap < b->n + more)
		cap *= 2;
	p = xreallocarray(b->p, cap, 1);
	b->p = p;
	b->cap = cap;
	ddb_hugepages(p, cap);
}

/* 0: written as is; else the letter of its two-byte escape, or 'u' */
static const char esc_of[256] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
};

/* s[0..n) as a JSON string, quoted */
void
ddb_json_str(struct ddb_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *q;
	char *d;

	/* at worst six bytes out for one in */
	ddb_buf_reserve(b, 2);
	b->p[b->n++] = '"';
	while (p < end) {
		q = p;
#ifdef __SSE2__
		/* sixteen at a time; bytes from 0x80 up are as they are */
		while (end - q >= 16) {
			unsigned m = ddb_mark16(q, 0);
			if (m != 0) {
				q += __builtin_ctz(m);
				goto found;
			}
			q += 16;
		}
#endif
#ifdef DDB_SWAR
		while (end - q >= 8) {
			unsigned long long x = ddb_load8(q), t;
			t = ddb_eq8(x, '"') | ddb_eq8(x, '\\') | ddb_lt8(x, 0x20);
			if (t != 0) {
				q += ddb_first8(t);
				break;
			}
			q += 8;
		}
#endif
		for (; q < end && esc_of[*q] == 0; q++)
			;
#ifdef __SSE2__
found:
#endif
		ddb_buf_put(b, (const char *)p, (size_t)(q - p));
		if (q == end)
			break;
		ddb_buf_reserve(b, 6);
		d = b->p + b->n;
		*d++ = '\\';
		if (esc_of[*q] == 'u') {
			*d++ = 'u';
			*d++ = '0';
			*d++ = '0';
			*d++ = hex[*q >> 4];
			*d++ = hex[*q & 15];
		} else
			*d++ = esc_of[*q];
		b->n = (size_t)(d - b->p);
		p = q + 1;
	}
	ddb_buf_putc(b, '"');
}

void
ddb_json_write(struct ddb_buf *b, const struct jv *v)
{
	size_t i;

	switch (v->type) {
	case JV_NULL:
		ddb_buf_put(b, "null", 4);
		break;
	case JV_BOOL:
		if (v->n)
			ddb_buf_put(b, "true", 4);
		else
			ddb_buf_put(b, "false", 5);
		break;
	case JV_NUMBER:
		ddb_buf_put(b, v->u.s, v->n);
		break;
	case JV_STRING:
		ddb_json_str(b, v->u.s, v->n);
		break;
	case JV_ARRAY:
		ddb_buf_putc(b, '[');
		for (i = 0; i < v->n; i++) {
			if (i > 0)
				ddb_buf_putc(b, ',');
			ddb_json_write(b, &v->u.a[i]);
		}
		ddb_buf_putc(b, ']');
		break;
	case JV_OBJECT:
		ddb_buf_putc(b, '{');
		ddb_json_members(b, v, 0);
		ddb_buf_putc(b, '}');
		break;
	}
}

/* an object's members without the braces; sep: a comma before the first */
void
ddb_json_members(struct ddb_buf *b, const struct jv *v, int sep)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (i > 0 || sep)
			ddb_buf_putc(b, ',');
		ddb_json_str(b, v->u.m[i].k, v->u.m[i].klen);
		ddb_buf_putc(b, ':');
		ddb_json_write(b, &v->u.m[i].v);
	}
}

/*
 * "key": into the object b holds so far (its "{" and members), after a
 * comma unless it is the first member
 */
void
ddb_json_key(struct ddb_buf *b, const char *key)
{
	if (b->n > 1)
		ddb_buf_putc(b, ',');
	ddb_json_str(b, key, strlen(key));
	ddb_buf_putc(b, ':');
}

/* a "key":"text" member, as ddb_json_key */
void
ddb_json_member(struct ddb_buf *b, const char *key, const char *text)
{
	ddb_json_key(b, key);
	ddb_json_str(b, text, strlen(text));
}
