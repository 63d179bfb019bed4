/*
 * main.c - the askdocs command line: index, search, ask, config, version.
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error. Results go to
 * stdout (text, or one JSON object per line with --format jsonl); progress,
 * warnings and errors go to stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <poll.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "askdocs_common.h"
#include "askdocs_conf.h"
#include "askdocs_generator.h"
#include "askdocs_indexer.h"
#include "askdocs_retriever.h"

#ifndef ASKDOCS_VERSION
#define ASKDOCS_VERSION "0.1.0"
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define MAX_STDIN_LINE (1 << 20)
#define MAX_PATHS 4096

enum { FMT_TEXT, FMT_JSONL };

#define MAX_FILTER_ARGS 64

typedef struct cli {
    askdocs_config conf;
    const char *data;
    const char *config_file;
    int format;
    int explain;
    int watch;
    int check;
    askdocs_filter filter;               /* search/ask: which documents */
    const char *collections[MAX_FILTER_ARGS];
    const char *types[MAX_FILTER_ARGS];
    const char *readable[MAX_FILTER_ARGS];
    char readable_buf[4096];             /* --readable list, split in place */
    char err[2048];
} cli;

static void die_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void die_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "askdocs %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'askdocs %s --help'.\n", cmd);
    exit(EXIT_USAGE);
}

/* --------------------------------------------------------------- help */
static const char *const help_main =
    "askdocs - answers questions over your own documents, with citations.\n"
    "\n"
    "Usage: askdocs COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  index    add, update and remove documents of folders in an index\n"
    "  search   find the passages that match a query (bm25, dense, hybrid)\n"
    "  ask      answer a question from the indexed documents, with citations\n"
    "  status   what an index holds; --check verifies that its parts agree\n"
    "  config   print the effective configuration, or check a file\n"
    "  version  print versions of askdocs and its libraries\n"
    "\n"
    "Options of every command:\n"
    "  --config FILE   INI configuration (default: $ASKDOCS_CONFIG if set)\n"
    "  -v, --verbose   more log output on stderr;  -q, --quiet  errors only\n"
    "  -h, --help      help of the command\n"
    "\n"
    "Settings apply in this order, later wins: built-in defaults, the\n"
    "configuration file, ASKDOCS_<SECTION>_<KEY> environment variables,\n"
    "command-line flags. 'askdocs config' shows every key.\n"
    "\n"
    "Example:\n"
    "  askdocs index --data ./idx ~/contracts\n"
    "  askdocs ask --data ./idx \"What is the notice period?\"\n";

static const char *const help_index =
    "Usage: askdocs index --data DIR [OPTIONS] PATH...\n"
    "\n"
    "Index the files under each PATH (folders are walked recursively; hidden\n"
    "files and symbolic links are skipped). New files are added, changed\n"
    "files re-indexed, unchanged files (same size and time, or same SHA-256)\n"
    "skipped, moved files re-pointed without re-indexing, and documents whose\n"
    "file is gone from an indexed folder are removed. A file that cannot be\n"
    "read is reported and the others go on. Each document is committed on\n"
    "its own: a crash or kill leaves every finished document in place.\n"
    "\n"
    "Options:\n"
    "  --data DIR            index directory (created if missing)\n"
    "  --collection NAME     collection of new documents (default: default)\n"
    "  --chunk-tokens N      target chunk size in tokens  [index] chunk_tokens\n"
    "  --watch               keep indexing changes (inotify) until SIGINT/TERM\n"
    "  --format text|json    summary as text (stderr) or one JSON object\n"
    "\n"
    "Formats: PDF (text layer; OCR with [index] ocr = 1), DOCX, XLSX, CSV/TSV,\n"
    "HTML, HWP 5, HWPX, Markdown and text (UTF-8, UTF-16 with BOM,\n"
    "CP949/EUC-KR). A progress bar is drawn on a terminal.\n"
    "Exit status: 0 ok (also when some files failed: see the summary),\n"
    "1 the index could not be written, 2 usage error.\n";

#define FILTER_HELP                                                          \
    "Filters (all must hold; --collection and --type may repeat):\n"          \
    "  --collection NAME   documents of this collection\n"                   \
    "  --type T            pdf, docx, xlsx, csv, html, hwp, hwpx, markdown, text\n" \
    "  --lang ko|en        language of the document\n"                        \
    "  --path PREFIX       documents whose path (relative to the indexed\n"  \
    "                      folder) starts with PREFIX, e.g. contracts/2024/\n" \
    "  --after DATE, --before DATE  a date written in the document (YYYY-MM-DD)\n" \
    "                      lies in the range\n"                               \
    "Access rule:\n"                                                          \
    "  --readable A,B      search as a reader who may read only collections\n" \
    "                      A and B (what an API token limited to them gets);\n" \
    "                      other documents do not exist for this search\n"

static const char *const help_search =
    "Usage: askdocs search --data DIR [OPTIONS] [QUERY]\n"
    "\n"
    "Print the best passages for QUERY. Without QUERY, read one JSON object\n"
    "per line from stdin, {\"id\": ..., \"query\": \"...\"}, and print one line\n"
    "per query: {\"id\", \"hits\": [{\"doc\", \"page\", \"chunk_id\", \"score\",\n"
    "\"text\", ...}]}.\n"
    "\n"
    "Options:\n"
    "  --data DIR                 index directory\n"
    "  --k N                      hits per query (default 10)\n"
    "  --mode hybrid|bm25|dense   hybrid = reciprocal-rank fusion (default)\n"
    "  --format text|jsonl        default: text for QUERY, jsonl for stdin\n"
    "  --explain                  ranks and scores of each list per hit\n"
    FILTER_HELP;

static const char *const help_ask =
    "Usage: askdocs ask --data DIR [OPTIONS] [QUESTION]\n"
    "\n"
    "Answer QUESTION from the index: the best passages are retrieved, a local\n"
    "model writes the answer (streamed in text mode), and every citation [n]\n"
    "is checked against the passage it names; unsupported citations are\n"
    "removed. Without QUESTION, read {\"id\", \"question\"} lines from stdin and\n"
    "print {\"id\", \"answer\", \"citations\": [{\"n\", \"doc\", \"page\",\n"
    "\"chunk_id\", \"text\"}], \"ttft_ms\", \"total_ms\", \"refused\"} lines.\n"
    "\n"
    "Options:\n"
    "  --data DIR            index directory\n"
    "  --model FILE|none     GGUF chat model; none = extractive answers\n"
    "  --evidence N          passages given to the model (default 2)\n"
    "  --answer-mode model|extractive|thorough\n"
    "                        model = one pass (default); extractive = the\n"
    "                        best supporting sentences, no model; thorough =\n"
    "                        a rationale from each passage, then the answer\n"
    "  --url URL             OpenAI-compatible server instead of --model\n"
    "                        (e.g. http://host:8080/v1; key: ASKDOCS_API_KEY)\n"
    "  --mode hybrid|bm25|dense  retrieval mode (default hybrid)\n"
    "  --format text|jsonl   default: text for QUESTION, jsonl for stdin\n"
    FILTER_HELP;

static const char *const help_status =
    "Usage: askdocs status --data DIR [--check] [--format text|json]\n"
    "\n"
    "Print what the index holds: documents, chunks, pages, embeddings,\n"
    "vectors, tokenizer, embedding model. With --check, also verify that the\n"
    "parts agree (SQLite integrity, the full-text index against the chunks,\n"
    "chunks per document, an embedding per chunk, a vector per embedding);\n"
    "exit status 1 if they do not.\n";

