/* reader.c: split a byte stream into JSON values and parse each losslessly */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"

struct ddb_reader {
	FILE *fp;
	int own;
	const char *name;
	int depth, flags;
	char in[65536];
	size_t inpos, inend;
	int eof;
	long line;		/* line of in[inpos] */
	char *val;		/* raw text of the value being read */
	size_t vlen, vcap;
	long vline;		/* line the value starts on */
	json_tokener *tok;
	/* DDB_READ_SPLIT: the records of the event in val, one at a time */
	struct part {
		size_t off, len;	/* in evtext */
		long colons;		/* its object members */
	} *parts;
	size_t nparts, capparts, nextpart;
	char *evtext, *evconv;	/* evtext is val, or evconv from Python repr */
	int evrisky;
	long part;		/* index of the record returned, or -1 */
};

/* what a scan learned about a value's text */
#define DDB_SCAN_STACK 256

struct scan {
	long colons;		/* object members, counted in the text */
	int risky;		/* an integer json-c cannot hold exactly */
	int py;			/* looks like Python repr */
};

struct ddb_reader *
ddb_reader_open(const char *path, int depth, int flags)
{
	struct ddb_reader *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	if (path == NULL || strcmp(path, "-") == 0) {
		r->fp = stdin;
		r->name = "<stdin>";
	} else {
		r->fp = fopen(path, "rb");
		r->own = 1;
		r->name = path;
		if (r->fp == NULL) {
			int e = errno;
			free(r);
			errno = e;
			return NULL;
		}
	}
	r->depth = depth;
	r->flags = flags;
	r->part = -1;
	r->line = 1;
	r->tok = json_tokener_new_ex(depth);
	if (r->tok == NULL) {
		ddb_reader_close(r);
		errno = ENOMEM;
		return NULL;
	}
	json_tokener_set_flags(r->tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	return r;
}

int
ddb_reader_close(struct ddb_reader *r)
{
	int rc = 0;

	if (r == NULL)
		return 0;
	if (r->own && r->fp != NULL)
		rc = fclose(r->fp);
	if (r->tok != NULL)
		json_tokener_free(r->tok);
	free(r->val);
	free(r->parts);
	free(r->evconv);
	free(r);
	return rc;
}

const char *
ddb_reader_name(const struct ddb_reader *r)
{
	return r->name;
}

long
ddb_reader_line(const struct ddb_reader *r)
{
	return r->vline;
}

long
ddb_reader_part(const struct ddb_reader *r)
{
	return r->part;
}

int
ddb_reader_part_last(const struct ddb_reader *r)
{
	return r->part >= 0 && (size_t)r->part + 1 == r->nparts;
}

/* after -2 from ddb_reader_next: nonzero if reading failed (exit 3, not 1) */
int
ddb_reader_ioerror(const struct ddb_reader *r)
{
	return ferror(r->fp) != 0;
}

/* a byte a string's scan can pass over: not a quote, backslash or control */
static inline int
plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\'' && c != '\\';
}

