/* wildmat-t: RFC 3977 section 4 wildmat, single patterns and lists. */
#include <string.h>

#include "common/core/wildmat.h"
#include "tap.h"

static void
m(const char *text, const char *pat, int want)
{
	ok(wildmat_match(text, pat) == want, "\"%s\" %s \"%s\"", text,
	   want ? "matches" : "does not match", pat);
}

static void
l(const char *text, const char *list, int want)
{
	ok(wildmat_match_list(text, list) == want, "\"%s\" %s list \"%s\"", text,
	   want ? "matches" : "does not match", list);
}

static void
pz(const char *text, const char *list, int want)
{
	ok(wildmat_poison(text, list) == want, "\"%s\" against \"%s\" gives %d", text, list,
	   want);
}

int
main(void)
{
	char big[4096], pat[256];

	/* literals and wildcards */
	m("comp.lang.c", "comp.lang.c", 1);
	m("comp.lang.c", "comp.lang.d", 0);
	m("comp.lang.c", "comp.*", 1);
	m("comp.lang.c", "*.c", 1);
	m("comp.lang.c", "*", 1);
	m("", "*", 1);
	m("", "", 1);
	m("a", "", 0);
	m("comp.lang.c", "comp.lang.?", 1);
	m("comp.lang.cc", "comp.lang.?", 0);
	m("abc", "a*b*c", 1);
	m("abcbc", "a*bc", 1);
	m("abcbd", "a*bc", 0);
	m("a", "a**", 1);
	m("ab", "?", 0);
	m("", "?", 0);
	/* classes */
	m("a1", "a[0-9]", 1);
	m("ax", "a[0-9]", 0);
	m("ax", "a[^0-9]", 1);
	m("a5", "a[^0-9]", 0);
	m("]", "[]]", 1);
	m("-", "[a-]", 1);
	m("b", "[abc]", 1);
	m("d", "[abc]", 0);
	m("[", "[", 1); /* unterminated class is a literal */
	/* escapes */
	m("a*b", "a\\*b", 1);
	m("axb", "a\\*b", 0);
	m("a?", "a\\?", 1);
	m("a,b", "a\\,b", 1);
	/* UTF-8: ? and classes take whole characters */
	m("gr\xc3\xbc"
	  "n",
	  "gr?n", 1);
	m("gr\xc3\xbc"
	  "n",
	  "gr??n", 0);
	m("\xe6\x97\xa5\xe6\x9c\xac", "??", 1);
	m("\xc3\xbc", "[\xc3\xa0-\xc3\xbf]", 1);
	m("u", "[\xc3\xa0-\xc3\xbf]", 0);
	m("\xff", "?", 1); /* an invalid byte is one character */
	/* lists: last match wins, ! negates */
	l("comp.lang.c", "comp.*,!comp.lang.*", 0);
	l("comp.lang.c", "comp.*,!comp.lang.*,comp.lang.c", 1);
	l("comp.os", "comp.*,!comp.lang.*", 1);
	l("alt.test", "comp.*,!comp.lang.*", 0);
	l("alt.test", "!alt.*", 0);
	l("misc.test", "!alt.*", 0);
	l("misc.test", "*,!alt.*", 1);
	l("a,b", "a\\,b", 1);
	l("b", "a,b", 1);
	l("x", "[a,x]", 1); /* a comma inside a class does not split */
	/* INN's newsfeeds lists: the last match decides, @ poisons */
	pz("comp.lang.c", "*,!comp.*", WILDMAT_NOMATCH);
	pz("comp.lang.c", "*,@comp.*", WILDMAT_POISON);
	pz("comp.lang.c", "*,@comp.*,comp.lang.c", WILDMAT_MATCH);
	pz("alt.test", "*,@comp.*", WILDMAT_MATCH);
	pz("alt.test", "comp.*", WILDMAT_NOMATCH);
	pz("alt.test", "@alt.*,!alt.test", WILDMAT_NOMATCH);
	pz("@x", "\\@x", WILDMAT_MATCH);

	/* bounded work: a pathological pattern returns quickly */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strcpy(pat, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
	m(big, pat, 0);
	strcpy(pat, "*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*");
	m(big, pat, 1);
	return tap_done();
}
