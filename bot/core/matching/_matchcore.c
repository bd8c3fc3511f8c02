/* The matcher's per-story work in C: find which indexed terms a story's words hold, which
 * queries those terms make candidates, evaluate the candidates' boolean plans, and build the
 * Match objects. native_backend.py (beside this file) owns everything else (parsing, term
 * and entry ids, compiling plans); python_backend.py is the same matcher in pure Python,
 * used where this module could not be built and as the reference the tests hold it to.
 *
 * Why C: at 100,000 subscriptions a story holds ~22 candidate queries and ~10 matches; in
 * CPython each evaluation and Match cost about a microsecond, which alone broke the aim of
 * keeping 0.7 of the throughput at 100 subscriptions (benchmarks/README.md, session 2).
 *
 * Atoms (as in plan.py): term t found anywhere is atom 2t, found in the title 2t+1.
 * Plans arrive as flat int programs, one node = [op, size, ...]:
 *   ATOM   [0, 3, atom]
 *   PHRASE [1, 4 + n, title_only, n, atom_1 .. atom_n]   (anywhere-atoms, in order)
 *   AND    [2, size, child ...]     OR [3, size, child ...]     NOT [4, size, child]
 * Memory comes from PyMem_Raw*, so tracemalloc (the benchmark's memory figure) sees it.
 *
 * Everything here is reachable from text strangers write (feed stories, chat queries), and
 * the raw Index API from any code in the process. So: lookups cost the same whatever words
 * are chosen (a keyed hash, see below), a hash never decides a match (key bytes are
 * compared), every method refuses to run while another of the same index is running (a
 * finaliser or __index__ run by a method could otherwise call back and free what it is
 * using), arguments are of the exact types expected, and programs nest at most MAX_DEPTH.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define OP_ATOM 0
#define OP_PHRASE 1
#define OP_AND 2
#define OP_OR 3
#define OP_NOT 4
#define NONE UINT32_MAX
#define HEAD_BITS 18
#define MAX_DEPTH 256  /* program nesting; a 200-character query nests far less */
#define MAX_LEAVES 62
#define AHEAD 12     /* words looked up ahead of use (prefetch distance) */
/* Finding a word's slot is little work once the bytes are compared in a pass of their own:
 * 12 words ahead were too few to hide a miss (the slot read took 29% of match, measured) */
#define SLOTS_AHEAD 32

/* -- big arrays on 2 MB pages ----------------------------------------------------------
 * A story's lookups land on random slots and terms of arrays of up to ~16 MB; on 4 KB pages
 * nearly each of them also missed the TLB. Where the kernel grants huge pages on request
 * (transparent_hugepage = madvise, the common default), ask for them. */

#define HUGE_PAGE ((size_t)2 << 20)

