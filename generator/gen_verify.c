/*
 * gen_verify.c - citation verification of a draft answer against the
 * evidence passages, and the extractive (no model) answer.
 */
#include <string.h>

#include "gen_internal.h"

#define GEN_DEFAULT_MIN_SUPPORT 0.35
#define GEN_EXTRACTIVE_MAX 3           /* sentences in an extractive answer,
                                          all from the best sentence's passage */
#define GEN_EXTRACTIVE_REL 0.6         /* ... each >= this share of the best */
#define GEN_EXTRACTIVE_MAX_SENT 1500   /* longer passage sentences are skipped */

size_t gen_passage_len(const askdocs_passage *p)
{
    size_t n;
    if (!p || !p->text)
        return 0;
    n = strnlen(p->text, ASKDOCS_GEN_MAX_PASSAGE_BYTES + 1);
    if (n > ASKDOCS_GEN_MAX_PASSAGE_BYTES)
        n = askdocs_utf8_floor(p->text, ASKDOCS_GEN_MAX_PASSAGE_BYTES);
    return n;
}

/* One passage prepared for support checks. */
typedef struct pview {
    const char *text;
    size_t len;            /* bytes the model saw */
    gen_tokset toks;       /* tokens of text[0..len) */
    gen_sentence *sents;   /* its sentences */
    int n_sents;
    gen_tokset *stoks;     /* tokens of each sentence */
} pview;

static void pview_free(pview *pv)
{
    if (!pv)
        return;
    gen_tokset_free(&pv->toks);
    if (pv->stoks)
        for (int i = 0; i < pv->n_sents; i++)
            gen_tokset_free(&pv->stoks[i]);
    askdocs_free(pv->stoks);
    askdocs_free(pv->sents);
    memset(pv, 0, sizeof *pv);
}

/* Build pv for text[0..len). On failure pv holds nothing. */
static askdocs_rc pview_build(pview *pv, const char *text, size_t len)
{
    askdocs_rc rc;
    memset(pv, 0, sizeof *pv);
    pv->text = text ? text : "";
    pv->len = text ? len : 0;
    rc = gen_tokset_build(pv->text, pv->len, &pv->toks);
    if (rc != ASKDOCS_OK)
        goto cleanup;
    rc = gen_split_sentences(pv->text, pv->len, 0, &pv->sents, &pv->n_sents);
    if (rc != ASKDOCS_OK)
        goto cleanup;
    if (pv->n_sents) {
        pv->stoks = askdocs_calloc((size_t)pv->n_sents, sizeof *pv->stoks);
        if (!pv->stoks) {
            rc = ASKDOCS_ERR_NOMEM;
            goto cleanup;
        }
        for (int i = 0; i < pv->n_sents; i++) {
            rc = gen_tokset_build(pv->text + pv->sents[i].start,
                                  (size_t)(pv->sents[i].end - pv->sents[i].start), &pv->stoks[i]);
            if (rc != ASKDOCS_OK)
                goto cleanup;
        }
    }
    return ASKDOCS_OK;
cleanup:
    pview_free(pv);
    return rc;
}

static int has_alnum(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32u) >= 'a' && (c | 32u) <= 'z'))
            return 1;
    }
    return 0;
}

/* 1 if s[0..n) ends with a question mark (ASCII or full-width). */
static int is_question(const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '"' || s[n - 1] == '*' || s[n - 1] == ')'))
        n--;
    return (n >= 1 && s[n - 1] == '?') || (n >= 3 && memcmp(s + n - 3, "\xEF\xBC\x9F", 3) == 0);
}

/* Start of the run of sentence-final punctuation that ends s[0..n) (n when
 * there is none). */
static size_t trailing_punct(const char *s, size_t n)
{
    size_t i = 0, run = n;
    while (i < n) {
        uint32_t cp;
        int k = askdocs_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        int p;
        if (k <= 0) {
            k = 1;
            cp = 0xFFFD;
        }
        p = cp == '.' || cp == '?' || cp == '!' || cp == 0x3002 || cp == 0xFF1F ||
            cp == 0xFF01 || cp == 0x2026;
        if (p) {
            if (run == n)
                run = i;
        } else {
            run = n;
        }
        i += (size_t)k;
    }
    return run;
}

