/*
 * The level walk of the standard cost roll-up, compiled: the numbers of
 * backflush.domain.rollup (and of the recursive reference roll-up), item by item.
 *
 * A value is a non-negative decimal number c x 10**e, c an unsigned 128-bit integer.
 * Every value kept (a running sum, an item's cost) has at most `prec` <= 28 significant
 * digits, as the decimal context leaves it; a gross quantity has at most 9, so a term
 * (cost x gross quantity) has at most 37 and is exact, as numbers.mul makes it.
 *
 * add(S, t) is Decimal addition in a context of `prec` digits, half even: the exact sum,
 * rounded once. When the two numbers are too far apart in magnitude for their exact sum to
 * fit in 38 digits, the smaller one's digits far below the rounding position are replaced
 * by a single non-zero "sticky" digit (libmpdec does the same): see add() for why the
 * rounding is then the same.
 *
 * Loaded with ctypes (backflush.domain.rollup); nothing here touches Python objects. The
 * module init exists only so that the file is a well-formed extension module.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

/* Exponents stay far from int64's ends: their differences and sums cannot overflow. */
#define EXP_LIMIT 1000000000000000LL

static u128 P10[40];  /* 10**0 .. 10**38 */

/* Filled when the library is loaded, before any call (calls may run in several threads at
 * once: ctypes lets go of the GIL). */
__attribute__((constructor)) static void init_powers(void) {
    P10[0] = 1;
    for (int k = 1; k < 39; k++)
        P10[k] = P10[k - 1] * 10;
}

/* Raised whenever a function's arguments change: rollup.py loads only the version it
 * was written for (an out-of-date build is not called, the arrays do the work). */
int64_t backflush_abi_version(void) { return 2; }

/* Decimal digits of c (at most 39; 0 for 0). */
static int ndigits(u128 c) {
    uint64_t hi = (uint64_t)(c >> 64), lo = (uint64_t)c;
    int bits = hi ? 128 - __builtin_clzll(hi) : lo ? 64 - __builtin_clzll(lo) : 0;
    int t = (bits * 1233) >> 12; /* floor(bits x log10(2)), <= 38 */
    return t + 1 - (c < P10[t]);
}

/* Round c x 10***e to `prec` significant digits, half even. */
static u128 round_to(u128 c, int64_t *e, int prec, int *inexact) {
    int d = ndigits(c);
    if (d <= prec)
        return c;
    int k = d - prec;
    u128 q = c / P10[k];
    u128 r = c - q * P10[k];
    u128 half = 5 * P10[k - 1];
    if (r > half || (r == half && (q & 1)))
        q += 1;
    if (r)
        *inexact = 1;
    if (q == P10[prec]) { /* 99..9 rounded up: one digit more, a zero dropped */
        q = P10[prec - 1];
        k += 1;
    }
    *e += k;
    return q;
}

/*
 * x + y (each below 10**37), rounded to `prec` digits.
 *
 * Let x have the larger exponent (ex >= ey) and dx digits. If x aligned on y's exponent
 * has at most 38 digits, the exact sum is below 2 x 10**38 and fits. Otherwise the sum is
 * taken on the grid E = ex - (38 - dx): x is then a 38-digit multiple of 10 there, and y,
 * whose exponent is below E, keeps its digits from E + 1 up and stands for the rest with
 * one digit 1 at E if any of it is non-zero. The sum has at least 38 digits on that grid,
 * so at least 10 are dropped by the rounding: the rounding position, the half-way point
 * and every power of ten are multiples of 10 on the grid. The true sum and the one
 * computed lie in the same open interval between two multiples of 10 (or are equal), so
 * they have as many digits and round alike, inexact included.
 */
static u128 add(u128 cx, int64_t ex, u128 cy, int64_t ey, int64_t *e, int prec,
                int *inexact) {
    if (!cx || !cy) { /* the callers skip zeros; a zero adds nothing all the same */
        *e = cx ? ex : ey;
        return round_to(cx ? cx : cy, e, prec, inexact);
    }
    if (ex < ey) {
        u128 tc = cx; cx = cy; cy = tc;
        int64_t te = ex; ex = ey; ey = te;
    }
    int dx = ndigits(cx);
    int64_t shift = ex - ey;
    u128 c;
    if (shift <= 38 - dx) {
        c = cx * P10[shift] + cy;
        *e = ey;
    } else {
        int s = 38 - dx; /* >= 1: dx <= 37 */
        int64_t grid = ex - s;
        int64_t drop = grid + 1 - ey; /* >= 2 */
        u128 kept, sticky;
        if (drop > 38) {
            kept = 0;
            sticky = 1; /* cy > 0 */
        } else {
            kept = cy / P10[drop];
            sticky = (cy - kept * P10[drop]) != 0;
        }
        c = cx * P10[s] + kept * 10 + sticky;
        *e = grid;
    }
    return round_to(c, e, prec, inexact);
}

static u128 from_limbs(const int64_t *limbs, int64_t width, int64_t stride, int64_t at) {
    u128 c = 0;
    for (int64_t j = width - 1; j >= 0; j--)
        c = c * 1000000000u + (uint64_t)limbs[j * stride + at];
    return c;
}

