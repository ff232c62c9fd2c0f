/*
 * canon.c: JSON text that is already in the form ddb_json_write() gives
 * (no white space; only the writer's escapes), checked as strictly as the
 * parser checks it.  A tool that would parse a value only to write it out
 * again can copy such text instead; anything else (0 here) goes to the
 * parser, which also says what is wrong with it.
 */
#include <string.h>

#include "ddb.h"
#include "simd.h"

/* members of one object checked for duplicate keys here; more: parser */
#define CANON_KEYS 32

static int
lower_hex(int c)
{
	return (c >= '0' && c <= '9') ? c - '0' :
	    (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* the string at s (its opening quote), as ddb_json_canon_str */
static inline size_t
canon_str(const char *s, size_t n, int *esc)
{
	const unsigned char *p = (const unsigned char *)s + 1;
	const unsigned char *end = (const unsigned char *)s + n;
	size_t u;
	int c;

	for (;;) {
		p = ddb_skip_plain8(p, end);
		while (p < end && ddb_json_plain[*p])
			p++;
		if (p >= end)
			return 0;
		if (*p == '"')
			return (size_t)(p + 1 - (const unsigned char *)s);
		if (*p < 0x20)
			return 0;
		if (*p == '\\') {
			if (end - p < 2)
				return 0;
			*esc = 1;
			c = p[1];
			if (c == '"' || c == '\\' || c == 'b' || c == 'f' ||
			    c == 'n' || c == 'r' || c == 't') {
				p += 2;
				continue;
			}
			/* the writer's \u: 00, then lower-case hex of a control
			 * character that has no letter escape */
			if (c != 'u' || end - p < 6 || p[2] != '0' ||
			    p[3] != '0' || (p[4] != '0' && p[4] != '1') ||
			    (c = lower_hex(p[5])) < 0)
				return 0;
			c += (p[4] - '0') * 16;
			if (c == '\b' || c == '\t' || c == '\n' || c == '\f' ||
			    c == '\r')
				return 0;
			p += 6;
			continue;
		}
		if ((u = ddb_utf8_len(p, end)) == 0)
			return 0;
		p += u;
	}
}

size_t
ddb_json_canon_str(const char *s, size_t n, int *esc)
{
	*esc = 0;
	if (n < 2 || *s != '"')
		return 0;
	return canon_str(s, n, esc);
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
