/* Open vSwitch's classifier (lib/classifier.c) on the ClassBench files, as
 * a peer for bench/classify (issue 15: "at least 10x faster than the Open
 * vSwitch classifier on every set", "memory at most 2x Open vSwitch's").
 *
 *   peers_ovs_classifier [--updates-only] RULES TRACE [ANSWERS] [UPDATE_SECONDS]
 *
 * Built by bench/peers/build_ovs_classifier.sh against the Open vSwitch tree
 * of Debian's openvswitch-source (the same configure as ovstest's peer), so
 * it measures the classifier that Debian ships, at -O2.  C, because OVS's
 * internal headers are C.
 *
 * What it builds is what ofproto would hold for these rules: the first rule
 * in the file has the highest priority; a rule is dl_type=0x0800,
 * nw_src/nw_dst prefixes, nw_proto exact or any, and its two port ranges,
 * which OpenFlow can only match as value/mask pairs, expanded into prefixes
 * (the cross product of both ports' prefix blocks: all entries of one rule
 * share its priority and are disjoint).  The table has ofproto's default
 * prefix tries (nw_dst, nw_src) and OVS's flow segments.
 *
 * Prints one line per measurement:
 *   ovs_cls lookup wc=0 ns_per_lookup=X build_ms=Y memory_MB=Z entries=E
 *   ovs_cls lookup wc=1 ns_per_lookup=X ...   (with the megaflow wildcards)
 *   ovs_cls update updates_per_s=U writer_cpu_s=W reader_lookups_per_s=R
 * followed by ANSWERS_DIFFER=n on a lookup line when ANSWERS is given and
 * some answers differ.  An update is one ClassBench rule removed (all its
 * entries) and inserted again, with a reader thread looking up the trace
 * meanwhile (RCU, as in ovs-vswitchd); rate = updates / writer CPU time.
 * Lookup times are thread CPU time, best of 3 passes over the trace.
 * Errors: a message naming the file and line, exit status 1. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classifier.h"
#include "flow.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/util.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "versions.h"

struct cb_rule {
    uint32_t src, src_len, dst, dst_len;
    uint32_t sp_lo, sp_hi, dp_lo, dp_hi;
    uint32_t proto, proto_mask;
};

/* One classifier entry: a prefix block of both ports of ClassBench rule
 * 'index'. */
struct entry {
    struct cls_rule cr;
    uint32_t index;
};

struct set {
    struct cb_rule *rules;
    size_t n_rules;
    struct flow *flows;  /* the trace, as flows */
    size_t n_flows;
    int *answers;        /* NULL if not given */
    struct entry ***entries;  /* per rule: its entries (NULL-terminated) */
};

static void
die(const char *path, size_t line, const char *what)
{
    if (line) {
        fprintf(stderr, "peers_ovs_classifier: %s:%zu: %s\n", path, line, what);
    } else {
        fprintf(stderr, "peers_ovs_classifier: %s: %s\n", path, what);
    }
    exit(1);
}

/* The file's lines, gunzipped through `gzip -dc` when it ends in .gz. */
static FILE *
open_text(const char *path)
{
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        die(path, 0, strerror(errno));
    }
    fclose(probe);
    size_t n = strlen(path);
    if (n > 3 && !strcmp(path + n - 3, ".gz")) {
        char *cmd = xasprintf("gzip -dc '%s'", path);
        FILE *f = popen(cmd, "r");
        free(cmd);
        if (!f) {
            die(path, 0, "cannot run gzip -dc");
        }
        return f;
    }
    return fopen(path, "r");
}

static void
close_text(FILE *f, const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && !strcmp(path + n - 3, ".gz")) {
        if (pclose(f) != 0) {
            die(path, 0, "gzip -dc failed");
        }
    } else {
        fclose(f);
    }
}

