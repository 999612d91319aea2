/* nntpctl: news spool administration (groups, expire, rebuild, check, stats)
 * and the running server's controls (pause, go, reload, status). Group
 * changes go through the running writer, or straight to the spool under its
 * lock when no writer runs, so the two never race. */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/conf.h"
#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/paths.h"
#include "common/core/xmalloc.h"
#include "common/priv/sandbox.h"
#include "nntpd/feed/feed.h"
#include "nntpd/options.h"
#include "nntpd/store/active.h"
#include "nntpd/store/daylog.h"
#include "nntpd/store/spool.h"
#include "nntpd/tools/daily.h"
#include "nntpd/writer/control.h"
#include "nntpd/writer/ctlmsg.h"
#include "nntpd/writer/writer.h"

struct ctl_opts {
	const char *spool_dir;
	const char *pathhost;
	size_t max_article_size;
	const char *verb; /* the command's name */
};

/* A row without usage is one of the writer's verbs: its arity and
 * usage line are the writer's (control_lookup), so the two cannot drift. */
struct ctl_command {
	const char *name;
	int min_args, max_args;
	int (*run)(const struct ctl_opts *o, int argc, char **argv);
	const char *usage;
	int ctl;  /* may go through the running writer's ctl.sock */
	int join; /* the writer's verb takes the rest of the line: any words */
};

#define CTL_MAX_WORDS 64

static void usage(void);
static int ctl_was_root;
static struct sandbox_id owner; /* the spool's, when run as root */

/* Run as root, nntpctl works on the spool as its owner (the writer's
 * user), so files it creates stay writable by the writer; root is kept
 * only as the saved uid until give_up_root. */
static void
become_spool_owner(const char *spool_dir)
{
	struct sandbox_id id = {0};
	struct stat st;

	if (geteuid() != 0)
		return;
	ctl_was_root = 1;
	if (stat(spool_dir, &st) == 0) {
		id.uid = st.st_uid;
		id.gid = st.st_gid;
	} else if (sandbox_lookup(opt.nopriv_user, &id) < 0) {
		fprintf(stderr, "nntpctl: nopriv_user %s does not exist\n", opt.nopriv_user);
		exit(1);
	} else if (mkdir(spool_dir, 0750) < 0 || chown(spool_dir, id.uid, id.gid) < 0) {
		fprintf(stderr, "nntpctl: %s: %s\n", spool_dir, strerror(errno));
		exit(1);
	}
	if (sandbox_act_as(&id) < 0) {
		fprintf(stderr, "nntpctl: cannot become the spool's owner: %s\n", strerror(errno));
		exit(1);
	}
	owner = id;
	/* As the writer: spool files 0640, directories 0750. */
	umask(027);
}

/* SECURITY: every spool file nntpctl parses (active, overview, history,
 * feed queues, the writer's replies) is parsed with no way back to root:
 * real, effective and saved ids all the spool owner's. Root was needed
 * only for ctl.sock (0600 and root-checked by the writer), connected
 * before this, and only for commands that may go through the writer.
 * TODO: move into common/priv/sandbox.c (a permanent sandbox_act_as). */
