/*
 * make_tiny_gguf.c - writes tiny GGUF chat models with random weights, one
 * per model family the generator must handle, for tests/test_arch.c.
 *
 *   make_tiny_gguf ARCH OUT.gguf    write the model of ARCH to OUT.gguf
 *   make_tiny_gguf --list           print the ARCH names, one a line
 *
 * Every model has 2 layers, n_embd 64, 4 heads of 16 (gemma3: 32, set by
 * attention.key_length), n_ff 128 and context_length 2048; weights are F32,
 * uniform in +-0.05 from a fixed-seed LCG (the same bytes on every run),
 * as are projection biases; norms are 1.0, LayerNorm biases 0. The tokenizer is a byte-level "gpt2" BPE: the 256
 * bytes in GPT-2's byte-to-unicode mapping, the merges that build the words
 * of two short sample texts (English, Korean), then the family's special
 * tokens (token type 3, control; qwen3's <think> tags are user-defined,
 * type 4): about 1200 tokens. The output rows of the control tokens are
 * zero, so their logit is 0 while the others draw random logits: greedy
 * decoding never ends a turn at once and always generates some text.
 * tokenizer.chat_template holds a short Jinja template in the family's
 * format, written so that llama.cpp's built-in detection (by substrings)
 * recognises it; gptneox and llama-plain have none, llama-alpaca has one
 * llama.cpp does not know (so the generator must fall back to plain text).
 *
 * Exit status: 0 written, 1 failure (message on stderr), 2 usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"
#include "gguf.h"

#define N_EMBD 64
#define N_LAYER 2
#define N_HEAD 4
#define N_FF 128
#define N_CTX_TRAIN 2048
#define TOK_MAX 2048     /* vocabulary capacity */
#define TOK_BYTES 48     /* longest token text, gpt2-encoded, with its NUL */

/* Tensor layout and hyper-parameter features of a family. */
enum {
    F_TIED = 1 << 0,        /* no output.weight: the head is token_embd */
    F_QKV_BIAS = 1 << 1,    /* attn_q/k/v.bias (qwen2) */
    F_QK_NORM = 1 << 2,     /* attn_q_norm / attn_k_norm (qwen3, gemma3) */
    F_POST_NORMS = 1 << 3,  /* post_attention_norm, post_ffw_norm (gemma2/3) */
    F_FUSED_QKV = 1 << 4,   /* attn_qkv.weight (phi3, gptneox) */
    F_FUSED_UP = 1 << 5,    /* ffn_up holds gate and up: {n_embd, 2 n_ff} (phi3) */
    F_NEOX = 1 << 6,        /* LayerNorm with biases, biases everywhere, no
                               gate, parallel residual (gptneox) */
    F_SOFTCAP = 1 << 7,     /* attn/final logit softcapping (gemma2) */
    F_SWA = 1 << 8,         /* attention.sliding_window (gemma2/3) */
};

typedef struct arch_spec {
    const char *name;         /* command-line name */
    const char *arch;         /* general.architecture */
    const char *pre;          /* tokenizer.ggml.pre */
    const char *tmpl;         /* tokenizer.chat_template; NULL = none */
    const char *special[10];  /* control tokens, NULL-terminated */
    const char *bos, *eos;    /* texts of two of them */
    int add_bos;
    int n_head_kv;
    int head_dim;             /* 0 = n_embd / n_head (key_length not written) */
    int n_rot;                /* rope.dimension_count; 0 = head_dim */
    float rope_base;
    float eps;                /* RMS (or, with F_NEOX, LayerNorm) epsilon */
    int flags;
} arch_spec;

/* ---------------------------------------------------------- templates */

/* Llama 3.x (llama.cpp: "llama3" by <|start_header_id|>, <|end_header_id|>) */
static const char T_LLAMA3[] =
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
    "message['content'] | trim + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}";