/* 1: more input in r->in; 0: end of input; -1: read error */
static int
fill(struct ddb_reader *r)
{
	if (r->inpos < r->inend)
		return 1;
	if (r->eof)
		return 0;
	r->inpos = 0;
	r->inend = fread(r->in, 1, sizeof r->in, r->fp);
	if (r->inend == 0) {
		r->eof = 1;
		if (ferror(r->fp)) {
			ddb_errat(r->name, r->line, "read error: %s",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	return 1;
}

static int
append(struct ddb_reader *r, const char *p, size_t n)
{
	if (r->vlen + n + 1 > r->vcap) {
		size_t cap = r->vcap ? r->vcap : 4096;
		char *v;
		while (cap < r->vlen + n + 1)
			cap *= 2;
		if ((v = realloc(r->val, cap)) == NULL) {
			ddb_errat(r->name, r->vline, "out of memory");
			return -1;
		}
		r->val = v;
		r->vcap = cap;
	}
	memcpy(r->val + r->vlen, p, n);
	r->vlen += n;
	r->val[r->vlen] = '\0';
	return 0;
}

static long
line_at(const struct ddb_reader *r, size_t off)
{
	long line = r->vline;
	size_t i;

	for (i = 0; i < off && i < r->vlen; i++)
		if (r->val[i] == '\n')
			line++;
	return line;
}

/*
 * Read the next value's raw text into r->val: a container up to its
 * closing bracket, a string, or a bare token.  Strings may use either
 * quote, for Python repr.  Returns 1, 0 at the end, -1 bad data (reported;
 * the stream goes on after it), -2 an error the stream cannot go on after.
 */
static int
scan_value(struct ddb_reader *r, struct scan *sc)
{
	int depth = 0, quote = 0, esc = 0, bare = 0, started = 0, toodeep = 0;
	const char *bad = NULL;
	char stack[DDB_SCAN_STACK];
	int innum = 0, numint = 0, numneg = 0, numdig = 0, numzero = 0;
	int c, f;
	long badline = 0;

	memset(sc, 0, sizeof *sc);
	r->vlen = 0;
	for (;;) {
		size_t i, start;

		if ((f = fill(r)) < 0)
			return -2;
		if (f == 0)
			break;
		if (!started) {
			while (r->inpos < r->inend) {
				c = (unsigned char)r->in[r->inpos];
				if (c == '\n')
					r->line++;
				else if (c != ' ' && c != '\t' && c != '\r')
					break;
				r->inpos++;
			}
			if (r->inpos == r->inend)
				continue;
			/* a UTF-8 byte order mark at the start of a file */
			if (r->line == 1 && r->inend - r->inpos >= 3 &&
			    memcmp(r->in + r->inpos, "\xef\xbb\xbf", 3) == 0) {
				r->inpos += 3;
				continue;
			}
			started = 1;
			r->vline = r->line;
			c = (unsigned char)r->in[r->inpos];
			bare = !(c == '{' || c == '[' || c == '"' || c == '\'');
		}
		start = r->inpos;
		for (i = r->inpos; i < r->inend; i++) {
			if (quote && !esc) {
				while (i < r->inend &&
				    plain((unsigned char)r->in[i]))
					i++;
				if (i == r->inend)
					break;
			}
			c = (unsigned char)r->in[i];
			if (c == '\n')
				r->line++;
			if (c == '\0') {
				r->inpos = i + 1;
				ddb_errat(r->name, r->line, "NUL byte in input");
				return -2;
			}
			if (quote) {
				if (c < 0x20 && bad == NULL) {
					bad = "control character in a string";
					badline = r->line;
				}
				if (esc)
					esc = 0;
				else if (c == '\\')
					esc = 1;
				else if (c == quote) {
					quote = 0;
					if (depth == 0) {
						i++;
						goto done;
					}
				}
				continue;
			}
			if (innum) {
				if (c >= '0' && c <= '9')
					numdig++;
				else if (c == '.' || c == 'e' || c == 'E')
					numint = 0;
				else if (!((c == '+' || c == '-') && !numint)) {
					innum = 0;
					if (numint && (numdig >= 19 ||
					    (numneg && numzero && numdig == 1)))
						sc->risky = 1;
				}
			}
			if (bare && (c == ' ' || c == '\t' || c == '\n' ||
			    c == '\r' || c == '{' || c == '}' || c == '[' ||
			    c == ']' || c == ',' || c == ':' || c == '"' ||
			    c == '\'')) {
				if (c == '\n')
					r->line--;
				if (i > start)
					goto done;
				if (i == r->inpos && r->vlen == 0) {
					/* a lone structural character */
					i++;
					goto done;
				}
				goto done;
			}
			switch (c) {
			case '"':
			case '\'':
				quote = c;
				if (c == '\'')
					sc->py = 1;
				break;
			case '{':
			case '[':
				if (depth < DDB_SCAN_STACK)
					stack[depth] = c == '{' ? '}' : ']';
				if (++depth > r->depth)
					toodeep = 1;
				break;
			case '}':
			case ']':
				/* a mismatched bracket ends the value: json-c says why */
				if (--depth <= 0 || (depth < DDB_SCAN_STACK &&
				    stack[depth] != c)) {
					i++;
					goto done;
				}
				break;
			case ':':
				sc->colons++;
				break;
			case 'T':
			case 'F':
			case 'N':
				sc->py = 1;
				break;
			default:
				if (!innum && (c == '-' || (c >= '0' && c <= '9'))) {
					innum = 1;
					numint = 1;
					numneg = c == '-';
					numdig = c != '-';
					numzero = c == '0';
				} else if (innum && numdig == 1 && numneg &&
				    c == '0')
					numzero = 1;
			}
		}
		if (!toodeep && append(r, r->in + start, i - start) < 0)
			return -2;
		r->inpos = i;
		continue;
done:
		if (!toodeep && append(r, r->in + start, i - start) < 0)
			return -2;
		r->inpos = i;
		if (innum && numint && (numdig >= 19 ||
		    (numneg && numzero && numdig == 1)))
			sc->risky = 1;
		if (toodeep) {
			ddb_errat(r->name, r->vline,
			    "nesting deeper than %d levels", r->depth);
			return -1;
		}
		if (bad != NULL) {
			ddb_errat(r->name, badline, "%s", bad);
			return -1;
		}
		return 1;
	}
	if (!started)
		return 0;
	if (bare && !quote) {
		if (innum && numint && (numdig >= 19 ||
		    (numneg && numzero && numdig == 1)))
			sc->risky = 1;
		return 1;
	}
	ddb_errat(r->name, r->line,
	    "input ends inside the value that starts on line %ld", r->vline);
	return -2;
}

/* json-c cuts an object key at \u0000: such a key must be refused */
static int
key_has_nul(const char *s, size_t n)
{
	size_t i = 0, j;
	int nul;

	if (memmem(s, n, "\\u0000", 6) == NULL)
		return 0;
	while (i < n) {
		if (s[i] != '"') {
			i++;
			continue;
		}
		nul = 0;
		for (i++; i < n && s[i] != '"'; i++)
			if (s[i] == '\\' && ++i < n && s[i] == 'u' &&
			    i + 4 < n && memcmp(s + i + 1, "0000", 4) == 0)
				nul = 1;
		for (j = i + 1; j < n && strchr(" \t\r\n", s[j]) != NULL; j++)
			;
		if (nul && j < n && s[j] == ':')
			return 1;
		i++;
	}
	return 0;
}

/* count object members and numbers, as json-c holds them */
static void
count_tree(json_object *o, long *members, long *numbers, int *nonnum)
{
	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			(*members)++;
			count_tree(v, members, numbers, nonnum);
		}
		break;
	}
	case json_type_array: {
		size_t i, n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			count_tree(json_object_array_get_idx(o, i), members,
			    numbers, nonnum);
		break;
	}
	case json_type_double:
		/* json-c takes NaN and Infinity even when strict */
		if (!isfinite(json_object_get_double(o))) {
			const char *t = json_object_get_string(o);
			if (t != NULL && strpbrk(t, "NnIi") != NULL)
				*nonnum = 1;
		}
		/* FALLTHROUGH */
	case json_type_int:
		(*numbers)++;
		break;
	default:
		break;
	}
}

