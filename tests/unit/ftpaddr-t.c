/* ftpaddr-t: PORT/EPRT/EPSV parsing, PASV/EPSV replies, host comparison,
 * MDTM/MFMT times. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/core/buffer.h"
#include "ftpd/ftpaddr.h"
#include "tap.h"

static void
host_is(const struct sockaddr_storage *ss, const char *want, const char *why)
{
	struct buffer b = BUFFER_INIT;

	ftpaddr_format_host(&b, ss);
	is_string(want, buffer_cstr(&b), "%s", why);
	buffer_free(&b);
}

static void
test_port(void)
{
	static const char *bad[] = {
	    "1,2,3,4,5",     "1,2,3,4,5,6,7", "256,0,0,1,1,1", "1,2,3,4,0,0",
	    "1,2,3,4,5,256", "1, 2,3,4,5,6",  "1,2,3,4,5,6 ",  "1,2,3,,5,6",
	    "-1,2,3,4,5,6",  "+1,2,3,4,5,6",  "1,2,3,4,5,6,",  "",
	    "a,b,c,d,e,f",   "1.2.3.4,5,6",   "0x1,2,3,4,5,6", "99999999999999999999,2,3,4,5,6",
	};
	struct sockaddr_storage ss;
	size_t i;

	is_int(FTPADDR_OK, ftpaddr_parse_port("192,168,1,20,4,1", &ss), "PORT parses");
	ok(ss.ss_family == AF_INET && ftpaddr_port(&ss) == 1025, "... port 4*256+1");
	host_is(&ss, "192.168.1.20", "... host");
	is_int(FTPADDR_OK, ftpaddr_parse_port("0,0,0,0,255,255", &ss), "PORT 0.0.0.0:65535");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(FTPADDR_SYNTAX, ftpaddr_parse_port(bad[i], &ss), "PORT \"%s\" refused",
		       bad[i]);
}

static void
test_eprt(void)
{
	static const char *bad[] = {
	    "|1|1.2.3.4|0|",
	    "|1|1.2.3.4|65536|",
	    "|1|1.2.3.4|21",
	    "1|1.2.3.4|21|",
	    "|1|1.2.3|21|",
	    "|1|::1|21|",
	    "|2|1.2.3.4|21|",
	    "|1|1.2.3.4|21|x",
	    "|1|1.2.3.4||",
	    "||1.2.3.4|21|",
	    " 1 1.2.3.4 21 ",
	    "\x7f"
	    "1\x7f"
	    "1.2.3.4\x7f"
	    "21\x7f",
	    "|1| 1.2.3.4|21|",
	    "|1|1.2.3.4|21||",
	    "|",
	    "",
	    "|2|fe80::1%eth0|21|",
	};
	struct sockaddr_storage ss;
	size_t i;

	is_int(FTPADDR_OK, ftpaddr_parse_eprt("|1|132.235.1.2|6275|", &ss), "EPRT v4");
	ok(ss.ss_family == AF_INET && ftpaddr_port(&ss) == 6275, "... family and port");
	host_is(&ss, "132.235.1.2", "... host");
	is_int(FTPADDR_OK, ftpaddr_parse_eprt("|2|1080::8:800:200C:417A|5282|", &ss), "EPRT v6");
	ok(ss.ss_family == AF_INET6 && ftpaddr_port(&ss) == 5282, "... family and port");
	host_is(&ss, "1080::8:800:200c:417a", "... host");
	is_int(FTPADDR_OK, ftpaddr_parse_eprt("!2!::1!21!", &ss), "EPRT with ! delimiter");
	is_int(FTPADDR_OK, ftpaddr_parse_eprt("~1~10.0.0.1~65535~", &ss), "EPRT with ~ delimiter");
	is_int(FTPADDR_FAMILY, ftpaddr_parse_eprt("|3|1.2.3.4|21|", &ss), "EPRT af 3: 522");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(FTPADDR_SYNTAX, ftpaddr_parse_eprt(bad[i], &ss), "EPRT \"%s\" refused",
		       bad[i]);
}

static void
test_epsv(void)
{
	int fam, all;

	ok(ftpaddr_parse_epsv(NULL, &fam, &all) == 0 && fam == 0 && !all, "EPSV");
	ok(ftpaddr_parse_epsv("1", &fam, &all) == 0 && fam == AF_INET, "EPSV 1");
	ok(ftpaddr_parse_epsv("2", &fam, &all) == 0 && fam == AF_INET6, "EPSV 2");
	ok(ftpaddr_parse_epsv("all", &fam, &all) == 0 && all, "EPSV ALL");
	is_int(FTPADDR_FAMILY, ftpaddr_parse_epsv("3", &fam, &all), "EPSV 3: 522");
	is_int(FTPADDR_SYNTAX, ftpaddr_parse_epsv("x", &fam, &all), "EPSV x: 501");
}

static void
v6(struct sockaddr_storage *ss, const char *text, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	inet_pton(AF_INET6, text, &sin6->sin6_addr);
}

static void
v4(struct sockaddr_storage *ss, const char *text, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, text, &sin->sin_addr);
}

static void
test_replies_and_hosts(void)
{
	struct sockaddr_storage a, b;
	struct buffer r = BUFFER_INIT;

	v4(&a, "10.1.2.3", 0);
	is_int(0, ftpaddr_format_pasv(&r, &a, 50001), "PASV reply formats");
	is_string("227 Entering Passive Mode (10,1,2,3,195,81).", buffer_cstr(&r), "... text");
	buffer_clear(&r);
	v6(&a, "::ffff:192.0.2.7", 0);
	is_int(0, ftpaddr_format_pasv(&r, &a, 256), "PASV with a v4-mapped address");
	is_string("227 Entering Passive Mode (192,0,2,7,1,0).", buffer_cstr(&r), "... text");
	buffer_clear(&r);
	v6(&a, "2001:db8::1", 0);
	is_int(FTPADDR_FAMILY, ftpaddr_format_pasv(&r, &a, 256), "PASV refuses pure IPv6");
	ftpaddr_format_epsv(&r, 65535);
	is_string("229 Entering Extended Passive Mode (|||65535|)", buffer_cstr(&r), "EPSV reply");
	buffer_free(&r);

	v6(&a, "::ffff:192.0.2.7", 1234);
	ftpaddr_unmap(&a);
	ok(a.ss_family == AF_INET && ftpaddr_port(&a) == 1234, "unmap gives AF_INET, port kept");
	host_is(&a, "192.0.2.7", "... host");
	v6(&a, "::ffff:192.0.2.7", 20);
	v4(&b, "192.0.2.7", 21);
	ok(ftpaddr_same_host(&a, &b), "mapped v6 and v4 same host, ports ignored");
	v4(&b, "192.0.2.8", 20);
	ok(!ftpaddr_same_host(&a, &b), "different v4 hosts");
	v6(&a, "2001:db8::1", 1);
	v6(&b, "2001:db8::1", 2);
	ok(ftpaddr_same_host(&a, &b), "same v6 host");
	v6(&b, "2001:db8::2", 1);
	ok(!ftpaddr_same_host(&a, &b), "different v6 hosts");
	v4(&b, "0.0.0.1", 1);
	v6(&a, "::1", 1);
	ok(!ftpaddr_same_host(&a, &b), "::1 is not 0.0.0.1");
	v6(&a, "::127.0.0.1", 1);
	v4(&b, "127.0.0.1", 1);
	ok(!ftpaddr_same_host(&a, &b), "v4-compatible (not mapped) is not v4");
}

static void
time_is(const char *s, long long want)
{
	time_t t = 0;

	if (want < 0)
		is_int(-1, ftpaddr_parse_time(s, &t), "time \"%s\" refused", s);
	else
		ok(ftpaddr_parse_time(s, &t) == 0 && (long long)t == want, "time \"%s\" = %lld", s,
		   want);
}

static void
test_time(void)
{
	struct buffer b = BUFFER_INIT;

	time_is("19700101000000", 0);
	time_is("20010909014640", 1000000000);
	time_is("20010909014640.123", 1000000000);
	time_is("20000229120000", 951825600);
	time_is("20010229120000", -1);
	time_is("19000229120000", -1);
	time_is("2001090901464", -1);
	time_is("200109090146400", -1);
	time_is("20010909014640.", -1);
	time_is("20011309014640", -1);
	time_is("20010009014640", -1);
	time_is("20010900014640", -1);
	time_is("20010931014640", -1);
	time_is("20010909244640", -1);
	time_is("20010909016040", -1);
	time_is("20010909014661", -1);
	time_is(" 20010909014640", -1);
	time_is("+0010909014640", -1);
	time_is("20010909014640Z", -1);
	ftpaddr_format_time(&b, 1000000000);
	is_string("20010909014640", buffer_cstr(&b), "format time");
	buffer_clear(&b);
	ftpaddr_format_time(&b, 0);
	is_string("19700101000000", buffer_cstr(&b), "format epoch");
	buffer_free(&b);
}

int
main(void)
{
	test_port();
	test_eprt();
	test_epsv();
	test_replies_and_hosts();
	test_time();
	return tap_done();
}