static void *big_calloc(size_t size, void **raw) {
    if (size < HUGE_PAGE) {  /* cache-line aligned, so no 64-byte record straddles two */
        *raw = PyMem_RawCalloc(1, size + 64);
        return *raw ? (void *)(((uintptr_t)*raw + 63) & ~(uintptr_t)63) : NULL;
    }
    *raw = PyMem_RawCalloc(1, size + HUGE_PAGE);
    if (!*raw) return NULL;
    char *p = (char *)(((uintptr_t)*raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
    (void)madvise(p, size & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);  /* only a hint */
#endif
    return p;
}

/* -- small vectors of u32 ------------------------------------------------------------ */

/* Up to two items live inside the struct: most cover lists and postings hold one or two,
 * and reading them then costs no second cache miss. */
typedef struct {
    union {
        uint32_t *heap;
        uint32_t in[2];
    } u;
    uint32_t n, cap;  /* cap <= 2: the items are in u.in */
} Vec;

static inline uint32_t *vec_items(Vec *a) { return a->cap <= 2 ? a->u.in : a->u.heap; }
static inline const uint32_t *vec_citems(const Vec *a) { return a->cap <= 2 ? a->u.in : a->u.heap; }

static int vec_push(Vec *a, uint32_t x) {
    if (a->cap <= 2 && a->n < 2) {
        a->cap = 2;
        a->u.in[a->n++] = x;
        return 0;
    }
    if (a->n == a->cap) {
        uint32_t cap = a->cap * 2;
        uint32_t *v;
        if (a->cap <= 2) {
            v = PyMem_RawMalloc((size_t)cap * sizeof(uint32_t));
            if (v) memcpy(v, a->u.in, sizeof(a->u.in));
        } else {
            v = PyMem_RawRealloc(a->u.heap, (size_t)cap * sizeof(uint32_t));
        }
        if (!v) { PyErr_NoMemory(); return -1; }
        a->u.heap = v;
        a->cap = cap;
    }
    a->u.heap[a->n++] = x;
    return 0;
}

static int vec_remove(Vec *a, uint32_t x) {
    uint32_t *v = vec_items(a);
    for (uint32_t i = 0; i < a->n; i++) {
        if (v[i] == x) {
            /* keep order: entries are evaluated in filing order, so results stay stable */
            memmove(v + i, v + i + 1, (size_t)(a->n - i - 1) * sizeof(uint32_t));
            a->n--;
            return 1;
        }
    }
    return 0;
}

static void vec_free(Vec *a) {
    if (a->cap > 2) PyMem_RawFree(a->u.heap);
    memset(a, 0, sizeof(*a));
}

/* -- hashing: keyed, so that no one can choose words that collide ------------------------
 * Story words and query words come from strangers. With a fixed hash anyone can compute
 * offline words that share a slot (or a whole 64-bit hash), and then one workspace's quota
 * of such words makes every lookup near them walk one long run of slots. So the hash is
 * keyed with random numbers drawn once per process (os.urandom at import):
 *   poly(w) = sum of (byte_i + 1) * r^(n - i) modulo the prime 2^61 - 1, r secret,
 * then a keyed 64-bit mixer. For two different words of up to n bytes the polynomial
 * difference is non-zero (no byte maps to 0), so they share poly() for at most n of the
 * 2^61 values of r: whoever does not know r cannot pick colliding words. It is also
 * computed a byte at a time, so one pass over a story word yields the hash of every prefix
 * of it (prefix terms are looked up by the word's own prefixes) and of its stem before a
 * final 's. Equal hashes never decide a match: the table compares the key bytes. */

#define P61 ((1ULL << 61) - 1)
#define EMPTY 0
#define DELETED 1

static uint64_t hash_r = 0x1234567ULL << 20, hash_k;  /* drawn in PyInit__matchcore */

/* One byte more: h * r + byte + 1, reduced lazily. With h < 2^62 + 2^10 and r < 2^60 the
 * result stays below that bound, so the 128-bit product never overflows. */
static inline uint64_t hash_step(uint64_t h, unsigned char b) {
    unsigned __int128 m = (unsigned __int128)h * hash_r;
    return ((uint64_t)m & P61) + (uint64_t)(m >> 61) + (uint64_t)b + 1;
}

/* The table hash of a running poly(): fully reduced, then keyed and mixed so the low bits
 * (the slot) and the high bits (the tag kept in the slot) both depend on every bit. */
static inline uint64_t hash_finish(uint64_t h) {
    h = (h & P61) + (h >> 61);
    if (h >= P61) h -= P61;
    h ^= hash_k;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* poly() of the bytes, reduced lazily: the same bytes always give the same value. */
static uint64_t hash_raw(const char *s, size_t len) {
    uint64_t h = 0;
    for (size_t i = 0; i < len; i++) h = hash_step(h, (unsigned char)s[i]);
    return h;
}

static uint64_t hash_bytes(const char *s, size_t len) { return hash_finish(hash_raw(s, len)); }

static inline uint32_t tag_of(uint64_t hash) {
    uint32_t tag = (uint32_t)(hash >> 32);
    return tag < 2 ? tag + 2 : tag;  /* 0 and 1 mark empty and deleted slots */
}

/* -- a table from keys to postings (u32 each) ---------------------------------------------
 * Open addressing, linear probing, load <= 3/4. A slot is 8 bytes, eight a cache line: the
 * tag (32 bits of the key's hash) and where the key's record is in one arena: its postings
 * (one u32: the posting, or LIST and an index into the table's lists), its length (1 byte,
 * or 255 and 4 bytes), its bytes. No allocation per key (one each cost 280 MB at 100,000
 * subscriptions). Most story words are in no table, and their lookups read only the slots:
 * at 580,000 keys 8 MB of them, where 16-byte slots (postings inline) and the key bytes
 * apart cost 24 MB and ~15 us more a story than the old hash-only table, measured, the
 * extra all cache misses. A story's lookups find the slots by tag first and read the
 * records (bytes compared, postings) in a later pass, prefetched meanwhile (see scan). */

typedef struct {
    uint32_t tag;  /* EMPTY, DELETED or tag_of(the key's hash) */
    uint32_t rec;  /* offset of the key's record in the arena */
} Slot;

_Static_assert(sizeof(Slot) == 8, "eight slots a cache line");

#define LIST 0x80000000u  /* postings are < 2^31: term ids < 2^30, shifted once at most */

typedef struct {
    Slot *slots;
    void *slots_raw;
    size_t mask;  /* capacity - 1 */
    size_t used, deleted;
    char *arena;  /* the keys' records */
    uint32_t alen, acap, agarbage;  /* agarbage: bytes of removed keys, dropped at rebuild */
    Vec *lists;
    uint32_t nlists, caplists;
    Vec free_lists;
    uint64_t lookups, probes, compares;  /* counted for probe_stats() */
} Table;

#define MAX_KEY (1U << 30)

static inline uint32_t record_size(uint32_t len) { return 4 + len + (len < 255 ? 1 : 5); }

static inline uint32_t rec_data(const Table *t, uint32_t rec) {
    uint32_t v;
    memcpy(&v, t->arena + rec, sizeof(v));
    return v;
}

static inline void set_rec_data(Table *t, uint32_t rec, uint32_t v) { memcpy(t->arena + rec, &v, sizeof(v)); }

/* The key of the record at `rec`; its length in *len. */
static inline const char *key_at(const Table *t, uint32_t rec, uint32_t *len) {
    const unsigned char *a = (const unsigned char *)t->arena + rec + 4;
    if (a[0] < 255) {
        *len = a[0];
        return (const char *)a + 1;
    }
    memcpy(len, a + 1, sizeof(*len));
    return (const char *)a + 5;
}

static inline int key_is(const Table *t, const Slot *sl, const char *s, uint32_t len) {
    uint32_t klen;
    const char *k = key_at(t, sl->rec, &klen);
    return klen == len && memcmp(k, s, len) == 0;
}

static int table_init(Table *t) {
    memset(t, 0, sizeof(*t));
    t->slots = big_calloc(8 * sizeof(Slot), &t->slots_raw);
    if (!t->slots) { PyErr_NoMemory(); return -1; }
    t->mask = 7;
    return 0;
}

static void table_free(Table *t) {
    for (uint32_t i = 0; i < t->nlists; i++) vec_free(&t->lists[i]);
    PyMem_RawFree(t->lists);
    PyMem_RawFree(t->slots_raw);
    PyMem_RawFree(t->arena);
    vec_free(&t->free_lists);
    memset(t, 0, sizeof(*t));
}

/* The first slot from the key's home on whose tag it agrees, or NULL at an empty slot: the
 * key's slot unless another key there has the same tag (odds ~2^-32 a slot; the hash is
 * keyed, so no one can choose such keys). The caller compares the bytes. */
static inline Slot *table_find_tag(Table *t, uint64_t hash) {
    const uint32_t tag = tag_of(hash);
    t->lookups++;
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        Slot *sl = &t->slots[i];
        t->probes++;
        if (sl->tag == tag) return sl;
        if (sl->tag == EMPTY) return NULL;
    }
}

/* The slot holding key s[0..len) (whose hash is `hash`), or NULL: bytes compared. */
static Slot *table_find(Table *t, uint64_t hash, const char *s, uint32_t len) {
    const uint32_t tag = tag_of(hash);
    t->lookups++;
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        Slot *sl = &t->slots[i];
        t->probes++;
        if (sl->tag == tag) {
            t->compares++;
            if (key_is(t, sl, s, len)) return sl;
        }
        if (sl->tag == EMPTY) return NULL;
    }
}

/* The postings of a key: *n of them; `one` holds a single one. */
static inline const uint32_t *postings(const Table *t, const Slot *s, uint32_t *n, uint32_t *one) {
    uint32_t data = rec_data(t, s->rec);
    if (!(data & LIST)) {
        *one = data;
        *n = 1;
        return one;
    }
    const Vec *l = &t->lists[data & ~LIST];
    *n = l->n;
    return vec_citems(l);
}

/* The longest distance of a key from its home slot: what the worst lookup walks. */
static size_t table_longest_run(const Table *t) {
    size_t longest = 0;
    for (size_t i = 0; i <= t->mask; i++) {
        const Slot *s = &t->slots[i];
        if (s->tag < 2) continue;
        uint32_t len;
        const char *k = key_at(t, s->rec, &len);
        size_t d = (i - (hash_bytes(k, len) & t->mask)) & t->mask;
        if (d > longest) longest = d;
    }
    return longest;
}

/* Rehash every key into `cap` slots, and the keys into a new arena without the bytes of
 * removed ones. */
static int table_rebuild(Table *t, size_t cap) {
    void *raw;
    Slot *slots = big_calloc(cap * sizeof(Slot), &raw);
    if (!slots) { PyErr_NoMemory(); return -1; }
    uint32_t need = t->alen - t->agarbage, alen = 0;
    char *arena = NULL;
    if (need && !(arena = PyMem_RawMalloc(need))) {
        PyMem_RawFree(raw);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i <= t->mask; i++) {
        Slot s = t->slots[i];
        if (s.tag < 2) continue;
        uint32_t len;
        const char *key = key_at(t, s.rec, &len);
        size_t j = hash_bytes(key, len) & (cap - 1);
        while (slots[j].tag != EMPTY) j = (j + 1) & (cap - 1);
        uint32_t size = record_size(len);
        memcpy(arena + alen, t->arena + s.rec, size);
        s.rec = alen;
        alen += size;
        slots[j] = s;
    }
    PyMem_RawFree(t->slots_raw);
    PyMem_RawFree(t->arena);
    t->slots = slots;
    t->slots_raw = raw;
    t->mask = cap - 1;
    t->deleted = 0;
    t->arena = arena;
    t->alen = t->acap = alen;
    t->agarbage = 0;
    return 0;
}

/* Append a key's record to the arena; its offset in *off. */
static int arena_put(Table *t, const char *key, uint32_t len, uint32_t posting, uint32_t *off) {
    uint32_t size = record_size(len);
    if ((uint64_t)t->alen + size > t->acap) {
        uint64_t cap = t->acap ? t->acap : 4096;
        while (cap < (uint64_t)t->alen + size) cap *= 2;
        if (cap > UINT32_MAX) { PyErr_SetString(PyExc_MemoryError, "matcher key arena full"); return -1; }
        char *a = PyMem_RawRealloc(t->arena, (size_t)cap);
        if (!a) { PyErr_NoMemory(); return -1; }
        t->arena = a;
        t->acap = (uint32_t)cap;
    }
    unsigned char *a = (unsigned char *)t->arena + t->alen;
    memcpy(a, &posting, sizeof(posting));
    a += 4;
    if (len < 255) {
        a[0] = (unsigned char)len;
    } else {
        a[0] = 255;
        memcpy(a + 1, &len, sizeof(len));
    }
    memcpy(a + size - 4 - len, key, len);
    *off = t->alen;
    t->alen += size;
    return 0;
}

static int table_add(Table *t, uint64_t hash, const char *key, uint32_t len, uint32_t posting) {
    Slot *s = table_find(t, hash, key, len);
    if (s) {
        uint32_t data = rec_data(t, s->rec);
        if (data & LIST) return vec_push(&t->lists[data & ~LIST], posting);
        uint32_t li;
        if (t->free_lists.n) {
            li = vec_items(&t->free_lists)[--t->free_lists.n];
        } else {
            if (t->nlists == t->caplists) {
                uint32_t c = t->caplists ? t->caplists * 2 : 16;
                Vec *l = PyMem_RawRealloc(t->lists, (size_t)c * sizeof(Vec));
                if (!l) { PyErr_NoMemory(); return -1; }
                memset(l + t->caplists, 0, (size_t)(c - t->caplists) * sizeof(Vec));
                t->lists = l;
                t->caplists = c;
            }
            li = t->nlists++;
        }
        if (vec_push(&t->lists[li], data) < 0 || vec_push(&t->lists[li], posting) < 0) {
            vec_free(&t->lists[li]);
            vec_push(&t->free_lists, li);
            return -1;
        }
        set_rec_data(t, s->rec, LIST | li);
        return 0;
    }
    if (len >= MAX_KEY) { PyErr_SetString(PyExc_ValueError, "key too long"); return -1; }
    size_t cap = t->mask + 1;
    if ((t->used + t->deleted + 1) * 4 > cap * 3) {
        /* over 3/4 full (deleted slots count): rebuild at most 3/5 full */
        size_t want = cap;
        while ((t->used + 1) * 5 > want * 3) want *= 2;
        if (table_rebuild(t, want) < 0) return -1;
    } else if (t->agarbage > 65536 && t->agarbage > t->alen / 2) {
        if (table_rebuild(t, cap) < 0) return -1;  /* most of the arena is removed keys */
    }
    uint32_t off;
    if (arena_put(t, key, len, posting, &off) < 0) return -1;
    size_t i = hash & t->mask;
    while (t->slots[i].tag >= 2) i = (i + 1) & t->mask;
    if (t->slots[i].tag == DELETED) t->deleted--;
    t->slots[i] = (Slot){tag_of(hash), off};
    t->used++;
    return 0;
}

/* Returns whether the key's last posting went (the key with it). */
static int table_remove(Table *t, uint64_t hash, const char *key, uint32_t len, uint32_t posting) {
    Slot *s = table_find(t, hash, key, len);
    if (!s) return 0;
    uint32_t data = rec_data(t, s->rec);
    if (!(data & LIST)) {
        if (data != posting) return 0;
        t->agarbage += record_size(len);
        s->tag = DELETED;
        t->used--;
        t->deleted++;
        return 1;
    }
    Vec *l = &t->lists[data & ~LIST];
    if (!vec_remove(l, posting)) return 0;
    if (l->n == 1) {
        set_rec_data(t, s->rec, vec_items(l)[0]);
        vec_free(l);
        if (vec_push(&t->free_lists, data & ~LIST) < 0) PyErr_Clear();  /* the list is only not reused */
    }
    return 0;
}

/* -- the index ------------------------------------------------------------------------ */

#define SMALL_PROGRAM 8  /* ints: `a b`, `"a b"`, `a OR b`, `title:a` and the like */

/* One distinct query. The first cache line is all that a candidate which does not match
 * costs (its program inline when short); the second is read for matches and removal. */
typedef struct {
    _Alignas(64) PyObject *subs;  /* flat tuple: subscription id, query as written, id, ...; NULL: free */
    PyObject *words;      /* tuple of displays, or NULL: worked out from the leaves found */
    long long *ids;       /* the ids again, as C ints: results are sorted by them */
    int32_t *prog;        /* a longer program; NULL: in `small`, or none (a single word) */
    int32_t small[SMALL_PROGRAM];  /* small[1] != 0: a program of up to SMALL_PROGRAM ints */
    int32_t *leaves;      /* one node per positive term; only for queries with OR */
    uint32_t nleaves;
    uint32_t ncover;
    uint32_t *cover;
    PyObject *displays;   /* tuple, one per leaf (queries with OR only) */
} Entry;

_Static_assert(sizeof(Entry) == 128 && offsetof(Entry, leaves) == 64, "two cache lines, the first for candidates");

/* NULL: a single word, so holding its cover atom is matching. */
static inline const int32_t *program(const Entry *e) { return e->prog ? e->prog : e->small[1] ? e->small : NULL; }

/* Everything about one term that a story touches, in one place: one cache miss, not five. */
typedef struct {
    uint32_t stamp_any, stamp_title;  /* the story number when last found anywhere / in the title */
    uint32_t occ;                     /* its last hit in the current story */
    uint32_t prefix_len;
    char *prefix;                     /* prefix terms: the prefix, to remove it by */
    Vec cover[2];                     /* entries filed under atom 2t (anywhere), 2t + 1 (title) */
    char pad_[8];                     /* 64 bytes: one cache line each, never two */
} Term;

typedef struct {
    uint32_t tid, pos, next;  /* next: the previous hit of the same term, or NONE */
} Hit;

typedef struct {
    const Entry *entry;
    uint64_t mask;  /* queries with OR: the leaves this story holds */
} Matched;

typedef struct {
    PyObject_HEAD
    Table words;  /* forms of word terms and exact words -> (term id << 1 | takes 's) */
    Table prefixes;  /* prefix terms' prefixes -> their term ids */
    /* A story word is looked up by each of its own prefixes whose length some prefix term
     * has: plen_uses[L] counts the prefix terms of L bytes, up to the longest, maxplen. */
    uint32_t *plen_uses;
    uint32_t plcap, maxplen;
    /* One bit per value of HEAD_BITS bits of a prefix's hash (32 KB): most prefixes of
     * story words are no term's, and this answers that without probing the table (at 8,000
     * prefix terms 3% of the tests pass; with 8 KB, 12% did, ~80 probes a story). The counts
     * behind the bits let a removal clear its bit without a rescan. */
    uint64_t head_bits[(1U << HEAD_BITS) / 64];
    uint32_t *head_count;  /* one per bit */
    Term *terms;
    void *terms_raw;
    uint32_t tcap;
    Entry *entries;
    void *entries_raw;
    uint32_t *stamp_entry;
    uint32_t ecap;
    uint32_t story;
    int busy;  /* inside a method: see ready() */
    /* per story scratch */
    struct Probe_ *probes;  /* prefixes of story words whose bit is set */
    uint32_t nprobes, capprobes;
    struct Look_ *looks;    /* slots found by tag, their key bytes yet to compare */
    uint32_t nlooks, caplooks;
    Hit *hits;
    uint32_t nhits, caphits;
    uint32_t *tok;  /* hits of word q: [tok[q], tok[q + 1]) */
    struct Word_ *words_buf;
    uint32_t capwords;
    uint32_t captok;
    uint32_t ntitle, ntotal;
    Vec present, cands;
    Matched *matched;
    uint32_t capmatched;
    /* result types, filled without running their __init__ */
    PyTypeObject *match_type, *spans_type;
    PyMemberDef *m_id, *m_query, *m_matched, *m_spans;
    PyMemberDef *s_story, *s_leaves, *s_mask, *s_spans;
} Index;

static int grow_u32(uint32_t **a, uint32_t old, uint32_t cap) {
    uint32_t *v = PyMem_RawRealloc(*a, (size_t)cap * sizeof(uint32_t));
    if (!v) { PyErr_NoMemory(); return -1; }
    memset(v + old, 0, (size_t)(cap - old) * sizeof(uint32_t));
    *a = v;
    return 0;
}

/* The next capacity (64, 128, ...) that holds index `need`. */
static uint32_t capacity_for(uint32_t cap, uint32_t need) {
    if (!cap) cap = 64;
    while (cap <= need) cap *= 2;
    return cap;
}

/* A copy of `old` records of `size` bytes at `items` in a zeroed array of `cap` records
 * (big_calloc's), the old one freed; NULL on error. */
static void *regrow(const void *items, void **raw, size_t size, uint32_t old, uint32_t cap) {
    void *r;
    char *p = big_calloc((size_t)cap * size, &r);
    if (!p) { PyErr_NoMemory(); return NULL; }
    if (old) memcpy(p, items, (size_t)old * size);
    PyMem_RawFree(*raw);
    *raw = r;
    return p;
}

static int ensure_term(Index *ix, uint32_t tid) {
    if (tid < ix->tcap) return 0;
    uint32_t cap = capacity_for(ix->tcap, tid);
    Term *t = regrow(ix->terms, &ix->terms_raw, sizeof(Term), ix->tcap, cap);
    if (!t) return -1;
    ix->terms = t;
    ix->tcap = cap;
    return 0;
}

static int ensure_entry(Index *ix, uint32_t eid) {
    if (eid < ix->ecap) return 0;
    uint32_t cap = capacity_for(ix->ecap, eid);
    if (grow_u32(&ix->stamp_entry, ix->ecap, cap) < 0) return -1;
    Entry *e = regrow(ix->entries, &ix->entries_raw, sizeof(Entry), ix->ecap, cap);
    if (!e) return -1;
    ix->entries = e;
    ix->ecap = cap;
    return 0;
}

/* The __slots__ member `name` of exactly `type`, whose objects the core fills in place. A
 * descriptor borrowed from another class (`Small.x = Big.x`) would have the core write at
 * Big's offset inside a smaller Small object: refused, as is anything but a plain slot. */
static PyMemberDef *member_of(PyTypeObject *type, const char *name) {
    PyObject *d = PyObject_GetAttrString((PyObject *)type, name);
    if (!d) return NULL;
    PyMemberDef *def = NULL;
    if (Py_IS_TYPE(d, &PyMemberDescr_Type) && PyDescr_TYPE(d) == type) {
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type == T_OBJECT_EX && !(m->flags & READONLY) && m->offset >= (Py_ssize_t)sizeof(PyObject) &&
            m->offset + (Py_ssize_t)sizeof(PyObject *) <= type->tp_basicsize)
            def = m;
    }
    if (!def) PyErr_Format(PyExc_TypeError, "%s.%s is not a __slots__ member of that class", type->tp_name, name);
    Py_DECREF(d);
    return def;
}

