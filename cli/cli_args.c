/* SPDX-License-Identifier: MIT */
/* Command-line scanning: global options before or after the command (CLI.md). */
#include "cli_args.h"

#include <string.h>

void cli_args_init(struct cli_args *a, int argc, char **argv, const struct cli_opt *global)
{
	memset(a, 0, sizeof *a);
	a->argc = argc;
	a->argv = argv;
	a->next = 1;
	a->tables[0] = global;
}

void cli_args_set_command(struct cli_args *a, const struct cli_opt *command)
{
	a->tables[1] = command;
}

static enum cli_event error(struct cli_args *a, const char *fmt, const char *what)
	__attribute__((format(printf, 2, 0)));
static enum cli_event error(struct cli_args *a, const char *fmt, const char *what)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(a->err, sizeof a->err, fmt, what); /* fmt is always a literal with one %s */
#pragma GCC diagnostic pop
	return CLI_ERROR;
}

static const struct cli_opt *find(const struct cli_args *a, const char *name, size_t len,
				  char short_name, int *table)
{
	for (int t = 0; t < 2; t++) {
		for (const struct cli_opt *o = a->tables[t]; o != NULL && o->name != NULL; o++) {
			bool hit = short_name != 0 ? o->short_name == short_name
						   : strlen(o->name) == len &&
							     memcmp(o->name, name, len) == 0;
			if (hit) {
				*table = t;
				return o;
			}
		}
	}
	return NULL;
}

/* The next word as an option's value, or an error if argv is exhausted. */
static enum cli_event take_value(struct cli_args *a, struct cli_item *item, const char *shown)
{
	if (a->next >= a->argc)
		return error(a, "option '%s' needs a value", shown);
	item->value = a->argv[a->next++];
	return CLI_OPTION;
}

static enum cli_event next_short(struct cli_args *a, struct cli_item *item)
{
	char c = *a->bundle++;
	char shown[3] = {'-', c, '\0'};
	const struct cli_opt *o = find(a, NULL, 0, c, &item->table);
	if (o == NULL)
		return error(a, "unknown option '%s'", shown);
	item->opt = o;
	item->value = NULL;
	if (o->arg == CLI_FLAG)
		return CLI_OPTION;
	if (*a->bundle != '\0') { /* -cFILE */
		item->value = a->bundle;
		a->bundle = NULL;
		return CLI_OPTION;
	}
	a->bundle = NULL;
	return take_value(a, item, shown);
}

enum cli_event cli_args_next(struct cli_args *a, struct cli_item *item)
{
	memset(item, 0, sizeof *item);
	if (a->bundle != NULL && *a->bundle != '\0')
		return next_short(a, item);
	a->bundle = NULL;
	if (a->next >= a->argc)
		return CLI_END;

	const char *word = a->argv[a->next++];
	if (a->positional_only || word[0] != '-' || strcmp(word, "-") == 0) {
		item->value = word; /* "-" alone means standard input */
		return CLI_POSITIONAL;
	}
	if (strcmp(word, "--") == 0) {
		a->positional_only = true;
		return cli_args_next(a, item);
	}
	if (word[1] != '-') {
		a->bundle = word + 1;
		return next_short(a, item);
	}

	const char *name = word + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const struct cli_opt *o = find(a, name, len, 0, &item->table);
	if (o == NULL) {
		char shown[128];
		snprintf(shown, sizeof shown, "--%.*s", (int)(len > 100 ? 100 : len), name);
		return error(a, "unknown option '%s'", shown);
	}
	item->opt = o;
	char shown[128];
	snprintf(shown, sizeof shown, "--%s", o->name);
	if (o->arg == CLI_FLAG) {
		if (eq != NULL)
			return error(a, "option '%s' takes no value", shown);
		return CLI_OPTION;
	}
	if (eq != NULL) {
		item->value = eq + 1;
		return CLI_OPTION;
	}
	return take_value(a, item, shown);
}

/* The left column of an option's help line: "-v, --verbose" or "    --config FILE". */
static void help_left(const struct cli_opt *o, char *left, size_t len)
{
	if (o->short_name != 0)
		snprintf(left, len, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
			 o->metavar ? o->metavar : "");
	else
		snprintf(left, len, "    --%s%s%s", o->name, o->metavar ? " " : "",
			 o->metavar ? o->metavar : "");
}

int cli_args_help_width(const struct cli_opt *table, int width)
{
	for (const struct cli_opt *o = table; o != NULL && o->name != NULL; o++) {
		char left[128];
		help_left(o, left, sizeof left);
		if ((int)strlen(left) > width)
			width = (int)strlen(left);
	}
	return width;
}

void cli_args_print_help(FILE *out, const struct cli_opt *table, int width)
{
	for (const struct cli_opt *o = table; o != NULL && o->name != NULL; o++) {
		char left[128];
		help_left(o, left, sizeof left);
		/* Two spaces at least between an option and its description. */
		fprintf(out, "  %-*s  %s\n", width, left, o->help);
	}
}
