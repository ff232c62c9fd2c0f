/* aws-xml.c: libFuzzer harness for aws/xml.c, the reader of S3's and STS's
 * XML answers: any bytes are read or refused, nothing read out of bounds,
 * nothing leaked; what is found is a NUL-free string */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "Code", "Message", "Key",
	    "UploadId", "ETag", "Upload", "Credentials", "SessionToken",
	    "Expiration", "IsTruncated" };
	struct xml_doc d;
	char *s, *v;
	size_t i, u;

	/* a NUL-terminated copy, as the HTTP layer hands answers over */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (xml_parse(&d, s, size) == 0) {
		if (xml_root(&d) == NULL)
			abort();
		for (i = 0; i < sizeof names / sizeof names[0]; i++) {
			const char *t = xml_text(&d, XML_DOC, names[i]);

			if (t != NULL && strlen(t) > size)
				abort();
		}
		for (u = xml_next(&d, XML_NONE, "Upload"); u != XML_NONE;
		    u = xml_next(&d, u, "Upload"))
			(void)xml_text(&d, u, "Key");
		xml_free(&d);
	}
	v = xml_value(s, "Code");
	free(v);
	free(s);
	return 0;
}
