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

/* chunks_to_records(chunks, min_offset, stop_offset, max_bytes)
 *     -> (records section, count, first offset, last offset, base timestamp, max timestamp)
 * Encodes the records of the engine's stored chunks (engine/embedded/chunks.py: entries of
 * u32 offset delta, i64 timestamp, i32 key/value/headers lengths (-1 null), then the bytes,
 * little-endian; headers as u16 name length, name, u32 value length, value) with offsets in
 * [min_offset, stop_offset) straight into a Kafka records section, without building Python
 * records. Stops before the section would pass max_bytes (the first record always goes in).
 * count is 0 when no record qualifies. */
static int64_t rd_i64(const unsigned char *p) { int64_t v; memcpy(&v, p, 8); return v; }
static int32_t rd_i32(const unsigned char *p) { int32_t v; memcpy(&v, p, 4); return v; }
static uint32_t rd_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static PyObject *chunks_to_records(PyObject *self, PyObject *args) {
    PyObject *chunks;
    long long min_offset, stop_offset;
    Py_ssize_t max_bytes;
    if (!PyArg_ParseTuple(args, "OLLn", &chunks, &min_offset, &stop_offset, &max_bytes))
        return NULL;
    PyObject *seq = PySequence_Fast(chunks, "chunks must be a sequence");
    if (seq == NULL) return NULL;
    Out out = {NULL, 0, 0};
    unsigned char *scratch = NULL;
    Py_ssize_t scratch_cap = 0, count = 0;
    long long first = -1, last = -1, base_ts = 0, max_ts = 0;
    int full = 0;
    Py_ssize_t nchunks = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t c = 0; c < nchunks && !full; c++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, c);
        long long base;
        const char *blob;
        Py_ssize_t blen;
        if (!PyArg_ParseTuple(item, "Ly#", &base, &blob, &blen)) goto fail;
        const unsigned char *b = (const unsigned char *)blob;
        Py_ssize_t pos = 0;
        while (pos + 24 <= blen) {
            long long offset = base + (long long)rd_u32(b + pos);
            long long ts = rd_i64(b + pos + 4);
            int32_t klen = rd_i32(b + pos + 12), vlen = rd_i32(b + pos + 16),
                    hlen = rd_i32(b + pos + 20);
            Py_ssize_t body = (klen > 0 ? klen : 0) + (vlen > 0 ? vlen : 0) +
                              (hlen > 0 ? hlen : 0);
            const unsigned char *kp = b + pos + 24;
            pos += 24 + body;
            if (pos > blen) { PyErr_SetString(PyExc_ValueError, "corrupt record chunk"); goto fail; }
            if (offset < min_offset) continue;
            if (offset >= stop_offset) { full = 1; break; }
            if (count == 0) { first = offset; base_ts = ts; max_ts = ts; }
            Py_ssize_t need = 64 + body + (hlen > 0 ? hlen : 0);
            if (need > scratch_cap) {
                unsigned char *sc = PyMem_Realloc(scratch, (size_t)need);
                if (sc == NULL) { PyErr_NoMemory(); goto fail; }
                scratch = sc; scratch_cap = need;
            }
            Py_ssize_t n = 0;
            scratch[n++] = 0;
            n += put_varint(scratch + n, ts - base_ts);
            n += put_varint(scratch + n, offset - first);
            if (klen < 0) scratch[n++] = 1;
            else { n += put_varint(scratch + n, klen); memcpy(scratch + n, kp, (size_t)klen); n += klen; }
            const unsigned char *vp = kp + (klen > 0 ? klen : 0);
            if (vlen < 0) scratch[n++] = 1;
            else { n += put_varint(scratch + n, vlen); memcpy(scratch + n, vp, (size_t)vlen); n += vlen; }
            const unsigned char *hp = vp + (vlen > 0 ? vlen : 0);
            /* count the headers first */
            int64_t nh = 0;
            for (Py_ssize_t h = 0; h + 2 <= hlen;) {
                Py_ssize_t nl = (hp[h] << 8) | hp[h + 1];
                if (h + 2 + nl + 4 > hlen) break;
                uint32_t vl = ((uint32_t)hp[h + 2 + nl] << 24) | ((uint32_t)hp[h + 3 + nl] << 16) |
                              ((uint32_t)hp[h + 4 + nl] << 8) | hp[h + 5 + nl];
                h += 6 + nl + (Py_ssize_t)vl;
                nh++;
            }
            n += put_varint(scratch + n, nh);
            for (Py_ssize_t h = 0; h + 2 <= hlen;) {
                Py_ssize_t nl = (hp[h] << 8) | hp[h + 1];
                if (h + 2 + nl + 4 > hlen) break;
                uint32_t vl = ((uint32_t)hp[h + 2 + nl] << 24) | ((uint32_t)hp[h + 3 + nl] << 16) |
                              ((uint32_t)hp[h + 4 + nl] << 8) | hp[h + 5 + nl];
                n += put_varint(scratch + n, nl);
                memcpy(scratch + n, hp + h + 2, (size_t)nl); n += nl;
                n += put_varint(scratch + n, (int64_t)vl);
                memcpy(scratch + n, hp + h + 6 + nl, vl); n += vl;
                h += 6 + nl + (Py_ssize_t)vl;
            }
            unsigned char prefix[10];
            Py_ssize_t plen = put_varint(prefix, n);
            if (count > 0 && out.len + plen + n > max_bytes) { full = 1; break; }
            if (out_reserve(&out, n + 10) < 0) goto fail;
            out.len += put_varint(out.data + out.len, n);
            memcpy(out.data + out.len, scratch, (size_t)n);
            out.len += n;
            if (ts > max_ts) max_ts = ts;
            last = offset;
            count++;
        }
    }
    Py_DECREF(seq);
    PyMem_Free(scratch);
    PyObject *section = PyBytes_FromStringAndSize((const char *)out.data, out.len);
    PyMem_Free(out.data);
    if (section == NULL) return NULL;
    return Py_BuildValue("(NnLLLL)", section, count, first, last, base_ts, max_ts);
