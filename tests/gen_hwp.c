/*
 * gen_hwp.c - writes HWP 5.x and HWPX test documents from our own
 * statute-like Korean text, plus damaged and protected variants, so the
 * extractors are tested on files whose content is known exactly.
 *
 * Usage: gen_hwp OUTDIR
 *   statute.hwp       compressed, with the saved layout (line segments
 *                     flagged "first line of a page")
 *   statute-raw.hwp   uncompressed, no layout: explicit page break only
 *   statute.hwpx      the same document as OWPML
 *   encrypted.hwp     password flag set
 *   distribution.hwp  distribution-document flag set
 *   truncated.hwp     BodyText/Section0 cut inside its last record
 *   bomb.hwp          a section of 8 MiB that compresses to a few KiB
 *   garbage.hwp       not an OLE2 file at all
 *   encrypted.hwpx    manifest with encryption-data
 *
 * HWP records follow Hancom's "HWP 5.0 revision 1.3": a 32-bit header
 * (tag 10 bits, level 10 bits, size 12 bits), DocInfo with the records
 * readers look up (document properties, id mappings, fonts, border fill,
 * char shape, tab def, paragraph shapes, styles), BodyText/Section0 with
 * PARA_HEADER / PARA_TEXT / PARA_CHAR_SHAPE / PARA_LINE_SEG and a table
 * (CTRL_HEADER 'tbl ', TABLE, one LIST_HEADER per cell).
 */
#include "askdocs_common.h"

#include <gsf/gsf-outfile-msole.h>
#include <gsf/gsf-outfile.h>
#include <gsf/gsf-output-stdio.h>
#include <gsf/gsf-utils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include <zlib.h>

#define GEN_MAX ((size_t)64 << 20)

/* ------------------------------------------------------------ content */

enum { ST_BODY = 0, ST_OUT1, ST_OUT2, ST_OUT3, N_STYLES };

typedef struct gpara {
    const char *text; /* UTF-8; '\t' = tab control, '\n' = line break */
    int style;
    int page_break;   /* explicit page break before it */
    int table;        /* 1 = the table below instead of text */
} gpara;

#define N_COLS 3
static const char *const table_rows[][N_COLS] = {
    {"구분", "보존기간", "수수료(원)"},
    {"일반 기록", "3년", "1,234,000"},
    {"민감 기록", "10년", "56,700"},
};
#define N_ROWS ((int)(sizeof(table_rows) / sizeof(table_rows[0])))

/* U+20000 (a CJK extension B character used in names) tests surrogate
 * pairs. */
static const gpara doc[] = {
    {"제1편 총칙", ST_OUT1, 0, 0},
    {"제1장 일반 규정", ST_OUT2, 0, 0},
    {"제1조(목적) 이 규칙은 개인정보의 처리 및 보호에 관한 사항을 정함을 "
     "목적으로 한다.",
     ST_BODY, 0, 0},
    {"제2조(정의) 이 규칙에서 사용하는 용어의 뜻은 다음과 같다.", ST_BODY, 0,
     0},
    {"① \"개인정보\"란 살아 있는 개인에 관한 정보를 말한다.", ST_BODY, 0, 0},
    {"② \"처리\"란 개인정보의 수집, 생성, 기록 및 저장을 말하며\t다음 각 "
     "호와\n같다.",
     ST_BODY, 0, 0},
    {"1. 수집: 정보주체로부터 직접 받는 것", ST_BODY, 0, 0},
    {"가. 서면으로 받는 경우", ST_BODY, 0, 0},
    {"나. 전자적 방법(e-mail 등)으로 받는 경우", ST_BODY, 0, 0},
    {"2. 저장: 1,234,000건 이하의 기록을 보관하는 것 (담당 \xF0\xA0\x80\x80"
     "씨)",
     ST_BODY, 0, 0},
    {NULL, ST_BODY, 0, 1},
    {"제3조(적용 범위) This rule applies to every department & office; 위반 "
     "시 과태료는 1,234,000원 이하로 한다.",
     ST_BODY, 0, 0},
    {"제2장 개인정보의 처리", ST_OUT2, 1, 0},
    {"제1절 수집", ST_OUT3, 0, 0},
    {"제4조(수집의 제한) ① 개인정보처리자는 최소한의 개인정보를 수집하여야 "
     "한다.",
     ST_BODY, 0, 0},
    {"② 제1항에도 불구하고 정보주체의 동의가 있으면 그러하지 아니하다.",
     ST_BODY, 0, 0},
    {"제5조(보칙) 이 조는 개요 스타일이어도 조문으로 남는다.", ST_OUT3, 0, 0},
    {"부칙 이 규칙은 2024년 3월 1일부터 시행한다.", ST_BODY, 0, 0},
};
#define N_PARAS ((int)(sizeof(doc) / sizeof(doc[0])))

static const char *const style_name[N_STYLES] = {
    "바탕글", "개요 1", "개요 2", "개요 3"};
static const char *const style_eng[N_STYLES] = {
    "Normal", "Outline 1", "Outline 2", "Outline 3"};
