/* inr.c: Indian digit grouping for prices, and prices in JSON; see inr.h. */
#include "common/text/inr.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

size_t inr_group(char *out, size_t cap, double amount)
{
    char digits[32], grouped[48];
    double r = floor(fabs(amount) + 0.5);
    if (r > 9e17) r = 9e17;
    int n = snprintf(digits, sizeof(digits), "%.0f", r);
    size_t g = 0;
    if (amount < 0 && r > 0) grouped[g++] = '-';
    for (int i = 0; i < n; i++) {
        int left = n - i;   /* digits from here to the end */
        grouped[g++] = digits[i];
        /* a comma after the thousands group, then after every pair */
        if (left > 1 && (left - 1 == 3 || (left - 1 > 3 && (left - 1 - 3) % 2 == 0)))
            grouped[g++] = ',';
    }
    grouped[g] = '\0';
    int w = snprintf(out, cap, "%s", grouped);
    if (w < 0) return 0;
    return (size_t)w < cap ? (size_t)w : (cap ? cap - 1 : 0);
}

size_t inr_format(char *out, size_t cap, double amount, const char *currency)
{
    char num[48];
    inr_group(num, sizeof(num), amount);
    int w;
    const char *sign = num[0] == '-' ? "-" : "";
    const char *digits = num[0] == '-' ? num + 1 : num;
    if (!currency || !*currency || strcmp(currency, "INR") == 0)
        w = snprintf(out, cap, "%s\xE2\x82\xB9%s", sign, digits);
    else
        w = snprintf(out, cap, "%s%s %s", sign, currency, digits);
    if (w < 0) return 0;
    return (size_t)w < cap ? (size_t)w : (cap ? cap - 1 : 0);
}

struct json_object *inr_json(double amount)
{
    double v = round(amount * 100.0) / 100.0;
    if (v == floor(v) && fabs(v) < 9e15) return json_object_new_int64((int64_t)v);
    char s[48];
    snprintf(s, sizeof(s), "%.2f", v);
    return json_object_new_double_s(v, s);
}