static const char *const help_config =
    "Usage: askdocs config [--config FILE] [--check]\n"
    "\n"
    "Print the effective configuration (defaults, then FILE, then\n"
    "ASKDOCS_<SECTION>_<KEY> environment variables) as an INI file that can\n"
    "be edited and passed back with --config. With --check, only validate\n"
    "and print 'ok'.\n";

/* -------------------------------------------------------- config setup */
static void load_config(cli *c, const char *cmd)
{
    askdocs_rc rc = askdocs_config_defaults(&c->conf);
    const char *file = c->config_file;
    if (rc != ASKDOCS_OK) {
        fprintf(stderr, "askdocs: out of memory\n");
        exit(EXIT_RUNTIME);
    }
    if (!file) {
        file = getenv("ASKDOCS_CONFIG");
        if (file && !*file)
            file = NULL;
    }
    if (file && askdocs_config_load_file(&c->conf, file, c->err,
                                         sizeof(c->err)) != ASKDOCS_OK) {
        fprintf(stderr, "askdocs %s: configuration error: %s\n", cmd, c->err);
        exit(EXIT_USAGE);
    }
    if (askdocs_config_apply_env(&c->conf, c->err, sizeof(c->err)) !=
        ASKDOCS_OK) {
        fprintf(stderr, "askdocs %s: configuration error: %s\n", cmd, c->err);
        exit(EXIT_USAGE);
    }
}

static void set_flag(cli *c, const char *cmd, const char *section,
                     const char *key, const char *value)
{
    if (askdocs_config_set(&c->conf, section, key, value, c->err,
                           sizeof(c->err)) != ASKDOCS_OK)
        die_usage(cmd, "%s", c->err);
}

/* Open the configured embedding model; exits on failure. */
static idx_embedder *open_embedder(cli *c, const char *cmd)
{
    idx_embedder_params p = idx_embedder_default_params();
    idx_embedder *e = NULL;
    char *path;
    if (strcmp(c->conf.embed_model, "none") == 0)
        return NULL; /* BM25-only index */
    path = askdocs_resolve_model(c->conf.embed_model,
                                 ASKDOCS_DEFAULT_EMBED_MODEL);
    if (!path) {
        fprintf(stderr, "askdocs: out of memory\n");
        exit(EXIT_RUNTIME);
    }
    if (access(path, R_OK) != 0) {
        fprintf(stderr,
                "askdocs %s: embedding model not found: %s\n"
                "Install the models with 'scripts/setup.sh' (or 'make "
                "setup'), or set [embed] model in the configuration.\n",
                cmd, path);
        exit(EXIT_RUNTIME);
    }
    askdocs_free(c->conf.embed_model);
    c->conf.embed_model = path; /* the resolved path is recorded in the index */
    p.model_path = path;
    p.n_threads = c->conf.embed_threads;
    p.max_tokens = c->conf.embed_max_tokens;
    p.query_prefix = c->conf.query_prefix;
    p.passage_prefix = c->conf.passage_prefix;
    if (idx_embedder_open(&p, &e, c->err, sizeof(c->err)) != ASKDOCS_OK) {
        fprintf(stderr, "askdocs %s: cannot load the embedding model: %s\n",
                cmd, c->err);
        exit(EXIT_RUNTIME);
    }
    return e;
}

static askdocs_index *open_index(cli *c, const char *cmd, int writable)
{
    askdocs_index *ix = NULL;
    if (askdocs_index_open(c->data, writable, &c->conf, &ix, c->err, sizeof(c->err)) !=
        ASKDOCS_OK) {
        fprintf(stderr, "askdocs %s: %s\n", cmd, c->err);
        exit(EXIT_RUNTIME);
    }
    return ix;
}

static int parse_format(const char *cmd, const char *v, int allow_json)
{
    if (strcmp(v, "text") == 0)
        return FMT_TEXT;
    if (strcmp(v, "jsonl") == 0 || (allow_json && strcmp(v, "json") == 0))
        return FMT_JSONL;
    die_usage(cmd, "unknown format '%s' (use text or %s)", v,
              allow_json ? "json" : "jsonl");
    return FMT_TEXT;
}

/* Common options; returns 1 if handled. */
enum {
    OPT_DATA = 1000, OPT_CONFIG, OPT_FORMAT, OPT_K, OPT_MODE, OPT_EXPLAIN,
    OPT_COLLECTION, OPT_CHUNK, OPT_MODEL, OPT_EVIDENCE, OPT_CHECK, OPT_WATCH,
    OPT_TYPE, OPT_LANG, OPT_AFTER, OPT_BEFORE, OPT_PATH, OPT_READABLE,
    OPT_ANSWER_MODE, OPT_URL
};

static int valid_date(const char *v)
{
    int i;
    if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
        return 0;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)v[i]))
            return 0;
    return 1;
}

/* Filter options of search and ask; returns 1 if handled. */
static int filter_opt(cli *c, const char *cmd, int o)
{
    askdocs_filter *f = &c->filter;
    switch (o) {
    case OPT_COLLECTION:
        if (f->n_collections >= MAX_FILTER_ARGS)
            die_usage(cmd, "at most %d --collection", MAX_FILTER_ARGS);
        c->collections[f->n_collections++] = optarg;
        f->collections = c->collections;
        return 1;
    case OPT_TYPE:
        if (f->n_types >= MAX_FILTER_ARGS)
            die_usage(cmd, "at most %d --type", MAX_FILTER_ARGS);
        c->types[f->n_types++] = optarg;
        f->types = c->types;
        return 1;
    case OPT_LANG:
        if (strcmp(optarg, "ko") != 0 && strcmp(optarg, "en") != 0)
            die_usage(cmd, "--lang is ko or en");
        f->lang = optarg;
        return 1;
    case OPT_PATH:
        f->path_prefix = optarg;
        return 1;
    case OPT_READABLE: {
        char *save = NULL, *tok;
        if (strlen(optarg) >= sizeof(c->readable_buf))
            die_usage(cmd, "--readable list too long");
        memcpy(c->readable_buf, optarg, strlen(optarg) + 1);
        f->restricted = 1;
        f->n_readable = 0;
        for (tok = strtok_r(c->readable_buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            if (!*tok)
                continue;
            if (f->n_readable >= MAX_FILTER_ARGS)
                die_usage(cmd, "at most %d readable collections",
                          MAX_FILTER_ARGS);
            c->readable[f->n_readable++] = tok;
        }
        f->readable = c->readable;
        return 1;
    }
    case OPT_AFTER:
    case OPT_BEFORE:
        if (!valid_date(optarg))
            die_usage(cmd, "dates are YYYY-MM-DD, not '%s'", optarg);
        if (o == OPT_AFTER)
            f->date_from = optarg;
        else
            f->date_to = optarg;
        return 1;
    default: return 0;
    }
}

#define FILTER_OPTIONS                                                        \
    {"collection", required_argument, 0, OPT_COLLECTION},                     \
        {"type", required_argument, 0, OPT_TYPE},                             \
        {"lang", required_argument, 0, OPT_LANG},                             \
        {"after", required_argument, 0, OPT_AFTER},                           \
        {"before", required_argument, 0, OPT_BEFORE},                         \
        {"path", required_argument, 0, OPT_PATH},                             \
        {"readable", required_argument, 0, OPT_READABLE}

static int common_opt(cli *c, int o)
{
    switch (o) {
    case OPT_DATA: c->data = optarg; return 1;
    case OPT_CONFIG: c->config_file = optarg; return 1;
    case 'v': askdocs_log_level = 2; return 1;
    case 'q': askdocs_log_level = 0; return 1;
    default: return 0;
    }
}

/* Pre-scan argv for --config so it is loaded before flags override it. */
static void prescan_config(cli *c, int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            c->config_file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            c->config_file = argv[i] + 9;
    }
}

