/* conf: parse into a staging copy first and commit only when every line
 * is good, so a SIGHUP with a broken file leaves the old config running. */
#include "common/core/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/number.h"
#include "common/core/xmalloc.h"

#define CONF_MAX_LINE 4096

struct staged {
	char *text;         /* scalar value */
	struct vector list; /* CONF_LIST values */
	int set;            /* given by file or -o */
	char *where;        /* "FILE:LINE" or "-o:N" of the last setting */
};

/* A value as it was, for conf_save and conf_restore. */
struct conf_saved {
	int b;
	unsigned long u;
	char *s;
	struct vector l;
};

static size_t
table_len(const struct conf_option *t)
{
	size_t n = 0;

	while (t[n].name != NULL)
		n++;
	return n;
}

static const struct conf_option *
find(const struct conf_option *t, const char *key, size_t *idx)
{
	for (size_t i = 0; t[i].name != NULL; i++)
		if (strcmp(t[i].name, key) == 0) {
			*idx = i;
			return &t[i];
		}
	return NULL;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *yes[] = {"YES", "TRUE", "ON", "1"};
	static const char *no[] = {"NO", "FALSE", "OFF", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* Validate one value; NULL if good, else a reason (maybe in scratch). */
static const char *
validate(const struct conf_option *o, const char *v, char *scratch, size_t n)
{
	uint64_t u;
	int b;

	switch (o->type) {
	case CONF_BOOL:
		if (parse_bool(v, &b) < 0)
			return "expected YES or NO";
		break;
	case CONF_UINT:
		if (number_parse(v, o->min, o->max, &u) < 0) {
			snprintf(scratch, n, "expected a whole number from %llu to %llu",
			         (unsigned long long)o->min, (unsigned long long)o->max);
			return scratch;
		}
		break;
	case CONF_OCTAL:
		if (number_parse_octal(v, o->max, &u) < 0) {
			snprintf(scratch, n, "expected an octal number up to %llo",
			         (unsigned long long)o->max);
			return scratch;
		}
		break;
	case CONF_STRING:
	case CONF_LIST:
		break;
	}
	if (o->check != NULL && *v != '\0')
		return o->check(v);
	return NULL;
}

static void
stage(const struct conf_option *o, struct staged *s, const char *v, const char *where)
{
	free(s->where);
	s->where = xstrdup(where);
	if (o->type == CONF_LIST) {
		/* Defaults of a list are replaced by the first explicit value. */
		if (!s->set)
			vector_clear(&s->list);
		if (*v != '\0')
			vector_add(&s->list, v);
	} else {
		free(s->text);
		s->text = xstrdup(v);
	}
	s->set = 1;
}

static int
allowed_key(const char *const *allowed, const char *key)
{
	if (allowed == NULL)
		return 1;
	for (; *allowed != NULL; allowed++)
		if (strcmp(*allowed, key) == 0)
			return 1;
	return 0;
}

/* One "key=value" line; errors go to errors with the given location. Keys
 * not in allowed (NULL: all) are refused. */
static int
apply_line(const struct conf_option *t, const char *const *allowed, const struct conf_source *src,
           struct staged *st, char *line, const char *where, struct buffer *errors)
{
	char *eq, *key, *val, *end, scratch[128];
	const struct conf_option *o;
	const char *why;
	size_t idx;

	key = line + strspn(line, " \t");
	if (*key == '\0' || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (eq == NULL) {
		end = key + strcspn(key, " \t");
		*end = '\0';
		buffer_printf(errors, "%s: %s: expected key=value\n", where, key);
		return 1;
	}
	*eq = '\0';
	for (end = eq; end > key && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	val = eq + 1 + strspn(eq + 1, " \t");
	for (end = val + strlen(val); end > val && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	o = NULL;
	/* A foreign file's keys mean what its program says, even where the
	 * table has a key of the same name. */
	if (src != NULL && src->foreign != NULL) {
		const char *as = NULL, *v = val;

		switch (src->foreign(src->arg, key, val, where, &as, &v, errors)) {
		case CONF_FOREIGN_UNKNOWN:
			o = find(t, key, &idx);
			break;
		case CONF_FOREIGN_DONE:
			return 0;
		case CONF_FOREIGN_BAD:
			return 1;
		case CONF_FOREIGN_SET:
			/* Errors still name the key the file wrote. */
			o = find(t, as, &idx);
			val = (char *)v;
			break;
		}
	} else
		o = find(t, key, &idx);
	if (o == NULL) {
		buffer_printf(errors, "%s: %s: unknown key\n", where, key);
		return 1;
	}
	if (!allowed_key(allowed, key)) {
		buffer_printf(errors, "%s: %s: not allowed in this file\n", where, key);
		return 1;
	}
	why = validate(o, val, scratch, sizeof(scratch));
	if (why != NULL) {
		buffer_printf(errors, "%s: %s: %s (got \"%s\")\n", where, key, why, val);
		return 1;
	}
	stage(o, &st[idx], val, where);
	return 0;
}

static int
load_stream(const struct conf_option *t, const char *const *allowed, const struct conf_source *src,
            struct staged *st, FILE *f, const char *file, struct buffer *errors)
{
	char line[CONF_MAX_LINE + 2], where[4200];
	unsigned lineno = 0;
	int bad = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", file, lineno);
		if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
			int c;

			buffer_printf(errors, "%s: line longer than %d bytes\n", where,
			              CONF_MAX_LINE);
			bad++;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		bad += apply_line(t, allowed, src, st, line, where, errors);
	}
	if (ferror(f)) {
		buffer_printf(errors, "%s: cannot read: %s\n", file, strerror(errno));
		bad++;
	}
	return bad;
}

static int
load_file(const struct conf_option *t, const struct conf_source *src, struct staged *st,
          const char *file, int required, struct buffer *errors)
{
	FILE *f = fopen(file, "r");
	int bad;

	if (f == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		buffer_printf(errors, "%s: cannot open: %s\n", file, strerror(errno));
		return 1;
	}
	bad = load_stream(t, NULL, src, st, f, file, errors);
	fclose(f);
	return bad;
}

static void
commit(const struct conf_option *o, struct staged *s)
{
	uint64_t u = 0;
	int b = 0;

	switch (o->type) {
	case CONF_BOOL:
		parse_bool(s->text, &b);
		*(int *)o->var = b;
		break;
	case CONF_UINT:
		number_parse(s->text, o->min, o->max, &u);
		*(unsigned long *)o->var = (unsigned long)u;
		break;
	case CONF_OCTAL:
		number_parse_octal(s->text, o->max, &u);
		*(unsigned long *)o->var = (unsigned long)u;
		break;
	case CONF_STRING:
		free(*(char **)o->var);
		*(char **)o->var = s->text;
		s->text = NULL;
		break;
	case CONF_LIST: {
		struct vector *v = o->var;

		vector_free(v);
		*v = s->list;
		memset(&s->list, 0, sizeof(s->list));
		break;
	}
	}
}

/* Which keys the last successful load set explicitly, and where, per table. */
static const struct conf_option *set_table;
static unsigned char *set_flags;
static char **set_where;
static char **set_default; /* the default in force (a conf_source's, or the table's) */
static size_t set_count;

static void
staged_free(struct staged *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(st[i].text);
		free(st[i].where);
		vector_free(&st[i].list);
	}
	free(st);
}

/* A source's defaults replace the table's before the file is read. */
static void
load_defaults(const struct conf_option *t, const struct conf_source *src, struct staged *st)
{
	for (size_t i = 0; t[i].name != NULL; i++) {
		if (t[i].type == CONF_LIST) {
			if (t[i].def[0] != '\0')
				vector_split(&st[i].list, t[i].def, ';');
		} else
			st[i].text = xstrdup(t[i].def);
	}
	for (size_t j = 0; src != NULL && src->defaults != NULL && src->defaults[j] != NULL; j++) {
		const char *d = src->defaults[j], *eq = strchr(d, '=');
		char *key = xstrndup(d, eq != NULL ? (size_t)(eq - d) : strlen(d));
		size_t idx;

		/* A default that names no key, or has no value, is the caller's bug. */
		if (eq == NULL || find(t, key, &idx) == NULL || t[idx].type == CONF_LIST)
			abort();
		free(st[idx].text);
		st[idx].text = xstrdup(eq + 1);
		free(key);
	}
}

int
conf_load(const struct conf_option *t, const char *file, int file_required,
          const struct vector *overrides, struct buffer *errors)
{
	return conf_load_from(t, file, file_required, overrides, NULL, errors);
}

int
conf_load_from(const struct conf_option *t, const char *file, int file_required,
               const struct vector *overrides, const struct conf_source *src, struct buffer *errors)
{
	size_t n = table_len(t);
	struct staged *st = xcalloc(n, sizeof(*st));
	char **defaults;
	int bad = 0;

	load_defaults(t, src, st);
	defaults = xcalloc(n, sizeof(*defaults));
	for (size_t i = 0; i < n; i++)
		defaults[i] = xstrdup(st[i].text != NULL ? st[i].text : t[i].def);
	if (file != NULL)
		bad += load_file(t, src, st, file, file_required, errors);
	for (size_t i = 0; overrides != NULL && i < overrides->count; i++) {
		char where[64];
		char *line = xstrdup(overrides->strings[i]);

		snprintf(where, sizeof(where), "-o:%zu", i + 1);
		bad += apply_line(t, NULL, src, st, line, where, errors);
		free(line);
	}
	if (bad == 0) {
		free(set_flags);
		for (size_t i = 0; i < set_count; i++) {
			free(set_where[i]);
			free(set_default[i]);
		}
		free(set_where);
		free(set_default);
		set_flags = xcalloc(n, 1);
		set_where = xcalloc(n, sizeof(*set_where));
		set_default = xcalloc(n, sizeof(*set_default));
		set_count = n;
		set_table = t;
		for (size_t i = 0; i < n; i++) {
			set_flags[i] = (unsigned char)st[i].set;
			set_where[i] = st[i].where;
			set_default[i] = defaults[i];
			st[i].where = NULL;
			defaults[i] = NULL;
			commit(&t[i], &st[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(defaults[i]);
	free(defaults);
	staged_free(st, n);
	return bad;
}

int
conf_overlay(const struct conf_option *t, const char *const *allowed, FILE *f, const char *name,
             int apply, struct buffer *errors)
{
	size_t n = table_len(t);
	struct staged *st = xcalloc(n, sizeof(*st));
	int bad = load_stream(t, allowed, NULL, st, f, name, errors);

	for (size_t i = 0; bad == 0 && apply && i < n; i++)
		if (st[i].set)
			commit(&t[i], &st[i]);
	staged_free(st, n);
	return bad;
}

const char *
conf_where(const struct conf_option *t, const char *name)
{
	size_t idx;

	if (t != set_table || find(t, name, &idx) == NULL)
		return NULL;
	return set_where[idx];
}

const char *
conf_default(const struct conf_option *t, const char *name)
{
	size_t idx;

	if (t != set_table || find(t, name, &idx) == NULL)
		return NULL;
	return set_default[idx];
}

struct conf_saved *
conf_save(const struct conf_option *t)
{
	size_t n = table_len(t);
	struct conf_saved *sv = xcalloc(n, sizeof(*sv));

	for (size_t i = 0; i < n; i++) {
		switch (t[i].type) {
		case CONF_BOOL:
			sv[i].b = *(int *)t[i].var;
			break;
		case CONF_UINT:
		case CONF_OCTAL:
			sv[i].u = *(unsigned long *)t[i].var;
			break;
		case CONF_STRING:
			sv[i].s = xstrdup(*(char **)t[i].var);
			break;
		case CONF_LIST: {
			const struct vector *v = t[i].var;

			for (size_t j = 0; j < v->count; j++)
				vector_add(&sv[i].l, v->strings[j]);
			break;
		}
		}
	}
	return sv;
}

void
conf_saved_free(const struct conf_option *t, struct conf_saved *sv)
{
	for (size_t i = 0; sv != NULL && t[i].name != NULL; i++) {
		free(sv[i].s);
		vector_free(&sv[i].l);
	}
	free(sv);
}

void
conf_restore(const struct conf_option *t, const struct conf_saved *sv)
{
	for (size_t i = 0; t[i].name != NULL; i++) {
		switch (t[i].type) {
		case CONF_BOOL:
			*(int *)t[i].var = sv[i].b;
			break;
		case CONF_UINT:
		case CONF_OCTAL:
			*(unsigned long *)t[i].var = sv[i].u;
			break;
		case CONF_STRING:
			free(*(char **)t[i].var);
			*(char **)t[i].var = xstrdup(sv[i].s);
			break;
		case CONF_LIST: {
			struct vector *v = t[i].var;

			vector_clear(v);
			for (size_t j = 0; j < sv[i].l.count; j++)
				vector_add(v, sv[i].l.strings[j]);
			break;
		}
		}
	}
}

int
conf_is_set(const struct conf_option *t, const char *name)
{
	size_t idx;

	if (t != set_table || find(t, name, &idx) == NULL)
		return 0;
	return set_flags[idx];
}

static void
value_text(const struct conf_option *o, char *out, size_t n)
{
	switch (o->type) {
	case CONF_BOOL:
		snprintf(out, n, "%s", *(int *)o->var ? "YES" : "NO");
		break;
	case CONF_UINT:
		snprintf(out, n, "%lu", *(unsigned long *)o->var);
		break;
	case CONF_OCTAL:
		snprintf(out, n, "%03lo", *(unsigned long *)o->var);
		break;
	case CONF_STRING:
		snprintf(out, n, "%s", *(char **)o->var);
		break;
	case CONF_LIST:
		out[0] = '\0';
		break;
	}
}

void
conf_dump(const struct conf_option *t, FILE *out)
{
	char v[4096];

	for (size_t i = 0; t[i].name != NULL; i++) {
		const char *mark = conf_is_set(t, t[i].name) ? "" : "  # default";

		if (t[i].type == CONF_LIST) {
			struct vector *l = t[i].var;

			if (l->count == 0)
				fprintf(out, "%s=%s\n", t[i].name, mark);
			for (size_t j = 0; j < l->count; j++)
				fprintf(out, "%s=%s%s\n", t[i].name, l->strings[j], mark);
			continue;
		}
		value_text(&t[i], v, sizeof(v));
		fprintf(out, "%s=%s%s\n", t[i].name, v, mark);
	}
}

void
conf_man_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

void
conf_man(const struct conf_option *t, FILE *out)
{
	static const char *types[] = {"boolean", "number", "octal", "string", "repeatable"};

	for (size_t i = 0; t[i].name != NULL; i++) {
		fputs(".TP\n.B ", out);
		conf_man_escape(out, t[i].name);
		fprintf(out, "\n(%s", types[t[i].type]);
		if (t[i].type == CONF_UINT)
			fprintf(out, ", %llu to %llu", (unsigned long long)t[i].min,
			        (unsigned long long)t[i].max);
		fputs("; default: ", out);
		conf_man_escape(out, t[i].def[0] ? t[i].def : "empty");
		fputs(")\n", out);
		conf_man_escape(out, t[i].desc);
		fputc('\n', out);
	}
}

const char *
conf_check_address(const char *v)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, v, a) == 1 || inet_pton(AF_INET6, v, a) == 1)
		return NULL;
	return "not a numeric IPv4 or IPv6 address";
}

const char *
conf_check_abspath(const char *v)
{
	return v[0] == '/' ? NULL : "must be an absolute path";
}

const char *
conf_check_metrics_file(const char *v)
{
	size_t n = strlen(v);

	if (n == 0)
		return NULL;
	if (v[0] != '/')
		return "must be an absolute path";
	return n > 6 && strcmp(v + n - 5, ".prom") == 0 && v[n - 6] != '/'
	           ? NULL
	           : "must end in .prom (node_exporter's textfile collector reads only those)";
}