static uint32_t
prefix_mask(uint32_t len)
{
    return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

static void
load_rules(struct set *s, const char *path)
{
    FILE *f = open_text(path);
    size_t cap = 1024, line = 0;
    char buf[512];
    s->rules = xmalloc(cap * sizeof *s->rules);
    s->n_rules = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (buf[0] == '\n' || buf[0] == '\0') {
            continue;
        }
        unsigned a[4], b[4], sl, dl, sp_lo, sp_hi, dp_lo, dp_hi, pr, pm;
        if (sscanf(buf, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x",
                   &a[0], &a[1], &a[2], &a[3], &sl, &b[0], &b[1], &b[2], &b[3],
                   &dl, &sp_lo, &sp_hi, &dp_lo, &dp_hi, &pr, &pm) != 16
            || sl > 32 || dl > 32 || sp_lo > sp_hi || sp_hi > 65535
            || dp_lo > dp_hi || dp_hi > 65535 || pr > 255
            || (pm != 0 && pm != 0xff)) {
            die(path, line, "not a ClassBench rule "
                "(@src/len dst/len lo : hi lo : hi proto/mask flags/mask)");
        }
        if (s->n_rules == cap) {
            cap *= 2;
            s->rules = xrealloc(s->rules, cap * sizeof *s->rules);
        }
        struct cb_rule *r = &s->rules[s->n_rules++];
        uint32_t src = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
        uint32_t dst = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
        r->src = src & prefix_mask(sl);
        r->src_len = sl;
        r->dst = dst & prefix_mask(dl);
        r->dst_len = dl;
        r->sp_lo = sp_lo;
        r->sp_hi = sp_hi;
        r->dp_lo = dp_lo;
        r->dp_hi = dp_hi;
        r->proto = pr & pm;
        r->proto_mask = pm;
    }
    close_text(f, path);
    if (!s->n_rules) {
        die(path, 0, "no rules");
    }
}

static void
load_trace(struct set *s, const char *path)
{
    FILE *f = open_text(path);
    size_t cap = 1 << 17, line = 0;
    char buf[256];
    s->flows = xmalloc(cap * sizeof *s->flows);
    s->n_flows = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (buf[0] == '\n' || buf[0] == '\0') {
            continue;
        }
        unsigned long src, dst, sp, dp, pr;
        if (sscanf(buf, "%lu %lu %lu %lu %lu", &src, &dst, &sp, &dp, &pr) != 5
            || src > UINT32_MAX || dst > UINT32_MAX || sp > 65535 || dp > 65535
            || pr > 255) {
            die(path, line, "not a ClassBench trace line "
                "(src dst sport dport proto flags rule)");
        }
        if (s->n_flows == cap) {
            cap *= 2;
            s->flows = xrealloc(s->flows, cap * sizeof *s->flows);
        }
        struct flow *fl = &s->flows[s->n_flows++];
        memset(fl, 0, sizeof *fl);
        fl->dl_type = htons(ETH_TYPE_IP);
        fl->nw_src = htonl(src);
        fl->nw_dst = htonl(dst);
        fl->nw_proto = pr;
        fl->tp_src = htons(sp);
        fl->tp_dst = htons(dp);
    }
    close_text(f, path);
}

static void
load_answers(struct set *s, const char *path)
{
    FILE *f = open_text(path);
    size_t line = 0;
    char buf[64];
    s->answers = xmalloc(s->n_flows * sizeof *s->answers);
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (line > s->n_flows) {
            die(path, line, "more answers than trace lines");
        }
        char *end;
        long v = strtol(buf, &end, 10);
        if (end == buf || v < -1) {
            die(path, line, "not an answer (a rule index or -1)");
        }
        s->answers[line - 1] = v;
    }
    close_text(f, path);
    if (line != s->n_flows) {
        die(path, 0, "fewer answers than trace lines");
    }
}

/* [lo, hi] as value/mask blocks, largest first from lo: at most 30. */
static size_t
range_blocks(uint32_t lo, uint32_t hi, uint16_t value[32], uint16_t mask[32])
{
    size_t n = 0;
    while (lo <= hi) {
        uint32_t size = lo ? (lo & -lo) : 65536;
        while (lo + size - 1 > hi) {
            size >>= 1;
        }
        value[n] = lo;
        mask[n] = (uint16_t) ~(size - 1);
        n++;
        lo += size;
    }
    return n;
}

