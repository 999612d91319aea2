/* moderators: the moderators file's lookup (see moderators.h). */
#include "nntpd/moderators.h"

#include <string.h>

#include "common/core/wildmat.h"

/* Each line of text that counts, without its line end (CR LF or LF). */
void
moderators_each(const char *text, size_t len, void (*fn)(const char *line, size_t n, void *ctx),
                void *ctx)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && p[0] != '#')
			fn(p, n, ctx);
		p = nl ? nl + 1 : end;
	}
}

/* Expand the address template tpl for group into addr; -1 with the reason. */
static int
expand(const char *tpl, size_t n, const char *group, struct buffer *addr)
{
	int seen_s = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tpl[i];

		if (c == '%') {
			if (i + 1 < n && tpl[i + 1] == '%') {
				buffer_append(addr, "%", 1);
				i++;
			} else if (i + 1 < n && tpl[i + 1] == 's' && !seen_s) {
				seen_s = 1;
				for (const char *g = group; *g; g++)
					buffer_append(addr, *g == '.' ? "-" : g, 1);
				i++;
			} else {
				buffer_clear(addr);
				buffer_puts(addr, "a % other than one %s or %%");
				return -1;
			}
			continue;
		}
		/* SECURITY: the address is one argument of the mailer: no
		 * space or control byte that a shell or MTA could split on. */
		if (c <= ' ' || c == 0x7f) {
			buffer_clear(addr);
			buffer_puts(addr, "a space or control character");
			return -1;
		}
		buffer_append(addr, tpl + i, 1);
	}
	return 0;
}

int
moderators_address(const char *text, size_t len, const char *group, struct buffer *addr)
{
	const char *p = text, *end = text + len;

	buffer_clear(addr);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		const char *colon;
		char pat[512];

		if (n > 0 && p[n - 1] == '\r')
			n--;
		colon = n > 0 && p[0] != '#' ? memchr(p, ':', n) : NULL;
		if (colon != NULL && (size_t)(colon - p) < sizeof(pat)) {
			memcpy(pat, p, (size_t)(colon - p));
			pat[colon - p] = '\0';
			if (wildmat_match(group, pat)) {
				size_t an = n - (size_t)(colon + 1 - p);

				if (expand(colon + 1, an, group, addr) < 0)
					return -1;
				/* SECURITY: a leading '-' would be an option to
				 * sendmail, not an address. */
				if (addr->len == 0 || addr->len > MODERATORS_MAX_ADDRESS ||
				    buffer_head(addr)[0] == '-') {
					buffer_clear(addr);
					buffer_puts(addr, "an empty, overlong or '-' address");
					return -1;
				}
				buffer_cstr(addr);
				return 1;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}
