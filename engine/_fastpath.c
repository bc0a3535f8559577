/*
 * Optional C fast path of the embedded engine: Kafka's murmur2, the packing of stored record
 * chunks and record headers. Every function has a pure-Python twin (engine/partitioner.py,
 * engine/embedded/chunks.py, engine/embedded/codec.py) that the tests check it against; the
 * engine works without it.
 *
 * Chunk format (little-endian), one entry per record:
 *   u32 offset delta, i64 timestamp, i32 key length, i32 value length, i32 headers length
 *   (-1 = null), then the key, value and encoded headers bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define ENTRY_HEADER 24

static int32_t murmur2_impl(const unsigned char *data, Py_ssize_t length) {
    const uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = seed ^ (uint32_t)length;
    Py_ssize_t length4 = length / 4;
    for (Py_ssize_t i = 0; i < length4; i++) {
        Py_ssize_t i4 = i * 4;
        uint32_t k = (uint32_t)data[i4] | ((uint32_t)data[i4 + 1] << 8) |
                     ((uint32_t)data[i4 + 2] << 16) | ((uint32_t)data[i4 + 3] << 24);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    Py_ssize_t base = length & ~(Py_ssize_t)3;
    switch (length % 4) {
    case 3:
        h ^= (uint32_t)data[base + 2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)data[base + 1] << 8;
        /* fall through */
    case 1:
        h ^= (uint32_t)data[base];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

static PyObject *py_murmur2(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    int32_t h = murmur2_impl(view.buf, view.len);
    PyBuffer_Release(&view);
    return PyLong_FromLong(h);
}

static int partition_of(PyObject *key, long partitions, long *out) {
    if (!PyBytes_Check(key)) {
        PyErr_Format(PyExc_TypeError, "a key must be bytes, got %.100s", Py_TYPE(key)->tp_name);
        return -1;
    }
    int32_t h = murmur2_impl((const unsigned char *)PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key));
    *out = (long)(((uint32_t)h & 0x7fffffffu) % (uint32_t)partitions);
    return 0;
}

static PyObject *py_partition_for_key(PyObject *self, PyObject *args) {
    PyObject *key;
    long partitions;
    if (!PyArg_ParseTuple(args, "Ol", &key, &partitions)) return NULL;
    if (partitions <= 0) {
        PyErr_SetString(PyExc_ValueError, "the partition count must be positive");
        return NULL;
    }
    long p;
    if (PyBytes_Check(key)) {
        if (partition_of(key, partitions, &p) < 0) return NULL;
    } else {
        Py_buffer view;
        if (PyObject_GetBuffer(key, &view, PyBUF_SIMPLE) < 0) return NULL;
        int32_t h = murmur2_impl(view.buf, view.len);
        PyBuffer_Release(&view);
        p = (long)(((uint32_t)h & 0x7fffffffu) % (uint32_t)partitions);
    }
    return PyLong_FromLong(p);
}

static PyObject *py_partitions_for_keys(PyObject *self, PyObject *args) {
    PyObject *keys;
    long partitions;
    if (!PyArg_ParseTuple(args, "Ol", &keys, &partitions)) return NULL;
    if (partitions <= 0) {
        PyErr_SetString(PyExc_ValueError, "the partition count must be positive");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(keys, "keys must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *result = PyList_New(n);
    if (result == NULL) goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        long p;
        if (partition_of(items[i], partitions, &p) < 0) goto fail;
        PyObject *value = PyLong_FromLong(p);
        if (value == NULL) goto fail;
        PyList_SET_ITEM(result, i, value);
    }
    Py_DECREF(seq);
    return result;
fail:
    Py_XDECREF(result);
    Py_DECREF(seq);
    return NULL;
}

/* ---- chunks ---------------------------------------------------------------------------- */

static int field_len(PyObject *obj, Py_ssize_t *len) {
    if (obj == Py_None) {
        *len = -1;
        return 0;
    }
    if (!PyBytes_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "record fields must be bytes or None, got %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    *len = PyBytes_GET_SIZE(obj);
    if (*len > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "record field larger than 2 GiB");
        return -1;
    }
    return 0;
}

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = (v >> 24) & 0xff;
}
static void put_i64(unsigned char *p, int64_t v) {
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++) p[i] = (u >> (8 * i)) & 0xff;
}
static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static int64_t get_i64(const unsigned char *p) {
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = (u << 8) | p[i];
    return (int64_t)u;
}

/* rows: list of (key, value, headers_blob, ts, partition, size); indexes: list[int] or None.
 * Returns a list of (count, max_ts, size, blob) chunks of at most max_records records and
 * (unless a single record is larger) max_bytes bytes, with dense offset deltas from 0. */
