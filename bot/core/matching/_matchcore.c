/* The matcher's per-story work in C: find which indexed terms a story's words hold, which
 * queries those terms make candidates, evaluate the candidates' boolean plans, and build the
 * Match objects. bot/core/matcher_native.py owns everything else (parsing, term and entry
 * ids, compiling plans); bot/core/matcher_py.py is the same matcher in pure Python, used
 * where this module could not be built and as the reference the tests hold it to.
 *
 * Why C: at 100,000 subscriptions a story holds ~22 candidate queries and ~10 matches; in
 * CPython each evaluation and Match cost about a microsecond, which alone broke the aim of
 * keeping 0.7 of the throughput at 100 subscriptions (benchmarks/README.md, session 2).
 *
 * Atoms (as in matcher_plan.py): term t found anywhere is atom 2t, found in the title 2t+1.
 * Plans arrive as flat int programs, one node = [op, size, ...]:
 *   ATOM   [0, 3, atom]
 *   PHRASE [1, 4 + n, title_only, n, atom_1 .. atom_n]   (anywhere-atoms, in order)
 *   AND    [2, size, child ...]     OR [3, size, child ...]     NOT [4, size, child]
 * Memory comes from PyMem_Raw*, so tracemalloc (the benchmark's memory figure) sees it.
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
#define HEAD_MAX 4   /* prefixes are filed under their first (up to) 4 bytes */
#define MAX_LEAVES 62
#define AHEAD 12     /* words looked up ahead of use (prefetch distance) */

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

/* -- hashing: FNV-1a over the UTF-8 bytes, then a finaliser for the table's low bits ---- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define EMPTY 0
#define DELETED 1

static inline uint64_t finish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h < 2 ? h + 2 : h;  /* 0 and 1 mark empty and deleted slots */
}

static uint64_t hash_bytes(const char *s, Py_ssize_t len) {
    uint64_t h = FNV_OFFSET;
    for (Py_ssize_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    return finish(h);
}

/* -- a table from keys to postings (u32 each) ---------------------------------------------
 * Keys are known only by their 64-bit hash: no key bytes are stored, so a lookup reads one
 * 16-byte slot and, for the usual single posting, nothing else. Two different words share
 * a hash with odds of about n / 2^64 per lookup (n: keys in the table): at 1,000,000 keys,
 * one wrong term in 10^13 story words, and then only an extra term, which a hostile feed
 * gains nothing from (it can write the subscribed word itself). Prefix terms are checked
 * byte for byte (see scan). Open addressing, linear probing, load <= 3/4. */

typedef struct {
    uint64_t hash;  /* EMPTY, DELETED or a key's hash */
    uint32_t data;  /* n == 1: the posting; else an index into the table's lists */
    uint32_t n;
} Slot;

typedef struct {
    Slot *slots;
    void *slots_raw;
    size_t mask;  /* capacity - 1 */
    size_t used, deleted;
    Vec *lists;
    uint32_t nlists, caplists;
    Vec free_lists;
} Table;

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
    vec_free(&t->free_lists);
    memset(t, 0, sizeof(*t));
}

static inline Slot *table_find(const Table *t, uint64_t hash) {
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        Slot *s = &t->slots[i];
        if (s->hash == hash) return s;
        if (s->hash == EMPTY) return NULL;
    }
}

static inline const uint32_t *postings(const Table *t, const Slot *s) {
    return s->n == 1 ? &s->data : vec_citems(&t->lists[s->data]);
}

static int table_resize(Table *t, size_t cap) {
    void *raw;
    Slot *slots = big_calloc(cap * sizeof(Slot), &raw);
    if (!slots) { PyErr_NoMemory(); return -1; }
    for (size_t i = 0; i <= t->mask; i++) {
        Slot s = t->slots[i];
        if (s.hash < 2) continue;
        size_t j = s.hash & (cap - 1);
        while (slots[j].hash != EMPTY) j = (j + 1) & (cap - 1);
        slots[j] = s;
    }
    PyMem_RawFree(t->slots_raw);
    t->slots = slots;
    t->slots_raw = raw;
    t->mask = cap - 1;
    t->deleted = 0;
    return 0;
}

