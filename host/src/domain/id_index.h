/*
 * domain/id_index.h — string id -> dense index, for the RBAC indexes
 * (internal to domain/).
 *
 * Contract: an open-addressing hash table built once from n ids (O(n)),
 * answering lookups in O(1) expected. It borrows the id strings: they must
 * outlive the index (the team tree and tenancy copy theirs into an arena
 * first). Ids are compared byte for byte; the store returns UUID text in
 * canonical lower case, so equal ids are equal strings.
 */
#ifndef SB_DOMAIN_ID_INDEX_H
#define SB_DOMAIN_ID_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct sb_id_index {
    const char *const *ids; /* borrowed: slot value v refers to ids[v - 1] */
    uint32_t *slots;        /* 0 = empty */
    size_t mask;            /* capacity - 1 (capacity a power of two >= 2n) */
} sb_id_index;

/* Builds the index over ids[0..n). Returns 0, -1 on allocation failure, or
 * 1 with *dup set to the index of the first id seen twice. */
int sb_id_index_build(sb_id_index *ix, const char *const *ids, size_t n, size_t *dup);
/* Index of id, or -1. */
long sb_id_index_find(const sb_id_index *ix, const char *id);
void sb_id_index_free(sb_id_index *ix);

#endif
