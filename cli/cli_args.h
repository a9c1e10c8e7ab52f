/* SPDX-License-Identifier: MIT */
/* Command-line scanning: global options anywhere, command options after the command word. */
#ifndef MXTLS_CLI_ARGS_H
#define MXTLS_CLI_ARGS_H

#include <stdbool.h>
#include <stdio.h>

enum cli_arg {
	CLI_FLAG,  /* takes no value */
	CLI_VALUE, /* takes one value: --name VALUE or --name=VALUE */
};

/* One option.  A table is an array ended by an entry whose name is NULL. */
struct cli_opt {
	const char *name;    /* long name without "--" */
	char short_name;     /* 0 if none */
	enum cli_arg arg;
	int id;              /* what the caller switches on */
	const char *metavar; /* for --help, e.g. "FILE" */
	const char *help;    /* one line for --help */
};

enum cli_event {
	CLI_END,        /* argv is exhausted */
	CLI_OPTION,     /* item.opt (from table item.table) with item.value (NULL for flags) */
	CLI_POSITIONAL, /* item.value is a word that is not an option */
	CLI_ERROR,      /* a usage error; the reason is in err */
};

struct cli_item {
	const struct cli_opt *opt;
	int table; /* 0: global table, 1: command table */
	const char *value;
};

struct cli_args {
	int argc;
	char **argv;         /* borrowed */
	int next;            /* index of the next argv word */
	const char *bundle;  /* rest of a "-vv" word still to scan */
	bool positional_only; /* after "--" */
	const struct cli_opt *tables[2];
	char err[256];
};

/* Starts scanning argv[1..argc-1] with the global option table (borrowed). */
void cli_args_init(struct cli_args *a, int argc, char **argv, const struct cli_opt *global);

/* Adds the options of the command just recognised (borrowed); they apply from here on. */
void cli_args_set_command(struct cli_args *a, const struct cli_opt *command);

/* Returns the next event and fills *item. */
enum cli_event cli_args_next(struct cli_args *a, struct cli_item *item);

/*
 * The width of the option column for table: width, or more if an option with its metavar
 * ("    --connect-timeout SECONDS") is longer.  Call it for each table printed together.
 */
int cli_args_help_width(const struct cli_opt *table, int width);

/* Prints an option table as --help lines ("  -v, --verbose   log ..."), the descriptions
 * starting two spaces after a column of width characters. */
void cli_args_print_help(FILE *out, const struct cli_opt *table, int width);

#endif