struct numtok {
	size_t off, len;
};

/* the number tokens of JSON text, in document order */
static size_t
list_numbers(const char *s, size_t n, struct numtok **out)
{
	size_t i = 0, cnt = 0, cap = 0;
	struct numtok *t = NULL, *nt;

	while (i < n) {
		char c = s[i];
		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t b = i;
			while (i < n && strchr("0123456789+-.eE", s[i]) != NULL)
				i++;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nt = realloc(t, cap * sizeof *t)) == NULL) {
					free(t);
					*out = NULL;
					return (size_t)-1;
				}
				t = nt;
			}
			t[cnt].off = b;
			t[cnt].len = i - b;
			cnt++;
		} else
			i++;
	}
	*out = t;
	return cnt;
}

/* a number that writes exactly its token's text; NULL if out of memory */
static json_object *
exact_number(const char *s, const struct numtok *p)
{
	char *txt = strndup(s + p->off, p->len);
	json_object *o = NULL;

	if (txt != NULL) {
		o = json_object_new_double_s(strtod(txt, NULL), txt);
		free(txt);
	}
	return o;
}

static int
is_number(json_object *o)
{
	return json_object_is_type(o, json_type_int) ||
	    json_object_is_type(o, json_type_double);
}

/* put the exact text back into every number, in document order; -1 nomem */
static int
restore_numbers(json_object *o, const char *s, const struct numtok *t,
    size_t *k)
{
	json_object *n;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, key, v) {
			if (!is_number(v)) {
				if (restore_numbers(v, s, t, k) < 0)
					return -1;
			} else if ((n = exact_number(s, &t[(*k)++])) == NULL ||
			    json_object_object_add(o, key, n) < 0)
				return -1;
		}
		break;
	}
	case json_type_array: {
		size_t i, len = json_object_array_length(o);
		for (i = 0; i < len; i++) {
			json_object *v = json_object_array_get_idx(o, i);
			if (!is_number(v)) {
				if (restore_numbers(v, s, t, k) < 0)
					return -1;
			} else if ((n = exact_number(s, &t[(*k)++])) == NULL ||
			    json_object_array_put_idx(o, i, n) < 0)
				return -1;
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

/*
 * Parse text[0..tlen), which is at offset off in val (or in converted
 * Python repr if conv), where text[tlen] may be written.  1 and *out, or -1
 * (reported).
 */
static int
parse_text(struct ddb_reader *r, char *text, size_t tlen, size_t off,
    int conv, long colons, int risky, json_object **out)
{
	enum json_tokener_error e;
	json_object *o;
	size_t end;
	long members = 0, numbers = 0, vline = r->vline;
	int nonnum = 0, rc;
	char save = text[tlen];

	*out = NULL;
	text[tlen] = '\0';
	json_tokener_reset(r->tok);
	/* the NUL ends a bare number, which json-c would otherwise wait on */
	o = json_tokener_parse_ex(r->tok, text, (int)tlen + 1);
	e = json_tokener_get_error(r->tok);
	end = json_tokener_get_parse_end(r->tok);
	if (e != json_tokener_success || o == NULL) {
		long line = conv ? vline : line_at(r, off + end);
		if (e == json_tokener_error_depth)
			ddb_errat(r->name, line, "nesting deeper than %d levels",
			    r->depth);
		else
			ddb_errat(r->name, line, "invalid JSON: %s",
			    e == json_tokener_success ? "no value" :
			    json_tokener_error_desc(e));
		json_object_put(o);
		text[tlen] = save;
		return -1;
	}
	if (key_has_nul(text, tlen)) {
		ddb_errat(r->name, vline, "an object key holds \\u0000");
		goto bad;
	}
	count_tree(o, &members, &numbers, &nonnum);
	if (nonnum) {
		ddb_errat(r->name, vline, "NaN and Infinity are not JSON");
		goto bad;
	}
	if (members != colons) {
		ddb_errat(r->name, vline, "an object has a duplicate key");
		goto bad;
	}
	if (risky) {
		struct numtok *t = NULL;
		size_t k = 0, nt = list_numbers(text, tlen, &t);
		if (nt == (size_t)-1) {
			ddb_errat(r->name, vline, "out of memory");
			goto bad;
		}
		if ((long)nt != numbers) {
			free(t);
			ddb_errat(r->name, vline, "an object has a duplicate key");
			goto bad;
		}
		if (is_number(o)) {
			json_object_put(o);
			rc = (o = exact_number(text, &t[0])) == NULL ? -1 : 0;
		} else
			rc = restore_numbers(o, text, t, &k);
		free(t);
		if (rc < 0) {
			ddb_errat(r->name, vline, "out of memory");
			goto bad;
		}
	}
	text[tlen] = save;
	*out = o;
	return 1;
bad:
	text[tlen] = save;
	json_object_put(o);
	return -1;
}

/* object members in JSON text: its colons outside strings */
static long
count_colons(const char *s, size_t n)
{
	size_t i;
	long c = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
		} else if (s[i] == ':')
			c++;
	}
	return c;
}

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* the end of the JSON value at s[i], or 0 if none; *colons: its members */
static size_t
value_end(const char *s, size_t n, size_t i, long *colons)
{
	int depth = 0;

	*colons = 0;

	for (; i < n; i++) {
		switch (s[i]) {
		case '"':
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i >= n)
				return 0;
			if (depth == 0)
				return i + 1;
			break;
		case ':':
			(*colons)++;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth-- == 0)
				return i;	/* a bare token ends */
			if (depth == 0)
				return i + 1;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			if (depth == 0)
				return i;
			break;
		}
	}
	return depth == 0 ? n : 0;
}

