/*
 * gen_remote.c - the remote generation back end: one chat completion from an
 * OpenAI-compatible server (llama-server, vLLM, Ollama, TGI) through libcurl.
 *
 * Protocol: POST {base}/chat/completions with
 *   {"model", "messages": [{"role": "system"}, {"role": "user"}],
 *    "stream": true, "max_tokens", "temperature", "stop",
 *    "stream_options": {"include_usage": true}}
 * and read the answer as Server-Sent Events while it arrives: lines, "data:"
 * fields joined per event, events ended by a blank line, "data: [DONE]" at
 * the end. Each event is a chat.completion.chunk whose
 * choices[0].delta.content is passed on at once (never cutting a UTF-8
 * sequence in two), choices[0].finish_reason and "usage" are recorded, and
 * {"error": {...}} is a failure. A server that ignores "stream" and answers
 * one application/json object (choices[0].message.content) is read too.
 *
 * Time limits: connect (CURLOPT_CONNECTTIMEOUT_MS), silence (no byte for
 * read_timeout_ms once the request is sent, checked in the progress
 * callback), and the whole call (CURLOPT_TIMEOUT_MS, the budget left for
 * each attempt, retries and their waits included).
 *
 * Retries, only while nothing has been received that could be part of the
 * answer: connect failures and time-outs before any response byte, and
 * HTTP 429, 500, 502, 503, 504. The wait doubles from backoff_ms with
 * jitter (half to all of it), or is the server's Retry-After (seconds,
 * capped at 30 s). Any other 4xx fails at once with the server's message.
 *
 * Caps: one SSE line and one event 1 MiB, a non-streamed JSON reply 4 MiB,
 * an error body 4 KiB (300 bytes shown), the answer text
 * ASKDOCS_GEN_MAX_ANSWER_BYTES.
 *
 * The API key is only ever put into the Authorization header: it is never
 * logged nor part of a message.
 */
#include "gen_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define REMOTE_MAX_LINE (1 << 20)         /* one SSE line */
#define REMOTE_MAX_EVENT (1 << 20)        /* the data of one SSE event */
#define REMOTE_MAX_JSON_BODY (4 << 20)    /* a non-streamed JSON reply */
#define REMOTE_MAX_ERR_BODY 4096          /* body kept of an error status */
#define REMOTE_ERR_SHOWN 300              /* bytes of it put in the message */
#define REMOTE_MAX_URL 2048
#define REMOTE_MAX_KEY 4096
#define REMOTE_MAX_STOP 16                /* stop strings sent */
#define REMOTE_MAX_RETRIES 10
#define REMOTE_MAX_WAIT_MS 30000          /* Retry-After and backoff cap */

#define DEFAULT_CONNECT_MS 5000
#define DEFAULT_READ_MS 60000
#define DEFAULT_TOTAL_MS 600000
#define DEFAULT_RETRIES 3
#define DEFAULT_BACKOFF_MS 500

struct gen_remote {
    char *url;          /* owned: the endpoint, ".../chat/completions" */
    char *shown;        /* owned: url without user:password@ and ?query,
                           the form used in messages */
    char *model;        /* owned */
    char *ca_file;      /* owned; NULL = the system's CA store */
    int insecure;
    long connect_ms, read_ms, total_ms, backoff_ms;
    int retries;
    CURL *curl;                  /* owned */
    struct curl_slist *headers;  /* owned; holds the Authorization line */
    uint64_t rng;                /* xorshift state for the jitter */
    char errmsg[1024];
    char curl_err[CURL_ERROR_SIZE];
};

/* How the body of the current attempt is read. */
typedef enum body_kind {
    BODY_UNKNOWN = 0, /* nothing received yet */
    BODY_SSE,         /* text/event-stream */
    BODY_JSON,        /* one JSON object (non-streamed reply) */
    BODY_ERROR        /* a non-2xx status: kept for the message */
} body_kind;

