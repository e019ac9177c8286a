/* domain/id_index.c — see id_index.h. */
#include "domain/id_index.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a, 64 bit: ids are server-made UUIDs, so no flooding concern. */
static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

int sb_id_index_build(sb_id_index *ix, const char *const *ids, size_t n, size_t *dup)
{
    memset(ix, 0, sizeof *ix);
    if (n >= UINT32_MAX / 4)
        return -1;
    size_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    ix->slots = calloc(cap, sizeof *ix->slots);
    if (ix->slots == NULL)
        return -1;
    ix->ids = ids;
    ix->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        size_t s = (size_t)hash_id(ids[i]) & ix->mask;
        while (ix->slots[s] != 0) {
            if (strcmp(ids[ix->slots[s] - 1], ids[i]) == 0) {
                if (dup != NULL)
                    *dup = i;
                sb_id_index_free(ix);
                return 1;
            }
            s = (s + 1) & ix->mask;
        }
        ix->slots[s] = (uint32_t)(i + 1);
    }
    return 0;
}

long sb_id_index_find(const sb_id_index *ix, const char *id)
{
    if (ix->slots == NULL || id == NULL)
        return -1;
    size_t s = (size_t)hash_id(id) & ix->mask;
    while (ix->slots[s] != 0) {
        uint32_t v = ix->slots[s];
        if (strcmp(ix->ids[v - 1], id) == 0)
            return (long)(v - 1);
        s = (s + 1) & ix->mask;
    }
    return -1;
}

void sb_id_index_free(sb_id_index *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}
