/* namefilter-t: vsftpd's deny_file/hide_file syntax: alternatives, '*' and
 * '?', literal '[' and '\', names and every component of a path. */
#include <string.h>

#include "ftpd/namefilter.h"
#include "tap.h"

int
main(void)
{
	struct vector f = VECTOR_INIT;

	ok(namefilter_check("{*.mp3,*.mov,.private}") == NULL, "vsftpd's example is valid");
	ok(namefilter_check("*.{mp3,mov}") == NULL, "a group inside a pattern is valid");
	ok(namefilter_check("{a,{b}}") != NULL && namefilter_check("{a") != NULL &&
	       namefilter_check("a}") != NULL,
	   "nested and unbalanced braces are refused");
	ok(namefilter_check("{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b,c,d,e}") != NULL,
	   "more than 256 alternatives are refused");
	namefilter_parse(&f, "{*.mp3,*.mov,.private}");
	ok(f.count == 3, "three alternatives");
	ok(namefilter_name(&f, "song.mp3") && namefilter_name(&f, ".private") &&
	       !namefilter_name(&f, "song.mp4") && !namefilter_name(&f, "x.private"),
	   "names match whole alternatives");
	ok(namefilter_path(&f, "/a/.private/b.txt") && namefilter_path(&f, "/a/b/c.mov") &&
	       !namefilter_path(&f, "/a/b/c.txt") && !namefilter_path(&f, "/"),
	   "a path matches when any component does");
	namefilter_parse(&f, "*.{mp3,mov}");
	ok(f.count == 2 && namefilter_name(&f, "a.mov") && !namefilter_name(&f, "a.txt"),
	   "a group expands in place");
	namefilter_parse(&f, "[x]?\\");
	ok(namefilter_name(&f, "[x]a\\") && !namefilter_name(&f, "xa\\"),
	   "'[' and '\\' are ordinary bytes");
	namefilter_parse(&f, "/secret/*");
	ok(namefilter_path(&f, "/secret/a/b") && !namefilter_path(&f, "/other/secret/a") &&
	       !namefilter_name(&f, "secret"),
	   "a pattern with '/' matches the whole path only");
	namefilter_parse(&f, "");
	ok(f.count == 0 && !namefilter_path(&f, "/a"), "an empty spec matches nothing");
	vector_free(&f);
	return tap_done();
}