static const char *const doc_title = "개인정보 보호 시행 규칙 (시험용)";

/* ------------------------------------------------------------ helpers */

static int failed;

static void die(const char *what)
{
    fprintf(stderr, "gen_hwp: %s\n", what);
    exit(1);
}

static void put(askdocs_buf *b, const void *p, size_t n)
{
    if (askdocs_buf_append(b, p, n) != ASKDOCS_OK)
        die("out of memory");
}

static void p8(askdocs_buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void p16(askdocs_buf *b, unsigned v)
{
    unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(b, c, 2);
}

static void p32(askdocs_buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put(b, c, 4);
}

static void zeros(askdocs_buf *b, size_t n)
{
    while (n--)
        p8(b, 0);
}

/* UTF-8 to UTF-16LE code units appended to b; returns units written.
 * ctrl = 1 turns '\t' into the tab control and '\n' into a line break. */
static size_t put_utf16(askdocs_buf *b, const char *s, int ctrl)
{
    size_t n = strlen(s), i = 0, units = 0;
    while (i < n) {
        uint32_t cp;
        int l = askdocs_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l <= 0)
            die("bad UTF-8 in built-in text");
        i += (size_t)l;
        if (ctrl && cp == '\t') {
            /* inline control: code, 6 units of data, code */
            p16(b, 9);
            zeros(b, 12);
            p16(b, 9);
            units += 8;
        } else if (ctrl && cp == '\n') {
            p16(b, 10);
            units++;
        } else if (cp >= 0x10000) {
            cp -= 0x10000;
            p16(b, 0xD800 + (cp >> 10));
            p16(b, 0xDC00 + (cp & 0x3FF));
            units += 2;
        } else {
            p16(b, cp);
            units++;
        }
    }
    return units;
}

/* A record: header (size 0xFFF + 32-bit size when large) then data. */
static void rec(askdocs_buf *out, unsigned tag, unsigned level,
                const askdocs_buf *data)
{
    size_t n = data->len;
    if (n >= 0xFFF) {
        p32(out, tag | (level << 10) | (0xFFFu << 20));
        p32(out, (uint32_t)n);
    } else {
        p32(out, tag | (level << 10) | ((uint32_t)n << 20));
    }
    if (n)
        put(out, data->data, n);
}

static void bstr(askdocs_buf *b, const char *s)
{
    askdocs_buf t;
    askdocs_buf_init(&t, GEN_MAX);
    p16(b, (unsigned)put_utf16(&t, s, 0));
    if (t.len)
        put(b, t.data, t.len);
    askdocs_buf_free(&t);
}

/* ------------------------------------------------------------ HWP 5 */

#define TAG(n) (0x10 + (n))
#define T_DOC_PROPS TAG(0)
#define T_ID_MAPPINGS TAG(1)
#define T_FACE_NAME TAG(3)
#define T_BORDER_FILL TAG(4)
#define T_CHAR_SHAPE TAG(5)
#define T_TAB_DEF TAG(6)
#define T_PARA_SHAPE TAG(9)
#define T_STYLE TAG(10)
#define T_PARA_HEADER TAG(50)
#define T_PARA_TEXT TAG(51)
#define T_PARA_CHAR_SHAPE TAG(52)
#define T_PARA_LINE_SEG TAG(53)
#define T_CTRL_HEADER TAG(55)
#define T_LIST_HEADER TAG(56)
#define T_PAGE_DEF TAG(57)
#define T_FOOTNOTE_SHAPE TAG(58)
#define T_PAGE_BORDER_FILL TAG(59)
#define T_TABLE TAG(61)

#define HWP_VERSION 0x05000300u /* 5.0.3.0 */
#define MKID(a, b, c, d)                                                    \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | \
     (uint32_t)(d))


static void file_header(askdocs_buf *b, uint32_t flags)
{
    static const char sig[] = "HWP Document File";
    put(b, sig, sizeof(sig) - 1);
    zeros(b, 32 - (sizeof(sig) - 1));
    p32(b, HWP_VERSION);
    p32(b, flags);
    zeros(b, 256 - 40);
}