/*
 * If the value text is a {"Records":[...]} event whose shape is sound, list
 * where its records lie and return 0; else -1 and the value is parsed whole
 * (json-c then says what is wrong).  Members after Records (get-records'
 * NextShardIterator) are checked here.
 */
static int
split_records(struct ddb_reader *r, char *s, size_t n)
{
	size_t i, e, tail;
	long colons;

	r->nparts = r->nextpart = 0;
	i = skip_ws(s, n, 0);
	if (i >= n || s[i] != '{')
		return -1;
	i = skip_ws(s, n, i + 1);
	if (n - i < 9 || memcmp(s + i, "\"Records\"", 9) != 0)
		return -1;
	i = skip_ws(s, n, i + 9);
	if (i >= n || s[i] != ':')
		return -1;
	i = skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '[')
		return -1;
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == ']')
		goto tail;
	for (;;) {
		if ((e = value_end(s, n, i, &colons)) <= i)
			return -1;
		if (r->nparts == r->capparts) {
			size_t cap = r->capparts ? r->capparts * 2 : 256;
			struct part *p = realloc(r->parts, cap * sizeof *p);
			if (p == NULL)
				return -1;
			r->parts = p;
			r->capparts = cap;
		}
		r->parts[r->nparts].off = i;
		r->parts[r->nparts].len = e - i;
		r->parts[r->nparts].colons = colons;
		r->nparts++;
		i = skip_ws(s, n, e);
		if (i < n && s[i] == ']')
			break;
		if (i >= n || s[i] != ',')
			return -1;
		i = skip_ws(s, n, i + 1);
	}
