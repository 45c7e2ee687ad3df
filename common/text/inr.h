/* inr.h: money, the one formatter: as an Indian shopper reads it,
 * ₹1,50,000 (lakh grouping: the last three digits, then pairs), and as a
 * JSON number in events. Pure functions; only inr_json allocates (a
 * json-c object the caller owns). */
#ifndef TROIKA_INR_H
#define TROIKA_INR_H

#include <stddef.h>

struct json_object;

/* Writes `amount` rounded to the whole unit with Indian digit grouping,
 * prefixed by the currency's sign ("₹" for INR or an empty/NULL currency,
 * else the code and a space: "USD 1,200"). Negative amounts get a leading
 * '-'. Returns the length written (truncated to cap-1 like snprintf). */
size_t inr_format(char *out, size_t cap, double amount, const char *currency);

/* Only the grouped digits: 150000 -> "1,50,000". Same rounding. */
size_t inr_group(char *out, size_t cap, double amount);

/* An amount as a JSON number, rounded to the paisa: whole amounts as
 * integers (38500), others with exactly two decimals (38499.50). The
 * caller owns the object; NULL when out of memory. */
struct json_object *inr_json(double amount);

#endif