static void doc_info(askdocs_buf *out)
{
    askdocs_buf d;
    int i;
    askdocs_buf_init(&d, GEN_MAX);

    p16(&d, 1);                 /* sections */
    for (i = 0; i < 6; i++)     /* page, footnote, endnote, picture, table, */
        p16(&d, 1);             /* equation start numbers */
    p32(&d, 0);
    p32(&d, 0);
    p32(&d, 0);
    rec(out, T_DOC_PROPS, 0, &d);

    askdocs_buf_reset(&d);
    p32(&d, 0);                 /* bin data */
    for (i = 0; i < 7; i++)     /* one font per language */
        p32(&d, 1);
    p32(&d, 1);                 /* border fills */
    p32(&d, 1);                 /* char shapes */
    p32(&d, 1);                 /* tab defs */
    p32(&d, 0);                 /* numberings */
    p32(&d, 0);                 /* bullets */
    p32(&d, N_STYLES);          /* para shapes: one per style */
    p32(&d, N_STYLES);          /* styles */
    p32(&d, 0);                 /* memo shapes */
    rec(out, T_ID_MAPPINGS, 0, &d);

    for (i = 0; i < 7; i++) {
        askdocs_buf_reset(&d);
        p8(&d, 0);
        bstr(&d, "함초롬바탕");
        rec(out, T_FACE_NAME, 1, &d);
    }

    askdocs_buf_reset(&d);
    p16(&d, 0);
    for (i = 0; i < 5; i++) { /* left right top bottom diagonal */
        p8(&d, 0);
        p8(&d, 0);
        p32(&d, 0);
    }
    p32(&d, 0); /* fill: none */
    p32(&d, 0); /* no extra fill data */
    rec(out, T_BORDER_FILL, 1, &d);

    askdocs_buf_reset(&d);
    for (i = 0; i < 7; i++)
        p16(&d, 0); /* font ids */
    for (i = 0; i < 7; i++)
        p8(&d, 100); /* width ratio */
    for (i = 0; i < 7; i++)
        p8(&d, 0); /* spacing */
    for (i = 0; i < 7; i++)
        p8(&d, 100); /* relative size */
    for (i = 0; i < 7; i++)
        p8(&d, 0); /* position */
    p32(&d, 1000);    /* 10 pt */
    p32(&d, 0);       /* properties */
    p8(&d, 10);       /* shadow gap x, y */
    p8(&d, 10);
    p32(&d, 0);       /* text color */
    p32(&d, 0);       /* underline color */
    p32(&d, 0xFFFFFF); /* shade color */
    p32(&d, 0xB2B2B2); /* shadow color */
    p16(&d, 1);       /* border fill id */
    rec(out, T_CHAR_SHAPE, 1, &d);

    askdocs_buf_reset(&d);
    p32(&d, 0);
    p32(&d, 0); /* no tab stops (INT16 in the spec; 4 bytes in files) */
    rec(out, T_TAB_DEF, 1, &d);

    for (i = 0; i < N_STYLES; i++) {
        uint32_t a = 0;
        askdocs_buf_reset(&d);
        if (i > 0) /* heading kind 1 = outline, level i-1 */
            a = (1u << 23) | ((uint32_t)(i - 1) << 25);
        p32(&d, a);
        p32(&d, 0);   /* margins, indent, spacing */
        p32(&d, 0);
        p32(&d, 0);
        p32(&d, 0);
        p32(&d, 0);
        p32(&d, 160); /* line spacing (old) */
        p16(&d, 0);   /* tab def */
        p16(&d, 0);   /* numbering */
        p16(&d, 1);   /* border fill */
        zeros(&d, 8); /* border gaps */
        p32(&d, 0);   /* properties 2 */
        p32(&d, 0);   /* properties 3 */
        p32(&d, 160); /* line spacing */
        rec(out, T_PARA_SHAPE, 1, &d);
    }

    for (i = 0; i < N_STYLES; i++) {
        askdocs_buf_reset(&d);
        bstr(&d, style_name[i]);
        bstr(&d, style_eng[i]);
        p8(&d, 0);          /* paragraph style */
        p8(&d, (unsigned)i); /* next style */
        p16(&d, 1042);      /* Korean */
        p16(&d, (unsigned)i); /* para shape */
        p16(&d, 0);         /* char shape */
        p16(&d, 0);
        rec(out, T_STYLE, 1, &d);
    }
    askdocs_buf_free(&d);
}

/* One paragraph with its text (units of UTF-16 already with controls);
 * nunits excludes the paragraph end, which is added. */
static void para_recs(askdocs_buf *out, unsigned level, int style,
                      unsigned brk, uint32_t ctrl_mask, const askdocs_buf *txt,
                      size_t nunits, int layout, int first_of_page)
{
    askdocs_buf d;
    askdocs_buf_init(&d, GEN_MAX);
    p32(&d, (uint32_t)(nunits + 1));
    p32(&d, ctrl_mask);
    p16(&d, (unsigned)style); /* para shape = style number */
    p8(&d, (unsigned)style);
    p8(&d, brk);
    p16(&d, 1);               /* char shapes */
    p16(&d, 0);               /* range tags */
    p16(&d, layout ? 1 : 0);  /* line segments */
    p32(&d, 0);               /* instance id */
    rec(out, T_PARA_HEADER, level, &d);

    askdocs_buf_reset(&d);
    if (txt->len)
        put(&d, txt->data, txt->len);
    p16(&d, 13);
    rec(out, T_PARA_TEXT, level + 1, &d);

    askdocs_buf_reset(&d);
    p32(&d, 0);
    p32(&d, 0);
    rec(out, T_PARA_CHAR_SHAPE, level + 1, &d);

    if (layout) {
        askdocs_buf_reset(&d);
        p32(&d, 0);     /* text position */
        p32(&d, 0);     /* vertical position */
        p32(&d, 1000);  /* line height */
        p32(&d, 1000);  /* text height */
        p32(&d, 850);   /* baseline */
        p32(&d, 600);   /* spacing */
        p32(&d, 0);     /* column start */
        p32(&d, 42520); /* width */
        /* first and last segment of its line; bit 0 first line of page */
        p32(&d, 0x60000u | (first_of_page ? 1u : 0u));
        rec(out, T_PARA_LINE_SEG, level + 1, &d);
    }
    askdocs_buf_free(&d);
}