static void
give_up_root(int connect_ctl, const char *spool_dir)
{
	uid_t r, e, s;

	if (!ctl_was_root)
		return;
	if (connect_ctl) {
		int dirfd = open(spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		/* No writer listening is fine: then the spool's lock is free. */
		if (dirfd >= 0 && sandbox_regain_root() == 0) {
			writer_control_connect(dirfd);
			if (sandbox_act_as(&owner) < 0) {
				fprintf(stderr,
				        "nntpctl: cannot become the spool's owner again: %s\n",
				        strerror(errno));
				exit(1);
			}
		}
		if (dirfd >= 0)
			close(dirfd);
	}
	if (setresgid(owner.gid, owner.gid, owner.gid) < 0 ||
	    setresuid(owner.uid, owner.uid, owner.uid) < 0 || getresuid(&r, &e, &s) < 0 ||
	    r != owner.uid || e != owner.uid || s != owner.uid) {
		fprintf(stderr, "nntpctl: cannot give up root: %s\n", strerror(errno));
		exit(1);
	}
}

/* Group commands, expire and rebuild: through the writer when it holds the lock,
 * directly otherwise. show: print the reply on success too. */
static int
spool_command(const struct ctl_opts *o, const char *line, int show)
{
	struct buffer reply = BUFFER_INIT;
	struct spool *s = spool_open(o->spool_dir, o->pathhost, 1);
	int rc;

	if (s != NULL) {
		struct writer_conf wc = {o->pathhost, o->max_article_size, {0, 0, 0}};
		struct writer *w = writer_new(s, &wc);

		rc = writer_process(w, SUBMIT_CONTROL, NULL, NULL, line, strlen(line), &reply);
		writer_free(w);
		spool_close(s);
	} else if (errno == EWOULDBLOCK) {
		int dirfd = open(o->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dirfd < 0) {
			fprintf(stderr, "nntpctl: %s: %s\n", o->spool_dir, strerror(errno));
			return 1;
		}
		/* ctl.sock answers root only: connected as root by give_up_root. */
		rc = writer_control(dirfd, line, &reply);
		close(dirfd);
		if (rc != 200 && !ctl_was_root)
			buffer_puts(&reply,
			            " (while nntpd runs, group changes and controls need root)");
	} else {
		fprintf(stderr, "nntpctl: %s: %s\n", o->spool_dir, strerror(errno));
		return 1;
	}
	if (rc != 200) {
		fprintf(stderr, "nntpctl: %s\n", buffer_cstr(&reply));
		buffer_free(&reply);
		return 1;
	}
	if (show)
		fputs(buffer_cstr(&reply), stdout);
	buffer_free(&reply);
	return 0;
}

static int
group_command(const struct ctl_opts *o, const char *line)
{
	return spool_command(o, line, 0);
}

static int
cmd_expire(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "-n") != 0)
		usage();
	return spool_command(o, argc == 1 ? "expire -n" : "expire", 1);
}

static int
cmd_cancel(const struct ctl_opts *o, int argc, char **argv)
{
	char *line = xasprintf("cancel %s", argv[0]);
	int rc = spool_command(o, line, 1);

	(void)argc;
	free(line);
	return rc;
}

static int
cmd_newgroup(const struct ctl_opts *o, int argc, char **argv)
{
	char *line = xasprintf("newgroup %s %s %s", argv[0], argc > 1 ? argv[1] : "y",
	                       argc > 2 ? argv[2] : "");
	int rc = group_command(o, line);

	free(line);
	return rc;
}

static int
cmd_rmgroup(const struct ctl_opts *o, int argc, char **argv)
{
	char *line = xasprintf("rmgroup %s", argv[0]);
	int rc = group_command(o, line);

	(void)argc;
	free(line);
	return rc;
}

static int
cmd_changegroup(const struct ctl_opts *o, int argc, char **argv)
{
	char *line = xasprintf("changegroup %s %s", argv[0], argv[1]);
	int rc = group_command(o, line);

	(void)argc;
	free(line);
	return rc;
}

/* pause REASON...: the words make one reason. */
static int
cmd_pause(const struct ctl_opts *o, int argc, char **argv)
{
	struct buffer line = BUFFER_INIT;
	int rc;

	buffer_puts(&line, "pause");
	for (int i = 0; i < argc; i++)
		buffer_printf(&line, " %s", argv[i]);
	rc = spool_command(o, buffer_cstr(&line), 1);
	buffer_free(&line);
	return rc;
}

/* go, reload, status: the verb alone; the writer's answer is printed. */
static int
cmd_live(const struct ctl_opts *o, int argc, char **argv)
{
	(void)argc, (void)argv;
	return spool_command(o, o->verb, 1);
}

static int
open_spool_ro(const struct ctl_opts *o)
{
	int fd = open(o->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "nntpctl: %s: %s\n", o->spool_dir, strerror(errno));
	return fd;
}

