/* config.h: the loaded configuration, filled from one table.
 *
 * Sources, later wins: built-in defaults, the config file (`key = value`,
 * `#` comments, keys case-insensitive), the environment (UPPER(key), then
 * TROIKA_UPPER(key)). Every value is checked when loaded; an error names
 * the key and the value. Loaded once per process and then read-only. */
#ifndef TROIKA_CONFIG_H
#define TROIKA_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum { CFG_STR_MAX = 512 };

struct cfg {
    /* process */
    char listen[CFG_STR_MAX];
    int listen_mode;
    int listen_backlog;
    int workers;
    int max_requests;
    char pid_file[CFG_STR_MAX];
    int drain_timeout_ms;
    int request_terminate_timeout_ms;
    char base_path[CFG_STR_MAX];
    char shm_path[CFG_STR_MAX];
    int scoreboard_slots;
    int respawn_backoff_max_ms;
    int crash_storm_deaths;
    int crash_storm_window_ms;
    int request_terminate_grace_ms;

    /* logging */
    char log_file[CFG_STR_MAX];
    int log_level;

    /* database */
    char db_host[CFG_STR_MAX];
    int db_port;
    char db_socket[CFG_STR_MAX];
    char db_user[CFG_STR_MAX];
    char db_password[CFG_STR_MAX];
    char db_name[CFG_STR_MAX];
    int db_connect_timeout_ms;
    int db_read_timeout_ms;

    /* streaming (SPEC section 4) */
    int streaming_enabled;
    int streaming_timeout;
    int streaming_chunk_size;
    int streaming_heartbeat_ms;
    int streaming_rate_limit;
    int streaming_window_ms;
    char streaming_rate_whitelist[CFG_STR_MAX];
    int max_requests_per_client;   /* limited requests one client may run at once; 0: workers / 2, at least 1 */
    int busy_timeout_ms;           /* the master answers 503 BUSY when every worker is this old; 0: never */
    char trusted_proxies[CFG_STR_MAX];
    char proxy_header[CFG_STR_MAX];
    int rate_limit_table_size;

    /* limits (SPEC section 6) */
    long max_json_body;
    int body_timeout_ms;      /* a JSON body must arrive within this */
    int upload_timeout_ms;    /* an upload's multipart body within this */
    int extract_timeout_ms;   /* PDF/HTML text extraction, in a child process */
    long extract_memory;      /* bytes that child may map over the worker's */
    long max_upload;
    long max_query_string;
    int max_multipart_parts;
    int max_part_headers;

    /* search and index */
    char index_dir[CFG_STR_MAX];
    char currency[16];

    /* embedding provider (index/embed.h) */
    char embedding_provider[16];   /* "builtin" or "openai" */
    char embedding_url[CFG_STR_MAX];
    char embedding_model[CFG_STR_MAX];
    char embedding_api_key[CFG_STR_MAX];
    int embedding_dim;
    int embedding_timeout_ms;
    int embedding_connect_timeout_ms;
    int embedding_batch;

    /* product search (docs/search.md) */
    char search_rank_method[16];     /* "rrf" or "weighted" */
    int search_rrf_k;
    double search_text_weight;       /* weighted: share of the text score, 0..1 */
    int search_text_candidates;
    int search_result_cap;           /* matches counted, sorted and paged through exactly (product search) */
    int search_vector_candidates;
    int search_nprobe;               /* IVF lists probed; 0: the index's build default */
    double search_min_vector_score;  /* cosine below this is not a match */
    int search_step_delay_ms;        /* test hook (--enable-test-hooks builds only, else 0): pause between steps */

    /* Aza semantic search (docs/search.md) */
    double aza_min_score;            /* default minScore: cosine a semantic result must reach */
    int aza_candidates;              /* nearest products examined first (at least 4 * limit) */
    int aza_max_candidates;          /* over-fetch cap when filters reject candidates */

    /* LLM provider (common/assist/llm) */
    char llm_provider[16];          /* builtin | openai */
    char llm_url[CFG_STR_MAX];
    char llm_model[128];
    char llm_api_key[CFG_STR_MAX];  /* never logged */
    int llm_connect_timeout_ms;
    int llm_timeout_ms;
    int llm_stall_timeout_ms;
    int llm_max_tokens;
    double llm_temperature;

    /* TTS provider (common/assist/tts) */
    char tts_provider[16];          /* builtin | openai */
    char tts_url[CFG_STR_MAX];
    char tts_model[128];
    char tts_api_key[CFG_STR_MAX];  /* never logged */
    char tts_voice[64];             /* "" = the provider's default */
    char tts_voices[CFG_STR_MAX];   /* "" = the provider's own list */
    int tts_timeout_ms;

    /* chat (handlers/chat/chat) */
    int chat_history_turns;
    int chat_top_k;
    double chat_min_score;
    /* context upload (handlers/upload/upload.c, docs/upload.md) */
    char upload_api_keys[2048];    /* comma-separated; empty: every upload is refused */
    char tokenizer_file[CFG_STR_MAX];
    int chunk_tokens;
    int chunk_overlap;
    char upload_fault[32];         /* test hook (--enable-test-hooks builds only, else ""): a step that fails */
    /* tenancy and access (docs/access.md) */
    char cors_allowed_origins[2048]; /* origins (or "*") every chatbot's pages may call from */
    int cors_max_age;                /* seconds a browser may keep a preflight's answer */
    char ops_allowed_networks[CFG_STR_MAX];  /* who may read /api/metrics and /api/health?full=1 */
    int session_idle_timeout_s;      /* a session idle this long is not continued; 0: never */
    int session_retention_days;      /* troika-admin sessions prune deletes sessions idle this long; 0: keep */
    /* the sales agent (handlers/agent/troika) */
    int troika_results;              /* product cards in the final results */
    int troika_history_turns;        /* turns read back from the session */
    int troika_budget_relax_pct;     /* first relaxation: the budget ceiling +N% */
    int troika_designer_refresh_ms;  /* how long a worker keeps its designer list */
    int troika_llm_refine;           /* openai: refine the builtin intent in JSON mode */
};

/* Fills *c with the defaults. */
void cfg_defaults(struct cfg *c);

/* Reads `path` (NULL: none) over the current values, then the environment.
 * On error returns -1 with a message naming the key and value in err. */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

/* Reads config text from f over the current values (what cfg_load does
 * with the file, without the environment or the checks); `path` names it
 * in errors. 0, or -1 with err naming the line, key and value. */
int cfg_read(struct cfg *c, FILE *f, const char *path, char *err, size_t errlen);

/* Sets one key from text, as the file would. 0, or -1 with err filled.
 * Unknown keys are an error. */
int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t errlen);

/* Cross-key checks after everything is loaded. */
int cfg_check(const struct cfg *c, char *err, size_t errlen);

/* The path used when no -c is given: $TROIKA_CONFIG or the build default. */
const char *cfg_default_path(void);

#endif