static PyObject *py_pack_chunks(PyObject *self, PyObject *args) {
    PyObject *rows, *indexes;
    Py_ssize_t max_records, max_bytes;
    if (!PyArg_ParseTuple(args, "O!Onn", &PyList_Type, &rows, &indexes, &max_records, &max_bytes))
        return NULL;
    if (max_records < 1) max_records = 1;
    Py_ssize_t n = indexes == Py_None ? PyList_GET_SIZE(rows) : PyList_Size(indexes);
    if (n < 0) return NULL;
    PyObject *chunks = PyList_New(0);
    if (chunks == NULL) return NULL;
    Py_ssize_t start = 0;
    while (start < n) {
        /* measure the chunk */
        Py_ssize_t end = start, total = 0, payload = 0;
        int64_t max_ts = INT64_MIN;
        while (end < n && end - start < max_records) {
            PyObject *row;
            if (indexes == Py_None) {
                row = PyList_GET_ITEM(rows, end);
            } else {
                Py_ssize_t idx = PyLong_AsSsize_t(PyList_GET_ITEM(indexes, end));
                if (idx == -1 && PyErr_Occurred()) goto fail;
                if (idx < 0 || idx >= PyList_GET_SIZE(rows)) {
                    PyErr_SetString(PyExc_IndexError, "row index out of range");
                    goto fail;
                }
                row = PyList_GET_ITEM(rows, idx);
            }
            if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 6) {
                PyErr_SetString(PyExc_TypeError, "a row is a 6-tuple");
                goto fail;
            }
            Py_ssize_t kl, vl, hl;
            if (field_len(PyTuple_GET_ITEM(row, 0), &kl) < 0 ||
                field_len(PyTuple_GET_ITEM(row, 1), &vl) < 0 ||
                field_len(PyTuple_GET_ITEM(row, 2), &hl) < 0)
                goto fail;
            Py_ssize_t body = (kl > 0 ? kl : 0) + (vl > 0 ? vl : 0) + (hl > 0 ? hl : 0);
            if (end > start && total + ENTRY_HEADER + body > max_bytes) break;
            int64_t ts = PyLong_AsLongLong(PyTuple_GET_ITEM(row, 3));
            if (ts == -1 && PyErr_Occurred()) goto fail;
            if (ts > max_ts) max_ts = ts;
            total += ENTRY_HEADER + body;
            payload += body;
            end++;
        }
        PyObject *blob = PyBytes_FromStringAndSize(NULL, total);
        if (blob == NULL) goto fail;
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(blob);
        for (Py_ssize_t i = start; i < end; i++) {
            PyObject *row = indexes == Py_None
                ? PyList_GET_ITEM(rows, i)
                : PyList_GET_ITEM(rows, PyLong_AsSsize_t(PyList_GET_ITEM(indexes, i)));
            PyObject *fields[3] = {PyTuple_GET_ITEM(row, 0), PyTuple_GET_ITEM(row, 1),
                                   PyTuple_GET_ITEM(row, 2)};
            put_u32(out, (uint32_t)(i - start));
            put_i64(out + 4, PyLong_AsLongLong(PyTuple_GET_ITEM(row, 3)));
            Py_ssize_t lens[3];
            for (int f = 0; f < 3; f++) {
                lens[f] = fields[f] == Py_None ? -1 : PyBytes_GET_SIZE(fields[f]);
                put_u32(out + 12 + 4 * f, (uint32_t)(int32_t)lens[f]);
            }
            out += ENTRY_HEADER;
            for (int f = 0; f < 3; f++) {
                if (lens[f] > 0) {
                    memcpy(out, PyBytes_AS_STRING(fields[f]), lens[f]);
                    out += lens[f];
                }
            }
        }
        PyObject *chunk = Py_BuildValue("(nLnN)", end - start, (long long)max_ts, payload, blob);
        if (chunk == NULL) goto fail;
        if (PyList_Append(chunks, chunk) < 0) {
            Py_DECREF(chunk);
            goto fail;
        }
        Py_DECREF(chunk);
        start = end;
    }
    return chunks;
fail:
    Py_DECREF(chunks);
    return NULL;
}

/* One partition's chunk being built by pack_partitions. */
typedef struct {
    unsigned char *buf;
    Py_ssize_t len, cap, count, payload;
    int64_t max_ts;
    PyObject *chunks; /* list of finished (count, max_ts, payload, blob) */
} Builder;

static int builder_finish(Builder *b) {
    if (b->count == 0) return 0;
    PyObject *blob = PyBytes_FromStringAndSize((const char *)b->buf, b->len);
    if (blob == NULL) return -1;
    PyObject *chunk = Py_BuildValue("(nLnN)", b->count, (long long)b->max_ts, b->payload, blob);
    if (chunk == NULL) return -1;
    int rc = PyList_Append(b->chunks, chunk);
    Py_DECREF(chunk);
    b->len = b->count = b->payload = 0;
    b->max_ts = INT64_MIN;
    return rc;
}

/* pack_partitions(rows, parts, count, max_records, max_bytes): in one pass over the rows in
 * order, the chunks of every partition (a list of `count` lists of (count, max_ts, payload,
 * blob)), as pack_chunks would make them from each partition's rows. */