/* --------------------------------------------------------------- index */
typedef struct progress {
    int tty, json;
    double t0;
    int64_t chunks;
    json_t *failures; /* json mode: [{path, error}] (capped) */
    json_t *warnings; /* json mode: [{path, warning}] (capped) */
} progress;

#define MAX_REPORTED_FAILURES 1000

static void on_progress(const askdocs_ingest_event *ev, void *user)
{
    progress *p = user;
    static const char *const names[] = {"added",   "updated", "unchanged",
                                        "removed", "failed",  "moved"};
    p->chunks += ev->n_chunks;
    if (p->tty)
        fputs("\r\033[K", stderr);
    if (ev->status == ASKDOCS_FILE_FAILED) {
        fprintf(stderr, "failed: %s\n", ev->error ? ev->error : ev->path);
        if (p->failures &&
            json_array_size(p->failures) < MAX_REPORTED_FAILURES)
            json_array_append_new(
                p->failures,
                json_pack("{s:s,s:s}", "path", ev->path, "error",
                          ev->error ? ev->error : "failed"));
    } else if (ev->warning) {
        if (askdocs_log_level >= 1)
            fprintf(stderr, "%s: %s (%d chunks); warning: %s\n",
                    names[ev->status], ev->path, ev->n_chunks, ev->warning);
        if (p->warnings &&
            json_array_size(p->warnings) < MAX_REPORTED_FAILURES)
            json_array_append_new(p->warnings,
                                  json_pack("{s:s,s:s}", "path", ev->path,
                                            "warning", ev->warning));
    } else if (ev->status == ASKDOCS_FILE_REMOVED ||
               ev->status == ASKDOCS_FILE_MOVED) {
        if (askdocs_log_level >= 1)
            fprintf(stderr, "%s: %s\n", names[ev->status], ev->path);
    } else if (askdocs_log_level >= 2 ||
               (!p->tty && askdocs_log_level >= 1 &&
                ev->status != ASKDOCS_FILE_UNCHANGED)) {
        fprintf(stderr, "%s: %s (%d chunks)\n", names[ev->status], ev->path,
                ev->n_chunks);
    }
    if (p->tty && askdocs_log_level >= 1 && ev->files_total > 0 &&
        ev->status != ASKDOCS_FILE_REMOVED) {
        double el = (askdocs_now_ms() - p->t0) / 1000.0;
        double frac = ev->bytes_total > 0 ? ev->bytes_done / ev->bytes_total
                                          : (double)ev->files_done /
                                                ev->files_total;
        double eta = frac > 0 ? el / frac - el : 0;
        char bar[21];
        int i, fill = (int)(frac * 20 + 0.5);
        for (i = 0; i < 20; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[20] = '\0';
        fprintf(stderr,
                "[%s] %3.0f%% %d/%d files, %.1f/%.1f MB, %.1f chunks/s, "
                "ETA %.0fs",
                bar, frac * 100, ev->files_done, ev->files_total,
                ev->bytes_done / 1e6, ev->bytes_total / 1e6,
                el > 0 ? (double)p->chunks / el : 0.0, eta);
        if (ev->files_done == ev->files_total)
            fputc('\n', stderr);
    }
}

static void print_summary(const askdocs_ingest_stats *st, progress *pr)
{
    if (pr->json) {
        json_t *j = json_pack(
            "{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:I,s:f,s:f,s:O}", "files",
            st->files, "added", st->added, "updated", st->updated,
            "unchanged", st->unchanged, "removed", st->removed, "moved",
            st->moved, "failed", st->failed, "chunks",
            (json_int_t)st->chunks_written, "seconds", st->seconds,
            "embed_seconds", st->embed_seconds, "failures", pr->failures);
        if (j && pr->warnings)
            json_object_set(j, "warnings", pr->warnings);
        if (j) {
            json_dumpf(j, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            fflush(stdout);
            json_decref(j);
        }
        if (pr->failures)
            json_array_clear(pr->failures);
        if (pr->warnings)
            json_array_clear(pr->warnings);
    } else if (askdocs_log_level >= 1) {
        fprintf(stderr,
                "%d files: %d added, %d updated, %d unchanged, %d moved, "
                "%d removed, %d failed; %lld chunks in %.1f s (%.1f "
                "chunks/s)\n",
                st->files, st->added, st->updated, st->unchanged, st->moved,
                st->removed, st->failed, (long long)st->chunks_written,
                st->seconds,
                st->seconds > 0 ? (double)st->chunks_written / st->seconds
                                : 0.0);
    }
}

static void on_round(const askdocs_ingest_stats *st, void *user)
{
    progress *pr = user;
    print_summary(st, pr);
    pr->chunks = 0;
    pr->t0 = askdocs_now_ms();
}

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int cmd_index(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, OPT_DATA},
        {"config", required_argument, 0, OPT_CONFIG},
        {"format", required_argument, 0, OPT_FORMAT},
        {"collection", required_argument, 0, OPT_COLLECTION},
        {"chunk-tokens", required_argument, 0, OPT_CHUNK},
        {"watch", no_argument, 0, OPT_WATCH},
        {"verbose", no_argument, 0, 'v'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    cli c;
    askdocs_index *ix;
    idx_embedder *emb;
    askdocs_ingest_stats st;
    progress pr;
    int o, rc;
    memset(&c, 0, sizeof(c));
    prescan_config(&c, argc, argv);
    load_config(&c, "index");
    while ((o = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        if (common_opt(&c, o))
            continue;
        switch (o) {
        case 'h': fputs(help_index, stdout); exit(0);
        case OPT_FORMAT: c.format = parse_format("index", optarg, 1); break;
        case OPT_COLLECTION:
            set_flag(&c, "index", "index", "collection", optarg);
            break;
        case OPT_CHUNK:
            set_flag(&c, "index", "index", "chunk_tokens", optarg);
            break;
        case OPT_WATCH: c.watch = 1; break;
        default: die_usage("index", "bad option");
        }
    }
    if (!c.data)
        die_usage("index", "--data DIR is required");
    if (optind >= argc)
        die_usage("index", "give at least one file or folder to index");
    if (argc - optind > MAX_PATHS)
        die_usage("index", "at most %d paths", MAX_PATHS);
    for (o = optind; o < argc; o++)
        if (access(argv[o], R_OK) != 0) {
            fprintf(stderr, "askdocs index: %s: %s\n", argv[o],
                    strerror(errno));
            exit(EXIT_RUNTIME);
        }
    emb = open_embedder(&c, "index");
    ix = open_index(&c, "index", 1);
    memset(&pr, 0, sizeof(pr));
    pr.tty = isatty(2);
    pr.json = c.format == FMT_JSONL;
    pr.t0 = askdocs_now_ms();
    if (pr.json) {
        pr.failures = json_array();
        pr.warnings = json_array();
    }
    if (c.watch) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        rc = askdocs_index_watch(ix, &c.conf, emb,
                                 (const char *const *)argv + optind,
                                 argc - optind, on_progress, on_round, &pr,
                                 &stop_requested);
    } else {
        rc = askdocs_index_sync(ix, &c.conf, emb,
                                (const char *const *)argv + optind,
                                argc - optind, on_progress, &pr, &st);
        if (rc == ASKDOCS_OK)
            print_summary(&st, &pr);
    }
    if (rc != ASKDOCS_OK)
        fprintf(stderr, "askdocs index: %s\n", askdocs_index_errmsg(ix));
    json_decref(pr.failures);
    json_decref(pr.warnings);
    askdocs_index_close(ix);
    idx_embedder_free(emb);
    askdocs_config_free(&c.conf);
    return rc == ASKDOCS_OK ? 0 : EXIT_RUNTIME;
}

/* -------------------------------------------------------------- search */
static json_t *hit_json(const askdocs_chunk_info *ci, const askdocs_hit *h,
                        int explain, const char *terms)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "doc", json_string(ci->doc));
    json_object_set_new(o, "page", ci->page_start > 0
                                       ? json_integer(ci->page_start)
                                       : json_null());
    if (ci->page_end > ci->page_start)
        json_object_set_new(o, "page_end", json_integer(ci->page_end));
    json_object_set_new(o, "chunk_id", json_integer(ci->id));
    json_object_set_new(o, "score", json_real(h->score));
    json_object_set_new(o, "text", json_string(ci->text));
    json_object_set_new(o, "heading", json_string(ci->heading ? ci->heading
                                                              : ""));
    json_object_set_new(o, "char_start", json_integer(ci->char_start));
    json_object_set_new(o, "char_end", json_integer(ci->char_end));
    if (explain) {
        json_object_set_new(o, "bm25_rank", json_integer(h->bm25_rank));
        json_object_set_new(o, "bm25_score", json_real(h->bm25_score));
        json_object_set_new(o, "dense_rank", json_integer(h->dense_rank));
        json_object_set_new(o, "dense_score", json_real(h->dense_score));
        json_object_set_new(o, "fused_score", json_real(h->score));
        json_object_set_new(o, "matched_terms", json_string(terms ? terms : ""));
        if (h->rerank_rank > 0) {
            json_object_set_new(o, "rerank_rank", json_integer(h->rerank_rank));
            json_object_set_new(o, "rerank_score", json_real(h->rerank_score));
        }
    }
    return o;
}

