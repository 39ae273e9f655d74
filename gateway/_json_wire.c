/* The hot routes' JSON bodies, compiled: JSON bytes -> the request message's protobuf wire bytes.
 *
 * Used through gateway/wire_plan.py, which builds the plan (per message: JSON key -> field
 * number, wire kind, integer range, nested message) from the same descriptor plan as
 * fast_transcode.py. This file knows JSON and the protobuf wire format, not the contract.
 *
 * It only ever says "here are the wire bytes" or "not sure" (None): for anything unusual
 * (a parser error, an unknown key, a null, a value of another JSON type than its field's,
 * a duplicate key, a non-finite number, an integer out of range or past 2**53 where a double
 * is wanted, invalid UTF-8, a lone surrogate, nesting deeper than MAX_DEPTH, ...) the caller
 * runs the Python transcoders, which stay the reference. So it must never accept a body they
 * refuse, and the message parsed from its bytes must equal theirs:
 * tests/gateway/test_fast_transcode.py compares them on generated and damaged bodies.
 *
 * Length-delimited fields are written with a one-byte length first and moved forward when
 * the content turns out longer than 127 bytes (rare but for the outer messages, and cheap).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sv_buffer.h"

#define MAX_MESSAGES 32
#define MAX_FIELDS 64      /* per message: the seen-set is one uint64_t */
#define MAX_KEYS 128       /* per message: proto names and json names */
#define HASH_SLOTS 256     /* power of two, > 2 * MAX_KEYS */
/* Objects and arrays nested from the body's top: a Struct directly in the request then holds
 * at most 24 levels, fast_transcode.py's bound, so this path never takes a deeper one. */
#define MAX_DEPTH 26
#define MAX_STRUCT_KEYS 256
#define MAX_NUMBER 64      /* characters of a number converted to a double */

/* Kinds, as in wire_plan.py. */
enum kind { K_UNPLANNED = 0, K_STRING, K_BOOL, K_VARINT, K_ZIGZAG, K_FIXED32, K_FIXED64, K_DOUBLE,
            K_MESSAGE, K_STRUCT, K_COUNT };

enum { OK = 0, UNSURE = 1, ERROR = -1 }; /* ERROR: a Python exception is set */

typedef struct {
    int kind, repeated, child;
    uint8_t tag[5]; /* the field's key, as a varint */
    int tag_len;
    uint64_t neg_max, pos_max; /* integers: the magnitudes allowed below and above zero */
} Field;

typedef struct {
    PyObject *key; /* bytes, or NULL: an empty slot */
    int field;
} Slot;

typedef struct {
    int nfields;
    Field fields[MAX_FIELDS];
    Slot slots[HASH_SLOTS];
} Message;

typedef struct {
    int nmessages, root;
    uint8_t wrapper[5]; /* the body field's key, when the body is one field of the request */
    int wrapper_len;
    Message messages[];
} Plan;

/* ---------- the plan, from Python ---------- */

static void plan_free(Plan *plan) {
    for (int m = 0; m < plan->nmessages; m++)
        for (int i = 0; i < HASH_SLOTS; i++) Py_CLEAR(plan->messages[m].slots[i].key);
    PyMem_Free(plan);
}

static void plan_capsule_free(PyObject *capsule) {
    Plan *plan = PyCapsule_GetPointer(capsule, "json_wire.plan");
    if (plan) plan_free(plan);
}

static uint32_t hash_key(const char *key, Py_ssize_t len) { /* FNV-1a */
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < len; i++) h = (h ^ (uint8_t)key[i]) * 16777619u;
    return h;
}

