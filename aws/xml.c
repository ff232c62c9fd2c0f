/* xml.c: the XML answers of S3 and STS, read with expat */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "aws.h"

#define XML_NS_SEP '\x01'	/* between a namespace URI and a local name */
#define XML_MAX_DEPTH 64	/* AWS's answers are 3 or 4 deep */

struct xml_parse_state {
	XML_Parser p;
	struct xml_doc *d;
	size_t open[XML_MAX_DEPTH];	/* the elements open, innermost last */
	int depth;
	int bad;
};

static void
stop(struct xml_parse_state *st)
{
	st->bad = 1;
	XML_StopParser(st->p, XML_FALSE);
}

/* the local name: what follows the namespace URI, if any */
static const char *
local_name(const char *name)
{
	const char *s = strrchr(name, XML_NS_SEP);

	return s ? s + 1 : name;
}

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_parse_state *st = arg;
	struct xml_doc *d = st->d;
	struct xml_elem *e;

	(void)attrs;
	if (st->depth == XML_MAX_DEPTH) {
		stop(st);
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->e = xreallocarray(d->e, d->cap, sizeof *d->e);
	}
	e = &d->e[d->n];
	memset(e, 0, sizeof *e);
	e->name = xstrdup(local_name(name));
	e->depth = st->depth;
	st->open[st->depth++] = d->n++;
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
	struct xml_parse_state *st = arg;
	struct xml_elem *e = &st->d->e[st->open[st->depth - 1]];

	(void)name;
	if (e->text == NULL)
		e->text = xstrdup("");
	st->depth--;
}

/* character data, entities and CDATA sections undone by expat, may come
 * in pieces: each is appended to the innermost open element's text */
static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
	struct xml_parse_state *st = arg;
	struct xml_elem *e;
	size_t have;

	if (st->depth == 0 || len <= 0)
		return;
	e = &st->d->e[st->open[st->depth - 1]];
	have = e->text ? strlen(e->text) : 0;
	if (memchr(s, '\0', (size_t)len)) {	/* &#0; is no XML, but be sure */
		stop(st);
		return;
	}
	e->text = xreallocarray(e->text, have + (size_t)len + 1, 1);
	memcpy(e->text + have, s, (size_t)len);
	e->text[have + (size_t)len] = '\0';
}

/* AWS never sends a DTD: one is refused, and with it any entity of its own */
static void XMLCALL
on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	stop(arg);
}

int
xml_parse(struct xml_doc *d, const char *body, size_t len)
{
	struct xml_parse_state st = { 0 };
	int ok;

	memset(d, 0, sizeof *d);
	if (body == NULL)
		return -1;
	/* S3 sends white space while it completes a multipart upload, then
	 * the document: the XML declaration must begin it */
	while (len > 0 && (*body == ' ' || *body == '\t' || *body == '\r' ||
	    *body == '\n')) {
		body++;
		len--;
	}
	if (len > INT_MAX || (st.p = XML_ParserCreateNS(NULL, XML_NS_SEP)) ==
	    NULL)
		return -1;
	st.d = d;
	XML_SetUserData(st.p, &st);
	XML_SetElementHandler(st.p, on_start, on_end);
	XML_SetCharacterDataHandler(st.p, on_text);
	XML_SetStartDoctypeDeclHandler(st.p, on_doctype);
	ok = XML_Parse(st.p, body, (int)len, XML_TRUE) == XML_STATUS_OK &&
	    !st.bad && d->n > 0;
	XML_ParserFree(st.p);
	if (!ok) {
		xml_free(d);
		return -1;
	}
	return 0;
}

void
xml_free(struct xml_doc *d)
{
	size_t i;

	/* an answer may hold credentials (STS): wiped, not only freed */
	for (i = 0; i < d->n; i++) {
		free(d->e[i].name);
		if (d->e[i].text)
			memset(d->e[i].text, 0, strlen(d->e[i].text));
		free(d->e[i].text);
	}
	free(d->e);
	memset(d, 0, sizeof *d);
}

size_t
xml_find(const struct xml_doc *d, size_t from, const char *name)
{
	size_t i = from == XML_DOC ? 0 : from + 1;

	for (; i < d->n; i++) {
		if (from != XML_DOC && d->e[i].depth <= d->e[from].depth)
			break;
		if (strcmp(d->e[i].name, name) == 0)
			return i;
	}
	return XML_NONE;
}

size_t
xml_next(const struct xml_doc *d, size_t after, const char *name)
{
	size_t i;

	for (i = after == XML_NONE ? 0 : after + 1; i < d->n; i++)
		if (strcmp(d->e[i].name, name) == 0)
			return i;
	return XML_NONE;
}

const char *
xml_text(const struct xml_doc *d, size_t from, const char *name)
{
	size_t i = xml_find(d, from, name);

	return i == XML_NONE ? NULL : d->e[i].text;
}

char *
xml_value(const char *xml, const char *tag)
{
	struct xml_doc d;
	const char *t;
	char *v = NULL;

	if (xml == NULL || xml_parse(&d, xml, strlen(xml)) != 0)
		return NULL;
	if ((t = xml_text(&d, XML_DOC, tag)) != NULL)
		v = xstrdup(t);
	xml_free(&d);
	return v;
}

const char *
xml_root(const struct xml_doc *d)
{
	return d->n > 0 ? d->e[0].name : NULL;
}