static void text_para(askdocs_buf *out, unsigned level, const char *s,
                      int style, unsigned brk, int layout, int first_of_page)
{
    askdocs_buf t;
    size_t n;
    askdocs_buf_init(&t, GEN_MAX);
    n = put_utf16(&t, s, 1);
    para_recs(out, level, style, brk, strchr(s, '\t') ? 1u << 9 : 0, &t, n,
              layout, first_of_page);
    askdocs_buf_free(&t);
}

static void table_para(askdocs_buf *out, int layout)
{
    askdocs_buf t, d;
    int r, c;
    askdocs_buf_init(&t, GEN_MAX);
    askdocs_buf_init(&d, GEN_MAX);
    /* extended control: code, id (2 units), 4 units, code */
    p16(&t, 11);
    p32(&t, MKID('t', 'b', 'l', ' '));
    zeros(&t, 8);
    p16(&t, 11);
    para_recs(out, 0, ST_BODY, 0, 1u << 11, &t, 8, layout, 0);

    p32(&d, MKID('t', 'b', 'l', ' '));
    p32(&d, 0x082A2210u); /* treat as char, etc. */
    p32(&d, 0);           /* y, x */
    p32(&d, 0);
    p32(&d, 42520);       /* width, height */
    p32(&d, 3000);
    p32(&d, 0);           /* z-order */
    zeros(&d, 8);         /* outer margins */
    p32(&d, 1);           /* instance id */
    p32(&d, 0);           /* page-break prevention */
    p16(&d, 0);           /* no description */
    rec(out, T_CTRL_HEADER, 1, &d);

    askdocs_buf_reset(&d);
    p32(&d, 0x04000006u); /* split by cell, repeat header row */
    p16(&d, (unsigned)N_ROWS);
    p16(&d, N_COLS);
    p16(&d, 0);           /* cell spacing */
    zeros(&d, 8);         /* inner margins */
    for (r = 0; r < N_ROWS; r++)
        p16(&d, N_COLS);  /* cells per row */
    p16(&d, 1);           /* border fill */
    p16(&d, 0);           /* no zones */
    rec(out, T_TABLE, 2, &d);

    for (r = 0; r < N_ROWS; r++)
        for (c = 0; c < N_COLS; c++) {
            askdocs_buf_reset(&d);
            p16(&d, 1);          /* paragraphs */
            p16(&d, 0);
            p32(&d, 0x20);       /* vertical align center */
            p16(&d, (unsigned)c);
            p16(&d, (unsigned)r);
            p16(&d, 1);          /* spans */
            p16(&d, 1);
            p32(&d, 14173);      /* width, height */
            p32(&d, 1000);
            zeros(&d, 8);        /* cell margins */
            p16(&d, 1);          /* border fill */
            p32(&d, 14173);      /* width again: Hangul writes it */
            rec(out, T_LIST_HEADER, 2, &d);
            text_para(out, 2, table_rows[r][c], ST_BODY, 0, layout, 0);
        }
    askdocs_buf_free(&t);
    askdocs_buf_free(&d);
}

/* The first paragraph of a section carries the section definition
 * ('secd' with its page, footnote and page-border records) and the column
 * definition ('cold'), as extended controls before its text. */
