/* C fast path of the record pages' JSON (clusterapi/pages.py holds the pure-Python reference:
 * `record_items` dicts encoded by orjson; tests check that both give identical bytes).
 *
 * render_records(records, head, middle, tail, iso) -> bytes
 *     The `RecordDataItem` JSON objects of ConsumedRecord-like objects (attributes offset,
 *     timestamp_ms, key, value, headers), separated by commas, no brackets. Each object is
 *     head + offset + middle + offset + tail + offset, then the timestamp, key, value and
 *     headers: the caller passes the escaped constant parts (URL, resource name, cluster,
 *     topic, partition). Timestamps outside years 1970-9999 are formatted by `iso(ms)`, and
 *     header names that need JSON escapes are escaped here as orjson escapes them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
} Buffer;

static int reserve(Buffer *b, size_t more) {
    if (b->len + more <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more) cap *= 2;
    char *grown = PyMem_Realloc(b->data, cap);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

static int put(Buffer *b, const char *s, size_t n) {
    if (reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

#define PUT_LITERAL(b, s) put((b), (s), sizeof(s) - 1)

static int put_int(Buffer *b, long long v) {
    char digits[24];
    char *end = digits + sizeof digits, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    return put(b, p, (size_t)(end - p));
}

/* `width` decimal digits of v (0 <= v < 10^width), zero-padded. */
static char *digits_into(char *out, long long v, int width) {
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return out + width;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_base64(Buffer *b, const unsigned char *s, Py_ssize_t n) {
    if (reserve(b, (size_t)((n + 2) / 3) * 4) < 0) return -1;
    char *out = b->data + b->len;
    Py_ssize_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8) | s[i + 2];
        *out++ = B64[v >> 18];
        *out++ = B64[(v >> 12) & 63];
        *out++ = B64[(v >> 6) & 63];
        *out++ = B64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n) v |= (uint32_t)s[i + 1] << 8;
        *out++ = B64[v >> 18];
        *out++ = B64[(v >> 12) & 63];
        *out++ = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        *out++ = '=';
    }
    b->len = (size_t)(out - b->data);
    return 0;
}

/* {"type":"BINARY","size":N,"data":"..."} or null */
static int put_data(Buffer *b, PyObject *raw) {
    if (raw == Py_None) return PUT_LITERAL(b, "null");
    char *s;
    Py_ssize_t n;
    if (PyBytes_AsStringAndSize(raw, &s, &n) < 0) return -1;
    if (PUT_LITERAL(b, "{\"type\":\"BINARY\",\"size\":") < 0 || put_int(b, n) < 0 ||
        PUT_LITERAL(b, ",\"data\":\"") < 0 || put_base64(b, (const unsigned char *)s, n) < 0)
        return -1;
    return PUT_LITERAL(b, "\"}");
}

/* A JSON string as orjson writes it: UTF-8 as is; '"', '\\' and control characters escaped. */
static int put_string(Buffer *b, PyObject *text) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (s == NULL) return -1;
    if (reserve(b, (size_t)n * 6 + 2) < 0) return -1;
    char *out = b->data + b->len;
    *out++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *out++ = '\\';
            *out++ = (char)c;
        } else if (c < 0x20) {
            *out++ = '\\';
            switch (c) {
                case '\b': *out++ = 'b'; break;
                case '\t': *out++ = 't'; break;
                case '\n': *out++ = 'n'; break;
                case '\f': *out++ = 'f'; break;
                case '\r': *out++ = 'r'; break;
                default:
                    out += sprintf(out, "u%04x", c);
            }
        } else {
            *out++ = (char)c;
        }
    }
    *out++ = '"';
    b->len = (size_t)(out - b->data);
    return 0;
}

/* Years 1970-9999 (milliseconds 0 to 253402300799999): "YYYY-MM-DDTHH:MM:SS.mmm+00:00". */
#define MAX_FAST_MS 253402300799999LL

static int put_iso(Buffer *b, long long ms) {
    long long seconds = ms / 1000, millis = ms % 1000;
    long long days = seconds / 86400, rest = seconds % 86400;
    /* civil date from days since 1970-01-01 (proleptic Gregorian) */
    long long z = days + 719468;
    long long era = z / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long day = doy - (153 * mp + 2) / 5 + 1;
    long long month = mp < 10 ? mp + 3 : mp - 9;
    long long year = yoe + era * 400 + (month <= 2);
    char text[29], *p = text;
    p = digits_into(p, year, 4);
    *p++ = '-';
    p = digits_into(p, month, 2);
    *p++ = '-';
    p = digits_into(p, day, 2);
    *p++ = 'T';
    p = digits_into(p, rest / 3600, 2);
    *p++ = ':';
    p = digits_into(p, rest / 60 % 60, 2);
    *p++ = ':';
    p = digits_into(p, rest % 60, 2);
    *p++ = '.';
    p = digits_into(p, millis, 3);
    memcpy(p, "+00:00", 6);
    return put(b, text, sizeof text);
}