static PyObject *py_pack_partitions(PyObject *self, PyObject *args) {
    PyObject *rows, *parts;
    Py_ssize_t count, max_records, max_bytes;
    if (!PyArg_ParseTuple(args, "O!O!nnn", &PyList_Type, &rows, &PyList_Type, &parts, &count,
                          &max_records, &max_bytes))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(rows);
    if (PyList_GET_SIZE(parts) != n || count < 1) {
        PyErr_SetString(PyExc_ValueError, "parts must match rows and count be positive");
        return NULL;
    }
    if (max_records < 1) max_records = 1;
    Builder *builders = PyMem_Calloc(count, sizeof(Builder));
    if (builders == NULL) return PyErr_NoMemory();
    PyObject *result = PyList_New(count);
    if (result == NULL) goto fail;
    for (Py_ssize_t p = 0; p < count; p++) {
        builders[p].max_ts = INT64_MIN;
        builders[p].chunks = PyList_New(0);
        if (builders[p].chunks == NULL) goto fail;
        PyList_SET_ITEM(result, p, Py_NewRef(builders[p].chunks));
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t p = PyLong_AsSsize_t(PyList_GET_ITEM(parts, i));
        if (p == -1 && PyErr_Occurred()) goto fail;
        if (p < 0 || p >= count) {
            PyErr_SetString(PyExc_IndexError, "partition out of range");
            goto fail;
        }
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) < 4) {
            PyErr_SetString(PyExc_TypeError, "a row is a tuple (key, value, headers, ts, ...)");
            goto fail;
        }
        Py_ssize_t lens[3];
        for (int f = 0; f < 3; f++) {
            if (field_len(PyTuple_GET_ITEM(row, f), &lens[f]) < 0) goto fail;
        }
        int64_t ts = PyLong_AsLongLong(PyTuple_GET_ITEM(row, 3));
        if (ts == -1 && PyErr_Occurred()) goto fail;
        Py_ssize_t body = (lens[0] > 0 ? lens[0] : 0) + (lens[1] > 0 ? lens[1] : 0) +
                          (lens[2] > 0 ? lens[2] : 0);
        Builder *b = &builders[p];
        if (b->count > 0 &&
            (b->count >= max_records || b->len + ENTRY_HEADER + body > max_bytes)) {
            if (builder_finish(b) < 0) goto fail;
        }
        if (b->len + ENTRY_HEADER + body > b->cap) {
            Py_ssize_t cap = b->cap ? b->cap * 2 : 65536;
            while (cap < b->len + ENTRY_HEADER + body) cap *= 2;
            unsigned char *grown = PyMem_Realloc(b->buf, cap);
            if (grown == NULL) {
                PyErr_NoMemory();
                goto fail;
            }
            b->buf = grown;
            b->cap = cap;
        }
        unsigned char *out = b->buf + b->len;
        put_u32(out, (uint32_t)b->count);
        put_i64(out + 4, ts);
        for (int f = 0; f < 3; f++) put_u32(out + 12 + 4 * f, (uint32_t)(int32_t)lens[f]);
        out += ENTRY_HEADER;
        for (int f = 0; f < 3; f++) {
            if (lens[f] > 0) {
                memcpy(out, PyBytes_AS_STRING(PyTuple_GET_ITEM(row, f)), lens[f]);
                out += lens[f];
            }
        }
        b->len += ENTRY_HEADER + body;
        b->count++;
        b->payload += body;
        if (ts > b->max_ts) b->max_ts = ts;
    }
    for (Py_ssize_t p = 0; p < count; p++) {
        if (builder_finish(&builders[p]) < 0) goto fail;
    }
    for (Py_ssize_t p = 0; p < count; p++) {
        PyMem_Free(builders[p].buf);
        Py_XDECREF(builders[p].chunks);
    }
    PyMem_Free(builders);
    return result;
fail:
    for (Py_ssize_t p = 0; p < count; p++) {
        PyMem_Free(builders[p].buf);
        Py_XDECREF(builders[p].chunks);
    }
    PyMem_Free(builders);
    Py_XDECREF(result);
    return NULL;
}

static PyObject *empty_tuple = NULL;

/* ---- record headers --------------------------------------------------------------------
 * The stored header blob (reference: engine/embedded/codec.py): per header a big-endian u16
 * name length, the UTF-8 name, a big-endian u32 value length, the value. */

#define HEADER_PAIR_ERROR "a header must be a (str, bytes) pair, got %R"
#define HEADER_NAME_ERROR "a header name must be shorter than 64 KiB"
#define HEADERS_CORRUPT "corrupt record headers"

/* The UTF-8 of a checked header's name and its value's bytes; -1 with an exception set when
 * the pair is not a (str, bytes) pair with a name under 64 KiB. */
static int header_parts(PyObject *item, const char **name, Py_ssize_t *nlen, const char **value,
                        Py_ssize_t *vlen) {
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2 ||
        !PyUnicode_Check(PyTuple_GET_ITEM(item, 0))) {
        PyErr_Format(PyExc_TypeError, HEADER_PAIR_ERROR, item);
        return -1;
    }
    PyObject *v = PyTuple_GET_ITEM(item, 1);
    if (PyBytes_Check(v)) {
        *value = PyBytes_AS_STRING(v);
        *vlen = PyBytes_GET_SIZE(v);
    } else if (PyByteArray_Check(v)) {
        *value = PyByteArray_AS_STRING(v);
        *vlen = PyByteArray_GET_SIZE(v);
    } else {
        PyErr_Format(PyExc_TypeError, HEADER_PAIR_ERROR, item);
        return -1;
    }
    *name = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(item, 0), nlen);
    if (*name == NULL) return -1;
    if (*nlen > 0xFFFF) {
        PyErr_SetString(PyExc_ValueError, HEADER_NAME_ERROR);
        return -1;
    }
    if ((uint64_t)*vlen > 0xFFFFFFFFu) {
        PyErr_SetString(PyExc_OverflowError, "a header value must be smaller than 4 GiB");
        return -1;
    }
    return 0;
}

/* check_headers(headers): the headers as a tuple of (str, bytes) pairs; TypeError naming a
 * pair of the wrong shape, ValueError for a name of 64 KiB or more. A tuple that already is
 * one is returned as it is. */
static PyObject *py_check_headers(PyObject *self, PyObject *headers) {
    PyObject *seq = PySequence_Fast(headers, "headers must be a sequence of (str, bytes) pairs");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    int same = PyTuple_CheckExact(headers);
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *name, *value;
        Py_ssize_t nlen, vlen;
        if (header_parts(items[i], &name, &nlen, &value, &vlen) < 0) {
            Py_DECREF(seq);
            return NULL;
        }
        if (!PyTuple_CheckExact(items[i]) || !PyBytes_CheckExact(PyTuple_GET_ITEM(items[i], 1)))
            same = 0;
    }
    if (same) {
        Py_DECREF(seq);
        return Py_NewRef(headers);
    }
    PyObject *result = PyTuple_New(n);
    for (Py_ssize_t i = 0; result != NULL && i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(items[i], 0);
        PyObject *value = PyBytes_FromObject(PyTuple_GET_ITEM(items[i], 1));
        PyObject *pair = value ? PyTuple_Pack(2, name, value) : NULL;
        Py_XDECREF(value);
        if (pair == NULL) Py_CLEAR(result);
        else PyTuple_SET_ITEM(result, i, pair);
    }
    Py_DECREF(seq);
    return result;
}

