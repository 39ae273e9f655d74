/* The common case of ingestion, compiled: protobuf wire bytes of events -> table rows.
 *
 * Used through analytics_svc/event_rows.py, which builds the plan (field layout,
 * the contract's rules, the row's columns) from the descriptors at import. This file
 * knows the protobuf wire format and how to check a rule, not the contract.
 *
 * It only ever says "this event is valid, here is its row" or "not sure": for
 * anything unusual (an unknown or repeated field, non-ASCII text, a timestamp not in
 * the plain UTC shape, a value a rule refuses, ...) it answers None and the Python
 * reader decides, with its full rules and its words for the rejection. So it must
 * never accept what the Python reader refuses, and its rows must equal the Python
 * ones: tests/analytics/test_event_rows.py compares the two on generated events.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sv_buffer.h"

#define MAX_FIELD 64   /* field numbers above this are unknown to the plan */
#define MAX_SLOTS 48
#define MAX_MESSAGES 4
#define MAX_PROPS 32
#define MAX_COLUMNS 32
#define MAX_EXTRAS 32

enum kind {
    K_NONE = 0,   /* not in the plan: the event goes to the Python reader */
    K_STRING,     /* singular string */
    K_STRINGS,    /* repeated string */
    K_TIMESTAMP,  /* string with the rfc3339 rule: the slot holds the datetime */
    K_DOUBLE,     /* optional double */
    K_INT32,      /* optional int32 */
    K_MESSAGE,    /* nested message, read into the same slots */
    K_STRUCT,     /* google.protobuf.Struct of flat scalars: the slot holds its JSON text */
};

typedef struct {
    int kind, slot, required, child;
    Py_ssize_t min_len, max_len; /* in characters (ASCII only here); max 0: no bound */
    int has_pattern;
    uint8_t first[16], rest[16]; /* allowed ASCII characters: first one, the others */
    PyObject *allowed;           /* frozenset of allowed values, or NULL */
    Py_ssize_t max_items;
    int has_bounds;
    double lo, hi;
} FieldPlan;

typedef struct {
    FieldPlan fields[MAX_FIELD];
} MessagePlan;

typedef struct {
    MessagePlan messages[MAX_MESSAGES];
    int nslots;
    int ncolumns;
    int columns[MAX_COLUMNS];   /* slot, or -1: received_at, -2: the props JSON, -3: None */
    int nprops;
    PyObject *prop_prefix[MAX_PROPS]; /* bytes, e.g. b'"page": ' */
    int prop_slot[MAX_PROPS];
    char prop_format[MAX_PROPS];      /* 's' string, 'i' int, 'f' float, 'j' JSON text */
    PyObject *extras_keys;            /* frozenset */
    Py_ssize_t extras_max_string;
    PyObject *contact_check;          /* str -> falsy when the text holds no contact detail */
} Plan;

/* ---------- the plan, from Python ---------- */

static void plan_free(Plan *plan) {
    for (int m = 0; m < MAX_MESSAGES; m++)
        for (int f = 0; f < MAX_FIELD; f++) Py_CLEAR(plan->messages[m].fields[f].allowed);
    for (int i = 0; i < plan->nprops; i++) Py_CLEAR(plan->prop_prefix[i]);
    Py_CLEAR(plan->extras_keys);
    Py_CLEAR(plan->contact_check);
    PyMem_Free(plan);
}

static void plan_capsule_free(PyObject *capsule) {
    Plan *plan = PyCapsule_GetPointer(capsule, "event_rows.plan");
    if (plan) plan_free(plan);
}

static int copy_bits(PyObject *bytes, uint8_t out[16]) {
    if (!PyBytes_Check(bytes) || PyBytes_GET_SIZE(bytes) != 16) {
        PyErr_SetString(PyExc_ValueError, "a character class is 16 bytes");
        return -1;
    }
    memcpy(out, PyBytes_AS_STRING(bytes), 16);
    return 0;
}

/* compile(fields, columns, props, extras_keys, extras_max_string, contact_check)
 * fields: (message, number, kind, slot, required, min_len, max_len, first|None, rest|None,
 *          allowed|None, max_items, lo|None, hi|None, child) */
