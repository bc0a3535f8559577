/* C fast path of the Kafka listener's record codec (engine/kafka_listener/records.py holds
 * the pure-Python reference; tests check that both give identical results).
 *
 * read_records(data, count, base_ts, partition) -> list of engine rows
 *     (key, value, headers blob, timestamp, partition, size) from the decompressed records
 *     section of a magic-2 batch. Raises ValueError on any malformed record.
 * write_records(records, base_offset, base_ts) -> (bytes, max timestamp)
 *     the records section for ConsumedRecord-like objects (attributes offset, timestamp_ms,
 *     key, value, headers), and the largest timestamp among them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static int read_varint(const unsigned char *buf, Py_ssize_t len, Py_ssize_t *pos, int64_t *out) {
    uint64_t raw = 0;
    int shift = 0;
    while (*pos < len) {
        unsigned char byte = buf[(*pos)++];
        raw |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80) {
            *out = (int64_t)((raw >> 1) ^ (~(raw & 1) + 1));
            return 0;
        }
        shift += 7;
        if (shift > 63) return -1;
    }
    return -1;
}

static PyObject *bytes_field(const unsigned char *buf, Py_ssize_t len, Py_ssize_t *pos,
                             int *failed) {
    int64_t n;
    if (read_varint(buf, len, pos, &n) < 0) { *failed = 1; return NULL; }
    if (n < 0) { Py_RETURN_NONE; }
    if (n > len - *pos) { *failed = 1; return NULL; }
    PyObject *out = PyBytes_FromStringAndSize((const char *)buf + *pos, (Py_ssize_t)n);
    *pos += (Py_ssize_t)n;
    if (out == NULL) *failed = 1;
    return out;
}

static PyObject *corrupt(const char *what) {
    PyErr_SetString(PyExc_ValueError, what);
    return NULL;
}

static PyObject *read_records(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t count;
    long long base_ts;
    PyObject *partition;
    if (!PyArg_ParseTuple(args, "y*nLO", &view, &count, &base_ts, &partition)) return NULL;
    const unsigned char *buf = view.buf;
    Py_ssize_t len = view.len, pos = 0;
    PyObject *rows = PyList_New(0);
    if (rows == NULL) { PyBuffer_Release(&view); return NULL; }
    for (Py_ssize_t i = 0; i < count; i++) {
        int64_t length, ts_delta, offset_delta, nheaders;
        int failed = 0;
        if (read_varint(buf, len, &pos, &length) < 0 || length < 0 || length > len - pos) {
            corrupt("a record batch ends inside a record");
            goto error;
        }
        Py_ssize_t end = pos + (Py_ssize_t)length;
        pos += 1; /* attributes */
        if (read_varint(buf, end, &pos, &ts_delta) < 0 ||
            read_varint(buf, end, &pos, &offset_delta) < 0) {
            corrupt("a record's length does not match its fields");
            goto error;
        }
        PyObject *key = bytes_field(buf, end, &pos, &failed);
        if (failed) { corrupt("a record's length does not match its fields"); goto error; }
        PyObject *value = bytes_field(buf, end, &pos, &failed);
        if (failed) {
            Py_XDECREF(key);
            corrupt("a record's length does not match its fields");
            goto error;
        }
        if (read_varint(buf, end, &pos, &nheaders) < 0 || nheaders < -1) {
            Py_XDECREF(key); Py_XDECREF(value);
            corrupt("a record's length does not match its fields");
            goto error;
        }
        PyObject *blob = Py_None;
        Py_INCREF(Py_None);
        Py_ssize_t size = (key == Py_None ? 0 : PyBytes_GET_SIZE(key)) +
                          (value == Py_None ? 0 : PyBytes_GET_SIZE(value));
        if (nheaders > 0) {
            /* engine encoding: u16 name length, name, u32 value length, value */
            PyObject *out = PyBytes_FromStringAndSize(NULL, 0);
            Py_DECREF(blob);
            blob = out;
            for (int64_t h = 0; h < nheaders && !failed; h++) {
                int64_t nlen, vlen;
                if (read_varint(buf, end, &pos, &nlen) < 0 || nlen < 0 || nlen > 0xFFFF ||
                    nlen > end - pos) { failed = 1; break; }
                Py_ssize_t name_at = pos;
                pos += (Py_ssize_t)nlen;
                if (read_varint(buf, end, &pos, &vlen) < 0 || vlen > end - pos) {
                    failed = 1; break;
                }
                if (vlen < 0) vlen = 0;
                Py_ssize_t old = PyBytes_GET_SIZE(blob);
                if (_PyBytes_Resize(&blob, old + 6 + (Py_ssize_t)nlen + (Py_ssize_t)vlen) < 0) {
                    failed = 1; blob = NULL; break;
                }
                unsigned char *w = (unsigned char *)PyBytes_AS_STRING(blob) + old;
                w[0] = (unsigned char)(nlen >> 8); w[1] = (unsigned char)nlen;
                memcpy(w + 2, buf + name_at, (size_t)nlen);
                w += 2 + nlen;
                w[0] = (unsigned char)(vlen >> 24); w[1] = (unsigned char)(vlen >> 16);
                w[2] = (unsigned char)(vlen >> 8); w[3] = (unsigned char)vlen;
                memcpy(w + 4, buf + pos, (size_t)vlen);
                pos += (Py_ssize_t)vlen;
            }
            if (blob != NULL) size += PyBytes_GET_SIZE(blob);
        }
        if (failed || pos != end) {
            Py_XDECREF(key); Py_XDECREF(value); Py_XDECREF(blob);
            corrupt("a record's length does not match its fields");
            goto error;
        }
        PyObject *row = Py_BuildValue("(NNNLOn)", key, value, blob,
                                      (long long)(base_ts + ts_delta), partition, size);
        if (row == NULL) goto error;
        if (PyList_Append(rows, row) < 0) { Py_DECREF(row); goto error; }
        Py_DECREF(row);
    }
    if (pos != len) {
        corrupt("a record batch holds more bytes than its record count says");
        goto error;
    }
    PyBuffer_Release(&view);
    return rows;