static void first_para(askdocs_buf *out, const gpara *g, int layout)
{
    static const char *const ids[2] = {"secd", "cold"};
    askdocs_buf t, d;
    size_t n = 0;
    int i;
    askdocs_buf_init(&t, GEN_MAX);
    askdocs_buf_init(&d, GEN_MAX);
    for (i = 0; i < 2; i++) {
        p16(&t, 2);
        p32(&t, MKID(ids[i][0], ids[i][1], ids[i][2], ids[i][3]));
        zeros(&t, 8);
        p16(&t, 2);
        n += 8;
    }
    n += put_utf16(&t, g->text, 1);
    para_recs(out, 0, g->style, 0x02, 1u << 2, &t, n, layout, 1);

    p32(&d, MKID('s', 'e', 'c', 'd'));
    p32(&d, 0);      /* properties */
    p16(&d, 1134);   /* column spacing */
    p16(&d, 0);      /* grids */
    p16(&d, 0);
    p32(&d, 8000);   /* default tab stops */
    p16(&d, 1);      /* numbering shape */
    zeros(&d, 8);    /* start numbers: continue */
    p32(&d, 0);
    p32(&d, 0);
    rec(out, T_CTRL_HEADER, 1, &d);
    askdocs_buf_reset(&d);
    p32(&d, 59528);  /* A4 in HWPUNIT (1/7200 in) */
    p32(&d, 84188);
    p32(&d, 8504);   /* left, right, top, bottom margins */
    p32(&d, 8504);
    p32(&d, 5668);
    p32(&d, 4252);
    p32(&d, 4252);   /* header, footer, binding */
    p32(&d, 4252);
    p32(&d, 0);
    p32(&d, 0);      /* portrait */
    rec(out, T_PAGE_DEF, 2, &d);
    for (i = 0; i < 2; i++) { /* footnotes, endnotes */
        askdocs_buf_reset(&d);
        p32(&d, 0);
        p16(&d, 0);
        p16(&d, 0);
        p16(&d, ')');
        p16(&d, 1);
        p16(&d, 0xFFFF);
        p16(&d, 0);
        p16(&d, 850);
        p16(&d, 567);
        p16(&d, 283);
        p8(&d, 1);
        p8(&d, 1);
        p32(&d, 0);
        rec(out, T_FOOTNOTE_SHAPE, 2, &d);
    }
    for (i = 0; i < 3; i++) { /* both, even, odd pages */
        askdocs_buf_reset(&d);
        p32(&d, 1);
        p16(&d, 1417);
        p16(&d, 1417);
        p16(&d, 1417);
        p16(&d, 1417);
        p16(&d, 1);
        rec(out, T_PAGE_BORDER_FILL, 2, &d);
    }
    askdocs_buf_reset(&d);
    p32(&d, MKID('c', 'o', 'l', 'd'));
    p16(&d, (1u << 2) | (1u << 12)); /* one column, same widths */
    p16(&d, 0);
    p16(&d, 0);
    p8(&d, 0);
    p8(&d, 0);
    p32(&d, 0);
    rec(out, T_CTRL_HEADER, 1, &d);
    askdocs_buf_free(&t);
    askdocs_buf_free(&d);
}

static void section(askdocs_buf *out, int layout)
{
    int i;
    for (i = 0; i < N_PARAS; i++) {
        int first = i == 0 || doc[i].page_break;
        if (i == 0)
            first_para(out, &doc[i], layout);
        else if (doc[i].table)
            table_para(out, layout);
        else
            text_para(out, 0, doc[i].text, doc[i].style,
                      doc[i].page_break ? 0x04 : 0, layout, first);
    }
}

/* Raw deflate, as HWP stores compressed streams. */
static void deflate_raw(const askdocs_buf *in, askdocs_buf *out)
{
    z_stream zs;
    unsigned char chunk[65536];
    int r;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2 failed");
    zs.next_in = (Bytef *)(in->data ? in->data : "");
    zs.avail_in = (uInt)in->len;
    do {
        zs.next_out = chunk;
        zs.avail_out = sizeof(chunk);
        r = deflate(&zs, Z_FINISH);
        put(out, chunk, sizeof(chunk) - zs.avail_out);
    } while (r == Z_OK || r == Z_BUF_ERROR);
    deflateEnd(&zs);
    if (r != Z_STREAM_END)
        die("deflate failed");
}

/* \005HwpSummaryInformation: an OLE property set holding the title
 * (VT_LPWSTR, as Hangul writes strings). */
static void summary(askdocs_buf *b)
{
    /* Hangul's own FMTID {9FA2B660-1061-11D4-B4C6-006097C09D8C} */
    static const unsigned char fmtid[16] = {
        0x60, 0xB6, 0xA2, 0x9F, 0x61, 0x10, 0xD4, 0x11,
        0xB4, 0xC6, 0x00, 0x60, 0x97, 0xC0, 0x9D, 0x8C};
    askdocs_buf t;
    size_t units, sec_size;
    askdocs_buf_init(&t, GEN_MAX);
    units = put_utf16(&t, doc_title, 0);
    p16(&t, 0);
    units++;
    while (t.len % 4)
        p8(&t, 0);
    /* an empty dictionary (property 0) too: some readers expect one */
    sec_size = 8 + 16 + 4 + 8 + t.len;
    p16(b, 0xFFFE);
    p16(b, 0);
    p32(b, 0x00020006u);
    zeros(b, 16);
    p32(b, 1);
    put(b, fmtid, 16);
    p32(b, 48);
    p32(b, (uint32_t)sec_size);
    p32(b, 2);
    p32(b, 0);  /* dictionary */
    p32(b, 24);
    p32(b, 2);  /* PIDSI_TITLE */
    p32(b, 28);
    p32(b, 0);  /* no entries */
    p32(b, 0x1F); /* VT_LPWSTR */
    p32(b, (uint32_t)units);
    put(b, t.data, t.len);
    askdocs_buf_free(&t);
}

static void ole_stream(GsfOutfile *dir, const char *name, const askdocs_buf *b)
{
    GsfOutput *o = gsf_outfile_new_child(dir, name, FALSE);
    if (!o)
        die("gsf_outfile_new_child failed");
    if (b->len && !gsf_output_write(o, b->len, (const guint8 *)b->data))
        die("gsf_output_write failed");
    gsf_output_close(o);
    g_object_unref(o);
}

typedef struct hwp_opts {
    uint32_t flags;   /* FileHeader properties */
    int layout;       /* write PARA_LINE_SEG */
    int cut;          /* bytes to cut from the end of Section0 */
    int bomb;         /* Section0 = one huge paragraph */
} hwp_opts;