static int put_varint_at(uint8_t *at, uint64_t value) {
    int n = 0;
    while (value >= 0x80) {
        at[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    at[n++] = (uint8_t)value;
    return n;
}

static const int wire_types[K_COUNT] = {
    [K_STRING] = 2, [K_BOOL] = 0, [K_VARINT] = 0, [K_ZIGZAG] = 0, [K_FIXED32] = 5,
    [K_FIXED64] = 1, [K_DOUBLE] = 1, [K_MESSAGE] = 2, [K_STRUCT] = 2,
};

static int field_number_ok(long number) { return number >= 1 && number <= 536870911 && !(number >= 19000 && number <= 19999); }

static int compile_message(Plan *plan, Message *m, Py_ssize_t index, PyObject *row) {
    PyObject *fields, *keys;
    if (!PyArg_ParseTuple(row, "OO", &fields, &keys)) return -1;
    PyObject *fseq = PySequence_Fast(fields, "plan: a message's fields must be a sequence");
    if (!fseq) return -1;
    Py_ssize_t nfields = PySequence_Fast_GET_SIZE(fseq);
    if (nfields > MAX_FIELDS) {
        Py_DECREF(fseq);
        PyErr_Format(PyExc_ValueError, "plan: message %zd has more than %d fields", index, MAX_FIELDS);
        return -1;
    }
    m->nfields = (int)nfields;
    for (Py_ssize_t i = 0; i < nfields; i++) {
        Field *f = &m->fields[i];
        long number;
        int repeated;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fseq, i), "lipiKK", &number, &f->kind, &repeated, &f->child,
                              &f->neg_max, &f->pos_max)) {
            Py_DECREF(fseq);
            return -1;
        }
        f->repeated = repeated;
        if (f->kind < 0 || f->kind >= K_COUNT || !field_number_ok(number) ||
            (f->kind == K_MESSAGE && (f->child < 0 || f->child >= plan->nmessages)) ||
            (f->kind == K_STRUCT && f->repeated)) {
            Py_DECREF(fseq);
            PyErr_Format(PyExc_ValueError, "plan: message %zd, field %zd: bad number, kind or child", index, i);
            return -1;
        }
        f->tag_len = put_varint_at(f->tag, ((uint64_t)number << 3) | (uint64_t)wire_types[f->kind]);
    }
    Py_DECREF(fseq);

    PyObject *kseq = PySequence_Fast(keys, "plan: a message's keys must be a sequence");
    if (!kseq) return -1;
    Py_ssize_t nkeys = PySequence_Fast_GET_SIZE(kseq);
    if (nkeys > MAX_KEYS) {
        Py_DECREF(kseq);
        PyErr_Format(PyExc_ValueError, "plan: message %zd has more than %d keys", index, MAX_KEYS);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nkeys; i++) {
        PyObject *key;
        int field;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(kseq, i), "O!i", &PyBytes_Type, &key, &field)) {
            Py_DECREF(kseq);
            return -1;
        }
        if (field < 0 || field >= m->nfields) {
            Py_DECREF(kseq);
            PyErr_Format(PyExc_ValueError, "plan: message %zd, key %zd: no field %d", index, i, field);
            return -1;
        }
        uint32_t slot = hash_key(PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key)) & (HASH_SLOTS - 1);
        while (m->slots[slot].key) {
            PyObject *other = m->slots[slot].key;
            if (PyBytes_GET_SIZE(other) == PyBytes_GET_SIZE(key) &&
                !memcmp(PyBytes_AS_STRING(other), PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key))) {
                Py_DECREF(kseq);
                PyErr_Format(PyExc_ValueError, "plan: message %zd: key %R twice", index, key);
                return -1;
            }
            slot = (slot + 1) & (HASH_SLOTS - 1);
        }
        m->slots[slot].key = Py_NewRef(key);
        m->slots[slot].field = field;
    }
    Py_DECREF(kseq);
    return 0;
}

/* compile(messages, root, wrapper_number): messages[i] = (fields, keys), fields[j] = (number,
 * kind, repeated, child message or -1, neg_max, pos_max), keys[k] = (bytes, field index). */