static int
priority_of(const struct set *s, size_t i)
{
    return (int) (s->n_rules - i);  /* the first rule wins */
}

/* Rule i's entries, initialised (not inserted), NULL-terminated. */
static struct entry **
make_entries(const struct set *s, size_t i, size_t *n_out)
{
    const struct cb_rule *r = &s->rules[i];
    uint16_t sv[32], sm[32], dv[32], dm[32];
    size_t ns = range_blocks(r->sp_lo, r->sp_hi, sv, sm);
    size_t nd = range_blocks(r->dp_lo, r->dp_hi, dv, dm);
    struct entry **v = xmalloc((ns * nd + 1) * sizeof *v);
    size_t n = 0;
    for (size_t a = 0; a < ns; a++) {
        for (size_t b = 0; b < nd; b++) {
            struct match m;
            match_init_catchall(&m);
            match_set_dl_type(&m, htons(ETH_TYPE_IP));
            match_set_nw_src_masked(&m, htonl(r->src), htonl(prefix_mask(r->src_len)));
            match_set_nw_dst_masked(&m, htonl(r->dst), htonl(prefix_mask(r->dst_len)));
            if (r->proto_mask) {
                match_set_nw_proto(&m, r->proto);
            }
            if (sm[a]) {
                match_set_tp_src_masked(&m, htons(sv[a]), htons(sm[a]));
            }
            if (dm[b]) {
                match_set_tp_dst_masked(&m, htons(dv[b]), htons(dm[b]));
            }
            struct entry *e = xmalloc(sizeof *e);
            cls_rule_init(&e->cr, &m, priority_of(s, i));
            e->index = i;
            v[n++] = e;
        }
    }
    v[n] = NULL;
    *n_out = n;
    return v;
}

static void
free_entry(struct entry *e)
{
    cls_rule_destroy(&e->cr);
    free(e);
}

static double
cpu_ns(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static double
rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return rss * 4096.0;
}

static int
answer_of(const struct cls_rule *cr)
{
    return cr ? (int) CONTAINER_OF(cr, struct entry, cr)->index : -1;
}

/* Best of 3 passes over the trace, thread CPU ns per lookup; counts the
 * answers that differ from s->answers in the first pass. */
static double
time_lookups(const struct classifier *cls, struct set *s, bool wc,
             size_t *differ)
{
    double best = 1e30;
    struct flow_wildcards w;
    *differ = 0;
    for (int pass = 0; pass < 3; pass++) {
        double t0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        uintptr_t sink = 0;
        for (size_t i = 0; i < s->n_flows; i++) {
            if (wc) {
                flow_wildcards_init_catchall(&w);
            }
            const struct cls_rule *cr
                = classifier_lookup(cls, OVS_VERSION_MIN, &s->flows[i],
                                    wc ? &w : NULL);
            if (pass == 0 && s->answers && answer_of(cr) != s->answers[i]) {
                (*differ)++;
            }
            sink += (uintptr_t) cr;
        }
        double t = (cpu_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / s->n_flows;
        if (t < best) {
            best = t;
        }
        if (sink == 1) {
            printf("#");  /* keeps the loop's result alive */
        }
    }
    return best;
}

struct reader {
    const struct classifier *cls;
    struct set *s;
    atomic_bool stop;
    uint64_t lookups;
    double cpu_s;
};

static void *
reader_main(void *r_)
{
    struct reader *r = r_;
    double t0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t n = 0;
    uintptr_t sink = 0;
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        for (size_t i = 0; i < 1024; i++, n++) {
            sink += (uintptr_t) classifier_lookup(
                r->cls, OVS_VERSION_MIN, &r->s->flows[n % r->s->n_flows], NULL);
        }
        ovsrcu_quiesce();
    }
    r->lookups = n;
    r->cpu_s = (cpu_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e9;
    if (sink == 1) {
        printf("#");
    }
    return NULL;
}

/* Remove + re-insert random rules for 'seconds' of writer CPU time, a
 * reader looking up meanwhile. */
static void
run_updates(struct classifier *cls, struct set *s, double seconds)
{
    struct reader r = { .cls = cls, .s = s };
    atomic_init(&r.stop, false);
    pthread_t t = ovs_thread_create("cls-reader", reader_main, &r);
    uint64_t seed = 0x9e3779b97f4a7c15ull, updates = 0;
    double t0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID), spent = 0;
    while (spent < seconds * 1e9) {
        for (int k = 0; k < 64; k++, updates++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t i = (seed >> 33) % s->n_rules;
            struct entry **v = s->entries[i];
            for (size_t j = 0; v[j]; j++) {
                classifier_remove_assert(cls, &v[j]->cr);
                ovsrcu_postpone(free_entry, v[j]);
            }
            free(v);
            size_t n;
            v = s->entries[i] = make_entries(s, i, &n);
            for (size_t j = 0; j < n; j++) {
                classifier_insert(cls, &v[j]->cr, OVS_VERSION_MIN, NULL, 0);
            }
        }
        ovsrcu_quiesce();
        spent = cpu_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
    }
    atomic_store(&r.stop, true);
    xpthread_join(t, NULL);
    printf("ovs_cls update updates_per_s=%.0f writer_cpu_s=%.3f "
           "reader_lookups_per_s=%.0f\n",
           updates / (spent / 1e9), spent / 1e9,
           r.cpu_s > 0 ? r.lookups / r.cpu_s : 0.0);
}

