/* ddb-expand: flattened stream records in, one flat JSON object per CSV row out */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"

/* the record fields -l can add as columns */
enum { LIN_EVENTID, LIN_SEQ, LIN_TABLE, NFIELD };
static const char *const field_name[NFIELD] = {
	"eventID", "SequenceNumber", "tableName"
};

static int iflag;		/* -i: MODIFY gives INSERT before REMOVE */
static int sflag;		/* -s: stop at the first bad record */
static const char *ecol = "EventType";	/* -E */
static const char *ccol = "created_at";	/* -C */
static int lfield[NFIELD];	/* -l: fields, in column order */
static const char *lcol[NFIELD];	/* -l: their column names */
static int nlin;

static json_object *ev_insert, *ev_remove;
static json_object *row;	/* the row being written, see write_row() */

/* where the record being expanded came from, for messages */
static const char *cur_name;
static long cur_line;
static json_object *cur_rec;

static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: ddb-expand [-is] [-C name] [-E name] "
	    "[-l field[=column],...] [file ...]\n");
	if (fp == stdout)
		fprintf(fp,
		    "  -i, --insert-first        MODIFY: the INSERT row before "
		    "the REMOVE row\n"
		    "  -E, --event-type-column NAME\n"
		    "                            name of the EventType column\n"
		    "  -C, --created-at-column NAME\n"
		    "                            name of the created_at column\n"
		    "  -l, --lineage LIST        add columns for eventID, "
		    "SequenceNumber, tableName\n"
		    "                            (field=column renames one)\n"
		    "  -s, --stop                stop at the first bad record\n"
		    "  -h, --help                this help\n"
		    "  -V, --version             print the version\n");
	if (fp == stdout)
		ddb_close_stdout();
	exit(status);
}

static _Noreturn void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ddb-expand: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr, DDB_EXIT_USAGE);
}