static PyObject *compile_plan(PyObject *self, PyObject *args) {
    PyObject *fields, *columns, *props, *extras_keys, *contact_check;
    Py_ssize_t extras_max_string;
    if (!PyArg_ParseTuple(args, "O!O!O!O!nO", &PyTuple_Type, &fields, &PyTuple_Type, &columns,
                          &PyTuple_Type, &props, &PyFrozenSet_Type, &extras_keys,
                          &extras_max_string, &contact_check))
        return NULL;
    Plan *plan = PyMem_Calloc(1, sizeof(Plan));
    if (!plan) return PyErr_NoMemory();
    Py_INCREF(extras_keys);
    plan->extras_keys = extras_keys;
    Py_INCREF(contact_check);
    plan->contact_check = contact_check;
    plan->extras_max_string = extras_max_string;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fields); i++) {
        int message, number, kind, slot, required, child;
        Py_ssize_t min_len, max_len, max_items;
        PyObject *first, *rest, *allowed, *lo, *hi;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(fields, i), "iiiiinnOOOnOOi", &message, &number, &kind,
                              &slot, &required, &min_len, &max_len, &first, &rest, &allowed, &max_items,
                              &lo, &hi, &child))
            goto fail;
        if (message < 0 || message >= MAX_MESSAGES || number < 1 || number >= MAX_FIELD || slot < -1 ||
            slot >= MAX_SLOTS || child < -1 || child >= MAX_MESSAGES) {
            PyErr_SetString(PyExc_ValueError, "field outside the plan's limits");
            goto fail;
        }
        FieldPlan *f = &plan->messages[message].fields[number];
        f->kind = kind;
        f->slot = slot;
        f->required = required;
        f->child = child;
        f->min_len = min_len;
        f->max_len = max_len;
        f->max_items = max_items;
        if (slot >= plan->nslots) plan->nslots = slot + 1;
        if (first != Py_None) {
            if (copy_bits(first, f->first) < 0 || copy_bits(rest, f->rest) < 0) goto fail;
            f->has_pattern = 1;
        }
        if (allowed != Py_None) {
            if (!PyFrozenSet_Check(allowed)) {
                PyErr_SetString(PyExc_TypeError, "allowed values are a frozenset");
                goto fail;
            }
            Py_INCREF(allowed);
            f->allowed = allowed;
        }
        if (lo != Py_None || hi != Py_None) {
            f->has_bounds = 1;
            f->lo = lo == Py_None ? -INFINITY : PyFloat_AsDouble(lo);
            f->hi = hi == Py_None ? INFINITY : PyFloat_AsDouble(hi);
            if (PyErr_Occurred()) goto fail;
        }
    }
    plan->ncolumns = (int)PyTuple_GET_SIZE(columns);
    if (plan->ncolumns > MAX_COLUMNS) {
        PyErr_SetString(PyExc_ValueError, "too many columns");
        goto fail;
    }
    for (int i = 0; i < plan->ncolumns; i++) {
        plan->columns[i] = (int)PyLong_AsLong(PyTuple_GET_ITEM(columns, i));
        if (plan->columns[i] < -3 || plan->columns[i] >= MAX_SLOTS) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "column outside the slots");
            goto fail;
        }
    }
    if (PyTuple_GET_SIZE(props) > MAX_PROPS) {
        PyErr_SetString(PyExc_ValueError, "too many properties");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(props); i++) {
        PyObject *prefix;
        int slot, format;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(props, i), "O!iC", &PyBytes_Type, &prefix, &slot, &format))
            goto fail;
        if (slot < 0 || slot >= MAX_SLOTS || format == 0 || !strchr("sifj", format)) {
            PyErr_SetString(PyExc_ValueError, "property outside the plan");
            goto fail;
        }
        Py_INCREF(prefix);
        plan->prop_prefix[plan->nprops] = prefix;
        plan->prop_slot[plan->nprops] = slot;
        plan->prop_format[plan->nprops] = (char)format;
        plan->nprops++;
    }
    return PyCapsule_New(plan, "event_rows.plan", plan_capsule_free);