static int Index_init(Index *ix, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"match_type", "spans_type", NULL};
    PyObject *mt, *st;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!", kwlist, &PyType_Type, &mt, &PyType_Type, &st))
        return -1;
    if (ix->match_type || ix->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Index is already initialised");
        return -1;
    }
    if ((!ix->words.slots && table_init(&ix->words) < 0) || (!ix->prefixes.slots && table_init(&ix->prefixes) < 0))
        return -1;
    if (!ix->head_count && !(ix->head_count = PyMem_RawCalloc(1U << HEAD_BITS, sizeof(uint32_t)))) {
        PyErr_NoMemory();
        return -1;
    }
    /* Looking the members up may run code (a metaclass's __getattribute__): it finds the
     * index busy, and not ready until every member is known. */
    ix->busy = 1;
    PyTypeObject *m = (PyTypeObject *)mt, *sp = (PyTypeObject *)st;
    int ok = (ix->m_id = member_of(m, "subscription_id")) && (ix->m_query = member_of(m, "query")) &&
             (ix->m_matched = member_of(m, "matched")) && (ix->m_spans = member_of(m, "spans")) &&
             (ix->s_story = member_of(sp, "_story")) && (ix->s_leaves = member_of(sp, "_leaves")) &&
             (ix->s_mask = member_of(sp, "_mask")) && (ix->s_spans = member_of(sp, "_spans"));
    ix->busy = 0;
    if (!ok) return -1;  /* not ready: every method refuses */
    ix->match_type = (PyTypeObject *)Py_NewRef(mt);
    ix->spans_type = (PyTypeObject *)Py_NewRef(st);
    return 0;
}