static void print_text_hit(int rank, const askdocs_chunk_info *ci,
                           const askdocs_hit *h, int explain,
                           const char *terms)
{
    size_t n = strlen(ci->text);
    size_t cut = n > 300 ? askdocs_utf8_floor(ci->text, 300) : n;
    char *snip = askdocs_strndup(ci->text, cut);
    size_t i;
    if (snip)
        for (i = 0; snip[i]; i++)
            if (snip[i] == '\n')
                snip[i] = ' ';
    printf("%d. %s", rank, ci->doc);
    if (ci->page_end > ci->page_start)
        printf(", pp. %d-%d", ci->page_start, ci->page_end);
    else if (ci->page_start > 0)
        printf(", p. %d", ci->page_start);
    printf("  [chunk %lld, score %.4f]\n", (long long)ci->id, h->score);
    if (ci->heading && *ci->heading)
        printf("   %s\n", ci->heading);
    if (explain) {
        printf("   bm25 rank %d (%.3f), dense rank %d (%.3f), fused %.4f\n",
               h->bm25_rank, h->bm25_score, h->dense_rank, h->dense_score,
               h->score);
        printf("   matched terms: %s\n", terms && *terms ? terms : "-");
        if (h->rerank_rank > 0)
            printf("   reranked to %d (%.4f)\n", h->rerank_rank,
                   h->rerank_score);
    }
    printf("   %s%s\n\n", snip ? snip : "", cut < n ? " ..." : "");
    askdocs_free(snip);
}

/* Read one line of stdin, at most MAX_STDIN_LINE bytes (longer lines are
 * consumed and reported). Returns 0 at EOF. */
static int read_line(char **buf, size_t *cap, int *too_long)
{
    ssize_t n = getline(buf, cap, stdin);
    *too_long = 0;
    if (n < 0)
        return 0;
    if (n > MAX_STDIN_LINE)
        *too_long = 1;
    while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
        (*buf)[--n] = '\0';
    return 1;
}

static void emit_json_line(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    fflush(stdout);
}

/* Parse a JSONL request line: returns the id (new reference, may be null)
 * and the text field in *text (borrowed from *root). */
static json_t *parse_request(const char *line, const char *field,
                             json_t **root, const char **text, char *err,
                             size_t errlen)
{
    json_error_t je;
    json_t *id, *t;
    *text = NULL;
    *root = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!*root || !json_is_object(*root)) {
        askdocs_snprintf(err, errlen, "not a JSON object: %s",
                         *root ? "wrong type" : je.text);
        return json_null();
    }
    id = json_object_get(*root, "id");
    t = json_object_get(*root, field);
    if (!t || !json_is_string(t))
        askdocs_snprintf(err, errlen, "missing string field \"%s\"", field);
    else
        *text = json_string_value(t);
    return id ? json_incref(id) : json_null();
}

static int run_search(cli *c, askdocs_index *ix, askdocs_retriever *r,
                      const char *query, json_t *id, askdocs_hit *hits)
{
    int n = 0, i, shown = 0;
    json_t *out = NULL, *arr = NULL;
    askdocs_rc rc = askdocs_retriever_search(r, query, &c->filter, hits, &n);
    if (rc != ASKDOCS_OK) {
        fprintf(stderr, "askdocs search: %s\n", askdocs_retriever_errmsg(r));
        if (c->format == FMT_JSONL) {
            out = json_pack("{s:O,s:[],s:s}", "id", id, "hits", "error",
                            askdocs_retriever_errmsg(r));
            if (out)
                emit_json_line(out);
            json_decref(out);
        }
        return 1;
    }
    if (c->format == FMT_JSONL) {
        out = json_object();
        arr = json_array();
        json_object_set(out, "id", id);
        json_object_set_new(out, "hits", arr);
    } else if (n == 0) {
        printf("No passage matches.\n");
    }
    for (i = 0; i < n; i++) {
        askdocs_chunk_info ci;
        askdocs_buf terms;
        if (askdocs_index_get_chunk(ix, hits[i].chunk_id, &ci) != ASKDOCS_OK)
            continue; /* removed meanwhile by a concurrent index run */
        askdocs_buf_init(&terms, 16384);
        /* the query terms this passage holds (text and heading) */
        if (c->explain) {
            char *both = askdocs_malloc(strlen(ci.text) +
                                        strlen(ci.heading ? ci.heading : "") + 2);
            if (both) {
                sprintf(both, "%s\n%s", ci.heading ? ci.heading : "", ci.text);
                askdocs_index_matched_terms(ix, query, both, &terms);
                askdocs_free(both);
            }
        }
        if (c->format == FMT_JSONL)
            json_array_append_new(arr, hit_json(&ci, &hits[i], c->explain,
                                                terms.data));
        else
            print_text_hit(++shown, &ci, &hits[i], c->explain, terms.data);
        askdocs_buf_free(&terms);
        askdocs_chunk_info_clear(&ci);
    }
    if (out) {
        emit_json_line(out);
        json_decref(out);
    }
    return 0;
}