/* The record attributes read, interned once: offset, timestamp_ms, key, value, headers. */
enum { F_OFFSET, F_TIMESTAMP, F_KEY, F_VALUE, F_HEADERS, F_COUNT };
static const char *const FIELD_NAMES[F_COUNT] = {"offset", "timestamp_ms", "key", "value",
                                                 "headers"};
static PyObject *fields[F_COUNT];

static int put_record(Buffer *b, PyObject *record, const char *head, Py_ssize_t head_n,
                      const char *middle, Py_ssize_t middle_n, const char *tail,
                      Py_ssize_t tail_n, PyObject *iso) {
    int status = -1;
    PyObject *offset = NULL, *stamp = NULL, *key = NULL, *value = NULL, *headers = NULL,
             *headers_seq = NULL;
    offset = PyObject_GetAttr(record, fields[F_OFFSET]);
    stamp = offset ? PyObject_GetAttr(record, fields[F_TIMESTAMP]) : NULL;
    key = stamp ? PyObject_GetAttr(record, fields[F_KEY]) : NULL;
    value = key ? PyObject_GetAttr(record, fields[F_VALUE]) : NULL;
    headers = value ? PyObject_GetAttr(record, fields[F_HEADERS]) : NULL;
    if (headers == NULL) goto done;
    long long off = PyLong_AsLongLong(offset);
    if (off == -1 && PyErr_Occurred()) goto done;
    long long ms = PyLong_AsLongLong(stamp);
    if (ms == -1 && PyErr_Occurred()) goto done;
    if (put(b, head, (size_t)head_n) < 0 || put_int(b, off) < 0 ||
        put(b, middle, (size_t)middle_n) < 0 || put_int(b, off) < 0 ||
        put(b, tail, (size_t)tail_n) < 0 || put_int(b, off) < 0 ||
        PUT_LITERAL(b, ",\"timestamp\":\"") < 0)
        goto done;
    if (ms >= 0 && ms <= MAX_FAST_MS) {
        if (put_iso(b, ms) < 0) goto done;
    } else {
        PyObject *text = PyObject_CallOneArg(iso, stamp);
        if (text == NULL) goto done;
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(text, &n);
        int failed = s == NULL || put(b, s, (size_t)n) < 0;
        Py_DECREF(text);
        if (failed) goto done;
    }
    if (PUT_LITERAL(b, "\",\"timestamp_ms\":") < 0 || put_int(b, ms) < 0 ||
        PUT_LITERAL(b, ",\"key\":") < 0 || put_data(b, key) < 0 ||
        PUT_LITERAL(b, ",\"value\":") < 0 || put_data(b, value) < 0 ||
        PUT_LITERAL(b, ",\"headers\":[") < 0)
        goto done;
    headers_seq = PySequence_Fast(headers, "headers must be a sequence");
    if (headers_seq == NULL) goto done;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers_seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(headers_seq, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "a header is a (name, value) pair");
            goto done;
        }
        char *raw;
        Py_ssize_t raw_n;
        if ((i && PUT_LITERAL(b, ",") < 0) || PUT_LITERAL(b, "{\"name\":") < 0 ||
            put_string(b, PyTuple_GET_ITEM(pair, 0)) < 0 ||
            PyBytes_AsStringAndSize(PyTuple_GET_ITEM(pair, 1), &raw, &raw_n) < 0 ||
            PUT_LITERAL(b, ",\"value\":\"") < 0 ||
            put_base64(b, (const unsigned char *)raw, raw_n) < 0 || PUT_LITERAL(b, "\"}") < 0)
            goto done;
    }
    status = PUT_LITERAL(b, "]}");
done:
    Py_XDECREF(offset);
    Py_XDECREF(stamp);
    Py_XDECREF(key);
    Py_XDECREF(value);
    Py_XDECREF(headers);
    Py_XDECREF(headers_seq);
    return status;
}

static PyObject *render_records(PyObject *self, PyObject *args) {
    PyObject *records, *iso;
    const char *head, *middle, *tail;
    Py_ssize_t head_n, middle_n, tail_n;
    if (!PyArg_ParseTuple(args, "Oy#y#y#O", &records, &head, &head_n, &middle, &middle_n, &tail,
                          &tail_n, &iso))
        return NULL;
    PyObject *seq = PySequence_Fast(records, "records must be a sequence");
    if (seq == NULL) return NULL;
    Buffer b = {NULL, 0, 0};
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        if ((i && PUT_LITERAL(&b, ",") < 0) ||
            put_record(&b, PySequence_Fast_GET_ITEM(seq, i), head, head_n, middle, middle_n,
                       tail, tail_n, iso) < 0)
            goto done;
    }
    result = PyBytes_FromStringAndSize(b.data ? b.data : "", (Py_ssize_t)b.len);
done:
    PyMem_Free(b.data);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef methods[] = {
    {"render_records", render_records, METH_VARARGS, "Records as RecordDataItem JSON objects."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pages", NULL, -1, methods};

PyMODINIT_FUNC PyInit__pages(void) {
    for (int f = 0; f < F_COUNT; f++) {
        fields[f] = PyUnicode_InternFromString(FIELD_NAMES[f]);
        if (fields[f] == NULL) return NULL;
    }
    return PyModule_Create(&module);
}
