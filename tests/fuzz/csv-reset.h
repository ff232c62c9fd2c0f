/*
 * csv-reset.h: for a harness that compiles csv-emit.c in (csv-emit's,
 * parquet-emit's): csv_emit_reset() puts back what a run of its main
 * changed, since it runs once per process.  Included after csv-emit.c.
 */
static void
csv_emit_reset(void)
{
	size_t i;

	dflag = ',';
	Nflag = "";
	Hflag = zflag = 0;
	cflag = lflag = tflag = oflag = xarg = NULL;
	xflag = X_UNSET;
	gname = "extra";
	Eflag = "EventType";
	Cflag = "created_at";
	nlist = 0;
	free(others.p);
	memset(&others, 0, sizeof others);
	memset(special, 0, sizeof special);
	for (i = 0; i < nm.n; i++)
		free(nm.name[i]);
	free(nm.name);
	free(nm.len);
	free(nm.hash);
	free(nm.count);
	free(nm.tab);
	memset(&nm, 0, sizeof nm);
	nfixed = gid = norder = nslots = nafter = 0;
	free(order);
	free(slotoff);
	free(slotlen);
	free(slotgen);
	free(nullq);
	free(rowseen);
	free(after);
	order = NULL;
	slotoff = slotlen = NULL;
	slotgen = NULL;
	nullq = NULL;
	rowseen = NULL;
	after = NULL;
	nrowseen = 0;
	rowgen = 0;
	spool_close(&spool);
	free(runs);
	runs = NULL;
	nruns = runcap = 0;
	nrows = nfailed = nfailtold = 0;
	bad = 0;
	optind = 0;
}