/* KoAlpaca style: "### 질문: ... ### 답변:" (llama.cpp knows no such template) */
static const char T_ALPACA[] =
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}"
    "{{- '### \xEC\xA7\x88\xEB\xAC\xB8: ' + message['content'] + '\\n\\n' }}"
    "{%- elif message['role'] == 'assistant' %}"
    "{{- '### \xEB\x8B\xB5\xEB\xB3\x80: ' + message['content'] + eos_token + '\\n\\n' }}"
    "{%- else %}{{- message['content'] + '\\n\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '### \xEB\x8B\xB5\xEB\xB3\x80:' }}{%- endif %}";

/* Qwen2 / Qwen2.5 ChatML (llama.cpp: "chatml" by <|im_start|>) */
static const char T_QWEN2[] =
    "{%- if messages[0]['role'] != 'system' %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. "
    "You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/* Qwen3: ChatML with the thinking switch */
static const char T_QWEN3[] =
    "{%- for message in messages %}"
    "{%- set content = message['content'] %}"
    "{%- if message['role'] == 'assistant' and '</think>' in content %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}"
    "{%- endif %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + content + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}";

/* Gemma 2: no system role (llama.cpp: "gemma" by <start_of_turn>) */
static const char T_GEMMA2[] =
    "{{ bos_token }}"
    "{% if messages[0]['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}";

/* Gemma 3: the system text goes in front of the first user turn */
static const char T_GEMMA3[] =
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') + "
    "message['content'] | trim + '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}";

/* EXAONE 3.x (llama.cpp: "exaone3" by [|system|], [|assistant|], [|endofturn|]) */
static const char T_EXAONE3[] =
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '[|system|][|endofturn|]\\n' }}{% endif %}"
    "{{ '[|' + message['role'] + '|]' + message['content'] }}"
    "{% if message['role'] == 'user' %}{{ '\\n' }}{% else %}{{ '[|endofturn|]\\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '[|assistant|]' }}{% endif %}";

/* Phi-3 (llama.cpp: "phi3" by <|assistant|> and <|end|>) */
static const char T_PHI3[] =
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '<|end|>\\n' }}"
    "{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '<|end|>\\n' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ '<|assistant|>\\n' + message['content'] + '<|end|>\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}";

/* ---------------------------------------------------------- families */

static const arch_spec ARCHS[] = {
    /* Llama 3.2 1B/3B: GQA, tied head, llama3 pre-tokenizer */
    { "llama", "llama", "llama-bpe", T_LLAMA3,
      { "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
        "<|eot_id|>", NULL },
      "<|begin_of_text|>", "<|eot_id|>", 1, 2, 0, 0, 500000.0f, 1e-5f, F_TIED },
    /* a llama fine-tune without a chat template (plain prompt) */
    { "llama-plain", "llama", "default", NULL, { "<s>", "</s>", NULL },
      "<s>", "</s>", 1, 2, 0, 0, 10000.0f, 1e-5f, 0 },
    /* KoAlpaca-style llama fine-tune with a simple template llama.cpp does
     * not recognise (plain prompt too) */
    { "llama-alpaca", "llama", "default", T_ALPACA, { "<s>", "</s>", NULL },
      "<s>", "</s>", 1, 2, 0, 0, 10000.0f, 1e-5f, 0 },
    /* Qwen2 / Qwen2.5: q/k/v biases, tied head (0.5B) */
    { "qwen2", "qwen2", "qwen2", T_QWEN2, { "<|endoftext|>", "<|im_start|>", "<|im_end|>", NULL },
      "<|endoftext|>", "<|im_end|>", 0, 2, 0, 0, 1000000.0f, 1e-6f, F_TIED | F_QKV_BIAS },
    /* Qwen3: q/k norms, tied head (0.6B) */
    { "qwen3", "qwen3", "qwen2", T_QWEN3, { "<|endoftext|>", "<|im_start|>", "<|im_end|>", NULL },
      "<|endoftext|>", "<|im_end|>", 0, 2, 0, 0, 1000000.0f, 1e-6f, F_TIED | F_QK_NORM },
    /* Gemma 2: sliding window, logit softcapping, post norms, tied head */
    { "gemma2", "gemma2", "default", T_GEMMA2,
      { "<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", NULL },
      "<bos>", "<eos>", 1, 2, 0, 0, 10000.0f, 1e-6f,
      F_TIED | F_POST_NORMS | F_SOFTCAP | F_SWA },
    /* Gemma 3 (text only): q/k norms, post norms, sliding window, head_dim
     * set apart from n_embd / n_head, tied head */
    { "gemma3", "gemma3", "default", T_GEMMA3,
      { "<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", NULL },
      "<bos>", "<eos>", 1, 2, 32, 0, 1000000.0f, 1e-6f,
      F_TIED | F_QK_NORM | F_POST_NORMS | F_SWA },
    /* EXAONE 3.x */
    { "exaone", "exaone", "exaone", T_EXAONE3,
      { "[PAD]", "[BOS]", "[UNK]", "[|system|]", "[|user|]", "[|assistant|]", "[|endofturn|]",
        NULL },
      "[BOS]", "[|endofturn|]", 0, 2, 0, 0, 1000000.0f, 1e-5f, 0 },
    /* Phi-3: fused qkv, fused gate+up. llama.cpp sets attributes of <unk>,
     * <s>, </s> and <|endoftext|> by name when general.name contains "phi3"
     * and fails to load the vocabulary when one of them is missing. */
    { "phi3", "phi3", "default", T_PHI3,
      { "<unk>", "<s>", "</s>", "<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>",
        "<|end|>", NULL },
      "<s>", "<|end|>", 1, 2, 0, 0, 10000.0f, 1e-5f, F_FUSED_QKV | F_FUSED_UP },
    /* GPT-NeoX (Polyglot-ko, KULLM): LayerNorm, biases, fused qkv,
     * parallel residual, rotary on half of each head; no chat template */
    { "gptneox", "gptneox", "gpt-2", NULL, { "<|endoftext|>", "<|sep|>", NULL },
      "<|endoftext|>", "<|endoftext|>", 0, 4, 0, 8, 10000.0f, 1e-5f, F_FUSED_QKV | F_NEOX },
};
#define N_ARCHS (int)(sizeof ARCHS / sizeof ARCHS[0])

