/* vsftpd-t: the vsftpd.conf table against ftpd's own (every key it maps to
 * exists with the same kind), and what ftpd -V reads: vsftpd's defaults,
 * its renamed keys, listen/listen_ipv6, and the lines it leaves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/conf.h"
#include "ftpd/options.h"
#include "ftpd/vsftpd.h"
#include "tap.h"

static char path[] = "/tmp/vsftpd-t.XXXXXX";

static const struct conf_option *
ftpd_key(const char *name)
{
	for (const struct conf_option *o = ftpd_options_table; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static int
kind_is(enum vsftpd_kind k, enum conf_type t)
{
	return (k == VSFTPD_BOOL && t == CONF_BOOL) || (k == VSFTPD_NUM && t == CONF_UINT) ||
	       (k == VSFTPD_OCTAL && t == CONF_OCTAL) || (k == VSFTPD_STR && t == CONF_STRING);
}

/* One pass over the table: how many rows break each rule. */
static void
check_table(void)
{
	int badkey = 0, badwhy = 0, dup = 0, rows = 0;

	for (const struct vsftpd_option *v = vsftpd_options; v->name != NULL; v++) {
		const struct conf_option *o;

		rows++;
		if (v->what == VSFTPD_SAME || v->what == VSFTPD_AS) {
			o = v->key != NULL ? ftpd_key(v->key) : NULL;
			if (o == NULL || !kind_is(v->kind, o->type)) {
				printf("# %s: maps to no ftpd key of its kind\n", v->name);
				badkey++;
			}
		} else if (v->what != VSFTPD_LISTEN &&
		           (v->why == NULL || (v->what == VSFTPD_REFUSE && v->ok == NULL))) {
			printf("# %s: says no why (or no honoured value)\n", v->name);
			badwhy++;
		}
		if (vsftpd_find(v->name) != v)
			dup++;
	}
	ok(rows >= 131, "the table has every option of Debian's vsftpd 3.0.3 (%d rows)", rows);
	is_int(0, badkey, "every implemented row names an ftpd key of the same kind");
	is_int(0, badwhy, "every other row says why (and a refused row what it honours)");
	is_int(0, dup, "no option has two rows");
}

static int
read_vs(const char *text, const char *override, struct vsftpd_load *l, struct buffer *err)
{
	struct vector o = VECTOR_INIT;
	FILE *f = fopen(path, "w");
	int n;

	fputs(text, f);
	fclose(f);
	if (override != NULL)
		vector_add(&o, override);
	buffer_clear(err);
	n = vsftpd_read(path, &o, 0, l, err);
	vector_free(&o);
	buffer_cstr(err);
	buffer_cstr(&l->notes);
	return n;
}

int
main(void)
{
	struct buffer err = BUFFER_INIT;
	struct vsftpd_load l;
	char want[1024];
	int fd = mkstemp(path);

	close(fd);
	check_table();

	is_int(0, read_vs("listen=YES\n", NULL, &l, &err), "listen=YES alone loads");
	is_int(0, opt.chroot_local_user, "chroot_local_user is vsftpd's NO");
	is_string("vsftpd", opt.pam_service_name, "pam_service_name is vsftpd's");
	is_int(077, (long long)opt.local_umask, "local_umask is vsftpd's 077");
	is_int(0, (long long)opt.max_clients, "max_clients is vsftpd's 0");
	is_int(0, opt.xferlog_enable, "xferlog_enable is vsftpd's NO");
	is_int(0, conf_is_set(ftpd_options_table, "pam_service_name"),
	       "vsftpd's defaults count as defaults, not as set");
	is_string("/etc/vsftpd.user_list", conf_default(ftpd_options_table, "userlist_file"),
	          "conf_default is vsftpd's userlist_file");
	is_string("", opt.listen_address6, "listen=YES: no IPv6 socket");
	is_string("/usr/share/ssl/certs/vsftpd.pem", opt.ssl_key_file,
	          "no rsa_private_key_file: the key is in rsa_cert_file");
	is_int(0, (long long)l.nnotes, "no notices for a file of implemented keys");
	vsftpd_load_free(&l);

	is_int(0, read_vs("listen_ipv6=YES\nrsa_cert_file=/c.pem\n", NULL, &l, &err),
	       "listen_ipv6=YES loads");
	is_string("::", opt.listen_address6, "listen_ipv6=YES: :: by default");
	is_string("0.0.0.0", opt.listen_address, "and 0.0.0.0 beside it (ours are IPv6-only)");
	is_string("/c.pem", opt.ssl_cert_file, "rsa_cert_file is ssl_cert_file");
	is_string("/c.pem", opt.ssl_key_file, "and the key file too");
	vsftpd_load_free(&l);

	is_int(0, read_vs("listen_ipv6=YES\nlisten_address6=::1\n", NULL, &l, &err),
	       "listen_ipv6 on one address");
	is_string("", opt.listen_address, "then no IPv4 socket");
	vsftpd_load_free(&l);

	is_int(0, read_vs("listen=YES\nseccomp_sandbox=NO\n", "tcp_wrappers=NO", &l, &err),
	       "notices are not errors");
	snprintf(want, sizeof(want),
	         "%s:2: seccomp_sandbox: notice: accepted, not needed: %s\n"
	         "-o:1: tcp_wrappers: notice: not supported: %s\n",
	         path, vsftpd_find("seccomp_sandbox")->why, vsftpd_find("tcp_wrappers")->why);
	is_string(want, buffer_cstr(&l.notes), "one notice line each, file or -o");
	vsftpd_load_free(&l);

	is_int(1, read_vs("listen=YES\nimplicit_ssl=YES\n", NULL, &l, &err),
	       "implicit_ssl=YES is vsftpd's meaning, not ftpd's");
	snprintf(want, sizeof(want), "%s:2: implicit_ssl: cannot run as is: ", path);
	ok(strncmp(buffer_cstr(&err), want, strlen(want)) == 0, "and names file, line, key: %s",
	   buffer_cstr(&err));
	vsftpd_load_free(&l);

	is_int(1, read_vs("listen=YES\nupload_atomic=maybe\n", NULL, &l, &err),
	       "ftpd's own keys are read too, and checked");
	vsftpd_load_free(&l);
	is_int(0, read_vs("listen=YES\nupload_atomic=NO\n", NULL, &l, &err), "upload_atomic=NO");
	is_int(0, opt.upload_atomic, "an ftpd key in a vsftpd.conf applies");
	vsftpd_load_free(&l);

	/* A plain ftpd.conf afterwards has ftpd's defaults again. */
	is_int(0, conf_load(ftpd_options_table, NULL, 0, NULL, &err), "ftpd.conf defaults load");
	is_string("ftpd", opt.pam_service_name, "pam_service_name is ftpd's again");
	is_int(1, opt.chroot_local_user, "chroot_local_user is ftpd's YES again");

	unlink(path);
	buffer_free(&err);
	return tap_done();
}
