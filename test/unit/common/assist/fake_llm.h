/* fake_llm.h: an LLM provider for unit tests (a struct llm, as
 * common/assist/llm_provider.h defines it) that behaves like a model: it
 * builds the task's messages, says "sent", streams a scripted answer word
 * by word through the task's sentence gate, and can fail after N words
 * the way an upstream does (UPSTREAM_ERROR / UPSTREAM_TIMEOUT), or answer
 * JSON mode with a scripted text. No network, no threads. */
#ifndef TROIKA_TEST_FAKE_LLM_H
#define TROIKA_TEST_FAKE_LLM_H

#include <stddef.h>

#include "common/assist/llm.h"
#include "common/assist/llm_provider.h"

struct fake_llm {
    struct llm l;             /* hand &f->l to the code under test */
    /* the script */
    const char *answer;       /* streamed word by word */
    int fail_after;           /* fail after this many words went out (0: never; < 0: before any) */
    int fail_rc;              /* LLM_EUPSTREAM (default) or LLM_ETIMEOUT */
    const char *json;         /* JSON mode's answer; NULL: LLM_ENOMODEL */
    /* what it saw */
    int streams, jsons;       /* calls */
    int words;                /* words handed to the gate in the last stream */
    size_t nmsgs;             /* messages of the last call */
    char system[4096];        /* the last call's first message (cut) */
    char all[8192];           /* the last call's other messages, "role: content" lines (cut) */
};

/* A model named "fake:model" that answers `answer`. */
void fake_llm_init(struct fake_llm *f, const char *answer);

#endif