/* The merges are those that build each word of these texts byte by byte,
 * in order (so that prompts take a few hundred tokens, not one per byte;
 * Korean words pass through partial UTF-8 sequences on the way). */
static const char *const CORPUS[] = {
    "You answer questions using only the numbered evidence passages given below. "
    "Rules: use only facts stated in the evidence and do not use any other knowledge. "
    "After each sentence, cite the passage it comes from with its number in brackets, "
    "for example [1]. If the evidence does not contain the answer, reply exactly: "
    "The documents do not contain this information. Answer in English, in one to three "
    "short sentences. Question: What is the notice period for termination under this "
    "Agreement? Evidence: Either party may terminate this Agreement by written notice. "
    "Notice must be sent to the address in Schedule A within ninety days. Employees may "
    "park in lot B on weekdays; visitors must register at the front desk.",
    "아래에 번호가 붙은 근거 문단만 사용하여 질문에 답하십시오. 규칙: 근거에 적힌 사실만 "
    "사용하십시오. 다른 지식은 사용하지 마십시오. 각 문장 끝에 그 내용이 나온 문단 번호를 "
    "대괄호로 표시하십시오. 근거에 답이 없으면 정확히 이렇게만 답하십시오: 문서에서 해당 "
    "정보를 찾을 수 없습니다. 한국어로 한두 문장으로 짧게 답하십시오. 본 계약의 해지 통지 "
    "기간은 일입니다. 통지는 서면으로 하여야 합니다. 해지 통지 기간은 얼마입니까? 직원은 "
    "평일에 주차장에 주차할 수 있습니다. 방문객은 안내 데스크에서 등록해야 합니다.",
};

/* --------------------------------------------------------- vocabulary */

/* Tokens and merges; all storage is inside the struct (ptr and mptr point
 * into text and merge, for gguf_set_arr_str). */
typedef struct vocab {
    char text[TOK_MAX][TOK_BYTES];       /* gpt2-encoded token texts */
    const char *ptr[TOK_MAX];            /* ptr[i] = text[i] */
    int32_t type[TOK_MAX];               /* 1 normal, 3 control, 4 user-defined */
    int n;
    char merge[TOK_MAX][2 * TOK_BYTES];  /* "left right", gpt2-encoded */
    const char *mptr[TOK_MAX];           /* mptr[i] = merge[i] */
    int n_merges;
} vocab;

