/* conf-t: the option table parser: defaults, files, -o overrides, errors
 * with FILE:LINE: key: reason, and all-or-nothing commits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/conf.h"
#include "tap.h"

static int b_flag;
static unsigned long u_num, o_mask;
static char *s_text, *s_addr;
static struct vector l_list;

static const struct conf_option table[] = {
    {"flag", CONF_BOOL, &b_flag, "NO", 0, 0, "a flag", NULL},
    {"num", CONF_UINT, &u_num, "21", 1, 65535, "a number", NULL},
    {"mask", CONF_OCTAL, &o_mask, "077", 0, 0777, "a mask", NULL},
    {"text", CONF_STRING, &s_text, "hello", 0, 0, "a string", NULL},
    {"addr", CONF_STRING, &s_addr, "", 0, 0, "an address", conf_check_address},
    {"rule", CONF_LIST, &l_list, "a;b", 0, 0, "a list", NULL},
    {NULL, 0, NULL, NULL, 0, 0, NULL, NULL},
};

static char path[] = "/tmp/conf-t.XXXXXX";

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static int
load(const char *text, const char *override, struct buffer *err)
{
	struct vector o = VECTOR_INIT;
	int n;

	buffer_clear(err);
	write_file(text);
	if (override != NULL)
		vector_add(&o, override);
	n = conf_load(table, path, 1, &o, err);
	vector_free(&o);
	buffer_cstr(err);
	return n;
}

int
main(void)
{
	struct buffer err = BUFFER_INIT;
	char want[256];
	int fd = mkstemp(path);

	close(fd);
	ok(load("", NULL, &err) == 0, "an empty file loads");
	ok(b_flag == 0 && u_num == 21 && o_mask == 077 && strcmp(s_text, "hello") == 0,
	   "defaults apply");
	ok(l_list.count == 2 && strcmp(l_list.strings[1], "b") == 0, "list default splits on ;");

	ok(load("# comment\n  flag = yes\nnum=2121\nmask=022\ntext=a b  c\n", NULL, &err) == 0,
	   "a good file loads");
	ok(b_flag == 1 && u_num == 2121 && o_mask == 022, "values are typed");
	is_string("a b  c", s_text, "string keeps inner spaces, trims the ends");

	ok(load("rule=x\nrule=y\nrule=z\n", NULL, &err) == 0 && l_list.count == 3,
	   "a repeatable key collects every line and replaces the default");

	ok(load("flag=yes\n", "flag=no", &err) == 0 && b_flag == 0, "-o overrides the file");

	ok(load("num=77\n", NULL, &err) == 0 && u_num == 77, "a good load sets num");
	ok(load("num=1\nbogus=1\n", NULL, &err) == 1, "unknown key is one error");
	snprintf(want, sizeof(want), "%s:2: bogus: unknown key\n", path);
	is_string(want, buffer_head(&err), "error names FILE:LINE: key: reason");
	ok(u_num == 77, "nothing is committed when a line is bad");

	ok(load("flag=maybe\n", NULL, &err) == 1, "bad boolean refused");
	snprintf(want, sizeof(want), "%s:1: flag: expected YES or NO (got \"maybe\")\n", path);
	is_string(want, buffer_head(&err), "bad boolean message");

	ok(load("\nnum=70000\n", NULL, &err) == 1, "number out of range refused");
	ok(strstr(buffer_head(&err), ":2: num: expected a whole number from 1 to 65535") != NULL,
	   "range message names the bounds");
	ok(load("num=-1\n", NULL, &err) == 1 && load("num=1x\n", NULL, &err) == 1 &&
	       load("num=\n", NULL, &err) == 1,
	   "signs, junk and empty numbers refused");
	ok(load("mask=8\n", NULL, &err) == 1, "non-octal digit refused");
	ok(load("addr=not-an-ip\n", NULL, &err) == 1 && load("addr=::1\n", NULL, &err) == 0,
	   "per-key check runs");
	ok(load("justakey\n", NULL, &err) == 1 &&
	       strstr(buffer_head(&err), ":1: justakey: expected key=value") != NULL,
	   "a line without = is an error");
	ok(load("", "nope=1", &err) == 1 &&
	       strcmp(buffer_head(&err), "-o:1: nope: unknown key\n") == 0,
	   "-o errors are located as -o:N");
	ok(load("a=1\nb=2\nc=3\n", NULL, &err) == 3, "every bad line is reported");

	{
		char big[6000];

		memset(big, 'x', sizeof(big));
		memcpy(big, "text=", 5);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		ok(load(big, NULL, &err) == 1 && strstr(buffer_head(&err), "line longer") != NULL,
		   "an overlong line is an error, not two lines");
	}
	{
		struct vector none = VECTOR_INIT;

		buffer_clear(&err);
		ok(conf_load(table, "/nonexistent/postel.conf", 0, &none, &err) == 0,
		   "a missing default file is not an error");
		ok(conf_load(table, "/nonexistent/postel.conf", 1, &none, &err) == 1,
		   "a missing -f file is an error");
	}
	ok(load("num=99\n", NULL, &err) == 0 && conf_is_set(table, "num") &&
	       !conf_is_set(table, "flag"),
	   "conf_is_set tells set keys from defaults");
	ok(load("\nnum=99\n", "flag=yes", &err) == 0 && conf_where(table, "text") == NULL &&
	       strstr(conf_where(table, "num"), ":2") != NULL &&
	       strcmp(conf_where(table, "flag"), "-o:1") == 0,
	   "conf_where names the line or -o that set a key, NULL for a default");
	{
		static const char *const allowed[] = {"num", "text", NULL};
		struct conf_saved *saved;
		FILE *f;

		ok(load("num=5\ntext=base\n", NULL, &err) == 0, "a base load");
		saved = conf_save(table);
		write_file("num=6\n");
		f = fopen(path, "r");
		buffer_clear(&err);
		ok(conf_overlay(table, allowed, f, "u", 0, &err) == 0 && u_num == 5,
		   "an overlay that only checks changes nothing");
		rewind(f);
		ok(conf_overlay(table, allowed, f, "u", 1, &err) == 0 && u_num == 6 &&
		       strcmp(s_text, "base") == 0,
		   "an overlay sets its keys and leaves the others as they were");
		fclose(f);
		write_file("text=x\nflag=yes\nnum=0\n");
		f = fopen(path, "r");
		ok(conf_overlay(table, allowed, f, "u", 1, &err) == 2 &&
		       strstr(buffer_cstr(&err), "u:2: flag: not allowed in this file") != NULL &&
		       strstr(buffer_cstr(&err), "u:3: num: expected") != NULL &&
		       strcmp(s_text, "base") == 0 && b_flag == 0,
		   "an overlay refuses keys not allowed and bad values, all or nothing");
		fclose(f);
		conf_restore(table, saved);
		ok(u_num == 5 && strcmp(s_text, "base") == 0,
		   "conf_restore puts saved values back");
		conf_saved_free(table, saved);
	}
	unlink(path);
	buffer_free(&err);
	return tap_done();
}
