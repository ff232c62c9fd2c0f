/* pyrepr.c: turn a Python repr of a dict (as a handler logs it) into JSON */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
put_u(struct ddb_buf *b, unsigned long cp)
{
	char e[32];

	if (cp >= 0x10000) {
		cp -= 0x10000;
		snprintf(e, sizeof e, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10),
		    0xdc00 + (cp & 0x3ff));
	} else
		snprintf(e, sizeof e, "\\u%04lx", cp);
	ddb_buf_put(b, e, strlen(e));
}

/* one quoted Python string at in[*i]; *i ends past its closing quote */
static int
conv_string(const char *in, size_t n, size_t *i, struct ddb_buf *b,
    const char **msg)
{
	char q = in[(*i)++];

	ddb_buf_putc(b, '"');
	while (*i < n && in[*i] != q) {
		unsigned char c = (unsigned char)in[*i];
		if (c == '"') {
			ddb_buf_put(b, "\\\"", 2);
			(*i)++;
		} else if (c < 0x20) {
			put_u(b, c);
			(*i)++;
		} else if (c != '\\') {
			ddb_buf_putc(b, in[*i]);
			(*i)++;
		} else {
			const char *s = NULL;
			unsigned long cp = 0;
			int k, digits = 0, h;
			if (++(*i) >= n)
				break;
			c = (unsigned char)in[(*i)++];
			switch (c) {
			case '\\': s = "\\\\"; break;
			case '\'': s = "'"; break;
			case '"': s = "\\\""; break;
			case 'n': s = "\\n"; break;
			case 'r': s = "\\r"; break;
			case 't': s = "\\t"; break;
			case 'b': s = "\\b"; break;
			case 'f': s = "\\f"; break;
			case 'a': cp = 7; break;
			case 'v': cp = 11; break;
			case 'x': digits = 2; break;
			case 'u': digits = 4; break;
			case 'U': digits = 8; break;
			default:
				if (c >= '0' && c <= '7') {
					cp = c - '0';
					for (k = 0; k < 2 && *i < n &&
					    in[*i] >= '0' && in[*i] <= '7'; k++)
						cp = cp * 8 + (in[(*i)++] - '0');
				} else {
					*msg = "unknown escape in a quoted string";
					return -1;
				}
			}
			for (k = 0; k < digits; k++) {
				if (*i >= n || (h = hexval(in[*i])) < 0) {
					*msg = "bad hex escape in a quoted string";
					return -1;
				}
				cp = cp * 16 + (unsigned long)h;
				(*i)++;
			}
			if (cp > 0x10ffff) {
				*msg = "escape beyond Unicode in a quoted string";
				return -1;
			}
			if (s != NULL)
				ddb_buf_put(b, s, strlen(s));
			else
				put_u(b, cp);
		}
	}
	if (*i >= n) {
		*msg = "unterminated quoted string";
		return -1;
	}
	(*i)++;
	ddb_buf_putc(b, '"');
	return 0;
}

static int
is_word(const char *in, size_t n, size_t i, const char *w)
{
	size_t l = strlen(w);
	char c;

	if (i + l > n || memcmp(in + i, w, l) != 0)
		return 0;
	if (i + l == n)
		return 1;
	c = in[i + l];
	return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_');
}

/* 0 and *out (NUL-terminated, to free) or -1 with *errpos and *errmsg */
int
ddb_pyrepr_to_json(const char *in, size_t n, char **out, size_t *outlen,
    size_t *errpos, const char **errmsg)
{
	struct ddb_buf b = { NULL, 0, 0 };
	size_t i = 0, s;

	*errmsg = "invalid value";
	while (i < n) {
		char c = in[i];
		if (c == '\'' || c == '"') {
			s = i;
			if (conv_string(in, n, &i, &b, errmsg) < 0) {
				*errpos = s;
				goto fail;
			}
		} else if (is_word(in, n, i, "True")) {
			ddb_buf_put(&b, "true", 4);
			i += 4;
		} else if (is_word(in, n, i, "False")) {
			ddb_buf_put(&b, "false", 5);
			i += 5;
		} else if (is_word(in, n, i, "None")) {
			ddb_buf_put(&b, "null", 4);
			i += 4;
		} else {
			ddb_buf_putc(&b, c);
			i++;
		}
	}
	ddb_buf_putc(&b, '\0');
	b.n--;
	*out = b.p;
	*outlen = b.n;
	return 0;
fail:
	if (*errpos > n)
		*errpos = i;
	free(b.p);
	return -1;
}