fail:
    plan_free(plan);
    return NULL;
}

/* ---------- wire format ---------- */

typedef struct {
    const uint8_t *p, *end;
} Cursor;

static int read_varint(Cursor *c, uint64_t *out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) return 0;
        uint8_t byte = *c->p++;
        value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = value;
            return 1;
        }
    }
    return 0;
}

static int read_bytes(Cursor *c, const uint8_t **data, Py_ssize_t *len) {
    uint64_t n;
    if (!read_varint(c, &n) || n > (uint64_t)(c->end - c->p)) return 0;
    *data = c->p;
    *len = (Py_ssize_t)n;
    c->p += n;
    return 1;
}

static int read_fixed64(Cursor *c, double *out) {
    if (c->end - c->p < 8) return 0;
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--) bits = (bits << 8) | c->p[i];
    c->p += 8;
    memcpy(out, &bits, 8);
    return 1;
}

/* Past a field the reader does not read: 1, or 0 when the bytes are not a field. */
static int skip_field(Cursor *c, uint64_t tag) {
    uint64_t ignored;
    const uint8_t *data;
    Py_ssize_t len;
    switch (tag & 7) {
    case 0:
        return read_varint(c, &ignored);
    case 1:
        if (c->end - c->p < 8) return 0;
        c->p += 8;
        return 1;
    case 2:
        return read_bytes(c, &data, &len);
    case 5:
        if (c->end - c->p < 4) return 0;
        c->p += 4;
        return 1;
    default: /* groups (deprecated) and invalid wire types */
        return 0;
    }
}

/* ---------- checks ---------- */

static inline int in_class(const uint8_t bits[16], uint8_t ch) {
    return ch < 128 && (bits[ch >> 3] >> (ch & 7)) & 1;
}

/* 1 when the rules accept the (non-empty) text; 0: not sure, the Python reader decides. */
static int string_ok(const FieldPlan *f, const uint8_t *s, Py_ssize_t n) {
    if (n < f->min_len || (f->max_len && n > f->max_len)) return 0;
    if (f->has_pattern) {
        if (!in_class(f->first, s[0])) return 0;
        for (Py_ssize_t i = 1; i < n; i++)
            if (!in_class(f->rest, s[i])) return 0;
    } else {
        for (Py_ssize_t i = 0; i < n; i++)
            if (s[i] == 0 || s[i] >= 0x80) return 0;
    }
    return 1;
}

/* A new str of checked ASCII, or NULL with an exception. */
static PyObject *ascii_str(const uint8_t *s, Py_ssize_t n) {
    PyObject *text = PyUnicode_New(n, 127);
    if (text) memcpy(PyUnicode_DATA(text), s, n);
    return text;
}

/* 1 in, 0 not in (or not sure), -1 error. */
static int allowed_value(const FieldPlan *f, PyObject *text) {
    return f->allowed ? PySet_Contains(f->allowed, text) : 1;
}

static int digits(const uint8_t *s, int n) {
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        value = value * 10 + (s[i] - '0');
    }
    return value;
}

/* YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z, the shape clients send: its datetime and microseconds since
 * the epoch, or 0 (any other shape or an impossible date: the Python reader decides). */
static int parse_utc(const uint8_t *s, Py_ssize_t n, int *parts, int64_t *epoch_us) {
    if (n < 20 || n > 27 || s[n - 1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':')
        return 0;
    int year = digits(s, 4), month = digits(s + 5, 2), day = digits(s + 8, 2);
    int hour = digits(s + 11, 2), minute = digits(s + 14, 2), second = digits(s + 17, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 59)
        return 0;
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > month_days[month - 1] + (month == 2 && leap)) return 0;
    int micros = 0;
    if (n > 20) {
        int frac = (int)n - 21; /* digits between '.' and 'Z' */
        if (s[19] != '.' || frac < 1 || frac > 6) return 0;
        micros = digits(s + 20, frac);
        if (micros < 0) return 0;
        for (int i = frac; i < 6; i++) micros *= 10;
    }
    parts[0] = year, parts[1] = month, parts[2] = day, parts[3] = hour, parts[4] = minute;
    parts[5] = second, parts[6] = micros;
    *epoch_us = ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 * INT64_C(1000000) +
                (int64_t)second * 1000000 + micros;
    return 1;
}