static int
cmd_list(const struct ctl_opts *o, int argc, char **argv)
{
	struct active a;
	int fd = open_spool_ro(o);

	(void)argc, (void)argv;
	if (fd < 0)
		return 1;
	active_init(&a);
	if (active_refresh(&a, fd) < 0) {
		fprintf(stderr, "nntpctl: active: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	for (size_t i = 0; i < a.count; i++) {
		const struct group *g = a.groups[i];

		printf("%s %llu %llu %s %lld %s %s\n", g->name, (unsigned long long)g->high,
		       (unsigned long long)g->low, g->flags, (long long)g->created,
		       g->creator[0] ? g->creator : "-", g->description);
	}
	active_free(&a);
	close(fd);
	return 0;
}

static int
cmd_rebuild(const struct ctl_opts *o, int argc, char **argv)
{
	(void)argc, (void)argv;
	return group_command(o, "rebuild");
}

static int
cmd_check(const struct ctl_opts *o, int argc, char **argv)
{
	struct buffer report = BUFFER_INIT;
	int fd = open_spool_ro(o);
	long problems;

	(void)argc, (void)argv;
	if (fd < 0)
		return 1;
	problems = spool_check(fd, &report);
	close(fd);
	fputs(buffer_cstr(&report), stdout);
	buffer_free(&report);
	if (problems != 0) {
		printf("%ld problem%s\n", problems, problems == 1 ? "" : "s");
		return 1;
	}
	printf("spool ok\n");
	return 0;
}

static int
cmd_stats(const struct ctl_opts *o, int argc, char **argv)
{
	struct buffer out = BUFFER_INIT;
	int fd = open_spool_ro(o), rc;

	(void)argc, (void)argv;
	if (fd < 0)
		return 1;
	rc = spool_stats(fd, &out);
	close(fd);
	fputs(buffer_cstr(&out), stdout);
	buffer_free(&out);
	return rc < 0 ? 1 : 0;
}

static int
cmd_feeds(const struct ctl_opts *o, int argc, char **argv)
{
	struct buffer out = BUFFER_INIT;
	int fd = open_spool_ro(o), rc;

	(void)argc, (void)argv;
	if (fd < 0)
		return 1;
	rc = feed_backlog(fd, &out);
	close(fd);
	if (rc < 0)
		fprintf(stderr, "nntpctl: feeds: %s\n", strerror(errno));
	fputs(buffer_cstr(&out), stdout);
	buffer_free(&out);
	return rc < 0 ? 1 : 0;
}

/* report [--date YYYY-MM-DD] [--json] [--top N]: the day's news from
 * the writer's day log (today, UTC, by default) and the feed backlogs. */
static int
cmd_report(const struct ctl_opts *o, int argc, char **argv)
{
	struct daily_opts d = {.now = time(NULL), .top = 10};
	uint64_t top;
	int fd, rc;

	d.day = d.now;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			d.json = 1;
		else if (strcmp(argv[i], "--date") == 0 && i + 1 < argc &&
		         daylog_parse_date(argv[i + 1], &d.day) == 0)
			i++;
		else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc &&
		         number_parse(argv[i + 1], 1, 100000, &top) == 0)
			d.top = (unsigned)top, i++;
		else {
			/* Name the value when an option's is wrong. */
			if (argv[i][0] == '-' && i + 1 < argc && strcmp(argv[i], "--json") != 0)
				i++;
			fprintf(stderr,
			        "nntpctl: report: bad argument %s (--date wants "
			        "YYYY-MM-DD, --top a count)\n",
			        argv[i]);
			return 2;
		}
	}
	if ((fd = open_spool_ro(o)) < 0)
		return 1;
	rc = daily_report(fd, &d, stdout);
	if (rc < 0)
		fprintf(stderr, "nntpctl: report: %s\n", strerror(errno));
	close(fd);
	return rc < 0 ? 1 : 0;
}

/* Runs the writer in the foreground (tests, debugging; nntpd starts it
 * itself in production). */
static int
cmd_writer(const struct ctl_opts *o, int argc, char **argv)
{
	struct writer_conf wc = {o->pathhost,
	                         o->max_article_size,
	                         {opt.post_rate, opt.post_burst, opt.article_cutoff_days}};

	(void)argc, (void)argv;
	writer_set_feeds(&opt.feed);
	daylog_set_keep((unsigned)opt.report_keep_days);
	ctlmsg_configure_files(opt.cancel_policy, opt.canlock_secret, opt.control_file);
	return writer_main(o->spool_dir, &wc);
}

