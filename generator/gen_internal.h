/*
 * gen_internal.h - internals of the generator module, exposed for
 * tests/test_generator.c only. Not a public API: names and shapes may change.
 */
#ifndef ASKDOCS_GEN_INTERNAL_H
#define ASKDOCS_GEN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "askdocs_common.h"
#include "askdocs_generator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps of the text analysis. */
#define GEN_MAX_TOKENS (1 << 18)   /* content tokens kept from one text */
#define GEN_MAX_SENTENCES 8192     /* sentences kept from one text */
#define GEN_MAX_MARKS 8            /* [n] markers kept per sentence */
#define GEN_TOKEN_MAX_BYTES 64     /* longer words are cut for hashing */

/* -------------------------------------------------------- content tokens */
/* Called once per content token (normalised UTF-8 bytes, not NUL-terminated,
 * borrowed for the call only). */
typedef void (*gen_token_fn)(const char *tok, size_t len, void *user);

/* Emit the content tokens of s[0..n): Latin words lowercased, >= 2 letters,
 * minus a stopword list; numbers (digits, "," inside dropped, "." inside
 * kept); Hangul runs with a trailing particle/ending stripped, as syllable
 * bigrams (minus a few stopwords); CJK/kana runs as bigrams. [n] citation
 * markers are skipped. Never allocates. */
void gen_content_tokens(const char *s, size_t n, gen_token_fn fn, void *user);

/* Content tokens of s[0..n) as one space-separated string into out (for tests
 * and debugging). */
askdocs_rc gen_content_tokens_str(const char *s, size_t n, askdocs_buf *out);

/* A sorted set of distinct token hashes. */
typedef struct gen_tokset {
    uint64_t *h;   /* owned, askdocs_malloc'ed; NULL when n == 0 */
    int n;
} gen_tokset;

/* Build the token set of s[0..n). On success the caller frees *out with
 * gen_tokset_free(); on failure *out is empty. */
askdocs_rc gen_tokset_build(const char *s, size_t n, gen_tokset *out);
void gen_tokset_free(gen_tokset *t);   /* NULL or empty is harmless */

/* Share of a's tokens that are in b, 0..1; -1 when a has no tokens. */
double gen_overlap(const gen_tokset *a, const gen_tokset *b);

/* Hashes of number tokens have this bit set, those of words have it clear. */
#define GEN_NUMBER_BIT (1ULL << 63)

/* Support of a sentence (token set s) by a passage (p): gen_overlap(s, p),
 * but 0 when a number of s is not in p (a wrong figure is never supported).
 * -1 when s has no tokens. */
double gen_support_set(const gen_tokset *s, const gen_tokset *p);

/* gen_support_set(tokens(s), tokens(p)) of two UTF-8 strings. -1 when s has
 * no content token, -2 on OOM. Convenience for tests. */
double gen_support(const char *s, const char *p);

/* ------------------------------------------------------------- sentences */
typedef struct gen_sentence {
    int start, end;             /* byte range, trimmed of outer whitespace;
                                   includes the [n] markers that follow it */
    int marks[GEN_MAX_MARKS];   /* numbers in its [n] markers, in order */
    int n_marks;
} gen_sentence;

/* Split s[0..n) into sentences: after . ? ! (not inside numbers or after
 * short abbreviations), after 。？！, after a Korean ending 다/요/까 followed
 * by white space; at every newline when newline_breaks, else only at blank
 * lines. [n] markers after the end stay with their sentence. On success the
 * caller frees *out with askdocs_free (NULL when *n_out == 0). */
askdocs_rc gen_split_sentences(const char *s, size_t n, int newline_breaks,
                               gen_sentence **out, int *n_out);

/* Parse one marker "[3]" / "[1, 2]" / "[1; 2]" at s[0..n). Returns the bytes
 * it spans (0 = no marker); its numbers go to nums[0..*k), at most max. */
size_t gen_parse_marker(const char *s, size_t n, int *nums, int *k, int max);

/* Bytes of a list marker ("1. ", "2) ", "(3) ", "- ", "* ", bullet) and
 * the blanks after it at the start of s[0..n); 0 when there is none. */
size_t gen_list_prefix(const char *s, size_t n);

/* Append s[0..n) to out without its [n] markers (and the blanks before
 * them), trimmed. */
askdocs_rc gen_strip_markers(const char *s, size_t n, askdocs_buf *out);

/* ---------------------------------------------------------------- refusal */
/* The fixed refusal phrase of the language (ko = 1 Korean). Static. */
const char *gen_refusal_phrase(int ko);
/* 1 if s[0..n) says that the documents do not hold the answer (the fixed
 * phrases or an equivalent wording, English or Korean). */
int gen_is_refusal(const char *s, size_t n);

/* ---------------------------------------------------------- verification */
typedef struct gen_verify_stats {
    int n_sentences;       /* sentences in the draft */
    int n_supported;       /* kept with at least one citation */
    int n_unsupported;     /* with content but no supporting passage */
    int n_marks_kept;      /* model markers that were verified */
    int n_marks_removed;   /* model markers that were not (or out of range) */
    int n_marks_added;     /* best passage attached to a sentence without one */
    int n_refusal;         /* refusal sentences seen */
    int n_dropped;         /* sentences left out of the text */
} gen_verify_stats;

/* Verify the citations of draft[0..draft_len) against passages[0..n) and fill
 * a->text, a->citations, a->n_citations, a->refused, a->n_unsupported (other
 * fields are left alone; a must be zeroed or hold no text/citations yet).
 * plen[i] (plen may be NULL) = bytes of passage i the model saw, cut to
 * ASKDOCS_GEN_MAX_PASSAGE_BYTES. ko selects the refusal phrase. st may be
 * NULL. On failure a keeps nothing new. */
askdocs_rc gen_verify(const char *draft, size_t draft_len,
                      const askdocs_passage *passages, const size_t *plen,
                      int n, double min_support, int strict, int ko,
                      askdocs_answer *a, gen_verify_stats *st);

/* Extractive draft: the 1-3 passage sentences with the highest share of the
 * question's content tokens (>= min_score and >= 0.6 * best), each with its
 * [n] marker, into draft. *best gets the best share (0 when none). An empty
 * draft means nothing reached min_score. */
askdocs_rc gen_extractive_draft(const char *question,
                                const askdocs_passage *passages,
                                const size_t *plen, int n, double min_score,
                                askdocs_buf *draft, double *best);

/* Bytes of passage text to use: strlen cut at ASKDOCS_GEN_MAX_PASSAGE_BYTES
 * on a UTF-8 boundary. NULL text = 0. */
size_t gen_passage_len(const askdocs_passage *p);

/* ------------------------------------------------------------ generator */
/* Tokens of the last prompt that were reused from the KV cache (0 when none
 * or extractive). For tests. */
int gen_last_reused_tokens(const askdocs_generator *g);

#ifdef __cplusplus
}
#endif
#endif /* ASKDOCS_GEN_INTERNAL_H */