/* JSON text of a string, for names in messages */
static void
quote(char *buf, size_t size, const char *s)
{
	json_object *o = json_object_new_string(s);

	snprintf(buf, size, "%s", o ? json_object_to_json_string_ext(o,
	    DDB_JSON_FLAGS) : "?");
	json_object_put(o);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* prog: file:line: eventID X: what; returns -1 */
static int
bad(const char *fmt, ...)
{
	char msg[512];
	json_object *id;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (json_object_is_type(cur_rec, json_type_object) &&
	    json_object_object_get_ex(cur_rec, "eventID", &id)) {
		const char *s = json_object_get_string(id);
		size_t i, n = (size_t)json_object_get_string_len(id);

		/* odd bytes are shown as JSON, never raw */
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				break;
		if (!json_object_is_type(id, json_type_string) || i < n)
			s = json_object_to_json_string_ext(id, DDB_JSON_FLAGS);
		ddb_errat(cur_name, cur_line, "eventID %s: %s", s, msg);
	} else
		ddb_errat(cur_name, cur_line, "%s", msg);
	return -1;
}

/* an item attribute must not take the name of a column we add */
static int
check_names(json_object *img, const char *where)
{
	char q[256];
	int k;

	json_object_object_foreach(img, key, val) {
		(void)val;
		if (strcmp(key, ecol) == 0 || strcmp(key, ccol) == 0) {
			quote(q, sizeof q, key);
			return bad("%s: attribute %s is named like an added "
			    "column (rename the column with %s)", where, q,
			    strcmp(key, ecol) == 0 ? "-E" : "-C");
		}
		for (k = 0; k < nlin; k++)
			if (strcmp(key, lcol[k]) == 0) {
				quote(q, sizeof q, key);
				return bad("%s: attribute %s is named like an "
				    "added column (rename the column with "
				    "-l %s=NAME)", where, q,
				    field_name[lfield[k]]);
			}
	}
	return 0;
}

/* is o the JSON string s, exactly */
static int
str_is(json_object *o, const char *s)
{
	size_t n = strlen(s);

	return json_object_is_type(o, json_type_string) &&
	    (size_t)json_object_get_string_len(o) == n &&
	    memcmp(json_object_get_string(o), s, n) == 0;
}

/*
 * One side of a record: the image, or Keys where the stream view leaves the
 * image out.  An image the view promises but the record lacks is an error,
 * not a quiet keys-only row.
 */
static int
pick_side(json_object *ddb, int old, json_object **out)
{
	const char *image = old ? "OldImage" : "NewImage";
	const char *own = old ? "OLD_IMAGE" : "NEW_IMAGE";
	json_object *view;

	if (json_object_object_get_ex(ddb, image, out)) {
		if (!json_object_is_type(*out, json_type_object))
			return bad("dynamodb.%s is not an object", image);
		return check_names(*out, old ? "dynamodb.OldImage" :
		    "dynamodb.NewImage");
	}
	if (json_object_object_get_ex(ddb, "StreamViewType", &view) &&
	    (str_is(view, own) || str_is(view, "NEW_AND_OLD_IMAGES")))
		return bad("dynamodb.%s missing, though StreamViewType is %s",
		    image, json_object_get_string(view));
	if (!json_object_object_get_ex(ddb, "Keys", out))
		return bad("dynamodb.%s and dynamodb.Keys both missing", image);
	if (!json_object_is_type(*out, json_type_object))
		return bad("dynamodb.Keys is not an object");
	return check_names(*out, "dynamodb.Keys");
}

/*
 * One row, as a JSON object that borrows the record's keys and values.  The
 * object is kept from row to row: its hash table and its text buffer are
 * allocated once, not per row.
 */
static void
write_row(json_object *img, json_object *ev, json_object *created,
    json_object **lval)
{
	const unsigned flags = JSON_C_OBJECT_ADD_KEY_IS_NEW |
	    JSON_C_OBJECT_KEY_IS_CONSTANT;
	struct lh_table *t;
	struct lh_entry *ent, *next;
	const char *s;
	size_t n;
	int k, e = 0;

	json_object_object_foreach(img, key, val)
		e |= json_object_object_add_ex(row, key, json_object_get(val),
		    flags);
	for (k = 0; k < nlin; k++)
		e |= json_object_object_add_ex(row, lcol[k],
		    json_object_get(lval[k]), flags);
	e |= json_object_object_add_ex(row, ecol, json_object_get(ev), flags);
	e |= json_object_object_add_ex(row, ccol, json_object_get(created),
	    flags);
	if (e || (s = json_object_to_json_string_length(row, DDB_JSON_FLAGS,
	    &n)) == NULL)
		errx(DDB_EXIT_IO, "out of memory");
	if (ddb_fwrite_all(stdout, s, n) < 0 || putchar('\n') == EOF)
		err(DDB_EXIT_IO, "stdout");
	/* empty it: gives the values back, the keys were never copied */
	t = json_object_get_object(row);
	lh_foreach_safe(t, ent, next)
		lh_table_delete_entry(t, ent);
}

/* check a whole record, then write its rows; -1 if it is bad */
static int
expand(json_object *rec)
{
	json_object *name, *ddb, *created, *lval[NFIELD], *img[2], *ev[2];
	int k, nrows;

	if (!json_object_is_type(rec, json_type_object))
		return bad("not an object");
	if (!json_object_object_get_ex(rec, "eventName", &name))
		return bad("missing eventName%s",
		    json_object_object_get_ex(rec, "Records", NULL) ?
		    " (an event, not a record: run ddb-flatten first)" : "");
	if (!json_object_is_type(name, json_type_string))
		return bad("eventName is not a string");
	if (!str_is(name, "INSERT") && !str_is(name, "MODIFY") &&
	    !str_is(name, "REMOVE"))
		return bad("unknown eventName %s",
		    json_object_to_json_string_ext(name, DDB_JSON_FLAGS));
	if (!json_object_object_get_ex(rec, "dynamodb", &ddb))
		return bad("missing dynamodb");
	if (!json_object_is_type(ddb, json_type_object))
		return bad("dynamodb is not an object");
	if (!json_object_object_get_ex(ddb, "ApproximateCreationDateTime",
	    &created))
		return bad("missing dynamodb.ApproximateCreationDateTime");
	if (!json_object_is_type(created, json_type_int) &&
	    !json_object_is_type(created, json_type_double))
		return bad("dynamodb.ApproximateCreationDateTime is not a "
		    "number");
	if (str_is(name, "INSERT")) {
		nrows = 1;
		ev[0] = ev_insert;
		if (pick_side(ddb, 0, &img[0]) < 0)
			return -1;
	} else if (str_is(name, "REMOVE")) {
		nrows = 1;
		ev[0] = ev_remove;
		if (pick_side(ddb, 1, &img[0]) < 0)
			return -1;
	} else {
		int o = iflag, n = !iflag;	/* rows of the old, new image */

		nrows = 2;
		ev[o] = ev_remove;
		ev[n] = ev_insert;
		if (pick_side(ddb, 1, &img[o]) < 0 ||
		    pick_side(ddb, 0, &img[n]) < 0)
			return -1;
	}
	for (k = 0; k < nlin; k++) {
		const char *f = field_name[lfield[k]];
		json_object *from = lfield[k] == LIN_SEQ ? ddb : rec;
		const char *pre = lfield[k] == LIN_SEQ ? "dynamodb." : "";

		if (!json_object_object_get_ex(from, f, &lval[k]))
			return bad("missing %s%s (asked for by -l)", pre, f);
		if (!json_object_is_type(lval[k], json_type_string))
			return bad("%s%s is not a string", pre, f);
	}
	for (k = 0; k < nrows; k++)
		write_row(img[k], ev[k], created, lval);
	return 0;
}

/* -l eventID,SequenceNumber=seq,...: the columns, in the order given */
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
			usage_error("-l: unknown field \"%s\" (eventID, "
			    "SequenceNumber, tableName)", item);
		for (k = 0; k < nlin; k++)
			if (lfield[k] == f)
				usage_error("-l: %s given twice", item);
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
			usage_error("an added column needs a name");
		for (j = 0; j < i; j++)
			if (strcmp(all[i], all[j]) == 0)
				usage_error("two added columns named \"%s\"",
				    all[i]);
	}
}

