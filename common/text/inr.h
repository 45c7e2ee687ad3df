/* inr.h: money as an Indian shopper reads it: ₹1,50,000 (lakh grouping:
 * the last three digits, then pairs). Pure functions, no allocation. */
#ifndef TROIKA_INR_H
#define TROIKA_INR_H

#include <stddef.h>

/* Writes `amount` rounded to the whole unit with Indian digit grouping,
 * prefixed by the currency's sign ("₹" for INR or an empty/NULL currency,
 * else the code and a space: "USD 1,200"). Negative amounts get a leading
 * '-'. Returns the length written (truncated to cap-1 like snprintf). */
size_t inr_format(char *out, size_t cap, double amount, const char *currency);

/* Only the grouped digits: 150000 -> "1,50,000". Same rounding. */
size_t inr_group(char *out, size_t cap, double amount);

#endif