/* ---------- JSON text of a flat Struct ---------- */

static int buffer_add_str(Buffer *b, const char *text) { return buffer_add(b, text, strlen(text)); }

/* What json.dumps writes for a finite float (its repr). */
static int buffer_add_float(Buffer *b, double value) {
    char *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!text) return -1;
    int status = buffer_add_str(b, text);
    PyMem_Free(text);
    return status;
}

/* A JSON string as json's encode_basestring_ascii writes it, for ASCII without control
 * characters (checked by the caller): only the quote and the backslash are escaped. */
static int buffer_add_json_string(Buffer *b, const uint8_t *s, Py_ssize_t n) {
    if (buffer_add(b, "\"", 1) < 0) return -1;
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            if (buffer_add(b, s + start, i - start) < 0 || buffer_add(b, "\\", 1) < 0) return -1;
            start = i;
        }
    }
    if (buffer_add(b, s + start, n - start) < 0) return -1;
    return buffer_add(b, "\"", 1);
}

static int printable_ascii(const uint8_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] >= 0x7f) return 0;
    return 1;
}

/* One google.protobuf.Value of a flat Struct, appended as JSON: 1 done, 0 not sure, -1 error. */
static int struct_value(const Plan *plan, const uint8_t *data, Py_ssize_t len, Buffer *out) {
    Cursor c = {data, data + len};
    int kinds = 0;
    Buffer value = {0};
    int status = 1;
    while (c.p < c.end && status == 1) {
        uint64_t tag, number;
        if (!read_varint(&c, &tag)) goto unsure;
        number = tag >> 3;
        int wire = (int)(tag & 7);
        kinds++;
        value.len = 0;
        if (number == 1 && wire == 0) { /* null_value */
            uint64_t ignored;
            if (!read_varint(&c, &ignored)) goto unsure;
            if (buffer_add_str(&value, "null") < 0) status = -1;
        } else if (number == 2 && wire == 1) { /* number_value */
            double number_value;
            if (!read_fixed64(&c, &number_value) || !isfinite(number_value)) goto unsure;
            if (buffer_add_float(&value, number_value) < 0) status = -1;
        } else if (number == 3 && wire == 2) { /* string_value */
            const uint8_t *s;
            Py_ssize_t n;
            if (!read_bytes(&c, &s, &n) || n > plan->extras_max_string || !printable_ascii(s, n))
                goto unsure;
            PyObject *text = ascii_str(s, n);
            if (!text) {
                status = -1;
                break;
            }
            PyObject *found = PyObject_CallOneArg(plan->contact_check, text);
            Py_DECREF(text);
            if (!found) {
                status = -1;
                break;
            }
            int truth = PyObject_IsTrue(found);
            Py_DECREF(found);
            if (truth != 0) {
                status = truth < 0 ? -1 : 0;
                break;
            }
            if (buffer_add_json_string(&value, s, n) < 0) status = -1;
        } else if (number == 4 && wire == 0) { /* bool_value */
            uint64_t flag;
            if (!read_varint(&c, &flag)) goto unsure;
            if (buffer_add_str(&value, flag ? "true" : "false") < 0) status = -1;
        } else {
            goto unsure; /* a nested struct or list, or something unknown */
        }
    }
    if (status == 1 && kinds > 1) status = 0; /* a oneof set twice: the last wins; let Python say */
    if (status == 1) status = buffer_add(out, kinds ? value.data : "null", kinds ? value.len : 4) < 0 ? -1 : 1;
    PyMem_Free(value.data);
    return status;
unsure:
    PyMem_Free(value.data);
    return 0;
}

/* A flat Struct as json.dumps writes it (keys in wire order; the column is jsonb, which keeps
 * no order). 1 with *json set, 0 not sure, -1 error. */
