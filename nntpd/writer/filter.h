/* filter: the writer's end of the article filter (filter= in nntpd.conf):
 * the line protocol it speaks with the filter process the listener runs. */
#ifndef NNTPD_WRITER_FILTER_H
#define NNTPD_WRITER_FILTER_H

#include <stddef.h>

#include "common/core/buffer.h"

/* The protocol (nntpd.conf(5), FILTER PROTOCOL). The filter first prints
 *   postel-filter 1 headers      or      postel-filter 1 bodies
 * then, per article, reads
 *   article KIND MSGID HOST HEADERBYTES BODYBYTES\n
 * and HEADERBYTES octets (the header lines and the empty line ending
 * them), then BODYBYTES octets of body when it asked for bodies, and
 * answers one line: "accept" or "reject REASON". */
#define FILTER_GREETING "postel-filter 1 "
#define FILTER_MAX_LINE 512

enum filter_verdict {
	FILTER_ACCEPT, /* or no filter, or filter_failure=open while it is down */
	FILTER_REJECT, /* the filter's reason in why */
	FILTER_DOWN,   /* filter_failure=closed and no answer: try later */
};

/* filter_timeout (seconds) and filter_failure=closed, at start and reload. */
void filter_policy(unsigned long timeout, int closed);
/* Whether a filter is configured at all (before the first one arrives,
 * articles already meet filter_failure). */
void filter_expect(int configured);
/* How the writer asks the listener to kill filter gen (hung or broken). */
void filter_set_killer(void (*kill_request)(unsigned long gen));
/* Filter gen from the listener: to writes its stdin, from reads its
 * stdout (both -1: no filter configured now). Reads its greeting, within
 * filter_timeout. The descriptors are the filter module's from here on. */
void filter_adopt(unsigned long gen, int to, int from);
/* Ask about one article: kind "post", "ihave" or "takethis"; host NULL
 * when unknown; text holds hlen header octets, then blen body octets. */
enum filter_verdict filter_check(const char *kind, const char *msgid, const char *host,
                                 const char *text, size_t hlen, size_t blen, struct buffer *why);

#endif