/* 0 ok, 1 bad data seen, 3 unreadable; stops early with -s */
static int
expand_file(const char *path, int *stop)
{
	struct ddb_reader *r = ddb_reader_open(path, DDB_READ_DEPTH, 0);
	json_object *o;
	int n, status = DDB_EXIT_OK;

	if (r == NULL) {
		ddb_errat(path, 0, "%s", strerror(errno));
		*stop = sflag;
		return DDB_EXIT_IO;
	}
	cur_name = ddb_reader_name(r);
	while (!*stop && (n = ddb_reader_next(r, &o)) != 0) {
		if (n == -2) {
			status = ddb_reader_ioerror(r) ? DDB_EXIT_IO :
			    DDB_EXIT_DATA;
			*stop = sflag;
			break;
		}
		if (n == 1) {
			cur_line = ddb_reader_line(r);
			cur_rec = o;
			n = expand(o);
			cur_rec = NULL;
			json_object_put(o);
		}
		if (n < 0) {
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
		{ "lineage", required_argument, NULL, 'l' },
		{ "stop", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, i, s, status = DDB_EXIT_OK, stop = 0;

	while ((c = getopt_long(argc, argv, "iE:C:l:shV", longopts, NULL)) !=
	    -1)
		switch (c) {
		case 'i': iflag = 1; break;
		case 'E': ecol = optarg; break;
		case 'C': ccol = optarg; break;
		case 'l': parse_lineage(optarg); break;
		case 's': sflag = 1; break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'V': ddb_print_version(); break;
		default: usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	check_columns();

	ev_insert = json_object_new_string("INSERT");
	ev_remove = json_object_new_string("REMOVE");
	row = json_object_new_object();
	if (ev_insert == NULL || ev_remove == NULL || row == NULL)
		errx(DDB_EXIT_IO, "out of memory");
	if (argc == 0)
		status = expand_file(NULL, &stop);
	for (i = 0; i < argc && !stop; i++)
		if ((s = expand_file(argv[i], &stop)) > status)
			status = s;
	json_object_put(ev_insert);
	json_object_put(ev_remove);
	json_object_put(row);
	ddb_close_stdout();
	return status;
}