static int table_add(Table *t, uint64_t hash, uint32_t posting) {
    Slot *s = table_find(t, hash);
    if (s && s->n == 1) {
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
        if (vec_push(&t->lists[li], s->data) < 0 || vec_push(&t->lists[li], posting) < 0) {
            vec_free(&t->lists[li]);
            vec_push(&t->free_lists, li);
            return -1;
        }
        s->data = li;
        s->n = 2;
        return 0;
    }
    if (s) {
        if (vec_push(&t->lists[s->data], posting) < 0) return -1;
        s->n++;
        return 0;
    }
    size_t cap = t->mask + 1;
    if ((t->used + t->deleted + 1) * 4 > cap * 3) {
        /* over 3/4 full (deleted slots count): rebuild at most 3/5 full */
        size_t want = cap;
        while ((t->used + 1) * 5 > want * 3) want *= 2;
        if (table_resize(t, want) < 0) return -1;
    }
    size_t i = hash & t->mask;
    while (t->slots[i].hash >= 2) i = (i + 1) & t->mask;
    if (t->slots[i].hash == DELETED) t->deleted--;
    t->slots[i] = (Slot){hash, posting, 1};
    t->used++;
    return 0;
}

static void table_remove(Table *t, uint64_t hash, uint32_t posting) {
    Slot *s = table_find(t, hash);
    if (!s) return;
    if (s->n == 1) {
        if (s->data != posting) return;
        s->hash = DELETED;
        s->n = 0;
        t->used--;
        t->deleted++;
        return;
    }
    Vec *l = &t->lists[s->data];
    if (!vec_remove(l, posting)) return;
    s->n--;
    if (s->n == 1) {
        uint32_t li = s->data;
        s->data = vec_items(l)[0];
        vec_free(l);
        if (vec_push(&t->free_lists, li) < 0) PyErr_Clear();  /* the list is only not reused */
    }
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
    char *prefix;                     /* prefix terms: the prefix, checked byte for byte */
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
    Table heads;  /* first min(len, HEAD_MAX) bytes of prefixes -> prefix term ids */
    uint32_t head_uses[HEAD_MAX + 1];
    /* One bit per value of a head hash's top 16 bits (8 KB, stays in L1): most words start
     * with no indexed prefix's head, and this answers that without probing the table. */
    uint64_t head_bits[1024];
    Term *terms;
    void *terms_raw;
    uint32_t tcap;
    Entry *entries;
    void *entries_raw;
    uint32_t *stamp_entry;
    uint32_t ecap;
    uint32_t story;
    int busy;  /* inside match: see ready() */
    /* per story scratch */
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

static PyMemberDef *member_of(PyTypeObject *type, const char *name) {
    PyObject *d = PyObject_GetAttrString((PyObject *)type, name);
    if (!d) return NULL;
    PyMemberDef *def = NULL;
    if (Py_IS_TYPE(d, &PyMemberDescr_Type) && ((PyMemberDescrObject *)d)->d_member->type == T_OBJECT_EX)
        def = ((PyMemberDescrObject *)d)->d_member;
    else
        PyErr_Format(PyExc_TypeError, "%s.%s is not a __slots__ member", type->tp_name, name);
    Py_DECREF(d);
    return def;
}

static int Index_init(Index *ix, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"match_type", "spans_type", NULL};
    PyObject *mt, *st;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!", kwlist, &PyType_Type, &mt, &PyType_Type, &st))
        return -1;
    if (ix->match_type) {
        PyErr_SetString(PyExc_RuntimeError, "Index is already initialised");
        return -1;
    }
    if (table_init(&ix->words) < 0 || table_init(&ix->heads) < 0) return -1;
    ix->match_type = (PyTypeObject *)Py_NewRef(mt);
    ix->spans_type = (PyTypeObject *)Py_NewRef(st);
    if (!(ix->m_id = member_of(ix->match_type, "subscription_id")) ||
        !(ix->m_query = member_of(ix->match_type, "query")) ||
        !(ix->m_matched = member_of(ix->match_type, "matched")) ||
        !(ix->m_spans = member_of(ix->match_type, "spans")) ||
        !(ix->s_story = member_of(ix->spans_type, "_story")) ||
        !(ix->s_leaves = member_of(ix->spans_type, "_leaves")) ||
        !(ix->s_mask = member_of(ix->spans_type, "_mask")) ||
        !(ix->s_spans = member_of(ix->spans_type, "_spans"))) {
        Py_CLEAR(ix->match_type);  /* not ready: every method refuses */
        Py_CLEAR(ix->spans_type);
        return -1;
    }
    return 0;
}

