/* SPDX-License-Identifier: MIT */
/* Internal view of struct mxtls_config for the rest of the library (indexed settings). */
#ifndef MXTLS_VALIDATOR_CONFIG_INTERNAL_H
#define MXTLS_VALIDATOR_CONFIG_INTERNAL_H

#include <mxtls/config.h>

enum config_key {
	CONFIG_KEY_UNBOUND_CONF,
	CONFIG_KEY_CA_FILE,
	CONFIG_KEY_STATE_DIR,
	CONFIG_KEY_STS_TIMEOUT,
	CONFIG_KEY_CONNECT_TIMEOUT,
	CONFIG_KEY_SMTP_TIMEOUT,
	CONFIG_KEY_TLSRPT_ORGANIZATION,
	CONFIG_KEY_TLSRPT_CONTACT,
	CONFIG_KEY_TLSRPT_SUBMITTER,
	CONFIG_KEY_TLSRPT_SEND,
	CONFIG_KEY_TLSRPT_KEEP_DAYS,
	CONFIG_KEY_SHARED_STORE,
	CONFIG_KEY_SHARED_STORE_PASSWORD,
	CONFIG_KEY_SHARED_STORE_KEY,
	CONFIG_KEY_COUNT
};

/* The value of key, or NULL when unset.  Borrowed from cfg. */
const char *mxtls_config_value(const struct mxtls_config *cfg, enum config_key key);

/* Where the value of key was read: "FILE:LINE" of the configuration file, or NULL when it was
 * set otherwise (mxtls_config_set(), e.g. from the command line) or is unset.  Borrowed. */
const char *mxtls_config_origin(const struct mxtls_config *cfg, enum config_key key);

#endif