/* Free an entry. Its Python objects go last, once the entry is empty: dropping them may
 * run any finaliser (which finds the index busy). */
static void entry_clear(Entry *e) {
    Entry old = *e;
    memset(e, 0, sizeof(*e));
    PyMem_RawFree(old.prog);
    PyMem_RawFree(old.leaves);
    PyMem_RawFree(old.cover);
    PyMem_RawFree(old.ids);
    Py_XDECREF(old.subs);
    Py_XDECREF(old.words);
    Py_XDECREF(old.displays);
}

static void Index_dealloc(Index *ix) {
    ix->busy = 1;
    table_free(&ix->words);
    table_free(&ix->prefixes);
    for (uint32_t i = 0; i < ix->tcap; i++) {
        PyMem_RawFree(ix->terms[i].prefix);
        vec_free(&ix->terms[i].cover[0]);
        vec_free(&ix->terms[i].cover[1]);
    }
    PyMem_RawFree(ix->terms_raw);
    for (uint32_t i = 0; i < ix->ecap; i++) entry_clear(&ix->entries[i]);
    PyMem_RawFree(ix->entries_raw);
    PyMem_RawFree(ix->stamp_entry);
    PyMem_RawFree(ix->plen_uses);
    PyMem_RawFree(ix->head_count);
    PyMem_RawFree(ix->probes);
    PyMem_RawFree(ix->looks);
    PyMem_RawFree(ix->hits);
    PyMem_RawFree(ix->tok);
    PyMem_RawFree(ix->words_buf);
    vec_free(&ix->present);
    vec_free(&ix->cands);
    PyMem_RawFree(ix->matched);
    Py_XDECREF(ix->match_type);
    Py_XDECREF(ix->spans_type);
    Py_TYPE(ix)->tp_free((PyObject *)ix);
}

/* The filter's bit for a prefix, from its running hash_raw() value: one multiply, where
 * hash_finish would cost one per byte of every story word. */
static inline uint32_t head_bit_of(uint64_t raw) { return (uint32_t)((raw * 0x9e3779b97f4a7c15ULL) >> (64 - HEAD_BITS)); }

static inline int head_bit(const Index *ix, uint64_t raw) {
    uint32_t b = head_bit_of(raw);
    return (int)(ix->head_bits[b >> 6] >> (b & 63) & 1);
}

static void count_head(Index *ix, uint64_t raw, int delta) {
    uint32_t b = head_bit_of(raw);
    ix->head_count[b] += (uint32_t)delta;
    if (ix->head_count[b]) ix->head_bits[b >> 6] |= 1ULL << (b & 63);
    else ix->head_bits[b >> 6] &= ~(1ULL << (b & 63));
}

/* Every method starts here, and sets `busy` until it returns. A method may run Python code
 * it does not control: match() allocates objects (so the garbage collector, so any
 * finaliser), removals drop references (finalisers again). Such code calling back into
 * this index would reallocate or free the arrays and entries the outer call is using. */
static int ready(Index *ix) {
    if (!ix->match_type) {
        PyErr_SetString(PyExc_RuntimeError, "Index.__init__ did not complete");
        return 0;
    }
    if (ix->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the matcher index was called from inside its own match() or another of its methods");
        return 0;
    }
    return 1;
}

/* The methods' bodies, each run by a wrapper that holds `busy` around it. */
#define GUARDED(name)                                                 \
    static PyObject *name##_body(Index *ix, PyObject *arg);           \
    static PyObject *name(Index *ix, PyObject *arg) {                 \
        if (!ready(ix)) return NULL;                                  \
        ix->busy = 1;                                                 \
        PyObject *result = name##_body(ix, arg);                      \
        ix->busy = 0;                                                 \
        return result;                                                \
    }                                                                 \
    static PyObject *name##_body(Index *ix, PyObject *arg)

/* Ids are exact ints (an int subclass or an object with __index__ would run code). */
static int parse_tid(PyObject *o, uint32_t *tid) {
    if (!PyLong_CheckExact(o)) { PyErr_SetString(PyExc_TypeError, "ids must be int"); return -1; }
    unsigned long v = PyLong_AsUnsignedLong(o);
    if (v == (unsigned long)-1 && PyErr_Occurred()) return -1;
    if (v >= (1UL << 30)) { PyErr_SetString(PyExc_OverflowError, "id too large"); return -1; }
    *tid = (uint32_t)v;
    return 0;
}

/* (tid, str[, bool]) arguments, exact types; the str as UTF-8. */
static int parse_key(PyObject *args, int with_flag, uint32_t *tid, const char **s, uint32_t *len, int *flag) {
    Py_ssize_t n = with_flag ? 3 : 2;
    if (!PyTuple_CheckExact(args) || PyTuple_GET_SIZE(args) != n) {
        PyErr_Format(PyExc_TypeError, "expected %zd arguments", n);
        return -1;
    }
    PyObject *k = PyTuple_GET_ITEM(args, 1);
    if (parse_tid(PyTuple_GET_ITEM(args, 0), tid) < 0) return -1;
    if (!PyUnicode_CheckExact(k)) { PyErr_SetString(PyExc_TypeError, "keys must be str"); return -1; }
    Py_ssize_t l;
    if (!(*s = PyUnicode_AsUTF8AndSize(k, &l))) return -1;
    if (l >= (1L << 30)) { PyErr_SetString(PyExc_ValueError, "key too long"); return -1; }
    *len = (uint32_t)l;
    if (with_flag) {
        PyObject *f = PyTuple_GET_ITEM(args, 2);
        if (!PyBool_Check(f)) { PyErr_SetString(PyExc_TypeError, "possessive must be a bool"); return -1; }
        *flag = f == Py_True;
    }
    return 0;
}

/* add_word(tid, form, possessive): a story word equal to `form` holds term `tid`; with
 * `possessive`, so does `form` + "'s". Folding the possessive into a flag halves the keys. */
GUARDED(Index_add_word) {
    const char *s;
    uint32_t len, tid;
    int possessive;
    if (parse_key(arg, 1, &tid, &s, &len, &possessive) < 0) return NULL;
    if (ensure_term(ix, tid) < 0 || table_add(&ix->words, hash_bytes(s, len), s, len, tid << 1 | (uint32_t)possessive) < 0)
        return NULL;
    Py_RETURN_NONE;
}

GUARDED(Index_remove_word) {
    const char *s;
    uint32_t len, tid;
    int possessive;
    if (parse_key(arg, 1, &tid, &s, &len, &possessive) < 0) return NULL;
    table_remove(&ix->words, hash_bytes(s, len), s, len, tid << 1 | (uint32_t)possessive);
    Py_RETURN_NONE;
}

/* add_prefix(tid, prefix): a story word starting with `prefix` holds term `tid`. Filed under
 * the whole prefix: a story word is looked up by its own prefixes of the lengths in use, so
 * its cost does not grow with how many prefixes share its first bytes. */
GUARDED(Index_add_prefix) {
    const char *s;
    uint32_t len, tid;
    if (parse_key(arg, 0, &tid, &s, &len, NULL) < 0) return NULL;
    if (len == 0) { PyErr_SetString(PyExc_ValueError, "empty prefix"); return NULL; }
    if (ensure_term(ix, tid) < 0) return NULL;
    if (ix->terms[tid].prefix) { PyErr_SetString(PyExc_ValueError, "term id already a prefix"); return NULL; }
    if (len >= ix->plcap) {
        uint32_t cap = capacity_for(ix->plcap, len);
        if (grow_u32(&ix->plen_uses, ix->plcap, cap) < 0) return NULL;
        ix->plcap = cap;
    }
    char *copy = PyMem_RawMalloc(len);
    if (!copy) return PyErr_NoMemory();
    uint64_t raw = hash_raw(s, len);
    if (table_add(&ix->prefixes, hash_finish(raw), s, len, tid) < 0) { PyMem_RawFree(copy); return NULL; }
    count_head(ix, raw, 1);
    memcpy(copy, s, len);
    Term *t = &ix->terms[tid];
    t->prefix = copy;
    t->prefix_len = len;
    ix->plen_uses[len]++;
    if (len > ix->maxplen) ix->maxplen = len;
    Py_RETURN_NONE;
}