static PyObject *compile_plan(PyObject *self, PyObject *args) {
    PyObject *messages;
    int root;
    long wrapper;
    if (!PyArg_ParseTuple(args, "Oil", &messages, &root, &wrapper)) return NULL;
    PyObject *seq = PySequence_Fast(messages, "plan: messages must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n < 1 || n > MAX_MESSAGES || root < 0 || root >= n || (wrapper && !field_number_ok(wrapper))) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "plan: 1 to %d messages, a root among them, a valid wrapper field", MAX_MESSAGES);
        return NULL;
    }
    Plan *plan = PyMem_Calloc(1, sizeof(Plan) + (size_t)n * sizeof(Message));
    if (!plan) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    plan->nmessages = (int)n;
    plan->root = root;
    plan->wrapper_len = wrapper ? put_varint_at(plan->wrapper, ((uint64_t)wrapper << 3) | 2) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (compile_message(plan, &plan->messages[i], i, PySequence_Fast_GET_ITEM(seq, i)) < 0) {
            Py_DECREF(seq);
            plan_free(plan);
            return NULL;
        }
    }
    Py_DECREF(seq);
    PyObject *capsule = PyCapsule_New(plan, "json_wire.plan", plan_capsule_free);
    if (!capsule) plan_free(plan);
    return capsule;
}

/* ---------- writing ---------- */

typedef struct {
    const uint8_t *p, *end;
    Buffer out;
    Buffer keys; /* the decoded keys of the Struct objects being read, for their duplicate check */
    int depth;
    const Plan *plan;
} State;

static inline int put(Buffer *b, const void *data, Py_ssize_t n) { return buffer_add(b, data, n); }

static inline int put_byte(Buffer *b, uint8_t byte) {
    if (buffer_reserve(b, 1)) return ERROR;
    b->data[b->len++] = (char)byte;
    return OK;
}

static inline int put_varint(Buffer *b, uint64_t value) {
    if (buffer_reserve(b, 10)) return ERROR;
    b->len += put_varint_at((uint8_t *)b->data + b->len, value);
    return OK;
}

static inline int put_fixed(Buffer *b, uint64_t bits, int size) {
    if (buffer_reserve(b, size)) return ERROR;
    for (int i = 0; i < size; i++) b->data[b->len++] = (char)(bits >> (8 * i));
    return OK;
}

static inline int put_double(Buffer *b, double value) {
    uint64_t bits;
    memcpy(&bits, &value, 8);
    return put_fixed(b, bits, 8);
}

/* A length-delimited field's content starts: one byte kept for its length. */
static inline int open_len(Buffer *b, Py_ssize_t *at) {
    if (buffer_reserve(b, 1)) return ERROR;
    *at = b->len++;
    return OK;
}

/* ... and ends: its length written, the content moved forward when it needs more than a byte. */
static int close_len(Buffer *b, Py_ssize_t at) {
    Py_ssize_t n = b->len - at - 1;
    if (n < 0x80) {
        b->data[at] = (char)n;
        return OK;
    }
    uint8_t varint[10];
    int size = put_varint_at(varint, (uint64_t)n);
    if (buffer_reserve(b, size - 1)) return ERROR;
    memmove(b->data + at + size, b->data + at + 1, n);
    memcpy(b->data + at, varint, size);
    b->len += size - 1;
    return OK;
}

/* ---------- reading JSON ---------- */

#define TRY(call)                     \
    do {                              \
        int status_ = (call);         \
        if (status_ != OK) return status_; \
    } while (0)

static inline void skip_ws(State *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

/* The next byte after white space, or 0 at the end. */
static inline int peek(State *s) {
    skip_ws(s);
    return s->p < s->end ? *s->p : 0;
}

static inline int expect(State *s, uint8_t byte) {
    if (peek(s) != byte) return UNSURE;
    s->p++;
    return OK;
}

static int literal(State *s, const char *word, Py_ssize_t len) {
    if (s->end - s->p < len || memcmp(s->p, word, len)) return UNSURE;
    s->p += len;
    return OK;
}

/* Bytes a JSON string holds as they are: printable ASCII but '"' and '\\'. */
static uint8_t plain[256];

static int hex4(const uint8_t *p, uint32_t *value) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint32_t)d;
    }
    *value = v;
    return 1;
}