static void write_hwp(const char *dir, const char *name, const hwp_opts *o)
{
    askdocs_buf fh, di, sec, z, sm;
    GError *err = NULL;
    GsfOutput *sink;
    GsfOutfile *ole, *body;
    char *path = askdocs_path_join(dir, name);
    int compressed = (o->flags & 1) != 0;

    if (!path)
        die("out of memory");
    askdocs_buf_init(&fh, GEN_MAX);
    askdocs_buf_init(&di, GEN_MAX);
    askdocs_buf_init(&sec, GEN_MAX);
    askdocs_buf_init(&z, GEN_MAX);
    askdocs_buf_init(&sm, GEN_MAX);
    file_header(&fh, o->flags);
    doc_info(&di);
    if (o->bomb) {
        askdocs_buf t;
        size_t i, n = ((size_t)8 << 20) / 2;
        askdocs_buf_init(&t, GEN_MAX);
        for (i = 0; i < n; i++)
            p16(&t, 'A');
        para_recs(&sec, 0, ST_BODY, 0, 0, &t, n, 0, 0);
        askdocs_buf_free(&t);
    } else {
        section(&sec, o->layout);
    }
    if (o->cut > 0 && (size_t)o->cut < sec.len)
        sec.len -= (size_t)o->cut;
    summary(&sm);

    sink = gsf_output_stdio_new(path, &err);
    if (!sink)
        die(err && err->message ? err->message : "cannot create file");
    ole = gsf_outfile_msole_new(sink);
    ole_stream(ole, "FileHeader", &fh);
    if (compressed) {
        deflate_raw(&di, &z);
        ole_stream(ole, "DocInfo", &z);
    } else {
        ole_stream(ole, "DocInfo", &di);
    }
    body = GSF_OUTFILE(gsf_outfile_new_child(ole, "BodyText", TRUE));
    askdocs_buf_reset(&z);
    if (compressed) {
        deflate_raw(&sec, &z);
        ole_stream(body, "Section0", &z);
    } else {
        ole_stream(body, "Section0", &sec);
    }
    gsf_output_close(GSF_OUTPUT(body));
    g_object_unref(body);
    ole_stream(ole, "\005HwpSummaryInformation", &sm);
    if (!gsf_output_close(GSF_OUTPUT(ole)))
        die("cannot write OLE2 file");
    g_object_unref(ole);
    g_object_unref(sink);
    askdocs_buf_free(&fh);
    askdocs_buf_free(&di);
    askdocs_buf_free(&sec);
    askdocs_buf_free(&z);
    askdocs_buf_free(&sm);
    askdocs_free(path);
}

/* ------------------------------------------------------------ HWPX */

#define NS_ALL                                                        \
    " xmlns:ha=\"http://www.hancom.co.kr/hwpml/2011/app\""              \
    " xmlns:hp=\"http://www.hancom.co.kr/hwpml/2011/paragraph\""        \
    " xmlns:hs=\"http://www.hancom.co.kr/hwpml/2011/section\""          \
    " xmlns:hc=\"http://www.hancom.co.kr/hwpml/2011/core\""             \
    " xmlns:hh=\"http://www.hancom.co.kr/hwpml/2011/head\""             \
    " xmlns:hpf=\"http://www.hancom.co.kr/schema/2011/hpf\""            \
    " xmlns:opf=\"http://www.idpf.org/2007/opf/\""

static void xml_text(askdocs_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': put(b, "&amp;", 5); break;
        case '<': put(b, "&lt;", 4); break;
        case '>': put(b, "&gt;", 4); break;
        case '"': put(b, "&quot;", 6); break;
        case '\t': askdocs_buf_puts(b, "<hp:tab width=\"4000\" leader=\"0\" type=\"1\"/>"); break;
        case '\n': askdocs_buf_puts(b, "<hp:lineBreak/>"); break;
        default: put(b, s, 1);
        }
    }
}

static void hx_p(askdocs_buf *b, const char *s, int style, int brk,
                 int first_of_page)
{
    askdocs_buf_printf(b,
                       "<hp:p id=\"0\" paraPrIDRef=\"%d\" styleIDRef=\"%d\" "
                       "pageBreak=\"%d\" columnBreak=\"0\" merged=\"0\">"
                       "<hp:run charPrIDRef=\"0\"><hp:t>",
                       style, style, brk);
    xml_text(b, s);
    askdocs_buf_printf(b,
                       "</hp:t></hp:run><hp:linesegarray><hp:lineseg "
                       "textpos=\"0\" vertpos=\"0\" vertsize=\"1000\" "
                       "textheight=\"1000\" baseline=\"850\" spacing=\"600\" "
                       "horzpos=\"0\" horzsize=\"42520\" flags=\"%u\"/>"
                       "</hp:linesegarray></hp:p>",
                       0x60000u | (first_of_page ? 1u : 0u));
}