error:
    PyBuffer_Release(&view);
    Py_DECREF(rows);
    return NULL;
}

typedef struct { unsigned char *data; Py_ssize_t len, cap; } Out;

static int out_reserve(Out *o, Py_ssize_t more) {
    if (o->len + more <= o->cap) return 0;
    Py_ssize_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + more) cap *= 2;
    unsigned char *d = PyMem_Realloc(o->data, (size_t)cap);
    if (d == NULL) { PyErr_NoMemory(); return -1; }
    o->data = d; o->cap = cap;
    return 0;
}

static Py_ssize_t put_varint(unsigned char *w, int64_t value) {
    uint64_t raw = ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
    Py_ssize_t n = 0;
    while (raw >= 0x80) { w[n++] = (unsigned char)((raw & 0x7F) | 0x80); raw >>= 7; }
    w[n++] = (unsigned char)raw;
    return n;
}

static int put_field(unsigned char *w, Py_ssize_t *n, PyObject *field) {
    if (field == Py_None) { w[(*n)++] = 1; return 0; }
    char *p; Py_ssize_t len;
    if (PyBytes_AsStringAndSize(field, &p, &len) < 0) return -1;
    *n += put_varint(w + *n, len);
    memcpy(w + *n, p, (size_t)len);
    *n += len;
    return 0;
}

static PyObject *s_offset, *s_timestamp_ms, *s_key, *s_value, *s_headers;

