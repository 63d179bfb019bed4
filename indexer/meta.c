/*
 * meta.c - document metadata found in the text: dates.
 */
#include "idx_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const months[] = {"january", "february", "march",
                                     "april",   "may",      "june",
                                     "july",    "august",   "september",
                                     "october", "november", "december"};

/* Parse 1..maxd digits at s[*i]; -1 if none. */
static int num(const char *s, size_t n, size_t *i, int maxd)
{
    int v = 0, d = 0;
    while (*i < n && d < maxd && isdigit((unsigned char)s[*i])) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        d++;
    }
    if (d == 0 || (*i < n && isdigit((unsigned char)s[*i])))
        return -1;
    return v;
}

static size_t spaces(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static int valid(int y, int m, int d)
{
    return y >= 1900 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* Month name (full or 3-letter) at s[*i]; 1..12 or 0. */
static int month_name(const char *s, size_t n, size_t *i)
{
    int m;
    for (m = 0; m < 12; m++) {
        size_t l = strlen(months[m]);
        size_t k = *i;
        if (n - k >= l && strncasecmp(s + k, months[m], l) == 0)
            k += l;
        else if (n - k >= 3 && strncasecmp(s + k, months[m], 3) == 0) {
            k += 3;
            if (k < n && s[k] == '.')
                k++;
        } else
            continue;
        if (k < n && isalpha((unsigned char)s[k]))
            continue;
        *i = k;
        return m + 1;
    }
    return 0;
}

/* A date starting at s[i]: on success *y *m *d set, returns end, else 0. */
static size_t date_at(const char *s, size_t n, size_t i, int *y, int *m,
                      int *d)
{
    size_t k = i;
    int a;
    if (i > 0 && (isalnum((unsigned char)s[i - 1])))
        return 0;
    if (isdigit((unsigned char)s[k])) {
        a = num(s, n, &k, 4);
        if (a >= 1900 && k - i == 4) {
            /* 2024-03-01, 2024.03.01, 2024/3/1, 2024. 3. 1., 2024년 3월 1일 */
            size_t k2 = k;
            int mo, da;
            if (k2 < n && (s[k2] == '-' || s[k2] == '.' || s[k2] == '/')) {
                char sep = s[k2++];
                k2 = spaces(s, n, k2);
                mo = num(s, n, &k2, 2);
                if (mo < 0 || k2 >= n || s[k2] != sep)
                    return 0;
                k2 = spaces(s, n, k2 + 1);
                da = num(s, n, &k2, 2);
                if (da < 0 || !valid(a, mo, da))
                    return 0;
                *y = a, *m = mo, *d = da;
                return k2;
            }
            k2 = spaces(s, n, k2);
            if (n - k2 >= 3 && memcmp(s + k2, "년", 3) == 0) {
                k2 = spaces(s, n, k2 + 3);
                mo = num(s, n, &k2, 2);
                if (mo < 0 || n - k2 < 3 || memcmp(s + k2, "월", 3) != 0)
                    return 0;
                k2 = spaces(s, n, k2 + 3);
                da = num(s, n, &k2, 2);
                if (da < 0 || n - k2 < 3 || memcmp(s + k2, "일", 3) != 0 ||
                    !valid(a, mo, da))
                    return 0;
                *y = a, *m = mo, *d = da;
                return k2 + 3;
            }
            return 0;
        }
        if (a >= 1 && a <= 31 && k - i <= 2) {
            /* 1 March 2024 */
            int mo;
            size_t k2 = spaces(s, n, k);
            if (k2 == k || !(mo = month_name(s, n, &k2)))
                return 0;
            k2 = spaces(s, n, k2);
            if (k2 < n && s[k2] == ',')
                k2 = spaces(s, n, k2 + 1);
            {
                size_t ys = k2;
                int yr = num(s, n, &k2, 4);
                if (k2 - ys != 4 || !valid(yr, mo, a))
                    return 0;
                *y = yr, *m = mo, *d = a;
                return k2;
            }
        }
        return 0;
    }
    if (isalpha((unsigned char)s[k])) {
        /* March 1, 2024 */
        int mo = month_name(s, n, &k), da, yr;
        size_t ys;
        if (!mo)
            return 0;
        k = spaces(s, n, k);
        da = num(s, n, &k, 2);
        if (da < 0)
            return 0;
        if (n - k >= 2 && (strncmp(s + k, "st", 2) == 0 ||
                           strncmp(s + k, "nd", 2) == 0 ||
                           strncmp(s + k, "rd", 2) == 0 ||
                           strncmp(s + k, "th", 2) == 0))
            k += 2;
        if (k >= n || s[k] != ',')
            return 0;
        k = spaces(s, n, k + 1);
        ys = k;
        yr = num(s, n, &k, 4);
        if (k - ys != 4 || !valid(yr, mo, da))
            return 0;
        *y = yr, *m = mo, *d = da;
        return k;
    }
    return 0;
}

char *idx_find_dates(const char *s, size_t n, int max)
{
    askdocs_buf b;
    size_t i = 0;
    int found = 0;
    askdocs_buf_init(&b, 4096);
    while (i < n && found < max) {
        int y, m, d;
        size_t e = date_at(s, n, i, &y, &m, &d);
        if (e > i) {
            char iso[16];
            snprintf(iso, sizeof(iso), "%04d-%02d-%02d", y, m, d);
            if (!b.data || !strstr(b.data, iso)) {
                if ((found > 0 && askdocs_buf_puts(&b, ",") != ASKDOCS_OK) ||
                    askdocs_buf_puts(&b, iso) != ASKDOCS_OK)
                    break;
                found++;
            }
            i = e;
        } else {
            i++;
        }
    }
    return askdocs_buf_take(&b);
}
