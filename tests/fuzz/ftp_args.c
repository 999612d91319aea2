/* ftp_args: libFuzzer target for the parsers of client arguments: PORT,
 * EPRT, EPSV, MDTM/MFMT times, paths, LIST options, globs, OPTS MLST. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ftpd/dtp/listing.h"
#include "ftpd/ftpaddr.h"
#include "ftpd/pi/fs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct sockaddr_storage ss;
	struct buffer b = BUFFER_INIT;
	unsigned long budget = 100000;
	const char *path;
	int family, all, flags;
	time_t t;

	memcpy(s, data, size);
	s[size] = '\0';
	ftpaddr_parse_port(s, &ss);
	ftpaddr_parse_eprt(s, &ss);
	ftpaddr_parse_epsv(s, &family, &all);
	if (ftpaddr_parse_time(s, &t) == 0)
		ftpaddr_format_time(&b, t);
	if (fs_resolve(NULL, "/a/b", s, &b) == 0) {
		const char *v = buffer_cstr(&b);

		/* A resolved path is absolute and never climbs out. */
		if (v[0] != '/' || strstr(v, "/../") != NULL || strstr(v, "//") != NULL)
			abort();
	}
	listing_parse_args(s, &flags, &path);
	listing_mlst_opts(s, &b);
	{
		/* Pattern and name from the two halves of the input. */
		size_t half = size / 2;
		char *pat = strndup(s, half), *name = strdup(s + half);

		if (listing_glob_match(pat, name, &budget) < -1)
			abort();
		free(pat);
		free(name);
	}
	buffer_free(&b);
	free(s);
	return 0;
}