GUARDED(Index_remove_prefix) {
    uint32_t tid;
    if (parse_tid(arg, &tid) < 0) return NULL;
    if (tid >= ix->tcap || !ix->terms[tid].prefix) Py_RETURN_NONE;
    Term *t = &ix->terms[tid];
    uint64_t raw = hash_raw(t->prefix, t->prefix_len);
    table_remove(&ix->prefixes, hash_finish(raw), t->prefix, t->prefix_len, tid);
    count_head(ix, raw, -1);
    ix->plen_uses[t->prefix_len]--;
    while (ix->maxplen && !ix->plen_uses[ix->maxplen]) ix->maxplen--;
    PyMem_RawFree(t->prefix);
    t->prefix = NULL;
    t->prefix_len = 0;
    Py_RETURN_NONE;
}

/* Copy a list or tuple of exact ints into a fresh int32 array; checks nothing about its
 * shape. Exact types: any other sequence, or an int-like item, would run Python code. */
static int32_t *ints_of(PyObject *o, uint32_t *n) {
    if (!PyList_CheckExact(o) && !PyTuple_CheckExact(o)) {
        PyErr_SetString(PyExc_TypeError, "expected a list or tuple of int");
        return NULL;
    }
    Py_ssize_t len = PySequence_Fast_GET_SIZE(o);
    if (len >= (1L << 30)) { PyErr_SetString(PyExc_ValueError, "too many ints"); return NULL; }
    int32_t *out = PyMem_RawMalloc((size_t)(len ? len : 1) * sizeof(int32_t));
    if (!out) { PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(o, i);
        int overflow = 0;
        long v = PyLong_CheckExact(item) ? PyLong_AsLongAndOverflow(item, &overflow) : -1;
        if (!PyLong_CheckExact(item) || overflow || v < 0 || v >= (1L << 31)) {
            PyErr_SetString(PyExc_ValueError, "program values must be small non-negative ints");
            PyMem_RawFree(out);
            return NULL;
        }
        out[i] = (int32_t)v;
    }
    *n = (uint32_t)len;
    return out;
}

/* Every node within [p, end) well formed, nested at most MAX_DEPTH deep, and every atom's
 * term known: a malformed program must be refused here, not read past its end (or recurse
 * off the C stack) while matching. */
static int check_nodes(Index *ix, const int32_t *p, const int32_t *end, int depth) {
    if (depth > MAX_DEPTH) return 0;
    while (p < end) {
        if (end - p < 2 || p[1] < 2 || p[1] > end - p) return 0;
        const int32_t *q = p + p[1];
        switch (p[0]) {
        case OP_ATOM:
            if (p[1] != 3 || (uint32_t)(p[2] >> 1) >= ix->tcap) return 0;
            break;
        case OP_PHRASE:
            /* p[1] - 4, not 4 + p[3]: any p[3] up to 2^31 - 1 may arrive */
            if (p[1] < 5 || p[3] < 1 || p[3] != p[1] - 4) return 0;
            for (int32_t j = 0; j < p[3]; j++)
                if ((p[4 + j] & 1) || (uint32_t)(p[4 + j] >> 1) >= ix->tcap) return 0;
            break;
        case OP_AND:
        case OP_OR:
            if (!check_nodes(ix, p + 2, q, depth + 1)) return 0;
            break;
        case OP_NOT:
            /* exactly one child, filling the node */
            if (p[1] < 4 || !check_nodes(ix, p + 2, q, depth + 1) || p[3] != p[1] - 2) return 0;
            break;
        default:
            return 0;
        }
        p = q;
    }
    return 1;
}

static int32_t *program_of(Index *ix, PyObject *o, uint32_t *n, uint32_t *nodes) {
    int32_t *prog = ints_of(o, n);
    if (!prog) return NULL;
    if (!check_nodes(ix, prog, prog + *n, 0)) {
        PyMem_RawFree(prog);
        PyErr_SetString(PyExc_ValueError, "malformed matcher program");
        return NULL;
    }
    if (nodes) {
        uint32_t count = 0;
        for (const int32_t *p = prog; p < prog + *n; p += p[1]) count++;
        *nodes = count;
    }
    return prog;
}

/* The ids of a flat (id, query, id, query...) tuple, checked: exact ints and strs, pairs. */
static long long *ids_of(PyObject *subs) {
    Py_ssize_t n = PyTuple_GET_SIZE(subs);
    if (n == 0 || n % 2) {
        PyErr_SetString(PyExc_ValueError, "subscribers: (id, query, ...) pairs, at least one");
        return NULL;
    }
    long long *ids = PyMem_RawMalloc((size_t)(n / 2) * sizeof(long long));
    if (!ids) { PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t k = 0; k < n / 2; k++) {
        PyObject *id = PyTuple_GET_ITEM(subs, 2 * k);
        int overflow = 0;
        ids[k] = PyLong_CheckExact(id) ? PyLong_AsLongLongAndOverflow(id, &overflow) : -1;
        if (!PyLong_CheckExact(id) || overflow || !PyUnicode_CheckExact(PyTuple_GET_ITEM(subs, 2 * k + 1))) {
            PyErr_SetString(PyExc_TypeError, "subscribers: (int id, str query) pairs, ids within 64 bits");
            PyMem_RawFree(ids);
            return NULL;
        }
    }
    return ids;
}

static int all_str(PyObject *tuple) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++)
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(tuple, i))) return 0;
    return 1;
}

/* add_entry(eid, cover, program, leaves, subscribers, words, displays)
 * program None: a single word; leaves None: `words` is what every match reports. */
GUARDED(Index_add_entry) {
    PyObject *eido, *covero, *progo, *leaveso, *subs, *words, *displays;
    uint32_t eid, n;
    if (!PyArg_ParseTuple(arg, "OOOOOOO", &eido, &covero, &progo, &leaveso, &subs, &words, &displays) ||
        parse_tid(eido, &eid) < 0)
        return NULL;
    if (!PyTuple_CheckExact(subs) || !PyTuple_CheckExact(displays) || !all_str(displays) ||
        (words != Py_None && (!PyTuple_CheckExact(words) || !all_str(words)))) {
        PyErr_SetString(PyExc_TypeError, "subscribers, words and displays: tuples (of str)");
        return NULL;
    }
    if (ensure_entry(ix, eid) < 0) return NULL;
    if (ix->entries[eid].subs) { PyErr_SetString(PyExc_ValueError, "entry id in use"); return NULL; }
    Entry e;
    memset(&e, 0, sizeof(e));
    if (!(e.ids = ids_of(subs))) return NULL;
    int32_t *cover = ints_of(covero, &e.ncover);
    if (!cover) goto fail;
    e.cover = (uint32_t *)cover;
    if (e.ncover == 0) { PyErr_SetString(PyExc_ValueError, "an entry needs a cover"); goto fail; }
    for (uint32_t i = 0; i < e.ncover; i++)
        if ((e.cover[i] >> 1) >= ix->tcap) { PyErr_SetString(PyExc_ValueError, "unknown term in cover"); goto fail; }
    if (progo != Py_None && !(e.prog = program_of(ix, progo, &n, NULL))) goto fail;
    if (progo != Py_None && n == 0) { PyErr_SetString(PyExc_ValueError, "empty program"); goto fail; }
    if (e.prog && n <= SMALL_PROGRAM) {
        memcpy(e.small, e.prog, (size_t)n * sizeof(int32_t));
        PyMem_RawFree(e.prog);
        e.prog = NULL;
    }
    if (leaveso != Py_None) {
        if (!(e.leaves = program_of(ix, leaveso, &n, &e.nleaves))) goto fail;
        if (e.nleaves != (uint32_t)PyTuple_GET_SIZE(displays) || e.nleaves > MAX_LEAVES) {
            PyErr_SetString(PyExc_ValueError, "one display per leaf, at most 62 leaves");
            goto fail;
        }
    } else if (words == Py_None) {
        PyErr_SetString(PyExc_TypeError, "words must be a tuple when leaves is None");
        goto fail;
    }
    for (uint32_t i = 0; i < e.ncover; i++) {
        if (vec_push(&ix->terms[e.cover[i] >> 1].cover[e.cover[i] & 1], eid) < 0) {
            for (uint32_t j = 0; j < i; j++) vec_remove(&ix->terms[e.cover[j] >> 1].cover[e.cover[j] & 1], eid);
            goto fail;
        }
    }
    e.subs = Py_NewRef(subs);
    e.words = leaveso == Py_None ? Py_NewRef(words) : NULL;
    e.displays = Py_NewRef(displays);
    ix->entries[eid] = e;
    Py_RETURN_NONE;
fail:
    entry_clear(&e);
    return NULL;
}