/* Append body with " [a][b]" put before its final punctuation. */
static askdocs_rc append_marked(askdocs_buf *out, const char *body, size_t n, const int *marks,
                                int k)
{
    size_t t = trailing_punct(body, n);
    askdocs_rc rc = askdocs_buf_append(out, body, t);
    if (rc == ASKDOCS_OK && k > 0)
        rc = askdocs_buf_append(out, " ", 1);
    for (int i = 0; i < k && rc == ASKDOCS_OK; i++)
        rc = askdocs_buf_printf(out, "[%d]", marks[i]);
    if (rc == ASKDOCS_OK)
        rc = askdocs_buf_append(out, body + t, n - t);
    return rc;
}

/* Separator to put before a kept sentence, from the original gap. */
static const char *gap_of(const char *s, size_t a, size_t b)
{
    int nl = 0;
    for (size_t i = a; i < b; i++)
        nl += s[i] == '\n';
    return nl >= 2 ? "\n\n" : nl == 1 ? "\n" : " ";
}

typedef struct cite_acc {
    int pidx;          /* 0-based passage */
    double best;       /* best sentence overlap so far */
    int span_start, span_end;
} cite_acc;

static void free_citations(askdocs_citation *c, int n)
{
    if (!c)
        return;
    for (int i = 0; i < n; i++) {
        askdocs_free(c[i].doc);
        askdocs_free(c[i].heading);
        askdocs_free(c[i].text);
    }
    askdocs_free(c);
}

askdocs_rc gen_verify(const char *draft, size_t draft_len, const askdocs_passage *passages,
                      const size_t *plen, int n, double min_support, int strict, int ko,
                      askdocs_answer *a, gen_verify_stats *st)
{
    return gen_verify_ex(draft, draft_len, passages, plen, n, min_support, strict, ko, NULL, a,
                         st);
}

#define GEN_SIM_SENTS 8 /* passage sentences compared by similarity */

/* Highest cosine of the sentence core[0..n) with the passage sentences of
 * pv that share most tokens with it (at most GEN_SIM_SENTS; -1 when it
 * cannot be computed). */
static double sim_support(const gen_sim *sim, const char *core, size_t n, const pview *pv,
                          const gen_tokset *T)
{
    float *v = NULL;
    char *texts[GEN_SIM_SENTS + 1];
    double ovs[GEN_SIM_SENTS];
    int idx[GEN_SIM_SENTS], k = 0;
    double best = -1;
    memset(texts, 0, sizeof texts);
    if (!sim || !sim->fn || sim->dim <= 0 || pv->n_sents == 0)
        return -1;
    /* the passage sentences with the highest overlap, ties in order */
    for (int q = 0; q < pv->n_sents; q++) {
        double ov = gen_overlap(T, &pv->stoks[q]);
        int at = k < GEN_SIM_SENTS ? k : GEN_SIM_SENTS - 1;
        if (k == GEN_SIM_SENTS && ov <= ovs[at])
            continue;
        while (at > 0 && ovs[at - 1] < ov) {
            ovs[at] = ovs[at - 1];
            idx[at] = idx[at - 1];
            at--;
        }
        ovs[at] = ov;
        idx[at] = q;
        if (k < GEN_SIM_SENTS)
            k++;
    }
    texts[0] = askdocs_strndup(core, n);
    if (!texts[0])
        goto cleanup;
    for (int j = 0; j < k; j++) {
        texts[j + 1] = askdocs_strndup(pv->text + pv->sents[idx[j]].start,
                                       (size_t)(pv->sents[idx[j]].end - pv->sents[idx[j]].start));
        if (!texts[j + 1])
            goto cleanup;
    }
    v = askdocs_malloc((size_t)(k + 1) * (size_t)sim->dim * sizeof *v);
    if (!v || sim->fn(sim->user, (const char *const *)texts, k + 1, v) != 0)
        goto cleanup;
    for (int j = 1; j <= k; j++) {
        double cos = 0;
        for (int i = 0; i < sim->dim; i++)
            cos += (double)v[i] * v[(size_t)j * (size_t)sim->dim + (size_t)i];
        if (cos > best)
            best = cos;
    }
cleanup:
    for (int j = 0; j <= k; j++)
        askdocs_free(texts[j]);
    askdocs_free(v);
    return best;
}