/* The configured reranker, or NULL when none is set; exits on a bad one. */
static askdocs_reranker *open_reranker(cli *c, const char *cmd)
{
    askdocs_reranker *rr = NULL;
    if (askdocs_reranker_from_conf(&c->conf, &rr, c->err, sizeof(c->err)) !=
        ASKDOCS_OK) {
        fprintf(stderr, "askdocs %s: reranker: %s\n", cmd, c->err);
        exit(EXIT_RUNTIME);
    }
    return rr;
}

static askdocs_retriever_params retriever_params(const cli *c, int mode)
{
    askdocs_retriever_params p = askdocs_retriever_params_from_conf(&c->conf);
    p.mode = (askdocs_search_mode)mode;
    return p;
}

/* Embedder for a search mode, checked against the index; NULL for bm25. */
static idx_embedder *search_embedder(cli *c, const char *cmd,
                                     askdocs_index *ix, int mode)
{
    idx_embedder *e;
    if (mode == ASKDOCS_MODE_BM25)
        return NULL;
    if (askdocs_index_dim(ix) == 0) {
        /* built without vectors: hybrid is BM25; dense has nothing */
        int64_t docs = 0, chunks = 0;
        askdocs_index_counts(ix, &docs, &chunks);
        if (mode == ASKDOCS_MODE_DENSE && chunks > 0) {
            fprintf(stderr, "askdocs %s: this index has no vectors (it was "
                            "built with [embed] model = none)\n", cmd);
            exit(EXIT_RUNTIME);
        }
        return NULL;
    }
    e = open_embedder(c, cmd);
    if (!e) {
        fprintf(stderr, "askdocs %s: the index has vectors: configure the "
                        "embedding model it was built with, not none\n", cmd);
        exit(EXIT_RUNTIME);
    }
    if (askdocs_index_check_embedder(ix, c->conf.embed_model,
                                     idx_embedder_dim(e)) != ASKDOCS_OK) {
        fprintf(stderr, "askdocs %s: %s\n", cmd, askdocs_index_errmsg(ix));
        exit(EXIT_RUNTIME);
    }
    return e;
}

static int cmd_search(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, OPT_DATA},
        {"config", required_argument, 0, OPT_CONFIG},
        {"format", required_argument, 0, OPT_FORMAT},
        {"k", required_argument, 0, OPT_K},
        {"mode", required_argument, 0, OPT_MODE},
        {"explain", no_argument, 0, OPT_EXPLAIN},
        FILTER_OPTIONS,
        {"verbose", no_argument, 0, 'v'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    cli c;
    askdocs_index *ix;
    idx_embedder *emb;
    askdocs_retriever *r = NULL;
    askdocs_reranker *rr = NULL;
    askdocs_retriever_params rp;
    askdocs_hit *hits;
    int o, mode, failures = 0, fmt_set = 0;
    memset(&c, 0, sizeof(c));
    prescan_config(&c, argc, argv);
    load_config(&c, "search");
    while ((o = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        if (common_opt(&c, o))
            continue;
        switch (o) {
        case 'h': fputs(help_search, stdout); exit(0);
        case OPT_FORMAT:
            c.format = parse_format("search", optarg, 0);
            fmt_set = 1;
            break;
        case OPT_K: set_flag(&c, "search", "search", "k", optarg); break;
        case OPT_MODE: set_flag(&c, "search", "search", "mode", optarg); break;
        case OPT_EXPLAIN: c.explain = 1; break;
        default:
            if (!filter_opt(&c, "search", o))
                die_usage("search", "bad option");
        }
    }
    if (!c.data)
        die_usage("search", "--data DIR is required");
    if (argc - optind > 1)
        die_usage("search", "give the query as one argument (quote it)");
    if (!fmt_set)
        c.format = optind < argc ? FMT_TEXT : FMT_JSONL;
    mode = askdocs_search_mode_parse(c.conf.mode);
    ix = open_index(&c, "search", 0);
    emb = search_embedder(&c, "search", ix, mode);
    rp = retriever_params(&c, mode);
    rp.reranker = rr = open_reranker(&c, "search");
    hits = askdocs_calloc((size_t)rp.k, sizeof(askdocs_hit));
    if (!hits || askdocs_retriever_create(ix, emb, &rp, &r) != ASKDOCS_OK) {
        fprintf(stderr, "askdocs search: out of memory\n");
        exit(EXIT_RUNTIME);
    }
    if (optind < argc) {
        failures += run_search(&c, ix, r, argv[optind], json_null(), hits);
    } else {
        char *line = NULL;
        size_t cap = 0;
        int too_long;
        while (read_line(&line, &cap, &too_long)) {
            json_t *root = NULL, *id;
            const char *q = NULL;
            char err[512] = "";
            if (line[0] == '\0')
                continue;
            if (too_long) {
                askdocs_snprintf(err, sizeof(err), "line over %d bytes",
                                 MAX_STDIN_LINE);
                id = json_null();
            } else {
                id = parse_request(line, "query", &root, &q, err, sizeof(err));
            }
            if (!q) {
                json_t *out = json_pack("{s:O,s:[],s:s}", "id", id, "hits",
                                        "error", err);
                fprintf(stderr, "askdocs search: bad input line: %s\n", err);
                if (out)
                    emit_json_line(out);
                json_decref(out);
                failures++;
            } else {
                failures += run_search(&c, ix, r, q, id, hits);
            }
            json_decref(id);
            json_decref(root);
        }
        free(line);
    }
    askdocs_free(hits);
    askdocs_retriever_free(r);
    askdocs_reranker_free(rr);
    idx_embedder_free(emb);
    askdocs_index_close(ix);
    askdocs_config_free(&c.conf);
    /* a single query that failed is a runtime error; in JSONL mode every
     * line got its answer (with "error") and the run goes on */
    return (optind < argc && failures) ? EXIT_RUNTIME : 0;
}

/* ----------------------------------------------------------------- ask */
/* Streamed pieces to stdout; a failed write (reader gone) stops the
 * answer. */
static int stream_cb(const char *piece, size_t len, void *user)
{
    (void)user;
    if (fwrite(piece, 1, len, stdout) != len || fflush(stdout) != 0)
        return 1;
    return 0;
}

/* The reader of stdout has gone (a closed pipe or socket): stop
 * generating. SIGPIPE is ignored by ask, so this is a poll. */
static int stdout_gone(void *user)
{
    struct pollfd pf;
    (void)user;
    pf.fd = STDOUT_FILENO;
    pf.events = 0;
    pf.revents = 0;
    if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLERR | POLLHUP)))
        return 1;
    return 0;
}

/* Embedding callback of the citation checks: both sides of a comparison
 * get the query prefix (a symmetric comparison). */
static int embed_cb(void *user, const char *const *texts, int n, float *out)
{
    return idx_embedder_embed(user, texts, n, 1, out) == ASKDOCS_OK ? 0 : 1;
}

typedef struct evidence {
    askdocs_evidence sel;     /* chosen by the retriever */
    askdocs_passage *pass;    /* views of sel for the generator */
    int n;
} evidence;