GUARDED(Index_set_subscribers) {
    PyObject *eido, *subs;
    uint32_t eid;
    if (!PyArg_ParseTuple(arg, "OO", &eido, &subs) || parse_tid(eido, &eid) < 0) return NULL;
    if (!PyTuple_CheckExact(subs)) { PyErr_SetString(PyExc_TypeError, "subscribers must be a tuple"); return NULL; }
    if (eid >= ix->ecap || !ix->entries[eid].subs) { PyErr_SetString(PyExc_KeyError, "no such entry"); return NULL; }
    long long *ids = ids_of(subs);
    if (!ids) return NULL;
    Entry *e = &ix->entries[eid];
    PyMem_RawFree(e->ids);
    e->ids = ids;
    PyObject *old = e->subs;
    e->subs = Py_NewRef(subs);
    Py_DECREF(old);  /* last: may run a finaliser */
    Py_RETURN_NONE;
}

GUARDED(Index_remove_entry) {
    uint32_t eid;
    if (parse_tid(arg, &eid) < 0) return NULL;
    if (eid >= ix->ecap || !ix->entries[eid].subs) Py_RETURN_NONE;
    Entry *e = &ix->entries[eid];
    for (uint32_t i = 0; i < e->ncover; i++) vec_remove(&ix->terms[e->cover[i] >> 1].cover[e->cover[i] & 1], eid);
    entry_clear(e);
    Py_RETURN_NONE;
}

/* -- matching one story -------------------------------------------------------------- */

static int reserve_hits(Index *ix, uint32_t more) {
    if (ix->nhits + more <= ix->caphits) return 0;
    uint32_t cap = ix->caphits ? ix->caphits : 256;
    while (cap < ix->nhits + more) cap *= 2;
    Hit *h = PyMem_RawRealloc(ix->hits, (size_t)cap * sizeof(Hit));
    if (!h) { PyErr_NoMemory(); return -1; }
    ix->hits = h;
    ix->caphits = cap;
    return 0;
}

static inline int has_atom(const Index *ix, uint32_t atom) {
    const Term *t = &ix->terms[atom >> 1];
    return (atom & 1 ? t->stamp_title : t->stamp_any) == ix->story;
}

static inline int word_has(const Index *ix, uint32_t pos, uint32_t tid) {
    for (uint32_t k = ix->tok[pos]; k < ix->tok[pos + 1]; k++)
        if (ix->hits[k].tid == tid) return 1;
    return 0;
}

/* The words of atoms[0..n) next to each other, in order, within the title or the summary. */
static int has_phrase(const Index *ix, const int32_t *atoms, uint32_t n, int title_only) {
    for (uint32_t j = 0; j < n; j++) {
        const Term *t = &ix->terms[(uint32_t)atoms[j] >> 1];
        if ((title_only ? t->stamp_title : t->stamp_any) != ix->story) return 0;
    }
    uint32_t first = (uint32_t)atoms[0] >> 1;
    for (uint32_t h = ix->terms[first].occ; h != NONE; h = ix->hits[h].next) {
        uint32_t p = ix->hits[h].pos;
        uint32_t end = p < ix->ntitle ? ix->ntitle : ix->ntotal;
        if ((title_only && p >= ix->ntitle) || p + n > end) continue;
        uint32_t j = 1;
        while (j < n && word_has(ix, p + j, (uint32_t)atoms[j] >> 1)) j++;
        if (j == n) return 1;
    }
    return 0;
}

static int eval(const Index *ix, const int32_t *p) {
    const int32_t *q, *end = p + p[1];
    switch (p[0]) {
    case OP_ATOM:
        return has_atom(ix, (uint32_t)p[2]);
    case OP_PHRASE:
        return has_phrase(ix, p + 4, (uint32_t)p[3], p[2]);
    case OP_AND:
        for (q = p + 2; q < end; q += q[1])
            if (!eval(ix, q)) return 0;
        return 1;
    case OP_OR:
        for (q = p + 2; q < end; q += q[1])
            if (eval(ix, q)) return 1;
        return 0;
    default: /* OP_NOT */
        return !eval(ix, p + 2);
    }
}

static void restamp(Index *ix) {
    /* The story counter wrapped: forget every stamp so none can look current. */
    for (uint32_t i = 0; i < ix->tcap; i++) ix->terms[i].stamp_any = ix->terms[i].stamp_title = 0;
    memset(ix->stamp_entry, 0, (size_t)ix->ecap * sizeof(uint32_t));
    ix->story = 1;
}

/* One story word, hashed: pass 1 of scan. */
typedef struct Word_ {
    const char *s;
    uint32_t len;
    int possessive;
    uint64_t hash, stem;
    uint32_t probes;  /* its prefixes to look up end at ix->probes[probes] */
} Word;

/* A prefix of a story word that may be a prefix term's (its bit is set). */
typedef struct Probe_ {
    uint64_t hash;
    uint32_t len;
} Probe;

static int push_probe(Index *ix, uint64_t hash, uint32_t len) {
    if (ix->nprobes == ix->capprobes) {
        uint32_t cap = ix->capprobes ? ix->capprobes * 2 : 256;
        Probe *p = PyMem_RawRealloc(ix->probes, (size_t)cap * sizeof(Probe));
        if (!p) { PyErr_NoMemory(); return -1; }
        ix->probes = p;
        ix->capprobes = cap;
    }
    ix->probes[ix->nprobes++] = (Probe){hash, len};
    return 0;
}

/* A slot a story word's tag led to: a word (kind 0), the stem of a possessive (1, whose
 * postings count only with their possessive flag), or a prefix of the word (2). */
typedef struct Look_ {
    const Slot *slot;
    uint64_t hash;
    uint32_t q, len;
    int kind;
} Look;

static int push_look(Index *ix, const Table *t, const Slot *slot, uint64_t hash, uint32_t q, uint32_t len, int kind) {
    if (ix->nlooks == ix->caplooks) {
        uint32_t cap = ix->caplooks ? ix->caplooks * 2 : 256;
        Look *l = PyMem_RawRealloc(ix->looks, (size_t)cap * sizeof(Look));
        if (!l) { PyErr_NoMemory(); return -1; }
        ix->looks = l;
        ix->caplooks = cap;
    }
    ix->looks[ix->nlooks++] = (Look){slot, hash, q, len, kind};
    __builtin_prefetch(t->arena + slot->rec);  /* read in the next pass */
    return 0;
}

static int push_hits(Index *ix, const Table *t, const Slot *slot, uint32_t q, int possessive_only, int shift) {
    uint32_t n, one;
    const uint32_t *p = postings(t, slot, &n, &one);
    if (reserve_hits(ix, n) < 0) return -1;
    for (uint32_t k = 0; k < n; k++)
        if (!possessive_only || (p[k] & 1)) ix->hits[ix->nhits++] = (Hit){p[k] >> shift, q, NONE};
    return 0;
}

/* A lookup's first slots: its home's cache line, and the next when the home ends it (a
 * lookup reads ~2 slots on average at the table's load). */
static inline void prefetch_slots(const Slot *slots, uint64_t hash, size_t mask) {
    size_t i = hash & mask;
    __builtin_prefetch(&slots[i]);
    if ((i & 7) == 7) __builtin_prefetch(&slots[(i + 1) & mask]);
}

/* The words of a story, in three passes, so that the cache misses of each pass (a random
 * slot in a table of up to ~1M slots, then a random term) are all in flight at once
 * (prefetched AHEAD of use) instead of one after another. */
