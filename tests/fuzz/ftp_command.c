/* ftp_command: libFuzzer target for the FTP control-line parser and the
 * command table lookup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ftpd/pi/pi.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), name[PI_NAME_MAX + 1];
	const char *arg;

	memcpy(line, data, size);
	line[size] = '\0';
	if (pi_parse_command(line, size, name, &arg) == 0) {
		/* The name is bounded; the argument is a tail of the line. */
		if (strlen(name) > PI_NAME_MAX || strlen(arg) > size)
			abort();
		pi_known_command(name);
	}
	free(line);
	return 0;
}