static int printable_byte(int b)
{
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

/* GPT-2's byte-to-unicode code point of byte b. */
static unsigned byte_cp(int b)
{
    unsigned n = 0;
    if (printable_byte(b))
        return (unsigned)b;
    for (int x = 0; x < b; x++)
        if (!printable_byte(x))
            n++;
    return 256 + n;
}

/* The gpt2 text of byte b (UTF-8 of its code point, 1 or 2 bytes) into
 * out; returns its length. */
static size_t encode_byte(int b, char *out)
{
    unsigned cp = byte_cp(b);
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

/* raw bytes -> gpt2-encoded UTF-8 into out[cap]; -1 when it does not fit. */
static int gpt2_encode(const char *raw, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
        if (o + 3 > cap)
            return -1;
        o += encode_byte(*p, out + o);
    }
    out[o] = '\0';
    return 0;
}

static int vocab_find(const vocab *v, const char *text)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->text[i], text) == 0)
            return i;
    return -1;
}

/* Add a token (text already gpt2-encoded, or special). -1 on overflow or
 * duplicate. */
static int vocab_add(vocab *v, const char *text, int32_t type)
{
    if (v->n >= TOK_MAX || strlen(text) >= TOK_BYTES || vocab_find(v, text) >= 0)
        return -1;
    strcpy(v->text[v->n], text);
    v->ptr[v->n] = v->text[v->n];
    v->type[v->n] = type;
    return v->n++;
}

/* Add merge a + b (raw bytes) and its result token, unless that token is
 * already there. -1 when a part is not a token or on overflow. */
static int vocab_merge(vocab *v, const char *a, const char *b)
{
    char ea[TOK_BYTES], eb[TOK_BYTES], joined[2 * TOK_BYTES];
    if (gpt2_encode(a, ea, sizeof ea) || gpt2_encode(b, eb, sizeof eb) ||
        vocab_find(v, ea) < 0 || vocab_find(v, eb) < 0)
        return -1;
    snprintf(joined, sizeof joined, "%s%s", ea, eb);
    if (vocab_find(v, joined) >= 0)
        return 0;
    if (v->n_merges >= TOK_MAX || vocab_add(v, joined, 1) < 0)
        return -1;
    snprintf(v->merge[v->n_merges], sizeof v->merge[0], "%s %s", ea, eb);
    v->mptr[v->n_merges] = v->merge[v->n_merges];
    v->n_merges++;
    return 0;
}

/* A byte of a word: ASCII letter or digit, or any byte of a multi-byte
 * UTF-8 character. */
static int word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* The merges that build each word of text (with the space before it, as
 * GPT-2 pre-tokenises) byte by byte. Words over 20 bytes are cut. */
static int add_corpus_merges(vocab *v, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        char word[24];
        size_t n = 0;
        if (!word_byte(*p) && !(*p == ' ' && word_byte(p[1]))) {
            p++;
            continue;
        }
        word[n++] = (char)*p++;
        while (word_byte(*p)) {
            if (n < 20) {
                char prefix[24], next[2] = { (char)*p, '\0' };
                memcpy(prefix, word, n);
                prefix[n] = '\0';
                if (vocab_merge(v, prefix, next))
                    return -1;
                word[n++] = (char)*p;
            }
            p++;
        }
    }
    return 0;
}

static int build_vocab(const arch_spec *a, vocab *v)
{
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) { /* token id = byte value */
        char enc[3];
        enc[encode_byte(b, enc)] = '\0';
        if (vocab_add(v, enc, 1) < 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof CORPUS / sizeof CORPUS[0]; i++)
        if (add_corpus_merges(v, CORPUS[i]))
            return -1;
    for (int i = 0; a->special[i]; i++)
        if (vocab_add(v, a->special[i], 3) < 0)
            return -1;
    /* <think> tags are added tokens in Qwen3, but not control ones */
    if (strcmp(a->arch, "qwen3") == 0 &&
        (vocab_add(v, "<think>", 4) < 0 || vocab_add(v, "</think>", 4) < 0))
        return -1;
    return 0;
}