static void hx_section(askdocs_buf *b)
{
    int i, r, c;
    askdocs_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
                        "standalone=\"yes\" ?><hs:sec" NS_ALL ">");
    for (i = 0; i < N_PARAS; i++) {
        if (!doc[i].table) {
            hx_p(b, doc[i].text, doc[i].style, doc[i].page_break,
                 i == 0 || doc[i].page_break);
            continue;
        }
        askdocs_buf_puts(b, "<hp:p id=\"0\" paraPrIDRef=\"0\" styleIDRef=\"0\" "
                            "pageBreak=\"0\" columnBreak=\"0\" merged=\"0\">"
                            "<hp:run charPrIDRef=\"0\">");
        askdocs_buf_printf(b, "<hp:tbl id=\"1\" rowCnt=\"%d\" colCnt=\"%d\" "
                              "cellSpacing=\"0\" borderFillIDRef=\"1\" "
                              "noAdjust=\"0\"><hp:sz width=\"42520\" "
                              "height=\"3000\"/>",
                           N_ROWS, N_COLS);
        for (r = 0; r < N_ROWS; r++) {
            askdocs_buf_puts(b, "<hp:tr>");
            for (c = 0; c < N_COLS; c++) {
                askdocs_buf_printf(b, "<hp:tc header=\"%d\" "
                                      "borderFillIDRef=\"1\"><hp:subList "
                                      "textDirection=\"HORIZONTAL\" "
                                      "vertAlign=\"CENTER\">",
                                   r == 0);
                hx_p(b, table_rows[r][c], 0, 0, 0);
                askdocs_buf_printf(b, "</hp:subList><hp:cellAddr "
                                      "colAddr=\"%d\" rowAddr=\"%d\"/>"
                                      "<hp:cellSpan colSpan=\"1\" "
                                      "rowSpan=\"1\"/></hp:tc>",
                                   c, r);
            }
            askdocs_buf_puts(b, "</hp:tr>");
        }
        askdocs_buf_puts(b, "</hp:tbl><hp:t/></hp:run></hp:p>");
    }
    askdocs_buf_puts(b, "</hs:sec>");
}

static void hx_header(askdocs_buf *b)
{
    int i;
    askdocs_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
                        "standalone=\"yes\" ?><hh:head" NS_ALL
                        " version=\"1.4\" secCnt=\"1\"><hh:refList>"
                        "<hh:paraProperties itemCnt=\"4\">");
    for (i = 0; i < N_STYLES; i++)
        askdocs_buf_printf(b, "<hh:paraPr id=\"%d\" tabPrIDRef=\"0\">"
                              "<hh:align horizontal=\"JUSTIFY\"/>"
                              "<hh:heading type=\"%s\" idRef=\"0\" "
                              "level=\"%d\"/></hh:paraPr>",
                           i, i ? "OUTLINE" : "NONE", i ? i - 1 : 0);
    askdocs_buf_puts(b, "</hh:paraProperties><hh:styles itemCnt=\"4\">");
    for (i = 0; i < N_STYLES; i++)
        askdocs_buf_printf(b, "<hh:style id=\"%d\" type=\"PARA\" "
                              "name=\"%s\" engName=\"%s\" paraPrIDRef=\"%d\" "
                              "charPrIDRef=\"0\" nextStyleIDRef=\"%d\" "
                              "langID=\"1042\" lockForm=\"0\"/>",
                           i, style_name[i], style_eng[i], i, i);
    askdocs_buf_puts(b, "</hh:styles></hh:refList></hh:head>");
}

static void hx_package(askdocs_buf *b)
{
    askdocs_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
                        "standalone=\"yes\" ?><opf:package" NS_ALL
                        " version=\"\" unique-identifier=\"\" id=\"\">"
                        "<opf:metadata><opf:title>");
    xml_text(b, doc_title);
    askdocs_buf_puts(
        b, "</opf:title><opf:language>ko</opf:language></opf:metadata>"
           "<opf:manifest><opf:item id=\"header\" "
           "href=\"Contents/header.xml\" media-type=\"application/xml\"/>"
           "<opf:item id=\"section0\" href=\"Contents/section0.xml\" "
           "media-type=\"application/xml\"/></opf:manifest><opf:spine>"
           "<opf:itemref idref=\"header\" linear=\"yes\"/>"
           "<opf:itemref idref=\"section0\" linear=\"yes\"/></opf:spine>"
           "</opf:package>");
}

typedef struct zpart {
    const char *name;
    askdocs_buf data;
} zpart;

static void write_zip(const char *dir, const char *name, zpart *parts, int n)
{
    char *path = askdocs_path_join(dir, name);
    int err = 0, i;
    zip_t *z;
    if (!path)
        die("out of memory");
    z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z)
        die("cannot create zip");
    for (i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(
            z, parts[i].data.data ? parts[i].data.data : "",
            parts[i].data.len, 0);
        zip_int64_t idx;
        if (!s)
            die("zip_source_buffer failed");
        idx = zip_file_add(z, parts[i].name, s, ZIP_FL_OVERWRITE);
        if (idx < 0)
            die("zip_file_add failed");
        if (i == 0) /* mimetype first and stored, as in ODF */
            zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
    if (zip_close(z) != 0)
        die("cannot write zip");
    askdocs_free(path);
}

