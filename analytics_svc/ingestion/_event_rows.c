/* The common case of ingestion, compiled: protobuf wire bytes of events -> table rows.
 *
 * Used through analytics_svc/ingestion/event_rows.py, which builds the plan (field layout,
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
#include <stdarg.h>
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

/* compile() checks the whole plan before it is used: rows() indexes its tables with the slots,
 * children and formats it holds and trusts them, so an inconsistent plan (a string without a
 * slot, a message without a child, a cycle of messages, a property read from the wrong kind of
 * value, ...) is refused here with a ValueError saying what is wrong, never read. */

#define FIELD_ITEMS 14 /* the items of a field's row, see compile_plan */

static const char *const kind_names[] = {"none",   "string",  "strings", "timestamp",
                                         "double", "int32",   "message", "struct"};

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

/* ValueError("plan: <where> <index>: <detail>"); where NULL: "plan: <detail>". Returns -1. */
static int plan_error(const char *where, Py_ssize_t index, const char *format, ...) {
    va_list vargs;
    va_start(vargs, format);
    PyObject *detail = PyUnicode_FromFormatV(format, vargs);
    va_end(vargs);
    if (!detail) return -1;
    if (where)
        PyErr_Format(PyExc_ValueError, "plan: %s %zd: %U", where, index, detail);
    else
        PyErr_Format(PyExc_ValueError, "plan: %U", detail);
    Py_DECREF(detail);
    return -1;
}

/* The TypeError or OverflowError of reading a part of the plan (a wrong type, a number out of
 * range), as a ValueError saying where; other errors (MemoryError) stay as they are. Returns -1. */
static int plan_part_error(const char *where, Py_ssize_t index) {
    if (!PyErr_ExceptionMatches(PyExc_TypeError) && !PyErr_ExceptionMatches(PyExc_OverflowError) &&
        !PyErr_ExceptionMatches(PyExc_ValueError))
        return -1;
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (where)
        PyErr_Format(PyExc_ValueError, "plan: %s %zd: %S", where, index, value ? value : Py_None);
    else
        PyErr_Format(PyExc_ValueError, "plan: %S", value ? value : Py_None);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    return -1;
}

/* A character JSON writes as it is (json.dumps escapes the others). */
static int json_safe(Py_UCS4 ch) { return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\'; }

static int class_json_safe(const uint8_t bits[16]) {
    for (int ch = 0; ch < 128; ch++)
        if ((bits[ch >> 3] >> (ch & 7)) & 1 && !json_safe((Py_UCS4)ch)) return 0;
    return 1;
}

static int text_json_safe(PyObject *text) {
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(text); i++)
        if (!json_safe(PyUnicode_READ_CHAR(text, i))) return 0;
    return 1;
}

static int is_text(PyObject *value) { return PyUnicode_Check(value); }