/* encode_headers(headers): checked headers as one blob, None when there are none. */
static PyObject *py_encode_headers(PyObject *self, PyObject *headers) {
    int any = PyObject_IsTrue(headers);
    if (any < 0) return NULL;
    if (!any) Py_RETURN_NONE;
    PyObject *seq = PySequence_Fast(headers, "headers must be a sequence of (str, bytes) pairs");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Py_ssize_t total = 0;
    const char *name, *value;
    Py_ssize_t nlen, vlen;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (header_parts(items[i], &name, &nlen, &value, &vlen) < 0) {
            Py_DECREF(seq);
            return NULL;
        }
        total += 6 + nlen + vlen;
    }
    PyObject *blob = PyBytes_FromStringAndSize(NULL, total);
    if (blob == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(blob);
    for (Py_ssize_t i = 0; i < n; i++) {
        /* Cannot fail now: the first pass checked every pair and cached each name's UTF-8. */
        header_parts(items[i], &name, &nlen, &value, &vlen);
        p[0] = (nlen >> 8) & 0xff;
        p[1] = nlen & 0xff;
        memcpy(p + 2, name, nlen);
        p += 2 + nlen;
        uint32_t v = (uint32_t)vlen;
        p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
        memcpy(p + 4, value, vlen);
        p += 4 + vlen;
    }
    Py_DECREF(seq);
    return blob;
}

/* The headers of a stored blob as a tuple of (str, bytes) pairs; ValueError when the blob is
 * cut short (UnicodeDecodeError for a name that is not UTF-8), in the reference's order. */
