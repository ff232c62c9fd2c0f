/* ddb-expand: flattened stream records in, one flat JSON object per CSV row out */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddb.h"

/* the record fields -l can add as columns */
enum { LIN_EVENTID, LIN_SEQ, LIN_TABLE, LIN_USER, LIN_SOURCE, NFIELD };
static const char *const field_name[NFIELD] = {
	"eventID", "SequenceNumber", "tableName", "userIdentity", "source"
};

static int iflag;		/* -i: MODIFY gives INSERT before REMOVE */
static int sflag;		/* -s: stop at the first bad record */
static int Uflag;		/* -U: created_at as ISO 8601 UTC text */
static const char *ecol = "EventType";	/* -E */
static const char *ccol = "created_at";	/* -C */
static const char *keysout;	/* --keys-out: the key names go there */
#define MAXKEYS 8		/* DynamoDB has two key attributes at most */
static char *keyname[MAXKEYS];
static int nkeys;
static int lfield[NFIELD];	/* -l: fields, in column order */
static const char *lcol[NFIELD];	/* -l: their column names */
static int nlin;

static struct jv ev_insert = { JV_STRING, 6, { "INSERT" } };
static struct jv ev_remove = { JV_STRING, 6, { "REMOVE" } };
static struct jv jnull = { JV_NULL, 0, { NULL } };
static struct jv src_stream = { JV_STRING, 6, { "stream" } };
static struct jv src_scan = { JV_STRING, 4, { "scan" } };
static struct ddb_buf row;	/* the row being written, see write_row() */
static struct ddb_buf tmp;	/* JSON text for messages */

/* where the record being expanded came from, for messages */
static const char *cur_name;
static long cur_line;
static const struct jv *cur_rec;

static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: ddb-expand [-isU] [-C name] [-E name] "
	    "[-l field[=column],...] [--keys-out file]\n"
	    "                  [file ...]\n");
	if (fp == stdout)
		fprintf(fp,
		    "  -i, --insert-first        MODIFY: the INSERT row before "
		    "the REMOVE row\n"
		    "  -E, --event-type-column NAME\n"
		    "                            name of the EventType column\n"
		    "  -C, --created-at-column NAME\n"
		    "                            name of the created_at column\n"
		    "  -U, --utc-created-at      created_at as ISO 8601 UTC text "
		    "from any form\n"
		    "  -l, --lineage LIST        add columns for eventID, "
		    "SequenceNumber, tableName,\n"
		    "                            userIdentity, source (stream "
		    "or scan)\n"
		    "                            (field=column renames one)\n"
		    "  --keys-out FILE           the names of the records' "
		    "dynamodb.Keys there,\n"
		    "                            as a JSON array\n"
		    "  -s, --stop                stop at the first bad record\n"
		    "  -h, --help                this help\n"
		    "  -V, --version             print the version\n");
	ddb_usage_exit(fp, status);
}