int
main(int argc, char *argv[])
{
    const char *prog = argv[0];
    bool lookups = true;
    if (argc > 1 && !strcmp(argv[1], "--updates-only")) {
        lookups = false;
        argc--;
        argv++;
    }
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s [--updates-only] RULES TRACE [ANSWERS] "
                "[UPDATE_SECONDS]\n", prog);
        return 1;
    }
    struct set s = { 0 };
    load_rules(&s, argv[1]);
    load_trace(&s, argv[2]);
    if (argc > 3 && argv[3][0]) {
        load_answers(&s, argv[3]);
    }
    char *end;
    double update_s = argc > 4 ? strtod(argv[4], &end) : 1.0;
    if (argc > 4 && (end == argv[4] || *end || update_s < 0)) {
        die(argv[4], 0, "UPDATE_SECONDS is not a number of seconds");
    }

    static const enum mf_field_id tries[2] = { MFF_IPV4_DST, MFF_IPV4_SRC };
    struct classifier cls;
    classifier_init(&cls, flow_segment_u64s);
    classifier_set_prefix_fields(&cls, tries, 2);

    /* Build and memory include making the entries (cls_rule_init: each
     * entry's minimatch), as ofproto's rules hold them. */
    s.entries = xmalloc(s.n_rules * sizeof *s.entries);
    size_t n_entries = 0;
    double rss0 = rss_bytes();
    double t0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
    for (size_t i = 0; i < s.n_rules; i++) {
        size_t n;
        s.entries[i] = make_entries(&s, i, &n);
        n_entries += n;
    }
    for (size_t i = 0; i < s.n_rules; i++) {
        for (struct entry **e = s.entries[i]; *e; e++) {
            classifier_insert(&cls, &(*e)->cr, OVS_VERSION_MIN, NULL, 0);
        }
    }
    double build_ms = (cpu_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e6;
    double mem_mb = (rss_bytes() - rss0) / 1e6;

    for (int wc = 0; lookups && wc < 2; wc++) {
        size_t differ;
        double ns = time_lookups(&cls, &s, wc, &differ);
        printf("ovs_cls lookup wc=%d ns_per_lookup=%.1f build_ms=%.1f "
               "memory_MB=%.1f entries=%zu rules=%zu", wc, ns, build_ms,
               mem_mb, n_entries, s.n_rules);
        if (s.answers && differ) {
            printf(" ANSWERS_DIFFER=%zu", differ);
        }
        printf("\n");
        fflush(stdout);
    }
    if (update_s > 0) {
        run_updates(&cls, &s, update_s);
    }
    return 0;
}