static void evidence_clear(evidence *e)
{
    askdocs_evidence_clear(&e->sel);
    e->n = 0;
}

static int run_ask(cli *c, askdocs_index *ix, askdocs_retriever *r,
                   askdocs_generator *g, const char *question, json_t *id,
                   askdocs_hit *hits, evidence *ev)
{
    int n = 0, i;
    double t0 = askdocs_now_ms();
    askdocs_answer *a = NULL;
    askdocs_rc rc = askdocs_retriever_search(r, question, &c->filter, hits, &n);
    if (rc != ASKDOCS_OK) {
        fprintf(stderr, "askdocs ask: %s\n", askdocs_retriever_errmsg(r));
        goto fail;
    }
    evidence_clear(ev);
    {
        askdocs_evidence_params ep = askdocs_evidence_params_from_conf(&c->conf);
        rc = askdocs_evidence_select(ix, hits, n, &ep, &ev->sel);
        if (rc != ASKDOCS_OK) {
            fprintf(stderr, "askdocs ask: choosing evidence: %s\n",
                    askdocs_index_errmsg(ix));
            goto fail;
        }
    }
    for (i = 0; i < ev->sel.n; i++) {
        const askdocs_evidence_item *it = &ev->sel.items[i];
        askdocs_passage *p = &ev->pass[ev->n];
        p->doc = it->chunk.doc;
        p->title = it->chunk.title;
        p->heading = it->chunk.heading;
        p->page = it->page_start;
        p->chunk_id = it->chunk.id;
        p->text = it->text;
        ev->n++;
    }
    {
        askdocs_ask_request rq;
        memset(&rq, 0, sizeof(rq));
        rq.question = question;
        rq.passages = ev->pass;
        rq.n = ev->n;
        rq.cb = c->format == FMT_TEXT ? stream_cb : NULL;
        rq.cancelled = stdout_gone;
        rc = askdocs_generator_ask(g, &rq, &a);
    }
    if (rc != ASKDOCS_OK) {
        fprintf(stderr, "askdocs ask: %s\n", askdocs_generator_errmsg(g));
        goto fail;
    }
    if (c->format == FMT_JSONL) {
        json_t *o = json_object(), *cits = json_array();
        for (i = 0; i < a->n_citations; i++) {
            const askdocs_citation *ct = &a->citations[i];
            json_t *cj = json_object();
            json_object_set_new(cj, "n", json_integer(ct->n));
            json_object_set_new(cj, "doc", json_string(ct->doc));
            json_object_set_new(cj, "page", ct->page > 0
                                                ? json_integer(ct->page)
                                                : json_null());
            json_object_set_new(cj, "chunk_id", json_integer(ct->chunk_id));
            json_object_set_new(cj, "text", json_string(ct->text));
            json_object_set_new(cj, "heading",
                                json_string(ct->heading ? ct->heading : ""));
            json_object_set_new(cj, "span_start", json_integer(ct->span_start));
            json_object_set_new(cj, "span_end", json_integer(ct->span_end));
            json_object_set_new(cj, "span_char_start",
                                json_integer(ct->span_char_start));
            json_object_set_new(cj, "span_char_end",
                                json_integer(ct->span_char_end));
            json_array_append_new(cits, cj);
        }
        json_object_set(o, "id", id);
        json_object_set_new(o, "answer", json_string(a->text));
        json_object_set_new(o, "citations", cits);
        {
            json_t *evj = json_array();
            for (i = 0; i < ev->sel.n; i++) {
                const askdocs_evidence_item *it = &ev->sel.items[i];
                json_array_append_new(
                    evj, json_pack("{s:I,s:s,s:I,s:I,s:i,s:i}", "chunk_id",
                                   (json_int_t)it->chunk.id, "doc",
                                   it->chunk.doc, "first_chunk",
                                   (json_int_t)it->first_id, "last_chunk",
                                   (json_int_t)it->last_id, "rank", it->rank,
                                   "tokens", it->tokens));
            }
            json_object_set_new(o, "evidence", evj);
            json_object_set_new(o, "duplicates_dropped",
                                json_integer(ev->sel.dropped_duplicates));
        }
        json_object_set_new(o, "refused", json_boolean(a->refused));
        json_object_set_new(o, "mode",
                            json_string(askdocs_answer_mode_name(a->mode)));
        {
            json_t *sj = json_array();
            for (i = 0; i < a->n_sentences; i++) {
                const askdocs_answer_sentence *as = &a->sentences[i];
                json_t *cj = json_array();
                for (int k = 0; k < as->n_cites; k++)
                    json_array_append_new(cj, json_integer(as->cites[k]));
                json_array_append_new(
                    sj, json_pack("{s:i,s:i,s:b,s:o}", "start", as->start,
                                  "end", as->end, "supported", as->supported,
                                  "cites", cj));
            }
            json_object_set_new(o, "sentences", sj);
        }
        if (a->mode == ASKDOCS_ANSWER_THOROUGH)
            json_object_set_new(o, "rationales", json_integer(a->n_rationales));
        if (a->cancelled)
            json_object_set_new(o, "cancelled", json_true());
        json_object_set_new(o, "evidence_score", json_real(a->evidence_score));
        if (a->weak_evidence)
            json_object_set_new(o, "weak_evidence", json_true());
        json_object_set_new(o, "prompt_tokens", json_integer(a->n_prompt_tokens));
        json_object_set_new(o, "generated_tokens", json_integer(a->n_gen_tokens));
        json_object_set_new(o, "unsupported_sentences",
                            json_integer(a->n_unsupported));
        /* time to first token counts retrieval too: that is what a user
         * waits for */
        json_object_set_new(o, "ttft_ms",
                            json_real(a->ttft_ms + (askdocs_now_ms() - t0 -
                                                    a->total_ms)));
        json_object_set_new(o, "total_ms", json_real(askdocs_now_ms() - t0));
        emit_json_line(o);
        json_decref(o);
    } else if (a->cancelled) {
        askdocs_log(1, "ask: the reader of the answer has gone; stopped after "
                       "%d tokens", a->n_gen_tokens);
    } else {
        if (!askdocs_generator_has_model(g) || strcmp(a->draft, a->text) != 0) {
            if (askdocs_generator_has_model(g))
                printf("\n\nVerified answer:\n");
            else
                printf("\n");
            printf("%s\n", a->text);
        } else {
            printf("\n");
        }
        if (a->n_citations > 0)
            printf("\nSources:\n");
        for (i = 0; i < a->n_citations; i++) {
            const askdocs_citation *ct = &a->citations[i];
            int sl = ct->span_end - ct->span_start;
            printf("[%d] %s", ct->n, ct->doc);
            if (ct->page > 0)
                printf(", p. %d", ct->page);
            if (ct->heading && *ct->heading)
                printf(" - %s", ct->heading);
            printf(" (chunk %lld)\n", (long long)ct->chunk_id);
            if (sl > 0 && ct->span_start >= 0)
                printf("    \"%.*s\"\n", sl, ct->text + ct->span_start);
        }
        if (a->refused && ev->n > 0) {
            printf("\nClosest passages:\n");
            for (i = 0; i < ev->n && i < 3; i++)
                printf("  %s (chunk %lld)\n", ev->pass[i].doc,
                       (long long)ev->pass[i].chunk_id);
        }
        fflush(stdout);
    }
    askdocs_answer_free(a);
    return 0;
fail:
    if (c->format == FMT_JSONL) {
        json_t *o = json_pack("{s:O,s:s,s:[],s:b,s:f,s:f,s:s}", "id", id,
                              "answer", "", "citations", "refused", 1,
                              "ttft_ms", 0.0, "total_ms",
                              askdocs_now_ms() - t0, "error",
                              askdocs_generator_errmsg(g));
        if (o)
            emit_json_line(o);
        json_decref(o);
    }
    return 1;
}

