/* SPDX-License-Identifier: MIT */
/* The in-flight set (delivery_inflight.h). */
#include "delivery/delivery_inflight.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

/* Enough for concurrency x batch size (100 x 50) at a short chain length. */
#define INFLIGHT_BUCKETS 8192

struct node {
	struct node *next;
	void *value;
	size_t id_len;
	char key[]; /* id, NUL, domain, NUL */
};

struct delivery_inflight {
	struct node *bucket[INFLIGHT_BUCKETS];
};

/* FNV-1a over id, a separator and domain. */
static size_t slot(const char *id, const char *domain)
{
	uint64_t h = 14695981039346656037u;
	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	h = (h ^ 0xff) * 1099511628211u;
	for (const char *p = domain; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	return (size_t)(h % INFLIGHT_BUCKETS);
}

static bool same(const struct node *n, const char *id, const char *domain)
{
	return strcmp(n->key, id) == 0 && strcmp(n->key + n->id_len + 1, domain) == 0;
}

struct delivery_inflight *delivery_inflight_new(void)
{
	return calloc(1, sizeof(struct delivery_inflight));
}

void delivery_inflight_free(struct delivery_inflight *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < INFLIGHT_BUCKETS; i++)
		for (struct node *n = s->bucket[i], *next; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
	free(s);
}

void *delivery_inflight_get(const struct delivery_inflight *s, const char *id, const char *domain)
{
	for (const struct node *n = s->bucket[slot(id, domain)]; n != NULL; n = n->next)
		if (same(n, id, domain))
			return n->value;
	return NULL;
}

int delivery_inflight_put(struct delivery_inflight *s, const char *id, const char *domain,
			  void *value)
{
	size_t il = strlen(id), dl = strlen(domain);
	struct node *n = malloc(sizeof *n + il + dl + 2);
	if (n == NULL)
		return MXTLS_E_NOMEM;
	n->value = value;
	n->id_len = il;
	memcpy(n->key, id, il + 1);
	memcpy(n->key + il + 1, domain, dl + 1);
	size_t i = slot(id, domain);
	n->next = s->bucket[i];
	s->bucket[i] = n;
	return MXTLS_OK;
}

void delivery_inflight_del(struct delivery_inflight *s, const char *id, const char *domain)
{
	for (struct node **p = &s->bucket[slot(id, domain)]; *p != NULL; p = &(*p)->next)
		if (same(*p, id, domain)) {
			struct node *n = *p;
			*p = n->next;
			free(n);
			return;
		}
}