fail:
    Py_DECREF(seq);
    PyMem_Free(scratch);
    PyMem_Free(out.data);
    return NULL;
}

static void wr_u32le(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr_i64le(unsigned char *p, int64_t v) { memcpy(p, &v, 8); }
static void wr_i32le(unsigned char *p, int32_t v) { memcpy(p, &v, 4); }

static PyObject *finish_chunk(Out *o, Py_ssize_t n, long long max_ts, long long payload) {
    PyObject *blob = PyBytes_FromStringAndSize((const char *)o->data, o->len);
    if (blob == NULL) return NULL;
    o->len = 0;
    return Py_BuildValue("(nLLN)", n, max_ts, payload, blob);
}

/* One record of a records section, located: where its fields are and how big they are. */
typedef struct {
    Py_ssize_t end, key_at, value_at, headers_at, hsize, body;
    int64_t ts_delta, klen, vlen, nheaders;
} Span;

/* Locate record number `index` at *pos (advanced past it): checks its framing, that its
 * offset delta is `index` (offsets inside a batch are dense), and measures its headers in
 * the engine's encoding. -1 with ValueError set when malformed. */
static int scan_record(const unsigned char *buf, Py_ssize_t len, Py_ssize_t *pos,
                       Py_ssize_t index, Span *r) {
    int64_t length, offset_delta;
    if (read_varint(buf, len, pos, &length) < 0 || length < 0 || length > len - *pos) {
        corrupt("a record batch ends inside a record");
        return -1;
    }
    r->end = *pos + (Py_ssize_t)length;
    *pos += 1; /* attributes */
    if (read_varint(buf, r->end, pos, &r->ts_delta) < 0 ||
        read_varint(buf, r->end, pos, &offset_delta) < 0 ||
        read_varint(buf, r->end, pos, &r->klen) < 0 || r->klen < -1 ||
        r->klen > r->end - *pos) {
        corrupt("a record's length does not match its fields");
        return -1;
    }
    if (offset_delta != index) {
        corrupt("a record's offset delta is out of sequence");
        return -1;
    }
    r->key_at = *pos;
    if (r->klen > 0) *pos += (Py_ssize_t)r->klen;
    if (read_varint(buf, r->end, pos, &r->vlen) < 0 || r->vlen < -1 ||
        r->vlen > r->end - *pos) {
        corrupt("a record's length does not match its fields");
        return -1;
    }
    r->value_at = *pos;
    if (r->vlen > 0) *pos += (Py_ssize_t)r->vlen;
    if (read_varint(buf, r->end, pos, &r->nheaders) < 0 || r->nheaders < -1) {
        corrupt("a record's length does not match its fields");
        return -1;
    }
    r->headers_at = *pos;
    r->hsize = 0;
    for (int64_t h = 0; h < r->nheaders; h++) {
        int64_t nl, hv;
        if (read_varint(buf, r->end, pos, &nl) < 0 || nl < 0 || nl > 0xFFFF ||
            nl > r->end - *pos) {
            corrupt("a record's length does not match its fields");
            return -1;
        }
        *pos += (Py_ssize_t)nl;
        if (read_varint(buf, r->end, pos, &hv) < 0 || hv > r->end - *pos) {
            corrupt("a record's length does not match its fields");
            return -1;
        }
        if (hv > 0) *pos += (Py_ssize_t)hv;
        r->hsize += 6 + (Py_ssize_t)nl + (hv > 0 ? (Py_ssize_t)hv : 0);
    }
    if (*pos != r->end) {
        corrupt("a record's length does not match its fields");
        return -1;
    }
    r->body = (r->klen > 0 ? r->klen : 0) + (r->vlen > 0 ? r->vlen : 0) + r->hsize;
    return 0;
}

/* check_records(data, count, base_ts) -> (max timestamp, largest record size, keyless)
 * Validates a decompressed records section as `records_to_chunks` would read it, without
 * packing anything: for batches stored as they arrived. */
static PyObject *check_records(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t count;
    long long base_ts;
    if (!PyArg_ParseTuple(args, "y*nL", &view, &count, &base_ts)) return NULL;
    const unsigned char *buf = view.buf;
    Py_ssize_t len = view.len, pos = 0, largest = 0;
    long long max_ts = INT64_MIN;
    int keyless = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        Span r;
        if (scan_record(buf, len, &pos, i, &r) < 0) { PyBuffer_Release(&view); return NULL; }
        if (r.klen < 0) keyless = 1;
        if (r.body > largest) largest = r.body;
        if (base_ts + r.ts_delta > max_ts) max_ts = base_ts + r.ts_delta;
    }
    PyBuffer_Release(&view);
    if (pos != len) return corrupt("a record batch holds more bytes than its record count says");
    return Py_BuildValue("(Lni)", max_ts, largest, keyless);
}