/* a value as JSON text, for a message (valid until the next call) */
static const char *
json_text(const struct jv *v)
{
	tmp.n = 0;
	ddb_json_write(&tmp, v);
	ddb_buf_putc(&tmp, '\0');
	return tmp.p;
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad(const char *fmt, ...)
{
	char msg[512];
	const struct jv *id;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if ((id = jv_get(cur_rec, "eventID")) != NULL) {
		const char *s = id->u.s;
		size_t i, n = id->type == JV_STRING ? id->n : 0;

		/* odd bytes are shown as JSON, never raw */
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				break;
		if (id->type != JV_STRING || i < n)
			s = json_text(id);
		ddb_errat(cur_name, cur_line, "eventID %s: %s", s, msg);
	} else
		ddb_errat(cur_name, cur_line, "%s", msg);
	return -1;
}

/*
 * An attribute named like an added column must neither overwrite it nor
 * stop the stream: it is written under its name with one '_' more in
 * front.  So that no two names meet, this holds for every name that is an
 * added column's name after any number of '_' (created_at, _created_at,
 * __created_at ... become _created_at, __created_at, ___created_at ...):
 * the renaming is one to one, and no attribute keeps an added column's
 * name.  1 if key[0..n) is such a name.
 */
static int
escaped(const char *key, size_t n)
{
	const char *name;
	size_t m, u;
	int k;

	for (k = -2; k < nlin; k++) {
		name = k == -2 ? ecol : k == -1 ? ccol : lcol[k];
		/* the first byte first: most keys differ there, and this
		 * runs for every key of every record */
		if (*key != '_' && *key != *name)
			continue;
		m = strlen(name);
		if (n < m || memcmp(key + n - m, name, m) != 0)
			continue;
		for (u = 0; u < n - m && key[u] == '_'; u++)
			;
		if (u == n - m)
			return 1;
	}
	return 0;
}

/* the image's members, names escaped where escaped() says */
static void
write_members(const struct jv *img)
{
	static struct ddb_buf name;
	size_t i;

	for (i = 0; i < img->n; i++)
		if (escaped(img->u.m[i].k, img->u.m[i].klen))
			break;
	if (i == img->n) {
		ddb_json_members(&row, img, 0);
		return;
	}
	for (i = 0; i < img->n; i++) {
		const char *k = img->u.m[i].k;
		size_t n = img->u.m[i].klen;

		if (i > 0)
			ddb_buf_putc(&row, ',');
		if (escaped(k, n)) {
			name.n = 0;
			ddb_buf_putc(&name, '_');
			ddb_buf_put(&name, k, n);
			k = name.p;
			n = name.n;
		}
		ddb_json_str(&row, k, n);
		ddb_buf_putc(&row, ':');
		ddb_json_write(&row, &img->u.m[i].v);
	}
}

static int
pick_side(const struct jv *ddb, int old, const struct jv **out)
{
	const char *image = old ? "OldImage" : "NewImage";
	const char *own = old ? "OLD_IMAGE" : "NEW_IMAGE";
	const struct jv *view;

	if ((*out = jv_get(ddb, image)) != NULL) {
		if ((*out)->type != JV_OBJECT)
			return bad("dynamodb.%s is not an object", image);
		return 0;
	}
	view = jv_get(ddb, "StreamViewType");
	if (jv_streq(view, own) || jv_streq(view, "NEW_AND_OLD_IMAGES"))
		return bad("dynamodb.%s missing, though StreamViewType is %s",
		    image, view->u.s);
	if ((*out = jv_get(ddb, "Keys")) == NULL)
		return bad("dynamodb.%s and dynamodb.Keys both missing", image);
	if ((*out)->type != JV_OBJECT)
		return bad("dynamodb.Keys is not an object");
	return 0;
}

/* the image's members, then the added columns: one line of JSON */
static void
write_row(const struct jv *img, const struct jv *ev, const struct jv *created,
    const struct jv **lval)
{
	int k;

	row.n = 0;
	ddb_buf_putc(&row, '{');
	write_members(img);
	for (k = 0; k < nlin; k++) {
		if (k > 0 || img->n > 0)
			ddb_buf_putc(&row, ',');
		ddb_json_str(&row, lcol[k], strlen(lcol[k]));
		ddb_buf_putc(&row, ':');
		ddb_json_write(&row, lval[k]);
	}
	if (nlin > 0 || img->n > 0)
		ddb_buf_putc(&row, ',');
	ddb_json_str(&row, ecol, strlen(ecol));
	ddb_buf_putc(&row, ':');
	ddb_json_write(&row, ev);
	ddb_buf_putc(&row, ',');
	ddb_json_str(&row, ccol, strlen(ccol));
	ddb_buf_putc(&row, ':');
	ddb_json_write(&row, created);
	ddb_buf_put(&row, "}\n", 2);
	if (ddb_fwrite_all(stdout, row.p, row.n) < 0)
		err(DDB_EXIT_IO, "stdout");
}

/* --keys-out: the names of a written record's Keys, each once */
static void
note_keys(const struct jv *keys)
{
	size_t i;
	int k;

	if (keys == NULL || keys->type != JV_OBJECT)
		return;
	for (i = 0; i < keys->n; i++) {
		for (k = 0; k < nkeys; k++)
			if (strcmp(keyname[k], keys->u.m[i].k) == 0)
				break;
		if (k == nkeys && nkeys < MAXKEYS)
			keyname[nkeys++] = xstrndup(keys->u.m[i].k,
			    keys->u.m[i].klen);
	}
}

/* --keys-out: ["name",...] and a newline; 0 or DDB_EXIT_IO (said) */
static int
write_keys(void)
{
	struct ddb_buf b = { NULL, 0, 0 };
	FILE *fp;
	int k, rc = DDB_EXIT_OK;

	ddb_buf_putc(&b, '[');
	for (k = 0; k < nkeys; k++) {
		if (k > 0)
			ddb_buf_putc(&b, ',');
		ddb_json_str(&b, keyname[k], strlen(keyname[k]));
		free(keyname[k]);
	}
	ddb_buf_put(&b, "]\n", 2);
	if ((fp = fopen(keysout, "w")) == NULL) {
		warn("%s", keysout);
		rc = DDB_EXIT_IO;
	} else if ((ddb_fwrite_all(fp, b.p, b.n) < 0) | (fclose(fp) != 0)) {
		warn("%s", keysout);
		rc = DDB_EXIT_IO;
	}
	free(b.p);
	return rc;
}

static int
expand(const struct jv *rec)
{
	const struct jv *name, *ddb, *created, *lval[NFIELD], *img[2], *ev[2];
	struct ddb_time when;
	static char utc[64];	/* -U: created_at */
	static struct jv utcv;
	int k, nrows;

	if (rec->type != JV_OBJECT)
		return bad("not an object");
	if ((name = jv_get(rec, "eventName")) == NULL)
		return bad("missing eventName%s",
		    jv_get(rec, "Records") != NULL ?
		    " (an event, not a record: run ddb-flatten first)" : "");
	if (name->type != JV_STRING)
		return bad("eventName is not a string");
	if (!jv_streq(name, "INSERT") && !jv_streq(name, "MODIFY") &&
	    !jv_streq(name, "REMOVE"))
		return bad("unknown eventName %s", json_text(name));
	if ((ddb = jv_get(rec, "dynamodb")) == NULL)
		return bad("missing dynamodb");
	if (ddb->type != JV_OBJECT)
		return bad("dynamodb is not an object");
	if ((created = jv_get(ddb, "ApproximateCreationDateTime")) == NULL)
		return bad("missing dynamodb.ApproximateCreationDateTime");
	/* epoch seconds, ms, µs (numbers) or ISO 8601 text (AWS CLI v2) */
	if (created->type != JV_NUMBER && created->type != JV_STRING)
		return bad("dynamodb.ApproximateCreationDateTime is %s, not a "
		    "number or a string", jv_type_name(created));
	if ((k = ddb_time_parse(created->u.s, created->n,
	    created->type == JV_NUMBER, &when)) != 0)
		return bad("dynamodb.ApproximateCreationDateTime %s",
		    ddb_time_strerror(k));
	if (Uflag) {
		k = ddb_time_format(&when, 1, utc, sizeof utc);
		utcv.type = JV_STRING;
		utcv.n = (size_t)k;
		utcv.u.s = utc;
		created = &utcv;
	}
	if (jv_streq(name, "INSERT")) {
		nrows = 1;
		ev[0] = &ev_insert;
		if (pick_side(ddb, 0, &img[0]) < 0)
			return -1;
	} else if (jv_streq(name, "REMOVE")) {
		nrows = 1;
		ev[0] = &ev_remove;
		if (pick_side(ddb, 1, &img[0]) < 0)
			return -1;
	} else {
		int o = iflag, n = !iflag;	/* rows of the old, new image */

		nrows = 2;
		ev[o] = &ev_remove;
		ev[n] = &ev_insert;
		if (pick_side(ddb, 1, &img[o]) < 0 ||
		    pick_side(ddb, 0, &img[n]) < 0)
			return -1;
	}
	for (k = 0; k < nlin; k++) {
		const char *f = field_name[lfield[k]];
		const struct jv *from = lfield[k] == LIN_SEQ ? ddb : rec;
		const char *pre = lfield[k] == LIN_SEQ ? "dynamodb." : "";

		if (lfield[k] == LIN_SOURCE) {
			/* a change has an identity in its stream; a
			 * snapshot's record (ddb-scan, an export) none */
			lval[k] = jv_get(ddb, "SequenceNumber") ||
			    jv_get(jv_get(rec, "kinesis"), "sequenceNumber") ||
			    jv_get(rec, "eventID") ? &src_stream : &src_scan;
			continue;
		}
		if (lfield[k] == LIN_USER) {
			/* only DynamoDB's own deletes (TTL) carry one */
			lval[k] = jv_get(jv_get(rec, "userIdentity"),
			    "principalId");
			if (lval[k] == NULL || lval[k]->type != JV_STRING)
				lval[k] = &jnull;
			continue;
		}
		lval[k] = jv_get(from, f);
		/* Kinesis records have none: their Kinesis sequence number */
		if (lval[k] == NULL && lfield[k] == LIN_SEQ &&
		    (lval[k] = jv_get(jv_get(rec, "kinesis"),
		    "sequenceNumber")) != NULL)
			pre = "kinesis.", f = "sequenceNumber";
		/*
		 * a snapshot's record (ddb-scan, an export) is no change and
		 * has no eventID and no sequence: null, a backfill row
		 */
		if (lval[k] == NULL && lfield[k] == LIN_SEQ &&
		    jv_get(rec, "eventID") == NULL) {
			lval[k] = &jnull;
			continue;
		}
		if (lval[k] == NULL && lfield[k] == LIN_SEQ)
			return bad("missing dynamodb.SequenceNumber (asked for "
			    "by -l; no kinesis.sequenceNumber either)");
		if (lval[k] == NULL)
			return bad("missing %s%s (asked for by -l)", pre, f);
		if (lval[k]->type != JV_STRING)
			return bad("%s%s is not a string", pre, f);
	}
	for (k = 0; k < nrows; k++)
		write_row(img[k], ev[k], created, lval);
	if (keysout != NULL)
		note_keys(jv_get(ddb, "Keys"));
	return 0;
}

static void
parse_lineage(char *list)
{
	char *item, *col;
	int f, k;

	while ((item = strsep(&list, ",")) != NULL) {
		if ((col = strchr(item, '=')) != NULL)
			*col++ = '\0';
		for (f = 0; f < NFIELD; f++)
			if (strcmp(item, field_name[f]) == 0)
				break;
		if (f == NFIELD)
			ddb_usage_error(usage,
			    "-l: unknown field \"%s\" (eventID, "
			    "SequenceNumber, tableName, userIdentity, source)",
			    item);
		for (k = 0; k < nlin; k++)
			if (lfield[k] == f)
				ddb_usage_error(usage,
				    "-l: %s given twice", item);
		lfield[nlin] = f;
		lcol[nlin++] = col != NULL ? col : field_name[f];
	}
}

/* every added column needs its own, non-empty name */
static void
check_columns(void)
{
	const char *all[NFIELD + 2];
	int i, j, n = 0;

	all[n++] = ecol;
	all[n++] = ccol;
	for (i = 0; i < nlin; i++)
		all[n++] = lcol[i];
	for (i = 0; i < n; i++) {
		if (*all[i] == '\0')
			ddb_usage_error(usage, "an added column needs a name");
		for (j = 0; j < i; j++)
			if (strcmp(all[i], all[j]) == 0)
				ddb_usage_error(usage,
				    "two added columns named \"%s\"",
				    all[i]);
	}
}

/* 0 ok, 1 bad data seen, 3 unreadable; stops early with -s */
static int
expand_file(const char *path, int *stop)
{
	struct ddb_reader *r = ddb_reader_open(path, DDB_READ_DEPTH, 0);
	struct jv *o;
	int n, status = DDB_EXIT_OK;

	if (r == NULL) {
		ddb_errat(path, 0, "%s", strerror(errno));
		*stop = sflag;
		return DDB_EXIT_IO;
	}
	cur_name = ddb_reader_name(r);
	while (!*stop && (n = ddb_reader_next(r, &o)) != DDB_NEXT_END) {
		if (n == DDB_NEXT_FATAL) {
			status = ddb_reader_ioerror(r) ? DDB_EXIT_IO :
			    DDB_EXIT_DATA;
			*stop = sflag;
			break;
		}
		if (n == DDB_NEXT_VALUE) {
			cur_line = ddb_reader_line(r);
			cur_rec = o;
			if (expand(o) < 0)
				n = DDB_NEXT_BAD;
			cur_rec = NULL;
		}
		if (n == DDB_NEXT_BAD) {
			if (status == DDB_EXIT_OK)
				status = DDB_EXIT_DATA;
			*stop = sflag;
		}
	}
	ddb_reader_close(r);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "insert-first", no_argument, NULL, 'i' },
		{ "event-type-column", required_argument, NULL, 'E' },
		{ "created-at-column", required_argument, NULL, 'C' },
		{ "utc-created-at", no_argument, NULL, 'U' },
		{ "lineage", required_argument, NULL, 'l' },
		{ "stop", no_argument, NULL, 's' },
		{ "keys-out", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, i, s, status = DDB_EXIT_OK, stop = 0;

	while ((c = getopt_long(argc, argv, "iE:C:l:sUhV", longopts, NULL)) !=
	    -1)
		switch (c) {
		case 'i': iflag = 1; break;
		case 'E': ecol = optarg; break;
		case 'C': ccol = optarg; break;
		case 'l': parse_lineage(optarg); break;
		case 's': sflag = 1; break;
		case 'U': Uflag = 1; break;
		case 'K': keysout = optarg; break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'V': ddb_print_version(); break;
		default: usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	check_columns();

	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	ddb_stdout_pipe();
	if (argc == 0)
		status = expand_file(NULL, &stop);
	for (i = 0; i < argc && !stop; i++)
		if ((s = expand_file(argv[i], &stop)) > status)
			status = s;
	if (keysout != NULL && (s = write_keys()) > status)
		status = s;
	free(row.p);
	free(tmp.p);
	ddb_close_stdout();
	return status;
}
