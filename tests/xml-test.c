/* xml-test: what aws/xml.c reads from an answer, for tests/s3-put.bats:
 * xml-test FILE NAME... prints NAME=TEXT for each NAME (the first such
 * element), PARENT/NAME for each PARENT in turn, "root" its root;
 * "NAME: none" if there is none; exit 1 if FILE is no XML */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"

int
main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct xml_doc d;
	FILE *fp;
	size_t n;
	int i;

	if (argc < 2 || (fp = fopen(argv[1], "rb")) == NULL)
		return 2;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	if (xml_parse(&d, buf, n) != 0) {
		puts("no XML");
		return 1;
	}
	for (i = 2; i < argc; i++) {
		char *slash = strchr(argv[i], '/');
		const char *t;

		if (strcmp(argv[i], "root") == 0) {
			printf("root=%s\n", xml_root(&d));
		} else if (slash) {
			size_t p;

			*slash = '\0';
			for (p = xml_next(&d, XML_NONE, argv[i]); p != XML_NONE;
			    p = xml_next(&d, p, argv[i])) {
				t = xml_text(&d, p, slash + 1);
				printf("%s/%s=%s\n", argv[i], slash + 1,
				    t ? t : "(none)");
			}
		} else if ((t = xml_text(&d, XML_DOC, argv[i])) != NULL) {
			printf("%s=%s\n", argv[i], t);
		} else {
			printf("%s: none\n", argv[i]);
		}
	}
	xml_free(&d);
	return 0;
}
