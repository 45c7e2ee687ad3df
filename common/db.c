/* db.c: connection management for MariaDB Connector/C. */
#include "common/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "common/config.h"

struct db {
    MYSQL *my;
    const struct cfg *cfg;
};

static MYSQL *db_connect(const struct cfg *c, char *err, size_t errlen)
{
    MYSQL *my = mysql_init(NULL);
    if (!my) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    unsigned ct = (unsigned)(c->db_connect_timeout_ms + 999) / 1000;
    unsigned rt = (unsigned)(c->db_read_timeout_ms + 999) / 1000;
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    const char *sock = c->db_socket[0] ? c->db_socket : NULL;
    const char *host = sock ? "localhost" : c->db_host;
    if (!mysql_real_connect(my, host, c->db_user, c->db_password, c->db_name,
                            (unsigned)c->db_port, sock, CLIENT_MULTI_RESULTS)) {
        snprintf(err, errlen, "%s", mysql_error(my));
        mysql_close(my);
        return NULL;
    }
    return my;
}

struct db *db_open(const struct cfg *c, char *err, size_t errlen)
{
    struct db *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->cfg = c;
    d->my = db_connect(c, err, errlen);
    if (!d->my) {
        free(d);
        return NULL;
    }
    return d;
}

void db_close(struct db *d)
{
    if (!d) return;
    if (d->my) mysql_close(d->my);
    free(d);
}

MYSQL *db_handle(struct db *d)
{
    return d ? d->my : NULL;
}

int db_ping(struct db *d, char *err, size_t errlen)
{
    if (d->my && mysql_ping(d->my) == 0) return 0;
    if (d->my) mysql_close(d->my);
    d->my = db_connect(d->cfg, err, errlen);
    return d->my ? 0 : -1;
}

int db_ensure(struct db **dp, const struct cfg *c, char *err, size_t errlen)
{
    if (!*dp) {
        *dp = db_open(c, err, errlen);
        return *dp ? 0 : -1;
    }
    if ((*dp)->my) return 0;
    return db_ping(*dp, err, errlen);
}