tail:
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == ',') {
		/* more members: quietly, they must make an object without Records */
		json_tokener *tok;
		json_object *o;
		long members = 0, numbers = 0;
		int nonnum = 0, ok;
		char c;
		tail = i;
		for (e = n; e > tail && s[e - 1] != '}'; e--)
			;
		if (e <= tail + 1 || skip_ws(s, n, e) != n ||
		    (tok = json_tokener_new_ex(r->depth)) == NULL)
			return -1;
		json_tokener_set_flags(tok,
		    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		c = s[tail];
		s[tail] = '{';
		o = json_tokener_parse_ex(tok, s + tail, (int)(e - tail));
		ok = o != NULL && json_tokener_get_error(tok) ==
		    json_tokener_success && json_object_is_type(o,
		    json_type_object) && !json_object_object_get_ex(o,
		    "Records", NULL);
		if (ok) {
			count_tree(o, &members, &numbers, &nonnum);
			ok = !nonnum && members == count_colons(s + tail,
			    e - tail) && !key_has_nul(s + tail, e - tail);
		}
		s[tail] = c;
		json_object_put(o);
		json_tokener_free(tok);
		if (!ok)
			r->nparts = 0;
		return ok ? 0 : -1;
	}
	if (i >= n || s[i] != '}' || skip_ws(s, n, i + 1) != n)
		return -1;
	return 0;
}

/* the next record of a split event */
static int
next_part(struct ddb_reader *r, json_object **out)
{
	struct part *p = &r->parts[r->nextpart];
	int rc;

	r->part = (long)r->nextpart++;
	rc = parse_text(r, r->evtext + p->off, p->len, p->off,
	    r->evconv != NULL, p->colons, r->evrisky, out);
	if (r->nextpart == r->nparts) {
		free(r->evconv);
		r->evconv = NULL;
	}
	return rc;
}

/*
 * The next value: 1 and *out set, 0 at the end of input, -1 bad data
 * (reported; the next call goes on after it), -2 a read error or input the
 * stream cannot go on after (reported).  With DDB_READ_SPLIT, the records
 * of a {"Records":[...]} event come one by one (ddb_reader_part).
 */
int
ddb_reader_next(struct ddb_reader *r, json_object **out)
{
	struct scan sc;
	char *text, *conv;
	size_t tlen;
	int rc;

	*out = NULL;
	if (r->nextpart < r->nparts)
		return next_part(r, out);
again:
	r->part = -1;
	r->nparts = r->nextpart = 0;
	conv = NULL;
	if ((rc = scan_value(r, &sc)) <= 0)
		return rc;
	text = r->val;
	tlen = r->vlen;
	if (sc.py && (r->flags & DDB_READ_PYREPR)) {
		size_t errpos = 0;
		const char *msg = "invalid value";
		if (ddb_pyrepr_to_json(r->val, r->vlen, &conv, &tlen, &errpos,
		    &msg) < 0) {
			ddb_errat(r->name, line_at(r, errpos), "%s", msg);
			return -1;
		}
		text = conv;
	}
	if ((r->flags & DDB_READ_SPLIT) &&
	    split_records(r, text, tlen) == 0) {
		r->evtext = text;
		r->evconv = conv;
		r->evrisky = sc.risky;
		if (r->nparts > 0)
			return next_part(r, out);
		free(conv);
		r->evconv = NULL;
		goto again;
	}
	r->nparts = 0;
	rc = parse_text(r, text, tlen, 0, conv != NULL, sc.colons, sc.risky,
	    out);
	free(conv);
	return rc;
}