static int scan(Index *ix, PyObject *title, PyObject *summary) {
    Py_ssize_t nt = PyList_GET_SIZE(title);
    uint32_t total = ix->ntotal;
    if (total > ix->capwords) {
        Word *w = PyMem_RawRealloc(ix->words_buf, (size_t)total * sizeof(Word));
        if (!w) { PyErr_NoMemory(); return -1; }
        ix->words_buf = w;
        ix->capwords = total;
    }
    Word *words = ix->words_buf;
    const uint32_t maxplen = ix->prefixes.used ? ix->maxplen : 0;
    ix->nprobes = 0;
    /* 1: hash every word, its stem before a final 's, and its prefixes of the lengths some
     * prefix term has (one pass: the hash is computed a byte at a time) */
    for (uint32_t q = 0; q < total; q++) {
        PyObject *w = q < (uint32_t)nt ? PyList_GET_ITEM(title, q) : PyList_GET_ITEM(summary, q - nt);
        if (!PyUnicode_CheckExact(w)) { PyErr_SetString(PyExc_TypeError, "words must be str"); return -1; }
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(w, &len);
        if (!s) return -1;
        if (len >= (1L << 30)) { PyErr_SetString(PyExc_ValueError, "word too long"); return -1; }
        Word *wd = &words[q];
        wd->s = s;
        wd->len = (uint32_t)len;
        wd->possessive = len > 2 && s[len - 2] == '\'' && s[len - 1] == 's';
        uint64_t h = 0, stem = 0;
        for (uint32_t k = 0; k < wd->len; k++) {
            if (k + 2 == wd->len) stem = h;
            h = hash_step(h, (unsigned char)s[k]);
            if (k < maxplen && ix->plen_uses[k + 1] && head_bit(ix, h) &&
                push_probe(ix, hash_finish(h), k + 1) < 0)
                return -1;
        }
        wd->probes = ix->nprobes;
        wd->hash = hash_finish(h);
        wd->stem = wd->possessive ? hash_finish(stem) : 0;
    }
    /* 2: find every word's slot by its tag, the slots of the words AHEAD on prefetched */
    Table *table = &ix->words, *prefixes = &ix->prefixes;
    const Slot *slots = table->slots;
    const size_t mask = table->mask;
    ix->nlooks = 0;
    for (uint32_t q = 0; q < total && q < SLOTS_AHEAD; q++) prefetch_slots(slots, words[q].hash, mask);
    uint32_t probe = 0;
    for (uint32_t q = 0; q < total; q++) {
        const Word *wd = &words[q];
        if (q + SLOTS_AHEAD < total) {
            prefetch_slots(slots, words[q + SLOTS_AHEAD].hash, mask);
            if (words[q + SLOTS_AHEAD].possessive) prefetch_slots(slots, words[q + SLOTS_AHEAD].stem, mask);
        }
        const Slot *slot = table_find_tag(table, wd->hash);
        if (slot && push_look(ix, table, slot, wd->hash, q, wd->len, 0) < 0) return -1;
        if (wd->possessive && (slot = table_find_tag(table, wd->stem)) &&
            push_look(ix, table, slot, wd->stem, q, wd->len - 2, 1) < 0)
            return -1;
        for (; probe < wd->probes; probe++) {
            const Probe *pr = &ix->probes[probe];
            if ((slot = table_find_tag(prefixes, pr->hash)) && push_look(ix, prefixes, slot, pr->hash, q, pr->len, 2) < 0)
                return -1;
        }
    }
    /* 2b: compare the key bytes (prefetched in pass 2); hits in word order */
    ix->nhits = 0;
    uint32_t k = 0;
    for (uint32_t q = 0; q < total; q++) {
        ix->tok[q] = ix->nhits;
        for (; k < ix->nlooks && ix->looks[k].q == q; k++) {
            const Look *l = &ix->looks[k];
            Table *t = l->kind == 2 ? prefixes : table;
            const Slot *slot = l->slot;
            t->compares++;
            /* another key with the same tag came first: walk on, comparing bytes */
            if (!key_is(t, slot, words[q].s, l->len) && !(slot = table_find(t, l->hash, words[q].s, l->len)))
                continue;
            if (push_hits(ix, t, slot, q, l->kind == 1, l->kind == 2 ? 0 : 1) < 0) return -1;
        }
    }
    ix->tok[total] = ix->nhits;
    /* 3: stamp the terms; list each once in `present`; chain each term's hits */
    for (uint32_t k = 0; k < ix->nhits && k < AHEAD; k++) __builtin_prefetch(&ix->terms[ix->hits[k].tid]);
    for (uint32_t k = 0; k < ix->nhits; k++) {
        if (k + AHEAD < ix->nhits) __builtin_prefetch(&ix->terms[ix->hits[k + AHEAD].tid]);
        Hit *hit = &ix->hits[k];
        Term *t = &ix->terms[hit->tid];
        if (t->stamp_any != ix->story) {
            t->stamp_any = ix->story;
            t->occ = NONE;
            if (vec_push(&ix->present, hit->tid) < 0) return -1;
        }
        if (hit->pos < (uint32_t)nt) t->stamp_title = ix->story;
        hit->next = t->occ;
        t->occ = k;
    }
    return 0;
}

typedef struct {
    long long id;
    PyObject *match;
} Found;

static int by_id(const void *a, const void *b) {
    long long x = ((const Found *)a)->id, y = ((const Found *)b)->id;
    return (x > y) - (x < y);
}

/* The displays of the leaves this story holds, each once, in the query's order. */
static PyObject *found_words(const Entry *e, uint64_t mask) {
    PyObject *picked[MAX_LEAVES];
    Py_ssize_t n = 0;
    for (uint32_t i = 0; i < e->nleaves; i++) {
        if (!(mask >> i & 1)) continue;
        PyObject *d = PyTuple_GET_ITEM(e->displays, i);
        int seen = 0;
        for (Py_ssize_t j = 0; j < n && !seen; j++) {
            seen = picked[j] == d ? 1 : PyUnicode_Compare(picked[j], d) == 0;
            if (PyErr_Occurred()) return NULL;
        }
        if (!seen) picked[n++] = d;
    }
    PyObject *t = PyTuple_New(n);
    if (!t) return NULL;
    for (Py_ssize_t j = 0; j < n; j++) PyTuple_SET_ITEM(t, j, Py_NewRef(picked[j]));
    return t;
}

/* Fill a __slots__ member of an object fresh from tp_alloc (all NULL): what __init__ would
 * do, without a Python call per object (frozen dataclasses set each field through
 * object.__setattr__: ~1.3 us a Match, measured, against ~0.1 us here). */
static inline void put(PyObject *obj, const PyMemberDef *d, PyObject *v) {
    *(PyObject **)((char *)obj + d->offset) = Py_NewRef(v);
}

static PyObject *new_spans(Index *ix, const Entry *e, PyObject *story, PyObject *mask) {
    PyObject *s = ix->spans_type->tp_alloc(ix->spans_type, 0);
    if (!s) return NULL;
    put(s, ix->s_story, story);
    /* any subscriber's text: equal queries number their terms alike (StorySpans parses it) */
    put(s, ix->s_leaves, PyTuple_GET_ITEM(e->subs, 1));
    put(s, ix->s_mask, mask);
    put(s, ix->s_spans, Py_None);
    return s;
}

static PyObject *new_match(Index *ix, PyObject *id, PyObject *query, PyObject *words, PyObject *spans) {
    PyObject *m = ix->match_type->tp_alloc(ix->match_type, 0);
    if (!m) return NULL;
    put(m, ix->m_id, id);
    put(m, ix->m_query, query);
    put(m, ix->m_matched, words);
    put(m, ix->m_spans, spans);
    return m;
}

/* match(title_words, summary_words, story) -> list of Match, by subscription id.
 * The words are tokenize()'s normal forms; `story` is what the spans objects receive. */
static PyObject *match_story(Index *ix, PyObject *title, PyObject *summary, PyObject *story);

GUARDED(Index_match) {
    PyObject *title, *summary, *story;
    if (!PyArg_ParseTuple(arg, "OOO", &title, &summary, &story)) return NULL;
    if (!PyList_CheckExact(title) || !PyList_CheckExact(summary)) {
        PyErr_SetString(PyExc_TypeError, "title and summary words: lists of str");
        return NULL;
    }
    return match_story(ix, title, summary, story);
}

