/* SPDX-License-Identifier: MIT */
/* The table of subcommands. */
#ifndef MXTLS_CLI_COMMANDS_H
#define MXTLS_CLI_COMMANDS_H

#include <stddef.h>

#include "cli_env.h"

/* One definition per cmd_*.c file. */
extern const struct cli_command cli_cmd_check;
extern const struct cli_command cli_cmd_send;
extern const struct cli_command cli_cmd_sendmail;
extern const struct cli_command cli_cmd_queue_list;
extern const struct cli_command cli_cmd_queue_show;
extern const struct cli_command cli_cmd_queue_hold;
extern const struct cli_command cli_cmd_queue_release;
extern const struct cli_command cli_cmd_queue_flush;
extern const struct cli_command cli_cmd_queue_delete;
extern const struct cli_command cli_cmd_queue_run;
/* The delivery daemon's configuration-file keys (CLI.md, `queue run`). */
extern const char *const cli_queue_option_keys[];
extern const struct cli_command cli_cmd_policyd;
extern const struct cli_command cli_cmd_serve;
extern const struct cli_command cli_cmd_config;
extern const struct cli_command cli_cmd_dane_verify;
extern const struct cli_command cli_cmd_dane_tlsa;
extern const struct cli_command cli_cmd_sts_lint;
extern const struct cli_command cli_cmd_sts_fetch;
extern const struct cli_command cli_cmd_sts_cache;
extern const struct cli_command cli_cmd_sts_refresh;
extern const struct cli_command cli_cmd_tlsrpt_report;
extern const struct cli_command cli_cmd_tlsrpt_send;
extern const struct cli_command cli_cmd_publish;
extern const struct cli_command cli_cmd_audit;
extern const struct cli_command cli_cmd_store_status;
extern const struct cli_command cli_cmd_tlsrpt_ingest;
extern const struct cli_command cli_cmd_tlsrpt_summary;
extern const struct cli_command cli_cmd_tlsrpt_ready;

extern const struct cli_command *const cli_commands[];
extern const size_t cli_ncommands;

#endif