static PyObject *headers_decode(const unsigned char *p, Py_ssize_t len) {
    if (len == 0) return Py_NewRef(empty_tuple);
    PyObject *pairs = PyList_New(0);
    if (pairs == NULL) return NULL;
    Py_ssize_t pos = 0;
    while (pos < len) {
        if (len - pos < 2) goto corrupt;
        Py_ssize_t klen = ((Py_ssize_t)p[pos] << 8) | p[pos + 1];
        Py_ssize_t name_at = pos + 2;
        if (len - name_at < klen + 4) goto corrupt;
        const unsigned char *v = p + name_at + klen;
        Py_ssize_t vlen = (Py_ssize_t)(((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) |
                                       ((uint32_t)v[2] << 8) | (uint32_t)v[3]);
        PyObject *name = PyUnicode_DecodeUTF8((const char *)p + name_at, klen, NULL);
        if (name == NULL) goto fail;
        pos = name_at + klen + 4;
        if (len - pos < vlen) {
            Py_DECREF(name);
            goto corrupt;
        }
        PyObject *value = PyBytes_FromStringAndSize((const char *)p + pos, vlen);
        PyObject *pair = value ? PyTuple_Pack(2, name, value) : NULL;
        Py_DECREF(name);
        Py_XDECREF(value);
        if (pair == NULL || PyList_Append(pairs, pair) < 0) {
            Py_XDECREF(pair);
            goto fail;
        }
        /* Tuples of str and bytes can never be part of a cycle: spare the collector. */
        PyObject_GC_UnTrack(pair);
        Py_DECREF(pair);
        pos += vlen;
    }
    PyObject *result = PyList_AsTuple(pairs);
    Py_DECREF(pairs);
    if (result != NULL) PyObject_GC_UnTrack(result);
    return result;
corrupt:
    PyErr_SetString(PyExc_ValueError, HEADERS_CORRUPT);
fail:
    Py_DECREF(pairs);
    return NULL;
}

/* decode_headers(blob): the inverse of encode_headers; None or b"" give (). */
static PyObject *py_decode_headers(PyObject *self, PyObject *blob) {
    if (blob == Py_None) return Py_NewRef(empty_tuple);
    Py_buffer view;
    if (PyObject_GetBuffer(blob, &view, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *result = headers_decode(view.buf, view.len);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *consumed_type = NULL; /* engine.types.ConsumedRecord */
static PyObject *consumed_names[7];
static PyObject *decode_headers = NULL; /* engine.embedded.codec.decode_headers */
static int decode_headers_native = 0;     /* it is py_decode_headers: decode in place */

static PyObject *py_configure(PyObject *self, PyObject *args) {
    PyObject *cls, *decoder;
    if (!PyArg_ParseTuple(args, "O!O", &PyType_Type, &cls, &decoder)) return NULL;
    Py_XSETREF(consumed_type, Py_NewRef(cls));
    Py_XSETREF(decode_headers, Py_NewRef(decoder));
    decode_headers_native = PyCFunction_Check(decoder) &&
                            PyCFunction_GET_FUNCTION(decoder) == (PyCFunction)py_decode_headers;
    Py_RETURN_NONE;
}

static PyObject *take_bytes(const unsigned char *p, int32_t len) {
    if (len < 0) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)p, len);
}

/* Decode records of one chunk whose offset is >= min_offset into ConsumedRecord objects,
 * appending to `out`, while fewer than max_records are in `out` and the bytes stay within
 * max_bytes (the first record of a fetch is always taken). Returns (bytes used, whether the
 * fetch is full). */
static PyObject *py_unpack_into(PyObject *self, PyObject *args) {
    int stopped = 0;
    PyObject *out, *topic, *partition;
    Py_buffer view;
    long long base, min_offset;
    Py_ssize_t max_records, max_bytes, used;
    if (!PyArg_ParseTuple(args, "O!y*LOOLnnn", &PyList_Type, &out, &view, &base, &topic,
                          &partition, &min_offset, &max_records, &max_bytes, &used))
        return NULL;
    if (consumed_type == NULL) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_RuntimeError, "configure() was not called");
        return NULL;
    }
    const unsigned char *p = view.buf, *end = p + view.len;
    while (p + ENTRY_HEADER <= end && PyList_GET_SIZE(out) < max_records) {
        uint32_t delta = get_u32(p);
        int64_t ts = get_i64(p + 4);
        int32_t lens[3] = {(int32_t)get_u32(p + 12), (int32_t)get_u32(p + 16),
                           (int32_t)get_u32(p + 20)};
        Py_ssize_t body = 0;
        for (int f = 0; f < 3; f++) {
            if (lens[f] > 0) body += lens[f];
        }
        if (p + ENTRY_HEADER + body > end) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_ValueError, "corrupt record chunk");
            return NULL;
        }
        long long offset = base + (long long)delta;
        if (offset < min_offset) {
            p += ENTRY_HEADER + body;
            continue;
        }
        if (PyList_GET_SIZE(out) > 0 && used + body > max_bytes) {
            stopped = 1;
            break;
        }
        const unsigned char *q = p + ENTRY_HEADER;
        PyObject *key = take_bytes(q, lens[0]);
        q += lens[0] > 0 ? lens[0] : 0;
        PyObject *value = take_bytes(q, lens[1]);
        q += lens[1] > 0 ? lens[1] : 0;
        PyObject *headers;
        if (lens[2] < 0) {
            headers = Py_NewRef(empty_tuple);
        } else if (decode_headers_native) {
            headers = headers_decode(q, lens[2]);
        } else {
            PyObject *blob = take_bytes(q, lens[2]);
            headers = blob ? PyObject_CallOneArg(decode_headers, blob) : NULL;
            Py_XDECREF(blob);
        }
        PyObject *off = PyLong_FromLongLong(offset);
        PyObject *stamp = PyLong_FromLongLong(ts);
        PyObject *record = NULL;
        if (key && value && headers && off && stamp) {
            /* Filled slot by slot, as the frozen dataclass's __init__ does, without the call. */
            PyTypeObject *cls = (PyTypeObject *)consumed_type;
            record = cls->tp_alloc(cls, 0);
            PyObject *fields[7] = {topic, partition, off, stamp, key, value, headers};
            for (int f = 0; record != NULL && f < 7; f++) {
                if (PyObject_GenericSetAttr(record, consumed_names[f], fields[f]) < 0) {
                    Py_CLEAR(record);
                }
            }
        }
        Py_XDECREF(key);
        Py_XDECREF(value);
        Py_XDECREF(headers);
        Py_XDECREF(off);
        Py_XDECREF(stamp);
        if (record == NULL) {
            PyBuffer_Release(&view);
            return NULL;
        }
        /* Holds only str, int, bytes and tuples of them: never part of a cycle. */
        if (PyObject_GC_IsTracked(record)) PyObject_GC_UnTrack(record);
        int rc = PyList_Append(out, record);
        Py_DECREF(record);
        if (rc < 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
        used += body;
        p += ENTRY_HEADER + body;
    }
    if (PyList_GET_SIZE(out) >= max_records) stopped = 1;
    PyBuffer_Release(&view);
    return Py_BuildValue("(nO)", used, stopped ? Py_True : Py_False);
}

static PyObject *name_topic, *name_partition, *name_offset, *name_timestamp_ms;

/* make_metadata(cls, topic, parts, bases, rows): a `cls(topic, partition, offset, ts)` per
 * row, where the offsets of each partition count up from bases[partition] in row order. The
 * instances are filled slot by slot, as a frozen dataclass's __init__ does. */
static PyObject *py_make_metadata(PyObject *self, PyObject *args) {
    PyTypeObject *cls;
    PyObject *topic, *parts, *bases, *rows;
    if (!PyArg_ParseTuple(args, "O!OO!O!O!", &PyType_Type, &cls, &topic, &PyList_Type, &parts,
                          &PyList_Type, &bases, &PyList_Type, &rows))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(rows), nparts = PyList_GET_SIZE(bases);
    if (PyList_GET_SIZE(parts) != n) {
        PyErr_SetString(PyExc_ValueError, "parts and rows differ in length");
        return NULL;
    }
    long long *next = PyMem_Calloc(nparts > 0 ? nparts : 1, sizeof(long long));
    if (next == NULL) return PyErr_NoMemory();
    for (Py_ssize_t p = 0; p < nparts; p++) {
        next[p] = PyLong_AsLongLong(PyList_GET_ITEM(bases, p));
        if (next[p] == -1 && PyErr_Occurred()) goto fail_early;
    }
    PyObject *result = PyList_New(n);
    if (result == NULL) goto fail_early;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *part = PyList_GET_ITEM(parts, i);
        Py_ssize_t p = PyLong_AsSsize_t(part);
        if (p == -1 && PyErr_Occurred()) goto fail;
        if (p < 0 || p >= nparts) {
            PyErr_SetString(PyExc_IndexError, "partition out of range");
            goto fail;
        }
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) < 4) {
            PyErr_SetString(PyExc_TypeError, "a row is a tuple");
            goto fail;
        }
        PyObject *obj = cls->tp_alloc(cls, 0);
        if (obj == NULL) goto fail;
        PyList_SET_ITEM(result, i, obj);
        PyObject *offset = PyLong_FromLongLong(next[p]++);
        if (offset == NULL) goto fail;
        int rc = PyObject_GenericSetAttr(obj, name_topic, topic);
        if (rc == 0) rc = PyObject_GenericSetAttr(obj, name_partition, part);
        if (rc == 0) rc = PyObject_GenericSetAttr(obj, name_offset, offset);
        if (rc == 0) rc = PyObject_GenericSetAttr(obj, name_timestamp_ms, PyTuple_GET_ITEM(row, 3));
        Py_DECREF(offset);
        if (rc < 0) goto fail;
        /* Holds only str and int: it can never be part of a cycle, so keep it out of the
         * collector's way (it would otherwise rescan every record of a big flush). */
        if (PyObject_GC_IsTracked(obj)) PyObject_GC_UnTrack(obj);
    }
    PyMem_Free(next);
    return result;
