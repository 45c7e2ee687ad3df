// vidx_shim.cpp: the only C++ in Troika: the vector index (index/vidx.h)
// over FAISS. Every FAISS call sits in try/catch and comes back as -1 with
// a message; no exception crosses the extern "C" functions. Files: see
// vidx.h. The IVF inverted lists are memory-mapped read-only and shared
// (MAP_SHARED) by every process that opens the index; so is the id map.
#include "index/vidx.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <exception>
#include <memory>
#include <stdexcept>

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/index_io.h>
#include <faiss/invlists/OnDiskInvertedLists.h>
#include <json-c/json.h>
#include <omp.h>

#include "common/base/clock.h"
#include "common/base/id.h"

namespace {

typedef faiss::Index::idx_t vx_idx;
static_assert(sizeof(vx_idx) == sizeof(int64_t), "FAISS ids are 64-bit");

const char VX_FAISS_MAGIC[8] = {'T', 'R', 'K', 'V', 'I', 'D', 'X', '1'};
const char VX_IDS_MAGIC[8] = {'T', 'R', 'K', 'I', 'D', 'S', '0', '1'};
const int VX_FORMAT = 1;
const size_t VX_META_MAX = 64 * 1024;
const int VX_OPEN_TRIES = 20;      // a build's three renames take microseconds
const long VX_OPEN_RETRY_NS = 25 * 1000 * 1000L;

// Index kind by size: below VX_FLAT_BELOW vectors a flat index (exact, in
// the heap: at most 1.5 MB at 384 dims); above it IVF with ~4·sqrt(n)
// lists, at least VX_TRAIN_PER_LIST training points per list (FAISS warns
// below 39).
const size_t VX_FLAT_BELOW = 1000;
const size_t VX_TRAIN_PER_LIST = 39;
const int VX_NLIST_MIN = 16;
const int VX_NLIST_MAX = 65536;

// 32 bytes at the end of NAME.faiss and at the start of NAME.ids.
struct vx_stamp {
    char magic[8];
    char build_id[16];
    int64_t count;
};
static_assert(sizeof(vx_stamp) == 32, "stamp is 32 bytes");

}  // namespace

struct vidx {
    faiss::Index *index;
    faiss::IndexIVF *ivf;  // == index when IVF, else NULL
    void *ids_map;         // the mmapped .ids file
    size_t ids_len;
    const int64_t *ids;    // ids_map + header
    struct vidx_meta meta;
    // identity of the meta file this was opened from (vidx_refresh)
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    off_t size;
};