static PyObject *write_records(PyObject *self, PyObject *args) {
    PyObject *records;
    long long base_offset, base_ts;
    if (!PyArg_ParseTuple(args, "OLL", &records, &base_offset, &base_ts)) return NULL;
    PyObject *seq = PySequence_Fast(records, "records must be a sequence");
    if (seq == NULL) return NULL;
    Out out = {NULL, 0, 0};
    unsigned char *scratch = NULL;
    Py_ssize_t scratch_cap = 0;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    long long max_ts = base_ts;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *rec = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *offset = PyObject_GetAttr(rec, s_offset);
        PyObject *ts = PyObject_GetAttr(rec, s_timestamp_ms);
        PyObject *key = PyObject_GetAttr(rec, s_key);
        PyObject *value = PyObject_GetAttr(rec, s_value);
        PyObject *headers = PyObject_GetAttr(rec, s_headers);
        if (!offset || !ts || !key || !value || !headers) goto fail_rec;
        Py_ssize_t need = 64 + (key == Py_None ? 0 : PyBytes_Size(key)) +
                          (value == Py_None ? 0 : PyBytes_Size(value));
        Py_ssize_t nh = PyTuple_Check(headers) ? PyTuple_GET_SIZE(headers) : 0;
        for (Py_ssize_t h = 0; h < nh; h++) {
            PyObject *pair = PyTuple_GET_ITEM(headers, h);
            Py_ssize_t name_len = 0;
            PyObject *hv = PyTuple_GetItem(pair, 1);
            PyObject *hname = PyTuple_GetItem(pair, 0);
            if (hv == NULL || hname == NULL) goto fail_rec;
            if (PyUnicode_AsUTF8AndSize(hname, &name_len) == NULL) goto fail_rec;
            need += 32 + name_len + (hv == Py_None ? 0 : PyBytes_Size(hv));
        }
        if (PyErr_Occurred()) goto fail_rec;
        if (need > scratch_cap) {
            unsigned char *s = PyMem_Realloc(scratch, (size_t)need);
            if (s == NULL) { PyErr_NoMemory(); goto fail_rec; }
            scratch = s; scratch_cap = need;
        }
        Py_ssize_t n = 0;
        scratch[n++] = 0; /* attributes */
        long long stamp = PyLong_AsLongLong(ts);
        if (stamp > max_ts) max_ts = stamp;
        n += put_varint(scratch + n, stamp - base_ts);
        n += put_varint(scratch + n, PyLong_AsLongLong(offset) - base_offset);
        if (PyErr_Occurred()) goto fail_rec;
        if (put_field(scratch, &n, key) < 0 || put_field(scratch, &n, value) < 0) goto fail_rec;
        n += put_varint(scratch + n, nh);
        for (Py_ssize_t h = 0; h < nh; h++) {
            PyObject *pair = PyTuple_GET_ITEM(headers, h);
            Py_ssize_t name_len;
            const char *name = PyUnicode_AsUTF8AndSize(PyTuple_GetItem(pair, 0), &name_len);
            if (name == NULL) goto fail_rec;
            n += put_varint(scratch + n, name_len);
            memcpy(scratch + n, name, (size_t)name_len);
            n += name_len;
            if (put_field(scratch, &n, PyTuple_GetItem(pair, 1)) < 0) goto fail_rec;
        }
        if (out_reserve(&out, n + 10) < 0) goto fail_rec;
        out.len += put_varint(out.data + out.len, n);
        memcpy(out.data + out.len, scratch, (size_t)n);
        out.len += n;
        Py_DECREF(offset); Py_DECREF(ts); Py_DECREF(key); Py_DECREF(value); Py_DECREF(headers);
        continue;
    fail_rec:
        Py_XDECREF(offset); Py_XDECREF(ts); Py_XDECREF(key); Py_XDECREF(value);
        Py_XDECREF(headers);
        PyMem_Free(out.data);
        PyMem_Free(scratch);
        Py_DECREF(seq);
        return NULL;
    }
    Py_DECREF(seq);
    PyMem_Free(scratch);
    PyObject *body = PyBytes_FromStringAndSize((const char *)out.data, out.len);
    PyMem_Free(out.data);
    if (body == NULL) return NULL;
    return Py_BuildValue("(NL)", body, max_ts);
}

static PyMethodDef methods[] = {
    {"read_records", read_records, METH_VARARGS, "Decode a records section into engine rows."},
    {"write_records", write_records, METH_VARARGS, "Encode records into a records section."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_batches", NULL, -1, methods};

PyMODINIT_FUNC PyInit__batches(void) {
    s_offset = PyUnicode_InternFromString("offset");
    s_timestamp_ms = PyUnicode_InternFromString("timestamp_ms");
    s_key = PyUnicode_InternFromString("key");
    s_value = PyUnicode_InternFromString("value");
    s_headers = PyUnicode_InternFromString("headers");
    if (!s_offset || !s_timestamp_ms || !s_key || !s_value || !s_headers) return NULL;
    return PyModule_Create(&module);
}