static int cmd_ask(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, OPT_DATA},
        {"config", required_argument, 0, OPT_CONFIG},
        {"format", required_argument, 0, OPT_FORMAT},
        {"model", required_argument, 0, OPT_MODEL},
        {"evidence", required_argument, 0, OPT_EVIDENCE},
        {"answer-mode", required_argument, 0, OPT_ANSWER_MODE},
        {"url", required_argument, 0, OPT_URL},
        {"mode", required_argument, 0, OPT_MODE},
        {"k", required_argument, 0, OPT_K},
        FILTER_OPTIONS,
        {"verbose", no_argument, 0, 'v'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    cli c;
    askdocs_index *ix;
    idx_embedder *emb;
    askdocs_retriever *r = NULL;
    askdocs_reranker *rr = NULL;
    askdocs_retriever_params rp;
    askdocs_generator_params gp = askdocs_generator_default_params();
    askdocs_generator *g = NULL;
    askdocs_hit *hits;
    evidence ev;
    char *model = NULL;
    int o, mode, failures = 0, fmt_set = 0;
    memset(&c, 0, sizeof(c));
    memset(&ev, 0, sizeof(ev));
    prescan_config(&c, argc, argv);
    load_config(&c, "ask");
    while ((o = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        if (common_opt(&c, o))
            continue;
        switch (o) {
        case 'h': fputs(help_ask, stdout); exit(0);
        case OPT_FORMAT:
            c.format = parse_format("ask", optarg, 0);
            fmt_set = 1;
            break;
        case OPT_MODEL: set_flag(&c, "ask", "generate", "model", optarg); break;
        case OPT_EVIDENCE:
            set_flag(&c, "ask", "generate", "evidence", optarg);
            break;
        case OPT_ANSWER_MODE:
            set_flag(&c, "ask", "generate", "mode", optarg);
            break;
        case OPT_URL: set_flag(&c, "ask", "generate", "url", optarg); break;
        case OPT_MODE: set_flag(&c, "ask", "search", "mode", optarg); break;
        case OPT_K: set_flag(&c, "ask", "search", "k", optarg); break;
        default:
            if (!filter_opt(&c, "ask", o))
                die_usage("ask", "bad option");
        }
    }
    if (!c.data)
        die_usage("ask", "--data DIR is required");
    if (argc - optind > 1)
        die_usage("ask", "give the question as one argument (quote it)");
    if (!fmt_set)
        c.format = optind < argc ? FMT_TEXT : FMT_JSONL;
    mode = askdocs_search_mode_parse(c.conf.mode);
    ix = open_index(&c, "ask", 0);
    emb = search_embedder(&c, "ask", ix, mode);
    if (strcmp(c.conf.gen_model, "none") != 0 && !*c.conf.gen_url &&
        strcmp(c.conf.answer_mode, "extractive") != 0) {
        model = askdocs_resolve_model(c.conf.gen_model,
                                      ASKDOCS_DEFAULT_GEN_MODEL);
        if (!model || access(model, R_OK) != 0) {
            fprintf(stderr,
                    "askdocs ask: chat model not found: %s\n"
                    "Install it with 'scripts/setup.sh', set [generate] "
                    "model, or use --model none for extractive answers.\n",
                    model ? model : "?");
            exit(EXIT_RUNTIME);
        }
    }
    gp.model_path = model;
    gp.n_threads = c.conf.gen_threads;
    gp.n_ctx = c.conf.gen_ctx;
    gp.max_answer_tokens = c.conf.gen_max_tokens;
    gp.temperature = (float)c.conf.temperature;
    gp.min_support = c.conf.min_support;
    gp.strict = c.conf.strict;
    gp.mode = (askdocs_answer_mode)askdocs_answer_mode_parse(c.conf.answer_mode);
    if (strcmp(c.conf.answer_mode, "extractive") != 0) {
        gp.remote_url = c.conf.gen_url;
        gp.remote_api_key = c.conf.gen_api_key;
        gp.remote_model = c.conf.gen_remote_model;
        gp.remote_ca_file = c.conf.gen_ca_file;
        gp.remote_insecure = c.conf.gen_insecure;
        gp.remote_ctx = c.conf.gen_remote_ctx;
        gp.remote_timeout_ms = c.conf.gen_timeout_ms;
        gp.remote_retries = c.conf.gen_retries ? c.conf.gen_retries : -1;
    }
    gp.compress_tokens = c.conf.compress_tokens;
    gp.thorough_passages = c.conf.thorough_passages;
    gp.min_evidence = c.conf.min_evidence;
    gp.n_parallel = c.conf.gen_parallel;
    gp.max_queue = c.conf.gen_queue;
    if (emb && c.conf.min_similarity > 0) {
        gp.embed = embed_cb;
        gp.embed_user = emb;
        gp.embed_dim = idx_embedder_dim(emb);
        gp.min_similarity = c.conf.min_similarity;
    }
    signal(SIGPIPE, SIG_IGN); /* a reader that goes away stops the answer */
    if (askdocs_generator_open(&gp, &g, c.err, sizeof(c.err)) != ASKDOCS_OK) {
        fprintf(stderr, "askdocs ask: cannot load the chat model: %s\n", c.err);
        exit(EXIT_RUNTIME);
    }
    rp = retriever_params(&c, mode);
    rp.reranker = rr = open_reranker(&c, "ask");
    if (rp.k < c.conf.evidence)
        rp.k = c.conf.evidence;
    hits = askdocs_calloc((size_t)rp.k, sizeof(askdocs_hit));
    memset(&ev, 0, sizeof(ev));
    ev.pass = askdocs_calloc((size_t)c.conf.evidence, sizeof(*ev.pass));
    if (!hits || !ev.pass ||
        askdocs_retriever_create(ix, emb, &rp, &r) != ASKDOCS_OK) {
        fprintf(stderr, "askdocs ask: out of memory\n");
        exit(EXIT_RUNTIME);
    }
    if (optind < argc) {
        failures += run_ask(&c, ix, r, g, argv[optind], json_null(), hits, &ev);
    } else {
        char *line = NULL;
        size_t cap = 0;
        int too_long;
        while (read_line(&line, &cap, &too_long)) {
            json_t *root = NULL, *id;
            const char *q = NULL;
            char err[512] = "";
            if (line[0] == '\0')
                continue;
            if (too_long) {
                askdocs_snprintf(err, sizeof(err), "line over %d bytes",
                                 MAX_STDIN_LINE);
                id = json_null();
            } else {
                id = parse_request(line, "question", &root, &q, err,
                                   sizeof(err));
            }
            if (!q) {
                json_t *out = json_pack("{s:O,s:s,s:[],s:b,s:f,s:f,s:s}", "id",
                                        id, "answer", "", "citations",
                                        "refused", 1, "ttft_ms", 0.0,
                                        "total_ms", 0.0, "error", err);
                fprintf(stderr, "askdocs ask: bad input line: %s\n", err);
                if (out)
                    emit_json_line(out);
                json_decref(out);
                failures++;
            } else {
                failures += run_ask(&c, ix, r, g, q, id, hits, &ev);
            }
            json_decref(id);
            json_decref(root);
        }
        free(line);
    }
    evidence_clear(&ev);
    askdocs_free(ev.pass);
    askdocs_free(hits);
    askdocs_free(model);
    askdocs_generator_free(g);
    askdocs_retriever_free(r);
    askdocs_reranker_free(rr);
    idx_embedder_free(emb);
    askdocs_index_close(ix);
    askdocs_config_free(&c.conf);
    /* a single question that failed is a runtime error */
    return (optind < argc && failures) ? EXIT_RUNTIME : 0;
}

/* -------------------------------------------------------------- config */
static int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, OPT_CONFIG},
        {"check", no_argument, 0, OPT_CHECK},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    cli c;
    int o, check = 0;
    memset(&c, 0, sizeof(c));
    prescan_config(&c, argc, argv);
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'h': fputs(help_config, stdout); exit(0);
        case OPT_CONFIG: c.config_file = optarg; break;
        case OPT_CHECK: check = 1; break;
        default: die_usage("config", "bad option");
        }
    }
    if (optind < argc)
        die_usage("config", "unexpected argument '%s'", argv[optind]);
    load_config(&c, "config");
    if (check)
        printf("ok\n");
    else
        askdocs_config_write(&c.conf, stdout);
    askdocs_config_free(&c.conf);
    return 0;
}