static PyObject *match_story(Index *ix, PyObject *title, PyObject *summary, PyObject *story) {
    Py_ssize_t nt = PyList_GET_SIZE(title), ns = PyList_GET_SIZE(summary);
    if (nt + ns >= (Py_ssize_t)UINT32_MAX / 2) { PyErr_SetString(PyExc_ValueError, "story too long"); return NULL; }
    if (++ix->story == 0) restamp(ix);
    ix->ntitle = (uint32_t)nt;
    ix->ntotal = (uint32_t)(nt + ns);
    if (ix->ntotal + 1 > ix->captok) {
        uint32_t cap = ix->ntotal + 1 > 2 * ix->captok ? ix->ntotal + 1 : 2 * ix->captok;
        uint32_t *tok = PyMem_RawRealloc(ix->tok, (size_t)cap * sizeof(uint32_t));
        if (!tok) return PyErr_NoMemory();
        ix->tok = tok;
        ix->captok = cap;
    }
    ix->present.n = 0;
    ix->cands.n = 0;
    if (scan(ix, title, summary) < 0) return NULL;

    /* candidates: the entries filed under an atom the story holds, each once */
    /* the entries' marks first, all at once: a 4-byte read each from a 512 KB array */
    for (uint32_t i = 0; i < ix->present.n; i++) {
        const Term *t = &ix->terms[vec_items(&ix->present)[i]];
        for (int title = 0; title <= (t->stamp_title == ix->story); title++)
            for (uint32_t k = 0; k < t->cover[title].n; k++)
                __builtin_prefetch(&ix->stamp_entry[vec_citems(&t->cover[title])[k]], 1);
    }
    for (uint32_t i = 0; i < ix->present.n; i++) {
        const Term *t = &ix->terms[vec_items(&ix->present)[i]];
        for (int title = 0; title <= (t->stamp_title == ix->story); title++) {
            const Vec *c = &t->cover[title];
            for (uint32_t k = 0; k < c->n; k++) {
                uint32_t eid = vec_citems(c)[k];
                if (ix->stamp_entry[eid] == ix->story) continue;
                ix->stamp_entry[eid] = ix->story;
                if (vec_push(&ix->cands, eid) < 0) return NULL;
            }
        }
    }

    const uint32_t *cands = vec_items(&ix->cands);
    const uint32_t ncands = ix->cands.n;
    for (uint32_t i = 0; i < ncands && i < AHEAD; i++) __builtin_prefetch(&ix->entries[cands[i]]);
    Found *found = NULL;
    size_t nfound = 0;
    PyObject *result = NULL;
    /* evaluate every candidate first, then touch the Python objects of the matches, their
     * cache misses prefetched together rather than one after another */
    if (ncands > ix->capmatched) {
        Matched *m = PyMem_RawRealloc(ix->matched, (size_t)ncands * sizeof(Matched));
        if (!m) return PyErr_NoMemory();
        ix->matched = m;
        ix->capmatched = ncands;
    }
    Matched *hit = ix->matched;
    uint32_t nmatched = 0;
    size_t nsubs = 0;
    for (uint32_t i = 0; i < ncands; i++) {
        /* entries AHEAD on are on their way; the program of the next one too */
        if (i + AHEAD < ncands) __builtin_prefetch(&ix->entries[cands[i + AHEAD]]);
        if (i + 1 < ncands && ix->entries[cands[i + 1]].prog) __builtin_prefetch(ix->entries[cands[i + 1]].prog);
        Entry *e = &ix->entries[cands[i]];
        const int32_t *prog = program(e);
        if (prog && !eval(ix, prog)) continue;
        hit[nmatched++] = (Matched){e, 0};
        nsubs += (size_t)PyTuple_GET_SIZE(e->subs) / 2;
        __builtin_prefetch(e->subs);
        __builtin_prefetch(e->words ? e->words : e->displays, 1);
    }
    for (uint32_t i = 0; i < nmatched; i++) {
        const Entry *e = hit[i].entry;
        /* filling a Match increfs its id and query: objects scattered over the heap */
        __builtin_prefetch(PyTuple_GET_ITEM(e->subs, 0), 1);
        __builtin_prefetch(PyTuple_GET_ITEM(e->subs, 1), 1);
        if (!e->words) {
            /* leaves found: story state only, no Python objects yet */
            const int32_t *p = e->leaves;
            for (uint32_t j = 0; j < e->nleaves; j++, p += p[1])
                if (eval(ix, p)) hit[i].mask |= 1ULL << j;
        }
    }
    found = PyMem_RawMalloc((nsubs ? nsubs : 1) * sizeof(Found));
    if (!found) { PyErr_NoMemory(); goto done; }
    for (uint32_t i = 0; i < nmatched; i++) {
        const Entry *e = hit[i].entry;
        PyObject *words, *mask;
        if (e->words) {
            words = Py_NewRef(e->words);
            mask = Py_NewRef(Py_None);
        } else {
            if (!(words = found_words(e, hit[i].mask))) goto done;
            if (!(mask = PyLong_FromUnsignedLongLong(hit[i].mask))) { Py_DECREF(words); goto done; }
        }
        PyObject *spans = new_spans(ix, e, story, mask);
        Py_DECREF(mask);
        if (!spans) { Py_DECREF(words); goto done; }
        Py_ssize_t n = PyTuple_GET_SIZE(e->subs) / 2;
        for (Py_ssize_t k = 0; k < n; k++) {
            PyObject *m = new_match(ix, PyTuple_GET_ITEM(e->subs, 2 * k), PyTuple_GET_ITEM(e->subs, 2 * k + 1), words, spans);
            if (!m) { Py_DECREF(words); Py_DECREF(spans); goto done; }
            found[nfound++] = (Found){e->ids[k], m};
        }
        Py_DECREF(words);
        Py_DECREF(spans);
    }
    if (nfound > 1) qsort(found, nfound, sizeof(Found), by_id);
    if (!(result = PyList_New((Py_ssize_t)nfound))) goto done;
    for (size_t i = 0; i < nfound; i++) {
        PyList_SET_ITEM(result, (Py_ssize_t)i, found[i].match);
        found[i].match = NULL;
    }
done:
    for (size_t i = 0; i < nfound; i++) Py_XDECREF(found[i].match);
    PyMem_RawFree(found);
    return result;
}

/* For tests: move the story counter, to see stamps survive its wrap at 2^32. */
GUARDED(Index_set_story_counter) {
    if (!PyLong_CheckExact(arg)) { PyErr_SetString(PyExc_TypeError, "counter must be int"); return NULL; }
    unsigned long v = PyLong_AsUnsignedLong(arg);
    if (v == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    if (v > UINT32_MAX) { PyErr_SetString(PyExc_OverflowError, "counter is 32 bits"); return NULL; }
    ix->story = (uint32_t)v;
    Py_RETURN_NONE;
}

GUARDED(Index_sizes) {
    return Py_BuildValue("{s:n,s:n,s:n,s:I,s:I,s:I}", "word_keys", (Py_ssize_t)ix->words.used, "word_slots",
                         (Py_ssize_t)(ix->words.mask + 1), "prefix_heads", (Py_ssize_t)ix->prefixes.used,
                         "key_bytes", ix->words.alen + ix->prefixes.alen, "term_capacity", ix->tcap,
                         "entry_capacity", ix->ecap);
}

/* What lookups have cost since the last call (table probes, key comparisons), and the
 * longest distance of any key from its home slot now: what tests bound to show that
 * chosen words cannot make lookups walk long runs or compare against many keys. */
GUARDED(Index_probe_stats) {
    PyObject *r = Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:n,s:n}", "word_lookups", (unsigned long long)ix->words.lookups,
        "word_probes", (unsigned long long)ix->words.probes, "word_compares", (unsigned long long)ix->words.compares,
        "prefix_lookups", (unsigned long long)ix->prefixes.lookups, "prefix_probes",
        (unsigned long long)ix->prefixes.probes, "prefix_compares", (unsigned long long)ix->prefixes.compares,
        "word_longest_run", (Py_ssize_t)table_longest_run(&ix->words), "prefix_longest_run",
        (Py_ssize_t)table_longest_run(&ix->prefixes));
    ix->words.lookups = ix->words.probes = ix->words.compares = 0;
    ix->prefixes.lookups = ix->prefixes.probes = ix->prefixes.compares = 0;
    return r;
}

static PyMethodDef Index_methods[] = {
    {"add_word", (PyCFunction)Index_add_word, METH_VARARGS, "add_word(tid, form, possessive)"},
    {"remove_word", (PyCFunction)Index_remove_word, METH_VARARGS, "remove_word(tid, form, possessive)"},
    {"add_prefix", (PyCFunction)Index_add_prefix, METH_VARARGS, "add_prefix(tid, prefix)"},
    {"remove_prefix", (PyCFunction)Index_remove_prefix, METH_O, "remove_prefix(tid)"},
    {"add_entry", (PyCFunction)Index_add_entry, METH_VARARGS,
     "add_entry(eid, cover, program, leaves, subscribers, words, displays)"},
    {"set_subscribers", (PyCFunction)Index_set_subscribers, METH_VARARGS, "set_subscribers(eid, subscribers)"},
    {"remove_entry", (PyCFunction)Index_remove_entry, METH_O, "remove_entry(eid)"},
    {"match", (PyCFunction)Index_match, METH_VARARGS, "match(title_words, summary_words, story)"},
    {"sizes", (PyCFunction)Index_sizes, METH_NOARGS, "counts of the index's tables"},
    {"probe_stats", (PyCFunction)Index_probe_stats, METH_NOARGS, "lookup costs since the last call; longest runs"},
    {"_set_story_counter", (PyCFunction)Index_set_story_counter, METH_O, "for tests: the wrap at 2^32"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject IndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bot.core.matching._matchcore.Index",
    .tp_basicsize = sizeof(Index),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The compiled matcher index (see native_backend.py beside this module).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Index_init,
    .tp_dealloc = (destructor)Index_dealloc,
    .tp_methods = Index_methods,
};

static struct PyModuleDef matchcore_module = {
    PyModuleDef_HEAD_INIT, "_matchcore", "The matcher's compiled per-story core.", -1, NULL,
};

/* The hash keys (see hashing above), from os.urandom: new in every process. */
static int draw_hash_key(void) {
    PyObject *os = PyImport_ImportModule("os");
    if (!os) return -1;
    PyObject *b = PyObject_CallMethod(os, "urandom", "i", 16);
    Py_DECREF(os);
    if (!b) return -1;
    if (!PyBytes_CheckExact(b) || PyBytes_GET_SIZE(b) != 16) {
        Py_DECREF(b);
        PyErr_SetString(PyExc_RuntimeError, "os.urandom gave no key");
        return -1;
    }
    uint64_t k[2];
    memcpy(k, PyBytes_AS_STRING(b), sizeof(k));
    Py_DECREF(b);
    /* r in [2^32, 2^60): away from tiny values, and below 2^60 for hash_step's bound */
    hash_r = (1ULL << 32) + k[0] % ((1ULL << 60) - (1ULL << 32));
    hash_k = k[1];
    return 0;
}

PyMODINIT_FUNC PyInit__matchcore(void) {
    if (draw_hash_key() < 0 || PyType_Ready(&IndexType) < 0) return NULL;
    PyObject *m = PyModule_Create(&matchcore_module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "Index", (PyObject *)&IndexType) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