/* c < 10**36 as hi x 10**18 + lo. */
static void split18(u128 c, uint64_t *hi, uint64_t *lo) {
    u128 q = c / P10[18];
    *lo = (uint64_t)(c - q * P10[18]);
    *hi = (uint64_t)q;
}

/* c < 10**36 into `width` (<= 4) limbs in base 10**9. */
static void to_limbs(u128 c, int64_t *limbs, int64_t width, int64_t stride, int64_t at) {
    uint64_t hi, lo;
    split18(c, &hi, &lo);
    int64_t four[4] = {(int64_t)(lo % 1000000000u), (int64_t)(lo / 1000000000u),
                       (int64_t)(hi % 1000000000u), (int64_t)(hi / 1000000000u)};
    for (int64_t j = 0; j < width; j++)
        limbs[j * stride + at] = four[j];
}

/*
 * One number's text as str(Decimal) writes it: digits with an optional point, an optional
 * exponent ("1.25", "0.000125", "1.25E-7", "1.2E+3"). At most `prec` significant digits (a
 * Decimal that came out of the context has no more). 0 if read, -3 if not such a text.
 */
static int parse(const char *s, int64_t len, int prec, u128 *coef, int64_t *exp) {
    u128 c = 0;
    int64_t e = 0, i = 0;
    int digits = 0, point = 0, any = 0;
    for (; i < len; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9') {
            any = 1;
            if (c || ch != '0') {
                if (++digits > prec)
                    return -3;
                c = c * 10 + (unsigned)(ch - '0');
            }
            if (point)
                e -= 1;
        } else if (ch == '.' && !point) {
            point = 1;
        } else {
            break;
        }
    }
    if (!any)
        return -3;
    if (i < len) {
        if (s[i] != 'E' && s[i] != 'e')
            return -3;
        i++;
        int negative = 0;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            negative = s[i++] == '-';
        if (i == len)
            return -3;
        int64_t x = 0;
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || x > 100000000) /* far below EXP_LIMIT */
                return -3;
            x = x * 10 + (s[i] - '0');
        }
        e += negative ? -x : x;
    }
    *coef = c;
    *exp = c ? e : 0;
    return 0;
}

static int parse_all(const char *text, const int64_t *ends, const int64_t *at, int64_t count,
                     int prec, u128 *coef, int64_t *exp) {
    int64_t from = 0;
    for (int64_t k = 0; k < count; k++) {
        if (parse(text + from, ends[k] - from, prec, &coef[at[k]], &exp[at[k]]))
            return -3;
        from = ends[k];
    }
    return 0;
}

/*
 * The roll-up's level walk. Items 0..n-1, elements 0..3 (material, labor, overhead,
 * conversion); an element's value of item i is at e * n + i.
 *
 *   feed:  what one unit of each item brings to a parent's lower level. Given for the
 *          purchased items (their material cost, as texts: `bought`); for the others it is
 *          worked out level by level: a phantom its lower level, anything else own + lower.
 *   own:   each item's own (this-level) cost, as texts (`own`; phantoms' own conversion is
 *          already in their parents').
 *   lower: each item's lower level: the sum of feed x gross quantity over its lines in
 *          effect, in BOM order (zero terms skipped).
 *
 * Level lv has the BOM slots slot_bounds[lv]..slot_bounds[lv+1] (slot s: parent
 * bom_items[s], lines line_bounds[s]..line_bounds[s+1]) and the costed items
 * order[act_bounds[lv]..act_bounds[lv+1]]. Out: the lower level of the items `made`, element
 * by element (e * n_made + k), as coefficient hi x 10**18 + lo and exponent, without
 * trailing zeros (0 for zero).
 *
 * Returns 1 if a rounding was inexact, 0 if not; -1 for a precision it does not take, -2
 * when out of memory, -3 for a text it does not read.
 */