/* -------------------------------------------------------------- status */
static int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, OPT_DATA},
        {"config", required_argument, 0, OPT_CONFIG},
        {"format", required_argument, 0, OPT_FORMAT},
        {"check", no_argument, 0, OPT_CHECK},
        {"verbose", no_argument, 0, 'v'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    cli c;
    askdocs_index *ix;
    askdocs_index_status_info st;
    askdocs_rc rc;
    int o, bad;
    memset(&c, 0, sizeof(c));
    prescan_config(&c, argc, argv);
    load_config(&c, "status");
    while ((o = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        if (common_opt(&c, o))
            continue;
        switch (o) {
        case 'h': fputs(help_status, stdout); exit(0);
        case OPT_FORMAT: c.format = parse_format("status", optarg, 1); break;
        case OPT_CHECK: c.check = 1; break;
        default: die_usage("status", "bad option");
        }
    }
    if (!c.data)
        die_usage("status", "--data DIR is required");
    if (optind < argc)
        die_usage("status", "unexpected argument '%s'", argv[optind]);
    ix = open_index(&c, "status", 0);
    rc = askdocs_index_status(ix, c.check, &st);
    if (rc != ASKDOCS_OK) {
        fprintf(stderr, "askdocs status: %s\n", askdocs_index_errmsg(ix));
        askdocs_index_close(ix);
        askdocs_config_free(&c.conf);
        return EXIT_RUNTIME;
    }
    bad = c.check && !st.consistent;
    if (c.format == FMT_JSONL) {
        json_t *j = json_pack(
            "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s,s:i,s:s,s:s}", "documents",
            (json_int_t)st.documents, "chunks", (json_int_t)st.chunks,
            "pages", (json_int_t)st.pages, "bytes", (json_int_t)st.bytes,
            "embeddings", (json_int_t)st.embeddings, "vectors",
            (json_int_t)st.vectors, "generation", (json_int_t)st.generation,
            "vector_file_current", st.vector_file_current, "vector_index",
            st.vector_index, "dim", st.dim,
            "tokenizer", st.tokenizer, "embed_model", st.embed_model);
        if (j && c.check) {
            json_object_set_new(j, "consistent", json_boolean(st.consistent));
            if (!st.consistent)
                json_object_set_new(j, "problem", json_string(st.problem));
        }
        if (j) {
            json_dumpf(j, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(j);
        }
    } else {
        printf("documents   %lld\nchunks      %lld\npages       %lld\n"
               "bytes       %lld\nembeddings  %lld\n",
               (long long)st.documents, (long long)st.chunks,
               (long long)st.pages, (long long)st.bytes,
               (long long)st.embeddings);
        if (st.vectors >= 0)
            printf("vectors     %lld (%s)\n", (long long)st.vectors,
                   st.vector_index);
        printf("generation  %lld (vector file %s)\ntokenizer   %s\n"
               "embeddings  model %s, %d dimensions\n",
               (long long)st.generation,
               st.vector_file_current ? "current" : "to be rebuilt",
               st.tokenizer, st.embed_model[0] ? st.embed_model : "-",
               st.dim);
        if (c.check)
            printf("check       %s%s\n", st.consistent ? "ok" : "FAILED: ",
                   st.consistent ? "" : st.problem);
    }
    askdocs_index_close(ix);
    askdocs_config_free(&c.conf);
    return bad ? EXIT_RUNTIME : 0;
}

static int cmd_version(void)
{
    printf("askdocs %s\n", ASKDOCS_VERSION);
    printf("sqlite %s, jansson %s\n", sqlite3_libversion(), JANSSON_VERSION);
    return 0;
}

/* llama.cpp's CPU backend synchronises its threads with OpenMP barriers,
 * and libgomp's default is to spin at a barrier for a long time. When
 * another process holds one of the cores, the spinning thread starves the
 * one it waits for: 2-thread embedding on a 2-core machine was measured
 * 8-35x slower than 1 thread. A short spin (GOMP_SPINCOUNT=1000) keeps
 * almost all of the idle-machine speed and avoids the collapse
 * (docs/benchmarks.md). libgomp reads the variable when it is loaded,
 * before main, so the program re-executes itself once with it set, unless
 * the user chose a policy. */
static void set_omp_wait_policy(char **argv)
{
    char self[4096];
    const char *pre = getenv("LD_PRELOAD");
    ssize_t n;
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
        return;
    /* under valgrind the process image is valgrind's: re-executing would
     * leave the tool; the policy only matters for speed */
    if (pre && strstr(pre, "vgpreload"))
        return;
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0 || (size_t)n >= sizeof(self) - 1)
        return;
    self[n] = '\0';
    if (setenv("GOMP_SPINCOUNT", "1000", 1) != 0)
        return;
    execv(self, argv);
    /* exec failed: go on with the default policy */
    unsetenv("GOMP_SPINCOUNT");
}

int main(int argc, char **argv)
{
    const char *cmd;
    set_omp_wait_policy(argv);
    if (argc < 2) {
        fputs(help_main, stderr);
        return EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(help_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
        return cmd_version();
    /* subcommands parse argv[1..] with their own getopt */
    argv[1] = argv[0];
    argc--;
    argv++;
    if (strcmp(cmd, "index") == 0)
        return cmd_index(argc, argv);
    if (strcmp(cmd, "search") == 0)
        return cmd_search(argc, argv);
    if (strcmp(cmd, "ask") == 0)
        return cmd_ask(argc, argv);
    if (strcmp(cmd, "config") == 0)
        return cmd_config(argc, argv);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(argc, argv);
    fprintf(stderr, "askdocs: unknown command '%s'\n\n%s", cmd, help_main);
    return EXIT_USAGE;
}