namespace {

void vx_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vx_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int vx_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (!n || n > 100 || name[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int vx_path(char *dst, size_t dstlen, const char *dir, const char *name, const char *ext)
{
    int n = snprintf(dst, dstlen, "%s/%s%s", dir, name, ext);
    return n > 0 && (size_t)n < dstlen ? 0 : -1;
}

int vx_write_all(int fd, const void *p, size_t n)
{
    const char *s = static_cast<const char *>(p);
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int vx_read_at(int fd, void *p, size_t n, off_t off)
{
    char *s = static_cast<char *>(p);
    while (n) {
        ssize_t r = pread(fd, s, n, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        s += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

// Default lists probed per query: enough lists to scan about
// max(VX_PROBE_MIN_SCAN, n / VX_PROBE_FRACTION) vectors. From the nprobe
// sweep in bench/results/vidx.md: on builtin-v1 embeddings of generated
// catalogs (the hardest data measured) recall@10 against exact search
// reached 0.95 at ~2,000 scanned vectors at 5k products and at ~5,000
// (5%) at 100k; this leaves a margin at both.
const size_t VX_PROBE_MIN_SCAN = 2500;
const size_t VX_PROBE_FRACTION = 16;

int vx_default_nprobe(size_t n, int nlist)
{
    size_t scan = n / VX_PROBE_FRACTION;
    if (scan < VX_PROBE_MIN_SCAN) scan = VX_PROBE_MIN_SCAN;
    size_t p = (scan * (size_t)nlist + n - 1) / n;
    if (p < 1) p = 1;
    if (p > (size_t)nlist) p = (size_t)nlist;
    return (int)p;
}

// A temporary file in dir, removed at scope exit unless released.
struct vx_tmp {
    char path[4096];
    int fd = -1;
    bool keep = false;
    ~vx_tmp()
    {
        if (fd >= 0) close(fd);
        if (path[0] && !keep) unlink(path);
    }
    int make(const char *dir, const char *name, const char *ext)
    {
        path[0] = '\0';
        char t[4096];
        int n = snprintf(t, sizeof(t), "%s/.%s%s.tmpXXXXXX", dir, name, ext);
        if (n <= 0 || (size_t)n >= sizeof(t)) return -1;
        fd = mkstemp(t);
        if (fd < 0) return -1;
        memcpy(path, t, (size_t)n + 1);
        if (fchmod(fd, 0644) < 0) return -1;
        return 0;
    }
    int finish()  // fsync and close; 0 or -1 (errno)
    {
        int rc = fsync(fd);
        int c = close(fd);
        fd = -1;
        return rc < 0 || c < 0 ? -1 : 0;
    }
};

// ---- metadata -----------------------------------------------------------

struct vx_meta_file {
    struct vidx_meta m;
    long long faiss_bytes;
    long long ids_bytes;
};

int vx_meta_parse(const char *text, size_t len, vx_meta_file *mf, char *err, size_t errlen)
{
    int rc = -1;
    json_tokener *tok = json_tokener_new();
    json_object *root = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    json_object *o;
    memset(mf, 0, sizeof(*mf));
    if (!root || !json_object_is_type(root, json_type_object)) {
        vx_err(err, errlen, "index metadata is not a JSON object");
        goto out;
    }
#define VX_GET(key, type)                                                              \
    if (!json_object_object_get_ex(root, key, &o) || !json_object_is_type(o, type)) { \
        vx_err(err, errlen, "index metadata lacks \"%s\"", key);                      \
        goto out;                                                                      \
    }
    VX_GET("format", json_type_int);
    if (json_object_get_int(o) != VX_FORMAT) {
        vx_err(err, errlen, "index metadata format %d is not %d: rebuild the index", json_object_get_int(o),
               VX_FORMAT);
        goto out;
    }
    VX_GET("embedder", json_type_string);
    snprintf(mf->m.embedder, sizeof(mf->m.embedder), "%s", json_object_get_string(o));
    VX_GET("kind", json_type_string);
    snprintf(mf->m.kind, sizeof(mf->m.kind), "%s", json_object_get_string(o));
    VX_GET("build_id", json_type_string);
    if (strlen(json_object_get_string(o)) != 16) {
        vx_err(err, errlen, "index metadata has a malformed build_id");
        goto out;
    }
    snprintf(mf->m.build_id, sizeof(mf->m.build_id), "%s", json_object_get_string(o));
    VX_GET("dim", json_type_int);
    mf->m.dim = json_object_get_int(o);
    VX_GET("count", json_type_int);
    mf->m.count = (long)json_object_get_int64(o);
    VX_GET("nlist", json_type_int);
    mf->m.nlist = json_object_get_int(o);
    VX_GET("nprobe", json_type_int);
    mf->m.nprobe = json_object_get_int(o);
    VX_GET("built_at", json_type_int);
    mf->m.built_at = json_object_get_int64(o);
    VX_GET("faiss_bytes", json_type_int);
    mf->faiss_bytes = json_object_get_int64(o);
    VX_GET("ids_bytes", json_type_int);
    mf->ids_bytes = json_object_get_int64(o);
#undef VX_GET
    if (mf->m.dim <= 0 || mf->m.count < 0 || mf->faiss_bytes < (long long)sizeof(vx_stamp) ||
        mf->ids_bytes != (long long)sizeof(vx_stamp) + 8LL * mf->m.count) {
        vx_err(err, errlen, "index metadata is inconsistent (dim %d, count %ld)", mf->m.dim, mf->m.count);
        goto out;
    }
    if (strcmp(mf->m.kind, "IVFFlat") != 0 && strcmp(mf->m.kind, "Flat") != 0) {
        vx_err(err, errlen, "index kind \"%s\" is not one this build reads (IVFFlat, Flat)", mf->m.kind);
        goto out;
    }
    rc = 0;
out:
    if (root) json_object_put(root);
    if (tok) json_tokener_free(tok);
    return rc;
}

// Reads the meta file through an open fd. 0, or -1 with err.
int vx_meta_read_fd(int fd, const char *path, vx_meta_file *mf, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0 || (size_t)st.st_size > VX_META_MAX) {
        vx_err(err, errlen, "%s: not a readable index metadata file", path);
        return -1;
    }
    std::unique_ptr<char[]> buf(new (std::nothrow) char[(size_t)st.st_size + 1]);
    if (!buf || vx_read_at(fd, buf.get(), (size_t)st.st_size, 0) < 0) {
        vx_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    buf[(size_t)st.st_size] = '\0';
    char msg[256];
    if (vx_meta_parse(buf.get(), (size_t)st.st_size, mf, msg, sizeof(msg)) < 0) {
        vx_err(err, errlen, "%s: %s", path, msg);
        return -1;
    }
    return 0;
}

// ---- build --------------------------------------------------------------

int vx_check_vectors(const float *vecs, size_t n, int dim, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const float *v = vecs + i * (size_t)dim;
        double ss = 0;
        for (int j = 0; j < dim; j++) {
            if (!isfinite(v[j])) {
                vx_err(err, errlen, "vector %zu has a non-finite component", i);
                return -1;
            }
            ss += (double)v[j] * v[j];
        }
        if (fabs(sqrt(ss) - 1.0) > 1e-3) {
            vx_err(err, errlen, "vector %zu has norm %.4f: vectors must be L2-normalised (or dim %d is wrong)", i,
                   sqrt(ss), dim);
            return -1;
        }
    }
    return 0;
}

// Trains and fills the index for n vectors. NULL with err.
faiss::Index *vx_make_index(const float *vecs, size_t n, int dim, int *nlist_out, char *err, size_t errlen)
{
    *nlist_out = 0;
    try {
        if (n < VX_FLAT_BELOW) {
            std::unique_ptr<faiss::IndexFlatIP> flat(new faiss::IndexFlatIP(dim));
            flat->add((vx_idx)n, vecs);
            return flat.release();
        }
        long nlist = lround(4.0 * sqrt((double)n));
        if (nlist > (long)(n / VX_TRAIN_PER_LIST)) nlist = (long)(n / VX_TRAIN_PER_LIST);
        if (nlist < VX_NLIST_MIN) nlist = VX_NLIST_MIN;
        if (nlist > VX_NLIST_MAX) nlist = VX_NLIST_MAX;
        faiss::IndexFlatIP *quantizer = new faiss::IndexFlatIP(dim);
        std::unique_ptr<faiss::IndexIVFFlat> ivf;
        try {
            ivf.reset(new faiss::IndexIVFFlat(quantizer, dim, (size_t)nlist, faiss::METRIC_INNER_PRODUCT));
        } catch (...) {
            delete quantizer;
            throw;
        }
        ivf->own_fields = true;
        ivf->cp.spherical = true;  // unit vectors: centroids on the sphere too
        ivf->train((vx_idx)n, vecs);
        ivf->add((vx_idx)n, vecs);
        *nlist_out = (int)nlist;
        return ivf.release();
    } catch (const std::exception &ex) {
        vx_err(err, errlen, "FAISS failed to build the index: %s", ex.what());
    } catch (...) {
        vx_err(err, errlen, "FAISS failed to build the index");
    }
    return NULL;
}

int vx_write_faiss(vx_tmp &t, const faiss::Index *idx, const vx_stamp &stamp, long long *bytes, char *err,
                   size_t errlen)
{
    int fd2 = dup(t.fd);
    FILE *f = fd2 >= 0 ? fdopen(fd2, "wb") : NULL;
    if (!f) {
        if (fd2 >= 0) close(fd2);
        vx_err(err, errlen, "%s: %s", t.path, strerror(errno));
        return -1;
    }
    int rc = -1;
    try {
        faiss::write_index(idx, f);
        if (fwrite(&stamp, sizeof(stamp), 1, f) != 1 || fflush(f) != 0) throw std::runtime_error(strerror(errno));
        rc = 0;
    } catch (const std::exception &ex) {
        vx_err(err, errlen, "cannot write %s: %s", t.path, ex.what());
    } catch (...) {
        vx_err(err, errlen, "cannot write %s", t.path);
    }
    if (fclose(f) != 0 && rc == 0) {
        vx_err(err, errlen, "cannot write %s: %s", t.path, strerror(errno));
        rc = -1;
    }
    if (rc < 0) return -1;
    struct stat st;
    if (fstat(t.fd, &st) < 0 || t.finish() < 0) {
        vx_err(err, errlen, "cannot write %s: %s", t.path, strerror(errno));
        return -1;
    }
    *bytes = (long long)st.st_size;
    return 0;
}

int vx_write_ids(vx_tmp &t, const int64_t *ids, size_t n, const vx_stamp &stamp, char *err, size_t errlen)
{
    int rc = vx_write_all(t.fd, &stamp, sizeof(stamp));
    if (rc == 0 && ids) rc = vx_write_all(t.fd, ids, n * sizeof(int64_t));
    for (size_t i = 0; rc == 0 && !ids && i < n; i += 4096) {
        int64_t seq[4096];
        size_t m = n - i < 4096 ? n - i : 4096;
        for (size_t j = 0; j < m; j++) seq[j] = (int64_t)(i + j);
        rc = vx_write_all(t.fd, seq, m * sizeof(int64_t));
    }
    if (rc < 0 || t.finish() < 0) {
        vx_err(err, errlen, "cannot write %s: %s", t.path, strerror(errno));
        return -1;
    }
    return 0;
}

int vx_write_meta(vx_tmp &t, const struct vidx_meta *m, long long faiss_bytes, long long ids_bytes, char *err,
                  size_t errlen)
{
    json_object *o = json_object_new_object();
    if (!o) {
        vx_err(err, errlen, "out of memory");
        return -1;
    }
    json_object_object_add(o, "format", json_object_new_int(VX_FORMAT));
    json_object_object_add(o, "embedder", json_object_new_string(m->embedder));
    json_object_object_add(o, "dim", json_object_new_int(m->dim));
    json_object_object_add(o, "count", json_object_new_int64(m->count));
    json_object_object_add(o, "kind", json_object_new_string(m->kind));
    json_object_object_add(o, "metric", json_object_new_string("inner_product"));
    json_object_object_add(o, "nlist", json_object_new_int(m->nlist));
    json_object_object_add(o, "nprobe", json_object_new_int(m->nprobe));
    json_object_object_add(o, "built_at", json_object_new_int64(m->built_at));
    json_object_object_add(o, "build_id", json_object_new_string(m->build_id));
    json_object_object_add(o, "faiss_bytes", json_object_new_int64(faiss_bytes));
    json_object_object_add(o, "ids_bytes", json_object_new_int64(ids_bytes));
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = vx_write_all(t.fd, s, strlen(s));
    if (rc == 0) rc = vx_write_all(t.fd, "\n", 1);
    json_object_put(o);
    if (rc < 0 || t.finish() < 0) {
        vx_err(err, errlen, "cannot write %s: %s", t.path, strerror(errno));
        return -1;
    }
    return 0;
}

// ---- open ---------------------------------------------------------------

enum vx_try { VX_OK, VX_FAIL, VX_RACE };

// One attempt to open a consistent set of files. VX_RACE when the files
// belong to different builds (a rebuild may be renaming right now).
vx_try vx_open_once(const char *dir, const char *name, vidx *v, char *err, size_t errlen)
{
    char mpath[4096], ipath[4096], fpath[4096];
    if (vx_path(mpath, sizeof(mpath), dir, name, ".meta.json") < 0 ||
        vx_path(ipath, sizeof(ipath), dir, name, ".ids") < 0 ||
        vx_path(fpath, sizeof(fpath), dir, name, ".faiss") < 0) {
        vx_err(err, errlen, "index path too long");
        return VX_FAIL;
    }
    vx_try rc = VX_FAIL;
    int mfd = -1, ifd = -1, ffd = -1;
    FILE *ff = NULL;
    vx_meta_file mf;
    vx_stamp istamp, fstamp;
    struct stat mst, ist, fst;
    faiss::Index *index = NULL;
    void *map = MAP_FAILED;
    int flags;

    mfd = open(mpath, O_RDONLY | O_CLOEXEC);
    if (mfd < 0) {
        if (errno == ENOENT) vx_err(err, errlen, "absent: no index %s in %s", name, dir);
        else vx_err(err, errlen, "%s: %s", mpath, strerror(errno));
        goto out;
    }
    if (fstat(mfd, &mst) < 0 || vx_meta_read_fd(mfd, mpath, &mf, err, errlen) < 0) goto out;
    ifd = open(ipath, O_RDONLY | O_CLOEXEC);
    ffd = open(fpath, O_RDONLY | O_CLOEXEC);
    if (ifd < 0 || ffd < 0) {
        int e = errno;
        vx_err(err, errlen, "%s: %s", ifd < 0 ? ipath : fpath, strerror(e));
        rc = e == ENOENT ? VX_RACE : VX_FAIL;
        goto out;
    }
    if (fstat(ifd, &ist) < 0 || fstat(ffd, &fst) < 0 || ist.st_size < (off_t)sizeof(vx_stamp) ||
        fst.st_size < (off_t)sizeof(vx_stamp) || vx_read_at(ifd, &istamp, sizeof(istamp), 0) < 0 ||
        vx_read_at(ffd, &fstamp, sizeof(fstamp), fst.st_size - (off_t)sizeof(fstamp)) < 0) {
        vx_err(err, errlen, "index files of %s in %s are truncated or unreadable", name, dir);
        rc = VX_RACE;
        goto out;
    }
    if (memcmp(istamp.magic, VX_IDS_MAGIC, 8) != 0 || memcmp(fstamp.magic, VX_FAISS_MAGIC, 8) != 0) {
        vx_err(err, errlen, "index files of %s in %s were not written by troika: rebuild the index", name, dir);
        goto out;
    }
    if (memcmp(istamp.build_id, mf.m.build_id, 16) != 0 || memcmp(fstamp.build_id, mf.m.build_id, 16) != 0 ||
        ist.st_size != (off_t)mf.ids_bytes || fst.st_size != (off_t)mf.faiss_bytes ||
        istamp.count != mf.m.count || fstamp.count != mf.m.count) {
        vx_err(err, errlen,
               "index files of %s in %s are from different builds (an interrupted build?): run "
               "troika-admin build-index again",
               name, dir);
        rc = VX_RACE;
        goto out;
    }

    flags = strcmp(mf.m.kind, "IVFFlat") == 0 ? faiss::IO_FLAG_MMAP : 0;
    ff = fdopen(ffd, "rb");
    if (!ff) {
        vx_err(err, errlen, "%s: %s", fpath, strerror(errno));
        goto out;
    }
    ffd = -1;
    try {
        index = faiss::read_index(ff, flags);
    } catch (const std::exception &ex) {
        vx_err(err, errlen, "FAISS cannot read %s: %s", fpath, ex.what());
        goto out;
    } catch (...) {
        vx_err(err, errlen, "FAISS cannot read %s", fpath);
        goto out;
    }
    if (index->d != mf.m.dim || index->ntotal != (vx_idx)mf.m.count ||
        index->metric_type != faiss::METRIC_INNER_PRODUCT) {
        vx_err(err, errlen, "%s does not match its metadata (dim %d, count %ld, inner product)", fpath, mf.m.dim,
               mf.m.count);
        goto out;
    }
    v->ivf = dynamic_cast<faiss::IndexIVF *>(index);
    if (flags && !v->ivf) {
        vx_err(err, errlen, "%s is not an IVF index although its metadata says %s", fpath, mf.m.kind);
        goto out;
    }
    if (v->ivf) {
        // The mapped lists come back as OnDiskInvertedLists, whose search
        // starts up to 32 prefetch threads per query (joined at the next
        // query) to touch the probed lists. In a worker that is thread
        // churn and ~0.05 ms a probed list; the page cache already holds
        // the pages. Off.
        faiss::OnDiskInvertedLists *od = dynamic_cast<faiss::OnDiskInvertedLists *>(v->ivf->invlists);
        if (od) od->prefetch_nthread = 0;
    }
    map = mmap(NULL, (size_t)ist.st_size, PROT_READ, MAP_SHARED, ifd, 0);
    if (map == MAP_FAILED) {
        vx_err(err, errlen, "%s: cannot map: %s", ipath, strerror(errno));
        goto out;
    }
    v->index = index;
    index = NULL;
    v->ids_map = map;
    v->ids_len = (size_t)ist.st_size;
    v->ids = reinterpret_cast<const int64_t *>(static_cast<const char *>(map) + sizeof(vx_stamp));
    map = MAP_FAILED;
    v->meta = mf.m;
    v->dev = mst.st_dev;
    v->ino = mst.st_ino;
    v->mtime = mst.st_mtim;
    v->size = mst.st_size;
    rc = VX_OK;
out:
    if (rc != VX_OK) v->ivf = NULL;
    if (map != MAP_FAILED) munmap(map, (size_t)ist.st_size);
    delete index;
    if (ff) fclose(ff);
    if (ffd >= 0) close(ffd);
    if (ifd >= 0) close(ifd);
    if (mfd >= 0) close(mfd);
    return rc;
}

}  // namespace

extern "C" void vidx_threads_init(void)
{
    omp_set_num_threads(1);
}

extern "C" int vidx_build(const char *dir, const char *name, const float *vecs, const int64_t *ids, size_t n,
                          int dim, const char *embedder, char *err, size_t errlen)
{
    int rc = -1;
    struct stat st;
    struct vidx_meta m;
    vx_stamp stamp;
    long long faiss_bytes = 0, ids_bytes = 0;
    faiss::Index *index = NULL;
    vx_tmp tf, ti, tm;
    char fpath[4096], ipath[4096], mpath[4096];
    int dfd = -1;

    memset(&m, 0, sizeof(m));
    if (!dir || !name || !vx_name_ok(name)) {
        vx_err(err, errlen, "index name must be 1-100 of [A-Za-z0-9._-], not starting with '.'");
        goto out;
    }
    if (stat(dir, &st) < 0) {
        vx_err(err, errlen, "index_dir %s: %s", dir, strerror(errno));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        vx_err(err, errlen, "index_dir %s: not a directory", dir);
        goto out;
    }
    if (vx_path(fpath, sizeof(fpath), dir, name, ".faiss") < 0 ||
        vx_path(ipath, sizeof(ipath), dir, name, ".ids") < 0 ||
        vx_path(mpath, sizeof(mpath), dir, name, ".meta.json") < 0) {
        vx_err(err, errlen, "index path too long");
        goto out;
    }
    if (dim < 1 || dim > 65536) {
        vx_err(err, errlen, "dim %d is out of range (1..65536)", dim);
        goto out;
    }
    if (n < 1 || !vecs) {
        vx_err(err, errlen, "no vectors to index");
        goto out;
    }
    if (!embedder || !embedder[0] || strlen(embedder) >= sizeof(m.embedder)) {
        vx_err(err, errlen, "embedder name must be 1..%zu characters", sizeof(m.embedder) - 1);
        goto out;
    }
    if (vx_check_vectors(vecs, n, dim, err, errlen) < 0) goto out;

    index = vx_make_index(vecs, n, dim, &m.nlist, err, errlen);
    if (!index) goto out;

    snprintf(m.embedder, sizeof(m.embedder), "%s", embedder);
    m.dim = dim;
    m.count = (long)n;
    m.built_at = (long long)(clk_wall_ms() / 1000);
    snprintf(m.kind, sizeof(m.kind), "%s", m.nlist ? "IVFFlat" : "Flat");
    m.nprobe = m.nlist ? vx_default_nprobe(n, m.nlist) : 0;
    id_hex(stamp.build_id, 8);
    memcpy(m.build_id, stamp.build_id, 16);
    m.build_id[16] = '\0';
    stamp.count = (int64_t)n;

    if (tf.make(dir, name, ".faiss") < 0 || ti.make(dir, name, ".ids") < 0 || tm.make(dir, name, ".meta.json") < 0) {
        vx_err(err, errlen, "cannot create a file in %s: %s", dir, strerror(errno));
        goto out;
    }
    memcpy(stamp.magic, VX_FAISS_MAGIC, 8);
    if (vx_write_faiss(tf, index, stamp, &faiss_bytes, err, errlen) < 0) goto out;
    memcpy(stamp.magic, VX_IDS_MAGIC, 8);
    if (vx_write_ids(ti, ids, n, stamp, err, errlen) < 0) goto out;
    ids_bytes = (long long)sizeof(vx_stamp) + 8LL * (long long)n;
    if (vx_write_meta(tm, &m, faiss_bytes, ids_bytes, err, errlen) < 0) goto out;

    // Meta last: readers key on it, and refuse a mixed set until it lands.
    if (rename(tf.path, fpath) < 0 || rename(ti.path, ipath) < 0 || rename(tm.path, mpath) < 0) {
        vx_err(err, errlen, "cannot rename the new index into %s: %s", dir, strerror(errno));
        goto out;
    }
    tf.path[0] = ti.path[0] = tm.path[0] = '\0';
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        vx_err(err, errlen, "cannot sync %s: %s", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (dfd >= 0) close(dfd);
    delete index;
    return rc;
}

extern "C" struct vidx *vidx_open(const char *dir, const char *name, char *err, size_t errlen)
{
    if (!dir || !name || !vx_name_ok(name)) {
        vx_err(err, errlen, "index name must be 1-100 of [A-Za-z0-9._-], not starting with '.'");
        return NULL;
    }
    vidx *v = static_cast<vidx *>(calloc(1, sizeof(vidx)));
    if (!v) {
        vx_err(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < VX_OPEN_TRIES; i++) {
        vx_try t = vx_open_once(dir, name, v, err, errlen);
        if (t == VX_OK) return v;
        if (t == VX_FAIL) break;
        struct timespec ts = {0, VX_OPEN_RETRY_NS};
        nanosleep(&ts, NULL);
    }
    free(v);
    return NULL;
}

extern "C" int vidx_refresh(struct vidx **vp, const char *dir, const char *name, char *err, size_t errlen)
{
    if (*vp) {
        char mpath[4096];
        struct stat st;
        const vidx *v = *vp;
        if (vx_path(mpath, sizeof(mpath), dir, name, ".meta.json") < 0) {
            vx_err(err, errlen, "index path too long");
            return -1;
        }
        if (stat(mpath, &st) < 0) {
            if (errno == ENOENT) vx_err(err, errlen, "absent: no index %s in %s", name, dir);
            else vx_err(err, errlen, "%s: %s", mpath, strerror(errno));
            return -1;
        }
        if (st.st_dev == v->dev && st.st_ino == v->ino && st.st_size == v->size &&
            st.st_mtim.tv_sec == v->mtime.tv_sec && st.st_mtim.tv_nsec == v->mtime.tv_nsec)
            return 0;
    }
    vidx *nv = vidx_open(dir, name, err, errlen);
    if (!nv) return -1;
    vidx_close(*vp);
    *vp = nv;
    return 1;
}

extern "C" int vidx_search(struct vidx *v, const float *q, int k, int nprobe, int64_t *ids, float *scores,
                           int *nout)
{
    *nout = 0;
    if (!v || !q || k <= 0) return -1;
    if (v->meta.count == 0) return 0;
    try {
        if (v->ivf) {
            int p = nprobe > 0 ? nprobe : v->meta.nprobe;
            if (p > (int)v->ivf->nlist) p = (int)v->ivf->nlist;
            v->ivf->nprobe = (size_t)(p > 0 ? p : 1);
        }
        // ids doubles as FAISS's label buffer: both are int64.
        vx_idx *labels = reinterpret_cast<vx_idx *>(ids);
        v->index->search(1, q, (vx_idx)k, scores, labels);
        int m = 0;
        for (int i = 0; i < k; i++) {
            vx_idx l = labels[i];
            if (l < 0 || l >= (vx_idx)v->meta.count) continue;
            ids[m] = v->ids[l];
            scores[m] = scores[i];
            m++;
        }
        *nout = m;
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" const struct vidx_meta *vidx_meta(const struct vidx *v)
{
    return v ? &v->meta : NULL;
}

extern "C" void vidx_close(struct vidx *v)
{
    if (!v) return;
    delete v->index;
    if (v->ids_map) munmap(v->ids_map, v->ids_len);
    free(v);
}

extern "C" int vidx_read_meta(const char *dir, const char *name, struct vidx_meta *m, char *err, size_t errlen)
{
    char mpath[4096];
    if (!dir || !name || !vx_name_ok(name) || vx_path(mpath, sizeof(mpath), dir, name, ".meta.json") < 0) {
        vx_err(err, errlen, "bad index name or path");
        return -1;
    }
    int fd = open(mpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) vx_err(err, errlen, "absent: no index %s in %s", name, dir);
        else vx_err(err, errlen, "%s: %s", mpath, strerror(errno));
        return -1;
    }
    vx_meta_file mf;
    int rc = vx_meta_read_fd(fd, mpath, &mf, err, errlen);
    close(fd);
    if (rc == 0) *m = mf.m;
    return rc;
}

extern "C" int vidx_compatible(const struct vidx *v, const char *embedder, int dim, char *err, size_t errlen)
{
    if (!v) {
        vx_err(err, errlen, "no index");
        return -1;
    }
    if (strcmp(v->meta.embedder, embedder) != 0 || v->meta.dim != dim) {
        vx_err(err, errlen,
               "the index was built by embedder %s (dim %d) but the configured embedder is %s (dim %d): run "
               "troika-admin build-index",
               v->meta.embedder, v->meta.dim, embedder, dim);
        return -1;
    }
    return 0;
}
