/* valgrind-wrap.c: stands in for one tool and runs it under valgrind memcheck (make valgrind) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* TOOL (the real binary), LOG (a valgrind --log-file) and SUPP (its
   suppressions, tests/valgrind.supp) come from cc -D */

/* the name of the process that started us */
static void
parent_name(char *buf, size_t n)
{
	char path[64];
	FILE *fp;

	buf[0] = '\0';
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)getppid());
	if ((fp = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, (int)n, fp) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(fp);
}

int
main(int argc, char *argv[])
{
	/*
	 * --read-inline-info=no: each start spends less reading debug info
	 * (the suite starts the tools hundreds of times); what is checked is
	 * the same, a report just names the function an inlined one sits in.
	 */
	static char *opts[] = {
		"valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
		"--show-leak-kinds=definite,indirect,possible",
		"--errors-for-leak-kinds=definite,indirect,possible",
		"--read-inline-info=no", "--suppressions=" SUPP,
		"--log-file=" LOG, TOOL
	};
	const size_t nopts = sizeof opts / sizeof opts[0];
	const char *tmp = getenv("TMPDIR");
	char **av, comm[64];
	struct stat st;
	int i;

	/*
	 * A test that measures peak RSS with /usr/bin/time, or that gives the
	 * tool a TMPDIR it cannot write (valgrind needs one), gets the tool bare.
	 */
	parent_name(comm, sizeof comm);
	argv[0] = TOOL;
	if (strcmp(comm, "time") == 0 || (tmp != NULL && *tmp != '\0' &&
	    (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    access(tmp, W_OK) != 0))) {
		execv(TOOL, argv);
		perror(TOOL);
		return 126;
	}
	if ((av = calloc(nopts + (size_t)argc + 1, sizeof *av)) == NULL)
		return 126;
	memcpy(av, opts, sizeof opts);
	for (i = 1; i < argc; i++)
		av[nopts + (size_t)i - 1] = argv[i];
	execv("/usr/bin/valgrind", av);
	perror("/usr/bin/valgrind");
	return 126;
}