/* The length of the well-formed UTF-8 sequence at p (Unicode table 3-7), or 0. */
static int utf8_length(const uint8_t *p, const uint8_t *end) {
    uint8_t c = p[0];
    int n;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (end - p < n || p[1] < lo || p[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

static int put_code_point(Buffer *b, uint32_t cp) {
    uint8_t u[4];
    int n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xC0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xE0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xF0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return put(b, u, n);
}

/* The JSON string at s->p, decoded to UTF-8 at the end of b. */
static int read_string(State *s, Buffer *b) {
    if (s->p >= s->end || *s->p != '"') return UNSURE;
    const uint8_t *p = s->p + 1, *end = s->end;
    for (;;) {
        const uint8_t *run = p;
        for (;;) { /* a run of bytes copied as they are: printable ASCII and well-formed UTF-8 */
            while (p < end && plain[*p]) p++;
            if (p >= end || *p < 0x80) break;
            int n = utf8_length(p, end);
            if (!n) return UNSURE;
            p += n;
        }
        if (p >= end) return UNSURE;
        uint8_t c = *p;
        TRY(put(b, run, p - run));
        if (c == '"') {
            s->p = p + 1;
            return OK;
        }
        if (c != '\\' || end - p < 2) return UNSURE; /* a control character, or the end */
        uint8_t e = p[1];
        p += 2;
        uint8_t simple = e == '"' ? '"' : e == '\\' ? '\\' : e == '/' ? '/' : e == 'b' ? '\b' : e == 'f' ? '\f'
                       : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : 0;
        if (simple) {
            TRY(put_byte(b, simple));
            continue;
        }
        uint32_t cp, low;
        if (e != 'u' || end - p < 4 || !hex4(p, &cp)) return UNSURE;
        p += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return UNSURE; /* a lone low surrogate */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &low) || low < 0xDC00 || low > 0xDFFF)
                return UNSURE; /* a lone high surrogate */
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
        }
        TRY(put_code_point(b, cp));
    }
}

/* A key of a planned message: its field, or UNSURE (unknown, escaped, not ASCII). */
static int read_field_key(State *s, const Message *m, int *field) {
    if (s->p >= s->end || *s->p != '"') return UNSURE;
    const uint8_t *key = s->p + 1, *p = key;
    while (p < s->end && plain[*p]) p++;
    if (p >= s->end || *p != '"') return UNSURE; /* the plan's keys are plain ASCII, unescaped */
    Py_ssize_t len = p - key;
    s->p = p + 1;
    uint32_t slot = hash_key((const char *)key, len) & (HASH_SLOTS - 1);
    for (;;) {
        PyObject *planned = m->slots[slot].key;
        if (!planned) return UNSURE;
        if (PyBytes_GET_SIZE(planned) == len && !memcmp(PyBytes_AS_STRING(planned), key, len)) {
            *field = m->slots[slot].field;
            return OK;
        }
        slot = (slot + 1) & (HASH_SLOTS - 1);
    }
}

typedef struct {
    const uint8_t *start;
    Py_ssize_t len;
    int integer;      /* no fraction, no exponent */
    int nonzero;      /* a digit other than 0 in the mantissa */
    int negative;
    uint64_t magnitude; /* integers of up to 19 digits */
    int digits;
} Number;

/* A JSON number's token (RFC 8259 grammar); what follows it is the caller's to check. */
static int read_number(State *s, Number *n) {
    const uint8_t *p = s->p, *end = s->end;
    memset(n, 0, sizeof *n);
    n->start = p;
    n->integer = 1;
    if (p < end && *p == '-') {
        n->negative = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') return UNSURE;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9') {
            if (n->digits < 19) n->magnitude = n->magnitude * 10 + (uint64_t)(*p - '0');
            n->digits++;
            n->nonzero = 1;
            p++;
        }
    if (p < end && *p == '.') {
        n->integer = 0;
        p++;
        if (p >= end || *p < '0' || *p > '9') return UNSURE;
        while (p < end && *p >= '0' && *p <= '9') n->nonzero |= *p++ != '0';
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        n->integer = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return UNSURE;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    n->len = p - n->start;
    s->p = p;
    return OK;
}

#define EXACT_INT (UINT64_C(1) << 53)

/* A number as the double Python's transcoders make of it: integers below 2**53 exactly
 * (-0 is 0, as int(-0) is), others as float() reads them (correctly rounded), finite and
 * not subnormal, or UNSURE. */
static int number_double(const Number *n, double *value) {
    if (n->integer) {
        if (n->digits > 16 || n->magnitude >= EXACT_INT) return UNSURE;
        *value = n->magnitude == 0 ? 0.0 : n->negative ? -(double)n->magnitude : (double)n->magnitude;
        return OK;
    }
    char text[MAX_NUMBER];
    if (n->len >= MAX_NUMBER) return UNSURE;
    memcpy(text, n->start, n->len);
    text[n->len] = 0;
    char *stop;
    double d = PyOS_string_to_double(text, &stop, NULL);
    if (d == -1.0 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError)) return ERROR;
        PyErr_Clear(); /* not a number float() reads: the grammar above should have said so */
        return UNSURE;
    }
    if (stop != text + n->len || !isfinite(d)) return UNSURE;
    if (fabs(d) < 2.2250738585072014e-308 && (d != 0.0 || n->nonzero)) return UNSURE; /* underflow */
    *value = d;
    return OK;
}