static const struct ctl_command commands[] = {
    {.name = "newgroup", .run = cmd_newgroup, .ctl = 1},
    {.name = "rmgroup", .run = cmd_rmgroup, .ctl = 1},
    {.name = "changegroup", .run = cmd_changegroup, .ctl = 1},
    {"list", 0, 0, cmd_list, "list", 0, 0},
    {.name = "rebuild", .run = cmd_rebuild, .ctl = 1},
    {"check", 0, 0, cmd_check, "check", 0, 0},
    {"stats", 0, 0, cmd_stats, "stats", 0, 0},
    {"feeds", 0, 0, cmd_feeds, "feeds (each outgoing feed's backlog)", 0, 0},
    {"report", 0, 5, cmd_report,
     "report [--date YYYY-MM-DD] [--json] [--top N] (a day's articles, refusals, posters, "
     "feed backlogs)",
     0, 0},
    {.name = "cancel", .run = cmd_cancel, .ctl = 1},
    {.name = "expire", .run = cmd_expire, .ctl = 1},
    {.name = "pause", .run = cmd_pause, .ctl = 1, .join = 1},
    {.name = "go", .run = cmd_live, .ctl = 1},
    {.name = "reload", .run = cmd_live, .ctl = 1},
    {.name = "status", .run = cmd_live, .ctl = 1},
    {"writer", 0, 0, cmd_writer, "writer (run the spool writer in the foreground)", 0, 0},
};

/* A command's row, with the writer's arity and usage for its verbs. */
static struct ctl_command
command_spec(const struct ctl_command *c)
{
	struct ctl_command r = *c;
	const struct control_verb *v;

	if (c->usage != NULL)
		return r;
	v = control_lookup(c->name);
	if (v == NULL)
		die("nntpctl: %s is not a writer verb", c->name);
	r.min_args = v->min_args;
	r.max_args = c->join && v->rest ? CTL_MAX_WORDS : v->max_args;
	r.usage = v->usage;
	return r;
}

static void
usage(void)
{
	fprintf(stderr, "usage: nntpctl [-f FILE] [-o key=value] [-d SPOOLDIR] command\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %s\n", command_spec(&commands[i]).usage);
	exit(2);
}

/* Same configuration as nntpd: -f FILE (default PATH_NNTPD_CONF when it
 * exists), -o key=value; -d SPOOLDIR overrides spool_dir. */
int
main(int argc, char **argv)
{
	struct ctl_opts o;
	struct vector overrides = VECTOR_INIT;
	struct buffer errors = BUFFER_INIT;
	const char *file = NULL, *spool = NULL;
	char host[256];
	int c, required = 0;

	log_open("nntpctl", 1);
	while ((c = getopt(argc, argv, "+f:o:d:")) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			required = 1;
			break;
		case 'o':
			vector_add(&overrides, optarg);
			break;
		case 'd':
			spool = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (file == NULL && access(PATH_NNTPD_CONF, R_OK) == 0)
		file = PATH_NNTPD_CONF;
	if (conf_load(nntpd_options_table, file, required, &overrides, &errors) > 0) {
		fputs(buffer_cstr(&errors), stderr);
		return 2;
	}
	o.spool_dir = spool ? spool : opt.spool_dir;
	o.pathhost = opt.pathhost;
	if (o.pathhost == NULL || o.pathhost[0] == '\0') {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		o.pathhost = host;
	}
	o.max_article_size = opt.max_article_size;
	writer_set_expire(&opt.expire, opt.history_remember);
	become_spool_owner(o.spool_dir);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		struct ctl_command cmd = command_spec(&commands[i]);

		if (strcmp(argv[0], cmd.name) != 0)
			continue;
		if (argc - 1 < cmd.min_args || argc - 1 > cmd.max_args)
			usage();
		give_up_root(cmd.ctl, o.spool_dir);
		o.verb = cmd.name;
		return cmd.run(&o, argc - 1, argv + 1);
	}
	usage();
}