static void entry_clear(Entry *e) {
    PyMem_RawFree(e->prog);
    PyMem_RawFree(e->leaves);
    PyMem_RawFree(e->cover);
    PyMem_RawFree(e->ids);
    Py_CLEAR(e->subs);
    Py_CLEAR(e->words);
    Py_CLEAR(e->displays);
    memset(e, 0, sizeof(*e));
}

static void Index_dealloc(Index *ix) {
    table_free(&ix->words);
    table_free(&ix->heads);
    for (uint32_t i = 0; i < ix->tcap; i++) {
        PyMem_RawFree(ix->terms[i].prefix);
        vec_free(&ix->terms[i].cover[0]);
        vec_free(&ix->terms[i].cover[1]);
    }
    PyMem_RawFree(ix->terms_raw);
    for (uint32_t i = 0; i < ix->ecap; i++) entry_clear(&ix->entries[i]);
    PyMem_RawFree(ix->entries_raw);
    PyMem_RawFree(ix->stamp_entry);
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

/* Every method starts here. `busy`: match() allocates Python objects, which may run the
 * garbage collector and so any finaliser; one that called back into this index would
 * reallocate the scratch arrays and entries the outer match() is reading. */
static inline int head_bit(const Index *ix, uint64_t hash) {
    uint32_t b = (uint32_t)(hash >> 48);
    return (int)(ix->head_bits[b >> 6] >> (b & 63) & 1);
}

static void set_head_bit(Index *ix, uint64_t hash) {
    uint32_t b = (uint32_t)(hash >> 48);
    ix->head_bits[b >> 6] |= 1ULL << (b & 63);
}

static int ready(Index *ix) {
    if (!ix->match_type) {
        PyErr_SetString(PyExc_RuntimeError, "Index.__init__ did not complete");
        return 0;
    }
    if (ix->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the matcher index was called from inside its own match()");
        return 0;
    }
    return 1;
}

static int parse_tid(PyObject *o, uint32_t *tid) {
    unsigned long v = PyLong_AsUnsignedLong(o);
    if (v == (unsigned long)-1 && PyErr_Occurred()) return -1;
    if (v >= (1UL << 30)) { PyErr_SetString(PyExc_OverflowError, "id too large"); return -1; }
    *tid = (uint32_t)v;
    return 0;
}

/* add_word(tid, form, possessive): a story word equal to `form` holds term `tid`; with
 * `possessive`, so does `form` + "'s". Folding the possessive into a flag halves the keys. */
static PyObject *Index_add_word(Index *ix, PyObject *args) {
    PyObject *tido;
    const char *s;
    Py_ssize_t len;
    int possessive;
    uint32_t tid;
    if (!ready(ix) || !PyArg_ParseTuple(args, "Os#p", &tido, &s, &len, &possessive) || parse_tid(tido, &tid) < 0)
        return NULL;
    if (ensure_term(ix, tid) < 0 || table_add(&ix->words, hash_bytes(s, len), tid << 1 | (uint32_t)possessive) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Index_remove_word(Index *ix, PyObject *args) {
    PyObject *tido;
    const char *s;
    Py_ssize_t len;
    int possessive;
    uint32_t tid;
    if (!ready(ix) || !PyArg_ParseTuple(args, "Os#p", &tido, &s, &len, &possessive) || parse_tid(tido, &tid) < 0)
        return NULL;
    table_remove(&ix->words, hash_bytes(s, len), tid << 1 | (uint32_t)possessive);
    Py_RETURN_NONE;
}

/* add_prefix(tid, prefix): a story word starting with `prefix` holds term `tid`. */
static PyObject *Index_add_prefix(Index *ix, PyObject *args) {
    PyObject *tido;
    const char *s;
    Py_ssize_t len;
    uint32_t tid;
    if (!ready(ix) || !PyArg_ParseTuple(args, "Os#", &tido, &s, &len) || parse_tid(tido, &tid) < 0) return NULL;
    if (len == 0) { PyErr_SetString(PyExc_ValueError, "empty prefix"); return NULL; }
    if (ensure_term(ix, tid) < 0) return NULL;
    Term *t = &ix->terms[tid];
    if (t->prefix) { PyErr_SetString(PyExc_ValueError, "term id already a prefix"); return NULL; }
    char *copy = PyMem_RawMalloc((size_t)len);
    if (!copy) return PyErr_NoMemory();
    Py_ssize_t head = len < HEAD_MAX ? len : HEAD_MAX;
    uint64_t hash = hash_bytes(s, head);
    if (table_add(&ix->heads, hash, tid) < 0) { PyMem_RawFree(copy); return NULL; }
    set_head_bit(ix, hash);
    memcpy(copy, s, (size_t)len);
    t->prefix = copy;
    t->prefix_len = (uint32_t)len;
    ix->head_uses[head]++;
    Py_RETURN_NONE;
}

static PyObject *Index_remove_prefix(Index *ix, PyObject *tido) {
    uint32_t tid;
    if (!ready(ix) || parse_tid(tido, &tid) < 0) return NULL;
    if (tid >= ix->tcap || !ix->terms[tid].prefix) Py_RETURN_NONE;
    Term *t = &ix->terms[tid];
    uint32_t head = t->prefix_len < HEAD_MAX ? t->prefix_len : HEAD_MAX;
    table_remove(&ix->heads, hash_bytes(t->prefix, head), tid);
    /* bits are shared by heads: rebuild them from the heads left (prefixes change rarely) */
    memset(ix->head_bits, 0, sizeof(ix->head_bits));
    for (size_t i = 0; i <= ix->heads.mask; i++)
        if (ix->heads.slots[i].hash >= 2) set_head_bit(ix, ix->heads.slots[i].hash);
    ix->head_uses[head]--;
    PyMem_RawFree(t->prefix);
    t->prefix = NULL;
    t->prefix_len = 0;
    Py_RETURN_NONE;
}

/* Copy a sequence of ints into a fresh int32 array; checks nothing about its shape. */
static int32_t *ints_of(PyObject *o, uint32_t *n) {
    PyObject *seq = PySequence_Fast(o, "expected a sequence of int");
    if (!seq) return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
    int32_t *out = PyMem_RawMalloc((size_t)(len ? len : 1) * sizeof(int32_t));
    if (!out) { Py_DECREF(seq); PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < len; i++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) { PyMem_RawFree(out); Py_DECREF(seq); return NULL; }
        if (v < 0 || v >= (1L << 31)) {
            PyErr_SetString(PyExc_ValueError, "program values must be small non-negative ints");
            PyMem_RawFree(out);
            Py_DECREF(seq);
            return NULL;
        }
        out[i] = (int32_t)v;
    }
    *n = (uint32_t)len;
    Py_DECREF(seq);
    return out;
}

/* Every node within [p, end) well formed and every atom's term known: a malformed program
 * must be refused here, not read past its end while matching. */
static int check_nodes(Index *ix, const int32_t *p, const int32_t *end) {
    while (p < end) {
        if (end - p < 2 || p[1] < 2 || p[1] > end - p) return 0;
        const int32_t *q = p + p[1];
        switch (p[0]) {
        case OP_ATOM:
            if (p[1] != 3 || (uint32_t)(p[2] >> 1) >= ix->tcap) return 0;
            break;
        case OP_PHRASE:
            if (p[1] < 4 || p[3] < 1 || p[1] != 4 + p[3]) return 0;
            for (int32_t j = 0; j < p[3]; j++)
                if ((p[4 + j] & 1) || (uint32_t)(p[4 + j] >> 1) >= ix->tcap) return 0;
            break;
        case OP_AND:
        case OP_OR:
            if (!check_nodes(ix, p + 2, q)) return 0;
            break;
        case OP_NOT:
            if (p[1] < 3 || !check_nodes(ix, p + 2, q) || p + 2 + p[2 + 1] != q) return 0;
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
    if (!check_nodes(ix, prog, prog + *n)) {
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

/* The ids of a flat (id, query, id, query...) tuple, checked: ints and strs, pairs, some. */
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
        ids[k] = PyLong_Check(id) ? PyLong_AsLongLong(id) : -1;
        if ((ids[k] == -1 && PyErr_Occurred()) || !PyLong_Check(id) || !PyUnicode_Check(PyTuple_GET_ITEM(subs, 2 * k + 1))) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "subscribers: (int id, str query) pairs");
            PyMem_RawFree(ids);
            return NULL;
        }
    }
    return ids;
}

/* add_entry(eid, cover, program, leaves, subscribers, words, displays)
 * program None: a single word; leaves None: `words` is what every match reports. */
static PyObject *Index_add_entry(Index *ix, PyObject *args) {
    PyObject *eido, *covero, *progo, *leaveso, *subs, *words, *displays;
    uint32_t eid, n;
    if (!ready(ix) || !PyArg_ParseTuple(args, "OOOOO!OO!", &eido, &covero, &progo, &leaveso,
                                        &PyTuple_Type, &subs, &words, &PyTuple_Type, &displays) ||
        parse_tid(eido, &eid) < 0)
        return NULL;
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
    } else if (!PyTuple_Check(words)) {
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

static PyObject *Index_set_subscribers(Index *ix, PyObject *args) {
    PyObject *eido, *subs;
    uint32_t eid;
    if (!ready(ix) || !PyArg_ParseTuple(args, "OO!", &eido, &PyTuple_Type, &subs) || parse_tid(eido, &eid) < 0)
        return NULL;
    if (eid >= ix->ecap || !ix->entries[eid].subs) { PyErr_SetString(PyExc_KeyError, "no such entry"); return NULL; }
    long long *ids = ids_of(subs);
    if (!ids) return NULL;
    PyMem_RawFree(ix->entries[eid].ids);
    ix->entries[eid].ids = ids;
    Py_SETREF(ix->entries[eid].subs, Py_NewRef(subs));
    Py_RETURN_NONE;
}

static PyObject *Index_remove_entry(Index *ix, PyObject *eido) {
    uint32_t eid;
    if (!ready(ix) || parse_tid(eido, &eid) < 0) return NULL;
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
} Word;

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
    /* 1: hash every word (and its stem before a final 's) */
    for (uint32_t q = 0; q < total; q++) {
        PyObject *w = q < (uint32_t)nt ? PyList_GET_ITEM(title, q) : PyList_GET_ITEM(summary, q - nt);
        if (!PyUnicode_Check(w)) { PyErr_SetString(PyExc_TypeError, "words must be str"); return -1; }
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(w, &len);
        if (!s) return -1;
        if (len >= (Py_ssize_t)UINT32_MAX) { PyErr_SetString(PyExc_ValueError, "word too long"); return -1; }
        Word *wd = &words[q];
        wd->s = s;
        wd->len = (uint32_t)len;
        wd->possessive = len > 2 && s[len - 2] == '\'' && s[len - 1] == 's';
        uint64_t h = FNV_OFFSET, stem = 0;
        for (Py_ssize_t k = 0; k < len; k++) {
            if (k == len - 2) stem = h;
            h = (h ^ (unsigned char)s[k]) * FNV_PRIME;
        }
        wd->hash = finish(h);
        wd->stem = wd->possessive ? finish(stem) : 0;
    }
    /* 2: look every word up, the slots of the words AHEAD on prefetched; hits in word order */
    const int any_prefix = ix->heads.used > 0;
    const Slot *slots = ix->words.slots;
    const size_t mask = ix->words.mask;
    ix->nhits = 0;
    for (uint32_t q = 0; q < total && q < AHEAD; q++) __builtin_prefetch(&slots[words[q].hash & mask]);
    for (uint32_t q = 0; q < total; q++) {
        const Word *wd = &words[q];
        if (q + AHEAD < total) {
            __builtin_prefetch(&slots[words[q + AHEAD].hash & mask]);
            if (words[q + AHEAD].possessive) __builtin_prefetch(&slots[words[q + AHEAD].stem & mask]);
        }
        ix->tok[q] = ix->nhits;
        const Slot *slot = table_find(&ix->words, wd->hash);
        if (slot) {
            if (reserve_hits(ix, slot->n) < 0) return -1;
            const uint32_t *p = postings(&ix->words, slot);
            for (uint32_t k = 0; k < slot->n; k++) ix->hits[ix->nhits++] = (Hit){p[k] >> 1, q, NONE};
        }
        if (wd->possessive && (slot = table_find(&ix->words, wd->stem))) {
            if (reserve_hits(ix, slot->n) < 0) return -1;
            const uint32_t *p = postings(&ix->words, slot);
            for (uint32_t k = 0; k < slot->n; k++) {
                if (p[k] & 1) ix->hits[ix->nhits++] = (Hit){p[k] >> 1, q, NONE};
            }
        }
        if (!any_prefix) continue;
        uint64_t h = FNV_OFFSET;
        for (uint32_t L = 1; L <= HEAD_MAX && L <= wd->len; L++) {
            h = (h ^ (unsigned char)wd->s[L - 1]) * FNV_PRIME;
            if (!ix->head_uses[L]) continue;
            uint64_t hh = finish(h);
            if (!head_bit(ix, hh) || !(slot = table_find(&ix->heads, hh))) continue;
            if (reserve_hits(ix, slot->n) < 0) return -1;
            const uint32_t *p = postings(&ix->heads, slot);
            for (uint32_t k = 0; k < slot->n; k++) {
                const Term *t = &ix->terms[p[k]];
                if (t->prefix_len <= wd->len && memcmp(t->prefix, wd->s, t->prefix_len) == 0)
                    ix->hits[ix->nhits++] = (Hit){p[k], q, NONE};
            }
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

static PyObject *Index_match(Index *ix, PyObject *args) {
    PyObject *title, *summary, *story;
    if (!ready(ix) || !PyArg_ParseTuple(args, "O!O!O", &PyList_Type, &title, &PyList_Type, &summary, &story))
        return NULL;
    ix->busy = 1;
    PyObject *result = match_story(ix, title, summary, story);
    ix->busy = 0;
    return result;
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
static PyObject *Index_set_story_counter(Index *ix, PyObject *arg) {
    unsigned long v = PyLong_AsUnsignedLong(arg);
    if (v == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    if (!ready(ix)) return NULL;
    if (v > UINT32_MAX) { PyErr_SetString(PyExc_OverflowError, "counter is 32 bits"); return NULL; }
    ix->story = (uint32_t)v;
    Py_RETURN_NONE;
}

static PyObject *Index_sizes(Index *ix, PyObject *Py_UNUSED(ignored)) {
    return Py_BuildValue("{s:n,s:n,s:n,s:I,s:I}", "word_keys", (Py_ssize_t)ix->words.used, "word_slots",
                         (Py_ssize_t)(ix->words.mask + 1), "prefix_heads", (Py_ssize_t)ix->heads.used,
                         "term_capacity", ix->tcap, "entry_capacity", ix->ecap);
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
    {"_set_story_counter", (PyCFunction)Index_set_story_counter, METH_O, "for tests: the wrap at 2^32"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject IndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bot.core.matching._matchcore.Index",
    .tp_basicsize = sizeof(Index),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The compiled matcher index (see bot/core/matcher_native.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Index_init,
    .tp_dealloc = (destructor)Index_dealloc,
    .tp_methods = Index_methods,
};

static struct PyModuleDef matchcore_module = {
    PyModuleDef_HEAD_INIT, "_matchcore", "The matcher's compiled per-story core.", -1, NULL,
};

PyMODINIT_FUNC PyInit__matchcore(void) {
    if (PyType_Ready(&IndexType) < 0) return NULL;
    PyObject *m = PyModule_Create(&matchcore_module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "Index", (PyObject *)&IndexType) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