/* 1 when test(value) holds for every value of the set, 0 when not, -1 error. */
static int all_values(PyObject *set, int (*test)(PyObject *)) {
    PyObject *iterator = PyObject_GetIter(set), *value;
    if (!iterator) return -1;
    int all = 1;
    while (all && (value = PyIter_Next(iterator))) {
        all = test(value);
        Py_DECREF(value);
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : all;
}

static int copy_bits(PyObject *bytes, uint8_t out[16], Py_ssize_t i) {
    if (!PyBytes_Check(bytes) || PyBytes_GET_SIZE(bytes) != 16)
        return plan_error("field", i, "a character class is 16 bytes");
    memcpy(out, PyBytes_AS_STRING(bytes), 16);
    return 0;
}

/* A frozenset of str, or -1. */
static int check_allowed(PyObject *allowed, Py_ssize_t i) {
    if (!PyFrozenSet_Check(allowed)) return plan_error("field", i, "allowed values are a frozenset or None");
    int all_text = all_values(allowed, is_text);
    if (all_text < 0) return -1;
    return all_text ? 0 : plan_error("field", i, "allowed values are str");
}

static int read_bound(PyObject *value, double *out, double none, Py_ssize_t i) {
    if (value == Py_None) {
        *out = none;
        return 0;
    }
    if (!PyFloat_Check(value) && !PyLong_Check(value)) return plan_error("field", i, "a bound is a number or None");
    *out = PyFloat_AsDouble(value);
    if (*out == -1.0 && PyErr_Occurred()) return plan_part_error("field", i);
    if (isnan(*out)) return plan_error("field", i, "a bound is not NaN");
    return 0;
}

/* One row of the fields table into the plan, checked on its own; slot_field: the field of each slot. */
static int plan_field(Plan *plan, PyObject *row, Py_ssize_t i, const FieldPlan *slot_field[MAX_SLOTS]) {
    int message, number, kind, slot, required, child;
    Py_ssize_t min_len, max_len, max_items;
    PyObject *first, *rest, *allowed, *lo, *hi;
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != FIELD_ITEMS)
        return plan_error("field", i, "a field is a tuple of %d items", FIELD_ITEMS);
    if (!PyArg_ParseTuple(row, "iiiiinnOOOnOOi", &message, &number, &kind, &slot, &required, &min_len, &max_len,
                          &first, &rest, &allowed, &max_items, &lo, &hi, &child))
        return plan_part_error("field", i);
    if (message < 0 || message >= MAX_MESSAGES)
        return plan_error("field", i, "message %d is outside 0..%d", message, MAX_MESSAGES - 1);
    if (number < 1 || number >= MAX_FIELD)
        return plan_error("field", i, "field number %d is outside 1..%d", number, MAX_FIELD - 1);
    if (kind <= K_NONE || kind > K_STRUCT)
        return plan_error("field", i, "kind %d is not one of 1..%d", kind, K_STRUCT);
    FieldPlan *f = &plan->messages[message].fields[number];
    if (f->kind != K_NONE) return plan_error("field", i, "message %d lists field %d twice", message, number);
    const char *name = kind_names[kind];
    if (required != 0 && required != 1) return plan_error("field", i, "required is 0 or 1, got %d", required);
    if (kind == K_MESSAGE) {
        if (slot != -1) return plan_error("field", i, "a message has no slot of its own (-1), got %d", slot);
        if (child < 1 || child >= MAX_MESSAGES)
            return plan_error("field", i, "a message's child is one of 1..%d, got %d", MAX_MESSAGES - 1, child);
        if (required) return plan_error("field", i, "a required message cannot be checked here");
    } else {
        if (slot < 0 || slot >= MAX_SLOTS)
            return plan_error("field", i, "a %s field's slot is one of 0..%d, got %d", name, MAX_SLOTS - 1, slot);
        if (slot_field[slot]) return plan_error("field", i, "slot %d is another field's", slot);
        if (child != -1) return plan_error("field", i, "only a message has a child (-1), got %d", child);
    }
    if (min_len < 0 || max_len < 0 || max_items < 0)
        return plan_error("field", i, "min_len, max_len and max_items are not negative");
    int text = kind == K_STRING || kind == K_STRINGS;
    if (!text && (min_len || max_len || first != Py_None || rest != Py_None || allowed != Py_None))
        return plan_error("field", i, "a %s field has no text rules (lengths, classes, allowed values)", name);
    if (max_len && min_len > max_len)
        return plan_error("field", i, "min_len %zd is above max_len %zd", min_len, max_len);
    if ((first == Py_None) != (rest == Py_None))
        return plan_error("field", i, "the first and the other characters' classes come together");
    if (max_items && kind != K_STRINGS) return plan_error("field", i, "a %s field has no max_items", name);
    if ((lo != Py_None || hi != Py_None) && kind != K_DOUBLE && kind != K_INT32)
        return plan_error("field", i, "a %s field has no bounds", name);
    if (first != Py_None) {
        if (copy_bits(first, f->first, i) < 0 || copy_bits(rest, f->rest, i) < 0) return -1;
        f->has_pattern = 1;
    }
    if (allowed != Py_None) {
        if (check_allowed(allowed, i) < 0) return -1;
        f->allowed = Py_NewRef(allowed);
    }
    if (lo != Py_None || hi != Py_None) {
        if (read_bound(lo, &f->lo, -INFINITY, i) < 0 || read_bound(hi, &f->hi, INFINITY, i) < 0) return -1;
        if (f->lo > f->hi) return plan_error("field", i, "the lower bound is above the upper one");
        f->has_bounds = 1;
    }
    f->kind = kind;
    f->slot = slot;
    f->required = required;
    f->child = child;
    f->min_len = min_len;
    f->max_len = max_len;
    f->max_items = max_items;
    if (slot >= 0) {
        slot_field[slot] = f;
        if (slot >= plan->nslots) plan->nslots = slot + 1;
    }
    return 0;
}

