/* PostgreSQL's binary COPY format for rows of a few column types, in one pass.
 *
 * Used through common/pg_copy.py. asyncpg encodes COPY rows value by value through its codec
 * table (and ours for timestamptz, in Python); for the events writer's bulk loads that was a
 * quarter of the service's CPU. This writes the whole stream (header, tuples, trailer) for
 * column types given as one letter each:
 *   t text   j jsonb   A text[]   T timestamptz (aware datetime)   r real   d double precision
 * None is NULL in any column. A value of another Python type raises TypeError: the caller
 * then lets asyncpg encode (and explain) it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sv_buffer.h"

#define TEXT_OID 25

static int put_u16(Buffer *b, uint16_t v) {
    uint8_t bytes[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return buffer_add(b, bytes, 2);
}

static int put_u32(Buffer *b, uint32_t v) {
    uint8_t bytes[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return buffer_add(b, bytes, 4);
}

static int put_u64(Buffer *b, uint64_t v) {
    return put_u32(b, (uint32_t)(v >> 32)) < 0 ? -1 : put_u32(b, (uint32_t)v);
}

static int type_error(const char *column_type, PyObject *value) {
    PyErr_Format(PyExc_TypeError, "COPY %s: unexpected %.100s", column_type, Py_TYPE(value)->tp_name);
    return -1;
}

static int put_text(Buffer *b, PyObject *value, int jsonb) {
    if (!PyUnicode_Check(value)) return type_error(jsonb ? "jsonb" : "text", value);
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(value, &n);
    if (!utf8) return -1;
    if (n + jsonb > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "COPY: value too long");
        return -1;
    }
    if (put_u32(b, (uint32_t)(n + jsonb)) < 0) return -1;
    if (jsonb && buffer_add(b, "\x01", 1) < 0) return -1; /* jsonb's binary format: version 1, then text */
    return buffer_add(b, utf8, n);
}

static int put_text_array(Buffer *b, PyObject *value) {
    if (!PyList_Check(value) && !PyTuple_Check(value)) return type_error("text[]", value);
    PyObject *items = PySequence_Fast(value, "");
    if (!items) return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    PyObject **item = PySequence_Fast_ITEMS(items);
    Py_ssize_t start = b->len;
    int has_null = 0, status = put_u32(b, 0); /* the length, filled in below */
    if (status == 0 && count == 0) { /* an empty array: no dimensions */
        status = put_u32(b, 0) < 0 || put_u32(b, 0) < 0 || put_u32(b, TEXT_OID) < 0 ? -1 : 0;
    } else if (status == 0) {
        for (Py_ssize_t i = 0; i < count; i++) has_null |= item[i] == Py_None;
        status = put_u32(b, 1) < 0 || put_u32(b, has_null) < 0 || put_u32(b, TEXT_OID) < 0 ||
                         put_u32(b, (uint32_t)count) < 0 || put_u32(b, 1) < 0
                     ? -1
                     : 0;
        for (Py_ssize_t i = 0; i < count && status == 0; i++)
            status = item[i] == Py_None ? put_u32(b, UINT32_MAX) : put_text(b, item[i], 0);
    }
    Py_DECREF(items);
    if (status < 0) return -1;
    uint32_t size = (uint32_t)(b->len - start - 4);
    uint8_t bytes[4] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size};
    memcpy(b->data + start, bytes, 4);
    return 0;
}

#define PG_EPOCH_DAYS 10957 /* 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01 */