fail:
    Py_DECREF(result);
fail_early:
    PyMem_Free(next);
    return NULL;
}

/* ---- SendBuffer: the producer's send path ------------------------------------------------
 *
 * Base class of EmbeddedProducer. `send` queues a row (key, value, headers, timestamp,
 * partition, size) in a list while the rows are for one topic; a subclass supplies
 * `_send_slow(topic, value, key, headers, partition, timestamp_ms)` for records that need
 * checking (headers, an explicit partition or timestamp, non-bytes fields) and `_spill()`,
 * which writes what `_take()` returns. Everything here runs under the GIL without calling
 * back into Python between reading and changing the buffer, so it needs no lock of its own.
 */
typedef struct {
    PyObject_HEAD
    PyObject *rows;  /* list */
    PyObject *topic; /* str or None */
    Py_ssize_t limit;
    int closed;
} SendBuffer;

static PyObject *name_spill, *name_send_slow;

static int SendBuffer_init(SendBuffer *self, PyObject *args, PyObject *kwds) {
    Py_ssize_t limit;
    static char *kwlist[] = {"batch_records", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n", kwlist, &limit)) return -1;
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "batch_records must be a positive integer");
        return -1;
    }
    Py_XSETREF(self->rows, PyList_New(0));
    if (self->rows == NULL) return -1;
    Py_XSETREF(self->topic, Py_NewRef(Py_None));
    self->limit = limit;
    self->closed = 0;
    return 0;
}

static int SendBuffer_traverse(SendBuffer *self, visitproc visit, void *arg) {
    Py_VISIT(self->rows);
    Py_VISIT(self->topic);
    return 0;
}

static int SendBuffer_clear(SendBuffer *self) {
    Py_CLEAR(self->rows);
    Py_CLEAR(self->topic);
    return 0;
}

static void SendBuffer_dealloc(SendBuffer *self) {
    PyObject_GC_UnTrack(self);
    SendBuffer_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int spill(SendBuffer *self) {
    PyObject *r = PyObject_CallMethodNoArgs((PyObject *)self, name_spill);
    if (r == NULL) return -1;
    Py_DECREF(r);
    return 0;
}

/* Append `row` for `topic`, writing out a buffer of another topic first, and the buffer
 * itself once it is full. Steals nothing. */
static int push(SendBuffer *self, PyObject *topic, PyObject *row) {
    for (;;) {
        if (self->closed || self->rows == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "the producer is closed");
            return -1;
        }
        if (PyList_GET_SIZE(self->rows) == 0 || self->topic == topic) break;
        int same = PyObject_RichCompareBool(self->topic, topic, Py_EQ);
        if (same < 0) return -1;
        if (same) break;
        if (spill(self) < 0) return -1;
    }
    if (self->topic != topic) Py_SETREF(self->topic, Py_NewRef(topic));
    if (PyList_Append(self->rows, row) < 0) return -1;
    if (PyList_GET_SIZE(self->rows) >= self->limit) return spill(self);
    return 0;
}