static int struct_json(const Plan *plan, const uint8_t *data, Py_ssize_t len, PyObject **json) {
    Cursor c = {data, data + len};
    Buffer out = {0};
    const uint8_t *keys[MAX_EXTRAS];
    Py_ssize_t key_lens[MAX_EXTRAS];
    int count = 0, status = 1;
    if (buffer_add(&out, "{", 1) < 0) return -1;
    while (c.p < c.end) {
        uint64_t tag;
        const uint8_t *entry;
        Py_ssize_t entry_len;
        if (!read_varint(&c, &tag) || tag != ((1 << 3) | 2) || !read_bytes(&c, &entry, &entry_len)) {
            status = 0;
            break;
        }
        Cursor e = {entry, entry + entry_len};
        const uint8_t *key = NULL, *value = NULL;
        Py_ssize_t key_len = 0, value_len = 0;
        int fields = 0;
        while (e.p < e.end) {
            uint64_t entry_tag;
            if (!read_varint(&e, &entry_tag)) break;
            fields++;
            if (entry_tag == ((1 << 3) | 2) && !key) {
                if (!read_bytes(&e, &key, &key_len)) break;
            } else if (entry_tag == ((2 << 3) | 2) && !value) {
                if (!read_bytes(&e, &value, &value_len)) break;
            } else {
                break;
            }
        }
        if (e.p != e.end || !key || count == MAX_EXTRAS || !printable_ascii(key, key_len)) {
            status = 0;
            break;
        }
        for (int i = 0; i < count && status; i++)
            if (key_lens[i] == key_len && memcmp(keys[i], key, key_len) == 0) status = 0; /* repeated key */
        if (!status) break;
        keys[count] = key;
        key_lens[count++] = key_len;
        PyObject *name = ascii_str(key, key_len);
        if (!name) {
            status = -1;
            break;
        }
        int known = PySet_Contains(plan->extras_keys, name);
        Py_DECREF(name);
        if (known != 1) {
            status = known < 0 ? -1 : 0;
            break;
        }
        if ((count > 1 && buffer_add(&out, ", ", 2) < 0) || buffer_add_json_string(&out, key, key_len) < 0 ||
            buffer_add(&out, ": ", 2) < 0) {
            status = -1;
            break;
        }
        status = value ? struct_value(plan, value, value_len, &out) : buffer_add_str(&out, "null") < 0 ? -1 : 1;
        if (status != 1) break;
    }
    if (status == 1) {
        status = buffer_add(&out, "}", 1) < 0 ? -1 : 1;
        if (status == 1) {
            *json = PyUnicode_DecodeASCII(out.data, out.len, NULL);
            if (!*json) status = -1;
        }
    }
    PyMem_Free(out.data);
    return status;
}

/* ---------- one event ---------- */

typedef struct {
    PyObject *slots[MAX_SLOTS];
    uint64_t seen[MAX_MESSAGES]; /* fields met once, per message: a second time means "not sure" */
} EventValues;

static void values_clear(EventValues *v, int nslots) {
    for (int i = 0; i < nslots; i++) Py_CLEAR(v->slots[i]);
}

