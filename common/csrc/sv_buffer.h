/* Helpers shared by the project's C modules (analytics_svc/ingestion/_event_rows.c, common/_pg_copy.c,
 * gateway/_json_wire.c):
 * a growable byte buffer and civil dates as day numbers. Include after Python.h. */
#ifndef SV_BUFFER_H
#define SV_BUFFER_H

#include <stdint.h>
#include <string.h>

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buffer;

/* Room for n more bytes at b->data + b->len: 0, or -1 with MemoryError set. */
static inline int buffer_reserve(Buffer *b, Py_ssize_t n) {
    if (b->len + n > b->cap) {
        Py_ssize_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        char *grown = PyMem_Realloc(b->data, cap);
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    return 0;
}

/* Append n bytes: 0, or -1 with MemoryError set. Free b->data with PyMem_Free when done. */
static inline int buffer_add(Buffer *b, const void *data, Py_ssize_t n) {
    if (buffer_reserve(b, n)) return -1;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static inline int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

#endif