static PyObject *SendBuffer_push(SendBuffer *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_push(topic, row)");
        return NULL;
    }
    if (push(self, args[0], args[1]) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *SendBuffer_send(SendBuffer *self, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames) {
    PyObject *topic = NULL, *value = NULL, *key = Py_None, *headers = NULL,
             *partition = Py_None, *timestamp = Py_None;
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "send(topic, value, key=None, *, headers=(), "
                                         "partition=None, timestamp_ms=None)");
        return NULL;
    }
    topic = args[0];
    value = args[1];
    if (nargs == 3) key = args[2];
    if (kwnames != NULL) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
            const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, i));
            PyObject *arg = args[nargs + i];
            if (name == NULL) return NULL;
            if (strcmp(name, "headers") == 0) headers = arg;
            else if (strcmp(name, "partition") == 0) partition = arg;
            else if (strcmp(name, "timestamp_ms") == 0) timestamp = arg;
            else if (strcmp(name, "key") == 0 && nargs < 3) key = arg;
            else {
                PyErr_Format(PyExc_TypeError, "send() got an unexpected keyword argument '%s'",
                             name);
                return NULL;
            }
        }
    }
    int plain_headers = headers == NULL || headers == Py_None ||
                        (PyTuple_Check(headers) && PyTuple_GET_SIZE(headers) == 0);
    if (!plain_headers || partition != Py_None || timestamp != Py_None ||
        (key != Py_None && !PyBytes_CheckExact(key)) ||
        (value != Py_None && !PyBytes_CheckExact(value)) || !PyUnicode_CheckExact(topic)) {
        PyObject *call[7] = {(PyObject *)self, topic, value, key,
                             headers ? headers : empty_tuple, partition, timestamp};
        return PyObject_VectorcallMethod(name_send_slow, call,
                                         7 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    }
    struct timespec now;
#ifdef _WIN32
    timespec_get(&now, TIME_UTC);
#else
    clock_gettime(CLOCK_REALTIME, &now);
#endif
    long long stamp = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    Py_ssize_t size = (key == Py_None ? 0 : PyBytes_GET_SIZE(key)) +
                      (value == Py_None ? 0 : PyBytes_GET_SIZE(value));
    PyObject *row = Py_BuildValue("(OOOLOn)", key, value, Py_None, stamp, Py_None, size);
    if (row == NULL) return NULL;
    int rc = push(self, topic, row);
    Py_DECREF(row);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *SendBuffer_take(SendBuffer *self, PyObject *unused) {
    PyObject *fresh = PyList_New(0);
    if (fresh == NULL) return NULL;
    PyObject *rows = self->rows ? self->rows : PyList_New(0);
    if (rows == NULL) {
        Py_DECREF(fresh);
        return NULL;
    }
    self->rows = fresh;
    PyObject *result = PyTuple_Pack(2, self->topic ? self->topic : Py_None, rows);
    Py_DECREF(rows);
    return result;
}

static PyObject *SendBuffer_restore(SendBuffer *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_restore(topic, rows)");
        return NULL;
    }
    PyObject *topic = args[0], *rows = args[1];
    if (self->rows == NULL) Py_RETURN_FALSE;
    int same = PyList_GET_SIZE(self->rows) == 0;
    if (!same) {
        same = PyObject_RichCompareBool(self->topic, topic, Py_EQ);
        if (same < 0) return NULL;
    }
    if (!same) Py_RETURN_FALSE; /* other rows were queued meanwhile: the caller reports */
    PyObject *merged = PySequence_Concat(rows, self->rows);
    if (merged == NULL) return NULL;
    Py_SETREF(self->rows, merged);
    Py_SETREF(self->topic, Py_NewRef(topic));
    Py_RETURN_TRUE;
}