/* Read a message into the slots: 1 all checked, 0 not sure, -1 error. */
static int read_message(const Plan *plan, int index, const uint8_t *data, Py_ssize_t len, EventValues *v,
                        int64_t earliest_us, int64_t latest_us) {
    const MessagePlan *message = &plan->messages[index];
    Cursor c = {data, data + len};
    while (c.p < c.end) {
        uint64_t tag;
        if (!read_varint(&c, &tag)) return 0;
        uint64_t number = tag >> 3;
        int wire = (int)(tag & 7);
        if (number == 0 || number >= MAX_FIELD) return 0;
        const FieldPlan *f = &message->fields[number];
        if (f->kind == K_NONE) return 0;
        uint64_t bit = UINT64_C(1) << number;
        if (f->kind != K_STRINGS) {
            if (v->seen[index] & bit) return 0;
            v->seen[index] |= bit;
        }
        PyObject **slot = f->slot >= 0 ? &v->slots[f->slot] : NULL;
        switch (f->kind) {
        case K_STRING:
        case K_TIMESTAMP:
        case K_STRINGS: {
            const uint8_t *s;
            Py_ssize_t n;
            if (wire != 2 || !read_bytes(&c, &s, &n)) return 0;
            if (n == 0) {
                if (f->kind == K_STRINGS) return 0; /* an empty item: the item rules decide */
                break;                              /* proto3: "" is the unset default */
            }
            if (f->kind == K_TIMESTAMP) {
                int parts[7];
                int64_t epoch_us;
                if (!parse_utc(s, n, parts, &epoch_us) || epoch_us < earliest_us || epoch_us > latest_us)
                    return 0;
                *slot = PyDateTimeAPI->DateTime_FromDateAndTime(parts[0], parts[1], parts[2], parts[3],
                                                                parts[4], parts[5], parts[6],
                                                                PyDateTime_TimeZone_UTC,
                                                                PyDateTimeAPI->DateTimeType);
                if (!*slot) return -1;
                break;
            }
            if (!string_ok(f, s, n)) return 0;
            PyObject *text = ascii_str(s, n);
            if (!text) return -1;
            int ok = allowed_value(f, text);
            if (ok != 1) {
                Py_DECREF(text);
                return ok;
            }
            if (f->kind == K_STRING) {
                *slot = text;
                break;
            }
            if (!*slot && !(*slot = PyList_New(0))) {
                Py_DECREF(text);
                return -1;
            }
            int appended = PyList_Append(*slot, text);
            Py_DECREF(text);
            if (appended < 0) return -1;
            if (f->max_items && PyList_GET_SIZE(*slot) > f->max_items) return 0;
            break;
        }
        case K_DOUBLE: {
            double value;
            if (wire != 1 || !read_fixed64(&c, &value) || !isfinite(value)) return 0;
            if (f->has_bounds && (value < f->lo || value > f->hi)) return 0;
            if (!(*slot = PyFloat_FromDouble(value))) return -1;
            break;
        }
        case K_INT32: {
            uint64_t raw;
            if (wire != 0 || !read_varint(&c, &raw)) return 0;
            int32_t value = (int32_t)(uint32_t)raw;
            if (f->has_bounds && (value < f->lo || value > f->hi)) return 0;
            if (!(*slot = PyLong_FromLong(value))) return -1;
            break;
        }
        case K_MESSAGE: {
            const uint8_t *s;
            Py_ssize_t n;
            if (wire != 2 || !read_bytes(&c, &s, &n)) return 0;
            int status = read_message(plan, f->child, s, n, v, earliest_us, latest_us);
            if (status != 1) return status;
            break;
        }
        case K_STRUCT: {
            const uint8_t *s;
            Py_ssize_t n;
            if (wire != 2 || !read_bytes(&c, &s, &n)) return 0;
            int status = struct_json(plan, s, n, slot);
            if (status != 1) return status;
            break;
        }
        default:
            return 0;
        }
    }
    for (int number = 1; number < MAX_FIELD; number++) {
        const FieldPlan *f = &message->fields[number];
        if (f->required && (f->slot < 0 || !v->slots[f->slot])) return 0;
    }
    return 1;
}

static int add_prop(Buffer *b, const Plan *plan, int i, PyObject *value) {
    PyObject *prefix = plan->prop_prefix[i];
    if (b->len > 1 && buffer_add(b, ", ", 2) < 0) return -1;
    if (buffer_add(b, PyBytes_AS_STRING(prefix), PyBytes_GET_SIZE(prefix)) < 0) return -1;
    switch (plan->prop_format[i]) {
    case 's': {
        /* Checked ASCII; the plan gives 's' only to fields whose rules allow no character JSON escapes. */
        Py_ssize_t n = PyUnicode_GET_LENGTH(value);
        return buffer_add(b, "\"", 1) < 0 || buffer_add(b, PyUnicode_DATA(value), n) < 0 ||
                       buffer_add(b, "\"", 1) < 0
                   ? -1
                   : 0;
    }
    case 'i': {
        char digits_text[24];
        int n = snprintf(digits_text, sizeof digits_text, "%ld", PyLong_AsLong(value));
        return buffer_add(b, digits_text, n);
    }
    case 'f':
        return buffer_add_float(b, PyFloat_AS_DOUBLE(value));
    default: /* 'j': JSON text */
        return buffer_add(b, PyUnicode_DATA(value), PyUnicode_GET_LENGTH(value));
    }
}

