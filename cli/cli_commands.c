/* SPDX-License-Identifier: MIT */
/* The table of subcommands: each lives in its own cmd_*.c file. */
#include "cli_commands.h"

const struct cli_command *const cli_commands[] = {
	&cli_cmd_check,
	&cli_cmd_send,
	&cli_cmd_sendmail,
	&cli_cmd_queue_list,
	&cli_cmd_queue_show,
	&cli_cmd_queue_hold,
	&cli_cmd_queue_release,
	&cli_cmd_queue_flush,
	&cli_cmd_queue_delete,
	&cli_cmd_queue_run,
	&cli_cmd_policyd,
	&cli_cmd_serve,
	&cli_cmd_config,
	&cli_cmd_dane_verify,
	&cli_cmd_dane_tlsa,
	&cli_cmd_sts_lint,
	&cli_cmd_sts_fetch,
	&cli_cmd_sts_cache,
	&cli_cmd_sts_refresh,
	&cli_cmd_store_status,
	&cli_cmd_tlsrpt_report,
	&cli_cmd_tlsrpt_send,
	&cli_cmd_tlsrpt_ingest,
	&cli_cmd_tlsrpt_summary,
	&cli_cmd_tlsrpt_ready,
	&cli_cmd_audit,
	&cli_cmd_publish,
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];