static void write_hwpx(const char *dir, const char *name, int encrypted)
{
    zpart p[7];
    int i, n = 0;
    memset(p, 0, sizeof(p));
    for (i = 0; i < 7; i++)
        askdocs_buf_init(&p[i].data, GEN_MAX);
    p[n].name = "mimetype";
    askdocs_buf_puts(&p[n++].data, "application/hwp+zip");
    p[n].name = "version.xml";
    askdocs_buf_puts(&p[n++].data,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\" "
                     "standalone=\"yes\" ?><hv:HCFVersion "
                     "xmlns:hv=\"http://www.hancom.co.kr/hwpml/2011/version\" "
                     "tagetApplication=\"WORDPROCESSOR\" major=\"5\" "
                     "minor=\"1\" micro=\"0\" buildNumber=\"1\" os=\"1\" "
                     "xmlVersion=\"1.4\" application=\"gen_hwp\" "
                     "appVersion=\"1.0\"/>");
    p[n].name = "META-INF/container.xml";
    askdocs_buf_puts(&p[n++].data,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\" "
                     "standalone=\"yes\" ?><ocf:container "
                     "xmlns:ocf=\"urn:oasis:names:tc:opendocument:xmlns:"
                     "container\"><ocf:rootfiles><ocf:rootfile "
                     "full-path=\"Contents/content.hpf\" "
                     "media-type=\"application/hwpml-package+xml\"/>"
                     "</ocf:rootfiles></ocf:container>");
    p[n].name = "META-INF/manifest.xml";
    askdocs_buf_puts(
        &p[n].data,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\" ?>"
        "<odf:manifest "
        "xmlns:odf=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\">");
    if (encrypted)
        askdocs_buf_puts(
            &p[n].data,
            "<odf:file-entry odf:full-path=\"Contents/section0.xml\" "
            "odf:media-type=\"application/xml\" odf:size=\"4096\">"
            "<odf:encryption-data odf:checksum-type=\"SHA1\" "
            "odf:checksum=\"AAAA\"><odf:algorithm "
            "odf:algorithm-name=\"AES\" odf:initialisation-vector=\"AAAA\"/>"
            "<odf:key-derivation odf:key-derivation-name=\"PBKDF2\" "
            "odf:iteration-count=\"1024\" odf:salt=\"AAAA\"/>"
            "</odf:encryption-data></odf:file-entry>");
    askdocs_buf_puts(&p[n++].data, "</odf:manifest>");
    p[n].name = "Contents/content.hpf";
    hx_package(&p[n++].data);
    p[n].name = "Contents/header.xml";
    hx_header(&p[n++].data);
    p[n].name = "Contents/section0.xml";
    if (encrypted) {
        uint32_t x = 12345;
        for (i = 0; i < 4096; i++) {
            x = x * 1103515245u + 12345u;
            p8(&p[n].data, x >> 24);
        }
    } else {
        hx_section(&p[n].data);
    }
    n++;
    write_zip(dir, name, p, n);
    for (i = 0; i < 7; i++)
        askdocs_buf_free(&p[i].data);
}

static void write_garbage(const char *dir, const char *name)
{
    char *path = askdocs_path_join(dir, name);
    FILE *f;
    uint32_t x = 777;
    int i;
    if (!path || !(f = fopen(path, "wb")))
        die("cannot create garbage file");
    for (i = 0; i < 4096; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 24), f);
    }
    if (fclose(f) != 0)
        die("cannot write garbage file");
    askdocs_free(path);
}

int main(int argc, char **argv);
int main(int argc, char **argv)
{
    hwp_opts o;
    char err[256];
    if (argc != 2) {
        fprintf(stderr, "usage: gen_hwp OUTDIR\n");
        return 2;
    }
    if (askdocs_mkdirs(argv[1], err, sizeof(err)) != ASKDOCS_OK) {
        fprintf(stderr, "gen_hwp: %s\n", err);
        return 1;
    }
    gsf_init();
    memset(&o, 0, sizeof(o));
    o.flags = 1;
    o.layout = 1;
    write_hwp(argv[1], "statute.hwp", &o);
    o.flags = 0;
    o.layout = 0;
    write_hwp(argv[1], "statute-raw.hwp", &o);
    o.flags = 1 | 2;
    write_hwp(argv[1], "encrypted.hwp", &o);
    o.flags = 1 | 4;
    write_hwp(argv[1], "distribution.hwp", &o);
    o.flags = 0;
    o.cut = 5;
    write_hwp(argv[1], "truncated.hwp", &o);
    o.flags = 1;
    o.cut = 0;
    o.bomb = 1;
    write_hwp(argv[1], "bomb.hwp", &o);
    write_garbage(argv[1], "garbage.hwp");
    write_hwpx(argv[1], "statute.hwpx", 0);
    write_hwpx(argv[1], "encrypted.hwpx", 1);
    gsf_shutdown();
    return failed;
}
