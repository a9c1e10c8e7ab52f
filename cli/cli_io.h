/* SPDX-License-Identifier: MIT */
/* Files for commands: whole input files with a size cap ("-" for standard input), output
 * files written whole. */
#ifndef MXTLS_CLI_IO_H
#define MXTLS_CLI_IO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads path ("-": standard input) into *data (NUL-terminated; caller frees with free()) and
 * *len.  A file larger than max bytes is an error, never truncated.  Returns 0, or -1 with a
 * message (path and reason) written to err.
 */
int cli_read_file(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen);

/*
 * Writes data (len bytes) to path through a temporary file beside it and rename(): a reader
 * sees the old file or the whole new one, never half of it.  Returns 0, or -1 with a message
 * (path and reason) written to err.
 */
int cli_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen);

/*
 * Parses an RFC 3339 UTC time ("2026-01-01T00:00:00Z", also with "+HH:MM"/"-HH:MM" offsets,
 * "t"/"z" and fractional seconds) into Unix seconds.  Returns 0, or -1 if s is not such a time.
 */
int cli_parse_time(const char *s, int64_t *out);

#endif