/* ------------------------------------------------------------ tensors */

enum { W_RAND, W_ONES, W_ZEROS };

typedef struct writer {
    struct ggml_context *ctx;  /* owns every tensor and its data */
    struct gguf_context *gg;   /* metadata; its tensor infos point into ctx */
    const vocab *v;            /* borrowed */
    uint32_t seed;             /* LCG state */
} writer;

/* Uniform in [-0.05, 0.05) from a 32-bit LCG (Numerical Recipes). */
static float lcg_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f * 0.1f - 0.05f;
}

/* New F32 tensor {ne0} (ne1 == 0) or {ne0, ne1}, filled, added to the GGUF.
 * The ggml context was sized for every tensor (ggml aborts otherwise). */
static struct ggml_tensor *add_tensor(writer *w, const char *name, int64_t ne0, int64_t ne1,
                                      int fill)
{
    struct ggml_tensor *t = ne1 > 0 ? ggml_new_tensor_2d(w->ctx, GGML_TYPE_F32, ne0, ne1)
                                    : ggml_new_tensor_1d(w->ctx, GGML_TYPE_F32, ne0);
    float *d = (float *)t->data;
    int64_t n = ggml_nelements(t);
    ggml_set_name(t, name);
    for (int64_t i = 0; i < n; i++)
        d[i] = fill == W_ONES ? 1.0f : fill == W_ZEROS ? 0.0f : lcg_next(&w->seed);
    gguf_add_tensor(w->gg, t);
    return t;
}

/* blk.IL.WHAT.KIND */
static struct ggml_tensor *add_blk(writer *w, int il, const char *what, const char *kind,
                                   int64_t ne0, int64_t ne1, int fill)
{
    char name[GGML_MAX_NAME];
    snprintf(name, sizeof name, "blk.%d.%s.%s", il, what, kind);
    return add_tensor(w, name, ne0, ne1, fill);
}

/* Zero the rows of the control tokens in a {n_embd, n_vocab} head, so that
 * their logit is 0 (see the top of the file). */
static void zero_control_rows(const writer *w, struct ggml_tensor *head)
{
    for (int i = 0; i < w->v->n; i++)
        if (w->v->type[i] == 3)
            memset((float *)head->data + (size_t)i * N_EMBD, 0, N_EMBD * sizeof(float));
}