/* Code points in s[0..n). */
static int n_chars(const char *s, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

askdocs_rc gen_verify_ex(const char *draft, size_t draft_len, const askdocs_passage *passages,
                         const size_t *plen, int n, double min_support, int strict, int ko,
                         const gen_sim *sim, askdocs_answer *a, gen_verify_stats *st)
{
    askdocs_rc rc = ASKDOCS_OK;
    pview *pv = NULL;
    gen_sentence *ss = NULL;
    int nss = 0, n_acc = 0, n_seen = 0, any_content = 0, refused_by_model = 0;
    int *acc_of = NULL;
    cite_acc *acc = NULL;
    double *sup = NULL;
    uint64_t *seen = NULL;
    askdocs_buf out, body;
    gen_tokset T = { NULL, 0 };
    gen_verify_stats s;
    askdocs_citation *cit = NULL;
    askdocs_answer_sentence *sents = NULL;
    int n_sents_out = 0;
    char *text = NULL;
    size_t prev_end = 0, first_lp = 0;
    int n_emitted = 0;
    double min_sim = sim && sim->min_similarity > 0 ? sim->min_similarity : 0.92;

    askdocs_buf_init(&out, ASKDOCS_GEN_MAX_ANSWER_BYTES + 1024);
    askdocs_buf_init(&body, ASKDOCS_GEN_MAX_ANSWER_BYTES + 1024);
    memset(&s, 0, sizeof s);
    if (!a || (n > 0 && !passages) || n < 0 || (!draft && draft_len)) {
        rc = ASKDOCS_ERR_INVALID;
        goto cleanup;
    }
    if (!draft)
        draft = "";
    if (n > ASKDOCS_GEN_MAX_PASSAGES)
        n = ASKDOCS_GEN_MAX_PASSAGES;
    if (min_support <= 0)
        min_support = GEN_DEFAULT_MIN_SUPPORT;

    if (n > 0) {
        pv = askdocs_calloc((size_t)n, sizeof *pv);
        sup = askdocs_calloc((size_t)n, sizeof *sup);
        acc = askdocs_calloc((size_t)n, sizeof *acc);
        acc_of = askdocs_calloc((size_t)n, sizeof *acc_of);
        if (!pv || !sup || !acc || !acc_of) {
            rc = ASKDOCS_ERR_NOMEM;
            goto cleanup;
        }
        for (int i = 0; i < n; i++) {
            size_t full = gen_passage_len(&passages[i]);
            size_t len = plen ? ASKDOCS_MIN(plen[i], full) : full;
            acc_of[i] = -1;
            rc = pview_build(&pv[i], passages[i].text, len);
            if (rc != ASKDOCS_OK)
                goto cleanup;
        }
    }
    rc = gen_split_sentences(draft, draft_len, 1, &ss, &nss);
    if (rc != ASKDOCS_OK)
        goto cleanup;
    if (nss) {
        seen = askdocs_calloc((size_t)nss, sizeof *seen);
        sents = askdocs_calloc((size_t)nss, sizeof *sents);
        if (!seen || !sents) {
            rc = ASKDOCS_ERR_NOMEM;
            goto cleanup;
        }
    }
    s.n_sentences = nss;

    for (int si = 0; si < nss; si++) {
        const gen_sentence *sen = &ss[si];
        int kept[GEN_MAX_MARKS], nk = 0, dup = 0;
        uint64_t h;
        const char *core;
        size_t core_len;
        size_t gap_a = prev_end;
        prev_end = (size_t)sen->end;

        askdocs_buf_reset(&body);
        rc = gen_strip_markers(draft + sen->start, (size_t)(sen->end - sen->start), &body);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        /* the core: without a list marker ("1. ", "- ") */
        core = body.data ? body.data + gen_list_prefix(body.data, body.len) : "";
        core_len = body.data ? body.len - (size_t)(core - body.data) : 0;
        if (!has_alnum(core, core_len)) {
            s.n_dropped++;
            continue;
        }
        if (is_question(core, core_len)) { /* the model restating the question */
            s.n_dropped++;
            continue;
        }
        if (gen_is_refusal(core, core_len)) {
            s.n_refusal++;
            if (!any_content)
                refused_by_model = 1;
            s.n_dropped++;
            continue;
        }
        gen_tokset_free(&T);
        rc = gen_tokset_build(core, core_len, &T);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        /* a repeated sentence (small models loop): same content tokens */
        h = T.n ? askdocs_fnv1a64(T.h, (size_t)T.n * sizeof *T.h) : askdocs_fnv1a64(core, core_len);
        for (int j = 0; j < n_seen; j++)
            dup |= seen[j] == h;
        if (dup) {
            s.n_dropped++;
            continue;
        }
        seen[n_seen++] = h;
        if (n_emitted++ == 0)
            first_lp = (size_t)(core - body.data);
        if (T.n == 0) { /* no content words: keep as is, no marker */
            if (out.len)
                rc = askdocs_buf_puts(&out, gap_of(draft, gap_a, (size_t)sen->start));
            if (rc == ASKDOCS_OK)
                rc = askdocs_buf_append(&out, body.data, body.len);
            if (rc != ASKDOCS_OK)
                goto cleanup;
            continue;
        }
        any_content = 1;
        for (int i = 0; i < n; i++)
            sup[i] = gen_support_set(&T, &pv[i].toks);
        /* the model's markers: keep those whose passage supports it */
        for (int m = 0; m < sen->n_marks; m++) {
            int p = sen->marks[m], again = 0;
            for (int j = 0; j < nk; j++)
                again |= kept[j] == p;
            if (again)
                continue;
            if (p >= 1 && p <= n &&
                (sup[p - 1] >= min_support ||
                 (sim && sup[p - 1] >= min_support / 2 &&
                  sim_support(sim, core, core_len, &pv[p - 1], &T) >= min_sim))) {
                kept[nk++] = p;
                s.n_marks_kept++;
            } else {
                s.n_marks_removed++;
            }
        }
        if (nk == 0) { /* attach the best passage, if one supports it */
            int best = -1;
            for (int i = 0; i < n; i++)
                if (sup[i] >= min_support && (best < 0 || sup[i] > sup[best]))
                    best = i;
            if (best < 0 && sim) { /* a paraphrase: the closest passages by
                                      overlap, checked by similarity */
                for (int tries = 0; tries < 2 && best < 0; tries++) {
                    int cand = -1;
                    for (int i = 0; i < n; i++)
                        if (sup[i] >= min_support / 2 && (cand < 0 || sup[i] > sup[cand]))
                            cand = i;
                    if (cand < 0)
                        break;
                    if (sim_support(sim, core, core_len, &pv[cand], &T) >= min_sim)
                        best = cand;
                    else
                        sup[cand] = -1; /* next candidate */
                }
                if (best >= 0)
                    s.n_sim_supported++;
            }
            if (best >= 0) {
                kept[nk++] = best + 1;
                s.n_marks_added++;
            }
        }
        if (nk == 0) {
            s.n_unsupported++;
            if (strict) {
                s.n_dropped++;
                n_emitted--;
                continue;
            }
        } else {
            s.n_supported++;
        }
        if (out.len)
            rc = askdocs_buf_puts(&out, gap_of(draft, gap_a, (size_t)sen->start));
        if (rc == ASKDOCS_OK) {
            askdocs_answer_sentence *as = &sents[n_sents_out++];
            as->start = (int)out.len;
            rc = append_marked(&out, body.data, body.len, kept, nk);
            as->end = (int)out.len;
            as->supported = nk > 0;
            as->n_cites = ASKDOCS_MIN(nk, (int)(sizeof as->cites / sizeof as->cites[0]));
            memcpy(as->cites, kept, (size_t)as->n_cites * sizeof *kept);
        }
        if (rc != ASKDOCS_OK)
            goto cleanup;
        /* record citations and their best supporting passage sentence */
        for (int j = 0; j < nk; j++) {
            int p = kept[j] - 1;
            cite_acc *c;
            if (acc_of[p] < 0) {
                acc_of[p] = n_acc;
                acc[n_acc].pidx = p;
                acc[n_acc].best = -1.0;
                acc[n_acc].span_start = 0;
                acc[n_acc].span_end = (int)pv[p].len;
                n_acc++;
            }
            c = &acc[acc_of[p]];
            for (int q = 0; q < pv[p].n_sents; q++) {
                double ov = gen_overlap(&T, &pv[p].stoks[q]);
                if (ov > c->best) {
                    c->best = ov;
                    c->span_start = pv[p].sents[q].start;
                    c->span_end = pv[p].sents[q].end;
                }
            }
        }
    }

    a->refused = refused_by_model || s.n_supported == 0;
    a->n_unsupported = s.n_unsupported;
    if (a->refused) {
        text = askdocs_strdup(gen_refusal_phrase(ko));
        if (!text) {
            rc = ASKDOCS_ERR_NOMEM;
            goto cleanup;
        }
        n_acc = 0;
        n_sents_out = 0;
    } else {
        if (n_emitted == 1 && first_lp > 0 && first_lp <= out.len) {
            /* a one-item "list": drop its "1. " */
            memmove(out.data, out.data + first_lp, out.len - first_lp + 1);
            out.len -= first_lp;
            for (int j = 0; j < n_sents_out; j++) {
                sents[j].start = ASKDOCS_MAX(0, sents[j].start - (int)first_lp);
                sents[j].end = ASKDOCS_MAX(0, sents[j].end - (int)first_lp);
            }
        }
        text = askdocs_buf_take(&out);
        if (!text) {
            rc = ASKDOCS_ERR_NOMEM;
            goto cleanup;
        }
    }
    if (n_acc) {
        cit = askdocs_calloc((size_t)n_acc, sizeof *cit);
        if (!cit) {
            rc = ASKDOCS_ERR_NOMEM;
            goto cleanup;
        }
        for (int j = 0; j < n_acc; j++) {
            const askdocs_passage *p = &passages[acc[j].pidx];
            cit[j].n = acc[j].pidx + 1;
            cit[j].chunk_id = p->chunk_id;
            cit[j].page = p->page;
            cit[j].span_start = acc[j].span_start;
            cit[j].span_end = acc[j].span_end;
            if (p->text) {
                cit[j].span_char_start = n_chars(p->text, (size_t)acc[j].span_start);
                cit[j].span_char_end = cit[j].span_char_start +
                                       n_chars(p->text + acc[j].span_start,
                                               (size_t)(acc[j].span_end - acc[j].span_start));
            }
            cit[j].doc = askdocs_strdup(p->doc ? p->doc : "");
            cit[j].heading = p->heading ? askdocs_strdup(p->heading) : NULL;
            cit[j].text = askdocs_strndup(p->text ? p->text : "", gen_passage_len(p));
            if (!cit[j].doc || (p->heading && !cit[j].heading) || !cit[j].text) {
                free_citations(cit, j + 1);
                cit = NULL;
                rc = ASKDOCS_ERR_NOMEM;
                goto cleanup;
            }
        }
    }
    a->text = text;
    a->citations = cit;
    a->n_citations = n_acc;
    if (n_sents_out) {
        a->sentences = sents;
        a->n_sentences = n_sents_out;
        sents = NULL;
    }
    text = NULL;
    cit = NULL;
    if (st)
        *st = s;

cleanup:
    askdocs_free(text);
    askdocs_free(sents);
    gen_tokset_free(&T);
    if (pv)
        for (int i = 0; i < n; i++)
            pview_free(&pv[i]);
    askdocs_free(pv);
    askdocs_free(sup);
    askdocs_free(acc);
    askdocs_free(acc_of);
    askdocs_free(seen);
    askdocs_free(ss);
    askdocs_buf_free(&out);
    askdocs_buf_free(&body);
    return rc;
}

/* ------------------------------------------------------------ extractive */

typedef struct cand {
    double score;
    int pidx, start, end;
} cand;

askdocs_rc gen_extractive_draft(const char *question, const askdocs_passage *passages,
                                const size_t *plen, int n, double min_score, askdocs_buf *draft,
                                double *best)
{
    askdocs_rc rc = ASKDOCS_OK;
    gen_tokset Q = { NULL, 0 }, T = { NULL, 0 };
    gen_sentence *ss = NULL;
    int nss = 0, nc = 0;
    cand top[GEN_EXTRACTIVE_MAX];
    askdocs_buf body;

    askdocs_buf_init(&body, ASKDOCS_GEN_MAX_PASSAGE_BYTES + 64);
    if (best)
        *best = 0;
    if (!question || !draft || (n > 0 && !passages) || n < 0) {
        rc = ASKDOCS_ERR_INVALID;
        goto cleanup;
    }
    if (n > ASKDOCS_GEN_MAX_PASSAGES)
        n = ASKDOCS_GEN_MAX_PASSAGES;
    if (min_score <= 0)
        min_score = GEN_DEFAULT_MIN_SUPPORT;
    rc = gen_tokset_build(question, strlen(question), &Q);
    if (rc != ASKDOCS_OK || Q.n == 0)
        goto cleanup;

    for (int i = 0; i < n; i++) {
        const char *t = passages[i].text ? passages[i].text : "";
        size_t full = gen_passage_len(&passages[i]);
        size_t len = plen ? ASKDOCS_MIN(plen[i], full) : full;
        askdocs_free(ss);
        ss = NULL;
        rc = gen_split_sentences(t, len, 0, &ss, &nss);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        for (int j = 0; j < nss; j++) {
            double sc;
            int pos;
            if (ss[j].end - ss[j].start > GEN_EXTRACTIVE_MAX_SENT)
                continue;
            gen_tokset_free(&T);
            rc = gen_tokset_build(t + ss[j].start, (size_t)(ss[j].end - ss[j].start), &T);
            if (rc != ASKDOCS_OK)
                goto cleanup;
            sc = gen_overlap(&Q, &T);
            if (sc <= 0)
                continue;
            /* insert into top (sorted by score desc; ties keep rank order) */
            pos = nc;
            while (pos > 0 && top[pos - 1].score < sc)
                pos--;
            if (pos >= GEN_EXTRACTIVE_MAX)
                continue;
            if (nc < GEN_EXTRACTIVE_MAX)
                nc++;
            memmove(&top[pos + 1], &top[pos], (size_t)(nc - 1 - pos) * sizeof top[0]);
            top[pos].score = sc;
            top[pos].pidx = i;
            top[pos].start = ss[j].start;
            top[pos].end = ss[j].end;
        }
    }
    if (nc && best)
        *best = top[0].score;
    for (int k = 0; k < nc && top[0].score >= min_score; k++) {
        const char *t = passages[top[k].pidx].text;
        int mark = top[k].pidx + 1;
        if (top[k].score < min_score || top[k].score < GEN_EXTRACTIVE_REL * top[0].score)
            break;
        if (top[k].pidx != top[0].pidx)
            continue; /* one passage: a second one is seldom the gold one
                         (korquad refusal set: precision 0.84 -> 0.94) */
        askdocs_buf_reset(&body);
        rc = gen_strip_markers(t + top[k].start, (size_t)(top[k].end - top[k].start), &body);
        if (rc != ASKDOCS_OK)
            goto cleanup;
        for (size_t c = 0; c < body.len; c++)
            if (body.data[c] == '\n' || body.data[c] == '\t' || body.data[c] == '\r')
                body.data[c] = ' ';
        if (draft->len)
            rc = askdocs_buf_append(draft, " ", 1);
        if (rc == ASKDOCS_OK)
            rc = append_marked(draft, body.data, body.len, &mark, 1);
        if (rc != ASKDOCS_OK)
            goto cleanup;
    }
cleanup:
    gen_tokset_free(&Q);
    gen_tokset_free(&T);
    askdocs_free(ss);
    askdocs_buf_free(&body);
    return rc;
}