/* ---------- messages ---------- */

static int read_object(State *s, const Message *m, int *count);
static int read_struct(State *s);

static int write_integer(State *s, const Field *f) {
    Number n;
    if (peek(s) != '-' && (s->p >= s->end || *s->p < '0' || *s->p > '9')) return UNSURE;
    TRY(read_number(s, &n));
    if (!n.integer || n.digits > 20) return UNSURE;
    uint64_t magnitude = n.magnitude;
    if (n.digits > 19) { /* 20 digits: only the top of uint64 */
        const uint8_t *d = n.start + n.negative;
        if (n.negative || d[0] != '1') return UNSURE;
        uint64_t v = 0;
        for (int i = 0; i < 20; i++) {
            uint64_t digit = (uint64_t)(d[i] - '0');
            if (v > (UINT64_MAX - digit) / 10) return UNSURE;
            v = v * 10 + digit;
        }
        magnitude = v;
    }
    if (n.negative ? magnitude > f->neg_max : magnitude > f->pos_max) return UNSURE;
    uint64_t bits = n.negative ? (uint64_t)0 - magnitude : magnitude; /* two's complement */
    TRY(put(&s->out, f->tag, f->tag_len));
    switch (f->kind) {
    case K_VARINT:
        return put_varint(&s->out, bits);
    case K_ZIGZAG:
        return put_varint(&s->out, n.negative && magnitude ? ((magnitude - 1) << 1) | 1 : magnitude << 1);
    case K_FIXED32:
        return put_fixed(&s->out, bits, 4);
    default:
        return put_fixed(&s->out, bits, 8);
    }
}

/* One value of field f (an item, for a repeated field). */
static int write_value(State *s, const Field *f) {
    Py_ssize_t at;
    int c = peek(s);
    switch (f->kind) {
    case K_STRING:
        if (c != '"') return UNSURE;
        TRY(put(&s->out, f->tag, f->tag_len));
        TRY(open_len(&s->out, &at));
        TRY(read_string(s, &s->out));
        return close_len(&s->out, at);
    case K_BOOL:
        if (c != 't' && c != 'f') return UNSURE;
        TRY(c == 't' ? literal(s, "true", 4) : literal(s, "false", 5));
        TRY(put(&s->out, f->tag, f->tag_len));
        return put_byte(&s->out, c == 't');
    case K_VARINT:
    case K_ZIGZAG:
    case K_FIXED32:
    case K_FIXED64:
        return write_integer(s, f);
    case K_DOUBLE: {
        Number n;
        double d;
        if (c != '-' && (c < '0' || c > '9')) return UNSURE;
        TRY(read_number(s, &n));
        TRY(number_double(&n, &d));
        TRY(put(&s->out, f->tag, f->tag_len));
        return put_double(&s->out, d);
    }
    case K_MESSAGE: {
        int count = 0;
        if (c != '{') return UNSURE;
        TRY(put(&s->out, f->tag, f->tag_len));
        TRY(open_len(&s->out, &at));
        TRY(read_object(s, &s->plan->messages[f->child], &count));
        return close_len(&s->out, at);
    }
    case K_STRUCT:
        if (c != '{') return UNSURE;
        TRY(put(&s->out, f->tag, f->tag_len));
        TRY(open_len(&s->out, &at));
        TRY(read_struct(s));
        return close_len(&s->out, at);
    default:
        return UNSURE;
    }
}