static void add_tensors(writer *w, const arch_spec *a)
{
    const int hd = a->head_dim ? a->head_dim : N_EMBD / N_HEAD;
    const int nq = hd * N_HEAD, nkv = hd * a->n_head_kv, nv = w->v->n;
    const int neox = (a->flags & F_NEOX) != 0;
    struct ggml_tensor *embd, *head;

    embd = add_tensor(w, "token_embd.weight", N_EMBD, nv, W_RAND);
    add_tensor(w, "output_norm.weight", N_EMBD, 0, W_ONES);
    if (neox)
        add_tensor(w, "output_norm.bias", N_EMBD, 0, W_ZEROS);
    head = (a->flags & F_TIED) ? embd : add_tensor(w, "output.weight", N_EMBD, nv, W_RAND);
    zero_control_rows(w, head);

    for (int il = 0; il < N_LAYER; il++) {
        add_blk(w, il, "attn_norm", "weight", N_EMBD, 0, W_ONES);
        if (neox)
            add_blk(w, il, "attn_norm", "bias", N_EMBD, 0, W_ZEROS);
        if (a->flags & F_FUSED_QKV) {
            add_blk(w, il, "attn_qkv", "weight", N_EMBD, nq + 2 * nkv, W_RAND);
            if (neox)
                add_blk(w, il, "attn_qkv", "bias", nq + 2 * nkv, 0, W_RAND);
        } else {
            add_blk(w, il, "attn_q", "weight", N_EMBD, nq, W_RAND);
            add_blk(w, il, "attn_k", "weight", N_EMBD, nkv, W_RAND);
            add_blk(w, il, "attn_v", "weight", N_EMBD, nkv, W_RAND);
            if (a->flags & F_QKV_BIAS) {
                add_blk(w, il, "attn_q", "bias", nq, 0, W_RAND);
                add_blk(w, il, "attn_k", "bias", nkv, 0, W_RAND);
                add_blk(w, il, "attn_v", "bias", nkv, 0, W_RAND);
            }
        }
        if (a->flags & F_QK_NORM) {
            add_blk(w, il, "attn_q_norm", "weight", hd, 0, W_ONES);
            add_blk(w, il, "attn_k_norm", "weight", hd, 0, W_ONES);
        }
        add_blk(w, il, "attn_output", "weight", nq, N_EMBD, W_RAND);
        if (neox)
            add_blk(w, il, "attn_output", "bias", N_EMBD, 0, W_RAND);
        if (a->flags & F_POST_NORMS)
            add_blk(w, il, "post_attention_norm", "weight", N_EMBD, 0, W_ONES);

        add_blk(w, il, "ffn_norm", "weight", N_EMBD, 0, W_ONES);
        if (neox) {
            add_blk(w, il, "ffn_norm", "bias", N_EMBD, 0, W_ZEROS);
            add_blk(w, il, "ffn_up", "weight", N_EMBD, N_FF, W_RAND);
            add_blk(w, il, "ffn_up", "bias", N_FF, 0, W_RAND);
            add_blk(w, il, "ffn_down", "weight", N_FF, N_EMBD, W_RAND);
            add_blk(w, il, "ffn_down", "bias", N_EMBD, 0, W_RAND);
        } else if (a->flags & F_FUSED_UP) {
            add_blk(w, il, "ffn_up", "weight", N_EMBD, 2 * N_FF, W_RAND);
            add_blk(w, il, "ffn_down", "weight", N_FF, N_EMBD, W_RAND);
        } else {
            add_blk(w, il, "ffn_gate", "weight", N_EMBD, N_FF, W_RAND);
            add_blk(w, il, "ffn_up", "weight", N_EMBD, N_FF, W_RAND);
            add_blk(w, il, "ffn_down", "weight", N_FF, N_EMBD, W_RAND);
        }
        if (a->flags & F_POST_NORMS)
            add_blk(w, il, "post_ffw_norm", "weight", N_EMBD, 0, W_ONES);
    }
}

/* ----------------------------------------------------------- metadata */

static void kv_u32(struct gguf_context *gg, const char *arch, const char *key, uint32_t val)
{
    char k[128];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    gguf_set_val_u32(gg, k, val);
}

static void kv_f32(struct gguf_context *gg, const char *arch, const char *key, float val)
{
    char k[128];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    gguf_set_val_f32(gg, k, val);
}