/* State of one gen_remote_chat call; lives on its stack. */
typedef struct call_state {
    gen_remote *r;
    gen_piece_fn on_piece;
    void *user;
    double t0;              /* call start */
    /* reset for every attempt */
    body_kind kind;
    long retry_after_ms;    /* from Retry-After; -1 = none */
    size_t got_bytes;       /* header and body bytes received */
    double last_rx_ms;      /* last byte received (or the request sent) */
    int sent;               /* the request has been sent */
    int read_timeout;       /* the progress callback stopped a silence */
    int err_body_full;      /* stopped reading an error body at its cap */
    int last_cr;            /* SSE: the previous chunk ended in '\r' */
    askdocs_buf line;       /* SSE: the line being read, owned */
    askdocs_buf data;       /* SSE: "data" of the event being read, owned */
    askdocs_buf body;       /* JSON reply or error body, owned */
    askdocs_buf piece;      /* scratch: held-back tail + new content, owned */
    char tail[4];           /* incomplete UTF-8 sequence held back */
    size_t n_tail;
    size_t answer_bytes;
    int n_deltas;           /* non-empty content deltas */
    int have_usage, usage_prompt, usage_completion;
    int finished;           /* finish_reason seen */
    int finish_length;
    int done;               /* "[DONE]" seen */
    int n_events;           /* SSE events with data */
    char ctype[64];         /* Content-Type of the reply, cut */
    int cancelled;          /* on_piece asked to stop */
    int delivered;          /* something was passed to on_piece */
    double ttft_ms;
    askdocs_rc fail;        /* a failure found while reading, OK = none */
    char fail_msg[768];
} call_state;

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void set_err(gen_remote *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(gen_remote *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
    va_end(ap);
    /* a long message is cut: not inside a UTF-8 sequence */
    r->errmsg[askdocs_utf8_floor(r->errmsg, strlen(r->errmsg))] = '\0';
}

/* Record the first failure found while reading the reply. Returns -1 so
 * the callers can "return fail(...)". */
static int fail(call_state *cs, askdocs_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(call_state *cs, askdocs_rc rc, const char *fmt, ...)
{
    va_list ap;
    if (cs->fail != ASKDOCS_OK)
        return -1;
    cs->fail = rc;
    va_start(ap, fmt);
    vsnprintf(cs->fail_msg, sizeof(cs->fail_msg), fmt, ap);
    va_end(ap);
    cs->fail_msg[askdocs_utf8_floor(cs->fail_msg, strlen(cs->fail_msg))] = '\0';
    return -1;
}

const char *gen_remote_errmsg(const gen_remote *r)
{
    return r ? r->errmsg : "no remote generator";
}

/* Copy at most max bytes of s[0..n) into dst[0..dstlen) for a message:
 * cut on a UTF-8 boundary, control characters as spaces, outer blanks
 * trimmed. */
static void shown_text(char *dst, size_t dstlen, const char *s, size_t n,
                       size_t max)
{
    size_t i, k = 0;
    if (n > max)
        n = askdocs_utf8_floor(s, max);
    while (n > 0 && (unsigned char)s[0] <= ' ') {
        s++;
        n--;
    }
    while (n > 0 && (unsigned char)s[n - 1] <= ' ')
        n--;
    for (i = 0; i < n && k + 1 < dstlen; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[k++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    /* the copy may have been cut by dstlen inside a sequence */
    k = askdocs_utf8_floor(dst, k);
    if (dstlen)
        dst[k] = '\0';
}

/* ------------------------------------------------------------ the answer */
/* Pass content s[0..n) on, holding back an incomplete UTF-8 sequence at its
 * end until the next delta completes it. 0 = go on, -1 = stop (failure or
 * the caller cancelled). */
static int emit(call_state *cs, const char *s, size_t n)
{
    const char *p = s;
    size_t len = n, k;
    if (n == 0)
        return 0;
    if (cs->answer_bytes + n > ASKDOCS_GEN_MAX_ANSWER_BYTES)
        return fail(cs, ASKDOCS_ERR_TOOBIG,
                    "chat server at %s: the reply passed %d bytes",
                    cs->r->shown, ASKDOCS_GEN_MAX_ANSWER_BYTES);
    cs->answer_bytes += n;
    if (cs->n_deltas++ == 0)
        cs->ttft_ms = askdocs_now_ms() - cs->t0;
    if (cs->n_tail > 0) {
        askdocs_buf_reset(&cs->piece);
        if (askdocs_buf_append(&cs->piece, cs->tail, cs->n_tail) != ASKDOCS_OK ||
            askdocs_buf_append(&cs->piece, s, n) != ASKDOCS_OK)
            return fail(cs, ASKDOCS_ERR_NOMEM, "out of memory");
        p = cs->piece.data;
        len = cs->piece.len;
    }
    k = askdocs_utf8_floor(p, len);
    /* the floor keeps back 3 bytes at most */
    cs->n_tail = len - k;
    memcpy(cs->tail, p + k, cs->n_tail);
    if (k == 0)
        return 0;
    cs->delivered = 1;
    if (cs->on_piece && cs->on_piece(p, k, cs->user) != 0) {
        cs->cancelled = 1;
        return -1;
    }
    return 0;
}

/* The message of an {"error": ...} value into dst. */
static void error_text(json_t *err, char *dst, size_t dstlen)
{
    json_t *m = json_is_object(err) ? json_object_get(err, "message") : err;
    if (json_is_string(m)) {
        shown_text(dst, dstlen, json_string_value(m), json_string_length(m),
                   REMOTE_ERR_SHOWN);
    } else {
        char *d = json_dumps(err, JSON_COMPACT);
        shown_text(dst, dstlen, d ? d : "?", d ? strlen(d) : 1,
                   REMOTE_ERR_SHOWN);
        free(d);
    }
}

/* One chat.completion.chunk (streamed = 1) or chat.completion object. */
static int handle_object(call_state *cs, json_t *o, int streamed)
{
    json_t *err = json_object_get(o, "error");
    json_t *choices = json_object_get(o, "choices");
    json_t *usage = json_object_get(o, "usage");
    if (err && !json_is_null(err)) {
        char msg[REMOTE_ERR_SHOWN + 8];
        error_text(err, msg, sizeof(msg));
        return fail(cs, ASKDOCS_ERR_NETWORK,
                    "chat server at %s reported an error: %s", cs->r->shown,
                    msg);
    }
    if (json_is_object(usage)) {
        json_t *pt = json_object_get(usage, "prompt_tokens");
        json_t *ct = json_object_get(usage, "completion_tokens");
        if (json_is_integer(pt) && json_integer_value(pt) >= 0 &&
            json_integer_value(pt) <= INT32_MAX)
            cs->usage_prompt = (int)json_integer_value(pt);
        if (json_is_integer(ct) && json_integer_value(ct) >= 0 &&
            json_integer_value(ct) <= INT32_MAX) {
            cs->usage_completion = (int)json_integer_value(ct);
            cs->have_usage = 1;
        }
    }
    if (json_is_array(choices) && json_array_size(choices) > 0) {
        json_t *c0 = json_array_get(choices, 0);
        json_t *msg = json_object_get(c0, streamed ? "delta" : "message");
        json_t *content = json_object_get(msg, "content");
        json_t *fr = json_object_get(c0, "finish_reason");
        if (json_is_string(content) &&
            emit(cs, json_string_value(content), json_string_length(content)) != 0)
            return -1;
        if (json_is_string(fr)) {
            cs->finished = 1;
            if (strcmp(json_string_value(fr), "length") == 0)
                cs->finish_length = 1;
        }
    } else if (!streamed) {
        return fail(cs, ASKDOCS_ERR_NETWORK,
                    "chat server at %s: its JSON reply has no choices",
                    cs->r->shown);
    }
    return 0;
}

/* The data of one SSE event. */
static int handle_event(call_state *cs, const char *d, size_t n)
{
    json_error_t jerr;
    json_t *o;
    int rc;
    if (n == 0)
        return 0;
    cs->n_events++;
    if (n == 6 && memcmp(d, "[DONE]", 6) == 0) {
        cs->done = 1;
        return 0;
    }
    if (cs->done)
        return 0; /* nothing counts after [DONE] */
    o = json_loadb(d, n, 0, &jerr);
    if (!json_is_object(o)) {
        char shown[96];
        json_decref(o);
        shown_text(shown, sizeof(shown), d, n, 80);
        return fail(cs, ASKDOCS_ERR_NETWORK,
                    "chat server at %s: malformed stream: an event that is "
                    "not a JSON object (%s): %s",
                    cs->r->shown, jerr.text, shown);
    }
    rc = handle_object(cs, o, 1);
    json_decref(o);
    return rc;
}

/* One complete SSE line (without its end of line). */
static int sse_line(call_state *cs, const char *s, size_t n)
{
    const char *colon, *v;
    size_t flen, vlen;
    if (n == 0) { /* blank line: the event is complete */
        int rc = handle_event(cs, cs->data.data ? cs->data.data : "",
                              cs->data.len);
        askdocs_buf_reset(&cs->data);
        return rc;
    }
    if (s[0] == ':')
        return 0; /* comment (keep-alive) */
    colon = memchr(s, ':', n);
    flen = colon ? (size_t)(colon - s) : n;
    v = colon ? colon + 1 : s + n;
    vlen = (size_t)(s + n - v);
    if (vlen > 0 && v[0] == ' ') {
        v++;
        vlen--;
    }
    if (flen != 4 || memcmp(s, "data", 4) != 0)
        return 0; /* event, id, retry and unknown fields: not used */
    if (cs->data.len + vlen + 1 > REMOTE_MAX_EVENT)
        return fail(cs, ASKDOCS_ERR_NETWORK,
                    "chat server at %s: malformed stream: an event larger "
                    "than %d bytes",
                    cs->r->shown, REMOTE_MAX_EVENT);
    if ((cs->data.len > 0 && askdocs_buf_append(&cs->data, "\n", 1) != ASKDOCS_OK) ||
        askdocs_buf_append(&cs->data, v, vlen) != ASKDOCS_OK)
        return fail(cs, ASKDOCS_ERR_NOMEM, "out of memory");
    return 0;
}

/* Bytes of an SSE body as they arrive: split into lines at \n, \r\n or \r. */
static int sse_feed(call_state *cs, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        if (cs->last_cr) {
            cs->last_cr = 0;
            if (p[i] == '\n') {
                i++;
                continue;
            }
        }
        while (j < n && p[j] != '\n' && p[j] != '\r')
            j++;
        if (cs->line.len + (j - i) > REMOTE_MAX_LINE)
            return fail(cs, ASKDOCS_ERR_NETWORK,
                        "chat server at %s: malformed stream: a line longer "
                        "than %d bytes",
                        cs->r->shown, REMOTE_MAX_LINE);
        if (askdocs_buf_append(&cs->line, p + i, j - i) != ASKDOCS_OK)
            return fail(cs, ASKDOCS_ERR_NOMEM, "out of memory");
        if (j == n)
            break; /* the line goes on in the next chunk */
        cs->last_cr = p[j] == '\r';
        i = j + 1;
        if (sse_line(cs, cs->line.data ? cs->line.data : "", cs->line.len) != 0)
            return -1;
        askdocs_buf_reset(&cs->line);
    }
    return 0;
}

/* The end of a 2xx body: read what is left and check it was complete. */
static int finish_body(call_state *cs)
{
    if (cs->kind == BODY_SSE || cs->kind == BODY_UNKNOWN) {
        /* a last line or event without its end: take it as it is */
        if (cs->line.len > 0) {
            if (sse_line(cs, cs->line.data, cs->line.len) != 0)
                return -1;
            askdocs_buf_reset(&cs->line);
        }
        if (cs->data.len > 0 && sse_line(cs, "", 0) != 0)
            return -1;
        if (cs->kind == BODY_UNKNOWN)
            return fail(cs, ASKDOCS_ERR_NETWORK,
                        "chat server at %s: an empty reply", cs->r->shown);
        if (cs->n_events == 0)
            return fail(cs, ASKDOCS_ERR_NETWORK,
                        "chat server at %s: the reply is not an event stream "
                        "of chat chunks (Content-Type: %s)",
                        cs->r->shown, cs->ctype[0] ? cs->ctype : "none");
        if (!cs->done && !cs->finished)
            return fail(cs, ASKDOCS_ERR_NETWORK,
                        "chat server at %s: the stream ended before the "
                        "reply was complete (no finish_reason nor [DONE])",
                        cs->r->shown);
        return 0;
    }
    if (cs->kind == BODY_JSON) {
        json_error_t jerr;
        json_t *o = json_loadb(cs->body.data ? cs->body.data : "", cs->body.len,
                               0, &jerr);
        int rc;
        if (!json_is_object(o)) {
            json_decref(o);
            return fail(cs, ASKDOCS_ERR_NETWORK,
                        "chat server at %s: its reply is not a JSON object (%s)",
                        cs->r->shown, jerr.text);
        }
        rc = handle_object(cs, o, 0);
        json_decref(o);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------ curl callbacks */
static void pick_kind(call_state *cs, const char *p, size_t n)
{
    long status = 0;
    char *ct = NULL;
    size_t i = 0;
    curl_easy_getinfo(cs->r->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        cs->kind = BODY_ERROR;
        return;
    }
    curl_easy_getinfo(cs->r->curl, CURLINFO_CONTENT_TYPE, &ct);
    if (ct)
        shown_text(cs->ctype, sizeof(cs->ctype), ct, strlen(ct),
                   sizeof(cs->ctype) - 1);
    if (ct && strcasestr(ct, "event-stream")) {
        cs->kind = BODY_SSE;
        return;
    }
    if (ct && strcasestr(ct, "json")) {
        cs->kind = BODY_JSON;
        return;
    }
    /* no usable Content-Type: a JSON object starts with '{' */
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    cs->kind = i < n && p[i] == '{' ? BODY_JSON : BODY_SSE;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *user)
{
    call_state *cs = user;
    size_t n = size * nmemb, room;
    cs->got_bytes += n;
    cs->last_rx_ms = askdocs_now_ms();
    if (n == 0)
        return 0;
    if (cs->kind == BODY_UNKNOWN)
        pick_kind(cs, p, n);
    switch (cs->kind) {
    case BODY_ERROR:
        room = REMOTE_MAX_ERR_BODY - cs->body.len;
        if (askdocs_buf_append(&cs->body, p, n < room ? n : room) != ASKDOCS_OK) {
            fail(cs, ASKDOCS_ERR_NOMEM, "out of memory");
            return 0;
        }
        if (n >= room) { /* enough for the message: stop here */
            cs->err_body_full = 1;
            return 0;
        }
        return n;
    case BODY_JSON:
        if (cs->body.len + n > REMOTE_MAX_JSON_BODY) {
            fail(cs, ASKDOCS_ERR_TOOBIG,
                 "chat server at %s: its JSON reply passed %d bytes",
                 cs->r->shown, REMOTE_MAX_JSON_BODY);
            return 0;
        }
        if (askdocs_buf_append(&cs->body, p, n) != ASKDOCS_OK) {
            fail(cs, ASKDOCS_ERR_NOMEM, "out of memory");
            return 0;
        }
        return n;
    default:
        if (sse_feed(cs, p, n) != 0)
            return 0; /* makes curl stop with CURLE_WRITE_ERROR */
        /* time spent in on_piece (a slow reader) is no server silence */
        cs->last_rx_ms = askdocs_now_ms();
        return n;
    }
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *user)
{
    call_state *cs = user;
    size_t n = size * nmemb;
    cs->got_bytes += n;
    cs->last_rx_ms = askdocs_now_ms();
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        cs->retry_after_ms = -1; /* a new response (after 1xx) */
    } else if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        size_t i = 12;
        long s = 0;
        int digits = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 9) {
            s = s * 10 + (p[i] - '0');
            i++;
            digits++;
        }
        /* seconds only; an HTTP date is ignored (the backoff applies) */
        if (digits > 0 && (i == n || p[i] == '\r' || p[i] == '\n' || p[i] == ' '))
            cs->retry_after_ms = s * 1000 > REMOTE_MAX_WAIT_MS
                                     ? REMOTE_MAX_WAIT_MS
                                     : s * 1000;
    }
    return n;
}

/* The read time-out: no byte for read_ms once the request is sent. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    call_state *cs = user;
    double now = askdocs_now_ms();
    (void)dltotal;
    (void)dlnow;
    if (!cs->sent) {
        if (cs->got_bytes == 0 && (ultotal <= 0 || ulnow < ultotal))
            return 0; /* still connecting or sending: other limits apply */
        cs->sent = 1;
        if (cs->got_bytes == 0)
            cs->last_rx_ms = now;
    }
    if (now - cs->last_rx_ms > (double)cs->r->read_ms) {
        cs->read_timeout = 1;
        fail(cs, ASKDOCS_ERR_NETWORK,
             "chat server at %s: read timeout: no data for %ld ms",
             cs->r->shown, cs->r->read_ms);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------- helpers */
static uint64_t next_rand(gen_remote *r)
{
    uint64_t x = r->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->rng = x;
    return x;
}

/* Wait before retry number k (1 = first): backoff_ms * 2^(k-1), capped,
 * with "equal jitter" (half of it fixed, half random). */
static long backoff_wait(gen_remote *r, int k)
{
    long d = r->backoff_ms;
    int i;
    for (i = 1; i < k && d < REMOTE_MAX_WAIT_MS; i++)
        d *= 2;
    if (d > REMOTE_MAX_WAIT_MS)
        d = REMOTE_MAX_WAIT_MS;
    return d / 2 + (long)(next_rand(r) % (uint64_t)(d / 2 + 1));
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int retryable_curl(CURLcode cc)
{
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
           cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_GOT_NOTHING ||
           cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR;
}

static int retryable_status(long s)
{
    return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* The message of an error status from the body kept of it: the "message"
 * of a JSON error, else the first REMOTE_ERR_SHOWN bytes of the body. */
static void status_message(call_state *cs, long status)
{
    char msg[REMOTE_ERR_SHOWN + 8] = "";
    json_t *o = json_loadb(cs->body.data ? cs->body.data : "", cs->body.len, 0,
                           NULL);
    json_t *e = json_object_get(o, "error");
    if (!e)
        e = json_object_get(o, "message");
    if (!e)
        e = json_object_get(o, "detail");
    if (e)
        error_text(e, msg, sizeof(msg));
    else if (cs->body.len > 0)
        shown_text(msg, sizeof(msg), cs->body.data, cs->body.len,
                   REMOTE_ERR_SHOWN);
    json_decref(o);
    fail(cs, ASKDOCS_ERR_NETWORK, "chat server at %s answered HTTP %ld%s%s%s",
         cs->r->shown, status, msg[0] ? ": " : "", msg,
         status == 401 || status == 403 ? " (check the API key)"
         : status >= 300 && status < 400 ? " (redirects are not followed: "
                                           "give the final url)"
                                         : "");
}

/* Endpoint of a base URL: ".../v1" -> ".../v1/chat/completions"; a trailing
 * "/" is dropped and a full ".../chat/completions" kept; a query string
 * stays at the end. Caller frees with askdocs_free. */
static char *endpoint_of(const char *base)
{
    static const char suffix[] = "/chat/completions";
    size_t plen = strcspn(base, "?#"), n;
    askdocs_buf b;
    askdocs_buf_init(&b, REMOTE_MAX_URL + sizeof(suffix));
    n = plen;
    while (n > 0 && base[n - 1] == '/')
        n--;
    if (askdocs_buf_append(&b, base, n) != ASKDOCS_OK ||
        (!(n >= sizeof(suffix) - 1 &&
           memcmp(base + n - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) == 0) &&
         askdocs_buf_puts(&b, suffix) != ASKDOCS_OK) ||
        askdocs_buf_puts(&b, base + plen) != ASKDOCS_OK) {
        askdocs_buf_free(&b);
        return NULL;
    }
    return askdocs_buf_take(&b);
}

/* url without "user:password@" and without "?query#fragment". Caller frees
 * with askdocs_free. */
static char *shown_url(const char *url)
{
    const char *host = strstr(url, "://"), *at, *end;
    size_t n = strcspn(url, "?#");
    askdocs_buf b;
    askdocs_buf_init(&b, REMOTE_MAX_URL + 64);
    host = host ? host + 3 : url;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    if (at) {
        if (askdocs_buf_append(&b, url, (size_t)(host - url)) != ASKDOCS_OK ||
            askdocs_buf_append(&b, at + 1, n - (size_t)(at + 1 - url)) != ASKDOCS_OK) {
            askdocs_buf_free(&b);
            return NULL;
        }
    } else if (askdocs_buf_append(&b, url, n) != ASKDOCS_OK) {
        askdocs_buf_free(&b);
        return NULL;
    }
    return askdocs_buf_take(&b);
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* ----------------------------------------------------------------- API */
askdocs_rc gen_remote_create(const gen_remote_params *p, gen_remote **out,
                             char *err, size_t errlen)
{
    gen_remote *r = NULL;
    const char *key = NULL;
    char *auth = NULL;
    struct curl_slist *h;
    askdocs_rc rc = ASKDOCS_OK;
    size_t i;
    static const char *const fixed_headers[] = {
        "Content-Type: application/json", "Accept: text/event-stream",
        "Expect:" /* no 100-continue round trip */};

    if (out)
        *out = NULL;
    if (!p || !out) {
        askdocs_snprintf(err, errlen, "gen_remote_create: no params");
        return ASKDOCS_ERR_INVALID;
    }
    r = askdocs_calloc(1, sizeof(*r));
    if (!r) {
        askdocs_snprintf(err, errlen, "%s", askdocs_strerror(ASKDOCS_ERR_NOMEM));
        return ASKDOCS_ERR_NOMEM;
    }
    if (!p->url || !*p->url) {
        set_err(r, "no url for the chat server");
        rc = ASKDOCS_ERR_CONFIG;
        goto out;
    }
    if (strlen(p->url) > REMOTE_MAX_URL || has_ctl(p->url) ||
        strchr(p->url, ' ') ||
        (strncasecmp(p->url, "http://", 7) != 0 &&
         strncasecmp(p->url, "https://", 8) != 0) ||
        strcspn(p->url + (p->url[4] == ':' ? 7 : 8), "/?#") == 0) {
        /* the URL itself is not shown: it might hold a password */
        set_err(r, "the chat server url must be http://HOST[:PORT]/PATH or "
                   "https://..., without blanks, at most %d bytes",
                REMOTE_MAX_URL);
        rc = ASKDOCS_ERR_CONFIG;
        goto out;
    }
    r->url = endpoint_of(p->url);
    r->shown = r->url ? shown_url(r->url) : NULL;
    r->model = askdocs_strdup(p->model && *p->model ? p->model : "default");
    if (!r->url || !r->shown || !r->model) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    if (p->ca_file && *p->ca_file) {
        if (access(p->ca_file, R_OK) != 0) {
            set_err(r, "CA file '%s' for %s cannot be read: %s", p->ca_file,
                    r->shown, strerror(errno));
            rc = ASKDOCS_ERR_CONFIG;
            goto out;
        }
        r->ca_file = askdocs_strdup(p->ca_file);
        if (!r->ca_file) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
    }
    key = p->api_key && *p->api_key ? p->api_key : getenv("ASKDOCS_API_KEY");
    if (key && *key && (strlen(key) > REMOTE_MAX_KEY || has_ctl(key))) {
        set_err(r, "the API key for %s has control characters or is longer "
                   "than %d bytes",
                r->shown, REMOTE_MAX_KEY);
        rc = ASKDOCS_ERR_CONFIG;
        goto out;
    }
    r->insecure = p->insecure ? 1 : 0;
    r->connect_ms = p->connect_timeout_ms > 0 ? p->connect_timeout_ms
                                              : DEFAULT_CONNECT_MS;
    r->read_ms = p->read_timeout_ms > 0 ? p->read_timeout_ms : DEFAULT_READ_MS;
    r->total_ms = p->total_timeout_ms > 0 ? p->total_timeout_ms
                                          : DEFAULT_TOTAL_MS;
    r->retries = p->retries < 0 ? 0 : p->retries == 0 ? DEFAULT_RETRIES
                                                      : p->retries;
    if (r->retries > REMOTE_MAX_RETRIES)
        r->retries = REMOTE_MAX_RETRIES;
    r->backoff_ms = p->backoff_ms > 0 ? p->backoff_ms : DEFAULT_BACKOFF_MS;
    if (r->backoff_ms > REMOTE_MAX_WAIT_MS)
        r->backoff_ms = REMOTE_MAX_WAIT_MS;
    r->rng = ((uint64_t)(askdocs_now_ms() * 1000.0) ^ (uint64_t)(uintptr_t)r ^
              ((uint64_t)getpid() << 32)) | 1;

    for (i = 0; i < sizeof(fixed_headers) / sizeof(fixed_headers[0]); i++) {
        h = curl_slist_append(r->headers, fixed_headers[i]);
        if (!h) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
        r->headers = h;
    }
    if (key && *key) {
        size_t alen = strlen(key) + 32;
        auth = askdocs_malloc(alen);
        if (!auth) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
        snprintf(auth, alen, "Authorization: Bearer %s", key);
        h = curl_slist_append(r->headers, auth); /* copies it */
        memset(auth, 0, alen);
        if (!h) {
            rc = ASKDOCS_ERR_NOMEM;
            goto out;
        }
        r->headers = h;
    }

    pthread_once(&g_curl_once, curl_init_once);
    r->curl = curl_easy_init();
    if (!r->curl) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    curl_easy_setopt(r->curl, CURLOPT_URL, r->url);
    curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->curl, CURLOPT_USERAGENT, "askdocs");
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->curl_err);
    curl_easy_setopt(r->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(r->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(r->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(r->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYPEER, r->insecure ? 0L : 1L);
    curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYHOST, r->insecure ? 0L : 2L);
    if (r->ca_file)
        curl_easy_setopt(r->curl, CURLOPT_CAINFO, r->ca_file);
    if (r->insecure && strncasecmp(r->url, "https://", 8) == 0)
        askdocs_log(1, "askdocs: warning: TLS certificate checks are off for "
                       "%s (insecure)",
                    r->shown);
    askdocs_log(2, "askdocs: chat server %s, model %s, %s", r->shown, r->model,
                key && *key ? "with an API key" : "without an API key");
out:
    askdocs_free(auth);
    if (rc != ASKDOCS_OK) {
        askdocs_snprintf(err, errlen, "%s",
                         r->errmsg[0] ? r->errmsg : askdocs_strerror(rc));
        gen_remote_free(r);
        return rc;
    }
    *out = r;
    return ASKDOCS_OK;
}

void gen_remote_free(gen_remote *r)
{
    if (!r)
        return;
    if (r->curl)
        curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    askdocs_free(r->url);
    askdocs_free(r->shown);
    askdocs_free(r->model);
    askdocs_free(r->ca_file);
    askdocs_free(r);
}

/* The request body, compact JSON; caller frees with free() (jansson
 * allocates it). NULL when out of memory. */
static char *request_body(const gen_remote *r, const char *system,
                          const char *user, int max_tokens, float temperature,
                          const char *const *stop, int n_stop)
{
    json_t *req = json_object(), *msgs = json_array(), *m, *so, *st = NULL;
    char *body = NULL;
    int bad = !req || !msgs, i;
    if (system && *system) {
        m = json_pack("{s:s, s:s}", "role", "system", "content", system);
        bad |= !m || json_array_append_new(msgs, m) != 0;
    }
    m = json_pack("{s:s, s:s}", "role", "user", "content", user);
    bad |= !m || json_array_append_new(msgs, m) != 0;
    if (bad)
        goto out;
    bad |= json_object_set_new(req, "model", json_string(r->model)) != 0;
    bad |= json_object_set(req, "messages", msgs) != 0;
    bad |= json_object_set_new(req, "stream", json_true()) != 0;
    if (max_tokens > 0)
        bad |= json_object_set_new(req, "max_tokens", json_integer(max_tokens)) != 0;
    bad |= json_object_set_new(req, "temperature",
                               json_real(temperature > 0
                                             ? round(temperature * 1e4) / 1e4
                                             : 0.0)) != 0;
    if (n_stop > 0) {
        st = json_array();
        bad |= !st;
        for (i = 0; st && i < n_stop && i < REMOTE_MAX_STOP; i++)
            if (stop[i] && *stop[i])
                bad |= json_array_append_new(st, json_string(stop[i])) != 0;
        if (st && json_array_size(st) > 0)
            bad |= json_object_set(req, "stop", st) != 0;
    }
    so = json_pack("{s:b}", "include_usage", 1);
    bad |= !so || json_object_set_new(req, "stream_options", so) != 0;
    if (!bad)
        body = json_dumps(req, JSON_COMPACT);
out:
    json_decref(st);
    json_decref(msgs);
    json_decref(req);
    return body;
}

askdocs_rc gen_remote_chat(gen_remote *r, const char *system, const char *user,
                           int max_tokens, float temperature,
                           const char *const *stop, int n_stop,
                           gen_piece_fn on_piece, void *user_data,
                           gen_remote_stats *st)
{
    call_state cs;
    char *body = NULL;
    askdocs_rc rc = ASKDOCS_OK;
    size_t slen, ulen;
    long status = 0;
    int attempt, i;

    if (st)
        memset(st, 0, sizeof(*st));
    if (!r)
        return ASKDOCS_ERR_INVALID;
    r->errmsg[0] = '\0';
    memset(&cs, 0, sizeof(cs));
    cs.r = r;
    cs.on_piece = on_piece;
    cs.user = user_data;
    cs.t0 = askdocs_now_ms();
    askdocs_buf_init(&cs.line, REMOTE_MAX_LINE);
    askdocs_buf_init(&cs.data, REMOTE_MAX_EVENT);
    askdocs_buf_init(&cs.body, REMOTE_MAX_JSON_BODY);
    askdocs_buf_init(&cs.piece, ASKDOCS_GEN_MAX_ANSWER_BYTES + 8);

    if (!user || (n_stop > 0 && !stop) || n_stop < 0 ||
        !isfinite(temperature)) {
        set_err(r, "gen_remote_chat: no user message or bad arguments");
        rc = ASKDOCS_ERR_INVALID;
        goto out;
    }
    slen = system ? strlen(system) : 0;
    ulen = strlen(user);
    if (slen + ulen > ASKDOCS_GEN_MAX_PROMPT_BYTES) {
        set_err(r, "the prompt has %zu bytes, more than %d", slen + ulen,
                ASKDOCS_GEN_MAX_PROMPT_BYTES);
        rc = ASKDOCS_ERR_TOOBIG;
        goto out;
    }
    if (!askdocs_utf8_valid(user, ulen) ||
        (system && !askdocs_utf8_valid(system, slen))) {
        set_err(r, "the prompt is not valid UTF-8");
        rc = ASKDOCS_ERR_INVALID;
        goto out;
    }
    for (i = 0; i < n_stop; i++)
        if (stop[i] && !askdocs_utf8_valid(stop[i], strlen(stop[i]))) {
            set_err(r, "stop string %d is not valid UTF-8", i);
            rc = ASKDOCS_ERR_INVALID;
            goto out;
        }
    body = request_body(r, system, user, max_tokens, temperature, stop, n_stop);
    if (!body) {
        rc = ASKDOCS_ERR_NOMEM;
        goto out;
    }
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &cs);
    curl_easy_setopt(r->curl, CURLOPT_HEADERDATA, &cs);
    curl_easy_setopt(r->curl, CURLOPT_XFERINFODATA, &cs);

    for (attempt = 1;; attempt++) {
        double left = (double)r->total_ms - (askdocs_now_ms() - cs.t0);
        int retry = 0;
        long wait;
        CURLcode cc;

        /* a fresh attempt: nothing of a failed one is kept */
        cs.kind = BODY_UNKNOWN;
        cs.retry_after_ms = -1;
        cs.got_bytes = 0;
        cs.sent = 0;
        cs.read_timeout = 0;
        cs.err_body_full = 0;
        cs.last_cr = 0;
        cs.n_events = 0;
        cs.ctype[0] = '\0';
        askdocs_buf_reset(&cs.line);
        askdocs_buf_reset(&cs.data);
        askdocs_buf_reset(&cs.body);
        cs.fail = ASKDOCS_OK;
        cs.fail_msg[0] = '\0';
        r->curl_err[0] = '\0';
        cs.last_rx_ms = askdocs_now_ms();
        if (left < 1)
            left = 1;
        curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, (long)left);
        curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)ASKDOCS_MIN((double)r->connect_ms, left));
        if (st)
            st->attempts = attempt;
        cc = curl_easy_perform(r->curl);
        status = 0;
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        if (st)
            st->http_status = (int)status;

        if (cs.cancelled) {
            rc = ASKDOCS_OK; /* the caller has what it wanted */
            break;
        }
        if (cs.fail != ASKDOCS_OK) {
            /* a silence before any byte is a time-out like any other */
            retry = cs.read_timeout && cs.got_bytes == 0;
        } else if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && cs.err_body_full)) {
            const char *what = r->curl_err[0] ? r->curl_err : curl_easy_strerror(cc);
            fail(&cs, ASKDOCS_ERR_NETWORK, "chat server at %s: %s%s", r->shown,
                 what,
                 cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE
                     ? " (give the CA of its certificate, or check its name)"
                     : cc == CURLE_OPERATION_TIMEDOUT ? " (timeout)" : "");
            retry = retryable_curl(cc) && cs.got_bytes == 0;
        } else if (status < 200 || status > 299) {
            status_message(&cs, status);
            retry = retryable_status(status);
        } else {
            finish_body(&cs);
        }
        if (cs.fail == ASKDOCS_OK) {
            rc = ASKDOCS_OK;
            break;
        }
        rc = cs.fail;
        if (!retry || cs.delivered || attempt > r->retries)
            break;
        wait = cs.retry_after_ms >= 0 ? cs.retry_after_ms : backoff_wait(r, attempt);
        if (askdocs_now_ms() - cs.t0 + (double)wait >= (double)r->total_ms)
            break; /* no time left for another attempt */
        askdocs_log(1, "askdocs: %s; retry %d of %d in %ld ms", cs.fail_msg,
                    attempt, r->retries, wait);
        sleep_ms(wait);
    }
    if (rc != ASKDOCS_OK) {
        if (st && st->attempts > 1)
            set_err(r, "%s (after %d attempts)", cs.fail_msg, st->attempts);
        else
            set_err(r, "%s", cs.fail_msg);
    } else if (cs.n_tail > 0) {
        askdocs_log(2, "askdocs: chat server at %s: %zu bytes of an incomplete "
                       "UTF-8 sequence at the end of the reply dropped",
                    r->shown, cs.n_tail);
    }
    if (st) {
        st->n_prompt_tokens = cs.usage_prompt;
        st->n_gen_tokens = cs.have_usage ? cs.usage_completion : cs.n_deltas;
        st->finish_length = cs.finish_length;
        st->ttft_ms = cs.ttft_ms;
    }
    /* the handle must not point at this call's stack or body any more */
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(r->curl, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(r->curl, CURLOPT_XFERINFODATA, NULL);
out:
    free(body);
    askdocs_buf_free(&cs.line);
    askdocs_buf_free(&cs.data);
    askdocs_buf_free(&cs.body);
    askdocs_buf_free(&cs.piece);
    return rc;
}