int64_t backflush_levels(
    int64_t n, int64_t prec,
    const char *bought_text, const int64_t *bought_ends, const int64_t *bought_at,
    int64_t n_bought,
    const char *own_text, const int64_t *own_ends, const int64_t *own_at, int64_t n_own,
    const uint8_t *phantom,
    int64_t n_levels, const int64_t *slot_bounds, const int64_t *line_bounds,
    const int64_t *bom_items, const int64_t *l_comp, const int64_t *g_code,
    const int64_t *g_coef, const int64_t *g_exp,
    const int64_t *order, const int64_t *act_bounds,
    const int64_t *made, int64_t n_made, int64_t *out_lo, int64_t *out_hi, int64_t *out_exp) {
    if (prec < 1 || prec > 28 || n < 0)
        return -1;
    int p = (int)prec;
    size_t cells = (size_t)(4 * n + 1);
    u128 *feed = calloc(cells, sizeof(u128)), *own = calloc(cells, sizeof(u128));
    u128 *lower = calloc(cells, sizeof(u128));
    int64_t *fexp = calloc(cells, sizeof(int64_t)), *oexp = calloc(cells, sizeof(int64_t));
    int64_t *lexp = calloc(cells, sizeof(int64_t));
    int64_t code = 0;
    if (!feed || !own || !lower || !fexp || !oexp || !lexp) {
        code = -2;
        goto done;
    }
    if (parse_all(bought_text, bought_ends, bought_at, n_bought, p, feed, fexp) ||
        parse_all(own_text, own_ends, own_at, n_own, p, own, oexp)) {
        code = -3;
        goto done;
    }
    int inexact = 0;
    for (int64_t lv = 0; lv < n_levels; lv++) {
        for (int64_t s = slot_bounds[lv]; s < slot_bounds[lv + 1]; s++) {
            int64_t parent = bom_items[s];
            int64_t a = line_bounds[s], b = line_bounds[s + 1];
            for (int64_t el = 0; el < 4; el++) {
                const u128 *f = feed + el * n;
                const int64_t *fe = fexp + el * n;
                u128 sum = 0;
                int64_t se = 0;
                for (int64_t k = a; k < b; k++) {
                    int64_t c = l_comp[k];
                    u128 v = f[c];
                    if (!v)
                        continue;
                    int64_t g = g_code[k];
                    u128 t = v * (uint64_t)g_coef[g];
                    int64_t te = fe[c] + g_exp[g];
                    if (!sum) {
                        se = te;
                        sum = round_to(t, &se, p, &inexact);
                    } else {
                        sum = add(sum, se, t, te, &se, p, &inexact);
                    }
                }
                lower[el * n + parent] = sum;
                lexp[el * n + parent] = sum ? se : 0;
            }
        }
        for (int64_t at = act_bounds[lv]; at < act_bounds[lv + 1]; at++) {
            int64_t i = order[at];
            for (int64_t el = 0; el < 4; el++) {
                int64_t v = el * n + i;
                u128 low = lower[v], mine = phantom[i] ? 0 : own[v];
                if (!mine) {
                    feed[v] = low;
                    fexp[v] = lexp[v];
                } else if (!low) {
                    feed[v] = mine;
                    fexp[v] = oexp[v];
                } else {
                    feed[v] = add(mine, oexp[v], low, lexp[v], &fexp[v], p, &inexact);
                }
            }
        }
    }
    for (int64_t el = 0; el < 4; el++) {
        for (int64_t k = 0; k < n_made; k++) {
            int64_t v = el * n + made[k], at = el * n_made + k;
            u128 c = lower[v];
            int64_t e = c ? lexp[v] : 0;
            uint64_t hi, lo;
            split18(c, &hi, &lo); /* c < 10**28 */
            while ((lo || hi) && lo % 10 == 0) {
                lo = lo / 10 + (hi % 10) * 100000000000000000u;
                hi /= 10;
                e += 1;
            }
            out_lo[at] = (int64_t)lo;
            out_hi[at] = (int64_t)hi;
            out_exp[at] = e;
        }
    }
    code = inexact;
done:
    free(feed); free(own); free(lower); free(fexp); free(oexp); free(lexp);
    return code;
}

/* Adds up each row of terms (c x 10**e, c given in `width` (<= 5) limbs in base 10**9, at
 * most 37 digits, |e| <= EXP_LIMIT) in order, as Decimal addition in a context of `prec`
 * digits does: for tests. */
int64_t backflush_fold_rows(int64_t n_rows, const int64_t *row_bounds, int64_t width,
                            const int64_t *limbs, int64_t n_terms, const int64_t *exps,
                            int64_t prec, int64_t *out_limbs, int64_t out_width,
                            int64_t *out_exp) {
    if (prec < 1 || prec > 28 || width < 1 || width > 5 || out_width != (prec + 8) / 9)
        return -1;
    int inexact = 0;
    for (int64_t r = 0; r < n_rows; r++) {
        u128 sum = 0;
        int64_t se = 0;
        for (int64_t k = row_bounds[r]; k < row_bounds[r + 1]; k++) {
            if (width == 5 && (limbs[4 * n_terms + k] < 0 || limbs[4 * n_terms + k] >= 10))
                return -1; /* 37 digits at most: no wrap-around in from_limbs */
            u128 t = from_limbs(limbs, width, n_terms, k);
            if (!t)
                continue;
            int64_t te = exps[k];
            if (t >= P10[37] || te > EXP_LIMIT || te < -EXP_LIMIT)
                return -1;
            if (!sum) {
                se = te;
                sum = round_to(t, &se, (int)prec, &inexact);
            } else {
                sum = add(sum, se, t, te, &se, (int)prec, &inexact);
            }
        }
        to_limbs(sum, out_limbs, out_width, n_rows, r);
        out_exp[r] = sum ? se : 0;
    }
    return inexact;
}

static struct PyModuleDef levels_module = {
    PyModuleDef_HEAD_INIT, "_levels",
    "The roll-up's level walk, compiled (loaded with ctypes by backflush.domain.rollup).",
    -1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__levels(void) { return PyModule_Create(&levels_module); }