/* The messages form a tree under message 0 (the event): each child of one field, none of them
 * message 0, each reached from message 0. So read_message recurses at most MAX_MESSAGES deep
 * and no message's fields are left unreachable. */
static int check_messages(const Plan *plan) {
    int parent[MAX_MESSAGES], used[MAX_MESSAGES] = {0}, reached[MAX_MESSAGES] = {1};
    for (int m = 0; m < MAX_MESSAGES; m++) parent[m] = -1;
    for (int m = 0; m < MAX_MESSAGES; m++) {
        for (int number = 1; number < MAX_FIELD; number++) {
            const FieldPlan *f = &plan->messages[m].fields[number];
            if (f->kind != K_NONE) used[m] = 1;
            if (f->kind != K_MESSAGE) continue;
            if (parent[f->child] != -1)
                return plan_error(NULL, 0, "message %d is the child of two fields", f->child);
            parent[f->child] = m;
            used[f->child] = 1;
        }
    }
    for (int depth = 0; depth < MAX_MESSAGES; depth++)
        for (int m = 0; m < MAX_MESSAGES; m++)
            for (int number = 1; reached[m] && number < MAX_FIELD; number++) {
                const FieldPlan *f = &plan->messages[m].fields[number];
                if (f->kind == K_MESSAGE) reached[f->child] = 1;
            }
    for (int m = 1; m < MAX_MESSAGES; m++)
        if (used[m] && !reached[m])
            return plan_error(NULL, 0, "message %d is not reached from message 0 (a cycle, or no field leads to it)", m);
    return 0;
}

static int plan_columns(Plan *plan, PyObject *columns, const FieldPlan *slot_field[MAX_SLOTS]) {
    if (PyTuple_GET_SIZE(columns) > MAX_COLUMNS)
        return plan_error(NULL, 0, "%zd columns, at most %d", PyTuple_GET_SIZE(columns), MAX_COLUMNS);
    plan->ncolumns = (int)PyTuple_GET_SIZE(columns);
    for (int i = 0; i < plan->ncolumns; i++) {
        PyObject *item = PyTuple_GET_ITEM(columns, i);
        if (!PyLong_Check(item)) return plan_error("column", i, "a column is an int");
        long source = PyLong_AsLong(item);
        if (source == -1 && PyErr_Occurred()) return plan_part_error("column", i);
        if (source < -3 || source >= MAX_SLOTS || (source >= 0 && !slot_field[source]))
            return plan_error("column", i, "%ld is neither a field's slot nor -1, -2, -3", source);
        plan->columns[i] = (int)source;
    }
    return 0;
}

/* A property's prefix: b'"key": ' with a key JSON writes as it is. */
static int prefix_ok(PyObject *prefix) {
    const char *text = PyBytes_AS_STRING(prefix);
    Py_ssize_t n = PyBytes_GET_SIZE(prefix);
    if (n < 5 || text[0] != '"' || memcmp(text + n - 3, "\": ", 3) != 0) return 0;
    for (Py_ssize_t i = 1; i < n - 3; i++)
        if (!json_safe((unsigned char)text[i])) return 0;
    return 1;
}

