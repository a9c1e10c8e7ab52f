/* SPDX-License-Identifier: MIT */
/* systemd's readiness protocol (sd_notify) without libsystemd: one datagram per state. */
#ifndef MXTLS_POLICYD_NOTIFY_H
#define MXTLS_POLICYD_NOTIFY_H

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET; a no-op without it.  Returns 0, or -1. */
int policyd_notify(const char *state);

#endif