/* The fields of the JSON object at s->p, in m's wire form; *count: its keys. */
static int read_object(State *s, const Message *m, int *count) {
    if (expect(s, '{') != OK || ++s->depth > MAX_DEPTH) return UNSURE;
    uint64_t seen = 0;
    if (peek(s) == '}') {
        s->p++;
        s->depth--;
        return OK;
    }
    for (;;) {
        int index;
        skip_ws(s);
        TRY(read_field_key(s, m, &index));
        uint64_t bit = UINT64_C(1) << index;
        if (seen & bit) return UNSURE; /* a duplicate key, or one field under both its names */
        seen |= bit;
        TRY(expect(s, ':'));
        const Field *f = &m->fields[index];
        if (f->repeated) {
            TRY(expect(s, '['));
            if (++s->depth > MAX_DEPTH) return UNSURE;
            if (peek(s) == ']')
                s->p++;
            else
                for (;;) {
                    TRY(write_value(s, f));
                    int c = peek(s);
                    s->p++;
                    if (c == ']') break;
                    if (c != ',') return UNSURE;
                }
            s->depth--;
        } else
            TRY(write_value(s, f));
        (*count)++;
        int c = peek(s);
        s->p++;
        if (c == '}') break;
        if (c != ',') return UNSURE;
    }
    s->depth--;
    return OK;
}

/* ---------- google.protobuf.Struct, Value, ListValue ---------- */

static int read_list(State *s);

/* The content of the google.protobuf.Value of the JSON value at s->p. */
static int write_json_value(State *s) {
    Buffer *b = &s->out;
    Py_ssize_t at;
    int c = peek(s);
    if (c == '"') {
        TRY(put_byte(b, (3 << 3) | 2)); /* string_value */
        TRY(open_len(b, &at));
        TRY(read_string(s, b));
        return close_len(b, at);
    }
    if (c == 't' || c == 'f') {
        TRY(c == 't' ? literal(s, "true", 4) : literal(s, "false", 5));
        TRY(put_byte(b, 4 << 3)); /* bool_value */
        return put_byte(b, c == 't');
    }
    if (c == 'n') {
        TRY(literal(s, "null", 4));
        TRY(put_byte(b, 1 << 3)); /* null_value: NULL_VALUE (0) */
        return put_byte(b, 0);
    }
    if (c == '{' || c == '[') {
        TRY(put_byte(b, c == '{' ? (5 << 3) | 2 : (6 << 3) | 2)); /* struct_value, list_value */
        TRY(open_len(b, &at));
        TRY(c == '{' ? read_struct(s) : read_list(s));
        return close_len(b, at);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        Number n;
        double d;
        TRY(read_number(s, &n));
        TRY(number_double(&n, &d));
        TRY(put_byte(b, (2 << 3) | 1)); /* number_value */
        return put_double(b, d);
    }
    return UNSURE;
}

/* A ListValue's content: `values` (1), one Value per item. */
static int read_list(State *s) {
    Py_ssize_t at;
    if (expect(s, '[') != OK || ++s->depth > MAX_DEPTH) return UNSURE;
    if (peek(s) == ']') {
        s->p++;
        s->depth--;
        return OK;
    }
    for (;;) {
        TRY(put_byte(&s->out, (1 << 3) | 2));
        TRY(open_len(&s->out, &at));
        TRY(write_json_value(s));
        TRY(close_len(&s->out, at));
        int c = peek(s);
        s->p++;
        if (c == ']') break;
        if (c != ',') return UNSURE;
    }
    s->depth--;
    return OK;
}

/* A Struct's content: `fields` (1), one map entry {key (1), value (2)} per key. Its keys are
 * decoded into s->keys (a length, then the bytes) to find duplicates, and dropped at its end. */