/* records_to_chunks(data, count, base_ts, max_records, max_bytes)
 *     -> (chunks, largest record size, whether any record has no key)
 * Packs a decompressed Kafka records section straight into the engine's stored chunks
 * (engine/embedded/chunks.py: (count, max timestamp, payload bytes, blob) with dense offset
 * deltas), cut as `pack_chunks` cuts them, without building a Python object per record. */
static PyObject *records_to_chunks(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t count, max_records, max_bytes;
    long long base_ts;
    if (!PyArg_ParseTuple(args, "y*nLnn", &view, &count, &base_ts, &max_records, &max_bytes))
        return NULL;
    if (max_records < 1) max_records = 1;
    const unsigned char *buf = view.buf;
    Py_ssize_t len = view.len, pos = 0;
    Out chunk = {NULL, 0, 0};
    PyObject *chunks = PyList_New(0);
    Py_ssize_t in_chunk = 0, largest = 0;
    long long chunk_max = INT64_MIN, payload = 0;
    int keyless = 0;
    if (chunks == NULL) goto fail;
    for (Py_ssize_t i = 0; i < count; i++) {
        Span r;
        if (scan_record(buf, len, &pos, i, &r) < 0) goto fail;
        int64_t klen = r.klen, vlen = r.vlen, nheaders = r.nheaders;
        Py_ssize_t end = r.end, body = r.body, hsize = r.hsize;
        long long ts = base_ts + r.ts_delta;
        if (klen < 0) keyless = 1;
        if (body > largest) largest = body;
        if (in_chunk >= max_records || (in_chunk && chunk.len + 24 + body > max_bytes)) {
            PyObject *done = finish_chunk(&chunk, in_chunk, chunk_max, payload);
            if (done == NULL || PyList_Append(chunks, done) < 0) { Py_XDECREF(done); goto fail; }
            Py_DECREF(done);
            in_chunk = 0; chunk_max = INT64_MIN; payload = 0;
        }
        if (out_reserve(&chunk, 24 + body) < 0) goto fail;
        unsigned char *w = chunk.data + chunk.len;
        wr_u32le(w, (uint32_t)in_chunk);
        wr_i64le(w + 4, ts);
        wr_i32le(w + 12, (int32_t)klen);
        wr_i32le(w + 16, (int32_t)vlen);
        wr_i32le(w + 20, nheaders > 0 ? (int32_t)hsize : -1);
        w += 24;
        if (klen > 0) { memcpy(w, buf + r.key_at, (size_t)klen); w += klen; }
        if (vlen > 0) { memcpy(w, buf + r.value_at, (size_t)vlen); w += vlen; }
        Py_ssize_t hp = r.headers_at;
        for (int64_t h = 0; h < nheaders; h++) {
            int64_t nl = 0, hv = 0;
            read_varint(buf, end, &hp, &nl);
            w[0] = (unsigned char)(nl >> 8); w[1] = (unsigned char)nl;
            memcpy(w + 2, buf + hp, (size_t)nl);
            hp += (Py_ssize_t)nl;
            w += 2 + nl;
            read_varint(buf, end, &hp, &hv);
            uint32_t vl = hv > 0 ? (uint32_t)hv : 0;
            w[0] = (unsigned char)(vl >> 24); w[1] = (unsigned char)(vl >> 16);
            w[2] = (unsigned char)(vl >> 8); w[3] = (unsigned char)vl;
            memcpy(w + 4, buf + hp, vl);
            hp += vl;
            w += 4 + vl;
        }
        chunk.len += 24 + body;
        payload += body;
        if (ts > chunk_max) chunk_max = ts;
        in_chunk++;
    }
    if (pos != len) {
        corrupt("a record batch holds more bytes than its record count says");
        goto fail;
    }
    if (in_chunk) {
        PyObject *done = finish_chunk(&chunk, in_chunk, chunk_max, payload);
        if (done == NULL || PyList_Append(chunks, done) < 0) { Py_XDECREF(done); goto fail; }
        Py_DECREF(done);
    }
    PyMem_Free(chunk.data);
    PyBuffer_Release(&view);
    return Py_BuildValue("(Nni)", chunks, largest, keyless);
fail:
    PyMem_Free(chunk.data);
    PyBuffer_Release(&view);
    Py_XDECREF(chunks);
    return NULL;
}

static PyMethodDef methods[] = {
    {"read_records", read_records, METH_VARARGS, "Decode a records section into engine rows."},
    {"write_records", write_records, METH_VARARGS, "Encode records into a records section."},
    {"records_to_chunks", records_to_chunks, METH_VARARGS,
     "Pack a records section into engine chunks."},
    {"check_records", check_records, METH_VARARGS,
     "Validate a records section and measure it, packing nothing."},
    {"chunks_to_records", chunks_to_records, METH_VARARGS,
     "Encode stored engine chunks into a records section."},
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