static int put_timestamptz(Buffer *b, PyObject *value) {
    if (!PyDateTime_Check(value)) return type_error("timestamptz", value);
    PyObject *tz = PyDateTime_DATE_GET_TZINFO(value);
    int64_t offset_us = 0;
    if (tz == Py_None) return type_error("timestamptz (naive)", value);
    if (tz != PyDateTime_TimeZone_UTC) {
        PyObject *offset = PyObject_CallMethod(value, "utcoffset", NULL);
        if (!offset) return -1;
        if (!PyDelta_Check(offset)) {
            Py_DECREF(offset);
            return type_error("timestamptz (no offset)", value);
        }
        offset_us = ((int64_t)PyDateTime_DELTA_GET_DAYS(offset) * 86400 + PyDateTime_DELTA_GET_SECONDS(offset)) *
                        1000000 +
                    PyDateTime_DELTA_GET_MICROSECONDS(offset);
        Py_DECREF(offset);
    }
    int64_t days = days_from_civil(PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value),
                                   PyDateTime_GET_DAY(value)) -
                   PG_EPOCH_DAYS;
    int64_t micros = ((days * 24 + PyDateTime_DATE_GET_HOUR(value)) * 60 + PyDateTime_DATE_GET_MINUTE(value)) *
                         60 * INT64_C(1000000) +
                     (int64_t)PyDateTime_DATE_GET_SECOND(value) * 1000000 +
                     PyDateTime_DATE_GET_MICROSECOND(value) - offset_us;
    return put_u32(b, 8) < 0 ? -1 : put_u64(b, (uint64_t)micros);
}

static int put_float(Buffer *b, PyObject *value, int real) {
    if (!PyFloat_Check(value) && !PyLong_Check(value)) return type_error(real ? "real" : "double", value);
    double v = PyFloat_AsDouble(value);
    if (v == -1.0 && PyErr_Occurred()) return -1;
    if (real) {
        float f = (float)v;
        uint32_t bits;
        if (isinf(f) && !isinf(v)) {
            PyErr_SetString(PyExc_OverflowError, "COPY real: value out of range");
            return -1;
        }
        memcpy(&bits, &f, 4);
        return put_u32(b, 4) < 0 ? -1 : put_u32(b, bits);
    }
    uint64_t bits;
    memcpy(&bits, &v, 8);
    return put_u32(b, 8) < 0 ? -1 : put_u64(b, bits);
}

/* encode(rows, types) -> bytes: the COPY ... FROM STDIN (FORMAT binary) stream of the rows. */
static PyObject *encode(PyObject *self, PyObject *args) {
    PyObject *rows;
    const char *types;
    Py_ssize_t ncolumns;
    if (!PyArg_ParseTuple(args, "Os#", &rows, &types, &ncolumns)) return NULL;
    PyObject *sequence = PySequence_Fast(rows, "rows must be a sequence of tuples");
    if (!sequence) return NULL;
    Buffer b = {0};
    static const char header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0"; /* signature, flags, extension */
    int status = buffer_add(&b, header, 19);
    Py_ssize_t nrows = PySequence_Fast_GET_SIZE(sequence);
    PyObject **row = PySequence_Fast_ITEMS(sequence);
    for (Py_ssize_t r = 0; r < nrows && status == 0; r++) {
        if (!PyTuple_Check(row[r]) || PyTuple_GET_SIZE(row[r]) != ncolumns) {
            PyErr_Format(PyExc_TypeError, "COPY: row %zd is not a tuple of %zd values", r, ncolumns);
            status = -1;
            break;
        }
        status = put_u16(&b, (uint16_t)ncolumns);
        for (Py_ssize_t c = 0; c < ncolumns && status == 0; c++) {
            PyObject *value = PyTuple_GET_ITEM(row[r], c);
            if (value == Py_None) {
                status = put_u32(&b, UINT32_MAX); /* -1: NULL */
                continue;
            }
            switch (types[c]) {
            case 't': status = put_text(&b, value, 0); break;
            case 'j': status = put_text(&b, value, 1); break;
            case 'A': status = put_text_array(&b, value); break;
            case 'T': status = put_timestamptz(&b, value); break;
            case 'r': status = put_float(&b, value, 1); break;
            case 'd': status = put_float(&b, value, 0); break;
            default:
                PyErr_Format(PyExc_ValueError, "COPY: unknown column type %c", types[c]);
                status = -1;
            }
        }
    }
    if (status == 0) status = put_u16(&b, UINT16_MAX); /* the trailer: -1 */
    Py_DECREF(sequence);
    PyObject *out = status == 0 ? PyBytes_FromStringAndSize(b.data, b.len) : NULL;
    PyMem_Free(b.data);
    return out;
}

static PyMethodDef methods[] = {
    {"encode", encode, METH_VARARGS, "The binary COPY stream of rows, for column types given as letters."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pg_copy", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__pg_copy(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    return PyModule_Create(&module);
}