static PyObject *SendBuffer_close_buffer(SendBuffer *self, PyObject *unused) {
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyObject *SendBuffer_pending(SendBuffer *self, void *closure) {
    return PyLong_FromSsize_t(self->rows ? PyList_GET_SIZE(self->rows) : 0);
}

static PyObject *SendBuffer_is_closed(SendBuffer *self, void *closure) {
    return PyBool_FromLong(self->closed);
}

static PyMethodDef SendBuffer_methods[] = {
    {"send", (PyCFunction)(void (*)(void))SendBuffer_send, METH_FASTCALL | METH_KEYWORDS,
     "Queue one record; it is acknowledged by the next `flush`."},
    {"_push", (PyCFunction)(void (*)(void))SendBuffer_push, METH_FASTCALL,
     "Queue a prepared row for a topic."},
    {"_take", (PyCFunction)SendBuffer_take, METH_NOARGS, "Take (topic, rows) out."},
    {"_restore", (PyCFunction)(void (*)(void))SendBuffer_restore, METH_FASTCALL,
     "Put rows that could not be written back in front."},
    {"_close_buffer", (PyCFunction)SendBuffer_close_buffer, METH_NOARGS, "Refuse new rows."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef SendBuffer_getset[] = {
    {"pending", (getter)SendBuffer_pending, NULL, "Rows queued and not written yet.", NULL},
    {"closed", (getter)SendBuffer_is_closed, NULL, "Whether new rows are refused.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SendBufferType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "engine._fastpath.SendBuffer",
    .tp_basicsize = sizeof(SendBuffer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The producer's record buffer and send path.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)SendBuffer_init,
    .tp_dealloc = (destructor)SendBuffer_dealloc,
    .tp_traverse = (traverseproc)SendBuffer_traverse,
    .tp_clear = (inquiry)SendBuffer_clear,
    .tp_methods = SendBuffer_methods,
    .tp_getset = SendBuffer_getset,
};

static PyObject *copy_names[5]; /* value, key, headers, timestamp_ms, partition */

/* copies_with_header(cls, records, name, prefix, partition): per consumed record, a `cls`
 * record (value, key, headers, timestamp_ms, partition) with its value, key and timestamp, its
 * headers plus (name, prefix + its offset in decimal), into `partition`; built slot by slot as
 * the frozen dataclass's __init__ would (reference: replicator.codec.fresh_copies_py). */
static PyObject *py_copies_with_header(PyObject *self, PyObject *args) {
    PyObject *cls, *records, *name, *partition;
    const char *prefix;
    Py_ssize_t prefix_len;
    if (!PyArg_ParseTuple(args, "O!O!Uy#O!", &PyType_Type, &cls, &PyList_Type, &records, &name,
                          &prefix, &prefix_len, &PyLong_Type, &partition))
        return NULL;
    if (prefix_len > 200) {
        PyErr_SetString(PyExc_ValueError, "header value prefix longer than 200 bytes");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(records);
    PyObject *result = PyList_New(n);
    if (result == NULL) return NULL;
    char buf[232];
    memcpy(buf, prefix, prefix_len);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *source = PyList_GET_ITEM(records, i);
        PyObject *fields[5] = {NULL, NULL, NULL, NULL, partition};
        PyObject *headers = NULL, *offset = NULL, *copy = NULL;
        fields[0] = PyObject_GetAttr(source, copy_names[0]);
        fields[1] = fields[0] ? PyObject_GetAttr(source, copy_names[1]) : NULL;
        fields[3] = fields[1] ? PyObject_GetAttr(source, copy_names[3]) : NULL;
        headers = fields[3] ? PyObject_GetAttr(source, copy_names[2]) : NULL;
        offset = headers ? PyObject_GetAttr(source, consumed_names[2]) : NULL;
        if (offset != NULL && !PyTuple_Check(headers)) {
            PyErr_Format(PyExc_TypeError, "record headers must be a tuple, got %.100s",
                         Py_TYPE(headers)->tp_name);
        } else if (offset != NULL) {
            long long at = PyLong_AsLongLong(offset);
            if (!(at == -1 && PyErr_Occurred())) {
                int digits = snprintf(buf + prefix_len, sizeof(buf) - prefix_len, "%lld", at);
                PyObject *value = PyBytes_FromStringAndSize(buf, prefix_len + digits);
                PyObject *pair = value ? PyTuple_Pack(2, name, value) : NULL;
                Py_XDECREF(value);
                Py_ssize_t count = PyTuple_GET_SIZE(headers);
                PyObject *stamped = pair ? PyTuple_New(count + 1) : NULL;
                if (stamped != NULL) {
                    for (Py_ssize_t h = 0; h < count; h++)
                        PyTuple_SET_ITEM(stamped, h, Py_NewRef(PyTuple_GET_ITEM(headers, h)));
                    PyTuple_SET_ITEM(stamped, count, Py_NewRef(pair));
                    /* A (str, bytes) pair can never be part of a cycle. */
                    PyObject_GC_UnTrack(pair);
                    fields[2] = stamped;
                    PyTypeObject *type = (PyTypeObject *)cls;
                    copy = type->tp_alloc(type, 0);
                    for (int f = 0; copy != NULL && f < 5; f++) {
                        if (PyObject_GenericSetAttr(copy, copy_names[f], fields[f]) < 0)
                            Py_CLEAR(copy);
                    }
                    /* Holds only bytes, ints and tuples of str and bytes: never in a cycle. */
                    if (copy != NULL && PyObject_GC_IsTracked(copy)) PyObject_GC_UnTrack(copy);
                }
                Py_XDECREF(pair);
            }
        }
        Py_XDECREF(fields[0]);
        Py_XDECREF(fields[1]);
        Py_XDECREF(fields[2]);
        Py_XDECREF(fields[3]);
        Py_XDECREF(headers);
        Py_XDECREF(offset);
        if (copy == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyList_SET_ITEM(result, i, copy);
    }
    return result;
}

static PyMethodDef methods[] = {
    {"pack_partitions", py_pack_partitions, METH_VARARGS, "Chunks of every partition."},
    {"make_metadata", py_make_metadata, METH_VARARGS, "RecordMetadata for appended rows."},
    {"murmur2", py_murmur2, METH_O, "Kafka's murmur2 of bytes, as a signed 32-bit int."},
    {"partition_for_key", py_partition_for_key, METH_VARARGS,
     "toPositive(murmur2(key)) % partitions."},
    {"partitions_for_keys", py_partitions_for_keys, METH_VARARGS,
     "The partition of every key of a sequence of bytes."},
    {"pack_chunks", py_pack_chunks, METH_VARARGS, "Pack rows into stored record chunks."},
    {"configure", py_configure, METH_VARARGS, "Set the record class and header decoder."},
    {"unpack_into", py_unpack_into, METH_VARARGS, "Decode a chunk into ConsumedRecords."},
    {"check_headers", py_check_headers, METH_O, "Headers checked as (str, bytes) pairs."},
    {"encode_headers", py_encode_headers, METH_O, "Checked headers as one stored blob."},
    {"decode_headers", py_decode_headers, METH_O, "A stored header blob as (str, bytes) pairs."},
    {"copies_with_header", py_copies_with_header, METH_VARARGS,
     "Records copied with one more header: a prefix and each one's offset."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "engine._fastpath",
                                    "C fast path of the embedded engine.", -1, methods};

PyMODINIT_FUNC PyInit__fastpath(void) {
    empty_tuple = PyTuple_New(0);
    if (empty_tuple == NULL) return NULL;
    name_topic = PyUnicode_InternFromString("topic");
    name_partition = PyUnicode_InternFromString("partition");
    name_offset = PyUnicode_InternFromString("offset");
    name_timestamp_ms = PyUnicode_InternFromString("timestamp_ms");
    if (!name_topic || !name_partition || !name_offset || !name_timestamp_ms) return NULL;
    const char *consumed_fields[7] = {"topic", "partition", "offset", "timestamp_ms",
                                      "key", "value", "headers"};
    for (int f = 0; f < 7; f++) {
        consumed_names[f] = PyUnicode_InternFromString(consumed_fields[f]);
        if (consumed_names[f] == NULL) return NULL;
    }
    const char *copy_fields[5] = {"value", "key", "headers", "timestamp_ms", "partition"};
    for (int f = 0; f < 5; f++) {
        copy_names[f] = PyUnicode_InternFromString(copy_fields[f]);
        if (copy_names[f] == NULL) return NULL;
    }
    name_spill = PyUnicode_InternFromString("_spill");
    name_send_slow = PyUnicode_InternFromString("_send_slow");
    if (!name_spill || !name_send_slow) return NULL;
    if (PyType_Ready(&SendBufferType) < 0) return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL) return NULL;
    if (PyModule_AddObjectRef(mod, "SendBuffer", (PyObject *)&SendBufferType) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