static void set_metadata(struct gguf_context *gg, const arch_spec *a, const vocab *v)
{
    const char *ar = a->arch;
    const int hd = a->head_dim ? a->head_dim : N_EMBD / N_HEAD;
    char name[64];

    snprintf(name, sizeof name, "tiny-%s (random weights)", a->name);
    gguf_set_val_str(gg, "general.architecture", ar);
    gguf_set_val_str(gg, "general.name", name);
    gguf_set_val_u32(gg, "general.file_type", 0); /* all F32 */

    kv_u32(gg, ar, "context_length", N_CTX_TRAIN);
    kv_u32(gg, ar, "embedding_length", N_EMBD);
    kv_u32(gg, ar, "block_count", N_LAYER);
    kv_u32(gg, ar, "feed_forward_length", N_FF);
    kv_u32(gg, ar, "attention.head_count", N_HEAD);
    kv_u32(gg, ar, "attention.head_count_kv", (uint32_t)a->n_head_kv);
    kv_u32(gg, ar, "vocab_size", (uint32_t)v->n);
    if (a->head_dim) {
        kv_u32(gg, ar, "attention.key_length", (uint32_t)a->head_dim);
        kv_u32(gg, ar, "attention.value_length", (uint32_t)a->head_dim);
    }
    kv_u32(gg, ar, "rope.dimension_count", (uint32_t)(a->n_rot ? a->n_rot : hd));
    kv_f32(gg, ar, "rope.freq_base", a->rope_base);
    if (a->flags & F_NEOX) {
        kv_f32(gg, ar, "attention.layer_norm_epsilon", a->eps);
        gguf_set_val_bool(gg, "gptneox.use_parallel_residual", true);
    } else {
        kv_f32(gg, ar, "attention.layer_norm_rms_epsilon", a->eps);
    }
    if (a->flags & F_SWA)
        kv_u32(gg, ar, "attention.sliding_window", 64);
    if (a->flags & F_SOFTCAP) {
        kv_f32(gg, ar, "attn_logit_softcapping", 50.0f);
        kv_f32(gg, ar, "final_logit_softcapping", 30.0f);
    }
    if (strcmp(ar, "gemma3") == 0)
        kv_f32(gg, ar, "rope.freq_base_swa", 10000.0f);

    gguf_set_val_str(gg, "tokenizer.ggml.model", "gpt2");
    gguf_set_val_str(gg, "tokenizer.ggml.pre", a->pre);
    gguf_set_arr_str(gg, "tokenizer.ggml.tokens", (const char **)v->ptr, (size_t)v->n);
    gguf_set_arr_data(gg, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v->type, (size_t)v->n);
    gguf_set_arr_str(gg, "tokenizer.ggml.merges", (const char **)v->mptr, (size_t)v->n_merges);
    gguf_set_val_u32(gg, "tokenizer.ggml.bos_token_id", (uint32_t)vocab_find(v, a->bos));
    gguf_set_val_u32(gg, "tokenizer.ggml.eos_token_id", (uint32_t)vocab_find(v, a->eos));
    gguf_set_val_bool(gg, "tokenizer.ggml.add_bos_token", a->add_bos != 0);
    gguf_set_val_bool(gg, "tokenizer.ggml.add_eos_token", false);
    if (a->tmpl)
        gguf_set_val_str(gg, "tokenizer.chat_template", a->tmpl);
}

/* ---------------------------------------------------------------- main */

static int write_model(const arch_spec *a, const char *path)
{
    vocab *v = calloc(1, sizeof *v);
    writer w;
    struct ggml_init_params ip;
    int rc = 1;

    memset(&w, 0, sizeof w);
    if (!v) {
        fprintf(stderr, "make_tiny_gguf: out of memory\n");
        goto cleanup;
    }
    if (build_vocab(a, v) || vocab_find(v, a->bos) < 0 || vocab_find(v, a->eos) < 0) {
        fprintf(stderr, "make_tiny_gguf: %s: bad vocabulary table\n", a->name);
        goto cleanup;
    }
    /* every tensor of the largest family with room to spare (< 2 MB) */
    ip.mem_size = ((size_t)8 << 20) + 64 * ggml_tensor_overhead();
    ip.mem_buffer = NULL;
    ip.no_alloc = false;
    w.ctx = ggml_init(ip);
    w.gg = gguf_init_empty();
    w.v = v;
    w.seed = 20240611u;
    if (!w.ctx || !w.gg) {
        fprintf(stderr, "make_tiny_gguf: out of memory\n");
        goto cleanup;
    }
    set_metadata(w.gg, a, v);
    add_tensors(&w, a);
    if (!gguf_write_to_file(w.gg, path, false)) {
        fprintf(stderr, "make_tiny_gguf: cannot write %s\n", path);
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (w.gg)
        gguf_free(w.gg);
    if (w.ctx)
        ggml_free(w.ctx);
    free(v);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < N_ARCHS; i++)
            printf("%s\n", ARCHS[i].name);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: make_tiny_gguf ARCH OUT.gguf | make_tiny_gguf --list\n");
        return 2;
    }
    for (int i = 0; i < N_ARCHS; i++)
        if (strcmp(argv[1], ARCHS[i].name) == 0)
            return write_model(&ARCHS[i], argv[2]);
    fprintf(stderr, "make_tiny_gguf: unknown ARCH '%s' (see --list)\n", argv[1]);
    return 2;
}
