/* admin.h: troika-admin's commands. Each command parses its own arguments
 * (argv[0] is the command name), prints what it did for an operator, and
 * returns the process exit status. */
#ifndef TROIKA_ADMIN_H
#define TROIKA_ADMIN_H

#include <stdint.h>

#include "common/base/arena.h"
#include "common/base/config.h"

struct store;

struct adm {
    struct cfg cfg;          /* loaded once, read-only after */
    const char *cfg_path;    /* NULL: defaults + environment only */
    struct store *store;     /* the store (common/store/store.h), connected by adm_store on first use */
    arena_t *ar;             /* the run's arena */
};

/* Exit statuses. */
enum { ADM_OK = 0, ADM_FAIL = 1, ADM_USAGE = 2, ADM_PARTIAL = 3 };

/* The store, connected on first use; prints why on failure. */
struct store *adm_store(struct adm *a);

/* Brings the tables derived from the catalog up to date (word counts,
 * attribute bitmaps: common/store/catterms.h, common/store/catbits.h): rebuilt when
 * changed is set or another version built them. A failure is printed under
 * who's name and does not fail the caller: search works without them. */
void adm_derive(struct adm *a, struct store *st, int changed, const char *who);

int adm_import(struct adm *a, int argc, char **argv);
int adm_gen_catalog(struct adm *a, int argc, char **argv);
int adm_build_index(struct adm *a, int argc, char **argv);
int adm_stats(struct adm *a, int argc, char **argv);
int adm_chatbot_create(struct adm *a, int argc, char **argv);
int adm_chatbot_list(struct adm *a, int argc, char **argv);
int adm_key(struct adm *a, int argc, char **argv);
int adm_origin(struct adm *a, int argc, char **argv);
int adm_sessions(struct adm *a, int argc, char **argv);
int adm_files(struct adm *a, int argc, char **argv);

#endif