static int plan_props(Plan *plan, PyObject *props, const FieldPlan *slot_field[MAX_SLOTS]) {
    if (PyTuple_GET_SIZE(props) > MAX_PROPS)
        return plan_error(NULL, 0, "%zd properties, at most %d", PyTuple_GET_SIZE(props), MAX_PROPS);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(props); i++) {
        PyObject *row = PyTuple_GET_ITEM(props, i), *prefix;
        int slot, format;
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 3)
            return plan_error("property", i, "a property is a tuple (prefix, slot, format)");
        if (!PyArg_ParseTuple(row, "O!iC", &PyBytes_Type, &prefix, &slot, &format))
            return plan_part_error("property", i);
        if (!prefix_ok(prefix)) return plan_error("property", i, "the prefix is not b'\"key\": '");
        for (int j = 0; j < plan->nprops; j++)
            if (PyObject_RichCompareBool(plan->prop_prefix[j], prefix, Py_EQ) == 1)
                return plan_error("property", i, "its key is another property's");
        if (slot < 0 || slot >= MAX_SLOTS || !slot_field[slot])
            return plan_error("property", i, "slot %d is no field's", slot);
        const FieldPlan *f = slot_field[slot];
        int expected = format == 's' ? K_STRING : format == 'i' ? K_INT32 : format == 'f' ? K_DOUBLE
                     : format == 'j' ? K_STRUCT : K_NONE;
        if (expected == K_NONE) return plan_error("property", i, "format is one of s, i, f, j");
        if (f->kind != expected)
            return plan_error("property", i, "format '%c' does not write a %s field", format, kind_names[f->kind]);
        if (format == 's') {
            /* Written between quotes as it is: its rules must keep out what JSON escapes. */
            int safe = f->has_pattern && class_json_safe(f->first) && class_json_safe(f->rest);
            if (!safe && f->allowed && (safe = all_values(f->allowed, text_json_safe)) < 0) return -1;
            if (!safe) return plan_error("property", i, "its text may hold characters JSON escapes");
        }
        plan->prop_prefix[plan->nprops] = Py_NewRef(prefix);
        plan->prop_slot[plan->nprops] = slot;
        plan->prop_format[plan->nprops] = (char)format;
        plan->nprops++;
    }
    return 0;
}

/* compile(fields, columns, props, extras_keys, extras_max_string, contact_check)
 * fields: (message, number, kind, slot, required, min_len, max_len, first|None, rest|None,
 *          allowed|None, max_items, lo|None, hi|None, child)
 * columns: a slot each, or -1 received_at, -2 the props JSON, -3 None
 * props: (b'"key": ', slot, format) with format 's', 'i', 'f' or 'j' (JSON text) */
static PyObject *compile_plan(PyObject *self, PyObject *args) {
    PyObject *fields, *columns, *props, *extras_keys, *contact_check;
    Py_ssize_t extras_max_string;
    if (!PyArg_ParseTuple(args, "O!O!O!O!nO", &PyTuple_Type, &fields, &PyTuple_Type, &columns,
                          &PyTuple_Type, &props, &PyFrozenSet_Type, &extras_keys,
                          &extras_max_string, &contact_check)) {
        plan_part_error(NULL, 0);
        return NULL;
    }
    if (extras_max_string < 0 || !PyCallable_Check(contact_check)) {
        plan_error(NULL, 0, "extras_max_string is not negative and contact_check is callable");
        return NULL;
    }
    Plan *plan = PyMem_Calloc(1, sizeof(Plan));
    if (!plan) return PyErr_NoMemory();
    plan->extras_keys = Py_NewRef(extras_keys);
    plan->contact_check = Py_NewRef(contact_check);
    plan->extras_max_string = extras_max_string;
    const FieldPlan *slot_field[MAX_SLOTS] = {NULL};
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fields); i++)
        if (plan_field(plan, PyTuple_GET_ITEM(fields, i), i, slot_field) < 0) goto fail;
    if (check_messages(plan) < 0 || plan_columns(plan, columns, slot_field) < 0 ||
        plan_props(plan, props, slot_field) < 0)
        goto fail;
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