static int read_struct(State *s) {
    Py_ssize_t mark = s->keys.len, at, entry;
    int nkeys = 0;
    if (expect(s, '{') != OK || ++s->depth > MAX_DEPTH) return UNSURE;
    if (peek(s) == '}') {
        s->p++;
        s->depth--;
        return OK;
    }
    for (;;) {
        if (++nkeys > MAX_STRUCT_KEYS) return UNSURE;
        skip_ws(s);
        Py_ssize_t length_at = s->keys.len;
        TRY(buffer_reserve(&s->keys, sizeof(Py_ssize_t)));
        s->keys.len += sizeof(Py_ssize_t);
        TRY(read_string(s, &s->keys));
        Py_ssize_t len = s->keys.len - length_at - (Py_ssize_t)sizeof(Py_ssize_t);
        memcpy(s->keys.data + length_at, &len, sizeof len);
        const char *key = s->keys.data + length_at + sizeof(Py_ssize_t);
        for (Py_ssize_t other = mark; other < length_at;) {
            Py_ssize_t other_len;
            memcpy(&other_len, s->keys.data + other, sizeof other_len);
            other += sizeof other_len;
            if (other_len == len && !memcmp(s->keys.data + other, key, len)) return UNSURE; /* a duplicate key */
            other += other_len;
        }
        TRY(put_byte(&s->out, (1 << 3) | 2));
        TRY(open_len(&s->out, &entry));
        TRY(put_byte(&s->out, (1 << 3) | 2));
        TRY(put_varint(&s->out, (uint64_t)len));
        TRY(put(&s->out, key, len));
        TRY(expect(s, ':'));
        TRY(put_byte(&s->out, (2 << 3) | 2));
        TRY(open_len(&s->out, &at));
        TRY(write_json_value(s));
        TRY(close_len(&s->out, at));
        TRY(close_len(&s->out, entry));
        int c = peek(s);
        s->p++;
        if (c == '}') break;
        if (c != ',') return UNSURE;
    }
    s->keys.len = mark;
    s->depth--;
    return OK;
}

/* ---------- the module ---------- */

/* encode(plan, body): the wire bytes of the request message, or None when not sure. */
static PyObject *encode(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "encode(plan, body)");
        return NULL;
    }
    const Plan *plan = PyCapsule_GetPointer(args[0], "json_wire.plan");
    if (!plan) return NULL;
    if (!PyBytes_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "encode: the body must be bytes");
        return NULL;
    }
    State s = {0};
    s.p = (const uint8_t *)PyBytes_AS_STRING(args[1]);
    s.end = s.p + PyBytes_GET_SIZE(args[1]);
    s.plan = plan;
    PyObject *result = NULL;
    Py_ssize_t at = 0;
    int count = 0, status = buffer_reserve(&s.out, PyBytes_GET_SIZE(args[1]) + 16);
    if (status == OK && plan->wrapper_len) {
        status = put(&s.out, plan->wrapper, plan->wrapper_len);
        if (status == OK) status = open_len(&s.out, &at);
    }
    if (status == OK) status = read_object(&s, &plan->messages[plan->root], &count);
    if (status == OK) {
        skip_ws(&s);
        if (s.p != s.end) status = UNSURE; /* something after the object */
    }
    if (status == OK && plan->wrapper_len) {
        if (count)
            status = close_len(&s.out, at);
        else
            s.out.len = 0; /* `{}` leaves the body field unset */
    }
    if (status == OK)
        result = PyBytes_FromStringAndSize(s.out.data, s.out.len);
    else if (status == UNSURE)
        result = Py_NewRef(Py_None);
    PyMem_Free(s.out.data);
    PyMem_Free(s.keys.data);
    return result;
}

static PyMethodDef methods[] = {
    {"compile", compile_plan, METH_VARARGS, "A plan for encode(), from its tables (see wire_plan.py)."},
    {"encode", (PyCFunction)(void (*)(void))encode, METH_FASTCALL,
     "The request message's wire bytes of a JSON body, or None when not sure."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_json_wire", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__json_wire(void) {
    for (int c = 0x20; c < 0x80; c++) plain[c] = c != '"' && c != '\\';
    return PyModule_Create(&module);
}