/* The row of checked values, in the plan's column order. */
static PyObject *build_row(const Plan *plan, EventValues *v, PyObject *received_at) {
    PyObject *row = PyTuple_New(plan->ncolumns);
    if (!row) return NULL;
    for (int i = 0; i < plan->ncolumns; i++) {
        int source = plan->columns[i];
        PyObject *value;
        if (source == -1) {
            value = received_at;
            Py_INCREF(value);
        } else if (source == -2) {
            Buffer b = {0};
            int status = buffer_add(&b, "{", 1);
            for (int p = 0; p < plan->nprops && status == 0; p++) {
                PyObject *prop = v->slots[plan->prop_slot[p]];
                if (prop) status = add_prop(&b, plan, p, prop);
            }
            if (status == 0 && b.len > 1) {
                status = buffer_add(&b, "}", 1);
                value = status == 0 ? PyUnicode_DecodeASCII(b.data, b.len, NULL) : NULL;
            } else {
                value = status == 0 ? Py_NewRef(Py_None) : NULL;
            }
            PyMem_Free(b.data);
            if (!value) {
                Py_DECREF(row);
                return NULL;
            }
        } else {
            value = source >= 0 && v->slots[source] ? Py_NewRef(v->slots[source]) : Py_NewRef(Py_None);
        }
        PyTuple_SET_ITEM(row, i, value);
    }
    return row;
}

/* rows(plan, wire, received_at, earliest_us, latest_us) -> list of row or None, one per event.
 * wire: a message whose field 1 holds the events (RecordEventsRequest, RecordEventRequest). */
static PyObject *rows(PyObject *self, PyObject *args) {
    PyObject *capsule, *received_at;
    Py_buffer wire;
    long long earliest_us, latest_us;
    if (!PyArg_ParseTuple(args, "Oy*OLL", &capsule, &wire, &received_at, &earliest_us, &latest_us)) return NULL;
    PyObject *out = NULL;
    Plan *plan = PyCapsule_GetPointer(capsule, "event_rows.plan");
    if (!plan) goto done;
    out = PyList_New(0);
    if (!out) goto done;
    Cursor c = {wire.buf, (const uint8_t *)wire.buf + wire.len};
    while (c.p < c.end) {
        uint64_t tag;
        const uint8_t *event;
        Py_ssize_t len;
        if (!read_varint(&c, &tag) || (tag != ((1 << 3) | 2) && !skip_field(&c, tag)) ||
            (tag == ((1 << 3) | 2) && !read_bytes(&c, &event, &len))) {
            PyErr_SetString(PyExc_ValueError, "wire: not a message with the events in field 1");
            Py_CLEAR(out);
            goto done;
        }
        if (tag != ((1 << 3) | 2)) continue; /* another field (unknown to this contract): not an event */
        EventValues values;
        memset(&values, 0, sizeof values);
        int status = read_message(plan, 0, event, len, &values, earliest_us, latest_us);
        PyObject *row = status == 1 ? build_row(plan, &values, received_at)
                                    : status == 0 ? Py_NewRef(Py_None) : NULL;
        values_clear(&values, plan->nslots);
        if (!row || PyList_Append(out, row) < 0) {
            Py_XDECREF(row);
            Py_CLEAR(out);
            goto done;
        }
        Py_DECREF(row);
    }
done:
    PyBuffer_Release(&wire);
    return out;
}

static PyMethodDef methods[] = {
    {"compile", compile_plan, METH_VARARGS, "A plan for rows(), from its tables (see event_rows.py)."},
    {"rows", rows, METH_VARARGS, "Rows of the events in field 1 of wire: a row, or None when not sure."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_event_rows", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__event_rows(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    return PyModule_Create(&module);
}
